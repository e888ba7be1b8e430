"""A surface from the point map, on demand (the hull-map worker; never the GUI thread), for
the 3D view and export.

Normals are estimated from each point's neighbours (PCA) and turned to face out of the
hull: along the hull model's outward normal at the closest point when a HullQueries is
given, else towards the nearest sensor position, else made consistent across the cloud
(orient_normals_consistent_tangent_plane, which cannot tell out from in on its own).

Methods (Open3D): "poisson" (screened Poisson; it closes holes and extrapolates, so
vertices farther than `trim_m` from every input point are cut away) and "ball_pivot"
(BPA: interpolates the points themselves, leaves holes where the sampling is sparse).

Measured on a 12 m x ~5.5 m patch of a parametric hull's starboard side and bilge (90 x
16 x 6 m, Cb 0.7; x 40..52 m, y < -5 m, z < 4.5 m), 20000 points with 2 cm Gaussian noise,
compare_methods() with the hull's normals, 2 CPUs shared with a training job:
    poisson    (depth 8, 1 thread): vertex-to-hull median 5.7 mm, p95 17.6 mm, 1.4-3.9 s, 76k faces
    ball_pivot (radii 1.5/3/6 spacings): median 12.9 mm, p95 38.3 mm, 0.45-0.55 s, 28k faces
Poisson averages the noise away (its vertices lie about half as far from the true hull)
and closes small holes; BPA keeps every noisy point as a vertex and is 3-8x faster. A map
surface is built on demand, not per ping, so accuracy wins: Poisson is the default.
"""
from __future__ import annotations

import time

import numpy as np

from hull.mesh import TriangleMesh

DEFAULT_METHOD = "poisson"
NORMAL_NEIGHBOURS = 30
POISSON_DEPTH = 8  # octree cells of bbox/256: ~5 cm over a 12 m patch, about the voxel size
POISSON_CELL_SPACINGS = 2.0  # "auto" depth: octree cells about two point spacings wide ...
POISSON_MAX_DEPTH = 11  # ... but no finer than bbox/2048 (time and memory grow ~8x per level)
# Open3D's Poisson spins its OpenMP threads: with the CPUs busy (detector, training) two
# threads took 50 s where one took 1.3 s, so one unless told otherwise
POISSON_THREADS = 1
TRIM_SPACINGS = 3.0  # Poisson vertices farther than this many point spacings from the data are extrapolation


def _spacing_m(points: np.ndarray) -> float:
    """Median distance to the nearest neighbour (m)."""
    from scipy.spatial import cKDTree

    d, _ = cKDTree(points).query(points, k=2)
    return float(np.median(d[:, 1]))


def _oriented_cloud(points: np.ndarray, hull_queries, sensor_positions_h):
    import open3d as o3d

    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    pcd.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(NORMAL_NEIGHBOURS))
    normals = np.asarray(pcd.normals)
    if hull_queries is not None:
        outward = hull_queries.closest_points(points).normals_h
    elif sensor_positions_h is not None:
        from scipy.spatial import cKDTree

        sensors = np.atleast_2d(np.asarray(sensor_positions_h, float))
        _, idx = cKDTree(sensors).query(points)
        outward = sensors[idx] - points
    else:
        pcd.orient_normals_consistent_tangent_plane(NORMAL_NEIGHBOURS)
        return pcd
    flip = np.einsum("ij,ij->i", normals, outward) < 0
    normals[flip] *= -1.0
    pcd.normals = o3d.utility.Vector3dVector(normals)
    return pcd


def auto_poisson_depth(points_h, spacing_m: float | None = None) -> int:
    """The Poisson octree depth whose cells are about POISSON_CELL_SPACINGS point spacings
    across the points' largest extent, between POISSON_DEPTH and POISSON_MAX_DEPTH."""
    pts = np.asarray(points_h, dtype=np.float64).reshape(-1, 3)
    spacing = _spacing_m(pts) if spacing_m is None else float(spacing_m)
    extent = float(np.max(pts.max(axis=0) - pts.min(axis=0)))
    cells = extent / max(POISSON_CELL_SPACINGS * spacing, 1e-6)
    return int(np.clip(np.ceil(np.log2(max(cells, 2.0))), POISSON_DEPTH, POISSON_MAX_DEPTH))


def reconstruct(points_h, method: str = DEFAULT_METHOD, *, hull_queries=None, sensor_positions_h=None,
                poisson_depth: int | str = "auto", threads: int = POISSON_THREADS, trim_m: float | None = None) -> TriangleMesh:
    """A triangle mesh (H, m; faces wound outward) through points_h (N, 3). hull_queries
    (hull.queries.HullQueries) or sensor_positions_h (K, 3) orient the normals outward.
    poisson_depth "auto": the octree depth whose cells are about two point spacings across
    the map's extent (a whole hull needs more levels than a patch), at most POISSON_MAX_DEPTH.
    threads: Poisson's threads (-1: all). trim_m: Poisson vertices farther than this from every point are removed (default:
    TRIM_SPACINGS point spacings)."""
    import open3d as o3d

    pts = np.asarray(points_h, dtype=np.float64).reshape(-1, 3)
    if len(pts) < 4:
        raise ValueError(f"reconstruct: need at least 4 points, got {len(pts)}")
    pcd = _oriented_cloud(pts, hull_queries, sensor_positions_h)
    spacing = _spacing_m(pts)
    if method == "poisson":
        if poisson_depth == "auto":
            poisson_depth = auto_poisson_depth(pts, spacing)
        mesh, _ = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(pcd, depth=poisson_depth,
                                                                         n_threads=threads)
        from scipy.spatial import cKDTree

        d, _ = cKDTree(pts).query(np.asarray(mesh.vertices))
        limit = TRIM_SPACINGS * spacing if trim_m is None else trim_m
        mesh.remove_vertices_by_mask(d > limit)
    elif method == "ball_pivot":
        radii = o3d.utility.DoubleVector([spacing * k for k in (1.5, 3.0, 6.0)])
        mesh = o3d.geometry.TriangleMesh.create_from_point_cloud_ball_pivoting(pcd, radii)
    else:
        raise ValueError(f"reconstruct: unknown method {method!r} (poisson, ball_pivot)")
    mesh.remove_unreferenced_vertices()
    mesh.remove_degenerate_triangles()
    return TriangleMesh(np.asarray(mesh.vertices), np.asarray(mesh.triangles))


def compare_methods(points_h, hull_queries, methods=("poisson", "ball_pivot")) -> dict:
    """method -> {"median_mm", "p95_mm" (mesh vertex to the true hull), "seconds",
    "faces"}: the figures in this module's docstring."""
    out = {}
    for method in methods:
        t0 = time.perf_counter()
        mesh = reconstruct(points_h, method, hull_queries=hull_queries)
        dt = time.perf_counter() - t0
        d = hull_queries.distance(mesh.vertices) * 1000.0
        out[method] = {"median_mm": float(np.median(d)), "p95_mm": float(np.percentile(d, 95)),
                       "seconds": dt, "faces": mesh.n_faces}
    return out
