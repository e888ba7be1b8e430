"""Sonar detections onto the hull. A multibeam measures range and bearing but not
elevation: an echo at (range, bearing) came from somewhere on an arc across the vertical
aperture. The hull model resolves it: of a fan of rays over that arc, the one whose hull
hit lies at the measured range is where the echo came from.

Which range: an object on the hull stands proud of the plating, so its whole echo comes
before the hull behind it; the far edge of its echo is where it meets the hull (or its
shadow begins). With the box's range extent known, the far edge is matched to the hull;
without it, the hull is taken to lie DEFAULT_PROUD_M beyond the echo's centre.

Sea chests: the hull model's plating runs across the opening, but sound goes through the
grating into the recess; behind an opening an echo may come from what lies on the recess
floor (taken parallel to the opening, niche depth_m behind it), and is placed on the hull
over the spot it came from.

When several elevations reach the hull near the measured range (looking square at flat
plating, range barely changes with elevation) the echo stays ambiguous; the spread of
those matches is reported as uncertainty instead of a guess presented as a fact.
"""
from __future__ import annotations

import math

import numpy as np

from .located import Located, pose_parts, recessed_niche

ELEVATION_STEP_DEG = 0.1  # fine enough that the fan's own step adds < 1 cm of range at 5 m
DEFAULT_RANGE_TOLERANCE_M = 0.4  # farther than this from every hull hit of the arc, the echo is not from the hull
CONTACT_SIGMA_M = 0.15  # how far the hull contact may lie beyond the far edge of an object's echo
DEFAULT_PROUD_M = 0.15  # without the echo's extent: the hull lies about this far beyond its centre
DEFAULT_BEAM_WIDTH_DEG = 1.0  # Oculus M750d at 750 kHz: ~1 deg angular resolution across the beams
DEFAULT_RANGE_RESOLUTION_M = 0.02
OPENING_MARGIN_M = 0.1  # the plating over a sea chest is curved; its points lie a little off the niche box


def _polar_arrays(polar) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(range_m, bearing_deg, contact_m, size_m (N, 2) or None) per detection. contact_m
    is the range at which the hull is expected: the far edge of the echo when its extent
    is known, else DEFAULT_PROUD_M beyond its centre. size_m: (across the beams, along the
    range) in m, when both extents are known."""
    if hasattr(polar, "range_m"):
        rng_m = np.atleast_1d(np.asarray(polar.range_m, float))
        brg = np.atleast_1d(np.asarray(polar.bearing_deg, float))
        near, extent = getattr(polar, "near_range_m", None), getattr(polar, "range_extent_m", None)
        brg_ext = getattr(polar, "bearing_extent_deg", None)
    else:
        rng_m, brg = (np.atleast_1d(np.asarray(a, float)) for a in polar)
        near = extent = brg_ext = None
    if extent is None:
        return rng_m, brg, rng_m + DEFAULT_PROUD_M, None
    extent = np.atleast_1d(np.asarray(extent, float))
    contact = rng_m + extent / 2.0 if near is None else np.atleast_1d(np.asarray(near, float)) + extent
    size = None if brg_ext is None else np.column_stack([rng_m * np.radians(np.asarray(brg_ext, float)), extent])
    return rng_m, brg, contact, size


def _recess_depths(points_h: np.ndarray, niche_areas) -> np.ndarray:
    """(N,) depth (m) of the recess behind each hull point: a sea chest's depth_m inside
    its opening, 0 elsewhere (and for the centred kinds, whose depth_m is a length)."""
    out = np.zeros(len(points_h))
    for area in niche_areas:
        if not area.centred and area.depth_m > 0:
            inside = area.contains(points_h, margin_m=OPENING_MARGIN_M)
            out = np.where(inside, np.maximum(out, area.depth_m), out)
    return out


def sonar_ray_directions(forward_h, up_h, bearing_deg, elevation_deg) -> np.ndarray:
    """(N, K, 3) unit directions in H for N bearings (deg, + to starboard, the sonar's
    right) by K elevations (deg, + towards up_h), as the sonar's beams fan out."""
    f = np.asarray(forward_h, float)
    u = np.asarray(up_h, float)
    r = np.cross(f, u)
    b = np.radians(np.atleast_1d(np.asarray(bearing_deg, float)))[:, None, None]
    e = np.radians(np.atleast_1d(np.asarray(elevation_deg, float)))[None, :, None]
    return np.cos(e) * (np.cos(b) * f + np.sin(b) * r) + np.sin(e) * u


def locate_sonar_detections(polar, sonar_pose_h, vertical_aperture_deg: float, hull_queries, draft_m: float,
                            niche_areas=(), *, range_resolution_m: float = DEFAULT_RANGE_RESOLUTION_M,
                            beam_width_deg: float = DEFAULT_BEAM_WIDTH_DEG,
                            range_tolerance_m: float = DEFAULT_RANGE_TOLERANCE_M,
                            with_address: bool = True) -> list[Located | None]:
    """Place each sonar detection on the hull; None where no elevation of its arc reaches
    the hull within range_tolerance_m (m) of the echo's expected hull contact range.

    polar: vision.detect.sonar_geometry.SonarDetectionsPolar (range_m of the box centre,
    bearing_deg + to starboard, near_range_m and extents, m and deg) or a (range_m,
    bearing_deg) pair of arrays.
    sonar_pose_h: the sonar head's pose in H at ping time (hull.pose.SensorPose or
    (position_h, forward_h, up_h)), its tilt included. vertical_aperture_deg: the full
    vertical aperture (deg). range_resolution_m, beam_width_deg: the sonar's, for the
    uncertainty. Size (m), when the extents are given: (across the beams, along the range).
    with_address=False skips the address (None) and the sea-chest recess term of the
    uncertainty: the point map needs only positions, and the address query is most of
    the cost per return.
    """
    rng_m, brg_deg, contact_m, sizes = _polar_arrays(polar)
    n = len(rng_m)
    if n == 0:
        return []
    origin, fwd, up = pose_parts(sonar_pose_h)
    half = vertical_aperture_deg / 2.0
    elev = np.linspace(-half, half, max(2, int(round(vertical_aperture_deg / ELEVATION_STEP_DEG)) + 1))
    dirs = sonar_ray_directions(fwd, up, brg_deg, elev)  # (n, k, 3)
    k = len(elev)
    hits = hull_queries.cast_rays(origin, dirs.reshape(-1, 3))
    t = hits.t_m.reshape(n, k)
    dirs = dirs.reshape(n, k, 3)
    points = origin + dirs * np.where(np.isfinite(t), t, 0.0)[..., None]
    normals = hits.normals_h.reshape(n, k, 3)
    # a sonar hears through a sea chest's grating: behind an opening the echo may come from
    # what lies on the recess floor, which the hull model does not have (its plating runs across)
    depth = _recess_depths(points.reshape(-1, 3), niche_areas).reshape(n, k)
    cos_inc = np.maximum(np.abs(np.einsum("nkj,nkj->nk", dirs, normals)), 0.2)
    t_floor = np.where(depth > 0, t + depth / cos_inc, np.inf)
    range_sigma = max(range_resolution_m, 1e-3)
    out: list[Located | None] = []
    for i in range(n):
        miss_plating = np.abs(t[i] - contact_m[i])  # inf where the ray misses the hull
        miss_floor = np.abs(t_floor[i] - contact_m[i])
        miss = np.minimum(miss_plating, miss_floor)
        best_miss = float(miss.min())
        if not best_miss <= range_tolerance_m:
            out.append(None)
            continue
        # the middle of the elevations that match best (to a range cell); when a sea chest's
        # floor matches as well as plating elsewhere, the sea chest: it is where things are
        # hidden, and the spread below still reports the other explanation
        near = miss <= best_miss + range_sigma
        floor = miss_floor < miss_plating
        run = np.flatnonzero(near & floor) if (near & floor).any() else np.flatnonzero(near)
        best = int(run[len(run) // 2])
        # each ray's candidate: its plating hit, or, through an opening, the hull point over
        # the spot at the echo's range
        cand, cand_normals = points[i].copy(), normals[i].copy()
        if floor.any():
            cp = hull_queries.closest_points(origin + dirs[i][floor] * contact_m[i])
            cand[floor], cand_normals[floor] = cp.points_h, cp.normals_h
        pos = cand[best]
        # every elevation about as consistent with the echo as the best one: their spread
        # is how well the hull pins the elevation down (wide when looking square at plating)
        match = miss <= best_miss + max(CONTACT_SIGMA_M, range_sigma)
        spread = float(np.sqrt(np.mean(np.sum((cand[match] - pos) ** 2, axis=1))))
        across = rng_m[i] * math.radians(beam_width_deg) / 2.0
        size = None if sizes is None else (float(sizes[i, 0]), float(sizes[i, 1]))
        address = hull_queries.surface_address(pos, draft_m, niche_areas) if with_address else None
        # at a sea chest the recess is a guess (its walls, what lies where on its floor): the
        # echo may come from anywhere the floor shows through the opening, up to its extent
        recess = 0.0
        area = recessed_niche(address.niche, niche_areas) if address is not None else None
        if area is not None:
            c = float(cos_inc[i, best])
            recess = min(area.depth_m * math.sqrt(1.0 - c * c) / c, 0.5 * math.hypot(*area.size_m))
        unc = math.sqrt(range_sigma ** 2 + across ** 2 + spread ** 2 + best_miss ** 2 + recess ** 2)
        out.append(Located(pos, cand_normals[best], float(np.linalg.norm(pos - origin)), unc, address, size))
    return out


def resolved_elevation_deg(located: Located, sonar_pose_h) -> float:
    """The elevation (deg, + towards the sonar's up) at which the sonar sees a located
    point: what the hull said about the echo's vertical angle."""
    origin, fwd, up = pose_parts(sonar_pose_h)
    d = located.position_h - origin
    return math.degrees(math.asin(float(d @ up) / float(np.linalg.norm(d))))
