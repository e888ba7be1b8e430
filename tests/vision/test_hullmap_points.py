"""The point map from real renders of the embedded world's multibeam, and the surface built
from measured points, against the true hull. Figures are printed (pytest -s)."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from vision.hullmap.pointmap import PointMap
from vision.hullmap.surface import compare_methods, reconstruct

DRAFT_M = 6.0
STANDOFF_M = 3.0
SONAR_TILT_DOWN_DEG = 10.0
ON_HULL_MEDIAN_M = 0.1
AXIS_ONLY_MEDIAN_M = 0.15  # without the hull model the elevation is unknown (pointmap docstring)


@functools.lru_cache(maxsize=None)
def _ship():
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from hull.placement import Placement
    from sim.sonar_render import MultibeamConfig
    from sim.world import World

    model = HullModel.parametric_hull(HullDimensions(length_m=90.0, beam_m=16.0, draft_m=DRAFT_M, depth_m=9.0,
                                                     block_coefficient=0.7))
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0.0, draft_m=DRAFT_M,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
    cfg = MultibeamConfig(beams=256, range_bins=400, max_range_m=8.0, rays_per_beam=12)
    return model, placement, World(model, placement, []), cfg


@pytest.fixture(scope="module")
def ship():
    return _ship()


def _starboard_pose(ship, x_m: float, depth_m: float = 3.0):
    """The vehicle level, STANDOFF_M off the starboard side at x_m, facing it, its sonar
    tilted down SONAR_TILT_DOWN_DEG (the quay is on the port side)."""
    model, placement, world, _ = ship
    z = DRAFT_M - depth_m
    hit = model.queries.cast_rays(np.array([x_m, -20.0, z]), np.array([0.0, 1.0, 0.0]))
    pos_h = np.array([x_m, -20.0 + hit.t_m[0] - STANDOFF_M, z])
    f_ned = placement.h_to_ned(np.array([0.0, 1.0, 0.0])) - placement.h_to_ned(np.zeros(3))
    yaw = math.atan2(f_ned[1], f_ned[0])
    return world.sensor_pose(placement.h_to_ned(pos_h), (0.0, 0.0, yaw), -SONAR_TILT_DOWN_DEG)


def _ping(ship, pmap, pose, rng, with_hull=True):
    model, _, world, cfg = ship
    frame = world.render_sonar(pose, cfg, rng)
    return pmap.add_sonar_ping(frame.intensities, frame.bearings_deg, frame.range_resolution_m, frame.min_range_m,
                               pose, cfg.vertical_aperture_deg, hull_queries=model.queries if with_hull else None,
                               draft_m=DRAFT_M)


def test_point_map_from_a_sonar_pass_lies_on_the_hull(ship):
    model = ship[0]
    rng = np.random.default_rng(3)
    resolved, axis_only = PointMap(0.05), PointMap(0.05)
    for x in np.arange(36.0, 54.1, 2.0):
        pose = _starboard_pose(ship, float(x))
        _ping(ship, resolved, pose, rng)
        _ping(ship, axis_only, pose, rng, with_hull=False)
    d = model.queries.distance(resolved.points())
    d0 = model.queries.distance(axis_only.points())
    print(f"\npoint map, elevation resolved on the hull: {len(resolved)} voxels, median {np.median(d):.3f} m, "
          f"p95 {np.percentile(d, 95):.3f} m; on the beam axis: {len(axis_only)} voxels, median "
          f"{np.median(d0):.3f} m, p95 {np.percentile(d0, 95):.3f} m")
    assert len(resolved) > 500
    assert np.median(d) < ON_HULL_MEDIAN_M, f"median {np.median(d):.3f} m, p95 {np.percentile(d, 95):.3f} m"
    assert np.median(d0) < AXIS_ONLY_MEDIAN_M
    # on the starboard side of the pass, not scattered over the seabed or the quay
    pts = resolved.points()
    assert (pts[:, 1] < 0).all() and pts[:, 0].min() > 25 and pts[:, 0].max() < 65


def test_voxels_grow_with_covered_area_not_with_repeated_pings(ship):
    """One place pinged again and again: the beams' returns wander over the strip the fan
    lights (speckle, the elevation each return is resolved to), so new voxels keep coming
    for a while, then dry up; a pass along the hull keeps adding them."""
    rng = np.random.default_rng(5)
    pose = _starboard_pose(ship, 45.0)
    same = PointMap(0.05)
    added_same = [_ping(ship, same, pose, rng) for _ in range(40)]
    moving = PointMap(0.05)
    added_moving = [_ping(ship, moving, _starboard_pose(ship, float(x)), rng) for x in np.linspace(25.0, 65.0, 40)]
    print(f"\nnew voxels per ping, one place: first {added_same[0]}, pings 2-10 {sum(added_same[1:10])}, "
          f"11-20 {sum(added_same[10:20])}, 21-40 {sum(added_same[20:])} (total {len(same)}, "
          f"{int(same.counts.sum())} points merged); along 40 m: {len(moving)} voxels, last 20 pings "
          f"{sum(added_moving[20:])}")
    assert int(same.counts.sum()) > 30 * added_same[0]  # every ping was taken in ...
    assert sum(added_same[20:]) < 0.5 * sum(added_same[1:21])  # ... but repeats land in voxels already there
    assert sum(added_moving[20:]) > 3 * sum(added_same[20:])  # new hull, new voxels
    assert len(moving) > 1.5 * len(same)


def test_distance_sensor_and_camera_hits_and_ply_round_trip(ship, tmp_path):
    import open3d as o3d

    model = ship[0]
    q = model.queries
    origins = np.column_stack([np.linspace(20, 70, 200), np.full(200, -12.0), np.full(200, 3.0)])
    dirs = np.tile([0.0, 1.0, -0.2], (200, 1))
    hits = q.cast_rays(origins, dirs)
    pmap = PointMap(0.05)
    pmap.add_range(origins, dirs, hits.t_m)  # the distance sensor
    cam = origins + dirs / np.linalg.norm(dirs, axis=1, keepdims=True) * hits.t_m[:, None]
    pmap.add_points(cam + np.array([0.0, 0.0, 0.01]))  # camera-ray hits, 1 cm off: same voxels mostly
    pmap.add_range(origins[:3], dirs[:3], [np.inf, -1.0, np.nan])  # no echo: nothing added
    assert 200 <= len(pmap) <= 400
    assert np.median(q.distance(pmap.points())) < 0.01
    path = tmp_path / "map.ply"
    pmap.save_ply(path)
    back = PointMap.load_ply(path)
    assert back.voxel_m == pmap.voxel_m and len(back) == len(pmap)
    np.testing.assert_allclose(back.points(), pmap.points(), atol=1e-9)
    np.testing.assert_array_equal(back.counts, pmap.counts)
    cloud = o3d.io.read_point_cloud(str(path))
    assert len(cloud.points) == len(pmap)


def _noisy_patch(model, n=20000, sigma_m=0.02, seed=0):
    """Points on a 12 m stretch of the starboard side and bilge, with Gaussian noise."""
    from hull.surface_samples import sample_surface

    p = sample_surface(model.mesh, 0.002, seed=seed).points_h
    p = p[(p[:, 0] > 40) & (p[:, 0] < 52) & (p[:, 1] < -5) & (p[:, 2] < 4.5)]
    rng = np.random.default_rng(seed)
    p = p[rng.choice(len(p), min(n, len(p)), replace=False)]
    return p + rng.normal(0.0, sigma_m, p.shape)


def test_reconstruction_methods_measured_on_a_noisy_hull_patch(ship):
    model = ship[0]
    figures = compare_methods(_noisy_patch(model), model.queries)
    print("\nreconstruction (vertex to true hull):",
          "; ".join(f"{m}: median {f['median_mm']:.1f} mm, p95 {f['p95_mm']:.1f} mm, {f['seconds']:.2f} s, "
                    f"{f['faces']} faces" for m, f in figures.items()))
    poisson, bpa = figures["poisson"], figures["ball_pivot"]
    assert poisson["median_mm"] < 10 and poisson["p95_mm"] < 30  # the default: within 1 cm, 3 cm at p95
    assert bpa["median_mm"] < 25
    assert poisson["median_mm"] < bpa["median_mm"]  # why it is the default


def test_reconstruct_from_a_ping_pass_oriented_by_sensor_positions(ship):
    model = ship[0]
    rng = np.random.default_rng(11)
    pmap, sensors = PointMap(0.05), []
    for x in np.arange(38.0, 52.1, 1.0):
        pose = _starboard_pose(ship, float(x))
        sensors.append(pose.position_h)
        _ping(ship, pmap, pose, rng)
    mesh = reconstruct(pmap.points(), sensor_positions_h=np.array(sensors))
    d = model.queries.distance(mesh.vertices)
    # faces wound outward: towards the sensors, away from the hull's inside
    to_sensor = np.array(sensors).mean(axis=0) - mesh.face_centers()
    outward = np.einsum("ij,ij->i", mesh.face_normals(), to_sensor) > 0
    print(f"\nsurface from {len(pmap)} voxels: {mesh.n_faces} faces, vertex to hull median {np.median(d):.3f} m, "
          f"p95 {np.percentile(d, 95):.3f} m; faces facing the sensors {outward.mean():.1%}")
    assert mesh.n_faces > 1000
    assert np.median(d) < 0.05
    assert outward.mean() > 0.9


def test_reconstruct_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 4"):
        reconstruct(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="unknown method"):
        reconstruct(np.random.default_rng(0).random((50, 3)), method="marching")


def test_many_small_adds_equal_one_big_add_across_tier_merges():
    """The voxel store's recent tier merges into the main one as the map grows: whatever the
    order and batching of the adds, the voxels, their means and counts are the same."""
    from vision.hullmap.pointmap import RECENT_MIN_VOXELS, PointMap

    rng = np.random.default_rng(5)
    pts = rng.uniform(-20, 20, (6 * RECENT_MIN_VOXELS, 3))
    pts = np.vstack([pts, pts[:5000] + 0.001])  # repeats land in voxels of both tiers
    one = PointMap(voxel_m=0.05)
    assert one.add_points(pts) == len(one)
    many = PointMap(voxel_m=0.05)
    new = sum(many.add_points(chunk) for chunk in np.array_split(rng.permutation(pts), 97))
    assert new == len(many) == len(one)
    a, b = one.points(), many.points()
    order_a, order_b = np.lexsort(a.T), np.lexsort(b.T)
    np.testing.assert_allclose(a[order_a], b[order_b], atol=1e-9)
    np.testing.assert_array_equal(one.counts[order_a], many.counts[order_b])


def test_auto_poisson_depth_keeps_cells_near_the_point_spacing_on_a_long_map():
    """Depth 8 on 40 m of plating makes 16 cm cells from 5 cm points; "auto" picks a deeper
    octree and the surface keeps the detail (more vertices, same tolerance)."""
    from vision.hullmap.surface import reconstruct

    rng = np.random.default_rng(2)
    x, z = np.meshgrid(np.arange(0, 40, 0.05), np.arange(0, 3, 0.05))
    pts = np.column_stack([x.ravel(), 0.02 * np.sin(x.ravel()), z.ravel()]) + rng.normal(0, 0.003, (x.size, 3))
    sensors = np.array([[20.0, -3.0, 1.5]])
    fixed = reconstruct(pts, sensor_positions_h=sensors, poisson_depth=8)
    auto = reconstruct(pts, sensor_positions_h=sensors, poisson_depth="auto")
    assert len(auto.vertices) > 2 * len(fixed.vertices)
    y_err = np.abs(auto.vertices[:, 1] - 0.02 * np.sin(auto.vertices[:, 0]))
    assert np.median(y_err) < 0.01
