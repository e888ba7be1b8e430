"""Predicted coverage: which wetted-surface samples a sensor sees from the planned poses.

Every (pose, sample) pair within range is tested against the sensor's field of view and
incidence limit, then confirmed by casting a ray from the sensor to the sample on the
real hull (occlusion by bilge keels, rudder, the hull's own curvature). Nothing here is
lane arithmetic.
"""
from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .surface_samples import SurfaceSamples

OCCLUSION_TOLERANCE_M = 0.05
POSES_PER_CHUNK = 256


@dataclasses.dataclass(frozen=True)
class SensorModel:
    """What one sensor sees: a rectangular field of view, a useful range and an incidence
    limit (angle between the line of sight and the surface normal)."""

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
        """Width and height of the view on a surface facing the sensor at distance_m."""
        return (2 * distance_m * math.tan(math.radians(self.hfov_deg) / 2),
                2 * distance_m * math.tan(math.radians(self.vfov_deg) / 2))


@dataclasses.dataclass(frozen=True, eq=False)
class SensorPoses:
    """(P, 3) positions and unit view directions (optical axis) with an 'up' hint."""

    positions_h: np.ndarray
    forward_h: np.ndarray
    up_h: np.ndarray

    def __len__(self) -> int:
        return len(self.positions_h)


def predict_seen(samples: SurfaceSamples, poses: SensorPoses, sensor: SensorModel, queries) -> np.ndarray:
    """Boolean mask over the samples: seen by `sensor` from at least one pose."""
    from scipy.spatial import cKDTree

    seen = np.zeros(len(samples), dtype=bool)
    if len(poses) == 0 or len(samples) == 0:
        return seen
    tree = cKDTree(samples.points_h)
    frames = _camera_frames(poses)
    # poses in plan order, a chunk at a time: consecutive poses look at the same hull,
    # so most samples are already seen by the time a later pose is tested
    for start in range(0, len(poses), POSES_PER_CHUNK):
        chunk = slice(start, start + POSES_PER_CHUNK)
        neighbours = tree.query_ball_point(poses.positions_h[chunk], r=sensor.max_range_m, return_sorted=False)
        counts = np.fromiter((len(n) for n in neighbours), dtype=np.int64, count=len(neighbours))
        if not counts.sum():
            continue
        s = np.fromiter(itertools.chain.from_iterable(neighbours), dtype=np.int64, count=int(counts.sum()))
        p = np.repeat(np.arange(start, start + len(neighbours)), counts)
        keep = ~seen[s]
        p, s = p[keep], s[keep]
        ok = _in_view(samples, poses, frames, sensor, p, s)
        p, s = p[ok], s[ok]
        if not len(s):
            continue
        # one ray per sample is enough: the first pose (in plan order) that sees it
        s, first = np.unique(s, return_index=True)
        p = p[first]
        origins = poses.positions_h[p]
        to = samples.points_h[s] - origins
        dist = np.linalg.norm(to, axis=1)
        hits = queries.cast_rays(origins, to / dist[:, None])
        visible = hits.t_m >= dist - OCCLUSION_TOLERANCE_M
        seen[s[visible]] = True
    return seen


def _camera_frames(poses: SensorPoses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f = poses.forward_h / np.linalg.norm(poses.forward_h, axis=1, keepdims=True)
    right = np.cross(f, poses.up_h)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    return f, right, np.cross(right, f)


def _in_view(samples, poses, frames, sensor, p, s) -> np.ndarray:
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
