"""Model cards as `hullwatch train` writes them, in the format vision.detect.model_card reads
(`NAME.card.json` beside `NAME.onnx`), and the per-class operating thresholds they carry.

Thresholds are chosen on the validation split (the test split stays held out for the
metrics): for each class the confidence that maximises F-beta at IoU 0.5, with beta = 2 for
the alarm classes (a missed container costs more than a false alarm the diver dismisses)
and beta = 1 for the landmarks. A class without validation instances keeps the default.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from vision.classes import ALARM_CLASSES
from vision.detect.model_card import FORMAT, VERSION
from vision.evaluation.map_metrics import match_image

DEFAULT_CONF = 0.25
DEFAULT_IOU = 0.5  # NMS IoU of the runtime detector
THRESHOLD_RANGE = (0.05, 0.9)
ALARM_BETA, LANDMARK_BETA = 2.0, 1.0

SYNTHETIC_LICENCE = ("Training data: synthetic images rendered by HullWatch's simulator (free software, "
                     "AGPL-3.0-or-later); no third-party images.")
MODEL_LICENCE = ("Weights trained from scratch (no pretrained weights) with ultralytics YOLO11n "
                 "(AGPL-3.0); HullWatch is AGPL-3.0-or-later: ship these terms with the model.")
UNKNOWN_DATA_LICENCE = ("Training data: a YOLO data set without a HullWatch card; its licence is not recorded "
                        "here: find and record it before sharing this model.")


def choose_thresholds(predictions, ground_truth, classes) -> tuple[dict, dict]:
    """({class: threshold} for classes with validation instances, {class: how it was chosen})."""
    per_class_tp: dict[int, list] = {c: [] for c in range(len(classes))}
    n_gt = np.zeros(len(classes), int)
    for (pb, pc, pk), (gb, gk) in zip(predictions, ground_truth):
        pb, pc, pk = np.asarray(pb, float).reshape(-1, 4), np.asarray(pc, float), np.asarray(pk, int)
        gk = np.asarray(gk, int)
        tp = match_image(pb, pc, pk, np.asarray(gb, float).reshape(-1, 4), gk)[:, 0]
        for c in range(len(classes)):
            m = pk == c
            per_class_tp[c] += list(zip(pc[m], tp[m]))
        n_gt += np.bincount(gk, minlength=len(classes))[: len(classes)]
    chosen, how = {}, {}
    lo, hi = THRESHOLD_RANGE
    for c, name in enumerate(classes):
        beta = ALARM_BETA if name in ALARM_CLASSES else LANDMARK_BETA
        if n_gt[c] == 0:
            how[name] = {"rule": "default (no validation instances)", "threshold": DEFAULT_CONF}
            continue
        pairs = sorted(per_class_tp[c], key=lambda p: -p[0])
        if not pairs:
            how[name] = {"rule": "default (no detections on validation)", "threshold": DEFAULT_CONF}
            continue
        conf = np.array([p[0] for p in pairs])
        tp = np.cumsum([bool(p[1]) for p in pairs])
        fp = np.arange(1, len(pairs) + 1) - tp
        recall, precision = tp / n_gt[c], tp / (tp + fp)
        f = (1 + beta ** 2) * precision * recall / np.maximum(beta ** 2 * precision + recall, 1e-12)
        i = int(np.argmax(f))
        if f[i] <= 0:
            how[name] = {"rule": "default (no true positive on validation)", "threshold": DEFAULT_CONF}
            continue
        # halfway to the next lower score, so the chosen detection itself stays above it
        thr = float(conf[i] if i + 1 >= len(conf) else (conf[i] + conf[i + 1]) / 2)
        thr = round(min(max(thr, lo), hi), 4)
        chosen[name] = thr
        how[name] = {"rule": f"max F{beta:g} at IoU 0.5 on the validation split", "threshold": thr,
                     "f_score": round(float(f[i]), 4), "precision": round(float(precision[i]), 4),
                     "recall": round(float(recall[i]), 4), "instances": int(n_gt[c])}
    return chosen, how


def licence_notes(dataset_card: dict | None) -> dict:
    if not dataset_card:
        data = UNKNOWN_DATA_LICENCE
    elif dataset_card.get("source") == "synthetic":
        data = SYNTHETIC_LICENCE
    else:
        data = "Training data: " + str(dataset_card.get("licence") or "licence not stated in the data set's card; "
                                                                      "record it before sharing this model")
    return {"data": data, "model": MODEL_LICENCE}


def card_document(*, name: str, kind: str, classes, input_hw, sha256: str, class_thresholds: dict,
                  conf_threshold: float = DEFAULT_CONF, iou_threshold: float = DEFAULT_IOU, **extra) -> dict:
    doc = {"format": FORMAT, "version": VERSION, "name": name, "kind": kind, "classes": list(classes),
           "input_hw": [int(v) for v in input_hw], "conf_threshold": float(conf_threshold),
           "class_thresholds": {k: float(v) for k, v in class_thresholds.items()},
           "iou_threshold": float(iou_threshold), "sha256": sha256}
    doc.update(extra)
    return json.loads(json.dumps(doc, default=_jsonable))  # plain JSON types (and no NaN)


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if math.isnan(float(v)) else float(v)
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON: {type(v).__name__}")


def _nan_to_none(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _nan_to_none(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_nan_to_none(x) for x in v]
    return v


def write_card(path, doc: dict) -> None:
    write_bytes_atomic(Path(path), (json.dumps(_nan_to_none(doc), indent=2) + "\n").encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_atomic(src: Path, dst: Path) -> None:
    write_bytes_atomic(dst, Path(src).read_bytes())
