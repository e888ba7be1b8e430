"""An inspection against an earlier one of the same vessel (issue 6, part 3): register the
earlier map onto the current one, then say what is new and what is gone.

Registration: both maps are in the hull frame H, but each was placed there through its
own mission's placement (draft, berth, heading, navigation), so decimetres and a degree
or so of error separate them. Open3D's point-to-plane ICP with a Tukey kernel (returns
from a new object or a moved fender are outliers, not pull), coarse to fine. A flat
stretch of plating leaves a slide along itself unobserved: the maps need curvature (bilge,
the hull's taper) or fixed features in common. Refused (RegistrationError) when too few
of the earlier points find a partner on the current map to trust the fit.

Coverage rule: a spot counts as covered by a map when that map has a point within
`coverage_m` (0.25 m, five voxels) of it along the hull. A current candidate is new only
where the earlier map covered its footprint centre (else it is `uncovered_before`); an
earlier candidate is gone only where the current map covers it (else `uncovered_now`).
The point-to-point change check keeps a current point only where the earlier map's
nearest point lies within coverage_m of it along the earlier surface; farther from that
surface (along its normal) than threshold_m there is change. So nothing is reported new
or gone merely because one map did not reach there.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .anomalies import DEFAULT_THRESHOLD_M, cluster_labels, geometric_anomalies

ICP_STAGES_M = (1.0, 0.4, 0.15)  # max correspondence distance per stage: a draft change is decimetres
ICP_ITERATIONS = 60
TUKEY_K_M = 0.1  # final Tukey width: residuals beyond are outliers (new, moved objects); half the stage distance before
NORMAL_RADIUS_M = 0.3
MIN_FITNESS = 0.5  # share of earlier points with a partner within the last stage's distance: measured 0.96
# for two passes over the same stretch, 0.00 for the other side, 0.015 for scattered points
MAX_RMSE_M = 0.08  # two sonar maps of one hull: 47-49 mm; residuals spread evenly over 0.15 m: 87 mm
MATCH_M = 0.6  # candidates of the two maps this close (m) are the same object
COVERAGE_M = 0.25
MIN_CHANGE_POINTS = 6


class RegistrationError(ValueError):
    pass


@dataclasses.dataclass(frozen=True, eq=False)
class Registration:
    """transform: (4, 4) maps earlier-map points onto the current map (H, m); fitness:
    share of earlier points with a partner within the final correspondence distance;
    rmse_m: RMS of those partners' distances (m)."""

    transform: np.ndarray
    fitness: float
    rmse_m: float

    def apply(self, points_h) -> np.ndarray:
        p = np.asarray(points_h, float).reshape(-1, 3)
        return p @ self.transform[:3, :3].T + self.transform[:3, 3]


@dataclasses.dataclass(frozen=True, eq=False)
class MapComparison:
    """new: current candidates with no earlier one within MATCH_M where the earlier map
    covered the spot; gone: earlier candidates (registered positions) with no current one
    where the current map covers the spot; unchanged: (earlier, current) pairs;
    uncovered_before / uncovered_now: candidates where the other map has no data.
    changed_points_h: (N, 3) current points farther than the threshold
    from the registered earlier map where both covered; change_clusters_h: (K, 3) their
    clusters' centroids."""

    registration: Registration
    new: list
    gone: list
    unchanged: list
    uncovered_before: list
    uncovered_now: list
    changed_points_h: np.ndarray
    change_clusters_h: np.ndarray


def _points(m) -> np.ndarray:
    return m.points() if hasattr(m, "points") else np.asarray(m, float).reshape(-1, 3)


def _cloud(points, with_normals: bool):
    import open3d as o3d

    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if with_normals:
        pcd.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=NORMAL_RADIUS_M, max_nn=30))
    return pcd


def register_maps(earlier_points, current_points, init=None, *, stages_m=ICP_STAGES_M,
                  min_fitness: float = MIN_FITNESS, max_rmse_m: float = MAX_RMSE_M) -> Registration:
    """The rigid transform taking the earlier map (PointMap or (N, 3), H, m) onto the
    current one; init: (4, 4) first guess (default identity). Raises RegistrationError
    when the overlap is too small (fitness < min_fitness) or the fit loose (RMSE >
    max_rmse_m)."""
    import open3d as o3d

    reg = o3d.pipelines.registration
    src, dst = _points(earlier_points), _points(current_points)
    if len(src) < 10 or len(dst) < 10:
        raise RegistrationError(f"register_maps: too few points ({len(src)} earlier, {len(dst)} current)")
    source, target = _cloud(src, False), _cloud(dst, True)
    transform = np.eye(4) if init is None else np.asarray(init, float)
    for dist in stages_m:
        est = reg.TransformationEstimationPointToPlane(reg.TukeyLoss(k=max(TUKEY_K_M, dist / 2)))
        result = reg.registration_icp(source, target, dist, transform, est,
                                      reg.ICPConvergenceCriteria(max_iteration=ICP_ITERATIONS))
        transform = np.asarray(result.transformation)
    fitness, rmse = float(result.fitness), float(result.inlier_rmse)
    if fitness < min_fitness or rmse > max_rmse_m:
        raise RegistrationError(f"register_maps: the maps overlap too little to trust: {fitness:.0%} of the earlier "
                                f"points within {stages_m[-1]} m of the current map (need {min_fitness:.0%}), "
                                f"RMSE {rmse:.3f} m (limit {max_rmse_m} m)")
    return Registration(transform.copy(), fitness, rmse)


def changed_points(earlier_h: np.ndarray, current_h: np.ndarray, threshold_m: float = DEFAULT_THRESHOLD_M,
                   coverage_m: float = COVERAGE_M) -> np.ndarray:
    """(N, 3) current points (H, m) farther than threshold_m from the earlier map's
    surface (distance along the earlier surface's normal at the nearest earlier point),
    kept only where the earlier map covered the spot: the nearest earlier point lies
    within coverage_m along that surface (tangentially), so an object standing out of
    plating the earlier map saw counts, an area it never saw does not."""
    from scipy.spatial import cKDTree

    if not len(earlier_h) or not len(current_h):
        return np.empty((0, 3))
    normals = np.asarray(_cloud(earlier_h, True).normals)
    _, idx = cKDTree(earlier_h).query(current_h)
    offset = current_h - earlier_h[idx]
    normal_off = np.abs(np.einsum("ij,ij->i", offset, normals[idx]))
    tangential = np.linalg.norm(offset - np.einsum("ij,ij->i", offset, normals[idx])[:, None] * normals[idx], axis=1)
    return current_h[(tangential <= coverage_m) & (normal_off > threshold_m)]


def _covers(points_h: np.ndarray, positions_h: list, coverage_m: float) -> list[bool]:
    from scipy.spatial import cKDTree

    if not len(points_h) or not positions_h:
        return [False] * len(positions_h)
    d, _ = cKDTree(points_h).query(np.array(positions_h).reshape(-1, 3))
    return [bool(x <= coverage_m) for x in d]


def compare_maps(earlier, current, hull_queries, draft_m: float, niche_areas=(), *, init=None,
                 threshold_m: float = DEFAULT_THRESHOLD_M, match_m: float = MATCH_M,
                 coverage_m: float = COVERAGE_M, **anomaly_kw) -> MapComparison:
    """Register `earlier` onto `current` (PointMaps or (N, 3) in H, m), find each map's
    geometric anomalies (vision.hullmap.anomalies) and match them by position within
    match_m (m). Earlier candidates are found on the registered earlier map, so both
    sets are measured against the hull model in the current placement."""
    reg = register_maps(earlier, current, init)
    e_pts = reg.apply(_points(earlier))
    c_pts = _points(current)
    kw = dict(threshold_m=threshold_m, **anomaly_kw)
    before = geometric_anomalies(e_pts, hull_queries, draft_m, niche_areas, **kw)
    now = geometric_anomalies(c_pts, hull_queries, draft_m, niche_areas, **kw)
    new, unchanged, used = [], [], set()
    for c in now:
        d = [float(np.linalg.norm(c.position_h - b.position_h)) for b in before]
        j = int(np.argmin(d)) if d else -1
        if j >= 0 and d[j] <= match_m:
            unchanged.append((before[j], c))
            used.add(j)
        else:
            new.append(c)
    gone = [b for j, b in enumerate(before) if j not in used]
    # a candidate's position is on the hull model; a map's plating points lie within noise of it
    seen_before = _covers(e_pts, [c.position_h for c in new], coverage_m)
    seen_now = _covers(c_pts, [b.position_h for b in gone], coverage_m)
    uncovered_before = [c for c, ok in zip(new, seen_before) if not ok]
    uncovered_now = [b for b, ok in zip(gone, seen_now) if not ok]
    new = [c for c, ok in zip(new, seen_before) if ok]
    gone = [b for b, ok in zip(gone, seen_now) if ok]
    changed = changed_points(e_pts, c_pts, threshold_m, coverage_m)
    labels = cluster_labels(changed, coverage_m)
    sizes = np.bincount(labels) if len(labels) else np.empty(0, int)
    centres = np.array([changed[labels == k].mean(axis=0) for k in np.flatnonzero(sizes >= MIN_CHANGE_POINTS)])
    return MapComparison(reg, new, gone, unchanged, uncovered_before, uncovered_now, changed, centres.reshape(-1, 3))
