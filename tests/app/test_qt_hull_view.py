"""The 3D hull view, the hull expansion view and the map's actions (export, gap plan) on
real data: the 24 m workboat of the embedded world, planned, and part of the plan flown
frame by frame through the renderer, the shipped camera model and the live hull map
(app.simulated_sweep), so coverage is partial and the planted containers are findings.
Also the software renderer's geometry, and its speed on the DTC container ship."""
from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from app import hull_render
from app.hull_render import Marker, OrbitCamera, Scene, render
from vision.hullmap.export import BOTH, CAMERA_ONLY, COVERAGE_RGB, UNSEEN, finding_rgb

LENGTH_M = 24.0
FLOWN_TRACKS = 24  # the niche passes and the first bottom lane: ~60 % seen, two containers found
DTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"
TIMEOUT_MS = 120_000
# the flown fixture renders and detects ~180 frames (~40 s on an idle core) for whichever test comes first
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def flown():
    """(model, placement, plan result, planner, StationMap with its worker running)."""
    from resources import resource_path
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.pipeline import DetectionPipeline

    from app.simulated_sweep import fly_sweep, workboat
    from app.station_map import StationMap

    boat = workboat(LENGTH_M, seed=1, containers=4)
    model, placement, world, sensors, planner = boat.model, boat.placement, boat.world, boat.sensors, boat.planner
    result = planner.plan()
    station_map = StationMap(model, placement, sensors=sensors)
    detector = OnnxDetector(resource_path("models", "camera.onnx"), expected_classes=CLASSES, threads=1)
    fly_sweep(world, result.tracks[:FLOWN_TRACKS], DetectionPipeline(detector, source="camera"), station_map.worker,
              step_m=0.25)
    station_map.worker.start()  # from here the map is read through its own thread, as live
    yield model, placement, result, planner, station_map
    station_map.worker.close()


def _array(qimage) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = qimage.convertToFormat(QImage.Format_RGB888)
    w, h = img.width(), img.height()
    return np.frombuffer(img.constBits(), np.uint8, h * img.bytesPerLine()).reshape(h, -1)[:, :3 * w].reshape(
        h, w, 3).copy()


def _shaded_as(pixels: np.ndarray, rgb) -> np.ndarray:
    """Pixels that are `rgb` times a shading factor (the renderer's lambert, 0.35..1)."""
    b = np.asarray(rgb, float)
    p = pixels.reshape(-1, 3).astype(float)
    k = p @ b / (b @ b)
    ok = (k > 0.3) & (k < 1.05) & (np.linalg.norm(p - k[:, None] * b, axis=1) < 14)
    return ok.reshape(pixels.shape[:-1])


def _settled(view) -> bool:
    return view.renders > 0 and view._task is None and not view._dirty


def _hull_view(qtbot, station_map, snapshot, plan=None):
    from app.qt_hull_view import QtHullView

    view = QtHullView()
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.set_station_map(station_map)
    view.set_map(snapshot)
    if plan is not None:
        view.set_plan(plan)
    view.show()
    qtbot.waitUntil(lambda: _settled(view), timeout=30_000)
    return view


def test_3d_view_shows_coverage_where_the_map_has_it(qtbot, flown):
    _, _, result, _, sm = flown
    snap = sm.worker.latest
    view = _hull_view(qtbot, sm, snap, result)
    img = _array(view.canvas.grab().toImage())
    r = view.canvas.rendered
    assert img.shape[:2] == r.image.shape[:2]
    cam = view.camera
    u, v, _ = hull_render.project(cam, sm.samples.points_h, img.shape[1], img.shape[0])
    _, _, _, forward = cam.basis()
    # samples facing the camera: on this convex-ish hull they are the ones in front
    front = (sm.samples.normals_h @ forward < -0.5) & (u >= 2) & (u < img.shape[1] - 2) & (v >= 2) & (
        v < img.shape[0] - 2)
    seen = np.asarray(snap.seen["camera"])
    px = img[np.round(v).astype(int).clip(0, img.shape[0] - 1), np.round(u).astype(int).clip(0, img.shape[1] - 1)]
    red, blue = _shaded_as(px, COVERAGE_RGB[UNSEEN]), _shaded_as(px, COVERAGE_RGB[CAMERA_ONLY])
    print(f"\nfront samples: {int((front & ~seen).sum())} unseen ({red[front & ~seen].mean():.0%} drawn red), "
          f"{int((front & seen).sum())} seen ({blue[front & seen].mean():.0%} drawn blue); "
          f"render {r.render_ms:.0f} ms at {img.shape[1]}x{img.shape[0]}")
    assert (front & ~seen).sum() > 200 and (front & seen).sum() > 200
    assert red[front & ~seen].mean() > 0.6
    assert blue[front & seen].mean() > 0.6
    assert not _shaded_as(px, COVERAGE_RGB[BOTH]).any()  # no sonar flown: nothing is "both"
    assert "Seen" in view.coverage_label.text() and f"{snap.coverage.overall_pct:.1f}" in view.coverage_label.text()


def test_drag_orbits_wheel_zooms_and_double_click_flies_to_a_finding(qtbot, flown):
    _, _, _, _, sm = flown
    snap = sm.worker.latest
    assert snap.findings, "the flown tracks pass planted containers"
    view = _hull_view(qtbot, sm, snap)
    before, cam0, n0 = view.canvas.rendered.image.copy(), view.camera, view.renders
    c = view.canvas
    qtbot.mousePress(c, Qt.LeftButton, pos=QPoint(300, 300))
    for x in range(310, 420, 10):
        qtbot.mouseMove(c, QPoint(x, 320))
    qtbot.mouseRelease(c, Qt.LeftButton, pos=QPoint(420, 320))
    qtbot.waitUntil(lambda: view.renders > n0 and _settled(view), timeout=30_000)
    after = view.canvas.rendered.image
    assert view.camera.azimuth_deg != cam0.azimuth_deg and view.camera.elevation_deg != cam0.elevation_deg
    assert view.canvas.rendered.camera == view.camera  # the newest view is what is shown
    assert np.mean(np.any(before != after, axis=2)) > 0.05
    # zoom in towards the finding so its marker is well apart from the others, then double-click it
    f = max(snap.findings, key=lambda f: f.observations)
    view.camera = OrbitCamera.framing(np.asarray(f.position_h)[None, :] + [[-6, -6, -3], [6, 6, 3]],
                                      view.camera.azimuth_deg, view.camera.elevation_deg)
    n1 = view.renders
    view._request_render()
    qtbot.waitUntil(lambda: view.renders > n1 and _settled(view), timeout=30_000)
    assert int(f.finding_id) in view.canvas.rendered.marker_px
    u, v = view.canvas.rendered.marker_px[int(f.finding_id)]
    with qtbot.waitSignal(view.fly_to_requested, timeout=5000) as blocker:
        qtbot.mouseDClick(c, Qt.LeftButton, pos=QPoint(int(round(u)) + 3, int(round(v)) - 2))
    assert blocker.args[0] == f.finding_id
    assert np.allclose(blocker.args[1], f.position_h)
    z0, n2 = view.camera.distance_m, view.renders
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    ev = QWheelEvent(QPointF(200, 200), QPointF(200, 200), QPoint(0, 0), QPoint(0, 240), Qt.NoButton, Qt.NoModifier,
                     Qt.NoScrollPhase, False)
    QApplication.sendEvent(c, ev)
    assert view.camera.distance_m == pytest.approx(z0 * 0.85 ** 2)
    qtbot.waitUntil(lambda: view.renders > n2 and _settled(view), timeout=30_000)


def test_a_pose_stream_is_coalesced_and_the_newest_pose_is_drawn(qtbot, flown):
    from PySide6.QtGui import QPalette

    _, _, result, _, sm = flown
    view = _hull_view(qtbot, sm, sm.worker.latest)
    n0 = view.renders
    lane = result.tracks[FLOWN_TRACKS - 1].positions_h
    for p in lane:  # as fast as the GUI thread can call: far faster than renders
        view.set_vehicle_pose(p, 270.0)  # compass west: the bow points east here, so the vehicle faces aft
    qtbot.waitUntil(lambda: _settled(view), timeout=30_000)
    assert 1 <= view.renders - n0 <= 3  # one in flight, then only the newest state
    assert len(view._trail) >= len(lane) - 1
    r = view.canvas.rendered
    u, v, _ = hull_render.project(r.camera, lane[-1][None, :], r.image.shape[1], r.image.shape[0])
    hi = view.palette().color(QPalette.Highlight).getRgb()[:3]
    assert np.abs(r.image[int(round(v[0])), int(round(u[0]))].astype(int) - hi).max() <= 10
    assert sm.placement.heading_deg == 90.0
    nose = lane[-1] + [-1.5, 0.0, 0.0]  # the heading line, aft (-x) in H
    u, v, _ = hull_render.project(r.camera, nose[None, :], r.image.shape[1], r.image.shape[0])
    around = r.image[int(round(v[0])) - 1:int(round(v[0])) + 2, int(round(u[0])) - 1:int(round(u[0])) + 2]
    assert (np.abs(around.reshape(-1, 3).astype(int) - hi).max(axis=1) <= 10).any()


def _glb_json(path: Path) -> dict:
    data = path.read_bytes()
    magic, version, total = struct.unpack_from("<III", data, 0)
    assert (magic, version, total) == (0x46546C67, 2, len(data))
    length, kind = struct.unpack_from("<II", data, 12)
    assert kind == 0x4E4F534A
    return json.loads(data[20:20 + length])


def test_export_map_writes_the_layers_the_expansion_and_the_gaps(qtbot, flown, tmp_path, monkeypatch):
    import app.qt_hull_view_actions as actions_mod

    model, placement, _, _, sm = flown
    snap = sm.worker.latest
    view = _hull_view(qtbot, sm, snap)
    folder = tmp_path / "export"
    monkeypatch.setattr(actions_mod.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    progress = []
    with qtbot.waitSignal(view.actions.export_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.actions.export_button, Qt.LeftButton)
        assert not view.actions.export_button.isEnabled() and view.actions.cancel_button.isEnabled()
        view.actions.task.progress.connect(lambda f, t: progress.append(f))
    res = blocker.args[0]
    names = {p.name for p in res.files}
    for name in ("hull.ply", "hull.obj", "hull.glb", "hullmap.glb", "findings.glb", "legend.json", "expansion.png",
                 "gaps.json"):
        assert name in names and (folder / name).is_file(), name
    assert str(folder) in view.actions.status.text() and "expansion.png" in view.actions.status.text()
    assert view.actions.export_button.isEnabled() and view.actions.progress.value() == 100
    doc = _glb_json(folder / "hullmap.glb")
    assert {m["name"] for m in doc["meshes"]} >= {"hull", "findings"}
    assert doc["asset"]["version"] == "2.0"
    png = cv2.imread(str(folder / "expansion.png"))
    assert png is not None and png.shape[1] > 400
    for k in (UNSEEN, CAMERA_ONLY):
        bgr = np.array(COVERAGE_RGB[k][::-1])
        assert (np.all(png == bgr, axis=2)).sum() > 1000, k
    gaps = json.loads((folder / "gaps.json").read_text())
    unseen_m2 = snap.coverage.wetted_area_m2 - snap.coverage.seen_area_m2
    assert gaps["regions"] and 0.5 * unseen_m2 <= gaps["uncovered_m2"] <= unseen_m2 + 1e-6
    assert all(r["where"] and r["area_m2"] >= 0.5 for r in gaps["regions"])


def test_plan_the_gaps_looks_at_the_gaps_and_saves(qtbot, flown, tmp_path, monkeypatch):
    import app.qt_hull_view_actions as actions_mod
    from mission_plans.plan_file import load_plan

    _, _, result, _, sm = flown
    snap = sm.worker.latest
    view = _hull_view(qtbot, sm, snap, result)
    view.set_vehicle_pose(result.tracks[FLOWN_TRACKS - 1].positions_h[-1], 90.0)
    with qtbot.waitSignal(view.fill_in_plan_ready, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.actions.gaps_button, Qt.LeftButton)
    fill = blocker.args[0]
    gp = view.actions.gap_plan
    legs = fill.plan.legs
    assert legs and all(leg.kind in ("fill_in", "transit") for leg in legs)
    text = view.actions.status.text()
    assert f"{len(gp.regions)} regions" in text and f"{len(legs)} legs" in text and "min" in text
    # the planner's own prediction: the fill-in sees what the map missed and the full plan could see
    a = result.samples.area_m2
    in_gaps = np.zeros(len(a), bool)
    for r in gp.regions:
        in_gaps[r.sample_ids] = True
    assert np.array_equal(in_gaps & np.asarray(snap.seen["camera"]), np.zeros(len(a), bool))
    reachable = in_gaps & result.seen
    recovered = float(a[reachable & fill.seen].sum() / a[reachable].sum())
    print(f"\n{gp.describe()}; the fill-in sees {100 * recovered:.1f} % of the gaps' {a[reachable].sum():.0f} m2 "
          "the full plan sees")
    assert recovered >= 0.85
    qtbot.waitUntil(lambda: _settled(view) and view._fill_path is not None, timeout=30_000)
    # saved in a task, as .hullplan.json; a QGC .plan needs the vessel's position, which this berth lacks
    path = tmp_path / "fill.hullplan.json"
    monkeypatch.setattr(actions_mod.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    assert view.actions.save_button.isEnabled()
    qtbot.mouseClick(view.actions.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "saved" in view.actions.status.text(), timeout=30_000)
    assert len(load_plan(path).legs) == len(legs)
    monkeypatch.setattr(actions_mod.QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "f.plan"), ""))
    qtbot.mouseClick(view.actions.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "position" in view.actions.status.text(), timeout=30_000)
    assert not (tmp_path / "f.plan").exists()


def test_a_gap_plan_can_be_cancelled(qtbot, flown):
    _, _, result, _, sm = flown
    view = _hull_view(qtbot, sm, sm.worker.latest, result)
    emitted = []
    view.fill_in_plan_ready.connect(emitted.append)
    qtbot.mouseClick(view.actions.gaps_button, Qt.LeftButton)
    qtbot.mouseClick(view.actions.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "cancelled" in view.actions.status.text() and view.actions.task is None, timeout=30_000)
    assert view.actions.gaps_button.isEnabled() and not emitted


def test_expansion_view_shows_the_findings_and_a_click_flies_there(qtbot, flown):
    from app.qt_expansion_view import QtExpansionView

    _, _, _, _, sm = flown
    snap = sm.worker.latest
    view = QtExpansionView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    view.set_station_map(sm)
    view.set_map(snap)
    qtbot.waitUntil(lambda: view.draws >= 1 and view._task is None, timeout=60_000)
    view.set_map(snap)  # a second change within REDRAW_S waits for the timer, it is not dropped
    assert view.draws == 1
    qtbot.waitUntil(lambda: view.draws >= 2, timeout=10_000)
    img = _array(view.grab().toImage())
    assert set(view.dots) == {int(f.finding_id) for f in snap.findings}
    for f in snap.findings:
        u, v, _ = view.dots[int(f.finding_id)]
        p = view.image_to_widget(u, v)
        x, y = int(round(p.x())), int(round(p.y()))
        patch = img[y - 2:y + 3, x - 2:x + 3].reshape(-1, 3).astype(int)
        assert np.any(np.abs(patch - finding_rgb(f.class_name)).max(axis=1) <= 40), (f.finding_id, patch)
    f = max(snap.findings, key=lambda f: f.observations)
    u, v, _ = view.dots[int(f.finding_id)]
    p = view.image_to_widget(u, v)
    with qtbot.waitSignal(view.fly_to_requested, timeout=5000) as blocker:
        qtbot.mouseClick(view, Qt.LeftButton, pos=QPoint(int(p.x()) + 2, int(p.y()) + 1))
    assert blocker.args[0] == f.finding_id and np.allclose(blocker.args[1], f.position_h)
    # zoomed about the dot, the dot stays under the cursor and is drawn larger
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    s0 = view._scale
    QApplication.sendEvent(view, QWheelEvent(p, p, QPoint(0, 0), QPoint(0, 360), Qt.NoButton, Qt.NoModifier,
                                             Qt.NoScrollPhase, False))
    assert view._scale == pytest.approx(s0 * 1.2 ** 3)
    q = view.image_to_widget(u, v)
    assert abs(q.x() - p.x()) < 1 and abs(q.y() - p.y()) < 1
    img = _array(view.grab().toImage())
    dot = np.abs(img.astype(int) - finding_rgb(f.class_name)).max(axis=2) <= 40
    y, x = int(round(q.y())), int(round(q.x()))
    assert dot[y - 8:y + 9, x - 8:x + 9].sum() > 40


# ---- the renderer ---------------------------------------------------------------------------
CAM = OrbitCamera(target_h=(0.0, 0.0, 0.0), azimuth_deg=0.0, elevation_deg=0.0, distance_m=10.0, fov_deg=40.0)


def _one(points, rgbs, **kw):
    return Scene(np.asarray(points, np.float32), np.asarray(rgbs, np.uint8), None, 0.01, **kw)


def test_a_point_lands_on_its_pixel():
    # seen from the bow (azimuth 0) port (+y) is on the right, up (+z) is up
    r = render(_one([[0.0, 1.0, 0.5]], [[255, 0, 0]]), CAM, 900, 600, (0, 0, 0))
    f = 300 / np.tan(np.radians(20))
    u, v = 450 + f * 1.0 / 10, 300 - f * 0.5 / 10
    hit = np.argwhere(np.all(r.image == [255, 0, 0], axis=2))
    assert len(hit) >= 1 and np.allclose(hit.mean(axis=0), [v - 0.5, u - 0.5], atol=1.0)
    ortho = OrbitCamera((0.0, 0.0, 0.0), 90.0, 0.0, 10.0, 40.0, ortho=True)  # from port: the bow (+x) on the left
    r = render(_one([[2.0, 0.0, 0.0], [-2.0, 0.0, 0.0]], [[255, 0, 0], [0, 0, 255]]), ortho, 900, 600)
    red, blue = (np.argwhere(np.all(r.image == c, axis=2)).mean(axis=0) for c in ([255, 0, 0], [0, 0, 255]))
    assert red[1] < 450 < blue[1] and red[0] == pytest.approx(blue[0])


def test_the_z_buffer_hides_a_point_behind_another():
    near, far = [2.0, 0.0, 0.0], [-2.0, 0.0, 0.0]  # on one ray from the eye at (10, 0, 0)
    for order in ((near, far), (far, near)):
        colours = [[255, 0, 0], [0, 0, 255]] if order[0] is near else [[0, 0, 255], [255, 0, 0]]
        r = render(Scene(np.array(order, np.float32), np.array(colours, np.uint8), None, 0.3), CAM, 200, 200)
        assert np.all(r.image[100, 100] == [255, 0, 0])
        assert not np.any(np.all(r.image == [0, 0, 255], axis=2))


def test_pick_returns_the_marker_near_the_click():
    markers = (Marker(7, (0.0, 1.0, 0.0), (255, 0, 255)), Marker(8, (0.0, -1.0, 0.0), (255, 140, 0)),
               Marker(-1, (0.0, 0.0, 0.0), (0, 0, 0), pickable=False))
    r = render(_one(np.empty((0, 3)), np.empty((0, 3)), markers=markers), CAM, 900, 600)
    f = 300 / np.tan(np.radians(20))
    assert r.pick(450 + f / 10 + 4, 300 - 3) == 7
    assert r.pick(450 - f / 10, 300) == 8
    assert r.pick(450, 300) is None  # the vehicle is not a target
    assert r.pick(450 + f / 10 + 30, 300) is None
    assert np.all(r.image[300, int(round(450 + f / 10))] == [255, 0, 255])


@pytest.mark.skipif(not DTC.exists(), reason=f"{DTC} is not present (../shared/data beside the checkout)")
@pytest.mark.timeout(120)
def test_the_dtc_hull_renders_fast():
    from hull.model import HullModel
    from hull.surface_samples import sample_surface

    model = HullModel.load(DTC, scale=59.407)
    s = sample_surface(model.wetted(14.5).mesh)
    rgb = np.array([COVERAGE_RGB[k] for k in sorted(COVERAGE_RGB)], np.uint8)[np.arange(len(s)) % 4]
    scene = Scene(s.points_h.astype(np.float32), rgb, s.normals_h.astype(np.float32), 0.5)
    cam = OrbitCamera.framing(s.points_h)
    times = {}
    for name, c in (("whole hull", cam), ("close up", cam.zoomed(0.1))):
        t = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = render(scene, c, 900, 600)
            t.append((time.perf_counter() - t0) * 1e3)
        times[name] = float(np.median(t))
    print(f"\nDTC, {len(s)} samples at 900x600: " + ", ".join(f"{k} {v:.0f} ms" for k, v in times.items()))
    assert np.mean(np.any(r.image != 255, axis=2)) > 0.2
    assert max(times.values()) < 1000  # loose: the figure is what the print reports


def _workboat_samples():
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from hull.surface_samples import sample_surface

    dims = HullDimensions(LENGTH_M, 7.0, 2.4, 3.6, 0.55)
    return sample_surface(HullModel.parametric_hull(dims).wetted(dims.draft_m).mesh)


def test_surface_point_is_the_sample_the_z_buffer_drew_there():
    """Every sample gets its own colour (its index in 24 bits, no shading): wherever the
    image shows a sample, the index image names that same sample, whole hull and close up
    (where the renderer draws blocks of pixels)."""
    s = _workboat_samples()
    n = len(s)
    ids = np.arange(n)
    rgb = np.stack([ids >> 16, (ids >> 8) & 255, ids & 255], axis=1).astype(np.uint8)
    bg = (255, 255, 255)  # 0xffffff is no sample's index: there are < 2^24
    scene = Scene(s.points_h.astype(np.float32), rgb, None, 0.08)
    cam = OrbitCamera.framing(s.points_h)
    for c in (cam, cam.zoomed(0.15)):
        r = render(scene, c, 900, 600, bg)
        h, w, _ = r.image.shape
        index = r.index_at(np.arange(h), np.arange(w))
        shown = (r.image[..., 0].astype(np.int64) << 16) | (r.image[..., 1].astype(np.int64) << 8) | r.image[..., 2]
        drawn = index >= 0
        assert 0.1 < drawn.mean() < 0.95, c
        assert np.array_equal(np.where(drawn, shown, 0xFFFFFF), np.where(drawn, index, 0xFFFFFF))
        assert np.all(r.image[~drawn] == bg)
        print(f"\nindex cell {r.index_cell_px} px, {drawn.mean():.0%} of the image is hull")
    assert r.index_cell_px > 1  # the close-up did draw blocks
    # a known sample facing the camera, projected: the click there lands on it or a neighbour
    _, _, _, forward = cam.basis()
    u, v, _ = hull_render.project(cam, s.points_h, 900, 600)
    r = render(scene, cam, 900, 600, bg)
    # facing the camera and drawn somewhere (not hidden behind the keel or the skeg)
    drawn_ids = np.unique(r.index_at(np.arange(600), np.arange(900)))
    front = np.flatnonzero((s.normals_h @ forward < -0.8) & (u > 10) & (u < 890) & (v > 10) & (v < 590)
                           & np.isin(np.arange(n), drawn_ids))
    assert len(front) > 500
    tested = front[:: max(len(front) // 300, 1)]
    hits = np.array([r.surface_point(u[i], v[i]) for i in tested])
    assert all(h is not None for h in hits)
    dist = np.linalg.norm(s.points_h[hits.astype(int)] - s.points_h[tested], axis=1)
    print(f"{np.mean(hits == tested):.0%} the very sample, the rest within {dist.max():.3f} m")
    assert dist.max() < 2 * 0.08 and np.mean(hits == tested) > 0.2


def test_surface_point_beside_the_hull_is_none_and_snaps_within_max_px():
    r = render(_one([[0.0, 1.0, 0.5]], [[255, 0, 0]]), CAM, 900, 600, (0, 0, 0))
    (y, x), = np.argwhere(np.all(r.image == [255, 0, 0], axis=2))
    assert r.surface_point(x + 0.5, y + 0.5) == 0
    assert r.surface_point(x + 3.5, y + 0.5, max_px=4) == 0
    assert r.surface_point(x + 6.5, y + 0.5, max_px=4) is None
    assert r.surface_point(5, 5) is None and r.surface_point(-100, 5000) is None
    empty = render(_one(np.empty((0, 3)), np.empty((0, 3))), CAM, 90, 60)
    assert empty.surface_point(45, 30) is None and empty.index_at([0], [0]).tolist() == [[-1]]


def test_a_hidden_wide_line_is_faded_once_and_nan_breaks_a_line():
    # a wall of samples at x = 0 facing the eye at (10, 0, 0); a line behind it (x = -1) and one in front
    g = np.linspace(-2, 2, 81, dtype=np.float32)
    yy, zz = np.meshgrid(g, g)
    wall = np.stack([np.zeros(yy.size, np.float32), yy.ravel(), zz.ravel()], axis=1)
    grey = np.full((len(wall), 3), 100, np.uint8)
    behind = np.array([[-1.0, -1.0, 0.5], [-1.0, 1.0, 0.5]], np.float32)
    broken = np.array([[1.0, -1.0, -0.5], [1.0, -0.2, -0.5], [np.nan] * 3, [1.0, 0.2, -0.5], [1.0, 1.0, -0.5]],
                      np.float32)
    lines = (hull_render.Polyline(behind, (0, 0, 255), 4), hull_render.Polyline(broken, (255, 0, 0), 2))
    r = render(Scene(wall, grey, None, 0.05, lines), CAM, 300, 300, (255, 255, 255))
    u, v, _ = hull_render.project(CAM, [[-1.0, 0.0, 0.5], [1.0, 0.0, -0.5], [1.0, -0.6, -0.5]], 300, 300)
    faded = np.round(np.array([100, 100, 100]) * 0.65 + np.array([0, 0, 255]) * 0.35)
    assert np.abs(r.image[int(v[0]), int(u[0])].astype(int) - faded).max() <= 1  # not blended 25 times over
    assert np.all(r.image[int(v[1]), int(u[1])] == 100)  # the NaN row leaves a gap
    assert np.all(r.image[int(v[2]), int(u[2])] == [255, 0, 0])
