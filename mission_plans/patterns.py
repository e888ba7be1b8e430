"""Sweep patterns over the real hull surface: constant-depth contour lanes around the hull
and lanes under the flat of bottom. Each waypoint sits at the standoff from the nearest
hull point (an offset of the real, curved surface), found by ray casting and refined
with the distance query."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

STANDOFF_ITERATIONS = 3
STANDOFF_TOLERANCE_M = 0.1  # a pose farther from its standoff than this is dropped
MIN_HORIZONTAL_NORMAL = 0.35  # flatter than this, the surface belongs to the bottom pattern


@dataclasses.dataclass(frozen=True, eq=False)
class PoseTrack:
    """Dense sensor poses along one lane, in order."""

    kind: str  # "lane_horizontal" | "lane_bottom" | "niche_pass"
    name: str
    positions_h: np.ndarray  # (K, 3)
    forward_h: np.ndarray  # (K, 3) optical axis (towards the hull)
    up_h: np.ndarray  # (K, 3)
    niche: str | None = None

    def __len__(self) -> int:
        return len(self.positions_h)

    def length_m(self) -> float:
        if len(self) < 2:
            return 0.0
        return float(np.linalg.norm(np.diff(self.positions_h, axis=0), axis=1).sum())


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def settle_at_standoff(queries, points_h: np.ndarray, directions_h: np.ndarray, standoff_m: float) -> np.ndarray:
    """Move each point along its direction until its distance to the hull is the standoff."""
    pts = points_h.copy()
    for _ in range(STANDOFF_ITERATIONS):
        d = queries.distance(pts)
        pts = pts + directions_h * (standoff_m - d)[:, None]
    return pts


def _runs(track: PoseTrack, ok: np.ndarray) -> list[PoseTrack]:
    """The track cut where poses failed a check: a lane never bridges a gap, because the
    straight path across it could pass closer to the hull than the standoff."""
    out = []
    idx = np.nonzero(ok)[0]
    if not len(idx):
        return out
    breaks = np.nonzero(np.diff(idx) > 1)[0]
    for part, run in enumerate(np.split(idx, breaks + 1)):
        if len(run) < 2:
            continue
        name = track.name if not len(breaks) else f"{track.name} part {part + 1}"
        out.append(dataclasses.replace(track, name=name, positions_h=track.positions_h[run],
                                       forward_h=track.forward_h[run], up_h=track.up_h[run]))
    return out


def _runs_by_hops(track: PoseTrack, hop_ok: np.ndarray) -> list[PoseTrack]:
    """The track cut at every unsafe hop between consecutive poses."""
    if len(track) < 2 or hop_ok.all():
        return [track] if len(track) >= 2 else []
    cuts = np.nonzero(~hop_ok)[0] + 1
    out = []
    for part, (a, b) in enumerate(zip(np.r_[0, cuts], np.r_[cuts, len(track)])):
        if b - a >= 2:
            out.append(dataclasses.replace(track, name=f"{track.name} part {part + 1}", positions_h=track.positions_h[a:b],
                                           forward_h=track.forward_h[a:b], up_h=track.up_h[a:b]))
    return out


def keep_at_standoff(queries, track: PoseTrack, standoff_m: float) -> list[PoseTrack]:
    d = queries.signed_distance(track.positions_h)
    return _runs(track, np.abs(d - standoff_m) <= STANDOFF_TOLERANCE_M)


def _stadium(x_lo: float, x_hi: float, radius: float, step_m: float):
    """Guide points on a stadium around the centreline segment, with the inward target of
    each (the nearest centreline point): port side aft to fore, round the bow, starboard
    fore to aft, round the stern."""
    pts, targets = [], []
    n_side = max(2, int(math.ceil((x_hi - x_lo) / step_m)))
    n_cap = max(4, int(math.ceil(math.pi * radius / step_m)))
    for x in np.linspace(x_lo, x_hi, n_side, endpoint=False):
        pts.append((x, radius)); targets.append((x, 0.0))
    for a in np.linspace(math.pi / 2, -math.pi / 2, n_cap, endpoint=False):
        pts.append((x_hi + radius * math.cos(a), radius * math.sin(a))); targets.append((x_hi, 0.0))
    for x in np.linspace(x_hi, x_lo, n_side, endpoint=False):
        pts.append((x, -radius)); targets.append((x, 0.0))
    for a in np.linspace(-math.pi / 2, -3 * math.pi / 2, n_cap, endpoint=False):
        pts.append((x_lo + radius * math.cos(a), radius * math.sin(a))); targets.append((x_lo, 0.0))
    return np.array(pts), np.array(targets)


def contour_lane(queries, z_h: float, standoff_m: float, step_m: float, x_range: tuple[float, float],
                 half_beam_m: float, name: str) -> list[PoseTrack]:
    """The lane at constant height z_h all round the hull, `standoff_m` off the surface
    (split where an overhang or appendage would bring it closer)."""
    x0, x1 = x_range
    inset = min(half_beam_m, 0.25 * (x1 - x0))
    radius = 3.0 * half_beam_m + standoff_m
    guide, target = _stadium(x0 + inset, x1 - inset, radius, step_m)
    origins = np.column_stack([guide, np.full(len(guide), z_h)])
    dirs = _unit(np.column_stack([target - guide, np.zeros(len(guide))]))
    hits = queries.cast_rays(origins, dirs)
    normals = hits.normals_h
    horizontal = _unit(normals * np.array([1.0, 1.0, 0.0]))
    ok = hits.hit & (np.linalg.norm(normals[:, :2], axis=1) >= MIN_HORIZONTAL_NORMAL)
    if ok.sum() < 2:
        return []
    surface = origins[ok] + dirs[ok] * hits.t_m[ok][:, None]
    out = horizontal[ok]
    pts = settle_at_standoff(queries, surface + out * standoff_m, out, standoff_m)
    pts[:, 2] = z_h  # constant depth: depth hold flies it
    up = np.tile([0.0, 0.0, 1.0], (len(pts), 1))
    return keep_at_standoff(queries, PoseTrack("lane_horizontal", name, pts, -out, up), standoff_m)


def bottom_lanes(queries, standoff_m: float, step_m: float, spacing_m: float, x_range: tuple[float, float],
                 half_beam_m: float, seabed_z_h: float, clearance_m: float) -> list[PoseTrack]:
    """Lanes along the ship under the flat of bottom, camera looking up, alternating
    direction so the vehicle snakes across the beam."""
    lanes = []
    ys = np.arange(-half_beam_m + spacing_m / 2, half_beam_m, spacing_m)
    xs = np.arange(x_range[0], x_range[1] + step_m / 2, step_m)
    for i, y in enumerate(ys):
        line_x = xs if i % 2 == 0 else xs[::-1]
        origins = np.column_stack([line_x, np.full(len(line_x), y), np.full(len(line_x), seabed_z_h)])
        dirs = np.tile([0.0, 0.0, 1.0], (len(line_x), 1))
        hits = queries.cast_rays(origins, dirs)
        ok = hits.hit & (hits.normals_h[:, 2] <= -MIN_HORIZONTAL_NORMAL)
        if ok.sum() < 2:
            continue
        surface = origins[ok] + dirs[ok] * hits.t_m[ok][:, None]
        out = _unit(hits.normals_h[ok])
        pts = settle_at_standoff(queries, surface + out * standoff_m, out, standoff_m)
        above_seabed = pts[:, 2] >= seabed_z_h + clearance_m
        if above_seabed.sum() < 2:
            continue
        pts, out = pts[above_seabed], out[above_seabed]
        up = np.tile([1.0 if i % 2 == 0 else -1.0, 0.0, 0.0], (len(pts), 1))
        lanes += keep_at_standoff(queries, PoseTrack("lane_bottom", f"bottom lane {i + 1} (y {y:+.1f} m)",
                                                     pts, -out, up), standoff_m)
    return lanes


def vertical_lanes(queries, standoff_m: float, step_m: float, spacing_m: float, x_range: tuple[float, float],
                   half_beam_m: float, z_top_h: float, z_bottom_h: float) -> list[PoseTrack]:
    """Up-and-down lanes on each side at stations along the ship, alternating direction
    (for sensors that prefer a vertical sweep; depth changes along every lane)."""
    lanes = []
    zs = np.arange(z_top_h, z_bottom_h - 1e-9, -step_m)
    if len(zs) < 2:
        return lanes
    k = 0
    for side, label in ((1.0, "port"), (-1.0, "starboard")):
        xs = np.arange(x_range[0] + spacing_m / 2, x_range[1], spacing_m)
        for x in (xs if side > 0 else xs[::-1]):
            column = zs if k % 2 == 0 else zs[::-1]
            origins = np.column_stack([np.full(len(column), x), np.full(len(column), side * 3 * half_beam_m), column])
            dirs = np.tile([0.0, -side, 0.0], (len(column), 1))
            hits = queries.cast_rays(origins, dirs)
            ok = hits.hit & (np.linalg.norm(hits.normals_h[:, :2], axis=1) >= MIN_HORIZONTAL_NORMAL)
            if ok.sum() < 2:
                continue
            surface = origins[ok] + dirs[ok] * hits.t_m[ok][:, None]
            out = _unit(hits.normals_h[ok] * np.array([1.0, 1.0, 0.0]))
            pts = settle_at_standoff(queries, surface + out * standoff_m, out, standoff_m)
            pts[:, 2] = column[ok]
            up = np.tile([0.0, 0.0, 1.0], (len(pts), 1))
            lanes += keep_at_standoff(queries, PoseTrack("lane_vertical", f"vertical lane {label} x {x:.1f} m",
                                                         pts, -out, up), standoff_m)
            k += 1
    return lanes
