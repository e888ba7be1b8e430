"""Lanes over the real surface and coverage predicted by ray casting (box and real DTC hull)."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from hull.mesh import TriangleMesh
from hull.queries import HullQueries
from hull.wetted import wetted_surface
from mission_plans.coverage import SensorModel, SensorPoses, predict_seen
from mission_plans.patterns import bottom_lanes, contour_lane
from mission_plans.surface_samples import sample_surface
from tests.hull.shapes import box_mesh

DTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"
CAMERA = SensorModel.camera(hfov_deg=80, vfov_deg=60, useful_range_m=4.0)


def _sweep(queries, mesh, draft, standoff, seabed_z):
    lo, hi = mesh.bounds()
    _, height = CAMERA.footprint_m(standoff)
    width, _ = CAMERA.footprint_m(standoff)
    tracks = []
    for k, depth in enumerate(np.arange(1.0, draft + 1e-6, 0.7 * height)):
        tracks += contour_lane(queries, draft - depth, standoff, 1.0, (lo[0], hi[0]), hi[1], f"lane {k}")
    tracks += bottom_lanes(queries, standoff, 1.0, 0.7 * width, (lo[0], hi[0]), hi[1], seabed_z, 1.0)
    return tracks


def _poses(tracks):
    return SensorPoses(np.concatenate([t.positions_h for t in tracks]),
                       np.concatenate([t.forward_h for t in tracks]),
                       np.concatenate([t.up_h for t in tracks]))


def test_samples_share_the_area_exactly():
    box = box_mesh(20, 6, 5)
    s = sample_surface(box, 0.25, seed=3)
    assert s.total_area_m2 == pytest.approx(box.area_m2())
    assert len(s) == pytest.approx(box.area_m2() / 0.25, rel=0.1)
    again = sample_surface(box, 0.25, seed=3)
    assert np.array_equal(s.points_h, again.points_h)


def test_box_sweep_covers_everything_at_the_standoff():
    box = box_mesh(60.0, 12.0, 10.0, n=12)
    q = HullQueries(box)
    tracks = _sweep(q, box, draft=6.0, standoff=2.0, seabed_z=-24.0)
    poses = _poses(tracks)
    assert np.all(np.abs(q.signed_distance(poses.positions_h) - 2.0) <= 0.1)
    horizontal = [t for t in tracks if t.kind == "lane_horizontal"]
    assert all(np.ptp(t.positions_h[:, 2]) == 0 for t in horizontal)  # constant depth
    samples = sample_surface(wetted_surface(box, 6.0).mesh)
    seen = predict_seen(samples, poses, CAMERA, q)
    assert samples.area_m2[seen].sum() / samples.total_area_m2 >= 0.99


def test_occlusion_is_respected():
    """A camera looking at the far side of the box through the hull sees nothing."""
    box = box_mesh(10.0, 4.0, 4.0)
    q = HullQueries(box)
    samples = sample_surface(box, 0.05)
    inside_look = SensorPoses(np.array([[5.0, 3.5, 2.0]]), np.array([[0.0, -1.0, 0.0]]), np.array([[0, 0, 1.0]]))
    seen = predict_seen(samples, inside_look, SensorModel.camera(170, 170, 20.0, max_incidence_deg=89), q)
    assert seen.any()
    assert not (samples.points_h[seen][:, 1] < 1.9).any()  # only the near (port) side


def test_shallow_lanes_and_seabed_limit():
    box = box_mesh(30.0, 8.0, 8.0)
    q = HullQueries(box)
    # the seabed 1.5 m under the keel leaves no room for a 2 m standoff plus 1 m clearance
    lanes = bottom_lanes(q, 2.0, 1.0, 2.0, (0, 30), 4.0, seabed_z_h=-1.5, clearance_m=1.0)
    assert lanes == []


@pytest.mark.skipif(not DTC.is_file(), reason="../shared/data is not beside the checkout")
def test_dtc_full_scale_sweep_predicts_near_total_coverage():
    raw = gzip.open(DTC).read()
    v = np.array(re.findall(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", raw), dtype=float) * 59.407
    mesh = TriangleMesh(v, np.arange(len(v)).reshape(-1, 3))
    q = HullQueries(mesh)
    draft = 14.5
    wetted = wetted_surface(mesh, draft)
    # independent value: the DTC benchmark's published wetted surface without rudder, 22,032 m2
    assert wetted.area_m2 == pytest.approx(22032, rel=0.01)
    tracks = _sweep(q, mesh, draft, standoff=2.0, seabed_z=draft - 30.0)
    poses = _poses(tracks)
    assert np.all(np.abs(q.signed_distance(poses.positions_h) - 2.0) <= 0.1)
    samples = sample_surface(wetted.mesh)
    seen = predict_seen(samples, poses, CAMERA, q)
    assert samples.area_m2[seen].sum() / samples.total_area_m2 >= 0.98
