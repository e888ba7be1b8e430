"""The replay's one timeline: a bar over the whole record with its marks (alarms red,
findings orange, warnings amber, telemetry events blue) above the flight-mode strip, and the
transport under it (play/pause, step, speed, reverse, previous/next alarm or finding, the
time in UTC and since the start).

A view: it shows the time it is given (set_time) and reports intent through signals; the
replay window owns the clock. The keys work anywhere in the window: space plays/pauses,
left/right step, [ and ] change the speed, J and L jump to the previous/next mark.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter, QPalette, QPen, QPolygonF, QShortcut
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from .qt_replay_plots import mode_colour
from .qt_theme import colour

BUTTON_MIN_PX = 40  # gloves
BAR_PAD_PX = 10
MODE_BAND_PX = 10
MARK_ROLES = {"alarm": "alarm", "finding": "finding_anomaly", "warning": "warning", "event": "info"}


def format_utc(t_s: float) -> str:
    return dt.datetime.fromtimestamp(t_s, dt.timezone.utc).strftime("%H:%M:%S.%f")[:-4] + " UTC"


def format_elapsed(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    return f"{sign}{int(s // 3600)}:{int(s % 3600 // 60):02d}:{s % 60:05.2f}"


class QtTimeBar(QWidget):
    """The bar: click or drag to seek (seek_requested(t_s), UTC)."""

    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._span = (0.0, 1.0)
        self._marks: list = []
        self._modes: list = []
        self._t_s = 0.0
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setCursor(Qt.PointingHandCursor)

    def set_span(self, t_start_s: float, t_end_s: float) -> None:
        self._span = (float(t_start_s), float(max(t_end_s, t_start_s + 1e-3)))
        self.update()

    def set_marks(self, marks) -> None:
        """Mark-like objects (t_utc_s, kind, label)."""
        self._marks = list(marks)
        self.update()

    def set_modes(self, spans) -> None:
        self._modes = list(spans)
        self.update()

    def set_time(self, t_s: float) -> None:
        if t_s != self._t_s:
            self._t_s = float(t_s)
            self.update()

    def x_of(self, t_s: float) -> float:
        t0, t1 = self._span
        return BAR_PAD_PX + (t_s - t0) / (t1 - t0) * max(self.width() - 2 * BAR_PAD_PX, 1)

    def t_of(self, x: float) -> float:
        t0, t1 = self._span
        f = (x - BAR_PAD_PX) / max(self.width() - 2 * BAR_PAD_PX, 1)
        return t0 + min(max(f, 0.0), 1.0) * (t1 - t0)

    def mark_near(self, x: float, slop_px: float = 6.0):
        near = [m for m in self._marks if abs(self.x_of(m.t_utc_s) - x) <= slop_px]
        return min(near, key=lambda m: abs(self.x_of(m.t_utc_s) - x)) if near else None

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.LeftButton:
            self.seek_requested.emit(self.t_of(event.position().x()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.LeftButton:
            self.seek_requested.emit(self.t_of(event.position().x()))
        else:
            m = self.mark_near(event.position().x())
            self.setToolTip(f"{m.kind}: {m.label}\n{format_utc(m.t_utc_s)}" if m is not None else "")

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        pal = self.palette()
        h = self.height()
        p.fillRect(self.rect(), pal.color(QPalette.Window))
        for s in self._modes:
            x0, x1 = self.x_of(s.t0_s), self.x_of(s.t1_s)
            p.fillRect(QRectF(x0, h - MODE_BAND_PX - 2, max(x1 - x0, 1.0), MODE_BAND_PX), mode_colour(s.mode))
        groove = QRectF(BAR_PAD_PX, h / 2 - 4, self.width() - 2 * BAR_PAD_PX, 8)
        p.fillRect(groove, pal.color(QPalette.Mid))
        played = QRectF(groove.x(), groove.y(), max(self.x_of(self._t_s) - groove.x(), 0.0), groove.height())
        p.fillRect(played, pal.color(QPalette.Highlight))
        p.setRenderHint(QPainter.Antialiasing, True)
        # events first, so alarms and findings are drawn over them
        for m in sorted(self._marks, key=lambda m: ("event", "warning", "finding", "alarm").index(m.kind)
                        if m.kind in MARK_ROLES else 0):
            x = self.x_of(m.t_utc_s)
            c = colour(MARK_ROLES.get(m.kind, "info"))
            if m.kind == "alarm":
                p.setPen(QPen(c, 3))
                p.drawLine(QPointF(x, 4), QPointF(x, h - MODE_BAND_PX - 4))
                p.setBrush(c)
                p.drawPolygon(QPolygonF([QPointF(x - 6, 2), QPointF(x + 6, 2), QPointF(x, 12)]))
            elif m.kind == "finding":
                p.setPen(QPen(pal.color(QPalette.WindowText), 1))
                p.setBrush(c)
                p.drawPolygon(QPolygonF([QPointF(x, h / 2 - 9), QPointF(x + 7, h / 2), QPointF(x, h / 2 + 9),
                                         QPointF(x - 7, h / 2)]))
            else:
                p.setPen(QPen(c, 2))
                p.drawLine(QPointF(x, h / 2 + 5), QPointF(x, h - MODE_BAND_PX - 3))
        x = self.x_of(self._t_s)
        p.setPen(QPen(pal.color(QPalette.WindowText), 2))
        p.setBrush(pal.color(QPalette.Base))
        p.drawRoundedRect(QRectF(x - 5, 2, 10, h - MODE_BAND_PX - 4), 3, 3)


class QtTimeline(QWidget):
    """The bar and the transport. Intent: seek_requested(t_s), play_pause_requested(),
    step_requested(+1 | -1), speed_requested(x), reverse_requested(bool),
    mark_requested(+1 | -1)."""

    seek_requested = Signal(float)
    play_pause_requested = Signal()
    step_requested = Signal(int)
    speed_requested = Signal(float)
    reverse_requested = Signal(bool)
    mark_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, speeds=None) -> None:
        super().__init__(parent)
        if speeds is None:
            from .replay_clock import SPEEDS as speeds
        self.speeds = tuple(float(s) for s in speeds)
        self._t0 = 0.0
        self._t_s = 0.0
        self.bar = QtTimeBar(self)
        self.bar.seek_requested.connect(self.seek_requested)

        def button(text: str, tip: str, slot) -> QPushButton:
            b = QPushButton(text, self)
            b.setMinimumHeight(BUTTON_MIN_PX)
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.NoFocus)  # the window's keys (space, arrows) stay the replay's
            b.clicked.connect(slot)
            return b

        self.prev_mark_button = button("|◀ Alarm/finding", "previous alarm or finding (J)",
                                       lambda: self.mark_requested.emit(-1))
        self.step_back_button = button("◀ Step", "one frame back (←)", lambda: self.step_requested.emit(-1))
        self.play_button = button("▶ Play", "play / pause (space)", self.play_pause_requested.emit)
        self.play_button.setMinimumWidth(110)
        self.step_button = button("Step ▶", "one frame forward (→)", lambda: self.step_requested.emit(1))
        self.next_mark_button = button("Alarm/finding ▶|", "next alarm or finding (L)",
                                       lambda: self.mark_requested.emit(1))
        self.speed_box = QComboBox(self)
        for s in self.speeds:
            self.speed_box.addItem(f"{s:g}x", s)
        self.speed_box.setMinimumHeight(BUTTON_MIN_PX)
        self.speed_box.setFocusPolicy(Qt.NoFocus)
        self.speed_box.setToolTip("replay speed ([ slower, ] faster)")
        self.speed_box.activated.connect(lambda i: self.speed_requested.emit(float(self.speed_box.itemData(i))))
        self.reverse_box = QCheckBox("Reverse", self)
        self.reverse_box.setMinimumHeight(BUTTON_MIN_PX)
        self.reverse_box.setFocusPolicy(Qt.NoFocus)
        self.reverse_box.toggled.connect(self.reverse_requested)
        self.time_label = QLabel(self)
        self.time_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        row = QHBoxLayout()
        for w in (self.prev_mark_button, self.step_back_button, self.play_button, self.step_button,
                  self.next_mark_button, self.speed_box, self.reverse_box):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.time_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 4)
        lay.addWidget(self.bar)
        lay.addLayout(row)
        self._keys()
        self.set_speed(1.0)
        self.set_time(0.0)

    def _keys(self) -> None:
        for key, slot in ((Qt.Key_Space, self.play_pause_requested.emit),
                          (Qt.Key_Left, lambda: self.step_requested.emit(-1)),
                          (Qt.Key_Right, lambda: self.step_requested.emit(1)),
                          (Qt.Key_BracketLeft, lambda: self._speed_by(-1)),
                          (Qt.Key_BracketRight, lambda: self._speed_by(1)),
                          (Qt.Key_J, lambda: self.mark_requested.emit(-1)),
                          (Qt.Key_L, lambda: self.mark_requested.emit(1))):
            QShortcut(QKeySequence(key), self, activated=slot, context=Qt.WindowShortcut)

    def _speed_by(self, steps: int) -> None:
        i = min(max(self.speed_box.currentIndex() + steps, 0), self.speed_box.count() - 1)
        if i != self.speed_box.currentIndex():
            self.speed_requested.emit(float(self.speed_box.itemData(i)))

    # -- what it shows -------------------------------------------------------------------
    def set_span(self, t_start_s: float, t_end_s: float) -> None:
        self._t0 = float(t_start_s)
        self.bar.set_span(t_start_s, t_end_s)
        self.set_time(self._t_s)

    def set_marks(self, marks) -> None:
        self.bar.set_marks(marks)
        has = any(m.kind in ("alarm", "finding") for m in marks)
        self.prev_mark_button.setEnabled(has)
        self.next_mark_button.setEnabled(has)

    def set_modes(self, spans) -> None:
        self.bar.set_modes(spans)

    def set_time(self, t_s: float) -> None:
        self._t_s = float(t_s)
        self.bar.set_time(t_s)
        text = f"{format_utc(t_s)}   +{format_elapsed(t_s - self._t0)}"
        if self.time_label.text() != text:
            self.time_label.setText(text)

    def set_playing(self, playing: bool) -> None:
        text = "|| Pause" if playing else "▶ Play"
        if self.play_button.text() != text:  # called at the play timer's rate: no relayout each time
            self.play_button.setText(text)

    def set_speed(self, speed: float) -> None:
        i = self.speed_box.findData(float(speed))
        if i >= 0:
            self.speed_box.setCurrentIndex(i)

    def set_reverse(self, reverse: bool) -> None:
        if self.reverse_box.isChecked() != bool(reverse):
            self.reverse_box.blockSignals(True)
            self.reverse_box.setChecked(bool(reverse))
            self.reverse_box.blockSignals(False)

    def set_step_text(self, text: str) -> None:
        """What one step is ("one frame", "0.1 s"), for the step buttons' tooltips."""
        self.step_back_button.setToolTip(f"{text} back (←)")
        self.step_button.setToolTip(f"{text} forward (→)")
