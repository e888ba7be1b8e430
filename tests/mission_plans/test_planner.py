"""The sweep planner end to end on a box hull with a quay, and on the real DTC hull."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from hull.mesh import TriangleMesh
from hull.placement import Placement
from hull.queries import HullQueries
from mission_plans.plan_model import CameraSensor, SensorSetup
from mission_plans.planner import SweepPlanner, SweepSettings
from tests.hull.shapes import box_mesh

DTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"
CAMERA = SensorSetup(camera=CameraSensor(80.0, 60.0, 1920, 1080, 4.0))


def _placement(**kw):
    base = dict(origin_lat_deg=53.54, origin_lon_deg=9.97, heading_deg=90.0, draft_m=6.0, berth_side="port",
                quay_gap_m=4.0, water_depth_m=12.0)
    base.update(kw)
    return Placement(**base)


def _all_waypoints(plan):
    return np.array([wp.position_h for leg in plan.legs for wp in leg.waypoints])


def test_box_plan_is_safe_and_covers_the_reachable_hull():
    box = box_mesh(60.0, 12.0, 10.0, n=12)
    result = SweepPlanner(box, _placement(), CAMERA, SweepSettings(standoff_m=2.0, min_depth_m=2.5)).plan()
    plan = result.plan
    wps = _all_waypoints(plan)
    q = HullQueries(box)
    d = q.signed_distance(wps)
    assert np.all(np.abs(d - 2.0) <= 0.2)  # at the standoff and outside the hull
    assert np.all(6.0 - wps[:, 2] >= 2.5 - 1e-6)  # never shallower than the minimum depth
    assert np.all(wps[:, 2] >= 6.0 - 12.0 + 1.0)  # keel clearance above the seabed
    assert np.all(wps[:, 1] <= 6.0 + 4.0 - 0.8 + 1e-6)  # clear of the quay wall (port side)
    assert result.reachable_coverage_pct >= 98.0
    assert plan.prediction.overall_pct <= result.reachable_coverage_pct + 1e-9
    shallow = [u for u in plan.prediction.uncovered if u.reason == "too shallow"]
    # the camera at 2.5 m sees ~1.15 m up the hull: the band nearer the surface is out of reach
    assert shallow and all(6.0 - u.center_h[2] < 1.4 for u in shallow)
    assert plan.length_m > 0 and plan.duration_s == pytest.approx(plan.length_m / 0.5)


def test_a_quay_gap_narrower_than_the_vehicle_leaves_the_quay_side_unseen():
    box = box_mesh(40.0, 10.0, 8.0, n=10)
    result = SweepPlanner(box, _placement(quay_gap_m=0.5, draft_m=5.0, water_depth_m=10.0), CAMERA,
                          SweepSettings(standoff_m=1.5)).plan()
    wps = _all_waypoints(result.plan)
    assert np.all(wps[:, 1] < 5.0)  # nothing between the hull and the quay
    quay = [u for u in result.plan.prediction.uncovered if u.reason == "quay gap"]
    assert quay and sum(u.area_m2 for u in quay) > 0.8 * 40 * 4.0  # most of the port side
    assert result.reachable_coverage_pct >= 98.0


def test_lanes_are_ordered_to_limit_transit():
    box = box_mesh(60.0, 12.0, 10.0, n=12)
    result = SweepPlanner(box, _placement(), CAMERA).plan()
    tracks = result.tracks
    gaps = [np.linalg.norm(b.positions_h[0] - a.positions_h[-1]) for a, b in zip(tracks, tracks[1:])]
    lane_lengths = [t.length_m() for t in tracks]
    assert sum(gaps) < 0.25 * sum(lane_lengths)


@pytest.mark.skipif(not DTC.is_file(), reason="../shared/data is not beside the checkout")
def test_dtc_full_scale_plan():
    raw = gzip.open(DTC).read()
    v = np.array(re.findall(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", raw), dtype=float) * 59.407
    v[:, 0] -= v[:, 0].min()
    mesh = TriangleMesh(v, np.arange(len(v)).reshape(-1, 3))
    placement = _placement(draft_m=14.5, water_depth_m=18.0, quay_gap_m=3.0)
    result = SweepPlanner(mesh, placement, CAMERA, SweepSettings(standoff_m=2.0)).plan()
    assert result.reachable_coverage_pct >= 98.0
    wps = _all_waypoints(result.plan)
    d = HullQueries(mesh).signed_distance(wps)
    assert np.all(np.abs(d - 2.0) <= 0.2)


def test_fill_in_plan_closes_the_predicted_gaps():
    box = box_mesh(60.0, 12.0, 10.0, n=12)
    # a coarse first plan (little overlap, big pose step) leaves gaps
    planner = SweepPlanner(box, _placement(), CAMERA, SweepSettings(standoff_m=2.0, overlap=0.0, pose_step_m=4.0))
    first = planner.plan()
    gaps = [u for u in first.plan.prediction.uncovered if u.reason == "occluded"]
    assert gaps, "the coarse plan should leave something to fill"
    fill = planner.fill_in(first.plan.prediction.uncovered)
    assert {leg.kind for leg in fill.plan.legs} <= {"fill_in", "transit"}
    both = first.seen | fill.seen
    a = first.samples.area_m2
    before = a[first.seen & first.reachable].sum() / a[first.reachable].sum()
    after = a[both & first.reachable].sum() / a[first.reachable].sum()
    assert after > before
    wps = _all_waypoints(fill.plan)
    assert np.all(np.abs(HullQueries(box).signed_distance(wps) - 2.0) <= 0.2)


def test_every_straight_hop_of_the_flown_path_keeps_clear_of_the_hull():
    """Niche areas on both sides: going from a port station to a starboard one must go
    round the hull, not through it."""
    from hull.parametric import HullDimensions, parametric_hull

    hull = parametric_hull(HullDimensions(length_m=60.0, beam_m=12.0, draft_m=4.0, depth_m=7.0,
                                          block_coefficient=0.6))
    placement = _placement(draft_m=4.0, water_depth_m=9.0, quay_gap_m=5.0)
    planner = SweepPlanner(hull.mesh, placement, CAMERA, SweepSettings(standoff_m=2.0),
                           niche_areas=hull.niche_areas)
    result = planner.plan()
    assert any(leg.kind == "transit" for leg in result.plan.legs)
    path = _all_waypoints(result.plan)
    q = HullQueries(hull.mesh)
    for a, b in zip(path, path[1:]):
        n = max(2, int(np.linalg.norm(b - a) / 0.25) + 1)
        pts = a + np.linspace(0, 1, n)[:, None] * (b - a)
        assert q.signed_distance(pts).min() >= 0.9, (a, b)


def test_vertical_lanes_cover_the_sides_too():
    box = box_mesh(60.0, 12.0, 10.0, n=12)
    result = SweepPlanner(box, _placement(), CAMERA, SweepSettings(standoff_m=2.0, pattern="vertical")).plan()
    kinds = {leg.kind for leg in result.plan.legs}
    assert "lane_vertical" in kinds and "lane_horizontal" not in kinds
    wps = _all_waypoints(result.plan)
    assert np.all(np.abs(HullQueries(box).signed_distance(wps) - 2.0) <= 0.2)
    # the flat ends of a box face fore and aft: vertical side lanes leave them, the sides are covered
    side = np.abs(result.samples.normals_h[:, 1]) > 0.9
    a = result.samples.area_m2
    assert a[side & result.seen].sum() / a[side & result.reachable].sum() >= 0.98


def test_a_planned_sweep_round_trips_through_its_files(tmp_path):
    from mission_plans.mission_items import plan_to_mission_items, validate_for_ardusub
    from mission_plans.plan_file import load_plan, save_plan
    from mission_plans.qgc_plan import load_qgc_plan, save_qgc_plan

    box = box_mesh(30.0, 8.0, 6.0, n=8)
    plan = SweepPlanner(box, _placement(draft_m=4.0, water_depth_m=8.0), CAMERA).plan().plan
    save_plan(plan, tmp_path / "box.hullplan.json")
    assert load_plan(tmp_path / "box.hullplan.json") == plan  # exactly
    items = plan_to_mission_items(plan)
    assert validate_for_ardusub(items) == []
    save_qgc_plan(tmp_path / "box.plan", items, plan.placement)
    back = load_qgc_plan(tmp_path / "box.plan").items
    assert len(back) == len(items)
    for a, b in zip(items[1:], back[1:]):
        assert a.command == b.command
        assert abs(a.x - b.x) <= 1 and abs(a.y - b.y) <= 1  # degE7
        assert b.z == pytest.approx(a.z, abs=1e-3)


def test_refused_plans_are_caught_before_upload():
    from mission_plans.mission_items import plan_to_mission_items, validate_for_ardusub
    from mission_plans.mission_split import split_mission

    box = box_mesh(60.0, 12.0, 10.0, n=12)
    plan = SweepPlanner(box, _placement(), CAMERA, SweepSettings(pose_step_m=0.5)).plan().plan
    items = plan_to_mission_items(plan)
    assert len(items) > 50
    problems = validate_for_ardusub(items, max_items=50)
    assert any("50" in p for p in problems)
    parts = split_mission(items, 50)
    assert len(parts) >= 2
    assert all(len(p) <= 50 and validate_for_ardusub(p, max_items=50) == [] for p in parts)
    flown = [it for p in parts for it in p[1:] if it.command == 16]
    assert len(flown) >= len([it for it in items[1:] if it.command == 16])  # nothing dropped
    local = plan_to_mission_items(plan, frame="local")
    assert any("frame" in p.lower() for p in validate_for_ardusub(local))


@pytest.mark.skipif(not DTC.is_file(), reason="../shared/data is not beside the checkout")
@pytest.mark.parametrize("name, scale, draft", [("kvlcc2-half-broken.stl", 1.0, 20.8), ("wigley.stl.gz", 100.0, 6.25)])
def test_broken_real_hulls_are_usable_for_planning(name, scale, draft):
    from hull.model import HullModel

    model = HullModel.load(DTC.parent / name, scale=scale)
    placement = _placement(draft_m=draft, water_depth_m=draft + 4.2, quay_gap_m=3.0)
    result = SweepPlanner(model.mesh, placement, CAMERA, SweepSettings(standoff_m=2.0), queries=model.queries).plan()
    assert result.reachable_coverage_pct >= 98.0
    wps = _all_waypoints(result.plan)
    assert np.all(np.abs(model.queries.signed_distance(wps) - 2.0) <= 0.2)
