"""The ultralytics YOLO data-set layout that every HullWatch data set shares.

    DIR/data.yaml                 names in vision.classes.CLASSES order; no `path:` key, so
                                  ultralytics takes the folder of data.yaml as the root and
                                  the data set can be moved or copied as a whole
    DIR/images/{train,val,test}/  images
    DIR/labels/{train,val,test}/  one .txt per image: "class cx cy w h", normalised 0..1

Data sets are built in a hidden temp folder beside DIR and renamed into place at the end,
so a failure or Ctrl-C never leaves half a data set under DIR.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from vision.classes import CLASSES

SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = {"train": 0.7, "val": 0.15, "test": 0.15}
# a folder holding one of these is taken to be a data set that --force may replace;
# anything else is never deleted, whatever the flags
DATA_CARD_NAMES = ("card.json", "dataset_card.json")  # `hullwatch dataset` / `--from-fls`
DATASET_MARKERS = ("data.yaml", *DATA_CARD_NAMES)


def data_card_path(data_dir) -> Path | None:
    """The data set's own card, whichever of DATA_CARD_NAMES it is; None without one."""
    return next((p for p in (Path(data_dir) / n for n in DATA_CARD_NAMES) if p.is_file()), None)


class DatasetLayoutError(ValueError):
    pass


def data_yaml_text() -> str:
    names = "".join(f"  {i}: {c}\n" for i, c in enumerate(CLASSES))
    return f"train: images/train\nval: images/val\ntest: images/test\nnc: {len(CLASSES)}\nnames:\n{names}"


def make_split_dirs(root: Path) -> None:
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)


def label_line(class_id: int, box_xyxy, width_px: int, height_px: int) -> str | None:
    """One YOLO label line for a pixel box (x0, y0, x1, y1; x1/y1 exclusive edges), or None
    when nothing of the box is left inside the image."""
    x0, y0, x1, y1 = (float(v) for v in box_xyxy)
    x0, x1 = max(0.0, min(x0, x1)), min(float(width_px), max(x0, x1))
    y0, y1 = max(0.0, min(y0, y1)), min(float(height_px), max(y0, y1))
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return None
    cx, cy = (x0 + x1) / 2 / width_px, (y0 + y1) / 2 / height_px
    return f"{int(class_id)} {cx:.6f} {cy:.6f} {(x1 - x0) / width_px:.6f} {(y1 - y0) / height_px:.6f}"


def split_counts(n_groups: int) -> dict[str, int]:
    """How many groups go to each split: about 70/15/15, at least one each from 3 groups."""
    if n_groups < len(SPLITS):
        raise DatasetLayoutError(f"{n_groups} groups cannot fill train, val and test: need at least {len(SPLITS)}")
    val = max(1, round(SPLIT_FRACTIONS["val"] * n_groups))
    test = max(1, round(SPLIT_FRACTIONS["test"] * n_groups))
    return {"train": n_groups - val - test, "val": val, "test": test}


def count_labels(root: Path) -> tuple[dict[str, int], dict[str, dict[str, int]], dict[str, int]]:
    """(images per split, class counts per split, empty images per split) as found on disk."""
    images, labels, empty = {}, {}, {}
    for split in SPLITS:
        files = sorted((root / "labels" / split).glob("*.txt"))
        images[split] = sum(1 for p in (root / "images" / split).iterdir() if p.is_file()) \
            if (root / "images" / split).is_dir() else 0
        counts: Counter = Counter()
        n_empty = 0
        for f in files:
            rows = [ln.split() for ln in f.read_text().splitlines() if ln.strip()]
            n_empty += not rows
            counts.update(CLASSES[int(r[0])] for r in rows)
        labels[split] = {c: counts[c] for c in CLASSES if counts[c]}
        empty[split] = n_empty
    return images, labels, empty


def check_output_dir(out: Path, *, force: bool) -> None:
    """Refuse a file, and a non-empty folder unless --force and it holds a data set."""
    if out.exists() and not out.is_dir():
        raise DatasetLayoutError(f"{out} is a file: choose a folder for the data set")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise DatasetLayoutError(f"{out} exists and is not empty: choose a new folder, or add --force "
                                     f"to replace the data set in it")
        if not any((out / m).is_file() for m in DATASET_MARKERS):
            raise DatasetLayoutError(f"{out} is not empty and holds no data set (no data.yaml or card.json): "
                                     f"HullWatch will not delete it even with --force; choose a new folder")


@contextlib.contextmanager
def staged_dataset_dir(out, *, force: bool = False):
    """Yield a temp folder beside `out`; on success it becomes `out` (replacing a previous
    data set only with `force`), on any error it is removed and `out` is left untouched."""
    out = Path(out)
    check_output_dir(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
        check_output_dir(out, force=force)  # someone may have written there meanwhile
        old = None
        if out.is_dir() and any(out.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "dataset")
        elif out.is_dir():
            out.rmdir()
        try:
            os.replace(tmp, out)
        except BaseException:
            if old is not None:
                os.replace(old / "dataset", out)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
