"""The multibeam sonar view: the fan image with range rings and bearing lines drawn from
its geometry (vision.sonar.fan.FanImage), the detector's boxes, the range and bearing of
alarm-class echoes, and the pilot's range and gain controls.

The controls only report intent (range_requested, gain_requested); `apply_to(client)`
connects them to an OculusClient, whose set_fire() only encodes a message and sets an
event for its reader thread, so calling it from the GUI thread never blocks.
"""
from __future__ import annotations

import math
import time
from collections import deque

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from app.qt_theme import colour
from vision.classes import ALARM_CLASSES, CLASSES

RANGE_CHOICES_M = (2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0)
MODE_NAMES = {1: "low frequency", 2: "high frequency"}
GRID_RGBA = (235, 235, 235, 190)  # drawn over the black sonar picture in both themes
CONTROL_MIN_H = 40  # gloves


def sonar_colour_table() -> list[int]:
    """Echo strength 0..255 as black -> copper -> pale yellow (reads well in the dark and the sun)."""
    t = np.linspace(0.0, 1.0, 256)
    r = np.clip(t * 1.6, 0, 1) * 255
    g = np.clip(t * 1.1 - 0.1, 0, 1) * 235
    b = np.clip(t * 1.5 - 0.7, 0, 1) * 160
    return [QColor(int(a), int(c), int(d)).rgb() for a, c, d in zip(r, g, b)]


def ring_step_m(max_range_m: float) -> float:
    """A round ring spacing giving 3..6 rings out to max_range_m."""
    for step in (0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0):
        if max_range_m / step <= 6:
            return step
    return 100.0


class _FanCanvas(QWidget):
    def __init__(self, view: "QtSonarView") -> None:
        super().__init__(view)
        self.view = view
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WA_OpaquePaintEvent)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        self.view._paint(p, self)
        p.end()


class QtSonarView(QWidget):
    range_requested = Signal(float)  # metres
    gain_requested = Signal(float)  # percent

    def __init__(self, parent: QWidget | None = None, *, class_names=CLASSES, range_m: float = 10.0,
                 gain_percent: float = 50.0, master_mode: int = 2, ping_rate_hz: float = 10.0) -> None:
        super().__init__(parent)
        self.class_names = tuple(class_names)
        self.master_mode = int(master_mode)
        self.ping_rate_hz = float(ping_rate_hz)
        self._fan = None
        self._qimg: QImage | None = None
        self._buffer = None
        self._result = None
        self._arrivals: deque[float] = deque(maxlen=20)
        self._frequency_hz: float | None = None
        self._colours = sonar_colour_table()

        self.canvas = _FanCanvas(self)
        self.range_box = QComboBox()
        for r in RANGE_CHOICES_M:
            self.range_box.addItem(f"{r:g} m", r)
        self.range_box.setMinimumHeight(CONTROL_MIN_H)
        self.range_box.setToolTip("sonar range")
        self.gain_slider = QSlider(Qt.Horizontal)
        self.gain_slider.setRange(0, 100)
        self.gain_slider.setTracking(False)  # one request when the pilot lets go, not one per pixel
        self.gain_slider.setMinimumHeight(CONTROL_MIN_H)
        self.gain_label = QLabel()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self._set_range_control(range_m)
        self.gain_slider.setValue(int(round(gain_percent)))
        self.gain_label.setText(f"gain {self.gain_slider.value()} %")
        self.range_box.currentIndexChanged.connect(self._range_changed)
        self.gain_slider.valueChanged.connect(self._gain_changed)
        self.gain_slider.sliderMoved.connect(lambda v: self.gain_label.setText(f"gain {v} %"))

        controls = QHBoxLayout()
        controls.addWidget(QLabel("range"))
        controls.addWidget(self.range_box)
        controls.addSpacing(12)
        controls.addWidget(self.gain_label)
        controls.addWidget(self.gain_slider, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(controls)
        layout.addWidget(self.status_label)
        self._update_status()

    # -- controls ---------------------------------------------------------------------
    @property
    def range_m(self) -> float:
        return float(self.range_box.currentData())

    @property
    def gain_percent(self) -> float:
        return float(self.gain_slider.value())

    def _set_range_control(self, range_m: float) -> None:
        i = int(np.argmin([abs(r - range_m) for r in RANGE_CHOICES_M]))
        if abs(RANGE_CHOICES_M[i] - range_m) > 1e-6:  # a range set elsewhere: offer it too
            self.range_box.addItem(f"{range_m:g} m", float(range_m))
            i = self.range_box.count() - 1
        self.range_box.setCurrentIndex(i)

    def _range_changed(self, index: int) -> None:
        self._update_status()
        self.range_requested.emit(float(self.range_box.itemData(index)))

    def _gain_changed(self, value: int) -> None:
        self.gain_label.setText(f"gain {value} %")
        self._update_status()
        self.gain_requested.emit(float(value))

    def apply_to(self, client):
        """Send range and gain changes to `client` (an OculusClient, via set_fire). Returns a
        callable that disconnects again."""
        def fire(*_):
            client.set_fire(self.range_m, self.gain_percent, master_mode=self.master_mode,
                            ping_rate_hz=self.ping_rate_hz)

        self.range_requested.connect(fire)
        self.gain_requested.connect(fire)

        def disconnect() -> None:
            self.range_requested.disconnect(fire)
            self.gain_requested.disconnect(fire)

        return disconnect

    # -- slots ------------------------------------------------------------------------
    def show_fan(self, fan) -> None:
        """A vision.sonar.fan.FanImage, without detections."""
        self._result = None
        self._set_fan(fan)

    def show_result(self, result) -> None:
        """A DetectionResult whose frame.meta is the FanImage of frame.image."""
        self._result = result
        self._set_fan(result.frame.meta)

    def set_ping_info(self, frequency_hz: float | None = None) -> None:
        """What the sonar reports about its pings (SonarPing.frequency_hz), for the status line."""
        self._frequency_hz = frequency_hz
        self._update_status()

    def _set_fan(self, fan) -> None:
        self._fan = fan
        a = np.ascontiguousarray(fan.image)
        q = QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format_Indexed8)
        q.setColorTable(self._colours)
        self._qimg, self._buffer = q, a
        self._arrivals.append(time.monotonic())
        self._update_status()
        self.canvas.update()

    # -- what is drawn ---------------------------------------------------------------------
    def ping_rate_hz_measured(self) -> float | None:
        if len(self._arrivals) < 2 or self._arrivals[-1] <= self._arrivals[0]:
            return None
        return (len(self._arrivals) - 1) / (self._arrivals[-1] - self._arrivals[0])

    def fan_rect(self) -> QRectF:
        """Where the fan image is painted in canvas coordinates (aspect kept)."""
        if self._fan is None:
            return QRectF()
        fw, fh = self._fan.width_px, self._fan.height_px
        c = self.canvas
        s = min(c.width() / fw, c.height() / fh)
        return QRectF((c.width() - fw * s) / 2, (c.height() - fh * s) / 2, fw * s, fh * s)

    def fan_to_canvas(self, x_px: float, y_px: float) -> QPointF:
        r = self.fan_rect()
        s = r.width() / self._fan.width_px
        return QPointF(r.x() + x_px * s, r.y() + y_px * s)

    def ring_ranges_m(self) -> list[float]:
        if self._fan is None:
            return []
        step = ring_step_m(self._fan.max_range_m)
        return [step * k for k in range(1, int(self._fan.max_range_m / step + 1e-9) + 1)]

    def bearing_lines_deg(self) -> list[float]:
        if self._fan is None:
            return []
        b0, b1 = float(self._fan.bearings_deg[0]), float(self._fan.bearings_deg[-1])
        step = 15.0 if b1 - b0 <= 90 else 30.0
        return [k * step for k in range(math.ceil(b0 / step), math.floor(b1 / step) + 1)]

    def alarm_positions(self) -> list[tuple[str, int, float, float]]:
        """(class, track id, range m, bearing deg + to starboard) of each alarm-class box."""
        r = self._result
        if r is None or len(r.detections) == 0:
            return []
        from vision.detect.sonar_geometry import fan_detections_to_polar

        det = r.detections
        polar = fan_detections_to_polar(det, r.frame.meta)
        out = []
        for i in range(len(det)):
            name = self.class_names[int(det.class_id[i])]
            if name in ALARM_CLASSES:
                tid = -1 if det.tracker_id is None else int(det.tracker_id[i])
                out.append((name, tid, float(polar.near_range_m[i]), float(polar.bearing_deg[i])))
        return out

    def _update_status(self) -> None:
        rate = self.ping_rate_hz_measured()
        mode = MODE_NAMES.get(self.master_mode, f"mode {self.master_mode}")
        if self._frequency_hz:
            mode += f" ({self._frequency_hz / 1e6:.2f} MHz)"
        self.status_label.setText(
            f"ping {'—' if rate is None else f'{rate:.1f} Hz'} · range {self.range_m:g} m · "
            f"gain {self.gain_percent:.0f} % · {mode}")

    # -- painting ---------------------------------------------------------------------
    def _paint(self, p: QPainter, canvas: QWidget) -> None:
        fm = QFontMetrics(self.font())
        if self._fan is None:
            p.setPen(colour("stale"))
            p.drawText(canvas.rect(), Qt.AlignCenter, "no sonar — waiting for pings")
            return
        target = self.fan_rect()
        p.setRenderHint(QPainter.SmoothPixmapTransform, True)
        p.drawImage(target, self._qimg)
        self._paint_grid(p, fm)
        self._paint_detections(p, fm)

    def _paint_grid(self, p: QPainter, fm: QFontMetrics) -> None:
        fan = self._fan
        s = self.fan_rect().width() / fan.width_px
        apex = self.fan_to_canvas(*fan.origin_px)
        b0, b1 = float(fan.bearings_deg[0]), float(fan.bearings_deg[-1])
        grid = QColor(*GRID_RGBA)
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(grid, 1))
        p.setBrush(Qt.NoBrush)
        for r in self.ring_ranges_m():
            rad = r / fan.metres_per_pixel * s
            # Qt: 0 deg at 3 o'clock, counter-clockwise; bearing 0 is up, + to starboard (right)
            p.drawArc(QRectF(apex.x() - rad, apex.y() - rad, 2 * rad, 2 * rad),
                      int((90.0 - b1) * 16), int((b1 - b0) * 16))
            x, y = fan.polar_to_pixel(r, b0)
            pt = self.fan_to_canvas(x, y)
            label = f"{r:g} m"
            box = QRectF(pt.x() - fm.horizontalAdvance(label) - 4, pt.y() - fm.height() / 2,
                         fm.horizontalAdvance(label) + 2, fm.height())
            p.drawText(box, Qt.AlignRight | Qt.AlignVCenter, label)
        for b in self.bearing_lines_deg():
            x, y = fan.polar_to_pixel(fan.max_range_m, b)
            end = self.fan_to_canvas(x, y)
            p.drawLine(apex, end)
            label = f"{b:+.0f}°" if b else "0°"
            p.drawText(QRectF(end.x() - 30, end.y() - fm.height() - 2, 60, fm.height()), Qt.AlignCenter, label)

    def _paint_detections(self, p: QPainter, fm: QFontMetrics) -> None:
        r = self._result
        if r is None or len(r.detections) == 0:
            return
        det = r.detections
        p.setRenderHint(QPainter.Antialiasing, False)
        for i in range(len(det)):
            name = self.class_names[int(det.class_id[i])]
            alarm = name in ALARM_CLASSES
            c = colour("alarm") if alarm else colour("info")
            x0, y0, x1, y1 = (float(v) for v in det.xyxy[i])
            a, b = self.fan_to_canvas(x0, y0), self.fan_to_canvas(x1, y1)
            pen = QPen(c, 4 if alarm else 2)
            pen.setJoinStyle(Qt.MiterJoin)
            p.setPen(pen)
            p.drawRect(QRectF(a, b))
            tid = -1 if det.tracker_id is None else int(det.tracker_id[i])
            label = f"{name}{f' #{tid}' if tid > 0 else ''} {det.confidence[i]:.2f}"
            box = QRectF(a.x(), a.y() - fm.height() - 2, fm.horizontalAdvance(label) + 8, fm.height() + 2)
            p.fillRect(box, c)
            p.setPen(QColor(255, 255, 255))
            p.drawText(box, Qt.AlignCenter, label)
        lines = [f"ALARM {name}{f' #{tid}' if tid > 0 else ''}: {rng:.1f} m, "
                 f"{abs(brg):.0f}° {'starboard' if brg >= 0 else 'port'}"
                 for name, tid, rng, brg in self.alarm_positions()]
        if lines:
            f = QFont(self.font())
            f.setBold(True)
            p.setFont(f)
            h = fm.height() + 4
            band = QRectF(0, 0, self.canvas.width(), h * len(lines) + 4)
            p.fillRect(band, colour("alarm"))
            p.setPen(QColor(255, 255, 255))
            for k, text in enumerate(lines):
                p.drawText(QRectF(8, 2 + k * h, band.width() - 16, h), Qt.AlignLeft | Qt.AlignVCenter, text)
            p.setFont(self.font())
