"""Flying the ROV from a gamepad (or the keyboard): a pad source, the map, and the pilot
thread that turns both into MANUAL_CONTROL sticks and station actions.

No Qt here. The pilot thread is the only thread that touches the pad source (SDL wants its
joystick calls on one thread); the GUI reads `PadPilot.status`, an immutable snapshot, and
gets actions through the `on_action` callback (called on the pilot thread: the Qt layer
re-emits it as a signal). Sticks go out only while the deadman is held; letting go or
losing the pad sends neutral at once and then hands MANUAL_CONTROL back (ManualControl's
input timeout, keep-alive and the vehicle's failsafe take it from there).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Callable, Protocol, Sequence

from .gamepad_map import NEUTRAL_STICKS, STICK_ROLES, TRIGGER_BUTTONS, PadMap, default_map
from .gamepad_sdl import PygameSource  # noqa: F401  (re-exported: the real pad source)

LOG = logging.getLogger(__name__)
RATE_HZ = 25.0  # ArduSub's expected MANUAL_CONTROL rate; ManualControl sends at the same
TILT_STEP_S = 0.4  # one press of tilt up/down moves the mount this long
STOP_TIMEOUT_S = 1.0


@dataclasses.dataclass(frozen=True)
class PadState:
    """One poll of a pad: axes in -1..1 (triggers 0..1), buttons pressed or not."""

    axes: tuple[float, ...] = ()
    buttons: tuple[bool, ...] = ()
    name: str = ""
    connected: bool = True
    reason: str = ""  # why not connected, for the pilot to read


def pad_state(axes: dict[int, float] | None = None, pressed: Sequence[int] = (), *, name: str = "Scripted pad",
              n_axes: int = 6, n_buttons: int = max(TRIGGER_BUTTONS) + 1, connected: bool = True) -> PadState:
    """A PadState in the GameController layout from the few axes/buttons that matter."""
    axes = axes or {}
    return PadState(tuple(float(axes.get(i, 0.0)) for i in range(n_axes)),
                    tuple(i in pressed for i in range(n_buttons)), name, connected)


class PadSource(Protocol):
    def poll(self) -> PadState: ...

    def close(self) -> None: ...


class ScriptedSource:
    """Timed pad states for tests and demos: step (t_s, state) applies from t_s seconds
    after the first poll until the next step."""

    def __init__(self, steps: Sequence[tuple[float, PadState]], clock: Callable[[], float] = time.monotonic):
        if not steps:
            raise ValueError("a scripted pad needs at least one state")
        self._steps = sorted(steps, key=lambda s: s[0])
        self._clock = clock
        self.started_s: float | None = None  # clock time of the first poll

    def poll(self) -> PadState:
        now = self._clock()
        if self.started_s is None:
            self.started_s = now
        elapsed = now - self.started_s
        current = self._steps[0][1]
        for t_s, state in self._steps:
            if t_s > elapsed:
                break
            current = state
        return current

    def close(self) -> None:
        pass


# key -> (stick role, direction); y is to the right and r clockwise, as MANUAL_CONTROL
KEY_STICKS = {"W": ("forward", 1), "S": ("forward", -1), "D": ("lateral", 1), "A": ("lateral", -1),
              "E": ("yaw", 1), "Q": ("yaw", -1), "R": ("vertical", 1), "F": ("vertical", -1)}
KEY_DEADMAN = "Space"
KEY_ACTIONS = {"Return": "acknowledge_alarm", "Enter": "acknowledge_alarm"}


class KeyboardSource:
    """The keyboard as a pad: the Qt layer feeds key_event(name, pressed). It writes the
    pad axes/buttons the current map reads, so the same map and pilot fly with it. Space
    toggles the deadman (nobody can hold a key and type W at the same time for long)."""

    def __init__(self, pad_map: PadMap | None = None, name: str = "Keyboard"):
        self._map = pad_map or default_map()
        self._name = name
        self._lock = threading.Lock()
        self._held: set[str] = set()
        self._tapped: set[str] = set()  # pressed since the last poll: a quick tap still counts once
        self.deadman_on = False

    def set_map(self, pad_map: PadMap) -> None:
        self._map = pad_map

    def key_event(self, key: str, pressed: bool) -> bool:
        """Returns True if the key is one of ours (the caller then swallows it)."""
        key = key.capitalize() if len(key) == 1 else key
        with self._lock:
            if key == KEY_DEADMAN:
                if pressed:
                    self.deadman_on = not self.deadman_on
                return True
            if key not in KEY_STICKS and key not in KEY_ACTIONS:
                return False
            if pressed:
                self._held.add(key)
                self._tapped.add(key)
            else:
                self._held.discard(key)
            return True

    def release_all(self) -> None:
        """Focus lost: a key whose release we will never see must not keep flying."""
        with self._lock:
            self._held.clear()
            self._tapped.clear()
            self.deadman_on = False

    def poll(self) -> PadState:
        m = self._map
        with self._lock:
            held, deadman = self._held | self._tapped, self.deadman_on
            self._tapped.clear()
        used_axes = [m.axis(r).axis for r in STICK_ROLES if m.axis(r).axis is not None]
        used_buttons = [b for _, b in m.buttons.actions if b is not None] + [m.buttons.deadman or 0]
        axes = [0.0] * max([6] + [a + 1 for a in used_axes])
        buttons = [False] * max([max(TRIGGER_BUTTONS) + 1] + [b + 1 for b in used_buttons])
        for key in held & set(KEY_STICKS):
            role, sign = KEY_STICKS[key]
            axis = m.axis(role)
            if axis.axis is not None:
                axes[axis.axis] += -sign if axis.invert else sign
        for key in held & set(KEY_ACTIONS):
            button = m.buttons.button_for(KEY_ACTIONS[key])
            if button is not None:
                buttons[button] = True
        if deadman and m.buttons.deadman is not None:
            buttons[m.buttons.deadman] = True
        return PadState(tuple(max(-1.0, min(1.0, a)) for a in axes), tuple(buttons), self._name, True)

    def close(self) -> None:
        self.release_all()


@dataclasses.dataclass(frozen=True)
class PilotStatus:
    connected: bool = False
    name: str = ""
    reason: str = "not started"
    deadman_held: bool = False
    live: bool = False  # sticks are going to the vehicle
    sticks: tuple[int, int, int, int] = NEUTRAL_STICKS  # last x, y, z, r sent
    axes: tuple[float, ...] = ()
    buttons: tuple[bool, ...] = ()


class PadPilot:
    """The pad's thread: poll, map, fly, report button edges. start()/stop() are the
    owner's; set_map/set_source may be called from any thread."""

    def __init__(self, vehicle, source: PadSource, pad_map: PadMap | None = None,
                 on_action: Callable[[str], None] | None = None, rate_hz: float = RATE_HZ):
        self._vehicle = vehicle
        self._source = source
        self._new_source: PadSource | None = None
        self.pad_map = pad_map or default_map()
        self.on_action = on_action
        self.actions_enabled = True  # off while the map editor captures a button
        self.rate_hz = rate_hz
        self.status = PilotStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def set_map(self, pad_map: PadMap) -> None:
        self.pad_map = pad_map  # immutable: the thread picks it up on its next tick
        if isinstance(self._source, KeyboardSource):
            self._source.set_map(pad_map)

    def set_source(self, source: PadSource) -> None:
        """Swap pads; the old source is closed on the pilot thread, which owns it."""
        self._new_source = source

    @property
    def source(self) -> PadSource:
        return self._new_source or self._source

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gamepad pilot", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        period = 1.0 / self.rate_hz
        next_t = time.monotonic()
        prev_buttons: tuple[bool, ...] | None = None
        try:
            while not self._stop.is_set():
                if self._new_source is not None:
                    self._source.close()
                    self._source, self._new_source = self._new_source, None
                    prev_buttons = None
                state = self._poll()
                prev_buttons = self._tick(state, prev_buttons)
                next_t += period
                delay = next_t - time.monotonic()
                if delay < -period:
                    next_t, delay = time.monotonic(), 0.0
                self._stop.wait(max(0.0, delay))
        finally:
            if self.status.live:
                self._vehicle.manual.set_input(*NEUTRAL_STICKS)
            self._source.close()
            self.status = dataclasses.replace(self.status, live=False, deadman_held=False,
                                              sticks=NEUTRAL_STICKS, reason="stopped")

    def _poll(self) -> PadState:
        try:
            return self._source.poll()
        except Exception as exc:  # noqa: BLE001 - a broken driver must land as "pad lost", not kill flight
            LOG.exception("gamepad poll failed")
            return PadState(connected=False, reason=f"pad read failed: {exc}")

    def _tick(self, state: PadState, prev_buttons: tuple[bool, ...] | None) -> tuple[bool, ...] | None:
        m = self.pad_map
        deadman = m.buttons.deadman
        held = state.connected and (deadman is None or (deadman < len(state.buttons) and state.buttons[deadman]))
        was_live = self.status.live
        sticks = m.sticks(state.axes) if held else NEUTRAL_STICKS
        if held or was_live:
            self._vehicle.manual.set_input(*sticks)  # released/lost: one neutral, at once
        self.status = PilotStatus(state.connected, state.name, state.reason, held, held, sticks,
                                  state.axes, state.buttons)
        if not state.connected:
            return None
        if prev_buttons is not None:
            for action, button in m.buttons.actions:
                if button is not None and button < len(state.buttons) and state.buttons[button] \
                        and not (button < len(prev_buttons) and prev_buttons[button]):
                    self._fire(action)
        return state.buttons

    def _fire(self, action: str) -> None:
        if self.on_action is None or not self.actions_enabled:
            return
        try:
            self.on_action(action)
        except Exception:  # noqa: BLE001 - a bad handler must not stop the sticks
            LOG.exception("gamepad action %s failed", action)


# ------------------------------------------------------------------ vehicle-side actions
VEHICLE_ACTIONS = frozenset({"arm", "disarm", "mode_manual", "mode_stabilize", "mode_alt_hold", "mode_poshold",
                             "lights_up", "lights_down", "tilt_up", "tilt_down", "tilt_center", "gain_up",
                             "gain_down"})


def run_vehicle_action(vehicle, action: str) -> None:
    """Do a vehicle action (blocking: run it on the vehicle's executor, e.g. run_task(...,
    executor=vehicle)). Station actions (acknowledge_alarm, mark_point, ...) are the GUI's."""
    from vehicle.ardusub import ButtonFunction as F

    presses = {"lights_up": F.LIGHTS1_BRIGHTER, "lights_down": F.LIGHTS1_DIMMER,
               "gain_up": F.GAIN_INC, "gain_down": F.GAIN_DEC}
    modes = {"mode_manual": "MANUAL", "mode_stabilize": "STABILIZE", "mode_alt_hold": "ALT_HOLD",
             "mode_poshold": "POSHOLD"}
    if action == "arm":
        vehicle.arm()
    elif action == "disarm":
        vehicle.disarm()
    elif action in modes:
        vehicle.set_mode(modes[action])
    elif action in presses:
        vehicle.controls.press_function(presses[action])
    elif action in ("tilt_up", "tilt_down"):
        vehicle.controls.tilt_camera(1 if action == "tilt_up" else -1, TILT_STEP_S)
    elif action == "tilt_center":
        vehicle.controls.center_camera()
    else:
        raise ValueError(f"{action!r} is not a vehicle action")
