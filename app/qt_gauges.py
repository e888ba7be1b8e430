"""Painted instruments for the pilot's panel: a heading tape, an artificial horizon and a
depth trace. Each takes plain numbers through setters and repaints; none holds a vehicle.

Text and lines use the widget's palette (so both themes work); a gauge showing the last
values of a lost link paints them in the "stale" colour. The horizon's water/seabed
colours are the instrument convention, not status colours, and are the same in both
themes; they turn grey when stale.
"""
from __future__ import annotations

import collections
import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from .qt_theme import big_font, colour

CARDINALS = {0: "N", 90: "E", 180: "S", 270: "W"}
SKY = QColor(40, 120, 215)  # water above the vehicle's horizon
GROUND = QColor(140, 90, 40)  # seabed side
STALE_SKY = QColor(150, 150, 150)
STALE_GROUND = QColor(95, 95, 95)


def wrap180(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def _fg(widget: QWidget, stale: bool) -> QColor:
    return colour("stale") if stale else widget.palette().color(QPalette.WindowText)


class CompassTape(QWidget):
    """A horizontal heading tape: ticks every 10 deg, N/E/S/W and numbers every 30 deg,
    the current heading in a box over the centre marker."""

    SPAN_DEG = 120.0  # the width of the tape shows this much of the horizon
    BOX_H = 36  # the heading box row; the tape is below it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._heading: float | None = None
        self._stale = False
        self.setMinimumSize(240, 84)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(400, 84)

    def set_heading(self, heading_deg: float | None) -> None:
        heading = None if heading_deg is None else heading_deg % 360.0
        if heading != self._heading:
            self._heading = heading
            self.update()

    def heading(self) -> float | None:
        return self._heading

    def set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self.update()

    def box_text(self) -> str:
        return "—" if self._heading is None else f"{round(self._heading) % 360:03d}°"

    def px_per_deg(self) -> float:
        return self.width() / self.SPAN_DEG

    def x_of(self, bearing_deg: float) -> float | None:
        """Where the tick of `bearing_deg` is drawn now (None without a heading)."""
        if self._heading is None:
            return None
        return self.width() / 2.0 + wrap180(bearing_deg - self._heading) * self.px_per_deg()

    def label_rect(self, x: float) -> QRectF:
        """The box a tick label centred on x is drawn in."""
        return QRectF(x - 22.0, self.height() - 26.0, 44.0, 24.0)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        w, h = self.width(), self.height()
        fg = _fg(self, self._stale)
        p.fillRect(self.rect(), self.palette().color(QPalette.Base))
        top = float(self.BOX_H)
        p.setPen(QPen(fg, 1))
        p.drawLine(QPointF(0, top), QPointF(w, top))
        label_font = QFont(self.font())
        label_font.setBold(True)
        p.setFont(label_font)
        if self._heading is not None:
            first = math.floor((self._heading - self.SPAN_DEG / 2) / 10.0) * 10
            for bearing in range(first, first + int(self.SPAN_DEG) + 20, 10):
                x = self.x_of(bearing)
                major = bearing % 30 == 0
                p.setPen(QPen(fg, 2 if major else 1))
                p.drawLine(QPointF(x, top), QPointF(x, top + (16 if major else 9)))
                if major:
                    b = bearing % 360
                    p.drawText(self.label_rect(x), Qt.AlignCenter, CARDINALS.get(b, str(b)))
        # centre marker: a notch from the box down into the tape
        cx = w / 2.0
        p.setPen(Qt.NoPen)
        p.setBrush(fg)
        p.drawPolygon(QPolygonF([QPointF(cx - 7, top), QPointF(cx + 7, top), QPointF(cx, top + 10)]))
        box = QRectF(cx - 50, 2, 100, top - 4)
        p.setBrush(self.palette().color(QPalette.Base))
        p.setPen(QPen(fg, 2))
        p.drawRect(box)
        p.setFont(big_font(self.font(), 18))
        p.drawText(box, Qt.AlignCenter, self.box_text())
        p.end()


class AttitudeIndicator(QWidget):
    """An artificial horizon: the horizon line moves down as the nose goes up and turns
    against the roll; the vehicle symbol stays fixed in the middle."""

    PITCH_SPAN_DEG = 90.0  # the height shows +-45 deg of pitch

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._roll = 0.0
        self._pitch = 0.0
        self._known = False
        self._stale = False
        self.setMinimumSize(150, 150)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(190, 190)

    def set_attitude(self, roll_deg: float | None, pitch_deg: float | None) -> None:
        known = roll_deg is not None and pitch_deg is not None
        roll, pitch = (roll_deg, pitch_deg) if known else (0.0, 0.0)
        if (roll, pitch, known) != (self._roll, self._pitch, self._known):
            self._roll, self._pitch, self._known = roll, pitch, known
            self.update()

    def set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self.update()

    def px_per_pitch_deg(self) -> float:
        return min(self.width(), self.height()) / self.PITCH_SPAN_DEG

    def horizon_point(self, dx: float) -> QPointF:
        """Where the horizon line is drawn dx pixels right of the centre (along the line)."""
        a = math.radians(-self._roll)
        ox = dx * math.cos(a) - self._pitch * self.px_per_pitch_deg() * math.sin(a)
        oy = dx * math.sin(a) + self._pitch * self.px_per_pitch_deg() * math.cos(a)
        return QPointF(self.width() / 2.0 + ox, self.height() / 2.0 + oy)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        w, h = self.width(), self.height()
        side = float(min(w, h))
        clip = QPainterPath()
        clip.addRoundedRect(QRectF((w - side) / 2, (h - side) / 2, side, side), 10, 10)
        p.setClipPath(clip)
        p.fillRect(self.rect(), self.palette().color(QPalette.Base))
        if self._known:
            sky, ground = (STALE_SKY, STALE_GROUND) if self._stale else (SKY, GROUND)
            ppd = self.px_per_pitch_deg()
            p.save()
            p.translate(w / 2.0, h / 2.0)
            p.rotate(-self._roll)
            p.translate(0.0, self._pitch * ppd)
            big = 2.0 * (w + h)
            p.fillRect(QRectF(-big, -big, 2 * big, big), sky)
            p.fillRect(QRectF(-big, 0.0, 2 * big, big), ground)
            p.setPen(QPen(Qt.white, 2))
            p.drawLine(QPointF(-big, 0.0), QPointF(big, 0.0))
            p.setPen(QPen(Qt.white, 1))
            for deg in range(-60, 61, 10):
                if deg == 0:
                    continue
                y = -deg * ppd
                half = side * (0.14 if deg % 20 == 0 else 0.08)
                p.drawLine(QPointF(-half, y), QPointF(half, y))
                if abs(deg) <= 20:
                    p.drawText(QRectF(half + 2, y - 9, 30, 18), Qt.AlignLeft | Qt.AlignVCenter, str(abs(deg)))
            p.restore()
            self._draw_roll_pointer(p, side)
        self._draw_vehicle(p, side)
        p.end()

    def _draw_roll_pointer(self, p: QPainter, side: float) -> None:
        cx, cy = self.width() / 2.0, self.height() / 2.0
        r = side * 0.44
        p.setPen(QPen(Qt.white, 2))
        for deg in (-60, -45, -30, -20, -10, 0, 10, 20, 30, 45, 60):
            a = math.radians(deg - 90.0)
            inner = r - (10 if deg % 30 == 0 else 5)
            p.drawLine(QPointF(cx + inner * math.cos(a), cy + inner * math.sin(a)),
                       QPointF(cx + r * math.cos(a), cy + r * math.sin(a)))
        p.save()
        p.translate(cx, cy)
        p.rotate(-self._roll)
        p.setBrush(Qt.white)
        p.drawPolygon(QPolygonF([QPointF(0, -r + 12), QPointF(-6, -r + 22), QPointF(6, -r + 22)]))
        p.restore()

    def _draw_vehicle(self, p: QPainter, side: float) -> None:
        cx, cy = self.width() / 2.0, self.height() / 2.0
        s = side * 0.22
        wing = QPolygonF([QPointF(cx - s, cy), QPointF(cx - s * 0.35, cy), QPointF(cx, cy + s * 0.25),
                          QPointF(cx + s * 0.35, cy), QPointF(cx + s, cy)])
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(Qt.black, 6, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        p.drawPolyline(wing)
        p.setPen(QPen(colour("stale") if self._stale or not self._known else QColor(255, 210, 0), 3,
                      Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        p.drawPolyline(wing)


class DepthStrip(QWidget):
    """Depth over the last minute, deeper down the strip, newest on the right."""

    WINDOW_S = 60.0
    MIN_INTERVAL_S = 0.2  # 5 points a second is plenty for a minute-long trace
    MIN_RANGE_M = 1.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._points: collections.deque[tuple[float, float]] = collections.deque()
        self._stale = False
        self.setMinimumSize(120, 64)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(220, 72)

    def add(self, t_s: float, depth_m: float | None) -> None:
        if depth_m is None or not math.isfinite(depth_m):
            return
        if self._points and t_s < self._points[-1][0]:
            self._points.clear()  # the clock went back (a replay restarted)
        if self._points and t_s - self._points[-1][0] < self.MIN_INTERVAL_S:
            return
        self._points.append((t_s, depth_m))
        while t_s - self._points[0][0] > self.WINDOW_S:
            self._points.popleft()
        self.update()

    def points(self) -> list[tuple[float, float]]:
        return list(self._points)

    def set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self.update()

    def depth_range(self) -> tuple[float, float]:
        if not self._points:
            return 0.0, self.MIN_RANGE_M
        lo = min(d for _, d in self._points)
        hi = max(d for _, d in self._points)
        pad = max(0.0, self.MIN_RANGE_M - (hi - lo)) / 2.0
        if lo - pad < 0.0 <= lo:
            return 0.0, hi + 2 * pad - lo  # at the surface: no padding above it
        return lo - pad, hi + pad

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        w, h = self.width(), self.height()
        fg = _fg(self, self._stale)
        p.fillRect(self.rect(), self.palette().color(QPalette.Base))
        p.setPen(QPen(self.palette().color(QPalette.Mid), 1))
        p.drawRect(QRectF(0.5, 0.5, w - 1, h - 1))
        if len(self._points) >= 2:
            lo, hi = self.depth_range()
            t_end = self._points[-1][0]
            margin = 6.0

            def xy(t: float, d: float) -> QPointF:
                return QPointF(w - 2 - (t_end - t) / self.WINDOW_S * (w - 4),
                               margin + (d - lo) / (hi - lo) * (h - 2 * margin))

            line = QPen(colour("stale") if self._stale else self.palette().color(QPalette.Highlight), 2)
            p.setPen(line)
            p.drawPolyline(QPolygonF([xy(t, d) for t, d in self._points]))
            small = QFont(self.font())
            small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.75))
            p.setFont(small)
            p.setPen(fg)
            p.drawText(QRectF(4, 1, w - 8, 16), Qt.AlignLeft | Qt.AlignTop, f"{lo:.1f} m")
            p.drawText(QRectF(4, h - 17, w - 8, 16), Qt.AlignLeft | Qt.AlignBottom, f"{hi:.1f} m")
        p.end()
