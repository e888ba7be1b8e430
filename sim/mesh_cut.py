"""Cutting a convex hole (a sea-chest opening, a tunnel mouth) out of a triangle surface.

The hole is a convex polygon in a plane (origin, u, v, n); triangles are cut in the plane's
(u, v) projection, so the hole's edge is where the prism (polygon x n) meets the surface.
The outside of a convex polygon with edges 0..k-1 is the disjoint union of the regions
"outside edge i and inside edges 0..i-1"; each is convex, so a triangle is cut by clipping
it against half-planes only (Sutherland-Hodgman) and fanning the convex pieces.
"""
from __future__ import annotations

import numpy as np


def _clip(poly2, poly3, w, h):
    """Keep the part of a convex polygon with w . p <= h (p in 2-D); 3-D points follow."""
    if not poly2:
        return poly2, poly3
    out2, out3 = [], []
    s = [float(np.dot(w, p)) - h for p in poly2]
    for i in range(len(poly2)):
        j = (i + 1) % len(poly2)
        if s[i] <= 0:
            out2.append(poly2[i]); out3.append(poly3[i])
        if (s[i] < 0 < s[j]) or (s[j] < 0 < s[i]):
            f = s[i] / (s[i] - s[j])
            out2.append(poly2[i] + f * (poly2[j] - poly2[i]))
            out3.append(poly3[i] + f * (poly3[j] - poly3[i]))
    return out2, out3


def cut_convex_hole(vertices: np.ndarray, faces: np.ndarray, candidates: np.ndarray, origin, u, v,
                    polygon_uv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove the part of the candidate faces inside the polygon (counter-clockwise in
    (u, v); either orientation is accepted). Returns (new vertices appended after `vertices`, the faces that replace the
    candidates, and for each of them the index of the face it came from)."""
    poly = np.asarray(polygon_uv, float)
    x, y = poly[:, 0], poly[:, 1]
    if np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y) < 0:  # clockwise: reverse
        poly = poly[::-1]
    edges = np.roll(poly, -1, axis=0) - poly
    w = np.column_stack([edges[:, 1], -edges[:, 0]])  # outward normals of a CCW polygon
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    hs = np.einsum("ij,ij->i", w, poly)
    origin = np.asarray(origin, float)
    new_v: list[np.ndarray] = []
    new_f: list[tuple[int, int, int]] = []
    parent: list[int] = []
    base = len(vertices)
    for fi in candidates:
        tri3 = vertices[faces[fi]]
        rel = tri3 - origin
        tri2 = np.column_stack([rel @ u, rel @ v])
        side = tri2 @ w.T - hs  # (3, k): > 0 outside that edge
        if (side > 0).all(axis=0).any():  # wholly beyond one edge: untouched
            new_f.append(tuple(faces[fi])); parent.append(int(fi))
            continue
        if (side <= 0).all():  # wholly inside the hole
            continue
        for i in range(len(poly)):
            p2, p3 = list(tri2), list(tri3)
            p2, p3 = _clip(p2, p3, -w[i], -hs[i])  # outside edge i
            for j in range(i):
                p2, p3 = _clip(p2, p3, w[j], hs[j])  # inside edges before it
            if len(p2) < 3:
                continue
            ids = list(range(base + len(new_v), base + len(new_v) + len(p3)))
            new_v.extend(p3)
            for a in range(1, len(ids) - 1):
                new_f.append((ids[0], ids[a], ids[a + 1])); parent.append(int(fi))
    verts = np.array(new_v).reshape(-1, 3)
    return verts, np.array(new_f, dtype=np.int64).reshape(-1, 3), np.array(parent, dtype=np.int64)
