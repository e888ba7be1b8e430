"""Boxes, labels and track ids drawn onto frames (for annotated videos, snapshots and
burned-in recordings). Alarm classes are drawn in a colour nothing else uses."""
from __future__ import annotations

import numpy as np

from .classes import ALARM_CLASSES
from .detections import Detections

ALARM_BGR = (0, 0, 255)
LANDMARK_BGR = (255, 200, 0)


def annotate(image: np.ndarray, det: Detections, classes) -> np.ndarray:
    """A BGR copy of `image` with the detections drawn on it."""
    import cv2

    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    thick = max(1, round(out.shape[1] / 400))
    for i in range(len(det)):
        x0, y0, x1, y1 = (int(round(v)) for v in det.xyxy[i])
        name = classes[int(det.class_id[i])]
        colour = ALARM_BGR if name in ALARM_CLASSES else LANDMARK_BGR
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, thick)
        tid = "" if det.tracker_id is None or det.tracker_id[i] < 0 else f" #{int(det.tracker_id[i])}"
        text = f"{name}{tid} {det.confidence[i]:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, thick)
        ty = y0 - 3 if y0 - th - base - 3 >= 0 else y1 + th + 3
        cv2.rectangle(out, (x0, ty - th - base), (x0 + tw, ty + base), colour, -1)
        cv2.putText(out, text, (x0, ty), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, (255, 255, 255), thick, cv2.LINE_AA)
    return out
