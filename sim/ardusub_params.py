"""ArduSub 4.1-style parameter table for a BlueROV2 Heavy on a Navigator/Pixhawk.

Written for this simulator from ArduSub's documented names and defaults; values that
BlueOS/Blue Robotics ship for a Heavy differ from the bare firmware defaults in a few
places (FRAME_CONFIG, SERVOn_FUNCTION, RNGFND1_*), and those are noted beside the entry.

Failsafe defaults are ArduSub's own: FS_GCS_ENABLE=2 (disarm), FS_PILOT_INPUT=2
(disarm) with FS_PILOT_TIMEOUT=3 s, FS_LEAK_ENABLE=1 (warn only).
"""
from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

I8 = mavlink.MAV_PARAM_TYPE_INT8
I16 = mavlink.MAV_PARAM_TYPE_INT16
I32 = mavlink.MAV_PARAM_TYPE_INT32
F32 = mavlink.MAV_PARAM_TYPE_REAL32

# ArduSub JSButton function numbers (libraries/AP_JSButton).
BTN_NONE = 0
BTN_SHIFT = 1
BTN_ARM_TOGGLE = 2
BTN_ARM = 3
BTN_DISARM = 4
BTN_MODE_MANUAL = 5
BTN_MODE_STABILIZE = 6
BTN_MODE_DEPTH_HOLD = 7
BTN_MODE_POSHOLD = 8
BTN_MODE_AUTO = 9
BTN_MODE_CIRCLE = 10
BTN_MODE_GUIDED = 11
BTN_MODE_ACRO = 12
BTN_MODE_SURFTRAK = 13
BTN_MOUNT_CENTER = 21
BTN_MOUNT_TILT_UP = 22
BTN_MOUNT_TILT_DOWN = 23
BTN_CAMERA_TRIGGER = 24
BTN_CAMERA_SOURCE_TOGGLE = 25
BTN_MOUNT_PAN_RIGHT = 26
BTN_MOUNT_PAN_LEFT = 27
BTN_LIGHTS1_CYCLE = 31
BTN_LIGHTS1_BRIGHTER = 32
BTN_LIGHTS1_DIMMER = 33
BTN_LIGHTS2_CYCLE = 34
BTN_LIGHTS2_BRIGHTER = 35
BTN_LIGHTS2_DIMMER = 36
BTN_GAIN_TOGGLE = 41
BTN_GAIN_INC = 42
BTN_GAIN_DEC = 43
BTN_TRIM_ROLL_INC = 44
BTN_TRIM_ROLL_DEC = 45
BTN_TRIM_PITCH_INC = 46
BTN_TRIM_PITCH_DEC = 47
BTN_INPUT_HOLD_SET = 48
BTN_ROLL_PITCH_TOGGLE = 49

# (function, shift function) for BTN0..BTN15, as ArduSub's default_js_buttons().
DEFAULT_BUTTONS: tuple[tuple[int, int], ...] = (
    (BTN_NONE, BTN_NONE),
    (BTN_MODE_MANUAL, BTN_NONE),
    (BTN_MODE_DEPTH_HOLD, BTN_NONE),
    (BTN_MODE_STABILIZE, BTN_NONE),
    (BTN_DISARM, BTN_NONE),
    (BTN_SHIFT, BTN_NONE),
    (BTN_ARM, BTN_NONE),
    (BTN_MOUNT_CENTER, BTN_NONE),
    (BTN_INPUT_HOLD_SET, BTN_NONE),
    (BTN_MOUNT_TILT_DOWN, BTN_MOUNT_PAN_LEFT),
    (BTN_MOUNT_TILT_UP, BTN_MOUNT_PAN_RIGHT),
    (BTN_GAIN_INC, BTN_TRIM_PITCH_DEC),
    (BTN_GAIN_DEC, BTN_TRIM_PITCH_INC),
    (BTN_LIGHTS1_DIMMER, BTN_TRIM_ROLL_DEC),
    (BTN_LIGHTS1_BRIGHTER, BTN_TRIM_ROLL_INC),
    (BTN_NONE, BTN_NONE),
)

_CORE: tuple[tuple[str, float, int], ...] = (
    ("FORMAT_VERSION", 1, I16),
    ("SYSID_THISMAV", 1, I16),
    ("SYSID_MYGCS", 255, I16),
    ("SYSID_ENFORCE", 0, I8),
    ("SURFACE_DEPTH", -10, I16),           # cm
    ("PILOT_THR_FILT", 0, F32),
    ("GCS_PID_MASK", 0, I16),
    ("FS_GCS_ENABLE", 2, I8),              # 0 off, 1 warn, 2 disarm, 3 depth hold, 4 surface
    ("FS_GCS_TIMEOUT", 5.0, F32),          # s
    ("FS_LEAK_ENABLE", 1, I8),             # 0 off, 1 warn, 2 surface
    ("FS_PRESS_ENABLE", 0, I8),
    ("FS_PRESS_MAX", 105000, I32),         # Pa
    ("FS_TEMP_ENABLE", 0, I8),
    ("FS_TEMP_MAX", 62, I8),               # degC
    ("FS_TERRAIN_ENAB", 0, I8),
    ("FS_PILOT_INPUT", 2, I8),             # 0 off, 1 warn, 2 disarm
    ("FS_PILOT_TIMEOUT", 3.0, F32),        # s
    ("FS_EKF_ACTION", 0, I8),
    ("FS_EKF_THRESH", 0.8, F32),
    ("FS_CRASH_CHECK", 0, I8),
    ("XTRACK_ANG_LIM", 45, I16),
    ("WP_YAW_BEHAVIOR", 1, I8),
    ("PILOT_SPEED_UP", 50, I16),           # cm/s
    ("PILOT_SPEED_DN", 0, I16),            # cm/s, 0 = use PILOT_SPEED_UP
    ("PILOT_SPEED", 200, I16),             # cm/s horizontal, PosHold
    ("PILOT_ACCEL_Z", 100, I16),           # cm/s/s
    ("THR_DZ", 100, I16),                  # PWM us around mid stick
    ("LOG_BITMASK", 830, I32),
    ("ANGLE_MAX", 8000, I16),              # cdeg
    ("JS_GAIN_DEFAULT", 0.5, F32),
    ("JS_GAIN_MAX", 1.0, F32),
    ("JS_GAIN_MIN", 0.25, F32),
    ("JS_GAIN_STEPS", 4, I8),
    ("JS_LIGHTS_STEPS", 8, I8),
    ("JS_THR_GAIN", 1.0, F32),
    ("JS_CAM_TILT_STEP", 50, I16),         # PWM us per press (legacy)
    ("JS_LIGHTS_STEP", 100, I16),          # PWM us per press (legacy)
    ("FRAME_CONFIG", 2, I8),               # 2 = Vectored_6DOF (BlueROV2 Heavy; firmware default 1)
    ("RC_SPEED", 400, I16),                # Hz
    ("ACRO_RP_P", 4.5, F32),
    ("ACRO_YAW_P", 4.5, F32),
    ("ACRO_BAL_ROLL", 1.0, F32),
    ("ACRO_BAL_PITCH", 1.0, F32),
    ("ACRO_TRAINER", 2, I8),
    ("ACRO_EXPO", 0.3, F32),
    ("RNGFND_SQ_MIN", 90, I8),
    ("SURFTRAK_DEPTH", -50, F32),          # cm
    ("WPNAV_SPEED", 100, F32),             # cm/s
    ("WPNAV_RADIUS", 100, F32),            # cm
    ("WPNAV_SPEED_UP", 100, F32),          # cm/s
    ("WPNAV_SPEED_DN", 100, F32),          # cm/s
    ("WPNAV_ACCEL", 100, F32),             # cm/s/s
    ("WPNAV_ACCEL_Z", 100, F32),           # cm/s/s
    ("WPNAV_RFND_USE", 1, I8),
    ("LOIT_SPEED", 500, F32),
    ("LOIT_ACC_MAX", 250, F32),
    ("LOIT_BRK_ACCEL", 125, F32),
    ("LOIT_BRK_DELAY", 1.0, F32),
    ("LOIT_BRK_JERK", 500, F32),
    ("LOIT_ANG_MAX", 0, F32),
    ("CIRCLE_RADIUS", 500, F32),           # cm
    ("CIRCLE_RATE", 10, F32),              # deg/s
    ("CIRCLE_OPTIONS", 1, I16),
    ("ATC_ANG_RLL_P", 6.0, F32),
    ("ATC_ANG_PIT_P", 6.0, F32),
    ("ATC_ANG_YAW_P", 6.0, F32),
    ("ATC_ANG_LIM_TC", 1.0, F32),
    ("ATC_INPUT_TC", 0.15, F32),
    ("ATC_ACCEL_R_MAX", 110000, F32),
    ("ATC_ACCEL_P_MAX", 110000, F32),
    ("ATC_ACCEL_Y_MAX", 27000, F32),
    ("ATC_RATE_FF_ENAB", 1, I8),
    ("ATC_SLEW_YAW", 6000, F32),
    ("ATC_THR_MIX_MIN", 0.1, F32),
    ("ATC_THR_MIX_MAX", 0.5, F32),
    ("ATC_THR_MIX_MAN", 0.5, F32),
    ("ATC_RAT_RLL_P", 0.135, F32),
    ("ATC_RAT_RLL_I", 0.09, F32),
    ("ATC_RAT_RLL_D", 0.0036, F32),
    ("ATC_RAT_RLL_IMAX", 0.444, F32),
    ("ATC_RAT_RLL_FF", 0.0, F32),
    ("ATC_RAT_RLL_FLTD", 30.0, F32),
    ("ATC_RAT_PIT_P", 0.135, F32),
    ("ATC_RAT_PIT_I", 0.09, F32),
    ("ATC_RAT_PIT_D", 0.0036, F32),
    ("ATC_RAT_PIT_IMAX", 0.444, F32),
    ("ATC_RAT_PIT_FF", 0.0, F32),
    ("ATC_RAT_PIT_FLTD", 30.0, F32),
    ("ATC_RAT_YAW_P", 0.18, F32),
    ("ATC_RAT_YAW_I", 0.018, F32),
    ("ATC_RAT_YAW_D", 0.0, F32),
    ("ATC_RAT_YAW_IMAX", 0.222, F32),
    ("ATC_RAT_YAW_FF", 0.0, F32),
    ("ATC_RAT_YAW_FLTE", 2.5, F32),
    ("PSC_POSZ_P", 3.0, F32),
    ("PSC_VELZ_P", 8.0, F32),
    ("PSC_VELZ_I", 0.0, F32),
    ("PSC_ACCZ_P", 0.5, F32),
    ("PSC_ACCZ_I", 0.1, F32),
    ("PSC_ACCZ_D", 0.0, F32),
    ("PSC_ACCZ_IMAX", 100.0, F32),
    ("PSC_POSXY_P", 1.0, F32),
    ("PSC_VELXY_P", 2.0, F32),
    ("PSC_VELXY_I", 1.0, F32),
    ("PSC_VELXY_D", 0.5, F32),
    ("PSC_VELXY_IMAX", 1000.0, F32),
    ("PSC_JERK_XY", 5.0, F32),
    ("PSC_JERK_Z", 5.0, F32),
    ("AHRS_EKF_TYPE", 3, I8),
    ("AHRS_ORIENTATION", 0, I8),
    ("AHRS_GPS_USE", 0, I8),
    ("EK2_ENABLE", 0, I8),
    ("EK3_ENABLE", 1, I8),
    ("EK3_IMU_MASK", 3, I8),
    ("EK3_SRC1_POSXY", 0, I8),             # none: the DVL gives velocity
    ("EK3_SRC1_VELXY", 6, I8),             # ExternalNav (DVL via BlueOS)
    ("EK3_SRC1_POSZ", 1, I8),              # baro = depth sensor
    ("EK3_SRC1_VELZ", 0, I8),
    ("EK3_SRC1_YAW", 1, I8),               # compass
    ("EK3_ALT_M_NSE", 0.1, F32),
    ("EK3_GPS_CHECK", 31, I8),
    ("EK3_MAG_CAL", 3, I8),
    ("COMPASS_USE", 1, I8),
    ("COMPASS_AUTODEC", 1, I8),
    ("COMPASS_DEC", 0.0, F32),
    ("COMPASS_OFS_X", 0.0, F32),
    ("COMPASS_OFS_Y", 0.0, F32),
    ("COMPASS_OFS_Z", 0.0, F32),
    ("INS_GYRO_FILTER", 20, I16),
    ("INS_ACCEL_FILTER", 20, I16),
    ("GPS_TYPE", 0, I8),                   # no GPS underwater
    ("GPS_AUTO_CONFIG", 1, I8),
    ("BATT_MONITOR", 4, I8),               # analog voltage and current
    ("BATT_CAPACITY", 18000, I32),         # mAh, Blue Robotics 18 Ah pack
    ("BATT_VOLT_PIN", 2, I8),
    ("BATT_CURR_PIN", 3, I8),
    ("BATT_VOLT_MULT", 11.0, F32),
    ("BATT_AMP_PERVLT", 37.8788, F32),
    ("BATT_AMP_OFFSET", 0.33, F32),
    ("BATT_LOW_VOLT", 0.0, F32),           # V, 0 = battery failsafe off (firmware default)
    ("BATT_CRT_VOLT", 0.0, F32),
    ("BATT_LOW_MAH", 0.0, F32),
    ("BATT_CRT_MAH", 0.0, F32),
    ("BATT_LOW_TIMER", 10, I8),            # s
    ("BATT_FS_VOLTSRC", 0, I8),
    ("BATT_FS_LOW_ACT", 0, I8),            # Sub: 0 none, 1 warn, 2 disarm, 3 surface
    ("BATT_FS_CRT_ACT", 0, I8),
    ("BATT_ARM_VOLT", 0.0, F32),           # V, refuse arming below (0 = no check)
    ("BATT_ARM_MAH", 0, I32),
    ("BATT_SERIAL_NUM", -1, I32),
    ("MOT_PWM_MIN", 1100, I16),
    ("MOT_PWM_MAX", 1900, I16),
    ("MOT_FV_CPLNG_K", 1.0, F32),
    ("MOT_BAT_VOLT_MAX", 0.0, F32),
    ("MOT_BAT_VOLT_MIN", 0.0, F32),
    ("MOT_BAT_CURR_MAX", 0.0, F32),
    ("MOT_YAW_HEADROOM", 200, I16),
    ("MOT_THST_EXPO", 0.0, F32),
    ("MOT_THST_HOVER", 0.5, F32),          # ArduSub forces 0.5: an ROV does not hover
    ("MOT_SPIN_ARM", 0.1, F32),
    ("MOT_SPIN_MIN", 0.15, F32),
    ("MOT_SPIN_MAX", 0.95, F32),
    ("MNT_TYPE", 1, I8),                   # servo gimbal
    ("MNT_DEFLT_MODE", 3, I8),             # RC targeting
    ("MNT_RC_IN_TILT", 8, I8),
    ("MNT_RC_IN_PAN", 0, I8),
    ("MNT_ANGMIN_TIL", -4500, I16),        # cdeg
    ("MNT_ANGMAX_TIL", 4500, I16),         # cdeg
    ("MNT_ANGMIN_PAN", -4500, I16),
    ("MNT_ANGMAX_PAN", 4500, I16),
    ("MNT_STAB_TILT", 0, I8),
    ("MNT_STAB_ROLL", 0, I8),
    ("MNT_JSTICK_SPD", 0, I8),
    ("RNGFND1_TYPE", 23, I8),              # Blue Robotics Ping echosounder
    ("RNGFND1_ORIENT", 25, I8),            # pitch 270 = down
    ("RNGFND1_MIN_CM", 50, I16),
    ("RNGFND1_MAX_CM", 5000, I16),
    ("RNGFND1_SCALING", 3.0, F32),
    ("RNGFND1_OFFSET", 0.0, F32),
    ("RNGFND1_GNDCLEAR", 10, I8),
    ("RNGFND1_ADDR", 0, I8),
    ("LEAK1_PIN", 27, I8),
    ("LEAK1_LOGIC", 1, I8),
    ("LEAK2_PIN", -1, I8),
    ("LEAK2_LOGIC", 0, I8),
    ("LEAK3_PIN", -1, I8),
    ("LEAK3_LOGIC", 0, I8),
    ("BARO_PRIMARY", 0, I8),
    ("BARO_EXT_BUS", -1, I8),
    ("BARO_SPEC_GRAV", 1.0, F32),          # 1.0 fresh water; set 1.024 for sea water
    ("BARO_PROBE_EXT", 768, I32),          # MS5837 30BA / 02BA
    ("BARO1_GND_PRESS", 101325.0, F32),
    ("BARO2_GND_PRESS", 101325.0, F32),
    ("BARO_ALT_OFFSET", 0.0, F32),
    ("ARMING_CHECK", 1, I32),
    ("ARMING_ACCTHRESH", 0.75, F32),
    ("ARMING_MIS_ITEMS", 0, I32),
    ("MIS_TOTAL", 0, I16),
    ("MIS_RESTART", 0, I8),
    ("MIS_OPTIONS", 0, I16),
    ("SCHED_LOOP_RATE", 400, I16),
    ("SCHED_DEBUG", 0, I8),
    ("SERIAL0_BAUD", 115, I32),
    ("SERIAL0_PROTOCOL", 2, I8),
    ("SERIAL1_BAUD", 57, I32),
    ("SERIAL1_PROTOCOL", 2, I8),
    ("SR0_RAW_SENS", 0, I16),              # stream rates default to 0: the GCS must ask
    ("SR0_EXT_STAT", 0, I16),
    ("SR0_RC_CHAN", 0, I16),
    ("SR0_RAW_CTRL", 0, I16),
    ("SR0_POSITION", 0, I16),
    ("SR0_EXTRA1", 0, I16),
    ("SR0_EXTRA2", 0, I16),
    ("SR0_EXTRA3", 0, I16),
    ("SR0_PARAMS", 0, I16),
    ("SR0_ADSB", 0, I16),
    ("TERRAIN_ENABLE", 0, I8),
    ("LOG_BACKEND_TYPE", 1, I8),
    ("LOG_DISARMED", 0, I8),
    ("NTF_LED_TYPES", 199, I32),
    ("BRD_SAFETYENABLE", 0, I8),
    ("BRD_PWM_COUNT", 8, I8),
    ("RCMAP_ROLL", 2, I8),
    ("RCMAP_PITCH", 1, I8),
    ("RCMAP_THROTTLE", 3, I8),
    ("RCMAP_YAW", 4, I8),
    ("RCMAP_FORWARD", 5, I8),
    ("RCMAP_LATERAL", 6, I8),
)

# SERVOn_FUNCTION: 33..40 = Motor1..8 (Heavy has 8 thrusters), 59/60 = RCIN9/RCIN10
# (lights), 7 = mount tilt.
_SERVO_FUNCTIONS = (33, 34, 35, 36, 37, 38, 39, 40, 59, 60, 7, 0, 0, 0, 0, 0)


def _button_params() -> list[tuple[str, float, int]]:
    rows = []
    for index, (function, shift_function) in enumerate(DEFAULT_BUTTONS):
        rows.append((f"BTN{index}_FUNCTION", function, I8))
        rows.append((f"BTN{index}_SFUNCTION", shift_function, I8))
    return rows


def _servo_params() -> list[tuple[str, float, int]]:
    rows = []
    for channel, function in enumerate(_SERVO_FUNCTIONS, start=1):
        rows += [
            (f"SERVO{channel}_FUNCTION", function, I16),
            (f"SERVO{channel}_MIN", 1100, I16),
            (f"SERVO{channel}_MAX", 1900, I16),
            (f"SERVO{channel}_TRIM", 1500, I16),
            (f"SERVO{channel}_REVERSED", 0, I8),
        ]
    return rows


def _rc_params() -> list[tuple[str, float, int]]:
    rows = []
    for channel in range(1, 12):
        rows += [
            (f"RC{channel}_MIN", 1100, I16),
            (f"RC{channel}_MAX", 1900, I16),
            (f"RC{channel}_TRIM", 1500, I16),
            (f"RC{channel}_DZ", 30 if channel <= 6 else 0, I16),
            (f"RC{channel}_REVERSED", 0, I8),
        ]
    return rows


def _motor_params() -> list[tuple[str, float, int]]:
    return [(f"MOT_{n}_DIRECTION", 1, I8) for n in range(1, 9)]


def default_parameters() -> list[tuple[str, float, int]]:
    """All (name, default value, MAV_PARAM_TYPE) rows, in ArduPilot's sorted order."""
    rows = [*_CORE, *_button_params(), *_servo_params(), *_rc_params(), *_motor_params()]
    names = [name for name, _, _ in rows]
    if len(names) != len(set(names)):
        raise ValueError("duplicate parameter names in the ArduSub table")
    for name in names:
        if len(name) > 16:
            raise ValueError(f"parameter name longer than 16 characters: {name}")
    return sorted(rows, key=lambda row: row[0])
