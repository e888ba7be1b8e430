"""ByteTrack-style multi-object tracker (Zhang et al., 2022), written for HullWatch.

Two association passes per frame: confident detections first, then the weak ones
(which ByteTrack's insight keeps: a bag half hidden behind a grating scores low but is
still the same bag) against the tracks left over. A track is confirmed after
`min_hits` frames, so one spurious frame never raises an alarm; lost tracks survive
`max_lost_frames` so a short occlusion keeps the id.

With a model card, the confident level is each class's operating threshold from the card
(TrackerConfig.for_thresholds): the detector then runs down to WEAK_FRACTION of it, so the
second pass has weak detections to work with, and `track_frame` keeps in its output only
what reached its class's threshold or continues a confirmed track.
"""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from ..detections import Detections, box_iou
from ..fittings import FIELD as FITTING_FIELD
from ..fittings import drop_alarms_on_fittings
from .kalman import BoxKalman


WEAK_FRACTION = 0.5  # weak detections: down to this fraction of their class's threshold


@dataclasses.dataclass
class TrackerConfig:
    # each a number, or one number per class (index = class id)
    high_conf: float | tuple = 0.5
    low_conf: float | tuple = 0.1
    new_track_conf: float | tuple = 0.5
    match_iou: float = 0.2  # minimum IoU for the first pass
    low_match_iou: float = 0.5  # weak detections must overlap better to be trusted
    min_hits: int = 3
    max_lost_frames: int = 30

    @classmethod
    def for_thresholds(cls, thresholds, **kw) -> "TrackerConfig":
        """Per-class operating thresholds (a model card's) as the confident level."""
        thr = tuple(float(t) for t in thresholds)
        return cls(high_conf=thr, low_conf=tuple(t * WEAK_FRACTION for t in thr), new_track_conf=thr, **kw)

    def detect_conf(self) -> float:
        """The confidence the detector must report down to, for the weak pass."""
        return float(np.min(self.low_conf))


def _per_class(level, class_id: np.ndarray) -> np.ndarray | float:
    if np.isscalar(level):
        return float(level)
    arr = np.asarray(level, dtype=np.float32)
    return arr[np.clip(class_id, 0, len(arr) - 1)]


@dataclasses.dataclass(eq=False)
class Track:
    track_id: int
    class_id: int
    kalman: BoxKalman
    confidence: float
    hits: int = 1
    lost_frames: int = 0
    confirmed: bool = False
    best_confidence: float = 0.0


class ByteTracker:
    def __init__(self, config: TrackerConfig | None = None):
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def reset(self) -> None:
        self.tracks.clear()

    def update(self, det: Detections) -> Detections:
        """Associate this frame's detections; returns them with tracker ids (-1 = tentative)."""
        cfg = self.config
        for t in self.tracks:
            t.kalman.predict()
        ids = np.full(len(det), -1, dtype=np.int64)
        high_c = _per_class(cfg.high_conf, det.class_id)
        new_c = _per_class(cfg.new_track_conf, det.class_id) * np.ones(len(det), np.float32)
        high = np.flatnonzero(det.confidence >= high_c)
        low = np.flatnonzero((det.confidence >= _per_class(cfg.low_conf, det.class_id)) & (det.confidence < high_c))
        pool = list(range(len(self.tracks)))
        matched_tracks: set[int] = set()
        rest_high = high
        for dets, min_iou in ((high, cfg.match_iou), (low, cfg.low_match_iou)):
            pairs, unmatched_d = self._match(det, dets, pool, min_iou)
            for ti, di in pairs:
                self._hit(self.tracks[ti], det, di)
                ids[di] = self.tracks[ti].track_id if self.tracks[ti].confirmed else -1
                matched_tracks.add(ti)
            pool = [i for i in pool if i not in matched_tracks]
            if dets is high:
                rest_high = unmatched_d
        for t_idx in pool:
            self.tracks[t_idx].lost_frames += 1
        for di in rest_high:
            if det.confidence[di] >= new_c[di]:
                t = Track(next(self._ids), int(det.class_id[di]), BoxKalman(det.xyxy[di].astype(float)),
                          float(det.confidence[di]), best_confidence=float(det.confidence[di]))
                t.confirmed = cfg.min_hits <= 1
                self.tracks.append(t)
                ids[di] = t.track_id if t.confirmed else -1
        # tentative tracks die on their first miss; confirmed ones after max_lost_frames
        self.tracks = [t for t in self.tracks
                       if (t.confirmed and t.lost_frames <= cfg.max_lost_frames) or (not t.confirmed and t.lost_frames == 0)]
        return det.with_tracker_ids(ids)

    def _match(self, det: Detections, dets: np.ndarray, pool: list[int], min_iou: float):
        if len(dets) == 0 or not pool:
            return [], dets
        from scipy.optimize import linear_sum_assignment

        track_boxes = np.array([self.tracks[i].kalman.xyxy for i in pool])
        iou = box_iou(track_boxes, det.xyxy[dets])
        # a track keeps its class: a bag does not become a rudder between frames
        same = np.array([[self.tracks[i].class_id == det.class_id[d] for d in dets] for i in pool])
        cost = np.where(same & (iou >= min_iou), 1.0 - iou, 1e6)
        rows, cols = linear_sum_assignment(cost)
        pairs = [(pool[r], int(dets[c])) for r, c in zip(rows, cols) if cost[r, c] < 1e6]
        used = {d for _, d in pairs}
        return pairs, np.array([d for d in dets if d not in used], dtype=np.int64)

    def _hit(self, t: Track, det: Detections, di: int) -> None:
        t.kalman.update(det.xyxy[di].astype(float))
        t.hits += 1
        t.lost_frames = 0
        t.confidence = float(det.confidence[di])
        t.best_confidence = max(t.best_confidence, t.confidence)
        if t.hits >= self.config.min_hits:
            t.confirmed = True

    def confirmed_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.confirmed]


def track_frame(detector, tracker: ByteTracker, image: np.ndarray) -> Detections:
    """Detect down to the tracker's weak level, drop alarm boxes that are hull fittings
    (vision/fittings.py, when the card says so), track, and keep what a user should see:
    detections at or above their class's confident level, and weak ones that continue a
    confirmed track."""
    det = detector(image, conf=tracker.config.detect_conf())
    card = getattr(detector, "card", None)
    if card is not None and card.extra.get(FITTING_FIELD):
        det = drop_alarms_on_fittings(det, detector.classes, float(card.extra[FITTING_FIELD]))
    det = tracker.update(det)
    strong = det.confidence >= _per_class(tracker.config.high_conf, det.class_id)
    return det[strong | (det.tracker_id > 0)]


def tracker_for(detector, config: TrackerConfig | None = None) -> ByteTracker:
    """A tracker whose confident level per class is the detector's model-card threshold."""
    card = getattr(detector, "card", None)
    if config is None and card is not None:
        config = TrackerConfig.for_thresholds([card.threshold(c) for c in detector.classes])
    return ByteTracker(config)
