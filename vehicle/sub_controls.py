"""Lights, camera tilt and pilot gain, the way ArduSub 4.x takes them: as joystick button
functions (BTNn_FUNCTION) pressed in MANUAL_CONTROL, with the vehicle's NAMED_VALUE_FLOAT
reports (Lights1, Lights2, CamTilt, PilotGain) closing the loop. This works with the
vehicle's default button map and needs no servo or RC-override configuration.
"""
from __future__ import annotations

import time

from . import ardusub
from .ardusub import ButtonFunction
from .errors import CapabilityUnavailable, CommandTimeout, VehicleError

_LIGHTS_BUTTONS = {1: (ButtonFunction.LIGHTS1_BRIGHTER, ButtonFunction.LIGHTS1_DIMMER),
                   2: (ButtonFunction.LIGHTS2_BRIGHTER, ButtonFunction.LIGHTS2_DIMMER)}
REPORT_WAIT_S = 3.0  # NAMED_VALUE_FLOAT comes at 2-4 Hz once streams are on
STEP_WAIT_S = 1.5  # one press must show in the report within this


class SubControls:
    def __init__(self, vehicle):
        self._v = vehicle

    def find_button(self, function: ButtonFunction) -> int:
        """Index of the button the vehicle maps to `function` (BTNn_FUNCTION, unshifted)."""
        for i in range(ardusub.BUTTON_COUNT):
            if int(self._v.params.get(f"BTN{i}_FUNCTION")) == function:
                return i
        raise CapabilityUnavailable(
            f"no joystick button on the vehicle is set to {function.name.lower()} "
            f"(set a spare BTNn_FUNCTION to {int(function)} in the parameter editor)")

    def press_function(self, function: ButtonFunction) -> None:
        self._v.manual.press(self.find_button(function))

    def set_lights(self, level: float, channel: int = 1, timeout_s: float = 8.0) -> float:
        """Step lights 1 or 2 to `level` (0..1); returns the level the vehicle reports."""
        if channel not in _LIGHTS_BUTTONS:
            raise ValueError("lights channel is 1 or 2")
        up, down = _LIGHTS_BUTTONS[channel]
        steps = self._param_or("JS_LIGHTS_STEPS", 8.0)
        return self._step_to(f"Lights{channel}", up, down, level, 0.0, 1.0, 0.5 / max(1.0, steps), timeout_s)

    def set_pilot_gain(self, gain: float, timeout_s: float = 8.0) -> float:
        """Step the pilot gain (stick sensitivity) to `gain`; returns the gain reached."""
        lo, hi = self._param_or("JS_GAIN_MIN", 0.25), self._param_or("JS_GAIN_MAX", 1.0)
        steps = max(2.0, self._param_or("JS_GAIN_STEPS", 4.0))
        return self._step_to("PilotGain", ButtonFunction.GAIN_INC, ButtonFunction.GAIN_DEC, gain, lo, hi,
                             0.5 * (hi - lo) / (steps - 1), timeout_s)

    def tilt_camera(self, direction: int, duration_s: float) -> None:
        """Hold tilt up (+1) or down (-1) for duration_s; ArduSub moves the mount while held."""
        button = self.find_button(ButtonFunction.MOUNT_TILT_UP if direction > 0 else ButtonFunction.MOUNT_TILT_DOWN)
        self._v.manual.hold(button, True)
        try:
            self._v.wait_closed(max(0.0, duration_s))
        finally:
            self._v.manual.hold(button, False)

    def center_camera(self) -> None:
        self.press_function(ButtonFunction.MOUNT_CENTER)

    def _param_or(self, name: str, default: float) -> float:
        try:
            return float(self._v.params.get(name))
        except VehicleError:
            return default

    def _step_to(self, report: str, up: ButtonFunction, down: ButtonFunction, target: float,
                 lo: float, hi: float, tolerance: float, timeout_s: float) -> float:
        if not lo <= target <= hi:
            raise ValueError(f"{report} target {target:g} is outside {lo:g}..{hi:g}")
        v = self._v
        up_button, down_button = self.find_button(up), self.find_button(down)
        deadline = time.monotonic() + timeout_s
        current = v.wait_for(lambda s: s.named(report) is not None, min(timeout_s, REPORT_WAIT_S),
                             f"{report} report from the vehicle").named(report)
        while abs(current - target) > tolerance:
            if time.monotonic() > deadline:
                raise CommandTimeout(f"set {report} to {target:.2f} (stuck at {current:.2f})", 1, timeout_s)
            v.manual.press(up_button if target > current else down_button)
            before = current
            try:
                current = v.wait_for(lambda s: abs((s.named(report) or before) - before) > 1e-4,
                                     min(STEP_WAIT_S, max(0.1, deadline - time.monotonic())), report).named(report)
            except CommandTimeout:
                current = v.state.named(report)
                if (target > current and current >= hi - tolerance) or (target < current and current <= lo + tolerance):
                    break  # at the end of its range: the vehicle's limits differ from ours
        return current
