"""Which pad axis flies which direction and which pad button does which station action.

Indices follow SDL's GameController layout (what app.gamepad.PygameSource reports for any
pad SDL recognises: Xbox, PlayStation, most USB pads), plus the two triggers as buttons
15/16 so they can be the deadman or an action. The default puts the vehicle functions on
the same buttons as ArduSub's own default joystick map (BTNn_FUNCTION), so a pilot used
to QGroundControl finds mode, arm, tilt, gain and lights where they expect them.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

AXIS_NAMES = ("Left X", "Left Y", "Right X", "Right Y", "LT", "RT")
BUTTON_NAMES = ("A", "B", "X", "Y", "Back", "Guide", "Start", "LS", "RS", "LB", "RB",
                "D-pad up", "D-pad down", "D-pad left", "D-pad right", "LT", "RT")
TRIGGER_BUTTONS = (15, 16)  # LT, RT pressed past half travel
MAX_BUTTONS = 64
MAX_AXES = 16
MAX_DEADZONE = 0.9  # beyond this the stick has no travel left

STICK_ROLES = ("forward", "lateral", "vertical", "yaw")
ACTIONS = ("acknowledge_alarm", "mark_point", "snapshot", "toggle_recording", "arm", "disarm",
           "mode_manual", "mode_stabilize", "mode_alt_hold", "mode_poshold", "lights_up", "lights_down",
           "tilt_up", "tilt_down", "tilt_center", "gain_up", "gain_down")
FORMAT_VERSION = 1


class GamepadMapError(ValueError):
    """A map that cannot be used; the message names the field and what to do."""


def button_name(index: int | None) -> str:
    if index is None:
        return "(none)"
    return BUTTON_NAMES[index] if 0 <= index < len(BUTTON_NAMES) else f"Button {index}"


@dataclasses.dataclass(frozen=True)
class AxisMap:
    """One stick direction: pad axis index (None = not used), invert, deadzone (fraction of
    travel ignored around centre) and expo (0 linear .. 1 cubic: finer control near centre)."""

    axis: int | None
    invert: bool = False
    deadzone: float = 0.1
    expo: float = 0.3

    def apply(self, axes: tuple[float, ...]) -> float:
        """The shaped value in -1..1 from the pad's raw axes (0 when the axis is absent)."""
        if self.axis is None or self.axis >= len(axes):
            return 0.0
        v = max(-1.0, min(1.0, float(axes[self.axis])))
        return shape(-v if self.invert else v, self.deadzone, self.expo)


def shape(v: float, deadzone: float, expo: float) -> float:
    mag = abs(v)
    if mag <= deadzone:
        return 0.0
    mag = (mag - deadzone) / (1.0 - deadzone)  # full travel still reaches 1
    mag = (1.0 - expo) * mag + expo * mag ** 3
    return mag if v > 0 else -mag


@dataclasses.dataclass(frozen=True)
class ButtonMap:
    """Action name -> pad button index (None = unassigned); deadman None means "off"
    (the sticks fly whenever the pad is connected)."""

    actions: tuple[tuple[str, int | None], ...]
    deadman: int | None = 16

    def button_for(self, action: str) -> int | None:
        return dict(self.actions).get(action)

    def with_action(self, action: str, button: int | None) -> "ButtonMap":
        """A copy with `action` on `button`; another action on that button loses it, so a
        capture in the editor never leaves the map invalid."""
        if action != "deadman" and action not in ACTIONS:
            raise GamepadMapError(f"unknown action {action!r}")
        acts = {a: (None if b == button and button is not None else b) for a, b in self.actions}
        deadman = None if button is not None and self.deadman == button else self.deadman
        if action == "deadman":
            deadman = button
        else:
            acts[action] = button
        return ButtonMap(tuple((a, acts.get(a)) for a in ACTIONS), deadman)


@dataclasses.dataclass(frozen=True)
class PadMap:
    forward: AxisMap
    lateral: AxisMap
    vertical: AxisMap
    yaw: AxisMap
    buttons: ButtonMap

    def axis(self, role: str) -> AxisMap:
        return getattr(self, role)

    def sticks(self, axes: tuple[float, ...]) -> tuple[int, int, int, int]:
        """MANUAL_CONTROL x, y, z, r: x/y/r in -1000..1000, z in 0..1000 with 500 neutral."""
        x, y, z, r = (self.axis(role).apply(axes) for role in STICK_ROLES)
        return round(1000 * x), round(1000 * y), round(500 + 500 * z), round(1000 * r)


NEUTRAL_STICKS = (0, 0, 500, 0)

_DEFAULT_BUTTONS = {"acknowledge_alarm": 0, "mode_manual": 1, "mode_alt_hold": 2, "mode_stabilize": 3,
                    "disarm": 4, "arm": 6, "tilt_center": 7, "mark_point": 8, "tilt_down": 9, "tilt_up": 10,
                    "gain_up": 11, "gain_down": 12, "lights_down": 13, "lights_up": 14, "snapshot": 15}


def default_map() -> PadMap:
    """Xbox-style pad: right stick forward/lateral, left stick up-down/yaw (as in QGC for
    ArduSub), RT held = deadman, A = acknowledge alarm."""
    return PadMap(forward=AxisMap(3, invert=True), lateral=AxisMap(2), vertical=AxisMap(1, invert=True),
                  yaw=AxisMap(0), buttons=ButtonMap(tuple((a, _DEFAULT_BUTTONS.get(a)) for a in ACTIONS), 16))


def validate(pad_map: PadMap) -> None:
    users: dict[int, str] = {}
    named = list(pad_map.buttons.actions) + [("deadman", pad_map.buttons.deadman)]
    for action, button in named:
        if button is None:
            continue
        if button in users:
            raise GamepadMapError(f"buttons: {button_name(button)} is used by both {users[button]!r} and "
                                  f"{action!r}; give one of them another button")
        users[button] = action


# ------------------------------------------------------------------ JSON
def to_dict(pad_map: PadMap) -> dict:
    return {"version": FORMAT_VERSION,
            "axes": {role: dataclasses.asdict(pad_map.axis(role)) for role in STICK_ROLES},
            "deadman": "off" if pad_map.buttons.deadman is None else pad_map.buttons.deadman,
            "buttons": dict(pad_map.buttons.actions)}


def _index(value, field: str, limit: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < limit:
        raise GamepadMapError(f"{field}: expected a {'button' if limit == MAX_BUTTONS else 'axis'} number "
                              f"0..{limit - 1} or null, got {value!r}")
    return value


def _number(value, field: str, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= hi:
        raise GamepadMapError(f"{field}: expected a number in 0..{hi:g}, got {value!r}")
    return float(value)


def _keys(d, field: str, allowed) -> dict:
    if not isinstance(d, dict):
        raise GamepadMapError(f"{field}: expected an object, got {type(d).__name__}")
    unknown = sorted(set(d) - set(allowed))
    if unknown:
        raise GamepadMapError(f"{field}.{unknown[0]}: unknown field; known: {', '.join(allowed)}")
    return d


def from_dict(data) -> PadMap:
    data = _keys(data, "map", ("version", "axes", "deadman", "buttons"))
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise GamepadMapError(f"version: this HullWatch reads version {FORMAT_VERSION}, got {data['version']!r}")
    for field in ("axes", "deadman", "buttons"):
        if field not in data:
            raise GamepadMapError(f"{field}: missing (save the default map to see the layout)")
    axes_in = _keys(data["axes"], "axes", STICK_ROLES)
    axes = {}
    for role in STICK_ROLES:
        a = _keys(axes_in.get(role, {"axis": None}), f"axes.{role}", ("axis", "invert", "deadzone", "expo"))
        invert = a.get("invert", False)
        if not isinstance(invert, bool):
            raise GamepadMapError(f"axes.{role}.invert: expected true or false, got {invert!r}")
        axes[role] = AxisMap(_index(a.get("axis"), f"axes.{role}.axis", MAX_AXES), invert,
                             _number(a.get("deadzone", 0.1), f"axes.{role}.deadzone", MAX_DEADZONE),
                             _number(a.get("expo", 0.3), f"axes.{role}.expo", 1.0))
    deadman = data["deadman"]
    deadman = None if deadman == "off" else _index(deadman, "deadman", MAX_BUTTONS)
    if deadman is None and data["deadman"] != "off":
        raise GamepadMapError('deadman: expected a button number or "off", got null')
    buttons_in = _keys(data["buttons"], "buttons", ACTIONS)
    actions = tuple((a, _index(buttons_in.get(a), f"buttons.{a}", MAX_BUTTONS)) for a in ACTIONS)
    pad_map = PadMap(buttons=ButtonMap(actions, deadman), **axes)
    validate(pad_map)
    return pad_map


def save_map(pad_map: PadMap, path: str | Path) -> None:
    validate(pad_map)
    Path(path).write_text(json.dumps(to_dict(pad_map), indent=2) + "\n", encoding="utf-8")


def load_map(path: str | Path) -> PadMap:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GamepadMapError(f"cannot read gamepad map {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise GamepadMapError(f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    try:
        return from_dict(data)
    except GamepadMapError as exc:
        raise GamepadMapError(f"{path.name}: {exc}") from None
