"""Reducers: (state, message) -> new state. Pure functions, run on the link thread.

Each handler reads one message type and returns a replaced snapshot; the vehicle
facade publishes it. Units are converted once here, at the boundary.
"""
from __future__ import annotations

import dataclasses
import math
import re
from types import MappingProxyType

from .ardusub import FRESH_WATER_DENSITY_KG_M3, mode_name
from .dialect import mavlink
from .state import (Attitude, Battery, DistanceReading, EkfStatus, Failsafes, Firmware,
                    GlobalPosition, GpsStatus, LocalPosition, Origin, StatusText, VehicleState)

STATUS_TEXT_KEEP = 200
_SURFACE_PRESSURE_HPA = 1013.25
_G_M_S2 = 9.80665

_replace = dataclasses.replace
_deg = math.degrees

_FAILSAFE_PATTERNS = (
    ("leak", re.compile(r"leak", re.I)),
    ("pilot_input", re.compile(r"lost manual control|pilot input failsafe", re.I)),
    ("gcs", re.compile(r"gcs failsafe|heartbeat lost", re.I)),
    ("battery", re.compile(r"battery failsafe|low battery|battery .*failsafe", re.I)),
    ("ekf", re.compile(r"ekf failsafe|ekf variance", re.I)),
)
_FIRMWARE_RE = re.compile(r"^(Ardu\w+|Copter|Rover|Plane|Sub)\s+V(\d+\.\d+\.\d+[\w.-]*)")


def enum_name(enum: str, value: int, prefix: str) -> str:
    entry = mavlink.enums.get(enum, {}).get(value)
    name = entry.name if entry is not None else f"{prefix}{value}"
    return name[len(prefix):] if name.startswith(prefix) else name


def _heartbeat(s: VehicleState, m, t: float) -> VehicleState:
    armed = bool(m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
    custom = m.custom_mode if m.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED else None
    failsafes = s.failsafes
    if s.armed and not armed and failsafes.pilot_input:
        failsafes = _replace(failsafes, pilot_input=False)
    return _replace(
        s, armed=armed, custom_mode=custom,
        mode=mode_name(custom) if custom is not None else "",
        system_status=enum_name("MAV_STATE", m.system_status, "MAV_STATE_"),
        vehicle_type=enum_name("MAV_TYPE", m.type, "MAV_TYPE_"),
        autopilot=enum_name("MAV_AUTOPILOT", m.autopilot, "MAV_AUTOPILOT_"),
        last_heartbeat_s=t, link_ok=True, failsafes=failsafes)


def _attitude(s, m, t):
    return _replace(s, attitude=Attitude(_deg(m.roll), _deg(m.pitch), _deg(m.yaw), _deg(m.rollspeed),
                                         _deg(m.pitchspeed), _deg(m.yawspeed), t))


def _vfr_hud(s, m, t):
    # VFR_HUD.alt is the EKF's altitude above mean sea level; depth is measured from home
    # (the surface), which GLOBAL_POSITION_INT gives as relative_alt. Their difference is
    # the home altitude, so the 16 Hz VFR_HUD yields depth on the same datum.
    gp = s.global_position
    home_alt_m = gp.alt_msl_m - gp.relative_alt_m if gp is not None else 0.0
    return _replace(s, depth=_replace(s.depth, depth_m=-(m.alt - home_alt_m), climb_m_s=m.climb,
                                      heading_deg=float(m.heading), throttle_pct=float(m.throttle), t_s=t))


def _global_position_int(s, m, t):
    has_fix = m.lat != 0 or m.lon != 0
    gp = GlobalPosition(m.lat / 1e7 if has_fix else None, m.lon / 1e7 if has_fix else None,
                        m.relative_alt / 1000.0, m.hdg / 100.0 if m.hdg != 65535 else None, t,
                        m.alt / 1000.0)
    depth = s.depth
    if depth.t_s is None or t - depth.t_s > 1.0:  # VFR_HUD is the fast source; this covers its absence
        depth = _replace(depth, depth_m=-gp.relative_alt_m, t_s=t)
    return _replace(s, global_position=gp, depth=depth)


def _scaled_pressure2(s, m, t):
    depth = _replace(s.depth, pressure_hpa=m.press_abs, water_temp_c=m.temperature / 100.0)
    if depth.t_s is None or t - depth.t_s > 2.0:
        depth_m = (m.press_abs - _SURFACE_PRESSURE_HPA) * 100.0 / (FRESH_WATER_DENSITY_KG_M3 * _G_M_S2)
        depth = _replace(depth, depth_m=max(0.0, depth_m), t_s=t)
    return _replace(s, depth=depth)


def _local_position_ned(s, m, t):
    return _replace(s, local_position=LocalPosition(m.x, m.y, m.z, m.vx, m.vy, m.vz, t))


def _distance_sensor(s, m, t):
    quality = getattr(m, "signal_quality", 0)
    return _replace(s, distance=DistanceReading(m.current_distance / 100.0, m.min_distance / 100.0,
                                                m.max_distance / 100.0, m.orientation, m.id,
                                                quality or None, t))


def _rangefinder(s, m, t):
    if s.distance is not None and t - s.distance.t_s < 1.0:
        return s  # DISTANCE_SENSOR carries more; RANGEFINDER only fills in when it is absent
    return _replace(s, distance=DistanceReading(m.distance, 0.0, 0.0, 25, 0, None, t))


def _sys_status(s, m, t):
    b = s.battery
    return _replace(s, battery=_replace(
        b, voltage_v=m.voltage_battery / 1000.0 if m.voltage_battery != 65535 else b.voltage_v,
        current_a=m.current_battery / 100.0 if m.current_battery >= 0 else b.current_a,
        remaining_pct=float(m.battery_remaining) if m.battery_remaining >= 0 else b.remaining_pct, t_s=t))


def _battery_status(s, m, t):
    b = s.battery
    cells = [v for v in m.voltages if v != 65535]
    voltage = sum(cells) / 1000.0 if cells else b.voltage_v
    return _replace(s, battery=Battery(
        voltage, m.current_battery / 100.0 if m.current_battery >= 0 else b.current_a,
        float(m.battery_remaining) if m.battery_remaining >= 0 else b.remaining_pct,
        float(m.current_consumed) if m.current_consumed >= 0 else b.consumed_mah, t))


def _ekf_status(s, m, t):
    f = m.flags
    return _replace(s, ekf=EkfStatus(
        f, bool(f & mavlink.EKF_ATTITUDE), bool(f & mavlink.EKF_VELOCITY_HORIZ),
        bool(f & mavlink.EKF_POS_HORIZ_REL), bool(f & mavlink.EKF_POS_HORIZ_ABS),
        bool(f & mavlink.EKF_CONST_POS_MODE), t))


def _gps_raw_int(s, m, t):
    fix = m.fix_type >= 2
    return _replace(s, gps=GpsStatus(m.fix_type, m.satellites_visible if m.satellites_visible != 255 else None,
                                     m.lat / 1e7 if fix else None, m.lon / 1e7 if fix else None, t))


def _gps_global_origin(s, m, t):
    return _replace(s, ekf_origin=Origin(m.latitude / 1e7, m.longitude / 1e7, m.altitude / 1000.0))


def _named_value_float(s, m, t):
    name = m.name.rstrip("\x00") if isinstance(m.name, str) else m.name.decode(errors="replace").rstrip("\x00")
    values = dict(s.named_values)
    values[name] = float(m.value)
    return _replace(s, named_values=MappingProxyType(values))


def _statustext(s, m, t):
    text = m.text if isinstance(m.text, str) else m.text.decode(errors="replace")
    text = text.rstrip("\x00")
    entry = StatusText(m.severity, text, t)
    texts = (s.status_texts + (entry,))[-STATUS_TEXT_KEEP:]
    failsafes = s.failsafes
    for field, pattern in _FAILSAFE_PATTERNS:
        if pattern.search(text) and m.severity <= mavlink.MAV_SEVERITY_WARNING:
            failsafes = _replace(failsafes, **{field: True, "last_text": text})
    firmware = s.firmware
    match = _FIRMWARE_RE.match(text)
    if match and not firmware.version:
        name = "ArduSub" if match.group(1) == "Sub" else match.group(1)
        firmware = _replace(firmware, version=f"{name} V{match.group(2)}")
    return _replace(s, status_texts=texts, failsafes=failsafes, firmware=firmware)


_RELEASE_TYPES = {255: "official", 192: "rc", 128: "beta", 64: "alpha", 0: "dev"}


def firmware_version_string(flight_sw_version: int, vehicle_type: str) -> tuple[str, str]:
    """("ArduSub V4.1.1", "beta") from AUTOPILOT_VERSION.flight_sw_version."""
    major = (flight_sw_version >> 24) & 0xFF
    minor = (flight_sw_version >> 16) & 0xFF
    patch = (flight_sw_version >> 8) & 0xFF
    name = "ArduSub" if vehicle_type == "SUBMARINE" else "ArduPilot"
    return f"{name} V{major}.{minor}.{patch}", _RELEASE_TYPES.get(flight_sw_version & 0xFF, "")


def _autopilot_version(s, m, t):
    git = bytes(m.flight_custom_version).rstrip(b"\x00").decode(errors="replace")
    version, release = firmware_version_string(m.flight_sw_version, s.vehicle_type)
    return _replace(s, firmware=Firmware(version, release, m.flight_sw_version, git, m.board_version,
                                         m.capabilities))


def _mission_current(s, m, t):
    return _replace(s, mission_current_seq=m.seq)


def _mission_item_reached(s, m, t):
    return _replace(s, mission_reached_seq=m.seq)


HANDLERS = {
    "HEARTBEAT": _heartbeat,
    "ATTITUDE": _attitude,
    "VFR_HUD": _vfr_hud,
    "GLOBAL_POSITION_INT": _global_position_int,
    "SCALED_PRESSURE2": _scaled_pressure2,
    "LOCAL_POSITION_NED": _local_position_ned,
    "DISTANCE_SENSOR": _distance_sensor,
    "RANGEFINDER": _rangefinder,
    "SYS_STATUS": _sys_status,
    "BATTERY_STATUS": _battery_status,
    "EKF_STATUS_REPORT": _ekf_status,
    "GPS_RAW_INT": _gps_raw_int,
    "GPS_GLOBAL_ORIGIN": _gps_global_origin,
    "NAMED_VALUE_FLOAT": _named_value_float,
    "STATUSTEXT": _statustext,
    "AUTOPILOT_VERSION": _autopilot_version,
    "MISSION_CURRENT": _mission_current,
    "MISSION_ITEM_REACHED": _mission_item_reached,
}


def apply_message(state: VehicleState, msg, t_s: float) -> VehicleState:
    """New snapshot after `msg` from the vehicle (state unchanged for other types)."""
    handler = HANDLERS.get(msg._type)
    if handler is None:
        return state
    new = handler(state, msg, t_s)
    return new if new is state else _replace(new, t_s=t_s)
