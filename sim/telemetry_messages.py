"""Builds the telemetry messages a GCS receives from ArduSub, from the simulated
vehicle's state. Called with the vehicle's lock held."""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Callable

import numpy as np

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.mission_server import ne_m_to_latlon
from sim.modes import Mode

if TYPE_CHECKING:
    from sim.vehicle_server import SimVehicle

M = mavlink
FIRMWARE_VERSION = (4, 1, 1)
FIRMWARE_GIT_HASH = "hullsim0"
GRAVITY_M_S2 = 9.80665
SURFACE_PRESSURE_HPA = 1013.25
INTERNAL_TEMPERATURE_C = 32.0


class TelemetryMessages:
    def __init__(self, vehicle: "SimVehicle") -> None:
        self.v = vehicle
        self._enc = M.MAVLink(None)

    def by_id(self) -> dict[int, Callable[[], object | None]]:
        return {
            M.MAVLINK_MSG_ID_SYS_STATUS: self.sys_status,
            M.MAVLINK_MSG_ID_ATTITUDE: self.attitude,
            M.MAVLINK_MSG_ID_VFR_HUD: self.vfr_hud,
            M.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: self.global_position_int,
            M.MAVLINK_MSG_ID_LOCAL_POSITION_NED: self.local_position_ned,
            M.MAVLINK_MSG_ID_SCALED_PRESSURE: self.scaled_pressure,
            M.MAVLINK_MSG_ID_SCALED_PRESSURE2: self.scaled_pressure2,
            M.MAVLINK_MSG_ID_DISTANCE_SENSOR: self.distance_sensor,
            M.MAVLINK_MSG_ID_RANGEFINDER: self.rangefinder,
            M.MAVLINK_MSG_ID_BATTERY_STATUS: self.battery_status,
            M.MAVLINK_MSG_ID_EKF_STATUS_REPORT: self.ekf_status,
            M.MAVLINK_MSG_ID_GPS_RAW_INT: self.gps_raw_int,
            M.MAVLINK_MSG_ID_GPS_GLOBAL_ORIGIN: lambda: self.origin_message() if self.v.origin else None,
            M.MAVLINK_MSG_ID_SYSTEM_TIME: self.system_time,
            M.MAVLINK_MSG_ID_SERVO_OUTPUT_RAW: self.servo_output_raw,
            M.MAVLINK_MSG_ID_RC_CHANNELS: self.rc_channels,
            M.MAVLINK_MSG_ID_MISSION_CURRENT: lambda: self._enc.mission_current_encode(self.v.mission.current_seq),
            M.MAVLINK_MSG_ID_NAMED_VALUE_FLOAT: lambda: None,
            M.MAVLINK_MSG_ID_HOME_POSITION: lambda: self.home_position() if self.v.origin else None,
        }

    def system_status(self) -> int:
        if self.v.failsafes.active():
            return M.MAV_STATE_CRITICAL
        return M.MAV_STATE_ACTIVE if self.v.armed else M.MAV_STATE_STANDBY

    def heartbeat(self) -> object:
        base = M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | M.MAV_MODE_FLAG_STABILIZE_ENABLED \
            | M.MAV_MODE_FLAG_MANUAL_INPUT_ENABLED
        if self.v.mode in (Mode.AUTO, Mode.GUIDED, Mode.CIRCLE, Mode.POSHOLD):
            base |= M.MAV_MODE_FLAG_GUIDED_ENABLED
        if self.v.armed:
            base |= M.MAV_MODE_FLAG_SAFETY_ARMED
        return self._enc.heartbeat_encode(M.MAV_TYPE_SUBMARINE, M.MAV_AUTOPILOT_ARDUPILOTMEGA,
                                              base, int(self.v.mode), self.system_status(), 3)

    def autopilot_version(self) -> object:
        major, minor, patch = FIRMWARE_VERSION
        version = (major << 24) | (minor << 16) | (patch << 8) | M.FIRMWARE_VERSION_TYPE_OFFICIAL
        caps = (M.MAV_PROTOCOL_CAPABILITY_MISSION_FLOAT | M.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT
                | M.MAV_PROTOCOL_CAPABILITY_MISSION_INT | M.MAV_PROTOCOL_CAPABILITY_COMMAND_INT
                | M.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_LOCAL_NED
                | M.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_GLOBAL_INT
                | M.MAV_PROTOCOL_CAPABILITY_COMPASS_CALIBRATION | M.MAV_PROTOCOL_CAPABILITY_MAVLINK2)
        uid = 0x48554C4C5349_0000 + int(self.v.params.get("SYSID_THISMAV"))
        return self._enc.autopilot_version_encode(
            caps, version, 0, 0, 0, FIRMWARE_GIT_HASH.encode()[:8], bytes(8), bytes(8),
            0x1209, 0x5741, uid, bytes(18))

    def named_floats(self) -> list[object]:
        t = self.v.time_boot_ms()
        values = (("CamTilt", self.v.acc.cam_tilt), ("CamPan", self.v.acc.cam_pan), ("TetherTrn", self.tether_turns()),
                  ("Lights1", self.v.acc.lights1), ("Lights2", self.v.acc.lights2), ("PilotGain", self.v.acc.gain),
                  ("InputHold", float(self.v.acc.input_hold)), ("RollPitch", float(self.v.acc.roll_pitch)))
        return [self._enc.named_value_float_encode(t, name.encode(), float(value)) for name, value in values]

    def tether_turns(self) -> float:
        # net quarter turns of heading since boot, as ArduSub's TetherTrn counts them
        return float(int(self.v.yaw_total_rad / (math.pi / 2.0))) / 4.0

    def sys_status(self) -> object:
        s = M
        sensors = (s.MAV_SYS_STATUS_SENSOR_3D_GYRO | s.MAV_SYS_STATUS_SENSOR_3D_ACCEL
                   | s.MAV_SYS_STATUS_SENSOR_3D_MAG | s.MAV_SYS_STATUS_SENSOR_ABSOLUTE_PRESSURE
                   | s.MAV_SYS_STATUS_SENSOR_ANGULAR_RATE_CONTROL | s.MAV_SYS_STATUS_SENSOR_ATTITUDE_STABILIZATION
                   | s.MAV_SYS_STATUS_SENSOR_YAW_POSITION | s.MAV_SYS_STATUS_SENSOR_Z_ALTITUDE_CONTROL
                   | s.MAV_SYS_STATUS_SENSOR_MOTOR_OUTPUTS | s.MAV_SYS_STATUS_AHRS
                   | s.MAV_SYS_STATUS_SENSOR_BATTERY | s.MAV_SYS_STATUS_SENSOR_LASER_POSITION)
        if self.v.config.position_estimate:
            sensors |= s.MAV_SYS_STATUS_SENSOR_XY_POSITION_CONTROL | s.MAV_SYS_STATUS_SENSOR_VISION_POSITION
        health = sensors
        if self.v.failsafes.battery:
            health &= ~s.MAV_SYS_STATUS_SENSOR_BATTERY
        return self._enc.sys_status_encode(
            sensors, sensors, health, 250, int(self.v.battery.voltage_v * 1000),
            int(self.v.battery.current_a * 100), int(round(100 * self.v.battery.remaining_fraction)),
            0, 0, 0, 0, 0, 0)

    def attitude(self) -> object:
        st = self.v.body.state
        return self._enc.attitude_encode(self.v.time_boot_ms(), st.roll_rad, st.pitch_rad, st.yaw_rad,
                                             st.roll_rate_rad_s, st.pitch_rate_rad_s, st.yaw_rate_rad_s)

    def heading_deg(self) -> float:
        return math.degrees(self.v.body.state.yaw_rad) % 360.0

    def vfr_hud(self) -> object:
        st = self.v.body.state
        ground_speed = float(np.linalg.norm(st.velocity_ned_m_s[:2]))
        throttle_pct = int(round(50 - 50 * self.v.body.last_command[2]))  # 50 % = neutral on a sub
        return self._enc.vfr_hud_encode(0.0, ground_speed, int(self.heading_deg()) % 360,
                                            max(0, min(100, throttle_pct)), -st.depth_m,
                                            -float(st.velocity_ned_m_s[2]))

    def global_position_int(self) -> object:
        st = self.v.body.state
        lat_e7 = lon_e7 = 0
        alt_mm = int(-st.depth_m * 1000)
        if self.v.origin is not None and self.v.config.position_estimate:
            lat, lon = ne_m_to_latlon(self.v.estimate()[:2], self.v.origin[0], self.v.origin[1])
            lat_e7, lon_e7 = int(round(lat * 1e7)), int(round(lon * 1e7))
            alt_mm = int((self.v.origin[2] - st.depth_m) * 1000)
        v = st.velocity_ned_m_s
        return self._enc.global_position_int_encode(
            self.v.time_boot_ms(), lat_e7, lon_e7, alt_mm, int(-st.depth_m * 1000),
            int(v[0] * 100), int(v[1] * 100), int(v[2] * 100), int(self.heading_deg() * 100) % 36000)

    def local_position_ned(self) -> object | None:
        if not self.v.config.position_estimate:
            return None
        est = self.v.estimate()
        v = self.v.body.state.velocity_ned_m_s
        return self._enc.local_position_ned_encode(self.v.time_boot_ms(), est[0], est[1], est[2],
                                                       v[0], v[1], v[2])

    def water_density_kg_m3(self) -> float:
        return 1000.0 * self.v.params.get("BARO_SPEC_GRAV")

    def scaled_pressure(self) -> object:
        return self._enc.scaled_pressure_encode(self.v.time_boot_ms(), SURFACE_PRESSURE_HPA + 5.0, 0.0,
                                                    int(INTERNAL_TEMPERATURE_C * 100))

    def scaled_pressure2(self) -> object:
        depth = self.v.body.state.depth_m
        noise_hpa = float(self.v.rng.normal(0.0, 0.02))
        press = SURFACE_PRESSURE_HPA + depth * self.water_density_kg_m3() * GRAVITY_M_S2 / 100.0 + noise_hpa
        return self._enc.scaled_pressure2_encode(self.v.time_boot_ms(), press, 0.0,
                                                     int(self.v.config.water_temperature_c * 100))

    def distance_sensor(self) -> object:
        min_cm = int(self.v.params.get("RNGFND1_MIN_CM"))
        max_cm = int(self.v.params.get("RNGFND1_MAX_CM"))
        rng = self.v.last_range_m
        if rng is None or not math.isfinite(rng) or rng * 100 > max_cm:
            distance_cm, quality = max_cm, 1   # 1 = invalid reading, as MAVLink defines it
        else:
            distance_cm, quality = max(min_cm, int(rng * 100)), 100
        return self._enc.distance_sensor_encode(
            self.v.time_boot_ms(), min_cm, max_cm, distance_cm, M.MAV_DISTANCE_SENSOR_ULTRASOUND, 1,
            int(self.v.params.get("RNGFND1_ORIENT")), 255, 0.0, 0.0, [0.0] * 4, quality)

    def rangefinder(self) -> object:
        rng = self.v.last_range_m
        return self._enc.rangefinder_encode(float(rng) if rng is not None else 0.0, 0.0)

    def battery_status(self) -> object:
        volts = [min(65534, int(self.v.battery.voltage_v * 1000))] + [65535] * 9
        return self._enc.battery_status_encode(
            0, M.MAV_BATTERY_FUNCTION_ALL, M.MAV_BATTERY_TYPE_LIPO, 32767, volts,
            int(self.v.battery.current_a * 100), int(self.v.battery.consumed_mah),
            int(self.v.battery.consumed_mah * 3.6 * 14.8 / 100), int(round(100 * self.v.battery.remaining_fraction)))

    def ekf_status(self) -> object:
        flags = M.EKF_ATTITUDE | M.EKF_VELOCITY_VERT | M.EKF_POS_VERT_ABS
        if self.v.config.position_estimate:
            flags |= M.EKF_VELOCITY_HORIZ | M.EKF_POS_HORIZ_REL | M.EKF_PRED_POS_HORIZ_REL
            if self.v.origin is not None:
                flags |= M.EKF_POS_HORIZ_ABS | M.EKF_PRED_POS_HORIZ_ABS
        else:
            flags |= M.EKF_CONST_POS_MODE
        return self._enc.ekf_status_report_encode(flags, 0.05, 0.08, 0.02, 0.03, 0.0)

    def gps_raw_int(self) -> object:
        return self._enc.gps_raw_int_encode(int(self.v.now_s * 1e6), M.GPS_FIX_TYPE_NO_GPS, 0, 0, 0,
                                                65535, 65535, 65535, 65535, 0)

    def origin_message(self) -> object:
        lat, lon, alt = self.v.origin
        return self._enc.gps_global_origin_encode(int(round(lat * 1e7)), int(round(lon * 1e7)),
                                                      int(alt * 1000), int(time.time() * 1e6))

    def home_position(self) -> object:
        home = self.v.mission.items[0]
        alt = int((self.v.origin[2] if self.v.origin else 0.0) * 1000)
        return self._enc.home_position_encode(home.x, home.y, alt, 0.0, 0.0, 0.0, [1.0, 0.0, 0.0, 0.0],
                                                  0.0, 0.0, 0.0)

    def system_time(self) -> object:
        return self._enc.system_time_encode(int(time.time() * 1e6), self.v.time_boot_ms())

    def servo_output_raw(self) -> object:
        f, l, z, r = self.v.body.last_command if self.v.armed else np.zeros(4)
        # Vectored_6DOF: four 45-degree horizontal thrusters and four vertical ones
        horizontal = [f - l + r, f + l - r, -f - l - r, -f + l + r]
        vertical = [-z, -z, -z, -z]
        pwm = [int(1500 + 400 * max(-1.0, min(1.0, u))) for u in horizontal + vertical]
        lights = [int(1100 + 800 * self.v.acc.lights1), int(1100 + 800 * self.v.acc.lights2),
                  int(1100 + 800 * self.v.acc.cam_tilt)]
        return self._enc.servo_output_raw_encode(int(self.v.now_s * 1e6) & 0xFFFFFFFF, 0,
                                                     *pwm, *lights, 0, 0, 0, 0, 0)

    def rc_channels(self) -> object:
        p, g = self.v.pilot, self.v.acc.gain

        def pwm(value: float) -> int:
            return int(1500 + 400 * max(-1.0, min(1.0, value)))
        chans = [1500, 1500, pwm(p.z * g), pwm(p.r * g), pwm(p.x * g), pwm(p.y * g), 1500,
                 int(1100 + 800 * self.v.acc.cam_tilt), int(1100 + 800 * self.v.acc.lights1),
                 int(1100 + 800 * self.v.acc.lights2), 1500] + [65535] * 7
        return self._enc.rc_channels_encode(self.v.time_boot_ms(), 11, *chans, 255)
