"""Immutable snapshots of what the station knows about the vehicle.

The link thread replaces the snapshot on every message (dataclasses.replace); readers on
any thread take `vehicle.state` and never see it change under them. Times are the link
clock (`t_s`, monotonic seconds; the log's clock during a replay).
"""
from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping

_EMPTY: Mapping[str, float] = MappingProxyType({})


@dataclasses.dataclass(frozen=True, slots=True)
class Attitude:
    roll_deg: float = 0.0
    pitch_deg: float = 0.0
    yaw_deg: float = 0.0
    rollspeed_deg_s: float = 0.0
    pitchspeed_deg_s: float = 0.0
    yawspeed_deg_s: float = 0.0
    t_s: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Depth:
    depth_m: float | None = None  # positive down; ArduSub altitude is negative depth
    climb_m_s: float | None = None
    heading_deg: float | None = None
    throttle_pct: float | None = None
    pressure_hpa: float | None = None  # SCALED_PRESSURE2: the external (water) sensor
    water_temp_c: float | None = None
    t_s: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LocalPosition:
    """LOCAL_POSITION_NED: the EKF frame, metres from the origin."""

    north_m: float
    east_m: float
    down_m: float
    vn_m_s: float
    ve_m_s: float
    vd_m_s: float
    t_s: float


@dataclasses.dataclass(frozen=True, slots=True)
class GlobalPosition:
    lat_deg: float | None
    lon_deg: float | None
    relative_alt_m: float
    heading_deg: float | None
    t_s: float
    alt_msl_m: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class DistanceReading:
    distance_m: float
    min_m: float
    max_m: float
    orientation: int  # MAV_SENSOR_ORIENTATION; 25 = down (PITCH_270), 0 = forward
    sensor_id: int
    signal_quality: int | None
    t_s: float


@dataclasses.dataclass(frozen=True, slots=True)
class Battery:
    voltage_v: float | None = None
    current_a: float | None = None
    remaining_pct: float | None = None
    consumed_mah: float | None = None
    t_s: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class EkfStatus:
    flags: int = 0
    attitude_ok: bool = False
    velocity_ok: bool = False
    position_rel_ok: bool = False
    position_abs_ok: bool = False
    const_pos_mode: bool = False
    t_s: float | None = None

    @property
    def has_position(self) -> bool:
        return (self.position_rel_ok or self.position_abs_ok) and not self.const_pos_mode


@dataclasses.dataclass(frozen=True, slots=True)
class GpsStatus:
    fix_type: int = 0
    satellites: int | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None
    t_s: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Origin:
    lat_deg: float
    lon_deg: float
    alt_m: float


@dataclasses.dataclass(frozen=True, slots=True)
class StatusText:
    severity: int
    text: str
    t_s: float

    @property
    def is_alert(self) -> bool:
        return self.severity <= 3  # EMERGENCY, ALERT, CRITICAL, ERROR


@dataclasses.dataclass(frozen=True, slots=True)
class Failsafes:
    leak: bool = False
    gcs: bool = False
    pilot_input: bool = False
    battery: bool = False
    ekf: bool = False
    last_text: str = ""

    @property
    def any(self) -> bool:
        return self.leak or self.gcs or self.pilot_input or self.battery or self.ekf


@dataclasses.dataclass(frozen=True, slots=True)
class Firmware:
    version: str = ""  # e.g. "ArduSub V4.1.1"
    release: str = ""  # "official", "beta", "rc", "alpha", "dev"
    flight_sw_version: int = 0
    git_hash: str = ""
    board_version: int = 0
    capabilities: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class VehicleState:
    t_s: float = 0.0
    discovered: bool = False
    system_id: int = 0
    component_id: int = 0
    vehicle_type: str = ""  # MAV_TYPE without prefix, e.g. "SUBMARINE"
    autopilot: str = ""  # e.g. "ARDUPILOTMEGA"
    armed: bool = False
    custom_mode: int | None = None
    mode: str = ""  # ArduSub name, e.g. "ALT_HOLD"
    system_status: str = ""  # MAV_STATE without prefix
    last_heartbeat_s: float | None = None
    link_ok: bool = False
    attitude: Attitude = Attitude()
    depth: Depth = Depth()
    local_position: LocalPosition | None = None
    global_position: GlobalPosition | None = None
    distance: DistanceReading | None = None
    battery: Battery = Battery()
    ekf: EkfStatus = EkfStatus()
    gps: GpsStatus = GpsStatus()
    ekf_origin: Origin | None = None
    named_values: Mapping[str, float] = dataclasses.field(default_factory=lambda: _EMPTY)  # CamTilt, Lights1, Lights2, PilotGain, ...
    status_texts: tuple[StatusText, ...] = ()  # newest last, bounded
    failsafes: Failsafes = Failsafes()
    firmware: Firmware = Firmware()
    mission_current_seq: int | None = None
    mission_reached_seq: int | None = None

    @property
    def heading_deg(self) -> float | None:
        if self.depth.heading_deg is not None:
            return self.depth.heading_deg
        if self.attitude.t_s is not None:
            return self.attitude.yaw_deg % 360.0
        return None

    @property
    def depth_m(self) -> float | None:
        return self.depth.depth_m

    @property
    def has_position(self) -> bool:
        return self.ekf.has_position or self.local_position is not None and self.ekf.t_s is None

    def heartbeat_age_s(self, now_s: float) -> float | None:
        return None if self.last_heartbeat_s is None else max(0.0, now_s - self.last_heartbeat_s)

    def named(self, name: str) -> float | None:
        return self.named_values.get(name)

    @property
    def cam_tilt(self) -> float | None:
        return self.named_values.get("CamTilt")

    @property
    def lights1(self) -> float | None:
        return self.named_values.get("Lights1")

    @property
    def lights2(self) -> float | None:
        return self.named_values.get("Lights2")

    @property
    def pilot_gain(self) -> float | None:
        return self.named_values.get("PilotGain")
