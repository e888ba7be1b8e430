"""Rigid-body motion of a BlueROV2 Heavy-sized vehicle, plus its battery and DVL.

Deliberately simple: surge/sway/heave/yaw with quadratic drag and added mass, net
positive buoyancy (so an idle vehicle creeps up, as a trimmed ROV does), and roll
and pitch that only wobble a little and self-right (the Heavy is very stable).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MASS_KG = 11.5
# Added mass makes the water around the hull accelerate with it; heave is the largest.
EFFECTIVE_MASS_KG = np.array([17.0, 20.0, 24.0])      # surge, sway, heave
MAX_THRUST_N = np.array([90.0, 90.0, 110.0])          # per axis, body frame
QUAD_DRAG_N_PER_M2S2 = np.array([40.0, 60.0, 80.0])   # top speed ~1.5 m/s surge
LIN_DRAG_N_PER_MS = np.array([5.0, 6.0, 8.0])
NET_BUOYANCY_N = 2.0                                   # up; ~0.13 m/s idle rise
YAW_INERTIA_KGM2 = 0.6
MAX_YAW_TORQUE_NM = 20.0
YAW_QUAD_DRAG = 4.0
YAW_LIN_DRAG = 0.8
NOMINAL_VOLTAGE_FULL_V = 16.0
VOLTAGE_EMPTY_V = 13.2
BATTERY_INTERNAL_OHM = 0.02
IDLE_CURRENT_A = 1.2            # electronics, camera, lights off
THRUSTER_FULL_CURRENT_A = 18.0  # all axes at full command together
LIGHT_CURRENT_A = 1.5           # per light channel at full brightness
DVL_DRIFT_M_PER_SQRT_S = 0.01   # random walk of the dead-reckoned position at 1 m/s
DVL_IDLE_DRIFT_FRACTION = 0.1   # a hovering DVL still drifts a little


def wrap_pi(angle_rad: float) -> float:
    return (angle_rad + math.pi) % (2.0 * math.pi) - math.pi


@dataclass
class BodyState:
    position_ned_m: np.ndarray = field(default_factory=lambda: np.zeros(3))
    velocity_ned_m_s: np.ndarray = field(default_factory=lambda: np.zeros(3))
    roll_rad: float = 0.0
    pitch_rad: float = 0.0
    yaw_rad: float = 0.0
    roll_rate_rad_s: float = 0.0
    pitch_rate_rad_s: float = 0.0
    yaw_rate_rad_s: float = 0.0

    @property
    def depth_m(self) -> float:
        return float(self.position_ned_m[2])


class RigidBody:
    """Integrates body motion from a normalised thrust command."""

    def __init__(self, seabed_depth_m: float, start_depth_m: float, rng: np.random.Generator) -> None:
        self.state = BodyState()
        self.state.position_ned_m[2] = min(max(0.0, start_depth_m), seabed_depth_m)
        self.seabed_depth_m = seabed_depth_m
        self._rng = rng
        self.last_command = np.zeros(4)

    def body_velocity_m_s(self) -> np.ndarray:
        c, s = math.cos(self.state.yaw_rad), math.sin(self.state.yaw_rad)
        vn, ve, vd = self.state.velocity_ned_m_s
        return np.array([c * vn + s * ve, -s * vn + c * ve, vd])

    def step(self, command: np.ndarray, dt_s: float) -> None:
        """command = [surge, sway, heave(down +), yaw(cw +)], each in -1..1."""
        st = self.state
        cmd = np.clip(np.asarray(command, dtype=float), -1.0, 1.0)
        self.last_command = cmd
        v_body = self.body_velocity_m_s()
        force = cmd[:3] * MAX_THRUST_N
        force -= QUAD_DRAG_N_PER_M2S2 * v_body * np.abs(v_body) + LIN_DRAG_N_PER_MS * v_body
        force[2] -= NET_BUOYANCY_N
        accel_body = force / EFFECTIVE_MASS_KG
        c, s = math.cos(st.yaw_rad), math.sin(st.yaw_rad)
        accel_ned = np.array([
            c * accel_body[0] - s * accel_body[1],
            s * accel_body[0] + c * accel_body[1],
            accel_body[2],
        ])
        st.velocity_ned_m_s = st.velocity_ned_m_s + accel_ned * dt_s
        st.position_ned_m = st.position_ned_m + st.velocity_ned_m_s * dt_s
        if st.position_ned_m[2] <= 0.0:
            st.position_ned_m[2] = 0.0
            st.velocity_ned_m_s[2] = max(0.0, st.velocity_ned_m_s[2])
        elif st.position_ned_m[2] >= self.seabed_depth_m:
            st.position_ned_m[2] = self.seabed_depth_m
            st.velocity_ned_m_s[2] = min(0.0, st.velocity_ned_m_s[2])

        torque = cmd[3] * MAX_YAW_TORQUE_NM
        r = st.yaw_rate_rad_s
        torque -= YAW_QUAD_DRAG * r * abs(r) + YAW_LIN_DRAG * r
        st.yaw_rate_rad_s = r + torque / YAW_INERTIA_KGM2 * dt_s
        st.yaw_rad = wrap_pi(st.yaw_rad + st.yaw_rate_rad_s * dt_s)

        # Surge/sway acceleration tips the frame a little; the righting moment of a
        # low centre of mass brings it back (a damped second-order response).
        self._tilt_axis(dt_s, "pitch", -0.02 * accel_body[0])
        self._tilt_axis(dt_s, "roll", 0.02 * accel_body[1])

    def _tilt_axis(self, dt_s: float, axis: str, target_rad: float) -> None:
        angle = getattr(self.state, f"{axis}_rad")
        rate = getattr(self.state, f"{axis}_rate_rad_s")
        noise = float(self._rng.normal(0.0, 0.02))
        accel = 16.0 * (target_rad - angle) - 6.0 * rate + noise
        rate += accel * dt_s
        setattr(self.state, f"{axis}_rate_rad_s", rate)
        setattr(self.state, f"{axis}_rad", angle + rate * dt_s)


class Battery:
    """4S pack: current from thrust, voltage sags with charge and load."""

    def __init__(self, capacity_mah: float) -> None:
        self.capacity_mah = capacity_mah
        self.consumed_mah = 0.0
        self.current_a = IDLE_CURRENT_A
        self.voltage_v = NOMINAL_VOLTAGE_FULL_V

    @property
    def remaining_fraction(self) -> float:
        if self.capacity_mah <= 0:
            return 1.0
        return max(0.0, 1.0 - self.consumed_mah / self.capacity_mah)

    def set_remaining_fraction(self, fraction: float) -> None:
        self.consumed_mah = (1.0 - min(1.0, max(0.0, fraction))) * self.capacity_mah
        self._update_voltage()

    def step(self, command: np.ndarray, lights: float, dt_s: float) -> None:
        effort = float(np.sum(np.abs(command) ** 1.5)) / len(command)
        self.current_a = IDLE_CURRENT_A + THRUSTER_FULL_CURRENT_A * effort + LIGHT_CURRENT_A * lights
        self.consumed_mah += self.current_a * dt_s / 3.6
        self._update_voltage()

    def _update_voltage(self) -> None:
        open_circuit = VOLTAGE_EMPTY_V + (NOMINAL_VOLTAGE_FULL_V - VOLTAGE_EMPTY_V) * self.remaining_fraction
        self.voltage_v = open_circuit - BATTERY_INTERNAL_OHM * self.current_a


class DvlEstimate:
    """Dead-reckoned horizontal position: truth plus a slowly growing random walk."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self.drift_ne_m = np.zeros(2)

    def step(self, dt_s: float, speed_m_s: float) -> None:
        # dead reckoning error grows with distance travelled, not just with time
        sigma = DVL_DRIFT_M_PER_SQRT_S * math.sqrt(dt_s) * (DVL_IDLE_DRIFT_FRACTION + speed_m_s)
        self.drift_ne_m = self.drift_ne_m + self._rng.normal(0.0, sigma, 2)

    def position_ned_m(self, truth_ned_m: np.ndarray) -> np.ndarray:
        est = np.array(truth_ned_m, dtype=float)
        est[:2] += self.drift_ne_m
        return est
