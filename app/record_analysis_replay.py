"""The loop of a re-analysis: every recorded frame and ping in time order, detected a few
ahead on the detector pool, then tracked, alarmed and placed on the hull one by one on
the caller's thread, with the vehicle's poses handed to the map just ahead of the frames
they place and the map turned every MAP_STEP_S of mission time, as the live worker turns.
"""
from __future__ import annotations

import collections
import time

DETECT_AHEAD = 6  # frames in flight between reading and tracking
MAP_STEP_S = 0.25  # mission seconds between map turns (the live worker's tick)
POSE_LEAD_S = 1.0  # poses reach the map this far ahead of the frames they place
PROGRESS_EVERY_S = 1.0


class Replay:
    """pipes: source -> vision.detect.pipeline.DetectionPipeline whose detector is a
    record_analysis_streams.DetectedAhead; smap: app.station_map.StationMap (never
    started: its worker is stepped here) or None; telemetry: RecordTelemetry or None."""

    def __init__(self, pipes: dict, smap, telemetry, media_s: float, progress=None):
        self.pipes, self.smap, self.telemetry = pipes, smap, telemetry
        self.media_s, self.progress = media_s, progress
        self.counts = collections.Counter()
        self.spent_s = collections.Counter()  # per source (track, alarms, waiting) and "map"
        self._next_pose = 0
        self._next_step_s: float | None = None
        self._t0_s: float | None = None
        self._told = time.monotonic()

    def run(self, items) -> None:
        window: collections.deque = collections.deque()
        for source, frame in items:
            self.pipes[source].detector.submit(frame.image)
            window.append((source, frame))
            if len(window) >= DETECT_AHEAD:
                self._take(*window.popleft())
        while window:
            self._take(*window.popleft())

    def finish(self):
        """The map's last turn (places what waited for a pose); its snapshot, or None."""
        if self.smap is None:
            return None
        t0 = time.perf_counter()
        snap = self.smap.worker.step(final=True)
        self.spent_s["map"] += time.perf_counter() - t0
        return snap

    def _take(self, source: str, frame) -> None:
        t = frame.t_s
        t0 = time.perf_counter()
        result = self.pipes[source].process(frame)  # waits for its detections, then tracks and raises alarms
        t1 = time.perf_counter()
        self.spent_s[source] += t1 - t0
        self.counts[source] += 1
        if self.smap is not None:
            self._map(source, result, t)
            self.spent_s["map"] += time.perf_counter() - t1
        self._tell(t)

    def _map(self, source: str, result, t: float) -> None:
        worker, poses = self.smap.worker, self.telemetry.poses
        while self._next_pose < len(poses) and poses[self._next_pose].t_s <= t + POSE_LEAD_S:
            worker.add_pose(poses[self._next_pose])
            self._next_pose += 1
        worker.add_detections(result, source, self.telemetry.tilt_at(t) if source == "camera" else 0.0)
        if self._next_step_s is None or t >= self._next_step_s:
            self._next_step_s = t + MAP_STEP_S
            worker.step(snapshot=False)  # only the final step's snapshot is read

    def _tell(self, t: float) -> None:
        self._t0_s = t if self._t0_s is None else self._t0_s
        if self.progress is not None and time.monotonic() - self._told >= PROGRESS_EVERY_S:
            self._told = time.monotonic()
            done = min(1.0, (t - self._t0_s) / self.media_s) if self.media_s > 0 else 0.0
            self.progress(done, f"{self.counts['camera']} frames, {self.counts['sonar']} pings")
