"""Geometric questions about the hull: closest point, rays, distance, inside, and the
hull-surface address a diver can read. Backed by Open3D's RaycastingScene (BVH), built
once per mesh; Open3D is imported only here and only when first needed.
"""
from __future__ import annotations

import dataclasses
import functools
import threading

import numpy as np

from .mesh import TriangleMesh
from .niche import CONTAINS_MARGIN_M

BOTTOM_NORMAL_Z = -0.7  # a surface facing down steeper than ~45 degrees is "bottom"
# Open3D's queries hold the GIL for their whole call, so one big call from a worker thread
# freezes the window; in slices each call stays near 10 ms (measured on an 80k-triangle
# mesh: closest points ~30 us each, rays ~0.4 us each).
CLOSEST_POINTS_PER_CALL = 512
RAYS_PER_CALL = 32_768


@dataclasses.dataclass(frozen=True)
class SurfaceAddress:
    """Where a point is on the hull, in the words a dive team uses."""

    side: str  # "port", "starboard" or "bottom"
    x_from_stern_m: float
    depth_below_waterline_m: float
    niche: str | None
    distance_to_hull_m: float

    def describe(self) -> str:
        where = f"{self.side}, {self.x_from_stern_m:.1f} m from the stern, {self.depth_below_waterline_m:.1f} m deep"
        return where + (f", in {self.niche}" if self.niche else "")


@dataclasses.dataclass(frozen=True, eq=False)
class ClosestPoints:
    points_h: np.ndarray  # (N, 3) on the surface
    normals_h: np.ndarray  # (N, 3) outward face normals
    distances_m: np.ndarray  # (N,)
    face_ids: np.ndarray  # (N,)


@dataclasses.dataclass(frozen=True, eq=False)
class RayHits:
    t_m: np.ndarray  # (N,) distance along each (unit) ray; inf where nothing was hit
    face_ids: np.ndarray  # (N,) -1 where nothing was hit
    normals_h: np.ndarray  # (N, 3) outward normal of the hit face (zeros on a miss)

    @property
    def hit(self) -> np.ndarray:
        return np.isfinite(self.t_m)


def load_open3d() -> None:
    """Import Open3D now. Its native module's set-up holds the GIL (0.3 s measured here,
    longer on a busy machine): a window imports it before it shows, not in a worker later."""
    import open3d  # noqa: F401


def sliced_query(query, items: np.ndarray, per_call: int, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """query(Tensor) -> dict of tensors, called on slices of `items` and joined (numpy)."""
    import open3d as o3d

    parts = [query(o3d.core.Tensor(np.ascontiguousarray(items[i:i + per_call])))
             for i in range(0, max(len(items), 1), per_call)]
    return {k: np.concatenate([p[k].numpy() for p in parts]) for k in keys}


def raycasting_scene(mesh: TriangleMesh):
    """An Open3D RaycastingScene (BVH) of the mesh; Open3D is imported here, on first use."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(mesh.vertices.astype(np.float32)),
                        o3d.core.Tensor(mesh.faces.astype(np.uint32)))
    return scene


class HullQueries:
    """Thread-safe queries on one mesh (the scene is built on first use)."""

    def __init__(self, mesh: TriangleMesh):
        self.mesh = mesh
        self._scene = None
        self._lock = threading.Lock()
        self._normals = mesh.face_normals()

    def _get_scene(self):
        with self._lock:
            if self._scene is None:
                self._scene = raycasting_scene(self.mesh)
            return self._scene

    def closest_points(self, points_h: np.ndarray) -> ClosestPoints:
        pts = np.atleast_2d(np.asarray(points_h, dtype=np.float32))
        ans = sliced_query(self._get_scene().compute_closest_points, pts, CLOSEST_POINTS_PER_CALL,
                      ("points", "primitive_ids"))
        on = ans["points"].astype(np.float64)
        ids = ans["primitive_ids"].astype(np.int64)
        return ClosestPoints(on, self._normals[ids], np.linalg.norm(on - pts, axis=1), ids)

    def distance(self, points_h: np.ndarray) -> np.ndarray:
        """Unsigned distance from each point to the hull surface, metres."""
        return self.closest_points(points_h).distances_m

    @functools.cached_property
    def closed(self) -> bool:
        return self.mesh.is_watertight()

    def signed_distance(self, points_h: np.ndarray) -> np.ndarray:
        """Negative inside the hull. On a closed mesh inside-ness comes from ray parity,
        which is right at sharp edges (a rudder's trailing edge); on an open mesh from the
        outward normal at the closest point, which needs no closure."""
        pts = np.atleast_2d(np.asarray(points_h, dtype=np.float64))
        cp = self.closest_points(pts)
        if self.closed:
            inside = self.is_inside(pts)
        else:
            inside = np.einsum("ij,ij->i", pts - cp.points_h, cp.normals_h) < 0.0
        return np.where(inside, -cp.distances_m, cp.distances_m)

    def is_inside(self, points_h: np.ndarray) -> np.ndarray:
        """For a closed hull: a ray parity test (robust at sharp edges, unlike normals)."""
        pts = np.atleast_2d(np.asarray(points_h, dtype=np.float32))
        occ = sliced_query(lambda t: {"occupancy": self._get_scene().compute_occupancy(t)}, pts, RAYS_PER_CALL,
                      ("occupancy",))
        return occ["occupancy"].astype(bool)

    def cast_rays(self, origins_h: np.ndarray, directions_h: np.ndarray,
                  max_range_m: float = np.inf) -> RayHits:
        o = np.atleast_2d(np.asarray(origins_h, dtype=np.float64))
        d = np.atleast_2d(np.asarray(directions_h, dtype=np.float64))
        d = d / np.linalg.norm(d, axis=1, keepdims=True)
        rays = np.concatenate([np.broadcast_to(o, d.shape), d], axis=1).astype(np.float32)
        ans = sliced_query(self._get_scene().cast_rays, rays, RAYS_PER_CALL, ("t_hit", "primitive_ids"))
        t = ans["t_hit"].astype(np.float64)
        ids = ans["primitive_ids"].astype(np.int64)
        miss = ~np.isfinite(t) | (t > max_range_m) | (ids == np.iinfo(np.uint32).max)
        t = np.where(miss, np.inf, t)
        ids = np.where(miss, -1, ids)
        normals = np.where(miss[:, None], 0.0, self._normals[np.clip(ids, 0, None)])
        return RayHits(t, ids, normals)

    def surface_address(self, point_h, draft_m: float, niche_areas=(), niche_margin_m: float = CONTAINS_MARGIN_M) -> SurfaceAddress:
        """Side, distance from the stern, depth below the waterline and niche area of the
        hull point closest to `point_h`."""
        cp = self.closest_points(np.asarray(point_h, dtype=float)[None, :])
        on, normal = cp.points_h[0], cp.normals_h[0]
        if normal[2] < BOTTOM_NORMAL_Z:
            side = "bottom"
        else:
            side = "port" if on[1] >= 0.0 else "starboard"
        niche = None
        for area in niche_areas:
            if bool(area.contains(on[None, :], margin_m=niche_margin_m)[0]):
                niche = area.name
                break
        stern_x = float(self.mesh.vertices[:, 0].min())
        return SurfaceAddress(side, float(on[0] - stern_x), float(draft_m - on[2]), niche,
                              float(cp.distances_m[0]))
