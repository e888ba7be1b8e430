"""Alarms from confirmed tracks: a parasitic container or a niche anomaly seen in several
frames raises one alarm per object, with the snapshot of its most confident view, kept up
to date while the track lives so the pilot reviews the best picture, not the first. A track
that breaks and restarts on the same object (a few missed frames, a glare) joins the alarm
it continues instead of raising a second one, and so does a track of the other alarm class
on the same object (a bag strapped in a thruster tunnel is seen as both): the alarm takes
the class of its most confident view.

Evidence: a confirmed track raises its alarm only once it has gathered enough evidence,
the sum over its frames of confidence x time (confidence-seconds, each frame counting for
the time since the track's previous confirmed frame, at most EVIDENCE_DT_MAX_S), so the rule means
the same at 5 and at 25 frames/s. A bag in view is seen steadily for seconds; what fools
the model (a fender, an anode, a fish) mostly flickers at middling confidence. The level
per class comes from the model card ("alarm_evidence_conf_s"), chosen on rendered passes
(bench/bench_alarm_thresholds.py); without it the alarm is raised on confirmation.

Second look: with a verifier (vision/detect/verifier.py, named by the model card), a track
with enough evidence alarms only once the verifier, looking at the box alone, agrees that
it holds the class: the mean of its last VERIFY_WINDOW looks reaches the verifier's level.
A track the verifier doubts is looked at again every VERIFY_INTERVAL_S on its newest view,
so a container first seen badly alarms as soon as a better view comes."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from .classes import ALARM_CLASSES
from .detections import Detections, box_iou

SNAPSHOT_MARGIN = 0.25  # context around the box, as a fraction of its size
REJOIN_WINDOW_S = 3.0  # a new track this soon after an alarm's last sighting ...
REJOIN_IOU = 0.3  # ... overlapping its last box is the same object
EVIDENCE_DT_MAX_S = 0.25  # a frame after a gap counts for no more than this
EVIDENCE_TRACKS_MAX = 256
VERIFY_INTERVAL_S = 0.3
VERIFY_WINDOW = 3


@dataclasses.dataclass
class Alarm:
    alarm_id: int
    source: str  # "camera" | "sonar"
    track_id: int
    class_name: str
    confidence: float
    first_t_s: float
    last_t_s: float
    box_xyxy: tuple[float, float, float, float]
    snapshot: np.ndarray | None
    frames: int = 1
    address: object | None = None  # hull-surface address, once georeferencing places it
    track_ids: list = dataclasses.field(default_factory=list)  # every track that saw it
    last_box_xyxy: tuple | None = None
    # the second look when it alarmed: the mean of the verifier's last looks, and the level
    # it had to reach (None: no verifier judged this class), so a report can cite both
    second_look: float | None = None
    second_look_level: float | None = None


class AlarmBook:
    def __init__(self, classes, source: str, alarm_classes=ALARM_CLASSES, ids=None, evidence_conf_s=None,
                 verifier=None):
        """ids: an iterator of alarm ids shared by the station's books (camera and sonar),
        so an alarm id names one alarm across sources; default: this book's own 1, 2, ...
        evidence_conf_s: {class name: confidence-seconds a track needs before it alarms}.
        verifier: the second look (score(image, box, class) -> probability or None, and
        level(class) -> the probability needed, or None for a class it does not judge)."""
        self.classes = tuple(classes)
        self._need = np.zeros(len(self.classes))
        for name, level in (evidence_conf_s or {}).items():
            if name not in self.classes or not float(level) >= 0.0:
                raise ValueError(f"alarm evidence {name!r}: {level!r} (a known class and a level >= 0)")
            self._need[self.classes.index(name)] = float(level)
        self._evidence: dict[int, list[float]] = {}  # track id -> [conf-seconds, last frame time]
        self.verifier = verifier
        self._looks: dict[int, list] = {}  # track id -> [time of the last look, its scores]
        self.doubted = 0  # looks the verifier did not agree with (benches count them)
        self.source = source
        self._alarm_ids = {i for i, c in enumerate(self.classes) if c in alarm_classes}
        self.alarms: dict[int, Alarm] = {}  # by alarm id
        self._by_track: dict[int, Alarm] = {}
        self._next = ids if ids is not None else itertools.count(1)

    def update(self, tracked: Detections, t_s: float, image: np.ndarray | None) -> list[Alarm]:
        """Feed one frame's tracked detections; returns the alarms raised by this frame."""
        new = []
        if tracked.tracker_id is None:
            return new
        for i in np.flatnonzero((tracked.tracker_id > 0) & np.isin(tracked.class_id, list(self._alarm_ids))):
            tid = int(tracked.tracker_id[i])
            conf = float(tracked.confidence[i])
            box = tuple(float(v) for v in tracked.xyxy[i])
            alarm = self._by_track.get(tid)
            if alarm is None:
                alarm = self._rejoined(box, t_s)  # the same object again: no new evidence needed
                if alarm is None:
                    if not self._enough(tid, int(tracked.class_id[i]), conf, t_s):
                        continue
                    name = self.classes[int(tracked.class_id[i])]
                    verdict = self._verified(tid, name, image, box, t_s)
                    if verdict is None:
                        continue
                    self._evidence.pop(tid, None)
                    self._looks.pop(tid, None)
                    alarm = Alarm(next(self._next), self.source, tid, name, conf, t_s, t_s, box,
                                  snapshot_crop(image, box), track_ids=[tid], last_box_xyxy=box,
                                  second_look=verdict[0], second_look_level=verdict[1])
                    self.alarms[alarm.alarm_id] = alarm
                    self._by_track[tid] = alarm
                    new.append(alarm)
                    continue
                alarm.track_ids.append(tid)
                self._by_track[tid] = alarm
            alarm.last_t_s = t_s
            alarm.last_box_xyxy = box
            alarm.frames += 1
            if conf > alarm.confidence:
                alarm.confidence, alarm.box_xyxy, alarm.snapshot = conf, box, snapshot_crop(image, box)
                alarm.class_name = self.classes[int(tracked.class_id[i])]
        return new

    def _enough(self, tid: int, class_id: int, conf: float, t_s: float) -> bool:
        need = self._need[class_id]
        if need <= 0.0:
            return True
        if len(self._evidence) > EVIDENCE_TRACKS_MAX:  # tracks that died short of an alarm
            self._evidence = {k: v for k, v in self._evidence.items() if t_s - v[1] <= REJOIN_WINDOW_S}
        acc = self._evidence.setdefault(tid, [0.0, t_s])  # the first confirmed frame starts the clock
        acc[0] += conf * min(max(t_s - acc[1], 0.0), EVIDENCE_DT_MAX_S)
        acc[1] = t_s
        return acc[0] >= need

    def _verified(self, tid: int, name: str, image, box, t_s: float) -> tuple | None:
        """None while the verifier doubts the track; else (mean of its looks, level), or
        (None, None) when no verifier judges the class."""
        if self.verifier is None or image is None or self.verifier.level(name) is None:
            return None, None
        if len(self._looks) > EVIDENCE_TRACKS_MAX:  # doubted tracks that died
            self._looks = {k: v for k, v in self._looks.items() if t_s - v[0] <= REJOIN_WINDOW_S}
        look = self._looks.setdefault(tid, [-np.inf, []])
        if t_s - look[0] < VERIFY_INTERVAL_S:
            return None
        score = self.verifier.score(image, box, name)
        if score is None:  # no view to judge (a box at the frame's edge): the next frame may give one
            return None
        look[0] = t_s
        look[1] = (look[1] + [score])[-VERIFY_WINDOW:]
        mean, level = float(np.mean(look[1])), float(self.verifier.level(name))
        if mean >= level:
            return round(mean, 4), level
        self.doubted += 1
        return None

    def _rejoined(self, box, t_s: float) -> Alarm | None:
        best, best_iou = None, REJOIN_IOU
        for a in self.alarms.values():
            if not 0.0 <= t_s - a.last_t_s <= REJOIN_WINDOW_S:
                continue
            iou = float(box_iou(np.array([box]), np.array([a.last_box_xyxy]))[0, 0])
            if iou >= best_iou:
                best, best_iou = a, iou
        return best


def snapshot_crop(image: np.ndarray | None, box) -> np.ndarray | None:
    if image is None:
        return None
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * SNAPSHOT_MARGIN, (y1 - y0) * SNAPSHOT_MARGIN
    xa, ya = max(0, int(x0 - mx)), max(0, int(y0 - my))
    xb, yb = min(w, int(np.ceil(x1 + mx))), min(h, int(np.ceil(y1 + my)))
    if xb <= xa or yb <= ya:
        return None
    return image[ya:yb, xa:xb].copy()
