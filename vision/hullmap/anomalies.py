"""Geometric anomalies: where the mapped surface stands out from the hull model (issue 6,
part 3), a detector that needs no trained model and no camera.

Each map point's signed distance from the hull model (outside positive, m) is its
standoff. Points standing out more than `threshold_m` (default 10 cm, the size scale
hull-search work aims at) are joined into clusters (points closer than `cluster_m`
are one object: a graph of neighbour pairs, its connected components); a cluster of at
least `min_points` map points is a candidate.

What is not an anomaly:
- returns far from the hull (quay wall, seabed, fish in the water column): standoff above
  `max_standoff_m` (1.5 m; a parasitic container is a few decimetres tall) is ignored;
- points inside the model (negative distance: a recessed sea chest, a grating the sound
  went through, where the model's plating runs across the opening) are ignored, never
  candidates: a recess the model lacks is not something added to the hull.

Noise model (multibeam returns placed by vision.hullmap.pointmap with the hull model
resolving elevation; measured on the embedded world's renders, 5 cm voxels, sonar 2-3 m
off a parametric hull's side, 10 deg down): on bare plating the standoff has p5..p95 of
-0.005..+0.013 m, but about 0.1% of voxels are isolated outliers 0.1..0.3 m out (speckle
that won the beam's strongest bin, pass edges where the arc leaves the hull); they lie
alone or in pairs. An object 0.3 m across seen over a pass gives 10..90 voxels above the
threshold, connected at 0.15 m. Hence min_points 6 and cluster_m 0.15 (3 voxels). The
elevation a return is given is ambiguous along the sonar's vertical arc: an object's
returns are pulled towards the sonar's horizontal (up, for a sonar looking down at it),
up to ~0.5 m, and one object seen from two lanes can fall apart into two clusters about
that far apart. So clusters whose centroids lie within fragment_m (0.6 m) are joined
into one candidate; two objects closer than that are reported as one. Positions are good
to a few decimetres, not to the voxel (measured 0.27..0.40 m from the object's centre).
Heights come out within a few cm; volumes low (x0.34..0.79 of the box's, footprint cells
at the 5 cm voxel: the sonar samples the faces it lights and leaves cells empty), so a
volume is an order of magnitude to rank candidates by, not a measurement.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from hull.queries import SurfaceAddress

DEFAULT_THRESHOLD_M = 0.10
MAX_STANDOFF_M = 1.5
MIN_POINTS = 6
CLUSTER_M = 0.15
FRAGMENT_M = 0.6  # clusters whose centroids are this close are fragments of one object (the arc's smear)
HEIGHT_PERCENTILE = 90.0
POSITION_FLOOR_M = 0.15  # 1-sigma of a candidate's position: the vertical smear of the sonar's arc


@dataclasses.dataclass(frozen=True, eq=False)
class AnomalyCandidate:
    """One region standing out of the hull model.

    position_h (3,): centroid of its footprint on the hull (H, m); normal_h (3,): the
    hull's outward normal there; height_m: largest standoff (m), height_p90_m: its 90th
    percentile (m, less sensitive to one stray return); footprint_m: (length, width) of
    the footprint along its two principal axes in the hull's tangent plane (m); area_m2:
    footprint area (occupied cells); volume_m3: sum over footprint cells of cell area x
    the cell's highest standoff; points: map points in it; uncertainty_m: 1-sigma radius
    of position_h (m); address: hull-surface address (its niche, if any).
    """

    position_h: np.ndarray
    normal_h: np.ndarray
    height_m: float
    height_p90_m: float
    footprint_m: tuple[float, float]
    area_m2: float
    volume_m3: float
    points: int
    uncertainty_m: float
    address: SurfaceAddress

    @property
    def niche(self) -> str | None:
        return self.address.niche


def _points_of(point_map_or_points) -> tuple[np.ndarray, float | None]:
    if hasattr(point_map_or_points, "points"):
        return point_map_or_points.points(), float(point_map_or_points.voxel_m)
    return np.asarray(point_map_or_points, float).reshape(-1, 3), None


def cluster_labels(points: np.ndarray, cluster_m: float) -> np.ndarray:
    """(N,) component label of each point, points within cluster_m (m) joined."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(points)
    if n == 0:
        return np.empty(0, np.int64)
    pairs = cKDTree(points).query_pairs(cluster_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _tangent_axes(normal: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """(2, 3) principal axes of the footprint in the plane normal to `normal`."""
    helper = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(normal, helper)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    uv = (footprint - footprint.mean(axis=0)) @ np.stack([u, v]).T
    if len(uv) >= 3:
        _, vecs = np.linalg.eigh(np.cov(uv.T))
        major = vecs[:, 1]
        u, v = major[0] * u + major[1] * v, -major[1] * u + major[0] * v
    return np.stack([u, v])


def _candidate(foot: np.ndarray, normals: np.ndarray, height: np.ndarray, cell_m: float, hull_queries,
               draft_m: float, niche_areas) -> AnomalyCandidate:
    centre = foot.mean(axis=0)
    n = normals.mean(axis=0)
    n /= np.linalg.norm(n)
    axes = _tangent_axes(n, foot)
    uv = (foot - centre) @ axes.T
    extent = uv.max(axis=0) - uv.min(axis=0) + cell_m  # a lone point still covers one cell
    cells = np.floor(uv / cell_m).astype(np.int64)
    _, inv = np.unique(cells, axis=0, return_inverse=True)
    cell_height = np.zeros(inv.max() + 1)
    np.maximum.at(cell_height, inv.reshape(-1), height)
    on_hull = hull_queries.closest_points(centre[None, :]).points_h[0]
    address = hull_queries.surface_address(on_hull, draft_m, niche_areas)
    spread = float(np.sqrt(np.mean(np.sum((foot - centre) ** 2, axis=1)) / len(foot)))
    return AnomalyCandidate(on_hull, n, float(height.max()), float(np.percentile(height, HEIGHT_PERCENTILE)),
                            (float(extent[0]), float(extent[1])), float(len(cell_height) * cell_m ** 2),
                            float(cell_height.sum() * cell_m ** 2), int(len(foot)),
                            float(np.hypot(POSITION_FLOOR_M, spread)), address)


def geometric_anomalies(point_map_or_points, hull_queries, draft_m: float, niche_areas=(), *,
                        threshold_m: float = DEFAULT_THRESHOLD_M, min_points: int = MIN_POINTS,
                        cluster_m: float = CLUSTER_M, fragment_m: float = FRAGMENT_M,
                        max_standoff_m: float = MAX_STANDOFF_M, cell_m: float | None = None) -> list[AnomalyCandidate]:
    """Candidates where the map stands out of the hull model by more than threshold_m
    (m), largest volume first; clusters closer than fragment_m (m, centroids) are one.
    point_map_or_points: a vision.hullmap.PointMap or (N, 3) points in H (m); standoffs
    beyond max_standoff_m (m) are not the hull's. hull_queries: hull.queries.HullQueries of the model. draft_m and
    niche_areas label the addresses. cell_m: footprint cell for areas and volumes (m;
    default the map's voxel, else cluster_m / 3)."""
    pts, voxel_m = _points_of(point_map_or_points)
    cell = float(cell_m or voxel_m or cluster_m / 3.0)
    if not len(pts):
        return []
    standoff = hull_queries.signed_distance(pts)
    proud = (standoff > threshold_m) & (standoff <= max_standoff_m)
    if not proud.any():
        return []
    pts, standoff = pts[proud], standoff[proud]
    closest = hull_queries.closest_points(pts)
    labels = cluster_labels(pts, cluster_m)
    counts = np.bincount(labels)
    centroids = np.stack([np.bincount(labels, weights=pts[:, k]) for k in range(3)], axis=1) / counts[:, None]
    labels = cluster_labels(centroids, fragment_m)[labels]
    sizes = np.bincount(labels)
    out = []
    for label in np.flatnonzero(sizes >= min_points):
        m = labels == label
        out.append(_candidate(closest.points_h[m], closest.normals_h[m], standoff[m], cell, hull_queries, draft_m,
                              niche_areas))
    return sorted(out, key=lambda c: c.volume_m3, reverse=True)


# ---- fusion with the YOLO findings --------------------------------------------------------
GEOMETRY_STRENGTH = 0.6  # a model-free candidate alone: it stands out, but could be fouling or a fender
PAIR_SIGMAS = 3.0
SOURCE_DETECTOR = {"camera": "camera", "sonar": "sonar-YOLO"}


@dataclasses.dataclass(frozen=True, eq=False)
class FusedFinding:
    """One object on the hull by every detector that reported it. detectors: sorted names
    from "geometry", "camera", "sonar-YOLO"; strength: 0..1 (see fuse_with_findings);
    position_h (3,) H, m; candidate / finding: the parts (None when that detector missed)."""

    position_h: np.ndarray
    detectors: tuple[str, ...]
    strength: float
    candidate: AnomalyCandidate | None
    finding: object | None

    @property
    def address(self) -> SurfaceAddress:
        return (self.finding or self.candidate).address


def _noisy_or(probabilities) -> float:
    return float(1.0 - np.prod([1.0 - p for p in probabilities]))


def fuse_with_findings(candidates, findings, max_distance_m: float = 0.5) -> list[FusedFinding]:
    """Pair geometric candidates with located findings (vision.georef.Finding) lying within
    PAIR_SIGMAS (3) combined sigmas of each other (hypot of the two uncertainty_m), never
    farther than max_distance_m (m); nearest pairs first, each item in one pair at most.
    Unpaired items of either kind are kept. Strength rule: each detector is independent
    evidence, the geometry's GEOMETRY_STRENGTH (0.6), a finding's its best_confidence;
    combined by noisy-OR, 1 - prod(1 - p), so two detectors always beat either alone.
    A paired position is the inverse-variance mean of the two. Strongest first."""
    cands, finds = list(candidates), list(findings)
    pairs = []
    for i, c in enumerate(cands):
        for j, f in enumerate(finds):
            d = float(np.linalg.norm(c.position_h - np.asarray(f.position_h)))
            if d <= min(max_distance_m, PAIR_SIGMAS * math.hypot(c.uncertainty_m, f.uncertainty_m)):
                pairs.append((d, i, j))
    used_c, used_f, out = set(), set(), []
    for _, i, j in sorted(pairs):
        if i in used_c or j in used_f:
            continue
        used_c.add(i)
        used_f.add(j)
        c, f = cands[i], finds[j]
        wc, wf = 1.0 / c.uncertainty_m ** 2, 1.0 / max(f.uncertainty_m, 1e-3) ** 2
        pos = (wc * c.position_h + wf * np.asarray(f.position_h)) / (wc + wf)
        out.append(FusedFinding(pos, _detectors(f, geometry=True),
                                _noisy_or([GEOMETRY_STRENGTH, f.best_confidence]), c, f))
    out += [FusedFinding(c.position_h, ("geometry",), GEOMETRY_STRENGTH, c, None)
            for i, c in enumerate(cands) if i not in used_c]
    out += [FusedFinding(np.asarray(f.position_h), _detectors(f), float(f.best_confidence), None, f)
            for j, f in enumerate(finds) if j not in used_f]
    return sorted(out, key=lambda x: x.strength, reverse=True)


def _detectors(finding, geometry: bool = False) -> tuple[str, ...]:
    names = {SOURCE_DETECTOR.get(s, s) for s in finding.sources}
    return tuple(sorted(names | ({"geometry"} if geometry else set())))
