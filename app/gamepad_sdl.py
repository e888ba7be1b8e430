"""The real pad: SDL (through pygame) with no window, and SDL's virtual joystick.

pygame is optional and imported on first use, on the pilot thread that polls (SDL wants one
thread for its joystick calls). A pad SDL recognises is read through its GameController
API, so axis/button numbers are the same for Xbox, PlayStation and most USB pads; an
unknown device is read as a raw joystick (its hats appended as four buttons each).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os

INSTALL_HINT = "install it with: pip install pygame==2.6.1"
_TRIGGER_PRESSED = 0.5
_N_CONTROLLER_AXES = 6
_N_CONTROLLER_BUTTONS = 15
_AXIS_FULL = 32767.0


def _sdl_environment() -> None:
    # no window of ours: SDL must not open one, and must read the pad while Qt has focus
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ["SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS"] = "1"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


class PygameSource:
    """The first pad SDL sees (or the first whose name contains `name_contains`). A pad
    that disappears gives connected=False; one that appears again is picked up."""

    def __init__(self, name_contains: str = ""):
        self.name_contains = name_contains.lower()
        self._pg = None
        self._controller_mod = None
        self._failure = ""
        self._dev = None  # pygame Controller or Joystick
        self._is_controller = False
        self._instance_id: int | None = None
        self._name = ""
        self._lost = ""  # name of the pad that went away, to tell the pilot which

    def _init(self) -> None:
        if self._pg is not None or self._failure:
            return
        _sdl_environment()
        try:
            import pygame
            from pygame._sdl2 import controller
        except ImportError as exc:
            self._failure = f"gamepad support needs pygame ({exc}); {INSTALL_HINT}"
            return
        try:
            pygame.display.init()  # the event pump needs SDL video, here the dummy driver
            pygame.joystick.init()
            controller.init()
        except pygame.error as exc:
            self._failure = f"SDL could not start joystick support: {exc}"
            return
        self._pg, self._controller_mod = pygame, controller

    def _open_first(self) -> None:
        pg, ctl = self._pg, self._controller_mod
        for i in range(pg.joystick.get_count()):
            try:
                if ctl.is_controller(i):
                    dev = ctl.Controller(i)
                    joy, is_ctl = dev.as_joystick(), True
                else:
                    dev = joy = pg.joystick.Joystick(i)
                    is_ctl = False
                name = joy.get_name()
            except pg.error:
                continue  # unplugged between count and open
            if self.name_contains and self.name_contains not in name.lower():
                dev.quit()
                continue
            self._dev, self._is_controller, self._name = dev, is_ctl, name
            self._instance_id = joy.get_instance_id()
            return

    def _drop(self) -> None:
        if self._dev is not None:
            try:
                self._dev.quit()
            except Exception:  # noqa: BLE001 - already gone with the device
                pass
        self._dev, self._instance_id = None, None

    def poll(self):
        from .gamepad import PadState

        self._init()
        if self._failure:
            return PadState(connected=False, reason=self._failure)
        pg = self._pg
        for event in pg.event.get():
            if event.type == pg.JOYDEVICEREMOVED and event.instance_id == self._instance_id:
                self._lost = self._name
                self._drop()
        if self._dev is None:
            self._open_first()
            if self._dev is None:
                if self._lost:
                    return PadState(connected=False, name=self._lost,
                                    reason=f"gamepad {self._lost} disconnected: plug it back in")
                wanted = f" named like {self.name_contains!r}" if self.name_contains else ""
                return PadState(connected=False, reason=f"no gamepad{wanted} connected: plug one in")
            self._lost = ""
        try:
            axes, buttons = self._read_controller() if self._is_controller else self._read_joystick()
        except pg.error as exc:
            self._lost = self._name
            self._drop()
            return PadState(connected=False, name=self._name, reason=f"gamepad lost: {exc}")
        return PadState(axes, buttons, self._name, True)

    def _read_controller(self):
        c = self._dev
        if not c.attached():
            raise self._pg.error("unplugged")
        axes = tuple(max(-1.0, min(1.0, c.get_axis(a) / _AXIS_FULL)) for a in range(_N_CONTROLLER_AXES))
        buttons = tuple(bool(c.get_button(b)) for b in range(_N_CONTROLLER_BUTTONS))
        return axes, buttons + (axes[4] > _TRIGGER_PRESSED, axes[5] > _TRIGGER_PRESSED)

    def _read_joystick(self):
        j = self._dev
        axes = tuple(float(j.get_axis(a)) for a in range(j.get_numaxes()))
        buttons = [bool(j.get_button(b)) for b in range(j.get_numbuttons())]
        for h in range(j.get_numhats()):
            x, y = j.get_hat(h)
            buttons += [y > 0, y < 0, x < 0, x > 0]  # up, down, left, right like the D-pad
        return axes, tuple(buttons)

    def close(self) -> None:
        self._drop()


# ------------------------------------------------------------------ virtual pad
_SDL_INIT_JOYSTICK = 0x200
_SDL_INIT_GAMECONTROLLER = 0x2000
_SDL_JOYSTICK_TYPE_GAMECONTROLLER = 1


def _pygame_sdl_library() -> ctypes.CDLL:
    """The SDL2 that pygame itself loaded (a second copy would be a different SDL)."""
    import pygame

    here = os.path.dirname(pygame.__file__)
    patterns = [os.path.join(here, os.pardir, "pygame.libs", "libSDL2-2*.so*"),  # Linux wheels
                os.path.join(here, ".dylibs", "libSDL2*.dylib"), os.path.join(here, "SDL2.dll")]
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return ctypes.CDLL(found[0])
    system = ctypes.util.find_library("SDL2")
    if system is None:
        raise RuntimeError("cannot find the SDL2 library pygame uses")
    return ctypes.CDLL(system)


class VirtualPad:
    """An SDL virtual game controller (SDL >= 2.0.14): as real to PygameSource as a USB
    pad, driven from code. For tests and demos with no hardware."""

    def __init__(self, n_axes: int = _N_CONTROLLER_AXES, n_buttons: int = _N_CONTROLLER_BUTTONS):
        _sdl_environment()
        sdl = _pygame_sdl_library()
        sdl.SDL_InitSubSystem.argtypes = [ctypes.c_uint32]
        sdl.SDL_JoystickAttachVirtual.argtypes = [ctypes.c_int] * 4
        sdl.SDL_JoystickOpen.restype = ctypes.c_void_p
        sdl.SDL_JoystickOpen.argtypes = [ctypes.c_int]
        sdl.SDL_JoystickClose.argtypes = [ctypes.c_void_p]
        sdl.SDL_JoystickSetVirtualAxis.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int16]
        sdl.SDL_JoystickSetVirtualButton.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint8]
        sdl.SDL_JoystickDetachVirtual.argtypes = [ctypes.c_int]
        sdl.SDL_GetError.restype = ctypes.c_char_p
        if sdl.SDL_InitSubSystem(_SDL_INIT_JOYSTICK | _SDL_INIT_GAMECONTROLLER) != 0:
            raise RuntimeError(f"SDL joystick init failed: {sdl.SDL_GetError().decode()}")
        self._sdl = sdl
        self._index = sdl.SDL_JoystickAttachVirtual(_SDL_JOYSTICK_TYPE_GAMECONTROLLER, n_axes, n_buttons, 0)
        if self._index < 0:
            raise RuntimeError(f"SDL refused a virtual joystick: {sdl.SDL_GetError().decode()}")
        self._handle = sdl.SDL_JoystickOpen(self._index)
        if not self._handle:
            sdl.SDL_JoystickDetachVirtual(self._index)
            raise RuntimeError(f"cannot open the virtual joystick: {sdl.SDL_GetError().decode()}")

    def set_axis(self, axis: int, value: float) -> None:
        """value -1..1 (a trigger: -1 released .. 1 fully pulled)."""
        raw = int(round(max(-1.0, min(1.0, value)) * _AXIS_FULL))
        self._sdl.SDL_JoystickSetVirtualAxis(self._handle, axis, raw)

    def set_button(self, button: int, pressed: bool) -> None:
        self._sdl.SDL_JoystickSetVirtualButton(self._handle, button, 1 if pressed else 0)

    def unplug(self) -> None:
        if self._handle:
            self._sdl.SDL_JoystickClose(self._handle)
            self._sdl.SDL_JoystickDetachVirtual(self._index)
            self._handle = None
