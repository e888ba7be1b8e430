"""ArduSub flight modes and the controllers that turn pilot input and targets into
a normalised thrust command [surge, sway, heave(down +), yaw(cw +)]."""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from sim import dynamics
from sim.dynamics import BodyState, wrap_pi


class Mode(IntEnum):
    """ArduSub custom_mode numbers."""

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


# ArduSub's mode_requires_GPS(): these need a horizontal position estimate (DVL).
REQUIRES_POSITION = frozenset({Mode.AUTO, Mode.GUIDED, Mode.CIRCLE, Mode.POSHOLD})

SURFACE_CLIMB_M_S = 0.5
STICK_DEADZONE = 0.1
MAX_PILOT_YAW_RATE_RAD_S = math.radians(90.0)
MAX_AUTO_YAW_RATE_RAD_S = math.radians(45.0)
DEPTH_POS_GAIN_PER_S = 1.0
DEPTH_VEL_GAIN_PER_S = 3.0
DEPTH_INT_GAIN = 1.5
XY_POS_GAIN_PER_S = 0.8
XY_VEL_GAIN_PER_S = 2.0
HEADING_GAIN_PER_S = 2.0
YAW_RATE_GAIN = 1.5


def mode_name(custom_mode: int) -> str:
    try:
        return Mode(custom_mode).name
    except ValueError:
        return f"MODE_{custom_mode}"


@dataclass
class PilotInput:
    """Sticks as fractions: x forward, y right, r yaw cw in -1..1; z up in -1..1."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    r: float = 0.0

    @classmethod
    def from_manual_control(cls, x: int, y: int, z: int, r: int) -> "PilotInput":
        def clip(v: float) -> float:
            return max(-1.0, min(1.0, v))
        return cls(clip(x / 1000.0), clip(y / 1000.0), clip((z - 500) / 500.0), clip(r / 1000.0))


@dataclass
class NavTarget:
    """What GUIDED/AUTO/CIRCLE steer to. None fields are not controlled."""

    position_ne_m: np.ndarray | None = None
    depth_m: float | None = None
    velocity_ned_m_s: np.ndarray | None = None
    yaw_rad: float | None = None
    speed_m_s: float = 1.0


def _deadzone(v: float) -> float:
    if abs(v) < STICK_DEADZONE:
        return 0.0
    return math.copysign((abs(v) - STICK_DEADZONE) / (1.0 - STICK_DEADZONE), v)


class Autopilot:
    """Attitude, depth and horizontal position controllers shared by all modes."""

    def __init__(self) -> None:
        self.depth_target_m = 0.0
        self.heading_target_rad = 0.0
        self.xy_target_m = np.zeros(2)
        self.range_target_m: float | None = None
        self._depth_int = 0.0
        self._pilot_climbing = False
        self._pilot_yawing = False
        self._pilot_moving_xy = False

    def reset(self, body: BodyState, est_ned_m: np.ndarray) -> None:
        """Capture holds at the current state (on mode change or arming)."""
        self.depth_target_m = body.depth_m
        self.heading_target_rad = body.yaw_rad
        self.xy_target_m = np.array(est_ned_m[:2], dtype=float)
        self._depth_int = 0.0
        self._pilot_climbing = self._pilot_yawing = self._pilot_moving_xy = False

    # -- building blocks ---------------------------------------------------
    def _yaw_command(self, body: BodyState, pilot_r: float, gain: float,
                     target_rad: float | None = None, hold: bool = True) -> float:
        r = _deadzone(pilot_r)
        if r != 0.0:
            rate_des = r * gain * MAX_PILOT_YAW_RATE_RAD_S * 2.0
            self._pilot_yawing = True
        else:
            if self._pilot_yawing or not hold:
                # hold where it stops, not where the stick was released
                self.heading_target_rad = wrap_pi(body.yaw_rad + body.yaw_rate_rad_s * 0.3)
                self._pilot_yawing = False
            if target_rad is not None:
                self.heading_target_rad = target_rad
            err = wrap_pi(self.heading_target_rad - body.yaw_rad)
            limit = MAX_AUTO_YAW_RATE_RAD_S if target_rad is not None else MAX_PILOT_YAW_RATE_RAD_S
            rate_des = max(-limit, min(limit, HEADING_GAIN_PER_S * err))
        drag = dynamics.YAW_QUAD_DRAG * rate_des * abs(rate_des) + dynamics.YAW_LIN_DRAG * rate_des
        torque = drag + YAW_RATE_GAIN * dynamics.YAW_INERTIA_KGM2 * 4.0 * (rate_des - body.yaw_rate_rad_s)
        return torque / dynamics.MAX_YAW_TORQUE_NM

    def _depth_command(self, body: BodyState, dt_s: float, climb_up_m_s: float,
                       speed_up_m_s: float, speed_dn_m_s: float,
                       vel_ff_down_m_s: float = 0.0) -> float:
        if climb_up_m_s != 0.0:
            v_des = -climb_up_m_s
            self.depth_target_m = body.depth_m
            self._pilot_climbing = True
        else:
            if self._pilot_climbing:
                # stopping distance at the pilot's deceleration avoids an overshoot bounce
                v = body.velocity_ned_m_s[2]
                self.depth_target_m = body.depth_m + v * abs(v) / 2.0
                self._pilot_climbing = False
            err = self.depth_target_m - body.depth_m
            v_des = max(-speed_up_m_s, min(speed_dn_m_s, DEPTH_POS_GAIN_PER_S * err)) + vel_ff_down_m_s
        v_err = v_des - body.velocity_ned_m_s[2]
        self._depth_int = max(-0.3, min(0.3, self._depth_int + DEPTH_INT_GAIN * v_err * dt_s / 10.0))
        force = (dynamics.EFFECTIVE_MASS_KG[2] * DEPTH_VEL_GAIN_PER_S * v_err
                 + dynamics.QUAD_DRAG_N_PER_M2S2[2] * v_des * abs(v_des)
                 + dynamics.LIN_DRAG_N_PER_MS[2] * v_des
                 + dynamics.NET_BUOYANCY_N)
        return force / dynamics.MAX_THRUST_N[2] + self._depth_int

    def _xy_command(self, body: BodyState, est_ned_m: np.ndarray, v_des_ne: np.ndarray) -> np.ndarray:
        c, s = math.cos(body.yaw_rad), math.sin(body.yaw_rad)
        v_des_body = np.array([c * v_des_ne[0] + s * v_des_ne[1], -s * v_des_ne[0] + c * v_des_ne[1]])
        v_body = np.array([
            c * body.velocity_ned_m_s[0] + s * body.velocity_ned_m_s[1],
            -s * body.velocity_ned_m_s[0] + c * body.velocity_ned_m_s[1],
        ])
        force = (dynamics.EFFECTIVE_MASS_KG[:2] * XY_VEL_GAIN_PER_S * (v_des_body - v_body)
                 + dynamics.QUAD_DRAG_N_PER_M2S2[:2] * v_des_body * np.abs(v_des_body)
                 + dynamics.LIN_DRAG_N_PER_MS[:2] * v_des_body)
        return force / dynamics.MAX_THRUST_N[:2]

    def _xy_position(self, est_ned_m: np.ndarray, target_ne: np.ndarray, speed_m_s: float) -> np.ndarray:
        v = XY_POS_GAIN_PER_S * (target_ne - est_ned_m[:2])
        norm = float(np.linalg.norm(v))
        if norm > speed_m_s > 0.0:
            v *= speed_m_s / norm
        return v

    # -- per mode ----------------------------------------------------------
    def update(self, mode: Mode, body: BodyState, est_ned_m: np.ndarray, pilot: PilotInput,
               nav: NavTarget, limits: "Limits", dt_s: float) -> np.ndarray:
        g = limits.gain
        thr = _deadzone(pilot.z) * g * limits.throttle_gain
        climb = thr * (limits.pilot_speed_up_m_s if thr > 0 else limits.pilot_speed_dn_m_s)
        cmd = np.zeros(4)
        if mode in (Mode.MANUAL, Mode.MOTOR_DETECT):
            if mode == Mode.MOTOR_DETECT:
                return cmd
            return np.array([pilot.x * g, pilot.y * g, -pilot.z * g * limits.throttle_gain, pilot.r * g])
        if mode in (Mode.STABILIZE, Mode.ACRO):
            cmd[:2] = (pilot.x * g, pilot.y * g)
            cmd[2] = -pilot.z * g * limits.throttle_gain
            cmd[3] = self._yaw_command(body, pilot.r, g, hold=(mode == Mode.STABILIZE))
            return cmd
        if mode == Mode.SURFACE:
            cmd[2] = self._depth_command(body, dt_s, SURFACE_CLIMB_M_S if body.depth_m > 0.05 else 0.0,
                                         SURFACE_CLIMB_M_S, 0.0)
            cmd[3] = self._yaw_command(body, 0.0, g)
            return cmd
        if mode in (Mode.ALT_HOLD, Mode.SURFTRAK):
            cmd[:2] = (pilot.x * g, pilot.y * g)
            if mode == Mode.SURFTRAK and limits.range_m is not None and self.range_target_m is not None \
                    and climb == 0.0 and not self._pilot_climbing:
                # terrain following: hold the rangefinder distance, not the depth
                self.depth_target_m = body.depth_m + (limits.range_m - self.range_target_m)
            elif mode == Mode.SURFTRAK and climb != 0.0 and limits.range_m is not None:
                self.range_target_m = limits.range_m
            cmd[2] = self._depth_command(body, dt_s, climb, limits.pilot_speed_up_m_s, limits.pilot_speed_dn_m_s)
            cmd[3] = self._yaw_command(body, pilot.r, g)
            return cmd
        if mode == Mode.POSHOLD:
            sticks = np.array([_deadzone(pilot.x), _deadzone(pilot.y)])
            c, s = math.cos(body.yaw_rad), math.sin(body.yaw_rad)
            if np.any(sticks != 0.0):
                v_body = sticks * g * limits.pilot_speed_xy_m_s
                v_ne = np.array([c * v_body[0] - s * v_body[1], s * v_body[0] + c * v_body[1]])
                self.xy_target_m = np.array(est_ned_m[:2], dtype=float)
                self._pilot_moving_xy = True
            else:
                if self._pilot_moving_xy:
                    self.xy_target_m = np.array(est_ned_m[:2], dtype=float)
                    self._pilot_moving_xy = False
                v_ne = self._xy_position(est_ned_m, self.xy_target_m, limits.pilot_speed_xy_m_s)
            cmd[:2] = self._xy_command(body, est_ned_m, v_ne)
            cmd[2] = self._depth_command(body, dt_s, climb, limits.pilot_speed_up_m_s, limits.pilot_speed_dn_m_s)
            cmd[3] = self._yaw_command(body, pilot.r, g)
            return cmd
        # GUIDED, AUTO, CIRCLE: follow the navigation target
        if nav.position_ne_m is not None:
            self.xy_target_m = np.array(nav.position_ne_m, dtype=float)
            v_ne = self._xy_position(est_ned_m, self.xy_target_m, nav.speed_m_s)
        elif nav.velocity_ned_m_s is not None:
            v_ne = np.array(nav.velocity_ned_m_s[:2], dtype=float)
            self.xy_target_m = np.array(est_ned_m[:2], dtype=float)
        else:
            v_ne = self._xy_position(est_ned_m, self.xy_target_m, nav.speed_m_s)
        if nav.velocity_ned_m_s is not None and nav.position_ne_m is not None:
            v_ne = v_ne + np.array(nav.velocity_ned_m_s[:2])
        cmd[:2] = self._xy_command(body, est_ned_m, v_ne)
        vz_ff = 0.0
        if nav.depth_m is not None:
            self.depth_target_m = nav.depth_m
        elif nav.velocity_ned_m_s is not None:
            vz_ff = float(nav.velocity_ned_m_s[2])
            self.depth_target_m = body.depth_m
        cmd[2] = self._depth_command(body, dt_s, 0.0, limits.wp_speed_up_m_s, limits.wp_speed_dn_m_s, vz_ff)
        cmd[3] = self._yaw_command(body, 0.0, g, target_rad=nav.yaw_rad)
        return cmd


@dataclass
class Limits:
    """Parameter-driven limits read once per control step."""

    gain: float = 0.5
    throttle_gain: float = 1.0
    pilot_speed_up_m_s: float = 0.5
    pilot_speed_dn_m_s: float = 0.5
    pilot_speed_xy_m_s: float = 2.0
    wp_speed_up_m_s: float = 1.0
    wp_speed_dn_m_s: float = 1.0
    range_m: float | None = None
