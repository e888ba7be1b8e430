"""A telemetry log as a timeline: the vehicle's state at any time, its track, depth and heading
profiles, modes and events, from a HullWatch record's telemetry.tlog or any ground station's.

The vehicle is the sender (system and component) of the first autopilot HEARTBEAT, as in
app.record_analysis_inputs.read_telemetry; its messages, also those logged before that
heartbeat (the firmware banner usually is), are folded through the live reducers
(vehicle.telemetry), so a replayed state is the state the station showed. Other senders (the
ground station, a companion computer such as BlueOS, a camera) are left out by component too:
a companion computer's heartbeat says "armed" in base_mode and would flip the vehicle's state.

Loading decodes only the vehicle's packets of the types the reducers read (the header says
which) and keeps a state at most every KEYFRAME_S of log time plus the last one before every
mode or arming change. state_at(t) bisects to the keyframe before t and folds the few
messages kept after it, so it equals folding the whole log up to t, in O(log n).
Immutable after loading: any thread may query it.
"""
from __future__ import annotations

import bisect
import dataclasses
import math
from pathlib import Path

import numpy as np

from recording.errors import RecordError

KEYFRAME_S = 0.1
LINK_GAP_S = 5.0  # vehicle heartbeats (1 Hz) missing this long: the link was lost
PROGRESS_RECORDS = 4096
EARLY_RECORDS = 20_000  # records kept while waiting for the vehicle's first heartbeat
EARTH_RADIUS_M = 6_371_000.0
_STX_V2 = 0xFD


@dataclasses.dataclass(frozen=True)
class TelemetryEvent:
    t_utc_s: float
    kind: str  # "mode" | "armed" | "disarmed" | "statustext" | "failsafe" | "leak" | "link_gap"
    text: str
    severity: int | None  # MAV_SEVERITY of a status text (0 emergency .. 7 debug)


@dataclasses.dataclass(frozen=True)
class ModeSpan:
    t0_s: float
    t1_s: float
    mode: str


class LoadCancelled(RecordError):
    """Loading was cancelled through its `cancel` event."""


def _source(packet: bytes) -> tuple[int, int, int]:
    """(system, component, message id) from a packet's header."""
    if packet[0] == _STX_V2:
        return packet[5], packet[6], packet[7] | packet[8] << 8 | packet[9] << 16
    return packet[3], packet[4], packet[5]


class _Fold:
    """The loading pass: one vehicle state folded message by message, with what the timeline keeps."""

    def __init__(self) -> None:
        from vehicle.dialect import MAVLink, mavlink
        from vehicle.state import VehicleState
        from vehicle.telemetry import HANDLERS

        self.handlers = HANDLERS
        self.wanted = {getattr(mavlink, f"MAVLINK_MSG_ID_{name}") for name in HANDLERS}
        self.decode = MAVLink(None).decode
        self.vehicle: tuple[int, int] | None = None
        self.state = VehicleState()
        self.t: list[float] = []
        self.msgs: list = []
        self.kf_t, self.kf_n, self.kf_state = [-math.inf], [0], [self.state]
        self.local, self.fixes, self.depth, self.heading = [], [], [], []
        self.events: list[TelemetryEvent] = []
        self.mode_changes: list[tuple[float, str]] = []
        self.last_beat: float | None = None
        self.undecodable = 0
        self.early: list[tuple[float, bytes]] = []  # records before the vehicle's first heartbeat

    def feed(self, t: float, packet: bytes) -> None:
        system, component, msgid = _source(packet)
        if self.vehicle is None:
            msg = self._decoded(packet) if msgid == 0 else None
            from vehicle.vehicle import is_autopilot_heartbeat

            if msg is None or not is_autopilot_heartbeat(msg):
                if len(self.early) < EARLY_RECORDS:
                    self.early.append((t, packet))
                return
            self.vehicle = (system, component)
            early, self.early = self.early, []
            for t_early, p in early:  # the vehicle's banner texts often come before its first heartbeat
                if _source(p)[:2] == self.vehicle and _source(p)[2] in self.wanted:
                    self.feed(t_early, p)
        elif (system, component) != self.vehicle or msgid not in self.wanted:
            return
        else:
            msg = self._decoded(packet)
            if msg is None:
                return
        if self.t and t < self.t[-1]:
            t = self.t[-1]  # a wall-clock step back: kept in order, at the time before it
        self._apply(t, msg)

    def _decoded(self, packet: bytes):
        try:
            return self.decode(bytearray(packet))
        except Exception:  # noqa: BLE001 - pymavlink raises MAVError, struct.error, ...: a damaged packet
            self.undecodable += 1
            return None

    def _apply(self, t: float, msg) -> None:
        prev, kind = self.state, msg._type
        new = self.handlers[kind](prev, msg, t)
        if new is not prev:
            # what apply_message does with a second dataclasses.replace(new, t_s=t); `new` is
            # the handler's fresh copy that nothing else holds yet, so setting it is the same
            # state at a twentieth of the cost (the fold is most of the loading time)
            object.__setattr__(new, "t_s", t)
        if kind == "HEARTBEAT":
            self._heartbeat(t, prev, new)
        elif kind == "STATUSTEXT":
            self._statustext(t, prev, new)
        elif kind == "LOCAL_POSITION_NED":
            self.local.append((t, msg.x, msg.y, msg.z))
        elif kind == "GLOBAL_POSITION_INT" and (msg.lat or msg.lon):
            self.fixes.append((t, msg.lat * 1e-7, msg.lon * 1e-7, -msg.relative_alt / 1000.0))
        depth = new.depth.depth_m
        if depth is not None and (not self.depth or self.depth[-1][1] != depth):
            self.depth.append((t, depth))
        if kind in ("ATTITUDE", "VFR_HUD"):
            heading = new.heading_deg
            if heading is not None and (not self.heading or self.heading[-1][1] != heading):
                self.heading.append((t, heading))
        self.state = new
        self.t.append(t)
        self.msgs.append(msg)
        if t - self.kf_t[-1] >= KEYFRAME_S:
            self._keyframe(t, len(self.msgs), new)

    def _keyframe(self, t: float, n: int, state) -> None:
        if self.kf_n[-1] != n:
            self.kf_t.append(t)
            self.kf_n.append(n)
            self.kf_state.append(state)

    def _heartbeat(self, t: float, prev, new) -> None:
        if self.last_beat is not None and t - self.last_beat > LINK_GAP_S:
            self.events.append(TelemetryEvent(self.last_beat, "link_gap",
                                              f"no heartbeat from the vehicle for {t - self.last_beat:.1f} s", None))
        self.last_beat = t
        if new.mode != prev.mode or new.armed != prev.armed:
            if self.msgs:
                self._keyframe(self.t[-1], len(self.msgs), prev)  # the last state before the change
        if new.mode != prev.mode:
            self.mode_changes.append((t, new.mode))
            self.events.append(TelemetryEvent(t, "mode", f"mode {new.mode or '?'}", None))
        if new.armed != prev.armed:
            self.events.append(TelemetryEvent(t, "armed" if new.armed else "disarmed",
                                              "armed" if new.armed else "disarmed", None))

    def _statustext(self, t: float, prev, new) -> None:
        text = new.status_texts[-1]
        self.events.append(TelemetryEvent(t, "statustext", text.text, int(text.severity)))
        for name in ("leak", "pilot_input", "gcs", "battery", "ekf"):
            if getattr(new.failsafes, name) and not getattr(prev.failsafes, name):
                self.events.append(TelemetryEvent(t, "leak" if name == "leak" else "failsafe",
                                                  f"{name} failsafe: {text.text}", int(text.severity)))


class TelemetryTimeline:
    def __init__(self, path: Path, fold: _Fold, t_start_s: float, t_end_s: float) -> None:
        self.path = Path(path)
        self.t_start_s, self.t_end_s = float(t_start_s), float(t_end_s)
        self.messages = len(fold.msgs)
        self.undecodable = fold.undecodable
        self.vehicle = fold.vehicle
        self._t, self._msgs = np.asarray(fold.t, float), fold.msgs
        self._kf_t, self._kf_n, self._kf_state = fold.kf_t, fold.kf_n, fold.kf_state
        self._handlers = fold.handlers
        self.track, self.track_source = _track(fold.local, fold.fixes)
        self.depth = np.array(fold.depth, float).reshape(-1, 2)
        self.heading = np.array(fold.heading, float).reshape(-1, 2)
        self.events = sorted(fold.events, key=lambda e: e.t_utc_s)
        ends = [t for t, _ in fold.mode_changes[1:]] + [self.t_end_s]
        self.modes = [ModeSpan(t0, max(t0, t1), m) for (t0, m), t1 in zip(fold.mode_changes, ends)]
        s = fold.state
        firmware = s.firmware.version or "firmware unknown"
        self.summary_text = (f"{s.vehicle_type or 'vehicle'} system {fold.vehicle[0]} component {fold.vehicle[1]}, "
                             f"autopilot {s.autopilot or '?'}, {firmware}; {self.messages} messages, "
                             f"{self.t_end_s - self.t_start_s:.1f} s")

    @classmethod
    def from_tlog(cls, path, *, progress=None, cancel=None) -> "TelemetryTimeline":
        """progress(fraction, text) now and then; cancel: a threading.Event that stops loading
        (LoadCancelled). A missing, unreadable or non-tlog file, or a log without a vehicle,
        is a RecordError naming the file."""
        from vehicle.tlog import TlogError, TlogReadStats, iter_tlog

        path = Path(path)
        stats = TlogReadStats()
        fold = _Fold()
        hint = "choose a telemetry log (.tlog) written by HullWatch, QGroundControl or MAVProxy"
        try:
            size = max(1, path.stat().st_size)
            for n, record in enumerate(iter_tlog(str(path), stats=stats)):
                if not n % PROGRESS_RECORDS:
                    if cancel is not None and cancel.is_set():
                        raise LoadCancelled(f"loading {path} was cancelled")
                    if progress is not None:
                        progress(min(1.0, stats.bytes_total / size), f"reading {path.name}")
                fold.feed(record.t_unix_us * 1e-6, record.packet)
        except TlogError as exc:
            raise RecordError(f"{exc}; {hint}") from None
        except OSError as exc:
            raise RecordError(f"cannot read {path} ({exc.strerror or exc}); {hint}") from None
        if fold.vehicle is None:
            raise RecordError(f"{path} holds no heartbeat from a vehicle's autopilot ({stats.records} records): "
                              f"it is not a vehicle's telemetry; {hint}")
        if progress is not None:
            progress(1.0, f"read {path.name}")
        return cls(path, fold, stats.first_t_unix_us * 1e-6, stats.last_t_unix_us * 1e-6)

    def state_at(self, t_s: float):
        """vehicle.state.VehicleState after every vehicle message up to t_s (None before the first)."""
        i = bisect.bisect_right(self._kf_t, t_s) - 1
        state, n = self._kf_state[i], self._kf_n[i]
        stop = int(np.searchsorted(self._t, t_s, side="right"))
        if stop == 0:
            return None
        from vehicle.telemetry import apply_message

        for j in range(n, stop):
            state = apply_message(state, self._msgs[j], float(self._t[j]))
        return state

    def position_at(self, t_s: float) -> tuple[float, float, float] | None:
        """(north, east, down) m interpolated on the track; None before its first point."""
        tr = self.track
        if not len(tr) or t_s < tr[0, 0]:
            return None
        return tuple(float(np.interp(t_s, tr[:, 0], tr[:, k])) for k in (1, 2, 3))

    def mode_at(self, t_s: float) -> str:
        i = bisect.bisect_right([m.t0_s for m in self.modes], t_s) - 1
        return self.modes[i].mode if i >= 0 else ""


def _track(local: list, fixes: list) -> tuple[np.ndarray, str]:
    """LOCAL_POSITION_NED when the log has it; else the GPS fixes on a tangent plane about the first."""
    if local:
        return np.array(local, float), "LOCAL_POSITION_NED"
    if fixes:
        f = np.array(fixes, float)
        lat0, lon0 = np.radians(f[0, 1]), np.radians(f[0, 2])
        north = (np.radians(f[:, 1]) - lat0) * EARTH_RADIUS_M
        east = (np.radians(f[:, 2]) - lon0) * EARTH_RADIUS_M * math.cos(lat0)
        return np.column_stack([f[:, 0], north, east, f[:, 3]]), "GLOBAL_POSITION_INT"
    return np.zeros((0, 4)), ""
