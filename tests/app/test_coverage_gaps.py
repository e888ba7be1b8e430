"""Gaps in live coverage and the gap re-plan: gap_regions (vision) on real meshes, and
fill_in_plan (app) turning them into the planner's fill-in, which must cover what the first
pass missed."""
from __future__ import annotations

import numpy as np
import pytest

from app.coverage_gaps import fill_in_plan, region_patches
from hull.model import HullModel
from hull.parametric import HullDimensions
from hull.placement import Placement
from hull.queries import HullQueries
from hull.surface_samples import sample_surface
from hull.visibility import SensorPoses
from mission_plans.plan_model import CameraSensor, SensorSetup, UncoveredPatch
from mission_plans.planner import SweepPlanner, SweepSettings, sensor_models
from tests.hull.shapes import box_mesh
from vision.hullmap.coverage import LiveCoverage
from vision.hullmap.gaps import default_link_m, gap_regions

CAMERA = SensorSetup(camera=CameraSensor(80.0, 60.0, 1920, 1080, 4.0))
LENGTH_M, DRAFT_M = 40.0, 2.5


@pytest.fixture(scope="module")
def first_half():
    """A 40 m parametric hull planned for the camera, and live coverage fed with only the
    first half of the plan's looking legs (niche passes first, then half the lanes)."""
    model = HullModel.parametric_hull(HullDimensions(LENGTH_M, 7.0, DRAFT_M, 4.0, 0.72))
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0.0, draft_m=DRAFT_M,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=10.0)
    planner = SweepPlanner(model.mesh, placement, CAMERA, SweepSettings(standoff_m=2.0),
                           niche_areas=model.niche_areas, queries=model.queries)
    result = planner.plan()
    tracks = [t for t in result.tracks if t.kind != "transit"]
    live = LiveCoverage(result.samples, model.niche_areas, {m.name: m for m in sensor_models(CAMERA)},
                        model.queries)
    half = tracks[:len(tracks) // 2]
    for i, t in enumerate(half):
        live.observe("camera", SensorPoses(t.positions_h, t.forward_h, t.up_h), float(i))
    return model, planner, result, live, half[-1].positions_h[-1]


def test_gap_regions_on_a_box_find_two_holes_with_their_areas_and_addresses():
    box = box_mesh(20.0, 6.0, 5.0, n=16)
    q = HullQueries(box)
    samples = sample_surface(box, 0.05)
    p = samples.points_h
    port = samples.normals_h[:, 1] > 0.9
    hole_a = port & (np.abs(p[:, 0] - 5.0) < 1.0) & (np.abs(p[:, 2] - 2.5) < 1.0)  # 2 x 2 m
    hole_b = port & (np.abs(p[:, 0] - 14.0) < 2.0) & (np.abs(p[:, 2] - 2.5) < 1.5)  # 4 x 3 m
    speck = port & (np.abs(p[:, 0] - 10.0) < 0.2) & (np.abs(p[:, 2] - 1.0) < 0.2)  # noise, 0.16 m2
    regions = gap_regions(samples, ~(hole_a | hole_b | speck), queries=q, draft_m=4.0)
    assert len(regions) == 2  # the speck is under min_area_m2
    assert [r.area_m2 for r in regions] == pytest.approx([12.0, 4.0], rel=0.1)
    big, small = regions
    assert big.address.side == small.address.side == "port"
    assert big.address.x_from_stern_m == pytest.approx(14.0, abs=0.5)
    assert small.address.x_from_stern_m == pytest.approx(5.0, abs=0.5)
    assert small.address.depth_below_waterline_m == pytest.approx(1.5, abs=0.5)
    assert np.allclose(big.extent_min_h[[0, 2]], [12.0, 1.0], atol=0.2)
    assert np.allclose(big.extent_max_h[[0, 2]], [16.0, 4.0], atol=0.2)
    assert default_link_m(samples) == pytest.approx(1.5 * np.sqrt(0.05), rel=0.5)


def test_first_half_leaves_regions_where_the_second_half_looks(first_half):
    model, _, result, live, _ = first_half
    samples, seen = result.samples, live.seen_mask()
    missed = result.seen & ~seen  # what the full plan sees and the first half did not
    regions = gap_regions(samples, seen, queries=model.queries, draft_m=DRAFT_M, niche_areas=model.niche_areas)
    a = samples.area_m2
    in_regions = np.zeros(len(samples), dtype=bool)
    for r in regions:
        in_regions[r.sample_ids] = True
    print(f"\nfirst half: {100 * a[seen].sum() / a.sum():.1f} % seen, missed {a[missed].sum():.0f} m2, "
          f"{len(regions)} regions")
    for r in regions[:5]:
        print(f"  {r.area_m2:7.1f} m2  {r.address.describe()}  niche={r.niche}")
    assert [r.area_m2 for r in regions] == sorted((r.area_m2 for r in regions), reverse=True)
    assert min(r.area_m2 for r in regions) >= 0.5
    assert a[missed & in_regions].sum() >= 0.95 * a[missed].sum()
    assert regions[0].area_m2 >= 0.5 * a[missed].sum()  # the unflown half is mostly one region
    assert sum(r.area_m2 for r in regions) <= a[~seen].sum() + 1e-6
    for r in regions:
        assert r.address.side in ("port", "starboard", "bottom")
        assert -0.5 <= r.address.x_from_stern_m <= LENGTH_M + 3.0
        assert -0.05 <= r.address.depth_below_waterline_m <= DRAFT_M + 0.05
        assert np.all(r.extent_min_h <= r.centroid_h) and np.all(r.centroid_h <= r.extent_max_h)
        assert r.address.distance_to_hull_m < 0.01  # the centroid is a point of the hull


def test_fill_in_plan_covers_what_the_first_pass_missed(first_half):
    model, planner, result, live, here = first_half
    samples, seen = result.samples, live.seen_mask()
    missed = result.seen & ~seen
    regions = gap_regions(samples, seen, queries=model.queries, draft_m=DRAFT_M, niche_areas=model.niche_areas)
    fill = fill_in_plan(planner, regions, start_h=here)
    legs = fill.plan.legs
    assert legs and all(leg.kind in ("fill_in", "transit") for leg in legs)
    a = samples.area_m2
    recovered = float(a[missed & fill.seen].sum() / a[missed].sum())
    before, after = (100 * float(a[m].sum() / a.sum()) for m in (seen, seen | fill.seen))
    print(f"\nfill-in: {sum(leg.kind == 'fill_in' for leg in legs)} stations, recovers "
          f"{100 * recovered:.1f} % of the {a[missed].sum():.0f} m2 missed; coverage {before:.1f} -> {after:.1f} % "
          f"(full plan predicted {result.plan.prediction.overall_pct:.1f} %); {len(fill.warnings)} warnings")
    assert recovered >= 0.85
    assert after >= result.plan.prediction.overall_pct - 5.0
    wps = np.array([wp.position_h for leg in legs for wp in leg.waypoints])
    assert np.all(np.abs(model.queries.signed_distance(wps) - 2.0) <= 0.25)  # stations at the standoff


def test_region_patches_tile_a_large_region_and_name_unreachable_tiles(first_half):
    _, planner, result, _, _ = first_half
    samples = result.samples
    # everything unseen: one region per connected part of the hull
    regions = gap_regions(samples, np.zeros(len(samples), dtype=bool))
    patches = region_patches(regions, 1.8, planner.limits, planner.settings.standoff_m)
    assert all(isinstance(p, UncoveredPatch) for p in patches)
    assert sum(p.area_m2 for p in patches) == pytest.approx(sum(r.area_m2 for r in regions))
    assert len(patches) >= samples.total_area_m2 / 1.8 ** 2  # a tile is at most ~one view
    reasons = {p.reason for p in patches}
    assert "too shallow" in reasons and "not seen" in reasons  # the band under the waterline is out of reach
    shallow = [p for p in patches if p.reason == "too shallow"]
    assert all(DRAFT_M - p.center_h[2] < 1.0 + 1.2 for p in shallow)
