"""Non-maximum suppression, per class (boxes of different classes never suppress each
other), in numpy: at a few hundred candidates this is well under a millisecond."""
from __future__ import annotations

import numpy as np

from ..detections import box_iou


def nms(xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept, highest score first."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        if len(order) == 1:
            break
        iou = box_iou(xyxy[i:i + 1], xyxy[order[1:]])[0]
        order = order[1:][iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(xyxy: np.ndarray, scores: np.ndarray, class_id: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Per-class NMS by offsetting each class's boxes far apart (one pass, no loop over classes)."""
    if len(xyxy) == 0:
        return np.zeros(0, dtype=np.int64)
    offset = class_id.astype(np.float32)[:, None] * (float(xyxy.max()) + 1.0)
    return nms(xyxy + offset, scores, iou_threshold)
