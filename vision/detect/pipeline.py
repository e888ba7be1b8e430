"""The live detection loop: frames go into a latest-frame slot, one worker thread detects,
tracks and raises alarms, and hands each result (with its frame time and per-stage
timings) to a callback. A source faster than the detector drops frames instead of
building a lag; the drops are counted and shown."""
from __future__ import annotations

import dataclasses
import logging
import threading
import time

import numpy as np

from ..alarms import Alarm, AlarmBook
from ..detections import Detections
from ..latest_slot import LatestSlot, SlotClosed
from ..tracking import ByteTracker, track_frame, tracker_for
from .verifier import verifier_for

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, eq=False)
class FrameIn:
    image: np.ndarray
    t_s: float  # capture time of the frame (the source's clock)
    index: int = -1
    meta: object = None  # e.g. the sonar FanImage, to map boxes back to range and bearing


@dataclasses.dataclass(frozen=True, eq=False)
class DetectionResult:
    frame: FrameIn
    detections: Detections  # with tracker ids
    new_alarms: tuple[Alarm, ...]
    timings_ms: dict
    # frame time -> result, on the clock the frame time came from. For RTP video the frame time is
    # the sender's timestamp mapped through the fastest packet seen, so the link's fixed delay
    # (encode, network, decode of the fastest frame) is not in it: bench/bench_pipeline.py
    # measures the whole way from the camera pose
    latency_s: float


@dataclasses.dataclass
class PipelineStats:
    submitted: int = 0
    processed: int = 0
    dropped: int = 0
    errors: int = 0
    last_error: str = ""


def _evidence(detector) -> dict | None:
    card = getattr(detector, "card", None)
    return card.alarm_evidence() if card is not None else None


class DetectionPipeline:
    def __init__(self, detector, *, source: str = "camera", on_result=None, tracker: ByteTracker | None = None,
                 clock=time.monotonic, alarm_ids=None):
        self.detector = detector
        self.tracker = tracker or tracker_for(detector)
        self.alarms = AlarmBook(detector.classes, source, ids=alarm_ids, evidence_conf_s=_evidence(detector),
                                verifier=verifier_for(detector))
        self.on_result = on_result
        self._clock = clock
        self._slot = LatestSlot()
        self._stats = PipelineStats()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"detect-{source}", daemon=True)
        self.latest: DetectionResult | None = None

    def start(self) -> "DetectionPipeline":
        self._thread.start()
        return self

    def submit(self, frame: FrameIn) -> None:
        self._slot.put(frame)

    def stats(self) -> PipelineStats:
        with self._lock:
            s = dataclasses.replace(self._stats)
        s.submitted, s.dropped = self._slot.put_count, self._slot.dropped
        return s

    def close(self, timeout_s: float = 5.0) -> bool:
        self._slot.close()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            try:
                frame = self._slot.take(timeout_s=0.5)
            except SlotClosed:
                return
            if frame is None:
                continue
            try:
                result = self._process(frame)
            except Exception as exc:  # a bad frame must not kill live detection
                log.exception("detection failed on frame %s", frame.index)
                with self._lock:
                    self._stats.errors += 1
                    self._stats.last_error = f"{type(exc).__name__}: {exc}"
                continue
            self.latest = result
            with self._lock:
                self._stats.processed += 1
            if self.on_result is not None:
                self.on_result(result)

    def process(self, frame: FrameIn) -> DetectionResult:
        """One frame through detector, tracker and alarms on the caller's thread: offline
        runs and simulated sweeps, where every frame is wanted and none may be dropped.
        Do not mix with start()/submit(): the tracker is not shared between threads."""
        return self._process(frame)

    def _process(self, frame: FrameIn) -> DetectionResult:
        t0 = time.perf_counter()
        tracked = track_frame(self.detector, self.tracker, frame.image)
        t1 = time.perf_counter()
        new = self.alarms.update(tracked, frame.t_s, frame.image)
        t2 = time.perf_counter()
        timings = dict(getattr(self.detector, "last_timings_ms", {}) or {"detect": (t1 - t0) * 1e3})
        detect_ms = sum(timings.values())
        timings["track"] = max((t1 - t0) * 1e3 - detect_ms, 0.0)
        timings["alarms"] = (t2 - t1) * 1e3
        return DetectionResult(frame, tracked, tuple(new), timings, self._clock() - frame.t_s)
