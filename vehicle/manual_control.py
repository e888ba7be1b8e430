"""MANUAL_CONTROL at 25 Hz from the pilot's current setpoint, with a deadman.

The input source (gamepad, keyboard, script) calls `set_input` whenever it polls. If it
stops calling for `input_timeout_s`, sending stops too, so the vehicle's own pilot-input
failsafe acts instead of the ROV flying on a stale stick; the pilot is told by an event.
Buttons are sent as ArduSub expects: functions fire on press edges, so a press is held
for a few frames and then released.
"""
from __future__ import annotations

import dataclasses
import threading
import time

from .dialect import mavlink
from .events import ManualControlChanged

RATE_HZ = 25.0
INPUT_TIMEOUT_S = 0.5
PRESS_FRAMES = 3  # a press must survive one lost packet and still make an edge
RELEASE_FRAMES = 2  # released frames before the same button can make its next edge


@dataclasses.dataclass(frozen=True)
class Setpoint:
    """x forward, y right, r yaw right: -1000..1000; z 0..1000 with 500 neutral."""

    x: int = 0
    y: int = 0
    z: int = 500
    r: int = 0
    buttons: int = 0


def _clamp(v: float, lo: int, hi: int) -> int:
    return int(max(lo, min(hi, round(v))))


class ManualControl:
    def __init__(self, vehicle, rate_hz: float = RATE_HZ, input_timeout_s: float = INPUT_TIMEOUT_S):
        self._v = vehicle
        self.rate_hz = rate_hz
        self.input_timeout_s = input_timeout_s
        self._lock = threading.Lock()
        self._setpoint = Setpoint()
        self._last_input_s: float | None = None
        self._pulses: list[list[int]] = []  # [button mask, frames left]
        self._held_mask = 0
        self._station_pilot = False
        self._active = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_sent = 0

    @property
    def active(self) -> bool:
        """True while frames are going out (an input source is alive)."""
        return self._active

    @property
    def setpoint(self) -> Setpoint:
        return self._setpoint

    def set_input(self, x: float = 0, y: float = 0, z: float = 500, r: float = 0, buttons: int = 0) -> None:
        """New stick values from the input source; also feeds the deadman."""
        sp = Setpoint(_clamp(x, -1000, 1000), _clamp(y, -1000, 1000), _clamp(z, 0, 1000),
                      _clamp(r, -1000, 1000), int(buttons) & 0xFFFF)
        with self._lock:
            self._setpoint = sp
            self._last_input_s = time.monotonic()
        self._ensure_thread()

    def neutral(self) -> None:
        self.set_input()

    def keep_alive(self, enabled: bool = True) -> None:
        """The station itself is the pilot (scripted or autonomous flight with no gamepad):
        neutral sticks go out whenever no fresher input exists, so ArduSub's pilot-input
        failsafe stays quiet. A gamepad's set_input still takes precedence while it lives."""
        with self._lock:
            self._station_pilot = enabled
        if enabled:
            self._ensure_thread()

    def release(self) -> None:
        """The input source hands over on purpose: stop sending now."""
        with self._lock:
            self._last_input_s = None

    def press(self, button: int, frames: int = PRESS_FRAMES) -> None:
        """One press edge of a button (index 0..15), sent even with no input source."""
        if not 0 <= button < 16:
            raise ValueError(f"button index {button} is outside 0..15")
        with self._lock:
            self._pulses.append([1 << button, frames + RELEASE_FRAMES])
        self._ensure_thread()

    def hold(self, button: int, held: bool) -> None:
        """Keep a button down (camera tilt moves while held) until hold(button, False)."""
        with self._lock:
            if held:
                self._held_mask |= 1 << button
            else:
                self._held_mask &= ~(1 << button)
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stop.clear()
                    self._thread = threading.Thread(target=self._run, name="manual control", daemon=True)
                    self._thread.start()

    def _frame(self, now: float) -> Setpoint | None:
        with self._lock:
            fresh = self._last_input_s is not None and now - self._last_input_s <= self.input_timeout_s
            live = fresh or self._station_pilot
            base = self._setpoint if fresh else Setpoint()
            mask = self._held_mask
            busy = 0  # buttons whose earliest pulse is running; later presses of them wait
            for pulse in self._pulses:
                if pulse[0] & busy:
                    continue
                busy |= pulse[0]
                if pulse[1] > RELEASE_FRAMES:
                    mask |= pulse[0]
                pulse[1] -= 1
            had_pulses = bool(self._pulses)
            self._pulses = [p for p in self._pulses if p[1] > 0]
            if not live and not had_pulses and not self._held_mask:
                return None
            return dataclasses.replace(base, buttons=base.buttons | mask)

    def _run(self) -> None:
        period = 1.0 / self.rate_hz
        next_t = time.monotonic()
        idle_frames = 0
        while not self._stop.is_set():
            now = time.monotonic()
            frame = self._frame(now)
            live = frame is not None and (self._station_pilot or (
                self._last_input_s is not None and now - self._last_input_s <= self.input_timeout_s))
            if live != self._active:
                self._active = live
                reason = "input source active" if live else \
                    "input source stopped: MANUAL_CONTROL stopped so the vehicle's failsafe can act"
                self._v.events.emit(ManualControlChanged(live, reason))
            if frame is not None:
                self._send(frame)
                idle_frames = 0
            else:
                idle_frames += 1
                if idle_frames > self.rate_hz * 2:
                    break  # nothing to do for 2 s: the thread ends, the next input restarts it
            next_t += period
            delay = next_t - time.monotonic()
            if delay < -period:  # fell behind (suspended?): don't burst to catch up
                next_t = time.monotonic()
                delay = 0
            self._stop.wait(max(0.0, delay))

    def _send(self, sp: Setpoint) -> None:
        if not self._v.state.discovered:
            return
        sysid, _ = self._v.target()
        self._v.connection.send(mavlink.MAVLink_manual_control_message(sysid, sp.x, sp.y, sp.z, sp.r, sp.buttons))
        self.frames_sent += 1

    def stop(self, timeout_s: float = 1.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
