"""Camera detections onto the hull: rays through each box's centre and four points near
its corners from the camera's pose at frame time, their first hits on the hull model, the
box's footprint on the plating from them, the hull-surface address there, and a physical
size from the range.

The hull model has no planted objects in it, so a ray through an object on the hull ends
on the plating behind it: the located point is the object's footprint on the hull, which
is where a diver goes to find it.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..detections import Detections
from .located import Located, pose_parts, recessed_niche

CORNER_SHRINK = 0.10  # corner rays 10 % inside the box: a box's very corner is often background
DEFAULT_MAX_RANGE_M = 20.0  # nothing farther shows in harbour water; a farther hit is not what was seen
BOX_CENTRE_FRACTION = 0.25  # a box's centre wanders by about a quarter of the object's footprint (box jitter)
MIN_COS_INCIDENCE = 0.2  # grazing views stretch a pixel's footprint; cap the stretch at 5x
PROUD_FRACTION = 0.5  # an object's centre stands off the plating by about half its smaller extent
PLANE_LIKE_RELIEF = 0.2  # corner hits within 20 % of their spread off the tangent plane: one surface


@dataclasses.dataclass(frozen=True)
class CameraModel:
    """Pinhole intrinsics in pixels (OpenCV: x right, y down, z forward), for the frame
    size the detector's boxes refer to."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_hfov(cls, width: int, height: int, hfov_deg: float) -> "CameraModel":
        """Square pixels, principal point at the image centre, horizontal field of view in
        degrees (as sim.camera_render.CameraConfig)."""
        fx = width / 2.0 / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(int(width), int(height), fx, fx, width / 2.0, height / 2.0)

    def __post_init__(self):
        if self.width <= 0 or self.height <= 0 or not (self.fx > 0 and self.fy > 0):
            raise ValueError(f"CameraModel: need positive size and focal lengths, got {self.width} x "
                             f"{self.height}, fx {self.fx}, fy {self.fy}")

    def rays_camera(self, u_px: np.ndarray, v_px: np.ndarray) -> np.ndarray:
        """(N, 3) unit directions in the camera frame through pixel coordinates (u, v);
        pixel i spans [i, i + 1), so its centre is at i + 0.5."""
        d = np.stack([(np.asarray(u_px, float) - self.cx) / self.fx, (np.asarray(v_px, float) - self.cy) / self.fy,
                      np.ones(np.shape(u_px))], axis=-1).reshape(-1, 3)
        return d / np.linalg.norm(d, axis=1, keepdims=True)


def camera_to_h(forward_h: np.ndarray, up_h: np.ndarray) -> np.ndarray:
    """R_h_cam (3x3): camera-frame directions (x right, y down, z forward) -> H, for a
    camera looking along forward_h with up_h up (both unit, orthogonal)."""
    right = np.cross(forward_h, up_h)
    return np.column_stack([right, -up_h, forward_h])


def _box_points(xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 5) u and v pixel coordinates: the centre, then the four shrunk corners."""
    x0, y0, x1, y1 = (xyxy[:, k].astype(np.float64) for k in range(4))
    dx, dy = (x1 - x0) * CORNER_SHRINK, (y1 - y0) * CORNER_SHRINK
    u = np.stack([(x0 + x1) / 2, x0 + dx, x1 - dx, x1 - dx, x0 + dx], axis=1)
    v = np.stack([(y0 + y1) / 2, y0 + dy, y0 + dy, y1 - dy, y1 - dy], axis=1)
    return u, v


def locate_camera_detections(det: Detections, pose_h, camera: CameraModel, hull_queries, draft_m: float,
                             niche_areas=(), max_range_m: float = DEFAULT_MAX_RANGE_M) -> list[Located | None]:
    """Place each detection on the hull; None where no ray of its box meets the hull
    within max_range_m (m), e.g. a fish against open water.

    pose_h: the camera's pose in H at frame time (hull.pose.SensorPose or (position_h,
    forward_h, up_h)). hull_queries: hull.queries.HullQueries. draft_m: the draft (m) for
    the depth below the waterline. niche_areas: hull.niche.NicheArea sequence.
    Position: the centroid of the corner hits put back on the surface (free of the
    perspective shift of the box centre), the centre ray's hit where the footprint spans
    a step, the median of the corner hits where the centre ray misses (_footprint_centre).
    Size (m): box width and height in pixels times depth along the optical
    axis over the focal length. Uncertainty (m, 1 sigma): see _uncertainty_m.
    """
    n = len(det)
    if n == 0:
        return []
    origin, fwd, up = pose_parts(pose_h)
    r_h_cam = camera_to_h(fwd, up)
    u, v = _box_points(det.xyxy)
    dirs = camera.rays_camera(u, v) @ r_h_cam.T  # (N * 5, 3)
    hits = hull_queries.cast_rays(origin, dirs, max_range_m=max_range_m)
    t = hits.t_m.reshape(n, 5)
    points = (origin + dirs * np.where(np.isfinite(hits.t_m), hits.t_m, 0.0)[:, None]).reshape(n, 5, 3)
    normals = hits.normals_h.reshape(n, 5, 3)
    out: list[Located | None] = []
    for i in range(n):
        hit = np.isfinite(t[i])
        if not hit.any():
            out.append(None)
            continue
        pos, normal = _footprint_centre(points[i], normals[i], hit, hull_queries)
        d = (pos - origin) / np.linalg.norm(pos - origin)
        rng_m = float(np.linalg.norm(pos - origin))
        depth_m = float((pos - origin) @ fwd)
        x0, y0, x1, y1 = (float(c) for c in det.xyxy[i])
        size = ((x1 - x0) * depth_m / camera.fx, (y1 - y0) * depth_m / camera.fy)
        cut = x0 < 1.0 or y0 < 1.0 or x1 > camera.width - 1.0 or y1 > camera.height - 1.0
        address = hull_queries.surface_address(pos, draft_m, niche_areas)
        recess = recessed_niche(address.niche, niche_areas)
        off_surface_m = (recess.depth_m if recess is not None else 0.0) + PROUD_FRACTION * min(size)
        unc = _uncertainty_m(pos, normal, d, rng_m, points[i, 1:][hit[1:]], cut or not hit.all(), camera,
                             off_surface_m)
        out.append(Located(pos, normal, rng_m, unc, address, size))
    return out


def _footprint_centre(points: np.ndarray, normals: np.ndarray, hit: np.ndarray, hull_queries):
    """(position, normal) on the hull for one box from its five ray hits (centre first).

    Perspective shifts a box's centre towards the near end of an object seen at an angle
    (a 2.5 m torpedo seen 30 deg off square from 2 m: by 0.3 m), while the corner rays
    land around the object's footprint in 3-D; so on a plane-like footprint the centroid
    of the corner hits, put back on the surface, is the position. Where the footprint is
    not plane-like (the box spans a step, the edge of a recess) the centre ray's hit is;
    with the centre ray missing, the median of the corner hits.
    """
    corners = points[1:][hit[1:]]
    if hit[0] and not hit[1:].all():
        return points[0], normals[0]
    if hit[0]:
        rel = corners - points[0]
        footprint = float(np.sqrt(np.mean(np.sum(rel * rel, axis=1))))
        relief = float(np.sqrt(np.mean((rel @ normals[0]) ** 2)))
        if relief > PLANE_LIKE_RELIEF * footprint:
            return points[0], normals[0]
        seed = corners.mean(axis=0)
    else:
        seed = np.median(corners, axis=0)
    cp = hull_queries.closest_points(seed[None, :])
    return cp.points_h[0], cp.normals_h[0]


def _uncertainty_m(pos, normal, ray, range_m: float, corner_hits: np.ndarray, uncertain_centre: bool,
                   camera: CameraModel, off_surface_m: float) -> float:
    """1-sigma error radius (m) of a camera placement, four independent parts:

    * the box centre's wander: BOX_CENTRE_FRACTION of the RMS distance of the corner hits
      from the position (the object's footprint on the hull), all of it when the centre
      is a guess: a ray of the box misses (it hangs over an edge of the hull) or the box
      is cut by the image border (the object runs out of view);
    * relief: the RMS distance of the corner hits from the tangent plane at the position,
      large when the box spans a step, a recess or the turn of the bilge, where a centre
      ray can land on the wrong surface;
    * one pixel's footprint on the surface, stretched by the incidence angle;
    * parallax: the hull model has no objects and no recesses, so the ray goes on to the
      plating behind an object standing proud of it, or stops at the opening in front of
      one deep in a sea chest; off_surface_m (m) either way, seen at incidence i, shifts
      the placement by off_surface_m tan(i).
    """
    if len(corner_hits):
        rel = corner_hits - pos
        footprint = float(np.sqrt(np.mean(np.sum(rel * rel, axis=1))))
        relief = float(np.sqrt(np.mean((rel @ normal) ** 2)))
    else:
        footprint = relief = 0.0
    centre = footprint * (1.0 if uncertain_centre else BOX_CENTRE_FRACTION)
    cos_inc = max(abs(float(ray @ normal)), MIN_COS_INCIDENCE)
    pixel = range_m / camera.fx / cos_inc
    parallax = off_surface_m * math.sqrt(1.0 - cos_inc * cos_inc) / cos_inc
    return math.sqrt(centre * centre + relief * relief + pixel * pixel + parallax * parallax)
