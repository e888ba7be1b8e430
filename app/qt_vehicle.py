"""The pilot's vehicle controls: arm/disarm, flight modes, lights, camera tilt, pilot gain,
mission start/pause and a scripted dive.

Every command blocks for its ACK (and its confirmation in telemetry), so each runs as a
task on the vehicle's own executor; the button that started it shows it is busy, and the
outcome lands in one status line (the vehicle layer's errors name the cause). The panel
draws the vehicle's state from update_state(), called by the main window at <= 20 Hz.
"""
from __future__ import annotations

import dataclasses
import itertools

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QMessageBox, QPushButton, QSlider, QVBoxLayout, QWidget)

from vehicle.ardusub import MODES_NEEDING_POSITION, SubMode
from vehicle.errors import VehicleError

from .qt_tasks import run_task
from .qt_theme import big_font, colour

MODES = ("MANUAL", "STABILIZE", "ALT_HOLD", "POSHOLD", "GUIDED", "AUTO", "SURFACE")
MIN_BUTTON_PX = 40
DISARM_CONFIRM_DEPTH_M = 0.5  # deeper than this a disarm lets the vehicle float up uncontrolled
TILT_STEP_S = 0.5  # how long one tilt click holds the tilt button
LIGHTS_DEBOUNCE_MS = 300  # keyboard/wheel steps settle before the (slow, stepped) command goes out
DIVE_TIMEOUT_S = 120.0
_POSITION_TIP = "needs a position estimate (DVL or GPS); the vehicle has none"


@dataclasses.dataclass
class _Running:
    widget: QWidget
    idle_text: str | None
    name: str
    task: object = None


class QtVehiclePanel(QWidget):
    command_finished = Signal(str, bool, str)  # command name, ok, message

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.vehicle = None
        self._state = None
        self._tasks: dict[int, _Running] = {}
        self._keys = itertools.count()
        self.header = QLabel("no vehicle")
        self.header.setFont(big_font())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.arm_button = self._button("Arm", self._arm)
        self.disarm_button = self._button("Disarm", self._ask_disarm)
        self.confirm_box: QMessageBox | None = None
        arming = QHBoxLayout()
        arming.addWidget(self.arm_button)
        arming.addWidget(self.disarm_button)

        self.mode_buttons: dict[str, QPushButton] = {}
        self._mode_group = QButtonGroup(self)
        self._mode_group.setExclusive(False)  # the vehicle's heartbeat decides what is checked
        modes = QGridLayout()
        for i, name in enumerate(MODES):
            button = self._button(name.replace("_", " "), lambda _=False, n=name: self._set_mode(n))
            button.setCheckable(True)
            self.mode_buttons[name] = button
            self._mode_group.addButton(button)
            modes.addWidget(button, i // 4, i % 4)
        mode_box = QGroupBox("Flight mode")
        mode_box.setLayout(modes)

        self.lights = QSlider(Qt.Horizontal)
        self.lights.setRange(0, 100)
        self.lights.setMinimumHeight(MIN_BUTTON_PX)
        self._lights_timer = QTimer(self, singleShot=True, interval=LIGHTS_DEBOUNCE_MS)
        self._lights_timer.timeout.connect(self._send_lights)
        self.lights.valueChanged.connect(lambda _v: self._lights_timer.start() if self._user_lights else None)
        self.lights.sliderPressed.connect(lambda: setattr(self, "_user_lights", True))
        self._user_lights = False
        self.lights.actionTriggered.connect(lambda _a: setattr(self, "_user_lights", True))
        self.tilt_up = self._button("Tilt up", lambda: self._run(self.tilt_up, "camera tilt up",
                                                                 lambda v: v.controls.tilt_camera(+1, TILT_STEP_S)))
        self.tilt_down = self._button("Tilt down", lambda: self._run(self.tilt_down, "camera tilt down",
                                                                     lambda v: v.controls.tilt_camera(-1, TILT_STEP_S)))
        self.tilt_centre = self._button("Centre", lambda: self._run(self.tilt_centre, "camera centre",
                                                                    lambda v: v.controls.center_camera()))
        self.gain = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=1.0, singleStep=0.05, value=0.5, suffix=" gain")
        self.gain.setMinimumHeight(MIN_BUTTON_PX)
        self.gain_button = self._button("Set gain", lambda: self._run(
            self.gain_button, "pilot gain", lambda v, g: v.controls.set_pilot_gain(g), self.gain.value()))
        controls = QGridLayout()
        controls.addWidget(QLabel("Lights"), 0, 0)
        controls.addWidget(self.lights, 0, 1, 1, 3)
        controls.addWidget(QLabel("Camera"), 1, 0)
        controls.addWidget(self.tilt_up, 1, 1)
        controls.addWidget(self.tilt_centre, 1, 2)
        controls.addWidget(self.tilt_down, 1, 3)
        controls.addWidget(QLabel("Sticks"), 2, 0)
        controls.addWidget(self.gain, 2, 1, 1, 2)
        controls.addWidget(self.gain_button, 2, 3)

        self.mission_start_button = self._button("Start / resume mission", self._mission_start)
        self.mission_pause_button = self._button("Pause (hold here)", self._mission_pause)
        self.dive_depth = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=300.0, singleStep=0.5, value=2.0, suffix=" m")
        self.dive_depth.setMinimumHeight(MIN_BUTTON_PX)
        self.dive_button = self._button("Dive to", self._dive)
        mission = QGridLayout()
        mission.addWidget(self.mission_start_button, 0, 0, 1, 2)
        mission.addWidget(self.mission_pause_button, 0, 2)
        mission.addWidget(self.dive_depth, 1, 0, 1, 2)
        mission.addWidget(self.dive_button, 1, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(arming)
        layout.addWidget(mode_box)
        layout.addLayout(controls)
        layout.addLayout(mission)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self._commands = [self.arm_button, self.disarm_button, *self.mode_buttons.values(), self.lights, self.tilt_up,
                          self.tilt_down, self.tilt_centre, self.gain, self.gain_button, self.mission_start_button,
                          self.mission_pause_button, self.dive_depth, self.dive_button]
        self._refresh()

    # -- inputs from the main window ----------------------------------------
    def set_vehicle(self, vehicle) -> None:
        self.vehicle = vehicle
        self._state = None if vehicle is None else vehicle.state
        self.header.setText("no vehicle" if vehicle is None else "connecting…")
        self._refresh()

    @Slot(object)
    def update_state(self, state) -> None:
        self._state = state
        self._refresh()

    def busy(self) -> bool:
        return bool(self._tasks)

    # -- commands -------------------------------------------------------------
    def _arm(self) -> None:
        self._run(self.arm_button, "arm", lambda v: v.arm())

    def _ask_disarm(self) -> None:
        depth = self._state.depth_m if self._state is not None else None
        if depth is None or depth <= DISARM_CONFIRM_DEPTH_M:
            self._disarm()
            return
        box = QMessageBox(QMessageBox.Warning, "Disarm at depth?",
                          f"The vehicle is {depth:.1f} m deep. Disarmed, it stops holding depth and floats up "
                          f"(or sinks) without control. Disarm anyway?", QMessageBox.Yes | QMessageBox.Cancel, self)
        box.setDefaultButton(QMessageBox.Cancel)
        box.accepted.connect(self._disarm)  # Yes is the accept role
        box.finished.connect(lambda _r: setattr(self, "confirm_box", None))
        self.confirm_box = box
        box.open()  # non-blocking: telemetry keeps drawing while the pilot decides

    def _disarm(self) -> None:
        self._run(self.disarm_button, "disarm", lambda v: v.disarm())

    def _set_mode(self, name: str) -> None:
        self._run(self.mode_buttons[name], f"mode {name}", lambda v: v.set_mode(name).name)

    def _send_lights(self) -> None:
        self._user_lights = False
        level = self.lights.value() / 100.0
        self._run(self.lights, "lights", lambda v: v.controls.set_lights(level))

    def _mission_start(self) -> None:
        # resumes at the item the vehicle was on (MISSION_CURRENT) after a pause
        seq = (self._state.mission_current_seq or 0) if self._state is not None else 0
        self._run(self.mission_start_button, "mission start", lambda v: v.mission_start(seq))

    def _mission_pause(self) -> None:
        # ArduSub has no mission pause: GUIDED holds the position it is entered at
        self._run(self.mission_pause_button, "mission pause", lambda v: v.set_mode("GUIDED").name)

    def _dive(self) -> None:
        depth_m = self.dive_depth.value()
        self._run(self.dive_button, f"dive to {depth_m:.1f} m", _dive_to, depth_m, progress=True)

    def _run(self, widget, name: str, fn, *args, progress: bool = False) -> None:
        if self.vehicle is None:
            self._say(f"{name}: no vehicle connected", "warning")
            return
        idle_text = widget.text() if isinstance(widget, QPushButton) else None
        if isinstance(widget, QPushButton):
            widget.setText(f"{idle_text} …")
        widget.setEnabled(False)
        self._say(f"{name}…", "info")
        key = next(self._keys)  # not the Task: a fast failure reports before run_task returns it
        self._tasks[key] = _Running(widget, idle_text, name)
        task = run_task(name, fn, self.vehicle, *args, executor=self.vehicle, report_progress=progress, parent=self,
                        on_done=lambda value: self._done(key, value), on_error=lambda text: self._failed(key, text))
        if key in self._tasks:
            self._tasks[key].task = task
        else:
            task.deleteLater()

    def _done(self, key: int, value) -> None:
        name = self._finish(key)
        extra = f" ({value:.2f})" if isinstance(value, float) else f" ({value})" if isinstance(value, str) else ""
        self._say(f"{name}: done{extra}", "ok")
        self.command_finished.emit(name, True, "")

    def _failed(self, key: int, text: str) -> None:
        name = self._finish(key)
        self._say(text, "alarm")
        self.command_finished.emit(name, False, text)

    def _finish(self, key: int) -> str:
        running = self._tasks.pop(key)
        if running.idle_text is not None:
            running.widget.setText(running.idle_text)
        if running.task is not None:
            running.task.deleteLater()
        self._refresh()
        return running.name

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour(role).name()}")

    # -- drawing ----------------------------------------------------------------
    def _refresh(self) -> None:
        s, connected = self._state, self.vehicle is not None
        busy = {r.widget for r in self._tasks.values()}
        for w in self._commands:
            w.setEnabled(connected and w not in busy)
        if not connected or s is None:
            return
        if s.discovered:
            depth = f"{s.depth_m:.1f} m" if s.depth_m is not None else "depth ?"
            link = "" if s.link_ok else "  LINK LOST"
            self.header.setText(f"{'ARMED' if s.armed else 'disarmed'}  {s.mode or '?'}  {depth}{link}")
            _restyle(self.header, f"color: {colour('stale' if not s.link_ok else 'alarm' if s.armed else 'ok').name()}")
        for name, button in self.mode_buttons.items():
            button.setChecked(s.mode == name)
            needs = SubMode[name] in MODES_NEEDING_POSITION
            if needs and not s.has_position:
                button.setEnabled(False)
                button.setToolTip(f"{name}: {_POSITION_TIP}")
            else:
                button.setToolTip("")
            _restyle(button, f"background: {colour('info').name()}; color: white" if s.mode == name else "")
        self.mission_pause_button.setEnabled(self.mission_pause_button.isEnabled() and s.mode == "AUTO")
        if not s.has_position:
            self.mission_start_button.setEnabled(False)
            self.mission_start_button.setToolTip(f"AUTO {_POSITION_TIP}")
        gain = s.named("PilotGain")
        if gain is not None and not self.gain.hasFocus() and self.gain_button not in busy:
            self.gain.setValue(gain)
        lights = s.named("Lights1")
        if lights is not None and not self._user_lights and not self.lights.isSliderDown() and self.lights not in busy:
            self.lights.blockSignals(True)
            self.lights.setValue(round(lights * 100))
            self.lights.blockSignals(False)

    def closeEvent(self, event) -> None:
        self._lights_timer.stop()
        for running in self._tasks.values():
            if running.task is not None:
                running.task.cancel()  # a running dive stops at its next tick
        if self.confirm_box is not None:
            self.confirm_box.close()
        super().closeEvent(event)

    def _button(self, text: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumHeight(MIN_BUTTON_PX)
        button.clicked.connect(slot)
        return button


def _restyle(widget: QWidget, sheet: str) -> None:
    if widget.styleSheet() != sheet:  # re-polishing at 20 Hz costs more than comparing
        widget.setStyleSheet(sheet)


def _dive_to(vehicle, depth_m: float, task=None) -> float:
    """GUIDED: the depth target goes out and the vehicle flies it; ALT_HOLD: throttle down
    until there (vehicle.maneuvers.dive_to), stoppable by cancelling the task."""
    from vehicle.maneuvers import dive_to

    def tick() -> None:
        if task is not None and task.cancelled.is_set():
            raise VehicleError(f"dive to {depth_m:.1f} m stopped by the pilot")
    return dive_to(vehicle, depth_m, timeout_s=DIVE_TIMEOUT_S, tick=tick)
