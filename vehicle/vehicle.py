"""The vehicle facade: one object per connected ROV (MAVSDK's System, QGC's Vehicle).

Threads: the link's reader thread updates `state` and wakes waiters; a supervisor thread
sends the station heartbeat and watches link health; commands block their caller up to
their timeouts, so the GUI calls them through `submit()` and gets a Future.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import logging
import math
import threading
import time
from pathlib import Path
from typing import Callable

from . import ardusub
from .ardusub import SubMode
from .commands import CommandSender
from .connection import Connection
from .connection_string import LinkConfig, parse_connection_string
from .dialect import STATION_COMPONENT_ID, STATION_SYSTEM_ID, mavlink
from .errors import (CommandRejected, CommandTimeout, NotConnected,
                     VehicleError, VehicleNotFound)
from .events import (ArmedChanged, EventHub, FailsafeRaised, LinkLost, LinkProblem, LinkRestored,
                     ModeChanged, ReplayFinished, StatusTextReceived, TlogFailed, VehicleDiscovered)
from .links import Link, create_link
from .manual_control import ManualControl
from .mission import MissionTransfer
from .params import ParameterManager
from .protocol import LinkStats, MavlinkProtocol
from .state import VehicleState
from .sub_controls import SubControls
from .telemetry import apply_message
from .timeouts import Timeouts

log = logging.getLogger(__name__)

# Components that send heartbeats but are not the autopilot we fly.
_NOT_AUTOPILOT_TYPES = frozenset({
    mavlink.MAV_TYPE_GCS, mavlink.MAV_TYPE_ONBOARD_CONTROLLER, mavlink.MAV_TYPE_CAMERA,
    mavlink.MAV_TYPE_GIMBAL, mavlink.MAV_TYPE_ADSB, mavlink.MAV_TYPE_ANTENNA_TRACKER,
    getattr(mavlink, "MAV_TYPE_ODID", 34), getattr(mavlink, "MAV_TYPE_SERVO", 36),
})
_FAILSAFE_KINDS = ("leak", "gcs", "pilot_input", "battery", "ekf")
HEARTBEAT_PERIOD_S = 1.0
PRE_DISCOVERY_KEEP = 2000  # a few seconds of a busy link
SUPERVISOR_PERIOD_S = 0.1


def is_autopilot_heartbeat(msg) -> bool:
    return msg.autopilot != mavlink.MAV_AUTOPILOT_INVALID and msg.type not in _NOT_AUTOPILOT_TYPES


class Vehicle:
    def __init__(self, link: Link | LinkConfig | str, *, tlog_path: str | Path | None = None,
                 timeouts: Timeouts | None = None, system_id: int = STATION_SYSTEM_ID,
                 component_id: int = STATION_COMPONENT_ID, request_streams: bool = True):
        if isinstance(link, str):
            link = parse_connection_string(link)
        self.link = link if isinstance(link, Link) else create_link(link)
        self.timeouts = timeouts or Timeouts()
        self.request_streams = request_streams
        self.events = EventHub()
        from .router import MessageRouter

        self.router = MessageRouter()
        self._tlog_path = Path(tlog_path) if tlog_path else None
        self.tlog = None
        self.connection = Connection(self.link, MavlinkProtocol(system_id, component_id))
        self.connection.on_message = self._on_message
        self.connection.on_problem = self._on_link_problem
        self.connection.on_restored = lambda: self.events.emit(LinkProblem(f"{self.link.description} reopened"))
        self.connection.on_closed = self._on_link_closed
        self._state = VehicleState()
        self._state_lock = threading.Lock()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=3, thread_name_prefix="vehicle-cmd")
        self._streams_requested_s: float | None = None
        self._last_attitude_s: float | None = None
        self._link_lost_at_s: float | None = None
        # what arrived before the first autopilot heartbeat (boot banner, version): applied
        # to the state once we know which system is the vehicle
        self._before_discovery: collections.deque = collections.deque(maxlen=PRE_DISCOVERY_KEEP)
        self.commands = CommandSender(self)
        self.params = ParameterManager(self)
        self.mission = MissionTransfer(self)
        self.manual = ManualControl(self)
        self.controls = SubControls(self)
        self._opened = False
        self._tlog_failure_reported = False

    # -- life cycle -----------------------------------------------------------
    @classmethod
    def connect(cls, url: str, *, wait_s: float | None = None, **kwargs) -> "Vehicle":
        """Open a link and start; with wait_s, also wait for the vehicle's heartbeat."""
        vehicle = cls(url, **kwargs)
        vehicle.open()
        if wait_s is not None:
            try:
                vehicle.wait_discovered(wait_s)
            except BaseException:
                vehicle.close()
                raise
        return vehicle

    def open(self) -> None:
        if self._tlog_path is not None:
            from .tlog import TlogWriter

            self.tlog = TlogWriter(self._tlog_path)
            self.connection.tlog = self.tlog
        try:
            self.connection.open()
        except BaseException:
            if self.tlog is not None:
                self.tlog.close()
            raise
        self._opened = True
        self._supervisor = threading.Thread(target=self._supervise, name="vehicle supervisor", daemon=True)
        self._supervisor.start()

    def start_tlog(self, path: str | Path):
        """Log every packet both ways to `path` from now on (a mission record's telemetry.tlog),
        replacing any tlog being written; returns the TlogWriter."""
        from .tlog import TlogWriter

        writer = TlogWriter(path)
        old, self.tlog = self.tlog, writer
        self.connection.tlog = writer
        self._tlog_failure_reported = False
        if old is not None:
            old.close()
        return writer

    def stop_tlog(self) -> None:
        """Stop logging packets and close the tlog (a record is closing)."""
        old, self.tlog = self.tlog, None
        self.connection.tlog = None
        if old is not None:
            old.close()

    def close(self) -> None:
        """Stop every thread (each join bounded) and close the link and the tlog."""
        self._stop.set()
        self.manual.stop()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(2.0)
        self.connection.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.tlog is not None:
            self.tlog.close()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> "Vehicle":
        if not self._opened:
            self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def wait_closed(self, timeout_s: float) -> bool:
        """Sleep up to timeout_s, returning early (True) if the vehicle is closed meanwhile."""
        return self._stop.wait(timeout_s)

    # -- state ----------------------------------------------------------------
    @property
    def state(self) -> VehicleState:
        return self._state

    def now_s(self) -> float:
        return self.connection.now_s()

    def link_stats(self) -> LinkStats:
        return self.connection.stats()

    def link_loss_pct(self) -> float:
        """Packet loss on the autopilot's own sequence numbers (all sources before discovery)."""
        stats = self.connection.stats()
        s = self._state
        return stats.source_loss_pct(s.system_id, s.component_id) if s.discovered else stats.loss_pct

    def target(self) -> tuple[int, int]:
        s = self._state
        if not s.discovered:
            raise NotConnected("no vehicle discovered yet: wait for its heartbeat first")
        return s.system_id, s.component_id

    def wait_for(self, predicate: Callable[[VehicleState], bool], timeout_s: float, what: str) -> VehicleState:
        """Block until predicate(state) holds; raises VehicleError naming `what` on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                state = self._state
                if predicate(state):
                    return state
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    raise CommandTimeout(what, 1, timeout_s)
                self._cond.wait(min(left, 0.2))

    def wait_discovered(self, timeout_s: float | None = None) -> VehicleState:
        timeout_s = self.timeouts.discovery_s if timeout_s is None else timeout_s
        try:
            return self.wait_for(lambda s: s.discovered, timeout_s, "discovery")
        except CommandTimeout:
            stats = self.link_stats()
            heard = "nothing at all" if stats.received == 0 else \
                f"{stats.received} packets, but no heartbeat from an autopilot"
            raise VehicleNotFound(
                f"no vehicle on {self.link.description} within {timeout_s:.0f} s (heard {heard}). "
                f"Check that the vehicle is powered, the tether/network is up and the connection "
                f"string is right") from None

    def submit(self, fn: Callable, *args, **kwargs) -> concurrent.futures.Future:
        """Run a blocking call (command, transfer) on the vehicle's worker threads."""
        return self._executor.submit(fn, *args, **kwargs)

    # -- incoming -------------------------------------------------------------
    def _on_message(self, msg, t_s: float) -> None:
        state = self._state
        hdr = msg._header
        if not state.discovered:
            if msg._type != "HEARTBEAT" or not is_autopilot_heartbeat(msg):
                self._before_discovery.append((msg, t_s))
                return
            state = VehicleState(discovered=True, system_id=hdr.srcSystem, component_id=hdr.srcComponent)
            early_state = apply_message(state, msg, t_s)  # vehicle type first: firmware naming needs it
            for early, t_early in self._before_discovery:
                if early._header.srcSystem == state.system_id and early._type != "HEARTBEAT":
                    early_state = apply_message(early_state, early, t_early)
            self._before_discovery.clear()
            self._last_attitude_s = None
            new = apply_message(early_state, msg, t_s)
            with self._state_lock:
                self._state = new
            self._publish(state, new)
            self.events.emit(VehicleDiscovered(new.system_id, new.component_id, new.vehicle_type, new.autopilot))
            if self.request_streams and not self.link.is_replay:
                self.submit(self._request_streams)
            return
        if hdr.srcSystem != state.system_id:
            return
        if msg._type == "HEARTBEAT" and hdr.srcComponent != state.component_id:
            return  # camera, companion computer: not the autopilot's state
        if msg._type == "PARAM_VALUE":
            self.params.handle_param_value(msg)
        elif msg._type == "ATTITUDE":
            self._last_attitude_s = t_s
        with self._state_lock:  # the supervisor also replaces the snapshot (link_ok)
            state = self._state
            new = apply_message(state, msg, t_s)
            self._state = new
        if new is not state:
            self._publish(state, new)
        self.router.dispatch(msg)

    def _publish(self, old: VehicleState, new: VehicleState) -> None:
        with self._cond:
            self._cond.notify_all()
        if new.last_heartbeat_s != old.last_heartbeat_s and self._link_lost_at_s is not None:
            lost_for = max(0.0, self.now_s() - self._link_lost_at_s)
            self._link_lost_at_s = None
            self.events.emit(LinkRestored(lost_for))
            if self.request_streams and not self.link.is_replay:
                self.submit(self._request_streams)  # a rebooted vehicle streams nothing again
        if new.armed != old.armed:
            self.events.emit(ArmedChanged(new.armed))
        if new.custom_mode != old.custom_mode:
            self.events.emit(ModeChanged(new.mode, new.custom_mode))
        if new.status_texts is not old.status_texts and new.status_texts:
            self.events.emit(StatusTextReceived(new.status_texts[-1]))
        if new.failsafes != old.failsafes:
            for kind in _FAILSAFE_KINDS:
                if getattr(new.failsafes, kind) and not getattr(old.failsafes, kind):
                    self.events.emit(FailsafeRaised(kind, new.failsafes.last_text))

    def _on_link_problem(self, text: str) -> None:
        self.events.emit(LinkProblem(text))

    def _on_link_closed(self, text: str) -> None:
        if self.link.is_replay:
            self.events.emit(ReplayFinished(str(getattr(self.link, "path", ""))))
        else:
            self.events.emit(LinkProblem(text))
        with self._cond:
            self._cond.notify_all()

    # -- supervisor -----------------------------------------------------------
    def _supervise(self) -> None:
        next_heartbeat = time.monotonic()
        while not self._stop.wait(SUPERVISOR_PERIOD_S):
            now_mono = time.monotonic()
            if now_mono >= next_heartbeat and not self.link.is_replay:
                next_heartbeat = now_mono + HEARTBEAT_PERIOD_S
                try:
                    self.connection.send(mavlink.MAVLink_heartbeat_message(
                        mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, mavlink.MAV_STATE_ACTIVE, 3))
                except Exception:  # noqa: BLE001 - keep supervising whatever the link does
                    log.exception("heartbeat send failed")
            self._check_health()
            self._check_tlog()

    def _check_health(self) -> None:
        state = self._state
        if not state.discovered or state.last_heartbeat_s is None:
            return
        now = self.now_s()
        age = now - state.last_heartbeat_s
        if state.link_ok and age > self.timeouts.heartbeat_lost_s and self._link_lost_at_s is None:
            with self._state_lock:
                state = self._state
                if not state.link_ok or now - state.last_heartbeat_s <= self.timeouts.heartbeat_lost_s:
                    return  # a heartbeat arrived meanwhile
                self._link_lost_at_s = state.last_heartbeat_s
                self._state = dataclasses.replace(state, link_ok=False)
            with self._cond:
                self._cond.notify_all()
            self.events.emit(LinkLost(f"no heartbeat from the vehicle for {age:.1f} s"))
        if (self.request_streams and not self.link.is_replay and state.link_ok
                and self._streams_requested_s is not None
                and now - self._streams_requested_s > self.timeouts.stream_check_s
                and (self._last_attitude_s is None or now - self._last_attitude_s > self.timeouts.stream_check_s)):
            self._streams_requested_s = now
            self.submit(self._request_streams)

    def _check_tlog(self) -> None:
        tlog = self.tlog
        if tlog is not None and tlog.error and not self._tlog_failure_reported:
            self._tlog_failure_reported = True
            self.events.emit(TlogFailed(tlog.error))

    def _request_streams(self) -> None:
        """ArduSub streams nothing until asked: SET_MESSAGE_INTERVAL, else REQUEST_DATA_STREAM."""
        self._streams_requested_s = self.now_s()
        try:
            sysid, compid = self.target()
            stream_id, rate = ardusub.NAMED_VALUE_STREAM
            self.connection.send(mavlink.MAVLink_request_data_stream_message(sysid, compid, stream_id, rate, 1))
            legacy = False
            for msg_id, rate_hz in ardusub.TELEMETRY_RATES_HZ.items():
                try:
                    self.set_message_interval(msg_id, rate_hz, retries=1)
                except CommandRejected as exc:
                    if exc.result == mavlink.MAV_RESULT_UNSUPPORTED:
                        legacy = True
                        break
                except CommandTimeout:
                    legacy = True
                    break
            if legacy:
                for stream_id, rate in ardusub.LEGACY_STREAM_RATES_HZ.items():
                    self.connection.send(mavlink.MAVLink_request_data_stream_message(sysid, compid, stream_id, rate, 1))
            if not self._state.firmware.version or not self._state.firmware.flight_sw_version:
                try:
                    self.request_message(mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION, retries=1)
                except VehicleError:
                    self.connection.send(mavlink.MAVLink_command_long_message(
                        sysid, compid, mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES, 0, 1, 0, 0, 0, 0, 0, 0))
            self._streams_requested_s = self.now_s()
        except VehicleError as exc:
            log.info("telemetry request incomplete: %s", exc)

    # -- commands -------------------------------------------------------------
    def set_message_interval(self, msg_id: int, rate_hz: float, retries: int | None = None) -> None:
        interval_us = -1 if rate_hz <= 0 else int(1e6 / rate_hz)
        self.commands.command_long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, (msg_id, interval_us),
                                   name=f"set message interval of {mavlink.mavlink_map[msg_id].msgname}",
                                   retries=retries)

    def request_message(self, msg_id: int, *params: float, retries: int | None = None):
        """MAV_CMD_REQUEST_MESSAGE; returns the message the vehicle sent in answer."""
        name = mavlink.mavlink_map[msg_id].msgname
        with self.router.waiter([name]) as q:
            self.commands.command_long(mavlink.MAV_CMD_REQUEST_MESSAGE, (msg_id, *params),
                                       name=f"request {name}", retries=retries)
            msg = q.get(self.timeouts.command_ack_s)
        if msg is None:
            raise CommandTimeout(f"request {name}", 1, self.timeouts.command_ack_s)
        return msg

    def arm(self, force: bool = False) -> None:
        self.commands.command_long(mavlink.MAV_CMD_COMPONENT_ARM_DISARM,
                                   (1, ardusub.FORCE_ARM_MAGIC if force else 0), name="arm")
        self.wait_for(lambda s: s.armed, self.timeouts.state_confirm_s, "arm (heartbeat confirming armed)")

    def disarm(self, force: bool = False) -> None:
        self.commands.command_long(mavlink.MAV_CMD_COMPONENT_ARM_DISARM,
                                   (0, ardusub.FORCE_ARM_MAGIC if force else 0), name="disarm")
        self.wait_for(lambda s: not s.armed, self.timeouts.state_confirm_s, "disarm (heartbeat confirming)")

    def set_mode(self, mode: str | int | SubMode) -> SubMode:
        try:
            target = mode if isinstance(mode, SubMode) else \
                SubMode(mode) if isinstance(mode, int) else ardusub.parse_mode(mode)
        except ValueError as exc:
            raise VehicleError(str(exc)) from None
        self.commands.command_long(mavlink.MAV_CMD_DO_SET_MODE,
                                   (mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, int(target)),
                                   name=f"set mode {target.name}")
        self.wait_for(lambda s: s.custom_mode == int(target), self.timeouts.state_confirm_s,
                      f"mode {target.name} (heartbeat confirming)")
        return target

    def set_ekf_origin(self, lat_deg: float, lon_deg: float, alt_m: float = 0.0) -> None:
        """Where the EKF's local frame starts (needed by AUTO/GUIDED without GPS)."""
        sysid, _ = self.target()
        lat, lon = int(round(lat_deg * 1e7)), int(round(lon_deg * 1e7))
        for _ in range(1 + self.timeouts.command_retries):
            self.connection.send(mavlink.MAVLink_set_gps_global_origin_message(
                sysid, lat, lon, int(round(alt_m * 1000)), int(time.time() * 1e6)))
            try:
                self.wait_for(lambda s: s.ekf_origin is not None and abs(s.ekf_origin.lat_deg * 1e7 - lat) <= 1
                              and abs(s.ekf_origin.lon_deg * 1e7 - lon) <= 1, self.timeouts.command_ack_s,
                              "EKF origin")
                return
            except CommandTimeout:
                try:
                    self.request_message(mavlink.MAVLINK_MSG_ID_GPS_GLOBAL_ORIGIN, retries=0)
                except VehicleError:
                    pass
        raise CommandTimeout("set EKF origin", 1 + self.timeouts.command_retries, self.timeouts.command_ack_s)

    def _require_guided(self) -> int:
        if self._state.custom_mode != SubMode.GUIDED:
            raise CommandRejected(mavlink.MAV_RESULT_DENIED, "guided target", "DENIED",
                                  f"the vehicle is in {self._state.mode or 'an unknown mode'}; switch to GUIDED first")
        return self.target()[0]

    def goto_local_ned(self, north_m: float, east_m: float, down_m: float, yaw_deg: float | None = None) -> None:
        """Guided position target in the EKF's local NED frame (no ACK exists for it)."""
        sysid = self._require_guided()
        mask = (mavlink.POSITION_TARGET_TYPEMASK_VX_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_VY_IGNORE
                | mavlink.POSITION_TARGET_TYPEMASK_VZ_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_AX_IGNORE
                | mavlink.POSITION_TARGET_TYPEMASK_AY_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_AZ_IGNORE
                | mavlink.POSITION_TARGET_TYPEMASK_YAW_RATE_IGNORE)
        if yaw_deg is None:
            mask |= mavlink.POSITION_TARGET_TYPEMASK_YAW_IGNORE

        self.connection.send(mavlink.MAVLink_set_position_target_local_ned_message(
            0, sysid, self.target()[1], mavlink.MAV_FRAME_LOCAL_NED, mask, north_m, east_m, down_m,
            0, 0, 0, 0, 0, 0, math.radians(yaw_deg or 0.0), 0))

    def set_depth_target(self, depth_m: float) -> None:
        """Guided depth only; horizontal position is left alone."""
        sysid = self._require_guided()
        mask = (mavlink.POSITION_TARGET_TYPEMASK_X_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_Y_IGNORE
                | mavlink.POSITION_TARGET_TYPEMASK_VX_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_VY_IGNORE
                | mavlink.POSITION_TARGET_TYPEMASK_VZ_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_AX_IGNORE
                | mavlink.POSITION_TARGET_TYPEMASK_AY_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_AZ_IGNORE
                | mavlink.POSITION_TARGET_TYPEMASK_YAW_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_YAW_RATE_IGNORE)
        self.connection.send(mavlink.MAVLink_set_position_target_local_ned_message(
            0, sysid, self.target()[1], mavlink.MAV_FRAME_LOCAL_NED, mask, 0, 0, float(depth_m),
            0, 0, 0, 0, 0, 0, 0, 0))

    def mission_start(self, first_item: int = 0, last_item: int = 0) -> None:
        self.commands.command_long(mavlink.MAV_CMD_MISSION_START, (first_item, last_item), name="mission start")
