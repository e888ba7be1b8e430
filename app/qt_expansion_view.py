"""The hull expansion (port, bottom and starboard unrolled flat) with coverage and
findings, the picture of the report, live. The layout (stations and girths: the slow part)
is computed once per hull in a task; the image is redrawn in a task when the map
changes, at most once every REDRAW_S. Wheel zooms about the cursor, drag pans, a click
on a finding's dot asks to fly there.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from .qt_tasks import run_task

REDRAW_S = 2.0
PICK_PX = 14  # on screen
ZOOM_PER_NOTCH = 1.2
CLICK_SLOP_PX = 4  # a press and release closer than this is a click, not a pan
MAX_PX_PER_M = 20.0
MAX_WIDTH_PX = 4000


def _layout_job(model, draft_m):
    from vision.hullmap.expansion import expansion_layout

    wet = model.wetted(draft_m).mesh
    length_m = float(np.ptp(wet.vertices[:, 0])) or 1.0
    return wet, expansion_layout(wet, draft_m, min(MAX_PX_PER_M, MAX_WIDTH_PX / length_m))


def _image_job(wet, layout, points_h, classes, findings):
    """RGB image and each finding's (u, v) pixel, off the GUI thread."""
    from vision.hullmap.expansion import COVERAGE_LEGEND_BGR, hull_expansion_image

    bgr = np.array(list(COVERAGE_LEGEND_BGR.values()), np.uint8)
    img = hull_expansion_image(wet, layout.draft_m, (points_h, bgr[classes]), findings, layout=layout)
    dots = {}
    for f in findings:
        u, v, _ = layout.to_pixel(np.asarray(f.position_h, float)[None, :])
        dots[int(f.finding_id)] = (float(u[0]), float(v[0]), tuple(float(x) for x in f.position_h))
    return np.ascontiguousarray(img[:, :, ::-1]), dots


class QtExpansionView(QWidget):
    """fly_to_requested(finding_id, position_h) when a finding's dot is clicked."""

    fly_to_requested = Signal(int, object)
    layout_ready = Signal(object)  # vision.hullmap.expansion.ExpansionLayout, to share with the export

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.message = QLabel("no hull loaded", self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.message, 0, Qt.AlignTop)
        self.layout_m = None
        self._wet = self._points = None
        self._classes = None
        self._findings: tuple = ()
        self._image = self._qimage = None
        self.dots: dict = {}
        self._scale, self._offset = None, QPointF(0, 0)
        self._press = self._last = None
        self._task = self._layout_task = None
        self._dirty = False
        self._last_draw_s = -np.inf
        self.draws = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw)

    # ---- slots ------------------------------------------------------------------------
    def set_station_map(self, station_map) -> None:
        self._points = np.array(station_map.samples.points_h, float)
        self._points.setflags(write=False)  # handed to the drawing task
        self._classes = np.zeros(len(self._points), np.uint8)
        self.layout_m = None
        self.message.setText("unrolling the hull\u2026")
        self.message.show()
        self._layout_task = run_task("hull expansion layout", _layout_job, station_map.model,
                                     station_map.placement.draft_m, on_done=self._laid_out,
                                     on_error=self._failed)

    def set_map(self, snapshot) -> None:
        n = 0 if self._points is None else len(self._points)
        masks = [np.asarray(snapshot.seen.get(k, np.zeros(n, bool))) for k in ("camera", "sonar")]
        if any(len(m) != n for m in masks):
            self.message.setText("this snapshot's coverage is of another hull's samples")
            self.message.show()
            return
        self._classes = masks[0].astype(np.uint8) + 2 * masks[1].astype(np.uint8)
        self._classes.setflags(write=False)
        self._findings = tuple(snapshot.findings)
        self._request()

    # ---- drawing ------------------------------------------------------------------------
    def _laid_out(self, value) -> None:
        self._wet, self.layout_m = value
        self.message.hide()
        self.layout_ready.emit(self.layout_m)
        self._request()

    def _failed(self, message: str) -> None:
        self._task = None
        self.message.setText(f"hull expansion: {message}")
        self.message.show()

    def _request(self) -> None:
        self._dirty = True
        wait_s = self._last_draw_s + REDRAW_S - time.monotonic()
        if wait_s > 0:
            if not self._timer.isActive():
                self._timer.start(int(wait_s * 1000) + 1)
        else:
            self._draw()

    def _draw(self) -> None:
        if self.layout_m is None or self._task is not None or not self._dirty:
            return
        self._dirty = False
        self._last_draw_s = time.monotonic()
        self._task = run_task("hull expansion", _image_job, self._wet, self.layout_m, self._points, self._classes,
                              self._findings, on_done=self._drawn, on_error=self._failed)

    def _drawn(self, value) -> None:
        self._task = None
        self.draws += 1
        self._image, self.dots = value
        h, w, _ = self._image.shape
        self._qimage = QImage(self._image.data, w, h, 3 * w, QImage.Format_RGB888)
        if self._scale is None:
            self._scale = min(self.width() / w, self.height() / h)  # all three panels; zoom in from there
        self.update()
        if self._dirty:
            self._request()

    def image_to_widget(self, u: float, v: float) -> QPointF:
        return QPointF(u * self._scale, v * self._scale) + self._offset

    def widget_to_image(self, pos: QPointF) -> tuple[float, float]:
        p = (pos - self._offset) / self._scale
        return p.x(), p.y()

    def paintEvent(self, event):  # noqa: N802 - Qt's name
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), self.palette().color(QPalette.Base))
            if self._qimage is not None:
                p.setRenderHint(QPainter.SmoothPixmapTransform, self._scale < 1)
                p.translate(self._offset)
                p.scale(self._scale, self._scale)
                p.drawImage(0, 0, self._qimage)
        finally:
            p.end()  # not left to garbage collection: a painter alive after paintEvent crashes Qt

    def wheelEvent(self, event):  # noqa: N802
        if self._scale is None:
            return
        factor = ZOOM_PER_NOTCH ** (event.angleDelta().y() / 120.0)
        at = event.position()
        self._offset = at - (at - self._offset) * factor  # the point under the cursor stays put
        self._scale *= factor
        self.update()

    def mousePressEvent(self, event):  # noqa: N802
        if event.button() == Qt.LeftButton:
            self._press = self._last = event.position()

    def mouseMoveEvent(self, event):  # noqa: N802
        if self._last is not None:
            self._offset += event.position() - self._last
            self._last = event.position()
            self.update()

    def mouseReleaseEvent(self, event):  # noqa: N802
        press, self._press, self._last = self._press, None, None
        if press is None or self._scale is None:
            return
        d = event.position() - press
        if abs(d.x()) + abs(d.y()) <= CLICK_SLOP_PX:
            self._clicked(event.position())

    def _clicked(self, pos: QPointF) -> None:
        u, v = self.widget_to_image(pos)
        best, best_d = None, PICK_PX / self._scale
        for fid, (fu, fv, position_h) in self.dots.items():
            d = float(np.hypot(fu - u, fv - v))
            if d <= best_d:
                best, best_d = (fid, position_h), d
        if best is not None:
            self.fly_to_requested.emit(*best)

    def closeEvent(self, event):  # noqa: N802
        self._timer.stop()
        for task in (self._task, self._layout_task):
            if task is not None:
                task.cancel()
        super().closeEvent(event)
