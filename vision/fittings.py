"""Alarm-class boxes on hull fittings: the camera model often scores an anode, a valve or a
propeller hub both as what it is and as a parasitic container. When a fitting box of at
least the same confidence covers an alarm box almost exactly (IoU at or above the card's
"fitting_suppression_iou"), the object is the fitting and the alarm box is dropped before
tracking. A bag strapped to an anode is a box of its own (smaller, offset): it overlaps
the anode's box far less and is kept. The level is chosen on rendered passes
(bench/bench_alarm_thresholds.py); without it in the card nothing is dropped."""
from __future__ import annotations

import numpy as np

from .classes import ALARM_CLASSES
from .detections import Detections, box_iou

FIELD = "fitting_suppression_iou"


def drop_alarms_on_fittings(det: Detections, classes, iou_min: float | None) -> Detections:
    if not iou_min or len(det) < 2:
        return det
    alarm = np.isin(det.class_id, [i for i, c in enumerate(classes) if c in ALARM_CLASSES])
    fitting = ~alarm
    if not alarm.any() or not fitting.any():
        return det
    a, f = np.flatnonzero(alarm), np.flatnonzero(fitting)
    iou = box_iou(det.xyxy[a].astype(float), det.xyxy[f].astype(float))
    covered = (iou >= iou_min) & (det.confidence[f][None, :] >= det.confidence[a][:, None])
    keep = np.ones(len(det), bool)
    keep[a[covered.any(axis=1)]] = False
    return det[keep]
