"""The real forward-looking sonar frames (ARIS Explorer 3000, water tank; Valdenegro-Toro
et al.) as a YOLO data set in HullWatch's classes.

The source's boxes are VOC XML whose bndbox holds x, y, w, h (not xmin/xmax). Objects map
to our classes only where that is honest:
  Propeller                          -> propeller (a real ship-type propeller in the tank)
  Bottle, Can, Drink-carton,
  Shampoo-bottle, Standing-bottle    -> parasitic_container (small man-made closed
                                        containers: the nearest real-sonar stand-in for a
                                        hidden container; the card says so)
  Tire, Chain, Hook, Valve, Wall     -> not labelled (no honest counterpart; they stay in
                                        the images as clutter the model must learn to ignore)
Frames are split by recording block (runs of consecutive frame numbers), never frame by
frame, so validation and test never see a neighbour of a training frame.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from vision.classes import CLASS_ID, CLASSES

FLS_TO_OURS = {
    "Propeller": "propeller",
    "Bottle": "parasitic_container",
    "Can": "parasitic_container",
    "Drink-carton": "parasitic_container",
    "Shampoo-bottle": "parasitic_container",
    "Standing-bottle": "parasitic_container",
}
FLS_UNLABELLED = ("Tire", "Chain", "Hook", "Valve", "Wall")
BLOCK_FRAMES = 50  # consecutive frames kept together when splitting
SPLITS = (("train", 0.7), ("val", 0.15), ("test", 0.15))
LICENCE_NOTE = ("marine-debris-fls-datasets (watertank-segmentation, with boxes): no licence file; "
                "published for research (arXiv 2108.06800, 2503.22880). Internal research use only; "
                "do not redistribute the images.")


class FlsDatasetError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class FlsBox:
    name: str
    x: float
    y: float
    w: float
    h: float


def read_annotation(path: Path) -> tuple[str, int, int, list[FlsBox]]:
    """(image file name, width, height, boxes) of one XML file; boxes are x, y, w, h."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise FlsDatasetError(f"{path}: not a readable annotation ({exc})") from None
    try:
        filename = root.findtext("filename") or ""
        width = int(root.findtext("size/width"))
        height = int(root.findtext("size/height"))
        boxes = []
        for obj in root.iter("object"):
            b = obj.find("bndbox")
            boxes.append(FlsBox(obj.findtext("name"), float(b.findtext("x")), float(b.findtext("y")),
                                float(b.findtext("w")), float(b.findtext("h"))))
    except (TypeError, ValueError, AttributeError) as exc:
        raise FlsDatasetError(f"{path}: missing or bad field ({exc})") from None
    return filename, width, height, boxes


def _frame_number(name: str) -> int:
    m = re.search(r"(\d+)(?=\.\w+$)", name)
    return int(m.group(1)) if m else 0


def convert_fls(source_dir, out_dir, *, seed: int = 0) -> dict:
    """Write the YOLO layout (images/, labels/, data.yaml, dataset_card.json) to out_dir,
    atomically (built in a temp folder beside it, then moved). Returns the card."""
    src = Path(source_dir)
    ann_dir, img_dir = src / "BoxAnnotations", src / "Images"
    if not ann_dir.is_dir() or not img_dir.is_dir():
        raise FlsDatasetError(f"{src}: expected BoxAnnotations/ and Images/ (the watertank-segmentation folder)")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FlsDatasetError(f"{out} exists and is not empty: choose a new output folder")
    xmls = sorted(ann_dir.glob("*.xml"), key=lambda p: _frame_number(p.name))
    if not xmls:
        raise FlsDatasetError(f"{ann_dir}: no annotation files")
    blocks: dict[int, list[Path]] = {}
    for x in xmls:
        blocks.setdefault(_frame_number(x.name) // BLOCK_FRAMES, []).append(x)
    order = sorted(blocks)
    random.Random(seed).shuffle(order)
    n = len(order)
    cut1 = round(SPLITS[0][1] * n)
    cut2 = cut1 + round(SPLITS[1][1] * n)
    split_of = {b: ("train" if i < cut1 else "val" if i < cut2 else "test") for i, b in enumerate(order)}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    counts = {s: Counter() for s, _ in SPLITS}
    frames = Counter()
    skipped = Counter()
    try:
        for block, files in blocks.items():
            split = split_of[block]
            (tmp / "images" / split).mkdir(parents=True, exist_ok=True)
            (tmp / "labels" / split).mkdir(parents=True, exist_ok=True)
            for xml_path in files:
                filename, width, height, boxes = read_annotation(xml_path)
                image = img_dir / filename
                if not image.is_file():
                    raise FlsDatasetError(f"{xml_path}: its image {image} is missing")
                lines = []
                for b in boxes:
                    ours = FLS_TO_OURS.get(b.name)
                    if ours is None:
                        skipped[b.name] += 1
                        continue
                    cx, cy = (b.x + b.w / 2) / width, (b.y + b.h / 2) / height
                    lines.append(f"{CLASS_ID[ours]} {cx:.6f} {cy:.6f} {b.w / width:.6f} {b.h / height:.6f}")
                    counts[split][ours] += 1
                shutil.copyfile(image, tmp / "images" / split / image.name)
                (tmp / "labels" / split / (image.stem + ".txt")).write_text("\n".join(lines) + ("\n" if lines else ""))
                frames[split] += 1
        names = "\n".join(f"  {i}: {c}" for i, c in enumerate(CLASSES))
        (tmp / "data.yaml").write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\n"
                                       f"test: images/test\nnames:\n{names}\n")
        card = {
            "format": "hullwatch-dataset-card", "version": 1, "kind": "sonar", "source": "real",
            "sensor": "ARIS Explorer 3000 forward-looking sonar, 3 MHz, water tank, 320x480 frames",
            "seed": seed, "split": "by blocks of %d consecutive frames" % BLOCK_FRAMES,
            "frames": dict(frames), "labels": {s: dict(c) for s, c in counts.items()},
            "class_mapping": FLS_TO_OURS, "unlabelled_source_classes": {k: skipped[k] for k in FLS_UNLABELLED},
            "honesty": "bottles, cans and cartons are small containers on a tank floor, standing in for parasitic "
                       "containers in real sonar texture; they are not containers on a hull",
            "licence": LICENCE_NOTE, "classes": list(CLASSES),
        }
        (tmp / "dataset_card.json").write_text(json.dumps(card, indent=2) + "\n")
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return card
