"""StationBridge: the one place the GUI learns what the station's workers produced.

A QTimer on the GUI thread looks at the workers' newest immutable results (the vehicle's
state snapshot, the video reader's newest frame, each detector's newest result, the hull
map's snapshot) and emits a signal only when one changed, throttled per kind: reading a
snapshot never blocks. What arrives as events on worker threads (alarms from the
detectors, vehicle events from the link thread) is re-emitted through signals, which Qt
queues to the GUI thread.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

TICK_MS = 15  # video at 25-30 fps is caught within half a frame
STATE_PERIOD_S = 1 / 20  # the UI needs telemetry at most 20 times a second (DESIGN.md)
MAP_PERIOD_S = 0.5
STATS_PERIOD_S = 1.0


class StationBridge(QObject):
    state_changed = Signal(object, float, float)  # VehicleState, vehicle clock now_s, link loss %
    frame_ready = Signal(object)  # vision.video.source.VideoFrame
    detection_ready = Signal(object)  # camera DetectionResult
    sonar_ready = Signal(object)  # sonar DetectionResult (frame.image: fan image; frame.meta: FanImage)
    ping360_ready = Signal(object)  # vision.sonar.ping360_client.Ping360Scan: a completed sweep
    map_changed = Signal(object)  # vision.hullmap.live_map.MapSnapshot
    alarm_raised = Signal(object)  # vision.alarms.Alarm (a copy)
    alarm_updated = Signal(object)  # a copy of an alarm whose best look improved (confidence, snapshot)
    vehicle_event = Signal(object)  # vehicle.events.*
    stats_changed = Signal(dict)  # video_fps, video_dropped, detect_fps, detect_dropped, sonar_pps

    def __init__(self, station, parent: QObject | None = None):
        super().__init__(parent)
        self.station = station
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = {"state_t": None, "frame": None, "det": None, "sonar": None, "map": None, "ping360": None}
        self._due = {"state": 0.0, "map": 0.0, "stats": 0.0}
        self._counts = (time.monotonic(), 0, 0, 0)
        self._alarm_seen: dict[int, float] = {}  # alarm id -> best confidence told
        self._unsubscribe = None
        self._on_alarm = self.alarm_raised.emit  # one bound object, to remove it again
        station.alarm_listeners.append(self._on_alarm)

    def start(self) -> None:
        vehicle = self.station.vehicle
        if vehicle is not None and self._unsubscribe is None:
            self._unsubscribe = vehicle.events.subscribe(self.vehicle_event.emit)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        try:
            self.station.alarm_listeners.remove(self._on_alarm)
        except ValueError:
            pass

    # ---- polling ----------------------------------------------------------------------
    def _tick(self) -> None:
        now = time.monotonic()
        st = self.station
        monitor = st.monitor
        if monitor is not None:
            if monitor.video is not None:
                self._changed("frame", monitor.video.latest(), self.frame_ready)
            if monitor.pipeline is not None:
                self._changed("det", monitor.pipeline.latest, self.detection_ready)
            if monitor.sonar_pipeline is not None:
                self._changed("sonar", monitor.sonar_pipeline.latest, self.sonar_ready)
        if st.ping360 is not None:
            self._changed("ping360", st.ping360.latest, self.ping360_ready)
        if st.vehicle is not None and now >= self._due["state"]:
            self._due["state"] = now + STATE_PERIOD_S
            state = st.vehicle.state
            if state.t_s != self._last["state_t"] or not state.link_ok:
                self._last["state_t"] = state.t_s
                self.state_changed.emit(state, st.vehicle.now_s(), st.vehicle.link_loss_pct())
        if st.station_map is not None and now >= self._due["map"]:
            self._due["map"] = now + MAP_PERIOD_S
            self._changed("map", st.station_map.worker.latest, self.map_changed)
        if monitor is not None and now >= self._due["stats"]:
            self._due["stats"] = now + STATS_PERIOD_S
            self.stats_changed.emit(self._stats(now, monitor))
            self._alarm_changes(monitor)

    def _alarm_changes(self, monitor) -> None:
        """Alarms keep their best look (the detector thread updates them in place): tell
        the GUI, with a copy, when that improved."""
        import dataclasses

        for pipeline in (monitor.pipeline, monitor.sonar_pipeline):
            if pipeline is None:
                continue
            for alarm in list(pipeline.alarms.alarms.values()):
                if alarm.confidence > self._alarm_seen.get(alarm.alarm_id, alarm.confidence - 1.0):
                    first = alarm.alarm_id not in self._alarm_seen
                    self._alarm_seen[alarm.alarm_id] = alarm.confidence
                    if not first:
                        self.alarm_updated.emit(dataclasses.replace(alarm, track_ids=list(alarm.track_ids)))

    def _changed(self, key: str, value, signal) -> None:
        if value is not None and value is not self._last[key]:
            self._last[key] = value
            signal.emit(value)

    def _stats(self, now: float, monitor) -> dict:
        t0, f0, d0, p0 = self._counts
        dt = max(now - t0, 1e-3)
        video = monitor.video.stats() if monitor.video is not None else None
        det = monitor.pipeline.stats() if monitor.pipeline is not None else None
        pings = monitor.oculus.stats().pings_received if monitor.oculus is not None else 0
        frames = video.frames_decoded if video else 0
        done = det.processed if det else 0
        self._counts = (now, frames, done, pings)
        return {"video_fps": (frames - f0) / dt, "video_dropped": video.frames_dropped if video else 0,
                "video_error": video.last_error if video else "",
                "detect_fps": (done - d0) / dt, "detect_dropped": det.dropped if det else 0,
                "sonar_pps": (pings - p0) / dt}
