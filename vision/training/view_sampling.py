"""Where the vehicle is, and how it holds its sensor, for one synthetic view.

A view looks at a target point on (or near) the hull from a random standoff and angle:
the sensor sits at ``target + standoff * v`` where v leaves the surface at an incidence
angle from its normal (sometimes grazing, as along a hull side) and a random azimuth. The
sensor position must be in the water (below the waterline, above the seabed), clear of the
hull, and see the target without the hull in between; candidates are drawn in batches and
the first that passes is taken, so a view is a pure function of its random generator.

The pose is then expressed as the vehicle would fly it (World.sensor_pose): yaw towards
the aim point, the camera's tilt (CamTilt, +-45 deg) taking what it can of the elevation
and the vehicle's pitch the rest, a little roll; the sonar is fixed at its mount's
downward tilt, so pitch alone brings the target into its 20 deg vertical aperture.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

CAM_TILT_LIMIT_DEG = 45.0  # BlueROV2 camera mount
MAX_PITCH_DEG = 80.0
WATER_MARGIN_M = 0.3  # keep the sensor this far below the surface and above the seabed
HULL_CLEARANCE_M = 0.25
CANDIDATES = 24


@dataclasses.dataclass(frozen=True)
class ViewGeometry:
    position_h: np.ndarray
    standoff_m: float
    incidence_deg: float  # between the surface normal and the line to the sensor (90 = grazing)
    roll_deg: float
    pitch_deg: float
    yaw_deg: float  # NED heading of the vehicle
    tilt_deg: float  # sensor tilt on the vehicle (camera: CamTilt; sonar: minus its mount tilt)


def _tangents(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    t1 = np.cross(n, a)
    t1 /= np.linalg.norm(t1)
    return t1, np.cross(n, t1)


def place_sensor(queries, placement, target_h, normal_h, standoff_m: tuple[float, float],
                 grazing_fraction: float, rng: np.random.Generator, quay=None):
    """(position_h, standoff_m, incidence_deg) of a sensor that sees target_h, or None.
    quay: (point, normal towards the ship) of the quay wall; the sensor stays on the ship's side."""
    p = np.asarray(target_h, float)
    n = np.asarray(normal_h, float)
    n = n / np.linalg.norm(n)
    t1, t2 = _tangents(n)
    lo, hi = standoff_m
    z_max = placement.waterline_z_h - WATER_MARGIN_M
    z_min = placement.seabed_z_h + WATER_MARGIN_M
    for _ in range(3):
        d = rng.uniform(lo, hi, CANDIDATES)
        grazing = rng.random(CANDIDATES) < grazing_fraction
        theta = np.radians(np.where(grazing, rng.uniform(60.0, 82.0, CANDIDATES), rng.uniform(0.0, 60.0, CANDIDATES)))
        phi = rng.uniform(0.0, 2 * math.pi, CANDIDATES)
        v = (np.cos(theta)[:, None] * n + np.sin(theta)[:, None]
             * (np.cos(phi)[:, None] * t1 + np.sin(phi)[:, None] * t2))
        pos = p + d[:, None] * v
        ok = (pos[:, 2] < z_max) & (pos[:, 2] > z_min)
        if quay is not None:
            ok &= (pos - quay[0]) @ quay[1] > WATER_MARGIN_M
        if ok.any():
            idx = np.flatnonzero(ok)
            clear = queries.signed_distance(pos[idx]) > HULL_CLEARANCE_M
            idx = idx[clear]
        else:
            idx = np.array([], int)
        if len(idx):
            # line of sight to the target: the hull may not be nearer than the target itself
            hits = queries.cast_rays(pos[idx], p - pos[idx])
            seen = hits.t_m >= 0.97 * d[idx]
            idx = idx[seen]
        if len(idx):
            k = int(idx[0])
            return pos[k], float(d[k]), float(np.degrees(theta[k]))
        hi = max(lo, lo + 0.5 * (hi - lo))  # shallow water or a tight spot: come closer
    return None


def aim(position_h, aim_h, placement, rng: np.random.Generator, *, kind: str, sonar_tilt_deg: float = 0.0,
        roll_sigma_deg: float = 3.0) -> ViewGeometry:
    """Vehicle attitude and sensor tilt that point the sensor from position_h at aim_h."""
    pos = np.asarray(position_h, float)
    f_h = np.asarray(aim_h, float) - pos
    f_h /= np.linalg.norm(f_h)
    f_ned = placement.h_to_ned(pos + f_h) - placement.h_to_ned(pos)
    horiz = math.hypot(f_ned[0], f_ned[1])
    elev = math.degrees(math.atan2(-f_ned[2], horiz))
    yaw = math.degrees(math.atan2(f_ned[1], f_ned[0])) if horiz > 1e-6 else float(rng.uniform(-180, 180))
    roll = float(np.clip(rng.normal(0.0, roll_sigma_deg), -10.0, 10.0))
    if kind == "camera":
        tilt = float(np.clip(elev + rng.uniform(-15.0, 15.0), -CAM_TILT_LIMIT_DEG, CAM_TILT_LIMIT_DEG))
        pitch = float(np.clip(elev - tilt, -MAX_PITCH_DEG, MAX_PITCH_DEG))
    else:
        tilt = -float(sonar_tilt_deg)
        pitch = float(np.clip(elev - tilt, -MAX_PITCH_DEG, MAX_PITCH_DEG))
    return ViewGeometry(pos, 0.0, 0.0, roll, pitch, (yaw + 360.0) % 360.0, tilt)


def fan_along_surface(position_h, aim_h, normal_h, rng: np.random.Generator,
                      roll_sigma_deg: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """(forward_h, up_h) of a sonar whose fan lies along the surface it grazes: forward at
    aim_h, the fan's up axis the surface normal's part across the line of sight (turned by a
    little roll). An imaging sonar sweeps a hull this way, its head on a roll/tilt mount laid
    so the surface fills the vertical aperture over a band of ranges: echoes of what stands
    on the surface rise from the surface's own weak grazing return and cast shadows behind.
    A fan held level against a vertical side cuts it in one thin arc instead."""
    pos = np.asarray(position_h, float)
    f = np.asarray(aim_h, float) - pos
    f /= np.linalg.norm(f)
    n = np.asarray(normal_h, float)
    u = n - f * np.dot(n, f)
    if np.linalg.norm(u) < 1e-6:  # looking straight at the surface: any roll does
        u = _tangents(f)[0]
    u /= np.linalg.norm(u)
    a = math.radians(float(np.clip(rng.normal(0.0, roll_sigma_deg), -3 * roll_sigma_deg, 3 * roll_sigma_deg)))
    r = np.cross(f, u)
    return f, math.cos(a) * u + math.sin(a) * r


def offset_aim(position_h, target_h, rng: np.random.Generator, max_offset_rad: tuple[float, float]) -> np.ndarray:
    """An aim point beside the target, so it is not always in the middle of the image: the
    line of sight turned by up to max_offset_rad (horizontal, vertical) about the sensor."""
    pos = np.asarray(position_h, float)
    f = np.asarray(target_h, float) - pos
    dist = np.linalg.norm(f)
    f /= dist
    right = np.cross(f, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    a = math.tan(rng.uniform(-max_offset_rad[0], max_offset_rad[0]))
    b = math.tan(rng.uniform(-max_offset_rad[1], max_offset_rad[1]))
    d = f + a * right + b * up
    return pos + dist * d / np.linalg.norm(d)
