"""The measured hull as points in the hull frame H: sonar returns, distance-sensor ranges
and camera-ray hits, merged into a voxel grid so the map grows with the area surveyed,
not with the mission's length (the same patch pinged a thousand times is one voxel).

Each voxel keeps a point count and the sum of its points; `points()` gives the means.
Voxels are keyed by their integer coordinates packed into one int64 (21 bits per axis,
so +-2^20 voxels: 52 km at 5 cm), which lets numpy's unique/searchsorted do the merging.

Sonar elevation: a multibeam measures range and bearing, not elevation. Without a hull
model a return is placed on the beam's axis (elevation 0), which is wrong by up to
range x sin(half the vertical aperture) across the fan (about 0.9 m at 5 m for a 20 deg
aperture) -- a known limit. Given hull.queries.HullQueries, each return's elevation is
resolved against the hull (vision.georef.sonar.locate_sonar_detections) and the point put
at the measured range along the resolved direction, so the map still records what the
sonar measured, not the model.
"""
from __future__ import annotations

import dataclasses
import threading

import numpy as np

from ..georef.located import pose_parts
from ..georef.sonar import locate_sonar_detections, sonar_ray_directions

_BITS = 21
_OFFSET = 1 << (_BITS - 1)
_MASK = (1 << _BITS) - 1


@dataclasses.dataclass(frozen=True)
class _SonarReturns:
    """Per-beam returns in the shape locate_sonar_detections reads: the hull is expected
    at the return's own range (no object standing proud of it)."""

    range_m: np.ndarray
    bearing_deg: np.ndarray
    near_range_m: np.ndarray
    range_extent_m: np.ndarray
    bearing_extent_deg: None = None


def _pack(ijk: np.ndarray) -> np.ndarray:
    u = (ijk + _OFFSET).astype(np.int64) & _MASK
    return (u[:, 0] << (2 * _BITS)) | (u[:, 1] << _BITS) | u[:, 2]


def beam_returns(intensities: np.ndarray, threshold: int | None, smooth_bins: int = 5,
                 min_snr: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(beam indices, range-bin indices) of each beam's return: the first bin at or above
    `threshold` (0..255), or, when threshold is None, the strongest bin after a running
    mean over smooth_bins range bins (speckle makes single bins unreliable), kept only
    when it is min_snr times the ping's median (the noise floor). Beams with no return
    give nothing."""
    img = np.asarray(intensities, dtype=np.float32)
    if threshold is not None:
        above = img >= threshold
        beams = np.flatnonzero(above.any(axis=0))
        return beams, above[:, beams].argmax(axis=0)
    if smooth_bins > 1:
        c = np.cumsum(np.pad(img, ((1, 0), (0, 0))), axis=0)
        img = (c[smooth_bins:] - c[:-smooth_bins]) / smooth_bins
    bins = img.argmax(axis=0)
    floor = max(float(np.median(img)), 1.0)
    beams = np.flatnonzero(img.max(axis=0) >= min_snr * floor)
    return beams, bins[beams] + (smooth_bins - 1) // 2 if smooth_bins > 1 else bins[beams]


RECENT_MIN_VOXELS = 1 << 14


class _Tier:
    """Voxels as sorted packed keys with per-voxel point sums and counts."""

    def __init__(self):
        self.keys = np.empty(0, np.int64)
        self.sum = np.empty((0, 3))
        self.count = np.empty(0, np.int64)

    def add_existing(self, keys, sums, counts) -> np.ndarray:
        """Adds to the voxels this tier has; returns which of `keys` it had."""
        pos = np.searchsorted(self.keys, keys)
        found = pos < len(self.keys)
        found[found] = self.keys[pos[found]] == keys[found]
        self.sum[pos[found]] += sums[found]
        self.count[pos[found]] += counts[found]
        return found

    def add(self, keys, sums, counts) -> int:
        """Adds, inserting the voxels it lacks; returns how many were new."""
        fresh = ~self.add_existing(keys, sums, counts)
        if fresh.any():
            at = np.searchsorted(self.keys, keys[fresh])
            self.keys = np.insert(self.keys, at, keys[fresh])
            self.sum = np.insert(self.sum, at, sums[fresh], axis=0)
            self.count = np.insert(self.count, at, counts[fresh])
        return int(fresh.sum())

    def absorb(self, other: "_Tier") -> None:
        """Merges a tier with disjoint keys into this one (one O(n) pass)."""
        keys = np.concatenate([self.keys, other.keys])
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.sum = np.concatenate([self.sum, other.sum])[order]
        self.count = np.concatenate([self.count, other.count])[order]


class PointMap:
    """A voxel grid of measured hull points, H frame, metres. voxel_m: edge of a voxel.

    Not locked: the hull-map worker owns it; other threads take `points()` (a copy).
    """

    def __init__(self, voxel_m: float = 0.05):
        if not voxel_m > 0:
            raise ValueError(f"voxel_m must be > 0, got {voxel_m}")
        self.voxel_m = float(voxel_m)
        # two sorted tiers: new voxels go into the small recent tier, which merges into the
        # main one when it reaches an eighth of it, so an add costs O(recent), not O(map)
        self._main = _Tier()
        self._recent = _Tier()
        self._lock = threading.Lock()  # cheap insurance: one add at a time

    def __len__(self) -> int:
        return len(self._main.keys) + len(self._recent.keys)

    def _consolidated(self) -> "_Tier":
        with self._lock:
            if len(self._recent.keys):
                self._main.absorb(self._recent)
                self._recent = _Tier()
            return self._main

    @property
    def nbytes(self) -> int:
        """Memory held by the voxel arrays (bytes)."""
        return sum(a.nbytes for t in (self._main, self._recent) for a in (t.keys, t.sum, t.count))

    @property
    def counts(self) -> np.ndarray:
        """(V,) points merged into each voxel, in the order of points()."""
        return self._consolidated().count.copy()

    def points(self) -> np.ndarray:
        """(V, 3) the mean point of each voxel, H, m (a copy)."""
        t = self._consolidated()
        return t.sum / t.count[:, None] if len(t.keys) else np.empty((0, 3))

    def add_points(self, points_h, weights=None) -> int:
        """Merge (N, 3) points (H, m; camera-ray hits, or anything measured). weights:
        optional (N,) point counts each stands for (used by load_ply). Returns the number
        of new voxels."""
        pts = np.asarray(points_h, dtype=np.float64).reshape(-1, 3)
        keep = np.isfinite(pts).all(axis=1)
        pts = pts[keep]
        w = np.ones(len(pts), np.int64) if weights is None else np.asarray(weights, np.int64)[keep]
        if not len(pts):
            return 0
        keys = _pack(np.floor(pts / self.voxel_m).astype(np.int64))
        new_keys, inv = np.unique(keys, return_inverse=True)
        sums = np.zeros((len(new_keys), 3))
        np.add.at(sums, inv, pts * w[:, None])
        counts = np.bincount(inv, weights=w, minlength=len(new_keys)).astype(np.int64)
        with self._lock:
            rest = ~self._main.add_existing(new_keys, sums, counts)
            fresh = self._recent.add(new_keys[rest], sums[rest], counts[rest])
            if len(self._recent.keys) > max(RECENT_MIN_VOXELS, len(self._main.keys) // 8):
                self._main.absorb(self._recent)
                self._recent = _Tier()
            return fresh

    def add_range(self, position_h, direction_h, range_m) -> int:
        """The distance sensor: a hit range_m (m) from position_h along direction_h (H;
        single or (N, 3)/(N,)). Non-finite or non-positive ranges (no echo) are skipped."""
        p = np.atleast_2d(np.asarray(position_h, np.float64))
        d = np.atleast_2d(np.asarray(direction_h, np.float64))
        r = np.atleast_1d(np.asarray(range_m, np.float64))
        n = max(len(p), len(d), len(r))
        p, d, r = np.broadcast_to(p, (n, 3)), np.broadcast_to(d, (n, 3)), np.broadcast_to(r, (n,))
        ok = np.isfinite(r) & (r > 0)
        d = d[ok] / np.linalg.norm(d[ok], axis=1, keepdims=True)
        return self.add_points(p[ok] + d * r[ok, None])

    def add_sonar_ping(self, intensities, bearings_deg, range_resolution_m: float, min_range_m: float,
                       sonar_pose_h, vertical_aperture_deg: float = 20.0, threshold: int | None = None,
                       hull_queries=None, draft_m: float = 0.0) -> int:
        """One multibeam ping: intensities (range_bins, beams) uint8 (row 0 nearest),
        bearings_deg (beams,) + to starboard, range bins of range_resolution_m starting at
        min_range_m (m), sonar_pose_h (hull.pose.SensorPose or (position, forward, up) in
        H). Each beam's return (see beam_returns) becomes a point: on the beam's axis, or,
        with hull_queries, at the elevation the hull explains (returns it cannot explain
        within locate_sonar_detections' tolerance -- seabed, quay, fish -- are dropped).
        draft_m only labels the addresses computed on the way. Returns new voxels."""
        beams, bins = beam_returns(intensities, threshold)
        if not len(beams):
            return 0
        rng_m = min_range_m + (bins + 0.5) * range_resolution_m
        brg = np.asarray(bearings_deg, np.float64)[beams]
        origin, fwd, up = pose_parts(sonar_pose_h)
        if hull_queries is None:
            dirs = sonar_ray_directions(fwd, up, brg, [0.0])[:, 0, :]
        else:
            located = locate_sonar_detections(_SonarReturns(rng_m, brg, rng_m, np.zeros_like(rng_m)),
                                              (origin, fwd, up), vertical_aperture_deg, hull_queries, draft_m,
                                              range_resolution_m=range_resolution_m, with_address=False)
            ok = np.array([loc is not None for loc in located], bool)
            if not ok.any():
                return 0
            hits = np.array([loc.position_h for loc in located if loc is not None])
            dirs = hits - origin
            dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
            rng_m = rng_m[ok]
        return self.add_points(origin + dirs * rng_m[:, None])

    # ---- files -----------------------------------------------------------------------------
    def save_ply(self, path) -> None:
        """Binary little-endian PLY: x, y, z (double, m, H) and count (uint32) per voxel;
        readable by Open3D, MeshLab, CloudCompare (count as a scalar field)."""
        rec = np.empty(len(self), dtype=[("x", "<f8"), ("y", "<f8"), ("z", "<f8"), ("count", "<u4")])
        pts = self.points()
        rec["x"], rec["y"], rec["z"] = pts[:, 0], pts[:, 1], pts[:, 2]
        rec["count"] = np.minimum(self.counts, np.iinfo(np.uint32).max)
        header = ("ply\nformat binary_little_endian 1.0\n"
                  f"comment HullWatch point map, hull frame H, metres, voxel_m {self.voxel_m!r}\n"
                  f"element vertex {len(self)}\nproperty double x\nproperty double y\nproperty double z\n"
                  "property uint count\nend_header\n")
        with open(path, "wb") as fh:
            fh.write(header.encode("ascii"))
            fh.write(rec.tobytes())

    @classmethod
    def load_ply(cls, path, voxel_m: float | None = None) -> "PointMap":
        """A map saved by save_ply (its voxel size unless voxel_m is given). Points keep
        their weights, so adding to a loaded map averages as if it had never been saved."""
        data = open(path, "rb").read()
        end = data.index(b"end_header\n") + len(b"end_header\n")
        lines = data[:end].decode("ascii").splitlines()
        if lines[1] != "format binary_little_endian 1.0":
            raise ValueError(f"{path}: not a HullWatch point map PLY ({lines[1]})")
        saved_voxel = next((float(ln.split()[-1]) for ln in lines if ln.startswith("comment") and "voxel_m" in ln),
                           0.05)
        n = next(int(ln.split()[2]) for ln in lines if ln.startswith("element vertex"))
        rec = np.frombuffer(data, dtype=[("x", "<f8"), ("y", "<f8"), ("z", "<f8"), ("count", "<u4")],
                            count=n, offset=end)
        out = cls(saved_voxel if voxel_m is None else voxel_m)
        out.add_points(np.column_stack([rec["x"], rec["y"], rec["z"]]), weights=rec["count"])
        return out
