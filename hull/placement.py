"""Where the ship lies: the hull frame H <-> the vehicle's local NED frame <-> WGS84.

Frames (DESIGN.md "Frames and units"):

* **H** (hull frame): origin H0 at the aft perpendicular on the keel, centreline; x forward,
  y to PORT, z up; metres. The waterline is at z = draft_m.
* **Local NED**: the vehicle's EKF frame (north, east, down; metres). The EKF origin is
  assumed to be at the water surface, so down = 0 at the surface and down = depth.
* **WGS84**: latitude, longitude (degrees) and depth_m (positive down, below the surface).

H -> NED: first trim (a rotation about H's y axis through H0; bow-down positive, so a
point forward of H0 goes deeper), then yaw by the bow heading (compass direction of +x;
0 = north, 90 = east; since y points to port, +y is heading - 90 deg), then H0 is put at
(origin_ned_m[0], origin_ned_m[1], draft_m). draft_m is therefore the draft at the aft
perpendicular; with trim = 0 it is the draft everywhere.

NED <-> WGS84 uses a local tangent plane at H0: the WGS84 radii of curvature at the origin
latitude (meridian M and prime vertical N) turn north/east metres into latitude/longitude
increments. The map is exactly invertible (round trips are exact to float precision); its
error against the true ellipsoid grows as d^2 / R, i.e. under a centimetre within ~250 m
of H0 — plenty for a ship at a quay. Don't use it over kilometres.

Arrays: every point method takes (N, 3) (or a single (3,)) and returns the same shape.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

__all__ = ["Placement", "PlacementError", "WGS84_A_M", "WGS84_F", "radii_of_curvature_m"]

WGS84_A_M = 6378137.0  # semi-major axis
WGS84_F = 1.0 / 298.257223563  # flattening
_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared
MAX_TRIM_DEG = 45.0  # far beyond any real trim; only catches degrees-vs-radians mistakes
BERTH_SIDES = ("port", "starboard")


class PlacementError(ValueError):
    """A placement value is missing or out of range; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def radii_of_curvature_m(lat_deg: float) -> tuple[float, float]:
    """(M, N): WGS84 meridian and prime-vertical radii of curvature at a latitude."""
    s = math.sin(math.radians(lat_deg))
    w2 = 1.0 - _E2 * s * s
    return WGS84_A_M * (1.0 - _E2) / w2 ** 1.5, WGS84_A_M / math.sqrt(w2)


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlacementError(field, f"expected a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise PlacementError(field, f"must be a finite number, got {value!r}")
    return f


def _points(a, what: str) -> tuple[np.ndarray, bool]:
    p = np.asarray(a, dtype=np.float64)
    single = p.ndim == 1
    p2 = p.reshape(1, -1) if single else p
    if p2.ndim != 2 or p2.shape[1] != 3:
        raise ValueError(f"{what} must be (N, 3) or (3,), got shape {p.shape}")
    return p2, single


@dataclasses.dataclass(frozen=True, kw_only=True)
class Placement:
    """The vessel's position and attitude at the berth. Immutable and validated.

    origin_lat_deg / origin_lon_deg: WGS84 of H0, or both None when unknown (then only
    H <-> NED works). origin_ned_m: (north, east) of H0 in the vehicle's local NED frame.
    heading_deg: compass direction of the bow (+x), [0, 360). draft_m: keel depth at H0 (> 0).
    trim_deg: rotation about H's y axis through H0, bow-down positive. berth_side: which
    side of the ship faces the quay. quay_gap_m: horizontal gap between the hull at its
    widest and the quay wall. water_depth_m: surface to seabed at the berth (> draft_m).
    """

    origin_lat_deg: float | None
    origin_lon_deg: float | None
    heading_deg: float
    draft_m: float
    berth_side: str
    quay_gap_m: float
    water_depth_m: float
    origin_ned_m: tuple[float, float] = (0.0, 0.0)
    trim_deg: float = 0.0

    def __post_init__(self):
        lat, lon = self.origin_lat_deg, self.origin_lon_deg
        if (lat is None) != (lon is None):
            raise PlacementError("origin_lat_deg" if lat is None else "origin_lon_deg",
                                 "give both latitude and longitude, or neither")
        if lat is not None:
            lat = _number("origin_lat_deg", lat)
            lon = _number("origin_lon_deg", lon)
            if not -90.0 <= lat <= 90.0:
                raise PlacementError("origin_lat_deg", f"latitude {lat} is outside [-90, 90]")
            if abs(lat) > 89.9:
                raise PlacementError("origin_lat_deg", f"latitude {lat} is too close to a pole for a local plane")
            if not -180.0 <= lon <= 180.0:
                raise PlacementError("origin_lon_deg", f"longitude {lon} is outside [-180, 180]")
        ned = self.origin_ned_m
        if isinstance(ned, (str, bytes)) or not hasattr(ned, "__len__") or len(ned) != 2:
            raise PlacementError("origin_ned_m", f"expected (north, east) in metres, got {ned!r}")
        ned = (_number("origin_ned_m[0]", ned[0]), _number("origin_ned_m[1]", ned[1]))
        heading = _number("heading_deg", self.heading_deg)
        if not 0.0 <= heading < 360.0:
            raise PlacementError("heading_deg", f"heading {heading} is outside [0, 360)")
        draft = _number("draft_m", self.draft_m)
        if draft <= 0.0:
            raise PlacementError("draft_m", f"draft must be > 0, got {draft}")
        trim = _number("trim_deg", self.trim_deg)
        if abs(trim) >= MAX_TRIM_DEG:
            raise PlacementError("trim_deg", f"trim {trim} deg is not plausible (|trim| < {MAX_TRIM_DEG})")
        if self.berth_side not in BERTH_SIDES:
            raise PlacementError("berth_side", f"expected 'port' or 'starboard', got {self.berth_side!r}")
        gap = _number("quay_gap_m", self.quay_gap_m)
        if gap < 0.0:
            raise PlacementError("quay_gap_m", f"gap must be >= 0, got {gap}")
        depth = _number("water_depth_m", self.water_depth_m)
        if depth <= draft:
            raise PlacementError("water_depth_m", f"water depth {depth} m <= draft {draft} m: "
                                 "the keel would be below the seabed")
        for name, value in (("origin_lat_deg", lat), ("origin_lon_deg", lon), ("origin_ned_m", ned),
                            ("heading_deg", heading), ("draft_m", draft), ("trim_deg", trim),
                            ("quay_gap_m", gap), ("water_depth_m", depth)):
            object.__setattr__(self, name, value)

    # ---- derived geometry -------------------------------------------------------------
    @property
    def has_geo(self) -> bool:
        """True when the WGS84 position of H0 is known."""
        return self.origin_lat_deg is not None

    @property
    def waterline_z_h(self) -> float:
        """z of the waterline in H (at H0 when trimmed)."""
        return self.draft_m

    @property
    def seabed_z_h(self) -> float:
        """z of the seabed in H (negative; at H0 when trimmed)."""
        return self.draft_m - self.water_depth_m

    def quay_plane_h(self, half_beam_m: float) -> tuple[np.ndarray, np.ndarray]:
        """(point, unit normal) of the quay wall in H: the plane y = +(half_beam + gap) for a
        port berth, y = -(half_beam + gap) for starboard. The normal points from the wall
        towards the ship. The half beam comes from the hull model (the placement does not
        know the hull); the wall is taken as vertical in H, i.e. trim is ignored here."""
        hb = float(half_beam_m)
        if not math.isfinite(hb) or hb <= 0.0:
            raise ValueError(f"half_beam_m must be a positive number, got {half_beam_m!r}")
        side = 1.0 if self.berth_side == "port" else -1.0
        point = np.array([0.0, side * (hb + self.quay_gap_m), 0.0])
        normal = np.array([0.0, -side, 0.0])
        return point, normal

    # ---- H <-> NED ----------------------------------------------------------------------
    def _rotation_h_to_ned(self) -> np.ndarray:
        """R such that ned = R @ h + t. Columns: the H axes expressed in NED."""
        psi = math.radians(self.heading_deg)
        th = math.radians(self.trim_deg)
        cp, sp, ct, st = math.cos(psi), math.sin(psi), math.cos(th), math.sin(th)
        # trim (level hull frame L): xL = ct*x + st*z, zL = -st*x + ct*z  (bow down positive)
        trim = np.array([[ct, 0.0, st], [0.0, 1.0, 0.0], [-st, 0.0, ct]])
        # L (x fwd, y port, z up) -> NED: x -> (cos psi, sin psi, 0); y (port) -> (sin psi, -cos psi, 0); z -> (0, 0, -1)
        yaw = np.array([[cp, sp, 0.0], [sp, -cp, 0.0], [0.0, 0.0, -1.0]])
        return yaw @ trim

    def _translation_ned(self) -> np.ndarray:
        return np.array([self.origin_ned_m[0], self.origin_ned_m[1], self.draft_m])

    def h_to_ned(self, points_h) -> np.ndarray:
        """Hull-frame points (N, 3) -> local NED (north, east, down) metres."""
        p, single = _points(points_h, "points_h")
        out = p @ self._rotation_h_to_ned().T + self._translation_ned()
        return out[0] if single else out

    def ned_to_h(self, points_ned) -> np.ndarray:
        """Local NED points (N, 3) -> hull frame."""
        p, single = _points(points_ned, "points_ned")
        out = (p - self._translation_ned()) @ self._rotation_h_to_ned()
        return out[0] if single else out

    # ---- NED <-> WGS84 --------------------------------------------------------------------
    def _geo(self) -> tuple[float, float, float, float]:
        if not self.has_geo:
            raise PlacementError("origin_lat_deg", "the WGS84 position of the hull origin is unknown")
        m, n = radii_of_curvature_m(self.origin_lat_deg)
        return self.origin_lat_deg, self.origin_lon_deg, m, n * math.cos(math.radians(self.origin_lat_deg))

    def ned_to_wgs84(self, points_ned) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Local NED (N, 3) -> (lat_deg, lon_deg, depth_m) arrays of shape (N,) (scalars'
        0-d arrays for a single (3,) point)."""
        p, single = _points(points_ned, "points_ned")
        lat0, lon0, m, n_cos = self._geo()
        lat = lat0 + np.degrees((p[:, 0] - self.origin_ned_m[0]) / m)
        lon = lon0 + np.degrees((p[:, 1] - self.origin_ned_m[1]) / n_cos)
        lon = (lon + 180.0) % 360.0 - 180.0
        depth = p[:, 2].copy()
        if single:
            return lat[0], lon[0], depth[0]
        return lat, lon, depth

    def wgs84_to_ned(self, lat_deg, lon_deg, depth_m) -> np.ndarray:
        """(lat, lon, depth) arrays (or scalars) -> local NED (N, 3) (or (3,) for scalars)."""
        lat = np.asarray(lat_deg, dtype=np.float64)
        single = lat.ndim == 0
        lat = np.atleast_1d(lat)
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        depth = np.atleast_1d(np.asarray(depth_m, dtype=np.float64))
        lat0, lon0, m, n_cos = self._geo()
        dlon = (lon - lon0 + 180.0) % 360.0 - 180.0  # across the antimeridian too
        north = self.origin_ned_m[0] + np.radians(lat - lat0) * m
        east = self.origin_ned_m[1] + np.radians(dlon) * n_cos
        out = np.stack(np.broadcast_arrays(north, east, depth), axis=-1)
        return out[0] if single else out

    def h_to_wgs84(self, points_h) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.ned_to_wgs84(self.h_to_ned(points_h))

    def wgs84_to_h(self, lat_deg, lon_deg, depth_m) -> np.ndarray:
        return self.ned_to_h(self.wgs84_to_ned(lat_deg, lon_deg, depth_m))

    # ---- headings -------------------------------------------------------------------------
    def heading_h_to_ned(self, yaw_in_h_deg):
        """A facing direction in H (0 = +x/bow, 90 = +y/port, i.e. counter-clockwise seen
        from above) -> compass heading in [0, 360). Trim is ignored. Scalars or arrays."""
        out = np.mod(self.heading_deg - np.asarray(yaw_in_h_deg, dtype=np.float64), 360.0)
        out = np.where(out >= 360.0, 0.0, out)
        return float(out) if out.ndim == 0 else out

    def heading_ned_to_h(self, heading_deg):
        """Compass heading -> facing direction in H, in [0, 360)."""
        out = np.mod(self.heading_deg - np.asarray(heading_deg, dtype=np.float64), 360.0)
        out = np.where(out >= 360.0, 0.0, out)
        return float(out) if out.ndim == 0 else out

    # ---- dict form (for plan files) -----------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "origin_lat_deg": self.origin_lat_deg,
            "origin_lon_deg": self.origin_lon_deg,
            "origin_ned_m": [self.origin_ned_m[0], self.origin_ned_m[1]],
            "heading_deg": self.heading_deg,
            "draft_m": self.draft_m,
            "trim_deg": self.trim_deg,
            "berth_side": self.berth_side,
            "quay_gap_m": self.quay_gap_m,
            "water_depth_m": self.water_depth_m,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Placement":
        """Inverse of to_dict. Missing or bad fields raise PlacementError naming the field."""
        if not isinstance(d, Mapping):
            raise PlacementError("placement", f"expected an object, got {type(d).__name__}")
        required = ("origin_lat_deg", "origin_lon_deg", "heading_deg", "draft_m", "berth_side",
                    "quay_gap_m", "water_depth_m")
        for key in required:
            if key not in d:
                raise PlacementError(key, "missing")
        kwargs = {k: d[k] for k in required}
        if "origin_ned_m" in d:
            ned = d["origin_ned_m"]
            if not isinstance(ned, (list, tuple)) or len(ned) != 2:
                raise PlacementError("origin_ned_m", f"expected [north, east], got {ned!r}")
            kwargs["origin_ned_m"] = tuple(ned)
        if "trim_deg" in d:
            kwargs["trim_deg"] = d["trim_deg"]
        return cls(**kwargs)
