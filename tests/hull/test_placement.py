"""hull.placement: H <-> local NED <-> WGS84, headings, quay plane, validation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hull.placement import Placement, PlacementError, radii_of_curvature_m


def make(**kw) -> Placement:
    base = dict(origin_lat_deg=53.5461, origin_lon_deg=9.9665, heading_deg=0.0, draft_m=8.0,
                berth_side="port", quay_gap_m=1.5, water_depth_m=14.0)
    base.update(kw)
    return Placement(**base)


def random_points(n=200, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform([-20, -30, -5], [220, 30, 12], size=(n, 3))


def euler_radius_m(lat_deg: float, azimuth_deg: float) -> float:
    """Radius of curvature of the ellipsoid along an azimuth (Euler): the sphere that fits
    the ellipsoid locally in that direction, so haversine on it is exact to ~1e-9 over 100 m."""
    m, n = radii_of_curvature_m(lat_deg)
    a = math.radians(azimuth_deg)
    return 1.0 / (math.cos(a) ** 2 / m + math.sin(a) ** 2 / n)


def haversine_m(lat1, lon1, lat2, lon2, radius_m):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius_m * math.asin(math.sqrt(h))


# ---- known cases -----------------------------------------------------------------------------
def test_heading_0_bow_north_port_west():
    p = make(heading_deg=0.0)
    ned = p.h_to_ned(np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 8]]))
    np.testing.assert_allclose(ned[0], [0, 0, 8], atol=1e-12)  # keel at H0 is draft deep
    np.testing.assert_allclose(ned[1], [10, 0, 8], atol=1e-12)  # +x north
    np.testing.assert_allclose(ned[2], [0, -10, 8], atol=1e-12)  # +y (port) west
    np.testing.assert_allclose(ned[3], [0, 0, 0], atol=1e-12)  # waterline at the surface


def test_heading_90_bow_east_port_north():
    p = make(heading_deg=90.0, origin_ned_m=(5.0, -3.0))
    ned = p.h_to_ned(np.array([[10, 0, 0], [0, 10, 0]]))
    np.testing.assert_allclose(ned[0], [5, 7, 8], atol=1e-12)
    np.testing.assert_allclose(ned[1], [15, -3, 8], atol=1e-12)


def test_single_point_shape():
    p = make(heading_deg=33.0)
    assert p.h_to_ned([1.0, 2.0, 3.0]).shape == (3,)
    lat, lon, depth = p.h_to_wgs84([0.0, 0.0, 0.0])
    assert lat == pytest.approx(53.5461) and lon == pytest.approx(9.9665) and depth == pytest.approx(8.0)


def test_trim_bow_down_positive():
    p = make(trim_deg=2.0)
    bow = p.h_to_ned([100.0, 0.0, 0.0])
    assert bow[2] == pytest.approx(8.0 + 100.0 * math.sin(math.radians(2.0)))  # bow deeper
    assert bow[0] == pytest.approx(100.0 * math.cos(math.radians(2.0)))
    np.testing.assert_allclose(p.h_to_ned([0.0, 0.0, 0.0]), [0, 0, 8], atol=1e-12)  # pivot at H0
    stern_up = make(trim_deg=-2.0).h_to_ned([100.0, 0.0, 0.0])
    assert stern_up[2] < 8.0


# ---- round trips ------------------------------------------------------------------------------
@pytest.mark.parametrize("heading", [0.0, 37.5, 90.0, 181.0, 359.9])
@pytest.mark.parametrize("trim", [0.0, 1.5])
def test_round_trips(heading, trim):
    p = make(heading_deg=heading, trim_deg=trim, origin_ned_m=(-12.3, 44.0))
    pts = random_points()
    np.testing.assert_allclose(p.ned_to_h(p.h_to_ned(pts)), pts, atol=1e-6)
    ned = p.h_to_ned(pts)
    lat, lon, depth = p.ned_to_wgs84(ned)
    np.testing.assert_allclose(p.wgs84_to_ned(lat, lon, depth), ned, atol=1e-6)
    np.testing.assert_allclose(p.wgs84_to_h(*p.h_to_wgs84(pts)), pts, atol=1e-6)


def test_round_trip_southern_hemisphere_and_antimeridian():
    p = make(origin_lat_deg=-35.36, origin_lon_deg=179.9999, heading_deg=270.0)
    pts = random_points()
    lat, lon, depth = p.h_to_wgs84(pts)
    assert np.all(np.abs(lon) <= 180.0)
    np.testing.assert_allclose(p.wgs84_to_h(lat, lon, depth), pts, atol=1e-6)


# ---- distances -----------------------------------------------------------------------------
@pytest.mark.parametrize("heading", [0.0, 45.0, 90.0, 123.0])
def test_hull_length_preserved(heading):
    p = make(heading_deg=heading, trim_deg=0.0)
    ends = np.array([[0.0, 0.0, 3.0], [100.0, 0.0, 3.0]])
    ned = p.h_to_ned(ends)
    assert np.linalg.norm(ned[1] - ned[0]) == pytest.approx(100.0, abs=1e-9)
    lat, lon, _ = p.ned_to_wgs84(ned)
    d = haversine_m(lat[0], lon[0], lat[1], lon[1], euler_radius_m(p.origin_lat_deg, heading))
    assert d == pytest.approx(100.0, abs=0.01)


def test_wgs84_depth_is_down():
    p = make()
    _, _, depth = p.h_to_wgs84(np.array([[10, 0, 0], [10, 0, 8], [10, 0, 10]]))
    np.testing.assert_allclose(depth, [8, 0, -2], atol=1e-12)


# ---- headings, levels, quay ---------------------------------------------------------------------
def test_heading_h_to_ned():
    p = make(heading_deg=0.0)
    assert p.heading_h_to_ned(0.0) == 0.0  # facing the bow = north
    assert p.heading_h_to_ned(90.0) == 270.0  # facing port = west
    assert p.heading_h_to_ned(-90.0) == 90.0  # facing starboard = east
    q = make(heading_deg=90.0)
    assert q.heading_h_to_ned(90.0) == 0.0  # port = north when the bow is east
    yaws = np.array([0.0, 10.0, 185.0, 359.0])
    np.testing.assert_allclose(q.heading_ned_to_h(q.heading_h_to_ned(yaws)), yaws, atol=1e-9)


def test_heading_matches_point_transform():
    p = make(heading_deg=57.0)
    yaw_h = 120.0
    d_h = np.array([math.cos(math.radians(yaw_h)), math.sin(math.radians(yaw_h)), 0.0])
    d_ned = p.h_to_ned(d_h) - p.h_to_ned([0.0, 0.0, 0.0])
    compass = math.degrees(math.atan2(d_ned[1], d_ned[0])) % 360.0
    assert p.heading_h_to_ned(yaw_h) == pytest.approx(compass)


def test_levels_and_quay_plane():
    p = make(draft_m=8.0, water_depth_m=14.0, quay_gap_m=1.5, berth_side="port")
    assert p.waterline_z_h == 8.0
    assert p.seabed_z_h == -6.0
    point, normal = p.quay_plane_h(half_beam_m=16.0)
    np.testing.assert_allclose(point, [0, 17.5, 0])
    np.testing.assert_allclose(normal, [0, -1, 0])
    point, normal = make(berth_side="starboard").quay_plane_h(16.0)
    np.testing.assert_allclose(point, [0, -17.5, 0])
    np.testing.assert_allclose(normal, [0, 1, 0])
    with pytest.raises(ValueError):
        p.quay_plane_h(0.0)


# ---- dict form and validation -------------------------------------------------------------------
def test_dict_round_trip():
    p = make(origin_ned_m=(1.25, -3.5), trim_deg=0.7, heading_deg=271.3)
    assert Placement.from_dict(p.to_dict()) == p
    unknown = make(origin_lat_deg=None, origin_lon_deg=None)
    assert Placement.from_dict(unknown.to_dict()) == unknown
    assert not unknown.has_geo
    with pytest.raises(PlacementError, match="origin_lat_deg"):
        unknown.h_to_wgs84([0.0, 0.0, 0.0])


@pytest.mark.parametrize("kw, field, text", [
    (dict(heading_deg=360.0), "heading_deg", "outside"),
    (dict(heading_deg=-1.0), "heading_deg", "outside"),
    (dict(draft_m=0.0), "draft_m", "> 0"),
    (dict(water_depth_m=7.0), "water_depth_m", "keel would be below the seabed"),
    (dict(quay_gap_m=-0.1), "quay_gap_m", ">= 0"),
    (dict(origin_lat_deg=91.0), "origin_lat_deg", "outside"),
    (dict(origin_lon_deg=-181.0), "origin_lon_deg", "outside"),
    (dict(origin_lon_deg=None), "origin_lon_deg", "both"),
    (dict(draft_m=float("nan")), "draft_m", "finite"),
    (dict(heading_deg=float("inf")), "heading_deg", "finite"),
    (dict(berth_side="aft"), "berth_side", "port"),
    (dict(trim_deg=60.0), "trim_deg", "plausible"),
    (dict(origin_ned_m=(0.0,)), "origin_ned_m", "north, east"),
    (dict(draft_m="8"), "draft_m", "expected a number"),
])
def test_validation_names_the_field(kw, field, text):
    with pytest.raises(PlacementError) as e:
        make(**kw)
    assert e.value.field.startswith(field)
    assert str(e.value).startswith(field) and text in str(e.value)
    assert isinstance(e.value, ValueError)


def test_from_dict_missing_field():
    d = make().to_dict()
    del d["draft_m"]
    with pytest.raises(PlacementError, match="draft_m: missing"):
        Placement.from_dict(d)
