"""ArduSub specifics: flight modes, joystick button functions, telemetry rates.

Firmware quirks live here rather than as `if`s through the client (QGC's firmware
plugin habit). Numbers are ArduSub 4.x's own (ArduSub/defines.h, joystick.cpp).
"""
from __future__ import annotations

import enum

from .dialect import mavlink


class SubMode(enum.IntEnum):
    """ArduSub `custom_mode` numbers."""

    STABILIZE = 0
    ACRO = 1
    ALT_HOLD = 2
    AUTO = 3
    GUIDED = 4
    CIRCLE = 7
    SURFACE = 9
    POSHOLD = 16
    MANUAL = 19
    MOTOR_DETECT = 20
    SURFTRAK = 21


# Modes that ArduSub refuses without a position estimate (DVL / GPS).
MODES_NEEDING_POSITION = frozenset({SubMode.AUTO, SubMode.GUIDED, SubMode.POSHOLD, SubMode.CIRCLE})

# What pilots call them; "DEPTH_HOLD" is the name on the ArduSub web pages and QGC.
_MODE_ALIASES = {"DEPTH_HOLD": SubMode.ALT_HOLD, "DEPTHHOLD": SubMode.ALT_HOLD,
                 "POS_HOLD": SubMode.POSHOLD, "POSITION_HOLD": SubMode.POSHOLD}


def mode_name(custom_mode: int) -> str:
    """ArduSub name of a custom_mode, or 'MODE(n)' for numbers this firmware lacks."""
    try:
        return SubMode(custom_mode).name
    except ValueError:
        return f"MODE({custom_mode})"


def parse_mode(name: str) -> SubMode:
    """Mode from a user's name (case-insensitive, aliases allowed) or number."""
    key = name.strip().upper().replace("-", "_").replace(" ", "_")
    if key in SubMode.__members__:
        return SubMode[key]
    if key in _MODE_ALIASES:
        return _MODE_ALIASES[key]
    if key.isdigit():
        return SubMode(int(key))
    known = ", ".join(m.name for m in SubMode)
    raise ValueError(f"unknown ArduSub mode {name!r}; known modes: {known}")


class ButtonFunction(enum.IntEnum):
    """Values of the BTNn_FUNCTION / BTNn_SFUNCTION parameters (ArduSub JSButton)."""

    NONE = 0
    SHIFT = 1
    ARM_TOGGLE = 2
    ARM = 3
    DISARM = 4
    MODE_MANUAL = 5
    MODE_STABILIZE = 6
    MODE_DEPTH_HOLD = 7
    MODE_AUTO = 8
    MODE_GUIDED = 9
    MODE_CIRCLE = 10
    MODE_ACRO = 11
    MODE_POSHOLD = 12
    MOUNT_CENTER = 21
    MOUNT_TILT_UP = 22
    MOUNT_TILT_DOWN = 23
    CAMERA_TRIGGER = 24
    CAMERA_SOURCE_TOGGLE = 25
    MOUNT_PAN_RIGHT = 26
    MOUNT_PAN_LEFT = 27
    LIGHTS1_CYCLE = 31
    LIGHTS1_BRIGHTER = 32
    LIGHTS1_DIMMER = 33
    LIGHTS2_CYCLE = 34
    LIGHTS2_BRIGHTER = 35
    LIGHTS2_DIMMER = 36
    GAIN_TOGGLE = 41
    GAIN_INC = 42
    GAIN_DEC = 43
    TRIM_ROLL_INC = 44
    TRIM_ROLL_DEC = 45
    TRIM_PITCH_INC = 46
    TRIM_PITCH_DEC = 47
    INPUT_HOLD_SET = 48
    ROLL_PITCH_TOGGLE = 49


BUTTON_COUNT = 16

# ArduSub's default_js_buttons(): (function, shift function) per button index.
DEFAULT_BUTTONS: tuple[tuple[ButtonFunction, ButtonFunction], ...] = (
    (ButtonFunction.NONE, ButtonFunction.NONE),
    (ButtonFunction.MODE_MANUAL, ButtonFunction.NONE),
    (ButtonFunction.MODE_DEPTH_HOLD, ButtonFunction.NONE),
    (ButtonFunction.MODE_STABILIZE, ButtonFunction.NONE),
    (ButtonFunction.DISARM, ButtonFunction.NONE),
    (ButtonFunction.SHIFT, ButtonFunction.NONE),
    (ButtonFunction.ARM, ButtonFunction.NONE),
    (ButtonFunction.MOUNT_CENTER, ButtonFunction.NONE),
    (ButtonFunction.INPUT_HOLD_SET, ButtonFunction.NONE),
    (ButtonFunction.MOUNT_TILT_DOWN, ButtonFunction.MOUNT_PAN_LEFT),
    (ButtonFunction.MOUNT_TILT_UP, ButtonFunction.MOUNT_PAN_RIGHT),
    (ButtonFunction.GAIN_INC, ButtonFunction.TRIM_PITCH_DEC),
    (ButtonFunction.GAIN_DEC, ButtonFunction.TRIM_PITCH_INC),
    (ButtonFunction.LIGHTS1_DIMMER, ButtonFunction.TRIM_ROLL_DEC),
    (ButtonFunction.LIGHTS1_BRIGHTER, ButtonFunction.TRIM_ROLL_INC),
    (ButtonFunction.NONE, ButtonFunction.NONE),
)

# Telemetry the station asks for (ArduSub streams nothing until asked), in Hz.
TELEMETRY_RATES_HZ: dict[int, float] = {
    mavlink.MAVLINK_MSG_ID_ATTITUDE: 16.0,
    mavlink.MAVLINK_MSG_ID_VFR_HUD: 16.0,
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: 3.0,
    mavlink.MAVLINK_MSG_ID_LOCAL_POSITION_NED: 5.0,
    mavlink.MAVLINK_MSG_ID_DISTANCE_SENSOR: 3.0,
    mavlink.MAVLINK_MSG_ID_RANGEFINDER: 3.0,
    mavlink.MAVLINK_MSG_ID_SCALED_PRESSURE2: 2.0,
    mavlink.MAVLINK_MSG_ID_SYS_STATUS: 2.0,
    mavlink.MAVLINK_MSG_ID_BATTERY_STATUS: 1.0,
    mavlink.MAVLINK_MSG_ID_EKF_STATUS_REPORT: 1.0,
    mavlink.MAVLINK_MSG_ID_GPS_RAW_INT: 1.0,
    mavlink.MAVLINK_MSG_ID_SYSTEM_TIME: 1.0,
    mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: 1.0,
}

# NAMED_VALUE_FLOAT (CamTilt, Lights1/2, PilotGain) has no per-message interval in
# ArduPilot ("can't really be streamed"): it rides only in the EXTENDED_STATUS group, so
# that group is always requested too, before the per-message intervals refine the rest.
NAMED_VALUE_STREAM = (mavlink.MAV_DATA_STREAM_EXTENDED_STATUS, 4)

# REQUEST_DATA_STREAM fallback for firmware that ignores SET_MESSAGE_INTERVAL.
LEGACY_STREAM_RATES_HZ: dict[int, int] = {
    mavlink.MAV_DATA_STREAM_EXTENDED_STATUS: 2,
    mavlink.MAV_DATA_STREAM_POSITION: 3,
    mavlink.MAV_DATA_STREAM_EXTRA1: 16,
    mavlink.MAV_DATA_STREAM_EXTRA2: 16,
    mavlink.MAV_DATA_STREAM_EXTRA3: 2,
    mavlink.MAV_DATA_STREAM_RAW_SENSORS: 2,
}

# MAV_CMD_COMPONENT_ARM_DISARM param2 that overrides arming checks (ArduPilot).
FORCE_ARM_MAGIC = 21196

# Water density used to turn SCALED_PRESSURE2 into depth when no depth is reported
# (ArduSub's default, fresh water; INS/BARO config sets salt 1025).
FRESH_WATER_DENSITY_KG_M3 = 997.0
SEA_WATER_DENSITY_KG_M3 = 1025.0
