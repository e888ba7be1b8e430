"""The Ping360 scanning-sonar view: each ping (one head angle and its intensity profile)
is filed into a polar buffer (400 gradians x samples), and the buffer is drawn heading-up
as a disc (forward up, starboard right) with range rings and the sweep line at the last
angle. Angles never pinged stay black, so the pilot sees which sector the head covers.

The polar -> disc remap maps depend only on the geometry and the disc size and are built
once for them; a repaint after new pings is one cv2.remap.
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.qt_sonar import GRID_RGBA, ring_step_m, sonar_colour_table

GRADIANS_PER_TURN = 400
BEAM_HALF_WIDTH_GRAD = 1  # the beam is ~2 deg (2.2 grad) wide: a ping covers its neighbours too
MAX_FILL_STEP_GRAD = 20  # a bigger jump is a new sweep, not the next step of this one


@dataclasses.dataclass(frozen=True, eq=False)
class Ping360Beam:
    """One Ping360 ping: head angle (gradians, 0 forward, growing to starboard) and its
    samples (uint8, nearest first; sample i covers [i, i + 1) * range_resolution_m)."""

    angle_grad: int
    samples: np.ndarray
    range_resolution_m: float
    t_s: float = 0.0

    def __post_init__(self) -> None:
        a = np.array(self.samples, dtype=np.uint8, copy=True).reshape(-1)
        a.setflags(write=False)
        object.__setattr__(self, "samples", a)


def _display_colours() -> list[int]:
    """Index 0: never pinged (black); 1..255: echo strength, the multibeam's colour ramp."""
    ramp = sonar_colour_table()
    table = [QColor(0, 0, 0).rgb()]
    lift = QColor(14, 18, 40)  # a pinged angle with no echo is still visibly "scanned"
    for k in range(1, 256):
        c = QColor.fromRgb(ramp[k])
        table.append(QColor(max(c.red(), lift.red()), max(c.green(), lift.green()),
                            max(c.blue(), lift.blue())).rgb())
    return table


class QtPing360View(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(240, 240)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._colours = _display_colours()
        self._maps_key = None
        self._maps = None
        self._qimg: QImage | None = None
        self._disc: np.ndarray | None = None
        self.clear()

    # -- slots ------------------------------------------------------------------------
    def clear(self) -> None:
        self._polar: np.ndarray | None = None  # (401, samples) display indices; row 400 repeats row 0
        self._range_resolution_m = 0.0
        self.last_angle_grad: int | None = None
        self.pings = 0
        self._dirty = True
        self.update()

    def add_ping(self, ping) -> None:
        """A Ping360Beam, or a vision.sonar.Ping360Scan (all its rows)."""
        if hasattr(ping, "angles_grad"):  # a whole scan
            for angle, row in zip(ping.angles_grad, ping.intensities):
                self._file(int(angle), row, float(ping.range_resolution_m))
        else:
            self._file(int(ping.angle_grad), ping.samples, float(ping.range_resolution_m))
        self._dirty = True
        self.update()

    def _file(self, angle_grad: int, samples, range_resolution_m: float) -> None:
        samples = np.asarray(samples, dtype=np.uint8).reshape(-1)
        if (self._polar is None or self._polar.shape[1] != len(samples)
                or not math.isclose(range_resolution_m, self._range_resolution_m, rel_tol=1e-6)):
            # a new range or sample count: old rows would be drawn at the wrong ranges
            self._polar = np.zeros((GRADIANS_PER_TURN + 1, len(samples)), np.uint8)
            self._range_resolution_m = range_resolution_m
        a = angle_grad % GRADIANS_PER_TURN
        row = (1 + samples.astype(np.uint16) * 254 // 255).astype(np.uint8)
        half = BEAM_HALF_WIDTH_GRAD
        if self.last_angle_grad is not None:  # stepping by several gradians: fill up to halfway to the neighbours
            step = abs((a - self.last_angle_grad + 200) % GRADIANS_PER_TURN - 200)
            if step <= MAX_FILL_STEP_GRAD:
                half = max(half, step // 2)
        rows = np.arange(a - half, a + half + 1) % GRADIANS_PER_TURN
        self._polar[rows] = row
        self._polar[GRADIANS_PER_TURN] = self._polar[0]
        self.last_angle_grad = a
        self.pings += 1

    # -- geometry ---------------------------------------------------------------------
    @property
    def range_m(self) -> float:
        return 0.0 if self._polar is None else self._polar.shape[1] * self._range_resolution_m

    def disc_rect(self) -> QRectF:
        """The scan disc in widget coordinates (centre = the sonar)."""
        fm = QFontMetrics(self.font())
        margin = fm.height() + 6
        d = max(2.0, min(self.width(), self.height()) - 2 * margin)
        return QRectF((self.width() - d) / 2, (self.height() - d) / 2, d, d)

    def polar_to_widget(self, range_m: float, bearing_deg: float) -> QPointF:
        """Widget point of range_m at bearing_deg (0 forward = up, + to starboard = right)."""
        r = self.disc_rect()
        s = r.width() / 2 / self.range_m if self.range_m else 0.0
        b = math.radians(bearing_deg)
        return QPointF(r.center().x() + range_m * math.sin(b) * s, r.center().y() - range_m * math.cos(b) * s)

    def scanned_angles_grad(self) -> np.ndarray:
        """The head angles (gradians) drawn as scanned."""
        if self._polar is None:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self._polar[:GRADIANS_PER_TURN].any(axis=1))

    def _remap(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        key = (d, self._polar.shape[1])
        if self._maps_key != key:
            c = (d - 1) / 2.0
            yy, xx = np.mgrid[0:d, 0:d].astype(np.float64)
            east, up = xx - c, c - yy
            r_px = np.hypot(east, up)
            angle = np.mod(np.degrees(np.arctan2(east, up)), 360.0) * GRADIANS_PER_TURN / 360.0
            sample = r_px / c * self._polar.shape[1] - 0.5  # sample i's centre at (i + 0.5) * dr
            inside = r_px <= c
            map_x = np.where(inside, np.maximum(sample, 0.0), -10.0).astype(np.float32)
            map_y = np.where(inside, angle, -10.0).astype(np.float32)
            self._maps = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2, nninterpolation=True)
            self._maps_key = key
        return self._maps

    def _render(self, d: int) -> None:
        m1, m2 = self._remap(d)
        # nearest: interpolating display indices would blend "never pinged" into echoes
        disc = cv2.remap(self._polar, m1, m2, interpolation=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=0)
        self._disc = np.ascontiguousarray(disc)
        q = QImage(self._disc.data, d, d, self._disc.strides[0], QImage.Format_Indexed8)
        q.setColorTable(self._colours)
        self._qimg = q
        self._dirty = False

    # -- painting ---------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        fm = QFontMetrics(self.font())
        rect = self.disc_rect()
        if self._polar is None:
            p.setPen(QColor(128, 128, 128))
            p.drawText(self.rect(), Qt.AlignCenter, "Ping360: waiting for pings")
            p.end()
            return
        d = max(2, int(rect.width()))
        if self._dirty or self._qimg is None or self._qimg.width() != d:
            self._render(d)
        p.drawImage(QRectF(rect.x(), rect.y(), d, d), self._qimg)
        grid = QColor(*GRID_RGBA)
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(grid, 1))
        p.setBrush(Qt.NoBrush)
        centre = rect.center()
        p.drawEllipse(centre, rect.width() / 2, rect.width() / 2)  # the rim: the range the sonar is set to
        step = ring_step_m(self.range_m)
        k = 1
        while step * k <= self.range_m * 1.01:  # 1 %: the set range comes back rounded to whole ticks
            rad = step * k / self.range_m * rect.width() / 2
            p.drawEllipse(centre, rad, rad)
            pt = self.polar_to_widget(step * k, 45.0)
            p.drawText(QRectF(pt.x() + 2, pt.y() - fm.height(), 80, fm.height()), Qt.AlignLeft, f"{step * k:g} m")
            k += 1
        p.drawText(QRectF(centre.x() - 40, rect.y() - fm.height() - 4, 80, fm.height()), Qt.AlignCenter, "FWD")
        if self.last_angle_grad is not None:
            p.setPen(QPen(self.palette().highlight().color(), 2))
            p.drawLine(centre, self.polar_to_widget(self.range_m, self.last_angle_grad * 360.0 / GRADIANS_PER_TURN))
        p.end()
