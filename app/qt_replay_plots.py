"""The telemetry plots of the replay window: the track seen from above (north up), the
depth profile over time and the flight-mode strip, each with a cursor at the replay time.

Painted with QPainter from arrays handed in once (no matplotlib): a plot keeps its data in
widget coordinates, rebuilt on resize, so a cursor move at the play timer's rate only
repaints. A click on the depth profile or the mode strip asks to seek there.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from .qt_theme import colour

MARGIN_PX = 8
AXIS_PX = 54  # room for the value labels left of the plot
NO_TRACK = "no position in this log"
NO_DEPTH = "no depth in this log"


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick spacing (1, 2, 5 x 10^k) giving about `ticks` ticks over `span`."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / ticks
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= raw)


def mode_colour(mode: str) -> QColor:
    """A steady colour per mode name: the same mode looks the same in every strip."""
    hue = sum((i + 1) * ord(c) for i, c in enumerate(mode or "?")) * 47 % 360
    return QColor.fromHsv(hue, 110, 215)


def _polygon(xs: np.ndarray, ys: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in zip(xs, ys)])


class _Plot(QWidget):
    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(200, 140)
        self._t_s: float | None = None
        self._poly: QPolygonF | None = None

    def set_time(self, t_s: float) -> None:
        if t_s != self._t_s:
            self._t_s = float(t_s)
            self.update()

    def plot_rect(self) -> QRectF:
        fm = QFontMetrics(self.font())
        return QRectF(AXIS_PX, MARGIN_PX + fm.height(), max(self.width() - AXIS_PX - MARGIN_PX, 1),
                      max(self.height() - 2 * MARGIN_PX - 2 * fm.height(), 1))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._poly = None

    def _frame(self, p: QPainter, title: str) -> QRectF:
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.Base))
        r = self.plot_rect()
        p.setPen(QPen(pal.color(QPalette.Mid), 1))
        p.drawRect(r)
        p.setPen(pal.color(QPalette.Text))
        p.drawText(QRectF(r.x(), 2, r.width(), r.y() - 2), Qt.AlignLeft | Qt.AlignVCenter, title)
        return r

    def _empty(self, p: QPainter, r: QRectF, text: str) -> None:
        p.setPen(colour("stale"))
        p.drawText(r, Qt.AlignCenter | Qt.TextWordWrap, text)


class QtTrackPlot(_Plot):
    """The vehicle's track, east to the right and north up at one scale; the part flown by
    the replay time drawn bold, the vehicle a dot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._track = np.zeros((0, 4))
        self._source = ""

    def set_track(self, track: np.ndarray, source: str = "") -> None:
        """(N, 4) rows of t_s, north_m, east_m, down_m in time order."""
        self._track = np.asarray(track, np.float64).reshape(-1, 4)
        self._source = source
        self._poly = None
        self.update()

    def _scale(self, r: QRectF):
        n, e = self._track[:, 1], self._track[:, 2]
        cn, ce = (n.min() + n.max()) / 2, (e.min() + e.max()) / 2
        span = max(n.max() - n.min(), e.max() - e.min(), 1.0) * 1.1
        s = min(r.width(), r.height()) / span
        return lambda north, east: (r.center().x() + (east - ce) * s, r.center().y() - (north - cn) * s), s

    def to_widget(self, north_m: float, east_m: float) -> QPointF:
        """Where a position is drawn (for tests and hit checks)."""
        xy, _ = self._scale(self.plot_rect())
        x, y = xy(north_m, east_m)
        return QPointF(float(x), float(y))

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        title = "Track (north up)" + (f" — {self._source}" if self._source else "")
        r = self._frame(p, title)
        if len(self._track) < 2:
            self._empty(p, r, NO_TRACK)
            return
        xy, s = self._scale(r)
        if self._poly is None:
            self._poly = _polygon(*xy(self._track[:, 1], self._track[:, 2]))
        p.setRenderHint(QPainter.Antialiasing, True)
        pal = self.palette()
        p.setPen(QPen(pal.color(QPalette.Mid), 1.5))
        p.drawPolyline(self._poly)
        self._scale_bar(p, r, s)
        if self._t_s is None:
            return
        k = int(np.searchsorted(self._track[:, 0], self._t_s, side="right"))
        if k >= 1:
            p.setPen(QPen(colour("info"), 3))
            pts = [self._poly[i] for i in range(min(k, self._poly.size()))]
            p.drawPolyline(QPolygonF(pts))
            dot = pts[-1]
            p.setBrush(colour("alarm"))
            p.setPen(QPen(pal.color(QPalette.Base), 2))
            p.drawEllipse(dot, 7, 7)

    def _scale_bar(self, p: QPainter, r: QRectF, px_per_m: float) -> None:
        step = nice_step(r.width() / px_per_m / 5, 1)  # a bar a fifth to half the plot wide
        w = step * px_per_m
        y = r.bottom() + 6
        p.setPen(QPen(self.palette().color(QPalette.Text), 2))
        p.drawLine(QPointF(r.left(), y), QPointF(r.left() + w, y))
        p.drawText(QRectF(r.left() + w + 6, y - 10, 120, 20), Qt.AlignLeft | Qt.AlignVCenter, f"{step:g} m")


class QtDepthProfile(_Plot):
    """Depth over time, deeper lower; a vertical cursor at the replay time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._depth = np.zeros((0, 2))
        self._span = (0.0, 1.0)

    def set_depth(self, depth: np.ndarray, t_start_s: float | None = None, t_end_s: float | None = None) -> None:
        """(N, 2) rows of t_s, depth_m (positive down), over [t_start_s, t_end_s]."""
        self._depth = np.asarray(depth, np.float64).reshape(-1, 2)
        t = self._depth[:, 0]
        t0 = t_start_s if t_start_s is not None else (t[0] if len(t) else 0.0)
        t1 = t_end_s if t_end_s is not None else (t[-1] if len(t) else 1.0)
        self._span = (float(t0), float(max(t1, t0 + 1e-3)))
        self._poly = None
        self.update()

    def _limits(self) -> tuple[float, float]:
        d = self._depth[:, 1]
        lo, hi = min(0.0, float(d.min())), max(float(d.max()), 0.5)
        return lo, hi + 0.05 * (hi - lo)

    def to_widget(self, t_s: float, depth_m: float) -> QPointF:
        r = self.plot_rect()
        (t0, t1), (lo, hi) = self._span, self._limits()
        return QPointF(r.left() + (t_s - t0) / (t1 - t0) * r.width(), r.top() + (depth_m - lo) / (hi - lo) * r.height())

    def time_at(self, x: float) -> float:
        r = self.plot_rect()
        t0, t1 = self._span
        return t0 + min(max((x - r.left()) / r.width(), 0.0), 1.0) * (t1 - t0)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton:
            self.seek_requested.emit(self.time_at(event.position().x()))

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        r = self._frame(p, "Depth (m)")
        if len(self._depth) < 1:
            self._empty(p, r, NO_DEPTH)
            return
        pal = self.palette()
        lo, hi = self._limits()
        fm = QFontMetrics(self.font())
        step = nice_step(hi - lo, 4)
        v = math.ceil(lo / step) * step
        while v <= hi:
            y = self.to_widget(self._span[0], v).y()
            p.setPen(QPen(pal.color(QPalette.Midlight), 1, Qt.DotLine))
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            p.setPen(pal.color(QPalette.Text))
            p.drawText(QRectF(0, y - fm.height() / 2, AXIS_PX - 6, fm.height()), Qt.AlignRight | Qt.AlignVCenter,
                       f"{v:g}")
            v += step
        if self._poly is None:
            pts = [self.to_widget(t, d) for t, d in self._depth]
            self._poly = QPolygonF(pts)
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(colour("info"), 2))
        p.drawPolyline(self._poly)
        t0, t1 = self._span
        p.setPen(pal.color(QPalette.Text))
        p.drawText(QRectF(r.left(), r.bottom() + 2, r.width(), fm.height()), Qt.AlignRight,
                   f"{(t1 - t0) / 60:.1f} min")
        if self._t_s is not None:
            x = self.to_widget(self._t_s, 0).x()
            p.setPen(QPen(colour("alarm"), 2))
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))


class QtModeStrip(QWidget):
    """The flight modes as coloured spans with their names, a cursor at the replay time."""

    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spans: list = []
        self._span = (0.0, 1.0)
        self._t_s: float | None = None
        self.setMinimumHeight(40)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_modes(self, spans, t_start_s: float, t_end_s: float) -> None:
        """ModeSpan-like objects (t0_s, t1_s, mode) in time order."""
        self._spans = list(spans)
        self._span = (float(t_start_s), float(max(t_end_s, t_start_s + 1e-3)))
        self.update()

    def set_time(self, t_s: float) -> None:
        if t_s != self._t_s:
            self._t_s = float(t_s)
            self.update()

    def mode_at(self, t_s: float) -> str | None:
        return next((s.mode for s in self._spans if s.t0_s <= t_s <= s.t1_s), None)

    def modes_shown(self) -> list[str]:
        return [s.mode for s in self._spans]

    def _x(self, t_s: float) -> float:
        t0, t1 = self._span
        return AXIS_PX + (t_s - t0) / (t1 - t0) * max(self.width() - AXIS_PX - MARGIN_PX, 1)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton:
            t0, t1 = self._span
            f = (event.position().x() - AXIS_PX) / max(self.width() - AXIS_PX - MARGIN_PX, 1)
            self.seek_requested.emit(t0 + min(max(f, 0.0), 1.0) * (t1 - t0))

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.Base))
        p.setPen(pal.color(QPalette.Text))
        p.drawText(QRectF(0, 0, AXIS_PX - 6, self.height()), Qt.AlignRight | Qt.AlignVCenter, "Mode")
        if not self._spans:
            p.setPen(colour("stale"))
            p.drawText(QRectF(AXIS_PX, 0, self.width() - AXIS_PX, self.height()), Qt.AlignCenter, "no mode reported")
        for s in self._spans:
            box = QRectF(self._x(s.t0_s), 4, max(self._x(s.t1_s) - self._x(s.t0_s), 1.0), self.height() - 8)
            p.fillRect(box, mode_colour(s.mode))
            p.setPen(QColor(0, 0, 0))  # dark text on the light mode colours in both themes
            p.drawText(box, Qt.AlignCenter, s.mode if QFontMetrics(self.font()).horizontalAdvance(s.mode) < box.width()
                       else "")
        if self._t_s is not None:
            x = self._x(self._t_s)
            p.setPen(QPen(colour("alarm"), 3))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
