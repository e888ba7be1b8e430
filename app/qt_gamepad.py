"""The gamepad panel: is a pad there, is the deadman held (LIVE) or not (SAFE), what the
sticks send, and the editor for which button does what. Also the keyboard fallback: keys
typed in a window given to install_keyboard() feed the KeyboardSource.

The pilot (app.gamepad.PadPilot) is the owner's; this view reads its immutable status on a
20 Hz timer and turns its action callback (pilot thread) into action_triggered (GUI thread).
"""
from __future__ import annotations

import dataclasses
import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QAbstractItemView, QAbstractSpinBox, QApplication, QComboBox, QFileDialog,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QTextEdit, QVBoxLayout, QWidget)

from .gamepad import KeyboardSource, PadPilot, PygameSource
from .gamepad_map import ACTIONS, button_name, default_map, load_map, save_map
from .qt_gamepad_sticks import QtStickView
from .qt_tasks import run_task
from .qt_theme import big_font, colour

REFRESH_MS = 50
CAPTURE_TIMEOUT_S = 10.0
MIN_BUTTON_PX = 40
_KEYS = {Qt.Key_W: "W", Qt.Key_A: "A", Qt.Key_S: "S", Qt.Key_D: "D", Qt.Key_Q: "Q", Qt.Key_E: "E",
         Qt.Key_R: "R", Qt.Key_F: "F", Qt.Key_Space: "Space", Qt.Key_Return: "Return", Qt.Key_Enter: "Enter"}
_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)
_SOURCES = ("Gamepad", "Keyboard")
_KEY_HELP = "W/S forward, A/D sideways, Q/E yaw, R/F up/down, Space = deadman on/off, Enter = acknowledge"


class _KeyboardFilter(QObject):
    """Application-wide filter: keys whose receiver is `target` or inside it, unless the
    user is typing into a text field; losing the window releases every key."""

    def __init__(self, panel: "QtGamepadPanel", target: QWidget):
        super().__init__(panel)
        self._panel, self._target = panel, target

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind in (QEvent.WindowDeactivate, QEvent.FocusOut) and obj is self._target.window():
            self._panel.keyboard.release_all()
            return False
        if kind not in (QEvent.KeyPress, QEvent.KeyRelease) or not self._panel.keyboard_active():
            return False
        if not isinstance(obj, QWidget) or isinstance(obj, _TEXT_INPUTS):
            return False
        if obj is not self._target and not self._target.isAncestorOf(obj):
            return False
        name = _KEYS.get(event.key())
        if name is None or event.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
            return False
        if event.isAutoRepeat():
            return True  # held keys stay held; the repeats would toggle the deadman
        return self._panel.keyboard.key_event(name, kind == QEvent.KeyPress)


class QtGamepadPanel(QWidget):
    action_triggered = Signal(str)  # a pad button's action, on the GUI thread
    map_changed = Signal(object)  # the new PadMap after an edit or load

    def __init__(self, pilot: PadPilot, keyboard: KeyboardSource | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.pilot = pilot
        self.keyboard = keyboard or (pilot.source if isinstance(pilot.source, KeyboardSource)
                                     else KeyboardSource(pilot.pad_map))
        self._filters: list[_KeyboardFilter] = []
        self._tasks: list = []
        self._capture: tuple[str, float] | None = None
        self._prev_buttons: tuple[bool, ...] = ()
        pilot.on_action = self._from_pilot_thread
        self._build()
        self._fill_table()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh)
        self._timer.start(REFRESH_MS)
        self._refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.pad_label = QLabel()
        self.pad_label.setWordWrap(True)
        self.source_box = QComboBox()
        self.source_box.addItems(_SOURCES)
        self.source_box.setToolTip(f"Keyboard flying: {_KEY_HELP}")
        self.source_box.setMinimumHeight(MIN_BUTTON_PX)
        self.source_box.setCurrentIndex(1 if self.keyboard_active() else 0)
        self.source_box.currentIndexChanged.connect(self._choose_source)
        self.deadman_label = QLabel("SAFE")
        self.deadman_label.setFont(big_font(self.font()))
        self.deadman_label.setAlignment(Qt.AlignCenter)
        self.deadman_label.setAutoFillBackground(True)
        self.deadman_label.setMinimumHeight(56)
        self.sticks = QtStickView()
        self.table = QTableWidget(len(ACTIONS) + 1, 2)
        self.table.setHorizontalHeaderLabels(["Action", "Pad button"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, slot in (("Assign…", self.start_capture), ("Clear", self._clear_row), ("Load…", self._load),
                           ("Save…", self._save), ("Reset to default", self.reset_map)):
            b = QPushButton(text)
            b.setMinimumHeight(MIN_BUTTON_PX)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        top = QHBoxLayout()
        top.addWidget(self.pad_label, 1)
        top.addWidget(self.source_box)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        middle = QHBoxLayout()
        middle.addWidget(self.deadman_label, 1)
        middle.addWidget(self.sticks)
        layout.addLayout(middle)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def _rows(self) -> list[str]:
        return ["deadman", *ACTIONS]

    def _fill_table(self) -> None:
        b = self.pilot.pad_map.buttons
        for row, action in enumerate(self._rows()):
            button = b.deadman if action == "deadman" else b.button_for(action)
            text = "off (sticks always live)" if action == "deadman" and button is None else button_name(button)
            self.table.setItem(row, 0, QTableWidgetItem(action.replace("_", " ")))
            self.table.setItem(row, 1, QTableWidgetItem(text))

    # ------------------------------------------------------------------ pilot -> view
    def _from_pilot_thread(self, action: str) -> None:
        self.action_triggered.emit(action)  # queued to the GUI thread's receivers

    def _refresh(self) -> None:
        st = self.pilot.status
        if st.connected:
            self.pad_label.setText(f"Keyboard: {_KEY_HELP}" if self.keyboard_active() else f"Pad: {st.name}")
            self.pad_label.setStyleSheet("")
        else:
            self.pad_label.setText(st.reason or "no pad")
            self.pad_label.setStyleSheet(f"color: {colour('warning').name()}")
        pal = self.deadman_label.palette()
        pal.setColor(QPalette.Window, colour("ok") if st.live else colour("stale"))
        pal.setColor(QPalette.WindowText, Qt.white)
        self.deadman_label.setPalette(pal)
        self.deadman_label.setText("LIVE" if st.live else "SAFE")
        self.sticks.set_sticks(st.sticks, st.live)
        self._check_capture(st.buttons)
        self._prev_buttons = st.buttons

    # ------------------------------------------------------------------ map editing
    def _selected_action(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self._rows()[rows[0].row()] if rows else None

    def start_capture(self, action: str | None = None) -> None:
        action = action if isinstance(action, str) else self._selected_action()
        if action is None:
            self._say("Select an action in the table first, then press Assign.", "warning")
            return
        self._capture = (action, time.monotonic() + CAPTURE_TIMEOUT_S)
        self.pilot.actions_enabled = False  # the button pressed to assign must not also act
        self._say(f"Press a pad button for '{action.replace('_', ' ')}' (10 s)…", "info")

    def _check_capture(self, buttons: tuple[bool, ...]) -> None:
        if self._capture is None:
            return
        action, deadline = self._capture
        pressed = [i for i, down in enumerate(buttons) if down and not (i < len(self._prev_buttons)
                                                                       and self._prev_buttons[i])]
        if pressed:
            self._end_capture()
            self._set_buttons(self.pilot.pad_map.buttons.with_action(action, pressed[0]))
            self._say(f"'{action.replace('_', ' ')}' is now {button_name(pressed[0])}.", "ok")
        elif time.monotonic() > deadline:
            self._end_capture()
            self._say("No button pressed: nothing changed.", "warning")

    def _end_capture(self) -> None:
        self._capture = None
        self.pilot.actions_enabled = True

    def _clear_row(self) -> None:
        action = self._selected_action()
        if action is not None:
            self._set_buttons(self.pilot.pad_map.buttons.with_action(action, None))

    def _set_buttons(self, buttons) -> None:
        self.set_map(dataclasses.replace(self.pilot.pad_map, buttons=buttons))

    def set_map(self, pad_map) -> None:
        self.pilot.set_map(pad_map)
        self.keyboard.set_map(pad_map)
        self._fill_table()
        self.map_changed.emit(pad_map)

    def reset_map(self) -> None:
        self.set_map(default_map())
        self._say("Default map restored (Xbox layout, RT = deadman).", "ok")

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save gamepad map", "gamepad_map.json", "JSON (*.json)")
        if path:
            self._run("save gamepad map", save_map, self.pilot.pad_map, path,
                      on_done=lambda _: self._say(f"Saved {path}", "ok"))

    def _load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load gamepad map", "", "JSON (*.json)")
        if path:
            self.load_from(path)

    def load_from(self, path: str) -> None:
        """Read a map file off the GUI thread; a bad file is reported in the panel."""
        def done(pad_map) -> None:
            self.set_map(pad_map)
            self._say(f"Loaded {path}", "ok")
        self._run("load gamepad map", load_map, path, on_done=done)

    def _run(self, name, fn, *args, on_done) -> None:
        task = run_task(name, fn, *args, parent=self, on_done=on_done,
                        on_error=lambda text: self._say(text, "alarm"))
        self._tasks = [t for t in self._tasks if not t.future.done()] + [task]

    def _say(self, text: str, role: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {colour(role).name()}")

    # ------------------------------------------------------------------ keyboard
    def keyboard_active(self) -> bool:
        return self.pilot.source is self.keyboard

    def _choose_source(self, index: int) -> None:
        self.keyboard.release_all()
        self.pilot.set_source(self.keyboard if index == 1 else PygameSource())

    def install_keyboard(self, widget: QWidget) -> None:
        """Keys typed anywhere in `widget` fly the ROV while the keyboard is the source."""
        f = _KeyboardFilter(self, widget)
        QApplication.instance().installEventFilter(f)
        self._filters.append(f)

    def closeEvent(self, event) -> None:
        self._timer.stop()
        if self.pilot.on_action == self._from_pilot_thread:
            self.pilot.on_action = None
        self._end_capture()
        app = QApplication.instance()
        for f in self._filters:
            app.removeEventFilter(f)
        self._filters.clear()
        self.keyboard.release_all()
        super().closeEvent(event)
