"""Which wetted-surface samples a sensor sees from given poses.

One test, shared by the planner (predicted coverage) and the live map (coverage from the
frames and pings received): a (pose, sample) pair counts when the sample is within the
sensor's range, inside its rectangular field of view and within its incidence limit, and
a ray cast from the sensor on the real hull reaches the sample first (occlusion by bilge
keels, rudder, the hull's own curvature). Nothing here is lane arithmetic.
"""
from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .surface_samples import SurfaceSamples

OCCLUSION_TOLERANCE_M = 0.05  # a hit this close before the sample is the sample's own face


@dataclasses.dataclass(frozen=True)
class SensorModel:
    """What one sensor sees: a rectangular field of view (degrees), a useful range
    (metres) and an incidence limit (degrees between the line of sight and the surface
    normal; a sonar's minimum grazing angle g is an incidence limit of 90 - g)."""

    name: str
    hfov_deg: float
    vfov_deg: float
    min_range_m: float
    max_range_m: float
    max_incidence_deg: float

    @classmethod
    def camera(cls, hfov_deg: float, vfov_deg: float, useful_range_m: float,
               max_incidence_deg: float = 70.0) -> "SensorModel":
        return cls("camera", hfov_deg, vfov_deg, 0.2, useful_range_m, max_incidence_deg)

    @classmethod
    def sonar(cls, swath_deg: float, vertical_aperture_deg: float, min_range_m: float, max_range_m: float,
              min_grazing_deg: float = 10.0) -> "SensorModel":
        return cls("sonar", swath_deg, vertical_aperture_deg, min_range_m, max_range_m, 90.0 - min_grazing_deg)

    def footprint_m(self, distance_m: float) -> tuple[float, float]:
        """Width and height (m) of the view on a surface facing the sensor at distance_m."""
        return (2 * distance_m * math.tan(math.radians(self.hfov_deg) / 2),
                2 * distance_m * math.tan(math.radians(self.vfov_deg) / 2))


@dataclasses.dataclass(frozen=True, eq=False)
class SensorPoses:
    """(P, 3) positions (m, H) and unit view directions (optical axis) with an 'up' hint."""

    positions_h: np.ndarray
    forward_h: np.ndarray
    up_h: np.ndarray

    def __len__(self) -> int:
        return len(self.positions_h)

    @classmethod
    def of(cls, poses) -> "SensorPoses":
        """From a SensorPoses, one hull.pose.SensorPose, or an iterable of them."""
        if isinstance(poses, SensorPoses):
            return poses
        if hasattr(poses, "position_h"):
            poses = (poses,)
        rows = [tuple(np.asarray(a, dtype=np.float64) for a in p) for p in poses]
        if not rows:
            return cls(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3)))
        pos, fwd, up = (np.stack(col) for col in zip(*rows))
        return cls(pos, fwd, up)


def sensor_frames(poses: SensorPoses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pose (forward, right, up), orthonormal: the up hint need not be exact."""
    f = poses.forward_h / np.linalg.norm(poses.forward_h, axis=1, keepdims=True)
    right = np.cross(f, poses.up_h)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    return f, right, np.cross(right, f)


def pairs_in_range(tree, poses: SensorPoses, sensor: SensorModel, first: int = 0,
                   stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pose index, sample index) for every sample within max_range_m of poses[first:stop];
    `tree` is a scipy cKDTree of the samples' points."""
    stop = len(poses) if stop is None else min(stop, len(poses))
    if stop <= first:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    neighbours = tree.query_ball_point(poses.positions_h[first:stop], r=sensor.max_range_m, return_sorted=False)
    counts = np.fromiter((len(n) for n in neighbours), dtype=np.int64, count=len(neighbours))
    s = np.fromiter(itertools.chain.from_iterable(neighbours), dtype=np.int64, count=int(counts.sum()))
    p = np.repeat(np.arange(first, stop), counts)
    return p, s


def in_view(samples: SurfaceSamples, poses: SensorPoses, frames, sensor: SensorModel,
            p: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Per (pose p, sample s) pair: inside the field of view, within [min, max] range and
    facing the sensor within the incidence limit. `frames` is sensor_frames(poses)."""
    d = samples.points_h[s] - poses.positions_h[p]
    f, right, u = (a[p] for a in frames)
    dist = np.sqrt(np.einsum("ij,ij->i", d, d))
    along = np.einsum("ij,ij->i", d, f)
    x = np.einsum("ij,ij->i", d, right)
    y = np.einsum("ij,ij->i", d, u)
    tan_h = math.tan(math.radians(sensor.hfov_deg) / 2)
    tan_v = math.tan(math.radians(sensor.vfov_deg) / 2)
    in_fov = (along > 0) & (np.abs(x) <= along * tan_h) & (np.abs(y) <= along * tan_v)
    in_range = (dist >= sensor.min_range_m) & (dist <= sensor.max_range_m)
    cos_inc = -np.einsum("ij,ij->i", d, samples.normals_h[s]) / np.maximum(dist, 1e-9)
    facing = cos_inc >= math.cos(math.radians(sensor.max_incidence_deg))
    return in_fov & in_range & facing


def unoccluded(samples: SurfaceSamples, poses: SensorPoses, p: np.ndarray, s: np.ndarray, queries) -> np.ndarray:
    """Per pair: the ray from the sensor reaches the sample before any other part of the
    hull (`queries` is a hull.queries.HullQueries on the full hull mesh)."""
    if not len(s):
        return np.zeros(0, dtype=bool)
    origins = poses.positions_h[p]
    to = samples.points_h[s] - origins
    dist = np.linalg.norm(to, axis=1)
    hits = queries.cast_rays(origins, to / np.maximum(dist, 1e-9)[:, None])
    return hits.t_m >= dist - OCCLUSION_TOLERANCE_M


def visible_pairs(samples: SurfaceSamples, tree, poses: SensorPoses, sensor: SensorModel, queries,
                  skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every (pose, sample) pair that passes the whole test, one ray per pair. Samples
    where `skip` (S,) is True are left out before any ray is cast."""
    p, s = pairs_in_range(tree, poses, sensor)
    if skip is not None and len(s):
        keep = ~skip[s]
        p, s = p[keep], s[keep]
    ok = in_view(samples, poses, sensor_frames(poses), sensor, p, s) if len(s) else np.zeros(0, dtype=bool)
    p, s = p[ok], s[ok]
    vis = unoccluded(samples, poses, p, s, queries)
    return p[vis], s[vis]


def sample_tree(samples: SurfaceSamples):
    """A scipy cKDTree of the samples' points (build once per sample set)."""
    from scipy.spatial import cKDTree

    return cKDTree(samples.points_h)


__all__ = ["OCCLUSION_TOLERANCE_M", "SensorModel", "SensorPoses", "in_view", "pairs_in_range", "sample_tree",
           "sensor_frames", "unoccluded", "visible_pairs"]
