"""Evaluate an ONNX model (with its card) on a split of any YOLO data set.

What `hullwatch evaluate` prints and `hullwatch train` records in the model card:
* per class: images holding the class, instances, precision and recall at the card's
  operating threshold (what an alarm user experiences), mAP50 and mAP50-95 (COCO-style,
  from detections down to conf 0.001, vision.evaluation.map_metrics);
* false alarms: alarm-class detections at or above the operating threshold on images
  whose label file is empty (object-free views of the hull), per image and per minute of
  video at the data set's frame rate.

A data set is read the way ultralytics reads it: data.yaml (`path:` optional; when it is
missing or points to a folder that no longer exists, the folder of data.yaml is the root),
a split as a folder of images or a .txt list of them, labels found by replacing the last
`images` folder with `labels`, one "class cx cy w h" row per object, normalised 0..1. An
image without a label file counts as object-free, as in ultralytics.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np

from vision.classes import ALARM_CLASSES

from .map_metrics import evaluate

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
EVAL_CONF = 0.001  # detections kept for AP: the whole precision/recall curve
DEFAULT_FPS = 10.0
BATCH = 8


class DatasetError(ValueError):
    """A data set folder that is missing, not a YOLO data set, or does not fit the model."""


@dataclasses.dataclass(frozen=True)
class YoloDataset:
    root: Path  # where the split paths are resolved
    yaml_path: Path
    names: tuple[str, ...]
    splits: dict  # split name -> path as written in data.yaml (str), for the splits present

    def split_images(self, split: str) -> list[Path]:
        if split not in self.splits or self.splits[split] in (None, ""):
            raise DatasetError(f"{self.yaml_path}: the data set has no {split!r} split "
                               f"(it has {', '.join(sorted(self.splits)) or 'none'})")
        entries = self.splits[split]
        entries = entries if isinstance(entries, list) else [entries]
        images: list[Path] = []
        for entry in entries:
            p = Path(str(entry))
            p = p if p.is_absolute() else self.root / p
            if p.is_dir():
                images += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
            elif p.is_file() and p.suffix == ".txt":
                for line in p.read_text().splitlines():
                    if line.strip():
                        q = Path(line.strip())
                        images.append(q if q.is_absolute() else (p.parent / q).resolve())
            else:
                raise DatasetError(f"{self.yaml_path}: the {split} split {str(entry)!r} is neither a folder of "
                                   f"images nor a .txt list ({p} does not exist)")
        if not images:
            raise DatasetError(f"{self.yaml_path}: the {split} split holds no images")
        return images


def label_path_for(image: Path) -> Path:
    """ultralytics' rule: the last `images` folder of the path becomes `labels`, suffix .txt."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_labels(path: Path, width_px: int, height_px: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(xyxy pixels (N, 4), class ids (N,)) of one label file; a missing file is no objects."""
    if not path.is_file():
        return np.zeros((0, 4)), np.zeros(0, int)
    rows = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    boxes, cls = [], []
    for k, r in enumerate(rows, start=1):
        try:
            c = int(float(r[0]))
            cx, cy, w, h = (float(v) for v in r[1:5])
        except (ValueError, IndexError):
            raise DatasetError(f"{path}:{k}: not a YOLO box row 'class cx cy w h'") from None
        if not 0 <= c < n_classes:
            raise DatasetError(f"{path}:{k}: class {c} is outside the data set's {n_classes} names")
        boxes.append([(cx - w / 2) * width_px, (cy - h / 2) * height_px,
                      (cx + w / 2) * width_px, (cy + h / 2) * height_px])
        cls.append(c)
    return np.asarray(boxes, float).reshape(-1, 4), np.asarray(cls, int)


def _parse_yaml(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:
        return _parse_simple_yaml(text)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{path}: not a YOLO data.yaml (expected keys such as train, val, names)")
    return doc


def _parse_simple_yaml(text: str) -> dict:
    """The subset of YAML that YOLO data.yaml files use (key: value, a names mapping or
    list), for installs without PyYAML."""
    doc: dict = {}
    key = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw[0].isspace():
            k, _, v = line.partition(":")
            key, v = k.strip(), v.strip()
            if v.startswith("[") and v.endswith("]"):
                doc[key] = [s.strip().strip("'\"") for s in v[1:-1].split(",") if s.strip()]
            else:
                doc[key] = v.strip("'\"") if v else None
        elif key is not None:
            item = line.strip()
            if item.startswith("- "):
                doc[key] = (doc[key] if isinstance(doc[key], list) else []) + [item[2:].strip().strip("'\"")]
            else:
                k, _, v = item.partition(":")
                doc[key] = doc[key] if isinstance(doc[key], dict) else {}
                doc[key][k.strip().strip("'\"")] = v.strip().strip("'\"")
    return doc


def read_dataset(data_dir) -> YoloDataset:
    """The data set in `data_dir` (a folder holding data.yaml, or the data.yaml itself)."""
    p = Path(data_dir)
    if not p.exists():
        raise DatasetError(f"{p}: no such data set folder")
    yaml_path = p if p.is_file() else p / "data.yaml"
    if not yaml_path.is_file():
        raise DatasetError(f"{p}: not a YOLO data set (no data.yaml); make one with `hullwatch dataset`")
    doc = _parse_yaml(yaml_path)
    names = doc.get("names")
    if isinstance(names, dict):
        try:
            names = [names[k] for k in sorted(names, key=lambda k: int(k))]
        except (TypeError, ValueError):
            raise DatasetError(f"{yaml_path}: names must be a list or a mapping 0: name, 1: name, ...") from None
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{yaml_path}: not a YOLO data.yaml (no class names)")
    root = yaml_path.parent
    if doc.get("path"):
        given = Path(str(doc["path"]))
        given = given if given.is_absolute() else yaml_path.parent / given
        if given.is_dir():
            root = given
    splits = {s: doc[s] for s in ("train", "val", "test") if doc.get(s) not in (None, "")}
    if not splits:
        raise DatasetError(f"{yaml_path}: not a YOLO data.yaml (no train/val/test entries)")
    return YoloDataset(root, yaml_path, tuple(str(n) for n in names), splits)


def check_names(dataset: YoloDataset, classes, what: str) -> None:
    if tuple(dataset.names) != tuple(classes):
        raise DatasetError(f"{dataset.yaml_path}: the data set's class names {list(dataset.names)} differ from "
                           f"{what} {list(classes)}; they must be the same names in the same order")


# ---- the evaluation ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ClassRow:
    class_name: str
    threshold: float
    images: int
    instances: int
    precision: float  # at the threshold; nan when nothing reached it
    recall: float  # at the threshold; nan without instances
    map50: float
    map50_95: float


@dataclasses.dataclass(frozen=True)
class FalseAlarms:
    empty_images: int
    alarms: int  # alarm-class detections at or above threshold on empty images
    per_class: dict
    per_image: float
    fps: float
    per_minute: float


@dataclasses.dataclass(frozen=True, eq=False)
class Evaluation:
    model: str
    model_sha256: str
    dataset: str
    split: str
    images: int
    rows: tuple[ClassRow, ...]
    mean: dict  # over classes with instances: precision, recall, map50, map50_95
    false_alarms: FalseAlarms
    conf_override: float | None
    wall_time_s: float
    predictions: list = dataclasses.field(repr=False, default_factory=list)  # per image (xyxy, conf, cls)
    ground_truth: list = dataclasses.field(repr=False, default_factory=list)  # per image (xyxy, cls)

    def to_dict(self) -> dict:
        clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v  # noqa: E731
        return {"model": self.model, "model_sha256": self.model_sha256, "dataset": self.dataset,
                "split": self.split, "images": self.images, "eval_conf": EVAL_CONF,
                "conf_override": self.conf_override,
                "per_class": {r.class_name: {k: clean(v) for k, v in dataclasses.asdict(r).items()
                                             if k != "class_name"} for r in self.rows},
                "mean": {k: clean(v) for k, v in self.mean.items()},
                "false_alarms": dataclasses.asdict(self.false_alarms),
                "images_per_s": round(self.images / self.wall_time_s, 2) if self.wall_time_s > 0 else None}

    def table(self) -> str:
        head = f"{'class':<22}{'thr':>6}{'images':>8}{'inst':>7}{'P':>8}{'R@thr':>8}{'mAP50':>8}{'mAP50-95':>10}"
        f = lambda v: "     -" if isinstance(v, float) and math.isnan(v) else f"{v:6.3f}"  # noqa: E731
        lines = [head]
        for r in self.rows:
            lines.append(f"{r.class_name:<22}{r.threshold:6.2f}{r.images:8d}{r.instances:7d}  {f(r.precision)}  "
                         f"{f(r.recall)}  {f(r.map50)}    {f(r.map50_95)}")
        m = self.mean
        lines.append(f"{'all (mean)':<22}{'':>6}{self.images:8d}{m['instances']:7d}  {f(m['precision'])}  "
                     f"{f(m['recall'])}  {f(m['map50'])}    {f(m['map50_95'])}")
        fa = self.false_alarms
        lines.append(f"false alarms on {fa.empty_images} object-free images: {fa.alarms} "
                     f"({fa.per_image:.3f} per image, {fa.per_minute:.1f} per minute at {fa.fps:g} fps)"
                     if fa.empty_images else "false alarms: the split has no object-free images")
        return "\n".join(lines)


def _read_image(path: Path) -> np.ndarray:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)  # grey sonar frames become 3 equal channels, as in ultralytics
    if img is None:
        raise DatasetError(f"{path}: not a readable image")
    return img


def evaluate_detections(predictions, ground_truth, classes, thresholds, *, fps: float = DEFAULT_FPS,
                        empty=None) -> tuple[list[ClassRow], dict, FalseAlarms]:
    """Rows, mean and false alarms from per-image predictions (xyxy, conf, cls) and ground
    truth (xyxy, cls). `empty`: which images are object-free (default: those without boxes)."""
    classes = tuple(classes)
    thresholds = [float(t) for t in thresholds]
    metrics = evaluate(predictions, ground_truth, classes, thresholds)
    images_with = np.zeros(len(classes), int)
    for _, gk in ground_truth:
        images_with[np.unique(np.asarray(gk, int))] += 1
    rows = [ClassRow(m.class_name, thresholds[c], int(images_with[c]), m.instances, m.precision_at_threshold,
                     m.recall_at_threshold, m.ap50 if m.instances else float("nan"),
                     m.ap50_95 if m.instances else float("nan")) for c, m in enumerate(metrics)]
    present = [r for r in rows if r.instances]
    mean_of = lambda k: float(np.nanmean([getattr(r, k) for r in present])) \
        if present and not all(math.isnan(getattr(r, k)) for r in present) else float("nan")  # noqa: E731
    mean = {"instances": int(sum(r.instances for r in rows)), "precision": mean_of("precision"),
            "recall": mean_of("recall"), "map50": mean_of("map50"), "map50_95": mean_of("map50_95")}
    if empty is None:
        empty = [len(gk) == 0 for _, gk in ground_truth]
    alarm_ids = [c for c, n in enumerate(classes) if n in ALARM_CLASSES]
    per_class = {classes[c]: 0 for c in alarm_ids}
    n_empty = 0
    for (pb, pc, pk), is_empty in zip(predictions, empty):
        if not is_empty:
            continue
        n_empty += 1
        pc, pk = np.asarray(pc, float), np.asarray(pk, int)
        for c in alarm_ids:
            per_class[classes[c]] += int(np.sum((pk == c) & (pc >= thresholds[c])))
    alarms = sum(per_class.values())
    per_image = alarms / n_empty if n_empty else 0.0
    fa = FalseAlarms(n_empty, alarms, per_class, round(per_image, 6), float(fps), round(per_image * fps * 60.0, 4))
    return rows, mean, fa


def evaluate_model(model_path, data_dir, *, split: str = "test", conf: float | None = None,
                   fps: float = DEFAULT_FPS, threads: int | None = None, verify_sha256: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> Evaluation:
    """Run the model over a split and score it. `conf` replaces the card's per-class
    operating thresholds (for P, R@thr and false alarms; AP always uses conf 0.001)."""
    from vision.detect import OnnxDetector

    if fps <= 0:
        raise DatasetError(f"fps must be greater than 0, got {fps}")
    dataset = read_dataset(data_dir)
    detector = OnnxDetector(model_path, threads=threads, verify_sha256=verify_sha256)
    check_names(dataset, detector.classes, f"the model's classes in {Path(model_path).name}'s card")
    images = dataset.split_images(split)
    classes = detector.classes
    thresholds = [float(conf) if conf is not None else detector.card.threshold(c) for c in classes]
    t0 = time.perf_counter()
    predictions, ground_truth, empty = [], [], []
    for start in range(0, len(images), BATCH):
        chunk = images[start:start + BATCH]
        frames = [_read_image(p) for p in chunk]
        dets = detector.detect_batch(frames, conf=EVAL_CONF)
        for path, frame, d in zip(chunk, frames, dets):
            h, w = frame.shape[:2]
            label = label_path_for(path)
            gb, gk = read_labels(label, w, h, len(dataset.names))
            predictions.append((d.xyxy.astype(float), d.confidence.astype(float), d.class_id.astype(int)))
            ground_truth.append((gb, gk))
            empty.append(len(gk) == 0)
        if progress:
            progress(min(start + BATCH, len(images)), len(images))
    wall = time.perf_counter() - t0
    rows, mean, fa = evaluate_detections(predictions, ground_truth, classes, thresholds, fps=fps, empty=empty)
    return Evaluation(str(model_path), detector.card.sha256, str(dataset.yaml_path.parent), split, len(images),
                      tuple(rows), mean, fa, conf, wall, predictions, ground_truth)
