import numpy as np
import pytest

from hull.queries import HullQueries

from .shapes import box_mesh


@pytest.fixture(scope="module")
def box():
    return HullQueries(box_mesh(100.0, 20.0, 15.0))


def test_closest_point_normal_and_distance(box):
    cp = box.closest_points(np.array([[50.0, 13.0, 5.0], [50.0, 0.0, -2.0]]))
    assert np.allclose(cp.points_h, [[50, 10, 5], [50, 0, 0]], atol=1e-4)
    assert np.allclose(cp.normals_h, [[0, 1, 0], [0, 0, -1]], atol=1e-6)
    assert np.allclose(cp.distances_m, [3.0, 2.0], atol=1e-4)


def test_signed_distance_and_inside(box):
    pts = np.array([[50.0, 0.0, 5.0], [50.0, 12.0, 5.0], [-1.0, 0, 5]])
    assert np.allclose(box.signed_distance(pts), [-5.0, 2.0, 1.0], atol=1e-4)
    assert box.is_inside(pts).tolist() == [True, False, False]


def test_rays_hit_and_miss_with_range(box):
    hits = box.cast_rays(np.array([[50.0, 30.0, 5.0], [50.0, 30.0, 5.0], [50, 30, 20.0]]),
                         np.array([[0, -1.0, 0], [0, -2.0, 0], [0, -1.0, 0]]), max_range_m=25.0)
    assert hits.t_m[:2] == pytest.approx([20.0, 20.0], abs=1e-4)  # directions are normalised
    assert not hits.hit[2] and hits.face_ids[2] == -1
    assert np.allclose(hits.normals_h[0], [0, 1, 0])
    short = box.cast_rays(np.array([[50.0, 30.0, 5.0]]), np.array([[0, -1.0, 0]]), max_range_m=10.0)
    assert not short.hit[0]


def test_surface_address_in_a_divers_words(box):
    port = box.surface_address([30.0, 12.0, 4.0], draft_m=6.0)
    assert (port.side, round(port.x_from_stern_m, 3), round(port.depth_below_waterline_m, 3)) == ("port", 30.0, 2.0)
    stbd = box.surface_address([70.0, -11.0, 1.0], draft_m=6.0)
    assert stbd.side == "starboard" and stbd.distance_to_hull_m == pytest.approx(1.0, abs=1e-4)
    bottom = box.surface_address([50.0, 2.0, -1.5], draft_m=6.0)
    assert bottom.side == "bottom" and bottom.depth_below_waterline_m == pytest.approx(6.0)
    assert "from the stern" in port.describe()


def test_queries_in_many_slices_answer_every_point_in_order(box):
    """Open3D holds the GIL for a whole call, so big queries go in slices: the answers must
    come back whole and in order, however many slices there are."""
    from hull import queries

    rng = np.random.default_rng(3)
    n = 3 * queries.RAYS_PER_CALL + 17
    pts = rng.uniform([-10, -20, -10], [110, 20, 25], size=(n, 3))
    inside = (pts[:, 0] > 0) & (pts[:, 0] < 100) & (np.abs(pts[:, 1]) < 10) & (pts[:, 2] > 0) & (pts[:, 2] < 15)
    assert np.array_equal(box.is_inside(pts), inside)
    # rays straight down from above the deck: the deck (z 15) is hit only over the box
    hits = box.cast_rays(np.c_[pts[:, :2], np.full(n, 30.0)], np.tile([0.0, 0.0, -1.0], (n, 1)))
    over = (pts[:, 0] > 0) & (pts[:, 0] < 100) & (np.abs(pts[:, 1]) < 10)
    assert np.array_equal(hits.hit, over) and np.allclose(hits.t_m[over], 15.0, atol=1e-4)
    few = pts[: 2 * queries.CLOSEST_POINTS_PER_CALL + 5]
    cp = box.closest_points(few)
    outside = few[~inside[: len(few)]]
    ref = np.array([np.linalg.norm(p - np.clip(p, [0, -10, 0], [100, 10, 15])) for p in outside])
    assert np.allclose(cp.distances_m[~inside[: len(few)]], ref, atol=1e-3)
    assert len(box.closest_points(np.zeros((0, 3))).distances_m) == 0
