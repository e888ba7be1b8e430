"""hull.visibility: the one visibility test shared by the planner and the live map, with
its limits checked on a real box mesh and real ray casts."""
from __future__ import annotations

import math

import numpy as np
import pytest

import mission_plans.coverage as plan_coverage
import mission_plans.surface_samples as plan_samples
from hull.mesh import TriangleMesh
from hull.pose import SensorPose
from hull.queries import HullQueries
from hull.surface_samples import SurfaceSamples, sample_surface
from hull.visibility import SensorModel, SensorPoses, sample_tree, visible_pairs
from tests.hull.shapes import box_mesh

CAMERA = SensorModel.camera(hfov_deg=80, vfov_deg=60, useful_range_m=4.0, max_incidence_deg=70.0)


def _port_samples(points):
    """Hand-placed samples on the box's port face (y = 2, normal +y)."""
    pts = np.asarray(points, dtype=float)
    n = np.tile([0.0, 1.0, 0.0], (len(pts), 1))
    return SurfaceSamples(pts, n, np.full(len(pts), 0.25), np.zeros(len(pts), dtype=np.int64))


def _seen(samples, poses, sensor, queries):
    _, s = visible_pairs(samples, sample_tree(samples), SensorPoses.of(poses), sensor, queries)
    mask = np.zeros(len(samples), dtype=bool)
    mask[s] = True
    return mask


def test_the_moved_names_are_the_same_objects_for_old_callers():
    assert plan_coverage.SensorModel is SensorModel and plan_coverage.SensorPoses is SensorPoses
    assert plan_samples.sample_surface is sample_surface and plan_samples.SurfaceSamples is SurfaceSamples


def test_sensor_poses_from_one_or_many_sensor_poses():
    one = SensorPose(np.array([1.0, 2.0, 3.0]), np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    assert len(SensorPoses.of(one)) == 1
    many = SensorPoses.of([one, one, one])
    assert many.positions_h.shape == (3, 3) and np.allclose(many.forward_h[2], [0, -1, 0])
    assert len(SensorPoses.of([])) == 0


def test_range_limit_is_exact_to_a_centimetre():
    box = box_mesh(10.0, 4.0, 4.0)
    q = HullQueries(box)
    samples = _port_samples([[5.0, 2.0, 2.0], [5.0, 2.0, 2.0]])
    inside = SensorPose(np.array([5.0, 2.0 + 3.99, 2.0]), np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    beyond = SensorPose(np.array([5.0, 2.0 + 4.01, 2.0]), np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    assert _seen(samples, inside, CAMERA, q).all()
    assert not _seen(samples, beyond, CAMERA, q).any()


def test_incidence_limit_is_exact_to_a_tenth_of_a_degree():
    box = box_mesh(10.0, 4.0, 4.0)
    q = HullQueries(box)
    wide = SensorModel("camera", 170.0, 170.0, 0.2, 20.0, max_incidence_deg=70.0)
    d = 1.0  # sensor 1 m off the face; a sample dx along it is seen at atan(dx / d)
    dx_in, dx_out = d * math.tan(math.radians(69.9)), d * math.tan(math.radians(70.1))
    samples = _port_samples([[5.0 + dx_in, 2.0, 2.0], [5.0 - dx_out, 2.0, 2.0]])
    pose = SensorPose(np.array([5.0, 2.0 + d, 2.0]), np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    assert _seen(samples, pose, wide, q).tolist() == [True, False]


def _box_with_fin() -> TriangleMesh:
    """A 10 x 4 x 4 m box with a 0.2 m thick fin standing 2 m out of its port side at
    mid-length: a concave hull where what hides a sample depends on the pose."""
    box, fin = box_mesh(10.0, 4.0, 4.0), box_mesh(0.2, 2.0, 3.0)
    fin_v = fin.vertices + np.array([4.9, 3.0, 0.5])
    return TriangleMesh(np.concatenate([box.vertices, fin_v]),
                        np.concatenate([box.faces, fin.faces + len(box.vertices)]))


def test_predict_seen_is_exactly_the_union_of_visible_pairs():
    """The planner's shortcut (one ray per sample, retried from the next pose only when
    hidden) must give the same answer as testing every pair, behind the fin included."""
    hull = _box_with_fin()
    q = HullQueries(hull)
    samples = sample_surface(hull, 0.05)
    rng = np.random.default_rng(1)
    # poses all round the box, some looking past an edge at faces it hides
    pos = rng.uniform([-3, -5, -3], [13, 5, 7], size=(300, 3))
    pos = pos[q.signed_distance(pos) > 0.3]
    fwd = np.array([5.0, 0.0, 2.0]) - pos + rng.normal(0, 2.0, size=pos.shape)
    poses = SensorPoses(pos, fwd, np.tile([0.0, 0.0, 1.0], (len(pos), 1)) + rng.normal(0, 0.1, size=pos.shape))
    wide = SensorModel.camera(100, 80, 6.0, max_incidence_deg=80)
    predicted = plan_coverage.predict_seen(samples, poses, wide, q)
    exact = _seen(samples, poses, wide, q)
    assert exact.sum() > 0.2 * len(samples)
    assert np.array_equal(predicted, exact)
