"""MANUAL_CONTROL buttons as ArduSub handles them: BTNn_FUNCTION / BTNn_SFUNCTION,
momentary functions on the press edge, tilt/pan functions while held."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import ardusub_params as fn
from sim.modes import Mode

MOUNT_RATE_PER_S = 0.25   # fraction of the 0..1 tilt range per second while held
MAX_BUTTONS = 32

BUTTON_MODES = {
    fn.BTN_MODE_MANUAL: Mode.MANUAL, fn.BTN_MODE_STABILIZE: Mode.STABILIZE,
    fn.BTN_MODE_DEPTH_HOLD: Mode.ALT_HOLD, fn.BTN_MODE_POSHOLD: Mode.POSHOLD,
    fn.BTN_MODE_AUTO: Mode.AUTO, fn.BTN_MODE_CIRCLE: Mode.CIRCLE,
    fn.BTN_MODE_GUIDED: Mode.GUIDED, fn.BTN_MODE_ACRO: Mode.ACRO,
    fn.BTN_MODE_SURFTRAK: Mode.SURFTRAK,
}


@dataclass
class Accessories:
    """Camera mount, lights and pilot gain; all 0..1 except gain (JS_GAIN_MIN..MAX)."""

    lights1: float = 0.0
    lights2: float = 0.0
    cam_tilt: float = 0.5
    cam_pan: float = 0.5
    gain: float = 0.5
    input_hold: bool = False
    roll_pitch: bool = False
    tilt_rate: float = 0.0   # -1, 0, +1 while a tilt button is held
    pan_rate: float = 0.0
    lights1_rising: bool = True
    lights2_rising: bool = True

    def step(self, dt_s: float) -> None:
        self.cam_tilt = min(1.0, max(0.0, self.cam_tilt + self.tilt_rate * MOUNT_RATE_PER_S * dt_s))
        self.cam_pan = min(1.0, max(0.0, self.cam_pan + self.pan_rate * MOUNT_RATE_PER_S * dt_s))


class VehicleActions(Protocol):
    def arm_from_pilot(self) -> None: ...
    def disarm_from_pilot(self) -> None: ...
    def is_armed(self) -> bool: ...
    def set_mode_from_pilot(self, mode: Mode) -> None: ...
    def send_text(self, severity: int, text: str) -> None: ...
    def param(self, name: str) -> float: ...


class ButtonHandler:
    def __init__(self) -> None:
        self._previous_mask = 0

    def process(self, mask: int, acc: Accessories, actions: VehicleActions) -> None:
        functions = [(int(actions.param(f"BTN{i}_FUNCTION")), int(actions.param(f"BTN{i}_SFUNCTION")))
                     if i < 16 else (0, 0) for i in range(MAX_BUTTONS)]
        pressed = [i for i in range(MAX_BUTTONS) if mask & (1 << i)]
        shift = any(functions[i][0] == fn.BTN_SHIFT for i in pressed)
        acc.tilt_rate = 0.0
        acc.pan_rate = 0.0
        for i in pressed:
            function = functions[i][1] if shift and functions[i][0] != fn.BTN_SHIFT else functions[i][0]
            held = bool(self._previous_mask & (1 << i))
            self._apply(function, held, acc, actions)
        self._previous_mask = mask

    def _apply(self, function: int, held: bool, acc: Accessories, actions: VehicleActions) -> None:
        # held functions act continuously; every other function only on the press edge
        if function == fn.BTN_MOUNT_TILT_UP:
            acc.tilt_rate = 1.0
        elif function == fn.BTN_MOUNT_TILT_DOWN:
            acc.tilt_rate = -1.0
        elif function == fn.BTN_MOUNT_PAN_RIGHT:
            acc.pan_rate = 1.0
        elif function == fn.BTN_MOUNT_PAN_LEFT:
            acc.pan_rate = -1.0
        if held:
            return
        info = mavlink.MAV_SEVERITY_INFO
        if function == fn.BTN_ARM:
            actions.arm_from_pilot()
        elif function == fn.BTN_DISARM:
            actions.disarm_from_pilot()
        elif function == fn.BTN_ARM_TOGGLE:
            (actions.disarm_from_pilot if actions.is_armed() else actions.arm_from_pilot)()
        elif function in BUTTON_MODES:
            actions.set_mode_from_pilot(BUTTON_MODES[function])
        elif function == fn.BTN_MOUNT_CENTER:
            acc.cam_tilt = 0.5
            acc.cam_pan = 0.5
        elif function in (fn.BTN_LIGHTS1_BRIGHTER, fn.BTN_LIGHTS1_DIMMER, fn.BTN_LIGHTS1_CYCLE):
            acc.lights1, acc.lights1_rising = self._lights(
                function - fn.BTN_LIGHTS1_CYCLE, acc.lights1, acc.lights1_rising, actions)
        elif function in (fn.BTN_LIGHTS2_BRIGHTER, fn.BTN_LIGHTS2_DIMMER, fn.BTN_LIGHTS2_CYCLE):
            acc.lights2, acc.lights2_rising = self._lights(
                function - fn.BTN_LIGHTS2_CYCLE, acc.lights2, acc.lights2_rising, actions)
        elif function in (fn.BTN_GAIN_INC, fn.BTN_GAIN_DEC, fn.BTN_GAIN_TOGGLE):
            self._gain(function, acc, actions)
            actions.send_text(info, f"#Gain is {acc.gain * 100:2.0f}%")
        elif function == fn.BTN_INPUT_HOLD_SET:
            acc.input_hold = not acc.input_hold
            actions.send_text(info, "#Input Hold Set" if acc.input_hold else "#Input Hold Disabled")
        elif function == fn.BTN_ROLL_PITCH_TOGGLE:
            acc.roll_pitch = not acc.roll_pitch
            actions.send_text(info, "#RollPitch Enabled" if acc.roll_pitch else "#RollPitch Disabled")

    @staticmethod
    def _lights(offset: int, level: float, rising: bool, actions: VehicleActions) -> tuple[float, bool]:
        """offset: 0 cycle, 1 brighter, 2 dimmer (ArduSub's numbering within a group)."""
        steps = max(1, int(actions.param("JS_LIGHTS_STEPS")))
        step = 1.0 / steps
        if offset == 0:
            if (rising and level >= 1.0 - 1e-6) or (not rising and level <= 1e-6):
                rising = not rising
            offset = 1 if rising else 2
        level = level + step if offset == 1 else level - step
        return round(min(1.0, max(0.0, level)), 6), rising

    @staticmethod
    def _gain(function: int, acc: Accessories, actions: VehicleActions) -> None:
        gain_min = actions.param("JS_GAIN_MIN")
        gain_max = actions.param("JS_GAIN_MAX")
        steps = int(actions.param("JS_GAIN_STEPS"))
        if steps <= 1:
            acc.gain = actions.param("JS_GAIN_DEFAULT")
            return
        step = (gain_max - gain_min) / (steps - 1)
        if function == fn.BTN_GAIN_INC:
            acc.gain += step
        elif function == fn.BTN_GAIN_DEC:
            acc.gain -= step
        else:
            acc.gain = gain_max if acc.gain < gain_max - 1e-6 else gain_min
        acc.gain = round(min(gain_max, max(gain_min, acc.gain)), 6)
