"""The mission planner panel with real parts: real hull meshes from ../shared/data, a
parametric workboat planned by the real SweepPlanner, files read back with mission_plans'
readers, and an upload to a simulated ArduSub on loopback."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from app import planner_session as session
from app.qt_niche_editor import QtNicheEditor
from app.qt_planner import QtPlanner
from app.qt_planner_results import coverage_role
from app.qt_theme import colour
from hull.queries import load_open3d

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
WIGLEY = DATA / "hulls" / "wigley.stl.gz"
WORKBOAT = dict(length_m=12.0, beam_m=4.0, draft_m=1.2, depth_m=2.0, block_coefficient=0.55)
ORIGIN = (53.54, 9.97)
PLAN_TIMEOUT_MS = 120_000


def _panel(qtbot, vehicle=None) -> QtPlanner:
    load_open3d()  # as app.gui.run_gui does before the window shows
    panel = QtPlanner(vehicle)
    qtbot.addWidget(panel)
    return panel


def _status_colour(panel) -> str:
    return panel.status.styleSheet()


@pytest.fixture(scope="module")
def planned():
    """A workboat plan made once by the real planner (no ship position: the upload takes it
    from the vehicle's EKF origin)."""
    loaded = session.build_parametric(session.parametric_dims(**WORKBOAT))
    req = session.PlanRequest(model=loaded.model, niche_areas=loaded.model.niche_areas, vessel_name="WB Test",
                              imo="9876543", draft_m=1.2, origin_ned_m=(5.0, -3.0))
    return session.make_plan(req)


@pytest.mark.skipif(not WIGLEY.is_file(), reason="../shared/data is not beside the checkout")
def test_load_real_mesh_through_the_panel_shows_what_was_repaired(qtbot):
    panel = _panel(qtbot)
    panel.form.mesh_path.setText(str(WIGLEY))
    with qtbot.waitSignal(panel.hull_loaded, timeout=30_000) as blocker:
        panel.form.load_button.click()
    model, placement = blocker.args
    assert model is panel.model and model.report is not None
    assert model.length_m == pytest.approx(1.0, abs=0.01)
    info = panel.form.hull_info.toPlainText()
    assert "wound inward" in info and "watertight: yes" in info
    assert "a 1 m hull: model scale? pass --scale" in panel.status.text()  # the loader's warning, shown
    assert panel.form.draft.value() < model.depth_m  # kept inside a model-scale hull
    assert placement is not None and placement.draft_m == panel.form.draft.value()
    assert panel.niches.table.rowCount() == 0  # no sidecar beside the file
    assert panel.progress.value() == panel.progress.maximum() and not panel.busy


def test_corrupt_mesh_gives_a_clear_message(qtbot, tmp_path):
    bad = tmp_path / "photo.stl"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    panel = _panel(qtbot)
    loaded = []
    panel.hull_loaded.connect(lambda *a: loaded.append(a))
    panel.form.mesh_path.setText(str(bad))
    panel.form.load_button.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=30_000)
    text = panel.status.text()
    assert text.startswith("load hull: cannot load photo.stl") and "Traceback" not in text
    assert colour("alarm").name() in _status_colour(panel)
    assert loaded == [] and panel.model is None and panel.form.load_button.isEnabled()


@pytest.mark.timeout(300)
def _build_workboat(qtbot, panel) -> None:
    panel.form.vessel_name.setText("WB Test")
    panel.form.length.setValue(WORKBOAT["length_m"])
    panel.form.beam.setValue(WORKBOAT["beam_m"])
    panel.form.hull_draft.setValue(WORKBOAT["draft_m"])
    panel.form.depth.setValue(WORKBOAT["depth_m"])
    panel.form.cb.setValue(WORKBOAT["block_coefficient"])
    with qtbot.waitSignal(panel.hull_loaded, timeout=60_000):
        panel.form.build_button.click()


def test_plan_a_workboat_shows_its_legs_and_coverage_and_the_gui_stays_responsive(qtbot):
    panel = _panel(qtbot)
    _build_workboat(qtbot, panel)
    assert panel.niches.table.rowCount() == len(panel.model.niche_areas) > 0
    assert panel.form.draft.value() == WORKBOAT["draft_m"]

    ticks = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    t0 = time.monotonic()
    with qtbot.waitSignal(panel.plan_ready, timeout=PLAN_TIMEOUT_MS) as blocker:
        panel.plan_button.click()
        assert panel.busy and panel.cancel_button.isEnabled() and not panel.plan_button.isEnabled()
    planning_s = time.monotonic() - t0
    timer.stop()
    result = blocker.args[0]
    assert result is panel.result
    # the event loop kept running while the planner ray-cast for seconds: Open3D's queries
    # hold the GIL, so they go in slices (hull.queries); 0.1 s was the longest gap measured
    # beside a training run, 0.46 s before the slicing
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 0.5 * planning_s / 0.020 and max(gaps) < 0.5, (planning_s, len(ticks), max(gaps, default=None))

    plan = result.plan
    legs = panel.results.legs_table
    assert legs.rowCount() == len(plan.legs)
    rows = session.leg_rows(plan)
    for r, (leg, row) in enumerate(zip(plan.legs, rows)):
        assert legs.item(r, 1).text() == leg.kind
        assert legs.item(r, 2).text() == (leg.niche or row.where)
        assert float(legs.item(r, 3).text()) == pytest.approx(row.length_m, abs=0.05)
    assert plan.legs[0].kind == "niche_pass" and legs.item(0, 2).text() == plan.legs[0].niche
    assert sum(r.length_m for r in rows) <= plan.length_m + 1e-6  # legs plus the hops between them
    pred = plan.prediction
    assert f"coverage {pred.overall_pct:.1f} %" in panel.results.coverage.text()
    assert f"uncovered patches: {len(pred.uncovered)}" in panel.results.details.text()
    niches = panel.results.niche_table
    assert niches.rowCount() == len(pred.per_niche_pct) == len(panel.model.niche_areas)
    for r, (name, pct) in enumerate(pred.per_niche_pct):
        assert niches.item(r, 0).text() == name and float(niches.item(r, 1).text()) == pytest.approx(pct, abs=0.05)
        assert niches.item(r, 1).foreground().color() == colour(coverage_role(pct))
    assert {coverage_role(p) for _, p in pred.per_niche_pct} >= {"ok", "warning"}  # the rudder is seen < 90 %
    assert not panel.upload_button.isEnabled()  # no vehicle
    assert panel.export_button.isEnabled()


def test_cancel_discards_the_plan_and_says_why(qtbot):
    panel = _panel(qtbot)
    _build_workboat(qtbot, panel)
    shown = []
    panel.plan_ready.connect(shown.append)
    panel.plan_button.click()
    task = panel._task
    # the planner is running (its progress text may already have moved on: wait on the work itself)
    qtbot.waitUntil(lambda: task.future.running() or task.future.done(), timeout=10_000)
    assert not task.future.done(), "the plan finished before it could be cancelled: plan a bigger hull"
    panel.cancel_button.click()
    assert not panel.busy and "cannot stop mid-way" in panel.status.text()
    assert panel.plan_button.isEnabled() and not panel.cancel_button.isEnabled()
    qtbot.waitUntil(task.future.done, timeout=PLAN_TIMEOUT_MS)  # the planner ran on in the background
    qtbot.wait(300)  # let its queued signals arrive
    assert shown == [] and panel.result is None and panel.results.legs_table.rowCount() == 0
    assert "cannot stop mid-way" in panel.status.text()


@pytest.mark.parametrize("kind, name", [("hullplan", "wb.hullplan.json"), ("qgc", "wb.plan"), ("wpl", "wb.waypoints")])
def test_export_writes_files_the_readers_load(qtbot, tmp_path, planned, kind, name):
    from mission_plans.plan_file import load_plan
    from mission_plans.qgc_plan import load_qgc_plan
    from mission_plans.wpl import load_wpl

    result, warnings = planned
    panel = _panel(qtbot)
    panel.set_plan_result(result, warnings)
    plan = result.plan
    if kind != "hullplan":  # mission items need the ship's position: without one, a clear message
        panel.export_to(tmp_path / name, kind)
        qtbot.waitUntil(lambda: not panel.busy, timeout=30_000)
        assert "ship's position is unknown" in panel.status.text() and not (tmp_path / name).exists()
        panel.set_plan_result(dataclasses.replace(result, plan=session.plan_with_origin(plan, _Origin(*ORIGIN))))
    panel.export_to(tmp_path / name, kind)
    qtbot.waitUntil(lambda: not panel.busy, timeout=30_000)
    assert panel.last_export == (tmp_path / name,), panel.status.text()
    if kind == "hullplan":
        back = load_plan(tmp_path / name)
        assert back == plan
        return
    expected = session.mission_parts(panel.result.plan)[0]
    items = load_qgc_plan(tmp_path / name).items if kind == "qgc" else load_wpl(tmp_path / name)
    assert len(items) == len(expected)
    for a, b in zip(items[1:], expected[1:]):
        assert (a.command, a.x, a.y) == (b.command, b.x, b.y) and a.z == pytest.approx(b.z, abs=1e-3)


class _Origin:
    def __init__(self, lat_deg, lon_deg):
        self.lat_deg, self.lon_deg = lat_deg, lon_deg


@pytest.mark.timeout(120)
def test_upload_to_a_simulated_ardusub(qtbot, planned):
    from tests.vehicle.sim_fixtures import sim_and_station

    result, warnings = planned
    with sim_and_station() as (sim, vehicle):
        panel = _panel(qtbot)
        panel.set_plan_result(result, warnings)
        assert not panel.upload_button.isEnabled()
        panel.set_vehicle(vehicle)
        assert panel.upload_button.isEnabled()
        vehicle.set_ekf_origin(*ORIGIN)  # the plan has no ship position: it comes from the EKF origin
        progress = []
        panel.progress.valueChanged.connect(progress.append)
        panel.upload_button.click()
        qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
        expected = session.mission_parts(result.plan, vehicle.state.ekf_origin)[0]
        assert panel.last_upload is not None, panel.status.text()
        assert panel.last_upload.items == len(expected)
        assert f"confirmed {len(expected)} mission items" in panel.status.text()
        assert any(0 < v < panel.progress.maximum() for v in progress)
        stored = vehicle.mission.download()
        assert len(stored) == len(expected)
        for a, b in zip(stored[1:], expected[1:]):
            assert (a.command, a.x, a.y) == (b.command, b.x, b.y)
        panel.set_vehicle(None)
        assert not panel.upload_button.isEnabled()


def test_niche_editor_refuses_a_negative_box(qtbot):
    editor = QtNicheEditor()
    qtbot.addWidget(editor)
    areas = session.build_parametric(session.parametric_dims(**WORKBOAT)).model.niche_areas
    editor.set_areas(areas)
    changed = []
    editor.areas_changed.connect(changed.append)
    editor.table.item(0, 6).setText("-1")
    assert editor.apply() is None
    text = editor.message.text()
    assert "row 1" in text and "size_m" in text and "positive" in text
    assert colour("alarm").name() in editor.message.styleSheet()
    assert editor.areas() == areas and changed == []
    editor.table.item(0, 6).setText("0.8")
    editor.add_button.click()
    applied = editor.apply()
    assert applied is not None and len(applied) == len(areas) + 1 and changed == [applied]
    assert applied[0].size_m[0] == 0.8 and applied[-1].name == f"niche {len(areas) + 1}"



def test_niche_areas_not_first_plans_lanes_only_but_still_predicts_each_niche(qtbot):
    panel = _panel(qtbot)
    _build_workboat(qtbot, panel)
    panel.form.niche_first.setChecked(False)
    with qtbot.waitSignal(panel.plan_ready, timeout=PLAN_TIMEOUT_MS) as blocker:
        panel.plan_button.click()
    plan = blocker.args[0].plan
    assert all(leg.kind != "niche_pass" for leg in plan.legs)
    names = [name for name, _ in plan.prediction.per_niche_pct]
    assert names == [a.name for a in panel.model.niche_areas]
    assert panel.results.niche_table.rowCount() == len(names)
