"""SimVehicle: an in-process ArduSub 4.1 look-alike behind real MAVLink endpoints.

Threads: one I/O thread per transport (sim.transports) and one scheduler thread that
runs control, physics, failsafes and telemetry at SCHEDULER_RATE_HZ. Every state
change happens under ``self._lock``.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.dynamics import Battery, DvlEstimate, RigidBody, wrap_pi
from sim.failsafes import Failsafes
from sim.faults import FaultInjector
from sim.joystick import Accessories, ButtonHandler
from sim.mission_server import MissionItem, MissionRunner, MissionServer, latlon_to_ne_m
from sim.modes import REQUIRES_POSITION, Autopilot, Limits, Mode, NavTarget, PilotInput
from sim.param_server import ParamServer, ParamStore
from sim.telemetry_messages import FIRMWARE_GIT_HASH, FIRMWARE_VERSION, TelemetryMessages
from sim.telemetry_streams import StreamScheduler
from sim.transports import Peer, TcpServerTransport, UdpTransport

M = mavlink
LOG = logging.getLogger(__name__)
SCHEDULER_RATE_HZ = 50.0
PHYSICS_SUBSTEPS = 2
HEARTBEAT_PERIOD_S = 1.0
THREAD_JOIN_TIMEOUT_S = 2.0
ARM_FORCE_MAGIC = 21196
GUIDED_VELOCITY_TIMEOUT_S = 3.0
MOTOR_DETECT_DURATION_S = 4.0
MAX_GREETED_PEERS = 64
FRAME_NAMES = {0: "BLUEROV1", 1: "VECTORED", 2: "VECTORED_6DOF", 3: "VECTORED_6DOF_90",
               4: "SIMPLEROV_3", 5: "SIMPLEROV_4", 6: "SIMPLEROV_5", 7: "CUSTOM"}

RangeFunction = Callable[[np.ndarray, float], "float | None"]


@dataclass(frozen=True)
class SimConfig:
    udp_target: tuple[str, int] | None = None
    udp_bind: tuple[str, int] = ("127.0.0.1", 0)
    tcp_port: int | None = None
    tcp_host: str = "127.0.0.1"
    system_id: int = 1
    component_id: int = 1
    position_estimate: bool = True
    seed: int = 0
    params_overrides: dict[str, float] = field(default_factory=dict)
    start_depth_m: float = 0.0
    origin_lat_deg: float | None = None
    origin_lon_deg: float | None = None
    origin_alt_m: float = 0.0
    seabed_depth_m: float = 30.0
    water_temperature_c: float = 15.0
    udp_enabled: bool = True   # False: TCP only (the UDP socket is otherwise always bound)


@dataclass(frozen=True)
class SimTruth:
    """Immutable ground truth for tests and the renderers."""

    t_s: float
    armed: bool
    mode: str
    custom_mode: int
    position_ned_m: np.ndarray
    estimated_position_ned_m: np.ndarray
    velocity_ned_m_s: np.ndarray
    attitude_rpy_rad: tuple[float, float, float]
    heading_rad: float
    depth_m: float
    battery_voltage_v: float
    battery_current_a: float
    battery_remaining_pct: float
    failsafes: tuple[str, ...]
    leak: bool
    lights1: float
    lights2: float
    cam_tilt: float
    cam_pan: float
    pilot_gain: float
    mission_items: tuple[MissionItem, ...]
    mission_current_seq: int
    thrust_command: tuple[float, float, float, float]
    origin_lat_lon_alt: tuple[float, float, float] | None


def _frozen(array: np.ndarray) -> np.ndarray:
    out = np.array(array, dtype=float)
    out.setflags(write=False)
    return out


class SimVehicle:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        cfg = self.config
        overrides = {"SYSID_THISMAV": cfg.system_id, **cfg.params_overrides}
        self.params = ParamStore(overrides)
        self.faults = FaultInjector(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._transports: list = []
        self._udp: UdpTransport | None = None
        self._tcp: TcpServerTransport | None = None
        self._encoder = M.MAVLink(None, srcSystem=int(self.params.get("SYSID_THISMAV")),
                                  srcComponent=cfg.component_id)
        self._builder = M.MAVLink(None)
        self.body = RigidBody(cfg.seabed_depth_m, cfg.start_depth_m, self.rng)
        self.battery = Battery(self.params.get("BATT_CAPACITY"))
        self.dvl = DvlEstimate(self.rng)
        self.autopilot = Autopilot()
        self.acc = Accessories(gain=self.params.get("JS_GAIN_DEFAULT"))
        self.buttons = ButtonHandler()
        self.failsafes = Failsafes()
        self.messages = TelemetryMessages(self)
        self.streams = StreamScheduler(frozenset(self.messages.by_id()))
        self.param_server = ParamServer(self.params, self._send, self._on_param_changed)
        self.mission = MissionServer(self._send, self.send_text, self._on_mission_committed)
        self.runner = MissionRunner(self.mission, self._send, self.send_text)
        self.armed = False
        self.mode = Mode.MANUAL
        self.pilot = PilotInput()
        self.guided = NavTarget()
        self._guided_velocity_until_s = 0.0
        self._circle_center_ne: np.ndarray | None = None
        self._circle_angle_rad = 0.0
        self._motor_detect_started_s = 0.0
        self._range_fn: RangeFunction = self._seabed_range
        self.last_range_m: float | None = None
        self.origin: tuple[float, float, float] | None = None
        if cfg.origin_lat_deg is not None and cfg.origin_lon_deg is not None:
            self.origin = (cfg.origin_lat_deg, cfg.origin_lon_deg, cfg.origin_alt_m)
            self.mission.items[0] = MissionServer.home_item(
                int(round(cfg.origin_lat_deg * 1e7)), int(round(cfg.origin_lon_deg * 1e7)))
        self._t0 = time.monotonic()
        self.now_s = 0.0
        self._last_step_s = 0.0
        self._next_heartbeat_s = 0.0
        self._greeted: set[Peer] = set()
        self.yaw_prev_rad = 0.0
        self.yaw_total_rad = 0.0
        self.handler_errors = 0
        self.ignored_messages = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Bind the sockets and start the threads; returns once the ports are open."""
        cfg = self.config
        if self._thread is not None:
            return
        try:
            if cfg.udp_enabled:
                self._udp = UdpTransport(tuple(cfg.udp_bind), cfg.udp_target, self.faults, self._on_message)
                self._transports.append(self._udp)
            if cfg.tcp_port is not None:
                self._tcp = TcpServerTransport(cfg.tcp_host, cfg.tcp_port, self.faults, self._on_message)
                self._transports.append(self._tcp)
        except OSError:
            for transport in self._transports:
                transport.stop(0.1)
            self._transports.clear()
            raise
        self._t0 = time.monotonic()
        for transport in self._transports:
            transport.start()
        self._thread = threading.Thread(target=self._run, name="sim-vehicle", daemon=True)
        self._thread.start()
        with self._lock:
            self._send_banner(None)

    def stop(self) -> None:
        """Idempotent; joins every thread with a timeout and closes the sockets."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(THREAD_JOIN_TIMEOUT_S)
        for transport in self._transports:
            transport.stop(THREAD_JOIN_TIMEOUT_S)
        self._transports = []

    def __enter__(self) -> "SimVehicle":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def tcp_port(self) -> int | None:
        return self._tcp.port if self._tcp is not None else None

    @property
    def udp_address(self) -> tuple[str, int] | None:
        return self._udp.address if self._udp is not None else None

    # ------------------------------------------------------------------ public helpers
    def truth(self) -> SimTruth:
        with self._lock:
            st = self.body.state
            return SimTruth(
                t_s=self.now_s, armed=self.armed, mode=self.mode.name, custom_mode=int(self.mode),
                position_ned_m=_frozen(st.position_ned_m),
                estimated_position_ned_m=_frozen(self.estimate()),
                velocity_ned_m_s=_frozen(st.velocity_ned_m_s),
                attitude_rpy_rad=(float(st.roll_rad), float(st.pitch_rad), float(st.yaw_rad)),
                heading_rad=float(st.yaw_rad), depth_m=float(st.depth_m), battery_voltage_v=self.battery.voltage_v,
                battery_current_a=self.battery.current_a,
                battery_remaining_pct=100.0 * self.battery.remaining_fraction,
                failsafes=self.failsafes.active(), leak=self.failsafes.leak_detected,
                lights1=self.acc.lights1, lights2=self.acc.lights2, cam_tilt=self.acc.cam_tilt,
                cam_pan=self.acc.cam_pan, pilot_gain=self.acc.gain,
                mission_items=tuple(self.mission.items), mission_current_seq=self.mission.current_seq,
                thrust_command=tuple(float(c) for c in self.body.last_command),
                origin_lat_lon_alt=self.origin,
            )

    def inject_leak(self, detected: bool = True) -> None:
        with self._lock:
            self.failsafes.leak_detected = detected

    def set_battery_remaining(self, fraction: float) -> None:
        with self._lock:
            self.battery.set_remaining_fraction(fraction)

    def set_range_function(self, fn: RangeFunction | None) -> None:
        with self._lock:
            self._range_fn = fn or self._seabed_range

    def stats(self) -> dict[str, object]:
        out: dict[str, object] = {"handler_errors": self.handler_errors,
                                  "ignored_messages": self.ignored_messages,
                                  "faults_dropped": self.faults.dropped_count,
                                  "faults_corrupted": self.faults.corrupted_count,
                                  "faults_duplicated": self.faults.duplicated_count}
        for transport in list(self._transports):
            out[transport._name] = transport.stats.as_dict()
        out["rx_bad"] = sum(t.stats.rx_bad for t in self._transports)
        out["rx_messages"] = sum(t.stats.rx_messages for t in self._transports)
        return out

    def param(self, name: str) -> float:
        return self.params.get(name)

    # ------------------------------------------------------------------ sending
    def time_boot_ms(self) -> int:
        return int(self.now_s * 1000) & 0xFFFFFFFF

    def _send(self, msg: object, peer: Peer | None = None) -> None:
        with self._lock:
            packet = msg.pack(self._encoder)
            # pack() stamps the sequence number but does not advance it (MAVLink.send does);
            # a real autopilot's sequence lets the station measure link loss
            self._encoder.seq = (self._encoder.seq + 1) % 256
        if peer is not None:
            peer.send(packet)
            return
        for transport in self._transports:
            transport.broadcast(packet)

    def send_text(self, severity: int, text: str, peer: Peer | None = None) -> None:
        self._send(self._builder.statustext_encode(severity, text[:50].encode()), peer)

    def _send_banner(self, peer: Peer | None) -> None:
        major, minor, patch = FIRMWARE_VERSION
        frame = FRAME_NAMES.get(int(self.params.get("FRAME_CONFIG")), "UNKNOWN")
        self.send_text(M.MAV_SEVERITY_INFO, f"ArduSub V{major}.{minor}.{patch} ({FIRMWARE_GIT_HASH})", peer)
        self.send_text(M.MAV_SEVERITY_INFO, "HullWatch SITL (simulated hardware)", peer)
        self.send_text(M.MAV_SEVERITY_INFO, f"Frame: {frame}", peer)

    # ------------------------------------------------------------------ receiving
    def _on_message(self, msg: object, peer: Peer) -> None:
        with self._lock:
            try:
                self._dispatch(msg, peer)
            except Exception:  # noqa: BLE001 - one bad message must not take the vehicle down
                self.handler_errors += 1
                LOG.exception("sim: error handling %s", msg.get_type())

    def _dispatch(self, msg: object, peer: Peer) -> None:
        now = self._clock()
        sysid = int(self.params.get("SYSID_THISMAV"))
        if peer not in self._greeted:
            if len(self._greeted) > MAX_GREETED_PEERS:
                self._greeted.clear()   # a port scan must not grow this without bound
            self._greeted.add(peer)
            self._send_banner(peer)
        kind = msg.get_type()
        if kind == "HEARTBEAT":
            if msg.get_srcSystem() == int(self.params.get("SYSID_MYGCS")) or msg.type == M.MAV_TYPE_GCS:
                self.failsafes.last_gcs_seen_s = now
            return
        if self.param_server.handle(msg, peer, sysid, self.config.component_id):
            return
        if self.mission.handle(msg, peer, sysid, now):
            return
        handler = {
            "COMMAND_LONG": self._on_command_long,
            "COMMAND_INT": self._on_command_int,
            "SET_MODE": self._on_set_mode,
            "MANUAL_CONTROL": self._on_manual_control,
            "REQUEST_DATA_STREAM": self._on_request_data_stream,
            "SET_POSITION_TARGET_LOCAL_NED": self._on_position_target_local,
            "SET_POSITION_TARGET_GLOBAL_INT": self._on_position_target_global,
            "SET_GPS_GLOBAL_ORIGIN": self._on_set_origin,
            "TIMESYNC": self._on_timesync,
        }.get(kind)
        if handler is None:
            self.ignored_messages += 1
            return
        target = getattr(msg, "target_system", getattr(msg, "target", 0))
        if target not in (0, sysid):
            return
        handler(msg, peer, now)

    def _clock(self) -> float:
        self.now_s = time.monotonic() - self._t0
        return self.now_s

    # ------------------------------------------------------------------ commands
    def _ack(self, msg: object, peer: Peer, command: int, result: int) -> None:
        self._send(self._builder.command_ack_encode(
            command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()), peer)

    def _on_command_long(self, msg: object, peer: Peer, now: float) -> None:
        params = (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6, msg.param7)
        if msg.target_component not in (0, self.config.component_id):
            return
        self._ack(msg, peer, msg.command, self._command(msg.command, params, peer, now))

    def _on_command_int(self, msg: object, peer: Peer, now: float) -> None:
        params = (msg.param1, msg.param2, msg.param3, msg.param4, msg.x, msg.y, msg.z)
        if msg.target_component not in (0, self.config.component_id):
            return
        self._ack(msg, peer, msg.command, self._command(msg.command, params, peer, now))

    def _command(self, command: int, p: tuple[float, ...], peer: Peer, now: float) -> int:
        if command == M.MAV_CMD_COMPONENT_ARM_DISARM:
            if p[0] == 1.0:
                return self._arm(force=int(p[1]) == ARM_FORCE_MAGIC, now=now)
            if p[0] == 0.0:
                self._disarm()
                return M.MAV_RESULT_ACCEPTED
            return M.MAV_RESULT_DENIED
        if command == M.MAV_CMD_DO_SET_MODE:
            if not int(p[0]) & M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED:
                return M.MAV_RESULT_FAILED
            return M.MAV_RESULT_ACCEPTED if self._set_mode(int(p[1]), now) else M.MAV_RESULT_FAILED
        if command == M.MAV_CMD_SET_MESSAGE_INTERVAL:
            if int(p[0]) == M.MAVLINK_MSG_ID_NAMED_VALUE_FLOAT:
                # ArduPilot has no ap_message for it: named floats only ride in EXTENDED_STATUS
                self.send_text(M.MAV_SEVERITY_INFO, f"No ap_message for mavlink id ({int(p[0])})", peer)
                return M.MAV_RESULT_DENIED
            ok = self.streams.set_message_interval(int(p[0]), p[1])
            return M.MAV_RESULT_ACCEPTED if ok else M.MAV_RESULT_FAILED
        if command == M.MAV_CMD_GET_MESSAGE_INTERVAL:
            msg_id = int(p[0])
            self._send(self._builder.message_interval_encode(
                msg_id, self.streams.interval_us_reported(msg_id)), peer)
            return M.MAV_RESULT_ACCEPTED
        if command == M.MAV_CMD_REQUEST_MESSAGE:
            return self._request_message(int(p[0]), peer)
        if command == M.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES:
            self._send(self.messages.autopilot_version(), peer)
            return M.MAV_RESULT_ACCEPTED
        if command == M.MAV_CMD_REQUEST_PROTOCOL_VERSION:
            self._send(self._builder.protocol_version_encode(200, 100, 200, bytes(8), bytes(8)), peer)
            return M.MAV_RESULT_ACCEPTED
        if command == M.MAV_CMD_MISSION_START:
            if not self.armed:
                return M.MAV_RESULT_FAILED
            if int(p[0]) > 0 and int(p[0]) < len(self.mission.items):
                self.mission.current_seq = int(p[0])
            return M.MAV_RESULT_ACCEPTED if self._set_mode(Mode.AUTO, now) else M.MAV_RESULT_FAILED
        if command == M.MAV_CMD_DO_CHANGE_SPEED:
            if p[1] <= 0:
                return M.MAV_RESULT_FAILED
            self.runner.speed_m_s = p[1]
            self.guided.speed_m_s = p[1]
            return M.MAV_RESULT_ACCEPTED
        if command == M.MAV_CMD_DO_MOUNT_CONTROL:
            tilt_deg = max(-45.0, min(45.0, p[0]))
            self.acc.cam_tilt = 0.5 + tilt_deg / 90.0
            return M.MAV_RESULT_ACCEPTED
        if command == M.MAV_CMD_DO_SET_HOME:
            return M.MAV_RESULT_ACCEPTED
        if command == M.MAV_CMD_PREFLIGHT_CALIBRATION:
            return M.MAV_RESULT_TEMPORARILY_REJECTED if self.armed else M.MAV_RESULT_ACCEPTED
        if command == M.MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN:
            # real firmware reboots; the sim only refuses while armed, like ArduPilot
            return M.MAV_RESULT_FAILED if self.armed else M.MAV_RESULT_ACCEPTED
        return M.MAV_RESULT_UNSUPPORTED

    def _request_message(self, msg_id: int, peer: Peer) -> int:
        if msg_id == M.MAVLINK_MSG_ID_AUTOPILOT_VERSION:
            self._send(self.messages.autopilot_version(), peer)
            return M.MAV_RESULT_ACCEPTED
        if msg_id == M.MAVLINK_MSG_ID_HEARTBEAT:
            self._send(self.messages.heartbeat(), peer)
            return M.MAV_RESULT_ACCEPTED
        if msg_id in (M.MAVLINK_MSG_ID_GPS_GLOBAL_ORIGIN, M.MAVLINK_MSG_ID_HOME_POSITION):
            if self.origin is None:
                return M.MAV_RESULT_FAILED
            self._send(self.messages.origin_message() if msg_id == M.MAVLINK_MSG_ID_GPS_GLOBAL_ORIGIN
                       else self.messages.home_position(), peer)
            return M.MAV_RESULT_ACCEPTED
        if msg_id == M.MAVLINK_MSG_ID_NAMED_VALUE_FLOAT:
            for m in self.messages.named_floats():
                self._send(m, peer)
            return M.MAV_RESULT_ACCEPTED
        builder = self.messages.by_id().get(msg_id)
        if builder is None:
            return M.MAV_RESULT_FAILED
        msg = builder()
        if msg is None:
            return M.MAV_RESULT_FAILED
        self._send(msg, peer)
        return M.MAV_RESULT_ACCEPTED

    def _arm(self, force: bool, now: float) -> int:
        if self.armed:
            return M.MAV_RESULT_ACCEPTED
        if not force and int(self.params.get("ARMING_CHECK")) != 0:
            reason = self._prearm_failure()
            if reason is not None:
                self.send_text(M.MAV_SEVERITY_CRITICAL, f"PreArm: {reason}")
                return M.MAV_RESULT_FAILED
        self.armed = True
        self.autopilot.reset(self.body.state, self.estimate())
        self.failsafes.on_armed(now)
        if self.mode == Mode.GUIDED:
            self._hold_guided_here()
        return M.MAV_RESULT_ACCEPTED

    def _prearm_failure(self) -> str | None:
        if self.failsafes.leak_detected:
            return "Leak Detected"
        arm_volt = self.params.get("BATT_ARM_VOLT")
        if arm_volt > 0 and self.battery.voltage_v < arm_volt:
            return "Battery 1 below minimum arming voltage"
        if self.failsafes.battery:
            return "Battery 1 low voltage failsafe"
        if self.battery.remaining_fraction <= 0.05:
            return "Battery 1 capacity too low"
        return None

    def _disarm(self) -> None:
        self.armed = False
        self.pilot = PilotInput()

    def _set_mode(self, custom_mode: int, now: float) -> bool:
        try:
            mode = Mode(custom_mode)
        except ValueError:
            return False
        if mode in REQUIRES_POSITION and not self.config.position_estimate:
            self.send_text(M.MAV_SEVERITY_WARNING, f"Mode change failed: {mode.name} requires position")
            return False
        if mode == Mode.AUTO and len(self.mission.items) < 2:
            self.send_text(M.MAV_SEVERITY_WARNING, "Mode change failed: AUTO requires a mission")
            return False
        if mode == self.mode:
            return True
        self.mode = mode
        est = self.estimate()
        self.autopilot.reset(self.body.state, est)
        if mode == Mode.GUIDED:
            self._hold_guided_here()
        elif mode == Mode.AUTO:
            self.runner.start(now)
        elif mode == Mode.CIRCLE:
            radius = self.params.get("CIRCLE_RADIUS") / 100.0
            yaw = self.body.state.yaw_rad
            self._circle_center_ne = est[:2] + radius * np.array([math.cos(yaw), math.sin(yaw)])
            self._circle_angle_rad = wrap_pi(yaw + math.pi)
        elif mode == Mode.SURFTRAK:
            self.autopilot.range_target_m = self.last_range_m
        elif mode == Mode.MOTOR_DETECT:
            self._motor_detect_started_s = now
        return True

    def _hold_guided_here(self) -> None:
        est = self.estimate()
        self.guided = NavTarget(np.array(est[:2]), self.body.state.depth_m,
                                speed_m_s=self.params.get("WPNAV_SPEED") / 100.0)

    def _on_set_mode(self, msg: object, peer: Peer, now: float) -> None:
        ok = bool(msg.base_mode & M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) and self._set_mode(msg.custom_mode, now)
        # ArduPilot acks the legacy SET_MODE message with its message id as "command"
        self._ack(msg, peer, M.MAVLINK_MSG_ID_SET_MODE, M.MAV_RESULT_ACCEPTED if ok else M.MAV_RESULT_FAILED)

    # callbacks used by joystick buttons and failsafes
    def arm_from_pilot(self) -> None:
        self._arm(force=False, now=self.now_s)

    def disarm_from_pilot(self) -> None:
        self._disarm()

    def disarm_from_failsafe(self) -> None:
        self._disarm()

    def is_armed(self) -> bool:
        return self.armed

    def set_mode_from_pilot(self, mode: Mode) -> None:
        self._set_mode(int(mode), self.now_s)

    def set_mode_from_failsafe(self, mode: Mode) -> None:
        self._set_mode(int(mode), self.now_s)

    def neutral_pilot_input(self) -> None:
        self.pilot = PilotInput()

    # ------------------------------------------------------------------ other inbound
    def _on_manual_control(self, msg: object, peer: Peer, now: float) -> None:
        self.failsafes.last_pilot_input_s = now
        self.failsafes.last_gcs_seen_s = now   # ArduSub counts it as a GCS heartbeat
        self.pilot = PilotInput.from_manual_control(msg.x, msg.y, msg.z, msg.r)
        mask = msg.buttons & 0xFFFF
        if getattr(msg, "enabled_extensions", 0) & 1:
            mask |= (msg.buttons2 & 0xFFFF) << 16
        self.buttons.process(mask, self.acc, self)

    def _on_request_data_stream(self, msg: object, peer: Peer, now: float) -> None:
        self.streams.request_data_stream(msg.req_stream_id, msg.req_message_rate, bool(msg.start_stop))

    def _on_position_target_local(self, msg: object, peer: Peer, now: float) -> None:
        if self.mode != Mode.GUIDED:
            return
        mask = msg.type_mask
        est = self.estimate()
        yaw = self.body.state.yaw_rad
        c, s = math.cos(yaw), math.sin(yaw)
        pos = np.array([msg.x, msg.y, msg.z], dtype=float)
        vel = np.array([msg.vx, msg.vy, msg.vz], dtype=float)
        frame = msg.coordinate_frame
        if frame in (M.MAV_FRAME_BODY_NED, M.MAV_FRAME_BODY_OFFSET_NED, M.MAV_FRAME_BODY_FRD):
            vel[:2] = (c * vel[0] - s * vel[1], s * vel[0] + c * vel[1])
        if frame == M.MAV_FRAME_BODY_OFFSET_NED:
            pos[:2] = (c * pos[0] - s * pos[1], s * pos[0] + c * pos[1])
        if frame in (M.MAV_FRAME_LOCAL_OFFSET_NED, M.MAV_FRAME_BODY_OFFSET_NED):
            pos = pos + np.array([est[0], est[1], self.body.state.depth_m])
        elif frame not in (M.MAV_FRAME_LOCAL_NED, M.MAV_FRAME_BODY_NED, M.MAV_FRAME_BODY_FRD):
            return
        use_xy = not mask & 0b11
        use_z = not mask & 0b100
        use_vel = not mask & 0b111000
        target = self.guided
        xy = pos[:2] if use_xy else (target.position_ne_m if not use_vel else None)
        depth = max(0.0, float(pos[2])) if use_z else (target.depth_m if not use_vel else None)
        yaw_target = None if mask & M.POSITION_TARGET_TYPEMASK_YAW_IGNORE else float(msg.yaw)
        self.guided = NavTarget(None if xy is None else np.array(xy, dtype=float), depth,
                                vel if use_vel else None, yaw_target, target.speed_m_s)
        if use_vel:
            self._guided_velocity_until_s = now + GUIDED_VELOCITY_TIMEOUT_S

    def _on_position_target_global(self, msg: object, peer: Peer, now: float) -> None:
        if self.mode != Mode.GUIDED:
            return
        mask = msg.type_mask
        lat0, lon0, _ = self.origin or (0.0, 0.0, 0.0)
        target = self.guided
        xy = target.position_ne_m
        if not mask & 0b11:
            xy = latlon_to_ne_m(msg.lat_int, msg.lon_int, lat0, lon0)
        depth = target.depth_m if mask & 0b100 else max(0.0, -float(msg.alt))
        yaw_target = None if mask & M.POSITION_TARGET_TYPEMASK_YAW_IGNORE else float(msg.yaw)
        self.guided = NavTarget(xy, depth, None, yaw_target, target.speed_m_s)

    def _on_set_origin(self, msg: object, peer: Peer, now: float) -> None:
        self.origin = (msg.latitude * 1e-7, msg.longitude * 1e-7, msg.altitude * 1e-3)
        if self.mission.items:
            self.mission.items[0] = MissionServer.home_item(msg.latitude, msg.longitude)
        self._send(self.messages.origin_message(), None)

    def _on_timesync(self, msg: object, peer: Peer, now: float) -> None:
        if msg.tc1 == 0:
            self._send(self._builder.timesync_encode(int(now * 1e9), msg.ts1), peer)

    def _on_param_changed(self, name: str, value: float) -> None:
        if name == "SYSID_THISMAV":
            self._encoder.srcSystem = int(value)
        elif name == "BATT_CAPACITY":
            self.battery.capacity_mah = value

    def _on_mission_committed(self, count: int) -> None:
        self.params.set("MIS_TOTAL", count)

    # ------------------------------------------------------------------ scheduler
    def _run(self) -> None:
        period = 1.0 / SCHEDULER_RATE_HZ
        next_t = time.monotonic()
        while not self._stop.is_set():
            next_t += period
            delay = next_t - time.monotonic()
            if delay < -0.5:
                next_t = time.monotonic()   # fell far behind (debugger, suspend): resync
            if delay > 0 and self._stop.wait(delay):
                break
            try:
                with self._lock:
                    self._step()
            except Exception:  # noqa: BLE001 - keep the vehicle alive, count the fault
                self.handler_errors += 1
                LOG.exception("sim: error in the scheduler step")

    def _step(self) -> None:
        now = self._clock()
        dt = min(0.1, max(0.0, now - self._last_step_s))
        self._last_step_s = now
        self.acc.step(dt)
        est = self.estimate()
        self.last_range_m = self._range_fn(np.array(self.body.state.position_ned_m), self.body.state.yaw_rad)
        cmd = np.zeros(4)
        if self.armed:
            nav = self._nav_target(now, est, dt)
            cmd = self.autopilot.update(self.mode, self.body.state, est, self.pilot, nav, self._limits(), dt)
            if self.mode == Mode.MOTOR_DETECT and now - self._motor_detect_started_s > MOTOR_DETECT_DURATION_S:
                self.send_text(M.MAV_SEVERITY_INFO, "Motor detection complete")
                self._set_mode(Mode.MANUAL, now)
        for _ in range(PHYSICS_SUBSTEPS):
            self.body.step(cmd, dt / PHYSICS_SUBSTEPS)
        self.battery.step(cmd, self.acc.lights1 + self.acc.lights2, dt)
        self.dvl.step(dt, float(np.linalg.norm(self.body.state.velocity_ned_m_s[:2])))
        self._track_tether_turns()
        self.failsafes.check(now, self.battery.voltage_v, self.battery.consumed_mah, self)
        self.mission.tick(now)
        self.param_server.tick(dt)
        if now >= self._next_heartbeat_s:
            self._next_heartbeat_s = max(self._next_heartbeat_s + HEARTBEAT_PERIOD_S, now)
            self._send(self.messages.heartbeat())
        builders = self.messages.by_id()
        for msg_id in self.streams.due(now):
            if msg_id == M.MAVLINK_MSG_ID_NAMED_VALUE_FLOAT:
                for m in self.messages.named_floats():
                    self._send(m)
                continue
            msg = builders[msg_id]()
            if msg is not None:
                self._send(msg)

    def _limits(self) -> Limits:
        p = self.params.get
        up = p("PILOT_SPEED_UP") / 100.0
        dn = p("PILOT_SPEED_DN") / 100.0 or up
        return Limits(gain=self.acc.gain, throttle_gain=p("JS_THR_GAIN"), pilot_speed_up_m_s=up,
                      pilot_speed_dn_m_s=dn, pilot_speed_xy_m_s=p("PILOT_SPEED") / 100.0,
                      wp_speed_up_m_s=p("WPNAV_SPEED_UP") / 100.0, wp_speed_dn_m_s=p("WPNAV_SPEED_DN") / 100.0,
                      range_m=self.last_range_m)

    def _nav_target(self, now: float, est: np.ndarray, dt: float) -> NavTarget:
        wp_speed = self.params.get("WPNAV_SPEED") / 100.0
        if self.mode == Mode.GUIDED:
            if self.guided.velocity_ned_m_s is not None and now > self._guided_velocity_until_s:
                self._hold_guided_here()   # velocity commands expire like ArduPilot's guided timeout
            return self.guided
        if self.mode == Mode.AUTO:
            lat0, lon0, _ = self.origin or (0.0, 0.0, 0.0)
            return self.runner.target(now, est, self.body.state.depth_m, (lat0, lon0), wp_speed,
                                      self.params.get("WPNAV_RADIUS") / 100.0)
        if self.mode == Mode.CIRCLE and self._circle_center_ne is not None:
            radius = self.params.get("CIRCLE_RADIUS") / 100.0
            rate = math.radians(self.params.get("CIRCLE_RATE"))
            self._circle_angle_rad = wrap_pi(self._circle_angle_rad + rate * dt)
            point = self._circle_center_ne + radius * np.array(
                [math.cos(self._circle_angle_rad), math.sin(self._circle_angle_rad)])
            to_center = self._circle_center_ne - est[:2]
            yaw = math.atan2(to_center[1], to_center[0])
            tangential = abs(rate) * radius * np.array(
                [-math.sin(self._circle_angle_rad), math.cos(self._circle_angle_rad), 0.0]) * math.copysign(1, rate)
            return NavTarget(point, None, tangential, yaw, wp_speed)
        return NavTarget()

    def estimate(self) -> np.ndarray:
        if not self.config.position_estimate:
            return np.array(self.body.state.position_ned_m)
        return self.dvl.position_ned_m(self.body.state.position_ned_m)

    def _seabed_range(self, position_ned_m: np.ndarray, heading_rad: float) -> float | None:
        return max(0.0, self.config.seabed_depth_m - float(position_ned_m[2]))

    def _track_tether_turns(self) -> None:
        yaw = self.body.state.yaw_rad
        self.yaw_total_rad += wrap_pi(yaw - self.yaw_prev_rad)
        self.yaw_prev_rad = yaw
