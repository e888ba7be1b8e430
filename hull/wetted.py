"""The wetted surface: the part of the hull below the waterline at a draft (and trim)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .mesh import TriangleMesh


@dataclasses.dataclass(frozen=True, eq=False)
class WettedSurface:
    mesh: TriangleMesh  # the hull cut at the waterline (open along it)
    area_m2: float
    draft_m: float
    trim_deg: float
    waterline_segments_h: np.ndarray  # (K, 2, 3) where the waterplane cuts the hull
    waterline_length_m: float
    waterline_beam_m: float

    @property
    def waterline_points_h(self) -> np.ndarray:
        return self.waterline_segments_h.reshape(-1, 3)


def waterplane_height(x: np.ndarray, draft_m: float, trim_deg: float, x_ref_m: float) -> np.ndarray:
    """z of the water surface above x in H. Trim is bow-down positive: the water rises
    towards the bow relative to the hull."""
    return draft_m + np.tan(math.radians(trim_deg)) * (x - x_ref_m)


def wetted_surface(mesh: TriangleMesh, draft_m: float, trim_deg: float = 0.0,
                   x_ref_m: float | None = None) -> WettedSurface:
    """Cut the hull at the waterplane; triangles that cross it are split exactly.

    x_ref_m is where the draft is measured (default: mid-length), so trim turns the
    waterplane about that point.
    """
    lo, hi = mesh.bounds()
    if not math.isfinite(draft_m) or draft_m <= 0:
        raise ValueError(f"draft must be a positive number of metres, got {draft_m!r}")
    if draft_m > hi[2] - lo[2]:
        raise ValueError(f"draft {draft_m:g} m is deeper than the hull ({hi[2] - lo[2]:.2f} m from keel to top)")
    x_ref = 0.5 * (lo[0] + hi[0]) if x_ref_m is None else x_ref_m
    v, f = mesh.vertices, mesh.faces
    # signed height of every vertex above the water (positive = dry)
    h = v[:, 2] - waterplane_height(v[:, 0], draft_m, trim_deg, x_ref)
    hf = h[f]
    below = hf <= 0.0
    n_below = below.sum(axis=1)

    out_tris = [v[f[n_below == 3]]]
    segments = []

    # one vertex below: keep the small triangle at that vertex
    one = np.nonzero(n_below == 1)[0]
    if len(one):
        tri, ht = v[f[one]], hf[one]
        k = np.argmax(ht <= 0.0, axis=1)  # index of the wet vertex
        a, b, c = _rotate(tri, ht, k)
        pab = _cut(a, b)
        pac = _cut(a, c)
        out_tris.append(np.stack([a[0], pab, pac], axis=1))
        segments.append(np.stack([pab, pac], axis=1))

    # two vertices below: keep the quad, as two triangles, under the dry vertex
    two = np.nonzero(n_below == 2)[0]
    if len(two):
        tri, ht = v[f[two]], hf[two]
        k = np.argmax(ht > 0.0, axis=1)  # index of the dry vertex
        a, b, c = _rotate(tri, ht, k)
        pab = _cut(a, b)
        pac = _cut(a, c)
        out_tris.append(np.stack([pab, b[0], c[0]], axis=1))
        out_tris.append(np.stack([pab, c[0], pac], axis=1))
        segments.append(np.stack([pab, pac], axis=1))

    tris = np.concatenate(out_tris, axis=0) if out_tris else np.zeros((0, 3, 3))
    cut = TriangleMesh(tris.reshape(-1, 3), np.arange(len(tris) * 3).reshape(-1, 3))
    seg = np.concatenate(segments, axis=0) if segments else np.zeros((0, 2, 3))
    area = float(cut.face_areas().sum())
    if len(seg):
        pts = seg.reshape(-1, 3)
        wl_length = float(pts[:, 0].max() - pts[:, 0].min())
        wl_beam = float(pts[:, 1].max() - pts[:, 1].min())
    else:
        wl_length = wl_beam = 0.0
    return WettedSurface(cut, area, float(draft_m), float(trim_deg), seg, wl_length, wl_beam)


def _rotate(tri: np.ndarray, ht: np.ndarray, k: np.ndarray):
    """Corners reordered (keeping the winding) so the odd vertex k comes first; each
    returned corner is (points (n,3), heights (n,))."""
    idx = (k[:, None] + np.arange(3)[None, :]) % 3
    rows = np.arange(len(tri))[:, None]
    t = tri[rows, idx]
    h = ht[rows, idx]
    return (t[:, 0], h[:, 0]), (t[:, 1], h[:, 1]), (t[:, 2], h[:, 2])


def _cut(p, q) -> np.ndarray:
    """Where the edge p-q meets the water (heights have opposite signs, or one is 0)."""
    (pp, hp), (qq, hq) = p, q
    denom = hp - hq
    s = np.divide(hp, denom, out=np.zeros_like(hp), where=denom != 0)
    return pp + s[:, None] * (qq - pp)
