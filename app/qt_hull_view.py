"""The 3D hull view: the wetted hull's surface samples coloured by coverage, findings as
markers, the planned path, the fill-in plan and the vehicle with its trail, drawn by the
software renderer (app.hull_render) in a task, so it works without OpenGL and never
blocks the GUI thread. Drag orbits, the wheel zooms, a double-click on a finding asks
to fly there. "Place niche area" makes the next click on the hull report the surface
sample there (hull_point_picked); the niche areas are drawn as box outlines with their
names (set_niche_areas). Below it, the map's actions (app.qt_hull_view_actions); a host
showing a QtExpansionView too connects its layout_ready to actions.set_expansion_layout,
so the export reuses the unrolled layout instead of computing it again.

Re-renders are coalesced: one render in flight at a time, and when it ends only the
newest state is drawn next (a 20 Hz pose stream costs at most one render per render).
"""
from __future__ import annotations

import collections
import math

import numpy as np
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from vision.hullmap.export import COVERAGE_RGB, finding_rgb

from . import hull_render
from .qt_hull_view_actions import QtHullMapActions, legend_row
from .qt_tasks import run_task
from .qt_theme import big_font, colour

TRAIL_MAX = 3000  # poses kept in the trail: ~10 min at 5 Hz of movement
TRAIL_STEP_M = 0.1  # a new trail point once the vehicle moved this far
DEG_PER_PX = 0.4  # orbit speed of a mouse drag
ZOOM_PER_NOTCH = 0.85
PICK_PX = 14  # a gloved double-click lands within this of the marker
VEHICLE_ID = -1
HEADING_LINE_M = 2.0
CLICK_SLOP_PX = 4  # a press and release this close is a click, not an orbit drag
SURFACE_PICK_PX = 6  # a gloved click beside the hull's edge still lands on it
BUTTON_MIN_HEIGHT_PX = 40
NICHE_MARKER_BASE_ID = -1000  # niche labels are not pick targets; ids clear of findings and the vehicle
NICHE_LABEL_HIDE_M = 1.0  # a label this far behind the drawn hull is on the far side: not drawn
PLACE_PROMPT = "click the hull where the niche area is"
BESIDE_HULL = "that is beside the hull: click on the hull itself (or switch Place niche area off)"
# the 12 edges of a NicheArea.corners_h() box: both faces' loops, then the 4 edges joining them
_BOX_PATH = ((0, 1, 2, 3, 0), (4, 5, 6, 7, 4), (0, 4), (1, 5), (2, 6), (3, 7))


def niche_outlines(areas) -> np.ndarray | None:
    """Every area's box edges as one polyline, NaN rows between the pieces (one draw)."""
    gap = np.full((1, 3), np.nan, np.float32)
    pieces = []
    for a in areas:
        c = np.asarray(a.corners_h(), np.float32)
        for path in _BOX_PATH:
            pieces += [c[list(path)], gap]
    return np.concatenate(pieces) if pieces else None


def _render_job(points, normals, classes, spacing_m, overlays, camera, size, background):
    """Runs in a task: colours by coverage class, then draws. Returns the points and
    normals with the image, since its point indices refer to them."""
    lut = np.array([COVERAGE_RGB[k] for k in sorted(COVERAGE_RGB)], np.uint8)
    rgb = lut[classes] if classes is not None else np.full((len(points), 3), 200, np.uint8)
    lines, markers = overlays
    scene = hull_render.Scene(points, rgb, normals, spacing_m, lines, markers)
    return hull_render.render(scene, camera, size[0], size[1], background), (points, normals)


class _Canvas(QWidget):
    """Shows the newest rendered image; turns mouse input into camera changes."""

    orbit = Signal(float, float)
    zoom = Signal(float)
    double_clicked = Signal(float, float)  # image pixel
    clicked = Signal(float, float)  # image pixel of a press and release without a drag
    resized = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.rendered: hull_render.Rendered | None = None
        self._qimage: QImage | None = None
        self._drag: QPoint | None = None
        self._press: QPoint | None = None

    def show_rendered(self, r: hull_render.Rendered) -> None:
        self.rendered = r
        h, w, _ = r.image.shape
        self._qimage = QImage(r.image.data, w, h, 3 * w, QImage.Format_RGB888)  # r.image stays referenced
        self.update()

    def _to_image(self, pos) -> tuple[float, float]:
        h, w, _ = self.rendered.image.shape
        return pos.x() * w / max(self.width(), 1), pos.y() * h / max(self.height(), 1)

    def paintEvent(self, event):  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().color(QPalette.Base))
        if self._qimage is not None:
            p.drawImage(self.rect(), self._qimage)
        else:
            p.setPen(self.palette().color(QPalette.Text))
            p.drawText(self.rect(), Qt.AlignCenter, "no hull loaded")

    def mousePressEvent(self, event):  # noqa: N802
        if event.button() == Qt.LeftButton:
            self._drag = self._press = event.position().toPoint()

    def mouseMoveEvent(self, event):  # noqa: N802
        if self._drag is not None:
            pos = event.position().toPoint()
            d = pos - self._drag
            self._drag = pos
            if d.x() or d.y():
                self.orbit.emit(-d.x() * DEG_PER_PX, d.y() * DEG_PER_PX)

    def mouseReleaseEvent(self, event):  # noqa: N802
        press, self._drag, self._press = self._press, None, None
        pos = event.position().toPoint()
        if (event.button() == Qt.LeftButton and press is not None and self.rendered is not None
                and (pos - press).manhattanLength() <= CLICK_SLOP_PX):
            self.clicked.emit(*self._to_image(event.position()))

    def wheelEvent(self, event):  # noqa: N802
        notches = event.angleDelta().y() / 120.0
        if notches:
            self.zoom.emit(ZOOM_PER_NOTCH ** notches)

    def mouseDoubleClickEvent(self, event):  # noqa: N802
        if self.rendered is not None:
            self.double_clicked.emit(*self._to_image(event.position()))

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self.resized.emit()


class QtHullView(QWidget):
    """fly_to_requested(finding_id, position_h): the user double-clicked a finding;
    fill_in_plan_ready(PlanResult): "Plan the gaps" produced a fill-in plan;
    hull_point_picked(position_h, normal_h): in "Place niche area" mode the user clicked
    the hull on this surface sample (tuples of 3 floats in H; the normal outward)."""

    fly_to_requested = Signal(int, object)
    fill_in_plan_ready = Signal(object)
    hull_point_picked = Signal(object, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = _Canvas(self)
        self.coverage_label = QLabel("no map yet", self)
        self.coverage_label.setFont(big_font(self.font(), 16))
        # a long coverage line wraps instead of widening the dock (and the whole window)
        self.coverage_label.setWordWrap(True)
        self.coverage_label.setMinimumWidth(1)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.actions = QtHullMapActions(self)
        self.legend = legend_row(self)
        self.place_button = QPushButton("Place niche area", self)
        self.place_button.setCheckable(True)
        self.place_button.setEnabled(False)  # until there is a hull to click on
        self.place_button.setMinimumHeight(BUTTON_MIN_HEIGHT_PX)
        self.place_button.setToolTip("then click the hull where the niche area is")
        self.place_button.toggled.connect(self._place_mode)
        top = QHBoxLayout()
        top.addWidget(self.coverage_label, 1)
        top.addWidget(self.legend)
        top.addWidget(self.place_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.message)
        lay.addWidget(self.actions)
        self.camera: hull_render.OrbitCamera | None = None
        self._points = self._normals = self._classes = None
        self._shown = None  # (points, normals) of the image shown: what its point indices refer to
        self._niche_areas: tuple = ()
        self._spacing_m = 0.5
        self._findings: tuple = ()
        self._plan_path = self._fill_path = None
        self._trail: collections.deque = collections.deque(maxlen=TRAIL_MAX)
        self._vehicle = None  # (position_h, yaw in H, deg)
        self._placement = None
        self._task = None
        self._dirty = False
        self.renders = 0
        self.canvas.orbit.connect(self._orbit)
        self.canvas.zoom.connect(self._zoom)
        self.canvas.double_clicked.connect(self._double_clicked)
        self.canvas.clicked.connect(self._clicked)
        self.canvas.resized.connect(self._request_render)
        self.actions.fill_in_plan_ready.connect(self.set_fill_in)
        self.actions.fill_in_plan_ready.connect(self.fill_in_plan_ready)

    # ---- slots ------------------------------------------------------------------------
    def set_station_map(self, station_map) -> None:
        """The hull (station_map.samples: the surface samples the map's coverage counts)
        and, for the actions, its worker, model and placement."""
        s = station_map.samples
        self._points = np.ascontiguousarray(s.points_h, np.float32)
        self._normals = np.ascontiguousarray(s.normals_h, np.float32)
        for a in (self._points, self._normals):
            a.setflags(write=False)  # handed to render tasks
        # the plating's spacing: small faces (bow, niches) get a sample each and would make a median too small
        self._spacing_m = float(np.sqrt(np.quantile(s.area_m2, 0.9))) if len(s) else 0.5
        self._classes = None
        self.camera = hull_render.OrbitCamera.framing(self._points)
        self._placement = station_map.placement
        self.actions.set_station_map(station_map)
        self.place_button.setEnabled(len(self._points) > 0)
        self._request_render()

    def set_map(self, snapshot) -> None:
        """Recolour by snapshot.seen (coverage classes) and show its findings."""
        seen = snapshot.seen
        n = 0 if self._points is None else len(self._points)
        masks = [np.asarray(seen.get(k, np.zeros(n, bool))) for k in ("camera", "sonar")]
        if any(len(m) != n for m in masks):
            self.message.setText(f"the map's coverage has {len(masks[0])} samples, the hull shown {n}: "
                                 "show the station map this snapshot comes from")
            return
        self._classes = (masks[0].astype(np.uint8) + 2 * masks[1].astype(np.uint8))
        self._classes.setflags(write=False)  # handed to the render task
        self._findings = tuple(snapshot.findings)
        cov = snapshot.coverage
        per = ", ".join(f"{k} {v:.1f} %" for k, v in cov.per_sensor_pct.items())
        self.coverage_label.setText(f"Seen {cov.overall_pct:.1f} % of {cov.wetted_area_m2:.0f} m\u00b2 ({per}); "
                                    f"{len(self._findings)} findings")
        self._request_render()

    def set_plan(self, plan_result) -> None:
        """The planned path (PlanResult or Plan): every leg's waypoints, in order."""
        plan = getattr(plan_result, "plan", plan_result)
        self._plan_path = self._path_of(plan)
        self.actions.set_plan(plan)
        self._request_render()

    def set_fill_in(self, plan_result) -> None:
        self._fill_path = None if plan_result is None else self._path_of(getattr(plan_result, "plan", plan_result))
        self._request_render()

    def set_niche_areas(self, areas) -> None:
        """Draw these hull.niche.NicheArea boxes (outline and name); () draws none."""
        self._niche_areas = tuple(areas)
        self._request_render()

    def set_vehicle_pose(self, position_h, heading_deg: float) -> None:
        """The vehicle at position_h (H, m) with its compass heading_deg (as the vehicle
        reports it; turned into H through the station map's placement)."""
        p = np.asarray(position_h, np.float32).reshape(3)
        if not self._trail or np.linalg.norm(p - self._trail[-1]) >= TRAIL_STEP_M:
            self._trail.append(p)
        yaw_h = self._placement.heading_ned_to_h(heading_deg) if self._placement is not None else heading_deg
        self._vehicle = (p, float(yaw_h))
        self.actions.set_start(tuple(float(v) for v in p))
        self._request_render()

    def set_trail(self, points_h) -> None:
        """Replace the vehicle's trail with these (K, 3) positions in H (a replay seeking)."""
        pts = np.asarray(points_h if points_h is not None else np.zeros((0, 3)), np.float32).reshape(-1, 3)
        self._trail = collections.deque((p for p in pts[-TRAIL_MAX:]), maxlen=TRAIL_MAX)
        self._request_render()

    def set_findings(self, findings) -> None:
        """Show these findings (finding_id, position_h, class_name) without a coverage
        snapshot: a replayed record's final findings, on the uncoloured hull."""
        self._findings = tuple(findings)
        self._request_render()

    @staticmethod
    def _path_of(plan) -> np.ndarray | None:
        pts = [wp.position_h for leg in plan.legs for wp in leg.waypoints]
        return np.array(pts, np.float32) if len(pts) >= 2 else None

    # ---- rendering ----------------------------------------------------------------------
    def _overlays(self):
        pal = self.palette()
        # palette colours, none of them a coverage colour: the path is not the hull's state
        text = pal.color(QPalette.Text).getRgb()[:3]
        faint = pal.color(QPalette.PlaceholderText).getRgb()[:3]
        hi = pal.color(QPalette.Highlight).getRgb()[:3]
        lines = []
        if self._plan_path is not None:
            lines.append(hull_render.Polyline(self._plan_path, faint, 1))
        if self._fill_path is not None:
            lines.append(hull_render.Polyline(self._fill_path, hi, 3))
        if len(self._trail) >= 2:
            lines.append(hull_render.Polyline(np.array(self._trail), text, 3))
        markers = [hull_render.Marker(int(f.finding_id), tuple(float(v) for v in f.position_h),
                                      finding_rgb(f.class_name)) for f in self._findings]
        outline = niche_outlines(self._niche_areas)
        if outline is not None:
            niche = colour("info").getRgb()[:3]
            lines.append(hull_render.Polyline(outline, (0, 0, 0), 4))  # dark rim: visible on a blue (seen) hull
            lines.append(hull_render.Polyline(outline, niche, 2))
            for i, a in enumerate(self._niche_areas):
                face = np.asarray(a.corners_h()[:4]).mean(axis=0)  # the outer face: on the hull, not inside it
                markers.append(hull_render.Marker(NICHE_MARKER_BASE_ID - i, tuple(float(v) for v in face), niche, 4,
                                                  pickable=False, label=a.name, hide_behind_m=NICHE_LABEL_HIDE_M))
        if self._vehicle is not None:
            p, heading = self._vehicle
            a = math.radians(heading)
            nose = p + HEADING_LINE_M * np.array([math.cos(a), math.sin(a), 0.0], np.float32)
            lines.append(hull_render.Polyline(np.array([p, nose]), hi, 3))
            markers.append(hull_render.Marker(VEHICLE_ID, tuple(float(v) for v in p), hi, 6, pickable=False))
        return tuple(lines), tuple(markers)

    def _request_render(self) -> None:
        self._dirty = True
        if self._task is None:
            self._start_render()

    def _start_render(self) -> None:
        if self._points is None or not self._dirty or not self.isVisible():
            return
        self._dirty = False
        dpr = self.canvas.devicePixelRatioF()  # a sharp image on a high-density screen
        size = (int(self.canvas.width() * dpr), int(self.canvas.height() * dpr))
        bg = self.palette().color(QPalette.Base).getRgb()[:3]
        self._task = run_task("3D view", _render_job, self._points, self._normals, self._classes, self._spacing_m,
                              self._overlays(), self.camera, size, bg, on_done=self._rendered,
                              on_error=self._render_failed)

    def _rendered(self, out) -> None:
        r, self._shown = out
        self._task = None
        self.renders += 1
        self.canvas.show_rendered(r)
        self._start_render()

    def _render_failed(self, message: str) -> None:
        self._task = None
        self.message.setText(f"3D view: {message}")

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        self._request_render()

    def _orbit(self, d_az: float, d_el: float) -> None:
        if self.camera is not None:
            self.camera = self.camera.orbited(d_az, d_el)
            self._request_render()

    def _zoom(self, factor: float) -> None:
        if self.camera is not None:
            self.camera = self.camera.zoomed(factor)
            self._request_render()

    def _place_mode(self, on: bool) -> None:
        self.canvas.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)
        if on:
            self.message.setText(PLACE_PROMPT)
        elif self.message.text() in (PLACE_PROMPT, BESIDE_HULL):
            self.message.setText("")

    def _clicked(self, x: float, y: float) -> None:
        if not self.place_button.isChecked() or self._shown is None:
            return
        i = self.canvas.rendered.surface_point(x, y, SURFACE_PICK_PX)
        if i is None:
            self.message.setText(BESIDE_HULL)
            return
        points, normals = self._shown
        i = self._sample_under(i, x, y, points, normals)
        self.place_button.setChecked(False)
        self.hull_point_picked.emit(tuple(float(v) for v in points[i]), tuple(float(v) for v in normals[i]))

    def _sample_under(self, i: int, x: float, y: float, points, normals) -> int:
        """Of the drawn sample i and its neighbours facing the camera, the one whose own
        position projects nearest the click: a splat also covers its neighbours' centres."""
        r = self.canvas.rendered
        near = np.flatnonzero(np.sum((points - points[i]) ** 2, axis=1) <= (2 * self._spacing_m) ** 2)
        _, _, _, forward = r.camera.basis()
        near = near[(normals[near] @ forward.astype(np.float32) < 0) | (near == i)]
        h, w, _ = r.image.shape
        u, v, _ = hull_render.project(r.camera, points[near], w, h)
        return int(near[np.nanargmin((u - x) ** 2 + (v - y) ** 2)])

    def _double_clicked(self, x: float, y: float) -> None:
        fid = self.canvas.rendered.pick(x, y, PICK_PX)
        for f in self._findings:
            if fid is not None and int(f.finding_id) == fid:
                self.fly_to_requested.emit(fid, tuple(float(v) for v in f.position_h))
                return

    def closeEvent(self, event):  # noqa: N802
        if self._task is not None:
            self._task.cancel()
        self.actions.close()
        super().closeEvent(event)
