"""Niche areas on the 3D hull view, on real data: the 24 m parametric workboat of the
embedded world with its own niche areas, its station map's surface samples drawn by the
software renderer. A click in "Place niche area" mode picks the sample under the cursor;
the niche editor turns it into a row that applies like any other; the view draws every
area's box where the hull has it."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from app import hull_render
from app.qt_theme import colour

LENGTH_M = 24.0
RENDER_TIMEOUT_MS = 30_000
NICHE_RGB = np.array(colour("info").getRgb()[:3])


@pytest.fixture(scope="module")
def workboat():
    """(model, StationMap): the embedded world's workboat at its berth."""
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from sim.embedded_world import berth_beside_start

    from app.station_map import StationMap

    dims = HullDimensions(LENGTH_M, 7.0, 2.4, 3.6, 0.55)
    model = HullModel.parametric_hull(dims)
    station_map = StationMap(model, berth_beside_start(model, dims.draft_m))
    assert len(model.niche_areas) >= 10
    yield model, station_map
    station_map.worker.close()


def _settled(view) -> bool:
    return view.renders > 0 and view._task is None and not view._dirty


def _view(qtbot, station_map):
    from app.qt_hull_view import QtHullView

    view = QtHullView()
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.set_station_map(station_map)
    view.show()
    qtbot.waitUntil(lambda: _settled(view), timeout=RENDER_TIMEOUT_MS)
    return view


def _rerendered(qtbot, view, n0):
    qtbot.waitUntil(lambda: view.renders > n0 and _settled(view), timeout=RENDER_TIMEOUT_MS)
    return view.canvas.rendered


def _visible_sample_near_centre(r, samples) -> int:
    """A sample facing the camera, drawn (not hidden), nearest the image's centre."""
    h, w, _ = r.image.shape
    u, v, _ = hull_render.project(r.camera, samples.points_h, w, h)
    _, _, _, forward = r.camera.basis()
    drawn = np.isin(np.arange(len(samples)), np.unique(r.index_at(np.arange(h), np.arange(w))))
    ok = drawn & (samples.normals_h @ forward < -0.7)
    d = np.where(ok, np.hypot(u - w / 2, v - h / 2), np.inf)
    i = int(np.argmin(d))
    assert np.isfinite(d[i])
    return i


def _niche_colour_near(img, u, v, r_px=2) -> bool:
    y, x = int(round(v)), int(round(u))
    patch = img[max(y - r_px, 0):y + r_px + 1, max(x - r_px, 0):x + r_px + 1].reshape(-1, 3).astype(int)
    return bool(len(patch)) and bool((np.abs(patch - NICHE_RGB).max(axis=1) <= 12).any())


def test_a_click_in_place_mode_picks_the_sample_under_the_cursor(qtbot, workboat):
    _, sm = workboat
    view = _view(qtbot, sm)
    r = view.canvas.rendered
    assert view.place_button.isEnabled() and view.place_button.minimumHeight() >= 40
    assert r.image.shape[:2] == (view.canvas.height(), view.canvas.width())  # image px == widget px here
    i = _visible_sample_near_centre(r, sm.samples)
    u, v, _ = hull_render.project(r.camera, sm.samples.points_h[i][None, :], r.image.shape[1], r.image.shape[0])
    at = QPoint(int(u[0]), int(v[0]))
    with qtbot.assertNotEmitted(view.hull_point_picked, wait=200):
        qtbot.mouseClick(view.canvas, Qt.LeftButton, pos=at)  # mode off: a click is just a click
    qtbot.mouseClick(view.place_button, Qt.LeftButton)
    assert view.place_button.isChecked() and "click the hull" in view.message.text()
    # beside the hull: nothing picked, the mode stays on and says why
    far = (10, 10)  # top left: the framed hull leaves the view's corners empty (not (0, 0): QTest's "centre")
    assert (r.index_at(np.arange(max(far[0] - 8, 0), far[0] + 9), np.arange(max(far[1] - 8, 0), far[1] + 9)) < 0).all()
    with qtbot.assertNotEmitted(view.hull_point_picked, wait=200):
        qtbot.mouseClick(view.canvas, Qt.LeftButton, pos=QPoint(int(far[1]), int(far[0])))
    assert view.place_button.isChecked() and "beside the hull" in view.message.text()
    # a drag still orbits and picks nothing
    n0, az0 = view.renders, view.camera.azimuth_deg
    with qtbot.assertNotEmitted(view.hull_point_picked, wait=200):
        qtbot.mousePress(view.canvas, Qt.LeftButton, pos=QPoint(300, 300))
        for x in range(310, 360, 10):
            qtbot.mouseMove(view.canvas, QPoint(x, 300))
        qtbot.mouseRelease(view.canvas, Qt.LeftButton, pos=QPoint(350, 300))
    assert view.camera.azimuth_deg != az0 and view.place_button.isChecked()
    r = _rerendered(qtbot, view, n0)
    i = _visible_sample_near_centre(r, sm.samples)
    u, v, _ = hull_render.project(r.camera, sm.samples.points_h[i][None, :], r.image.shape[1], r.image.shape[0])
    with qtbot.waitSignal(view.hull_point_picked, timeout=5000) as blocker:
        qtbot.mouseClick(view.canvas, Qt.LeftButton, pos=QPoint(int(u[0]), int(v[0])))
    position, normal = (np.array(a) for a in blocker.args)
    assert isinstance(blocker.args[0], tuple) and len(blocker.args[0]) == 3 and len(blocker.args[1]) == 3
    print(f"\npicked {np.round(position, 3)} for sample {np.round(sm.samples.points_h[i], 3)} "
          f"(spacing {view._spacing_m:.3f} m)")
    assert np.linalg.norm(position - sm.samples.points_h[i]) <= view._spacing_m
    assert normal @ sm.samples.normals_h[i] > 0.9 and np.linalg.norm(normal) == pytest.approx(1.0, abs=1e-3)
    assert not view.place_button.isChecked()  # one placement per press of the button
    with qtbot.assertNotEmitted(view.hull_point_picked, wait=200):
        qtbot.mouseClick(view.canvas, Qt.LeftButton, pos=QPoint(int(u[0]), int(v[0])))


def test_niche_areas_are_drawn_where_their_boxes_are(qtbot, workboat):
    model, sm = workboat
    view = _view(qtbot, sm)
    before = view.canvas.rendered.image.copy()
    assert not (np.abs(before.reshape(-1, 3).astype(int) - NICHE_RGB).max(axis=1) <= 12).any()
    n0 = view.renders
    view.set_niche_areas(model.niche_areas)
    r = _rerendered(qtbot, view, n0)
    h, w, _ = r.image.shape
    index = r.index_at(np.arange(h), np.arange(w))
    _, _, d_surface = hull_render.project(r.camera, sm.samples.points_h, w, h)
    shown, hidden = [], []
    for a in model.niche_areas:
        u, v, d = hull_render.project(r.camera, a.corners_h()[:4], w, h)  # the outer face: on the hull
        for uu, vv, dd in zip(u, v, d):
            if not (3 <= uu < w - 3 and 3 <= vv < h - 3):
                continue
            k = index[int(vv), int(uu)]
            if k < 0 or dd <= d_surface[k] + 0.15:
                shown.append(_niche_colour_near(r.image, uu, vv))
            elif dd > d_surface[k] + 1.0:  # the hull's far side (not a rudder's own far face)
                hidden.append(_niche_colour_near(r.image, uu, vv))
    print(f"\n{len(shown)} outer corners in front: {sum(shown)} drawn in the niche colour; "
          f"{len(hidden)} behind the hull: {sum(hidden)} in the full colour")
    assert len(shown) >= 12 and np.mean(shown) >= 0.9
    assert len(hidden) >= 12 and np.mean(hidden) <= 0.2  # seen through the hull: faded
    # each area in front has its dot and name: white letters on a dark rim beside the dot
    face_u, face_v, face_d = hull_render.project(r.camera, np.array([a.corners_h()[:4].mean(axis=0)
                                                                     for a in model.niche_areas]), w, h)
    labelled = 0
    for a, uu, vv, dd in zip(model.niche_areas, face_u, face_v, face_d):
        if not (10 <= uu < w - 200 and 10 <= vv < h - 10):
            continue
        k = index[int(vv), int(uu)]
        if k >= 0 and dd > d_surface[k] + 1.0:
            continue
        assert _niche_colour_near(r.image, uu, vv, 1), a.name
        box = r.image[int(vv) - 8:int(vv) + 9, int(uu) + 8:int(uu) + 8 + 7 * len(a.name)].reshape(-1, 3)
        white, black = (np.all(box == c, axis=1).sum() for c in (255, 0))
        assert white >= 10 and black >= 10, a.name
        labelled += 1
    assert labelled >= 3
    n1 = view.renders
    view.set_niche_areas(())
    r = _rerendered(qtbot, view, n1)
    assert not (np.abs(r.image.reshape(-1, 3).astype(int) - NICHE_RGB).max(axis=1) <= 12).any()


def test_add_area_at_adds_a_row_that_applies_there(qtbot, workboat):
    from hull.niche import NicheArea, NicheKind

    from app.qt_niche_editor import QtNicheEditor

    model, sm = workboat
    editor = QtNicheEditor()
    qtbot.addWidget(editor)
    editor.set_areas(model.niche_areas)
    changed = []
    editor.areas_changed.connect(changed.append)
    below = int(np.argmin(sm.samples.normals_h[:, 2]))  # a bottom sample
    side = int(np.argmax(sm.samples.normals_h[:, 1]))  # a port side sample
    rows = editor.table.rowCount()
    r1 = editor.add_area_at(tuple(sm.samples.points_h[side]), tuple(sm.samples.normals_h[side]))
    r2 = editor.add_area_at(sm.samples.points_h[below], sm.samples.normals_h[below], kind="anode",
                            size_m=(0.4, 0.2, 0.05))
    assert (r1, r2) == (rows, rows + 1) and editor.table.rowCount() == rows + 2
    assert {i.row() for i in editor.table.selectedIndexes()} == {r2}  # the newest, ready to edit
    assert "placed on the hull" in editor.message.text() and "Apply" in editor.message.text()
    assert changed == [] and editor.areas() == model.niche_areas  # kept only once applied
    applied = editor.apply()
    assert applied is not None and changed == [applied] and len(applied) == rows + 2
    assert [x.name for x in applied[:rows]] == [x.name for x in model.niche_areas]  # kept (to the millimetre)
    assert all(np.allclose(x.center_h, y.center_h, atol=5e-4) for x, y in zip(applied, model.niche_areas))
    a, b = applied[rows:]
    assert isinstance(a, NicheArea) and a.name == f"niche {rows + 1}" and b.name == f"niche {rows + 2}"
    assert np.allclose(a.center_h, sm.samples.points_h[side], atol=5e-4)  # the table keeps millimetres
    assert np.allclose(a.normal_h, sm.samples.normals_h[side] / np.linalg.norm(sm.samples.normals_h[side]))
    assert (a.kind, a.side, a.size_m, a.depth_m) == (NicheKind.SEA_CHEST, "port", (1.0, 1.0), 0.6)
    assert (b.kind, b.side, b.size_m, b.depth_m) == (NicheKind.ANODE, "bottom", (0.4, 0.2), 0.05)
    assert np.allclose(b.center_h, sm.samples.points_h[below], atol=5e-4)
    # the flow is the editor's own: a bad edit of a placed row is refused, the applied set kept
    editor.add_area_at(sm.samples.points_h[side], sm.samples.normals_h[side])
    editor.table.item(rows + 2, 6).setText("-1")
    assert editor.apply() is None and "size_m" in editor.message.text() and len(changed) == 1
    assert editor.areas() == applied


def test_picked_on_the_hull_applied_in_the_editor_drawn_on_the_hull(qtbot, workboat):
    """The main window's wiring: hull_point_picked -> add_area_at, areas_changed ->
    set_niche_areas."""
    from app.qt_niche_editor import QtNicheEditor

    model, sm = workboat
    view = _view(qtbot, sm)
    editor = QtNicheEditor()
    qtbot.addWidget(editor)
    editor.set_areas(model.niche_areas)
    view.hull_point_picked.connect(editor.add_area_at)
    editor.areas_changed.connect(view.set_niche_areas)
    r = view.canvas.rendered
    i = _visible_sample_near_centre(r, sm.samples)
    u, v, _ = hull_render.project(r.camera, sm.samples.points_h[i][None, :], r.image.shape[1], r.image.shape[0])
    view.place_button.click()
    qtbot.mouseClick(view.canvas, Qt.LeftButton, pos=QPoint(int(u[0]), int(v[0])))
    assert editor.table.rowCount() == len(model.niche_areas) + 1
    n0 = view.renders
    placed = editor.apply()[-1]
    assert np.linalg.norm(placed.center_h - sm.samples.points_h[i]) <= view._spacing_m
    r = _rerendered(qtbot, view, n0)
    h, w, _ = r.image.shape
    u, v, _ = hull_render.project(r.camera, placed.corners_h()[:4], w, h)
    assert sum(_niche_colour_near(r.image, uu, vv) for uu, vv in zip(u, v)) >= 3
