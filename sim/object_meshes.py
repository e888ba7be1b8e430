"""Closed triangle meshes for planted objects (boxes, bags, cylinders), posed in H.

Besides boxes and cylinders, the held-out container kinds (sim.scenario.HELDOUT_CONTAINER_KINDS,
shapes no training image shows) have their own shapes: a rounded holdall (superellipsoid),
a drum (barrel with bulged staves), a hexagonal case, a wedge-shaped case and a net bag of
packages (a cluster of small boxes). Distractors have the shapes of what they are, not of
a container: a fouling clump is a knobbly lump, a fender a cylinder with round ends, debris
a splintered chunk (until 2026-11-29 clumps and debris were boxes and fenders cylinders, the
very shapes of containers, so no detector could tell them apart). Every shape fills the box
(length, width, height) of its size, is closed and wound outward, and is a pure function of the object (no random
draws), so the same scenario always gives the same mesh."""
from __future__ import annotations

import math
import zlib

import numpy as np

from hull.mesh import TriangleMesh

_BOX_V = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
_BOX_F = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                   [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
CYLINDER_SIDES = 16
CYLINDER_KINDS = frozenset({"torpedo", "rope", "fish"})
SUPERELLIPSOID_EXPONENT = 3.0  # 2 = ellipsoid; larger = boxier: a soft bag with rounded edges
ELLIPSOID_RINGS, ELLIPSOID_SEGMENTS = 10, 20
DRUM_SIDES, DRUM_RINGS, DRUM_BULGE = 20, 6, 0.08  # bulge: radius at the middle over the rims, minus 1
# net bag: packages as (centre x, y, z, size x, y, z, yaw deg) in the unit box (-0.5..0.5)
NET_BAG_PACKAGES = ((-0.27, -0.22, -0.23, 0.44, 0.5, 0.52, 8.0), (0.24, -0.2, -0.25, 0.5, 0.54, 0.48, -12.0),
                    (-0.25, 0.24, -0.24, 0.46, 0.48, 0.5, -5.0), (0.26, 0.23, -0.22, 0.44, 0.5, 0.54, 15.0),
                    (-0.05, 0.0, 0.24, 0.56, 0.6, 0.5, 30.0), (0.3, 0.05, 0.25, 0.36, 0.42, 0.46, -20.0))


def _frame(normal_h, axis_h) -> np.ndarray:
    """Rotation whose columns are the object's axis, its side, and the surface normal."""
    n = np.asarray(normal_h, float)
    n = n / np.linalg.norm(n)
    a = np.asarray(axis_h, float)
    a = a - n * np.dot(a, n)
    if np.linalg.norm(a) < 1e-9:
        a = np.cross(n, [0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.cross(n, [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    return np.column_stack([a, np.cross(n, a), n])


def _unit_cylinder(sides: int = CYLINDER_SIDES) -> tuple[np.ndarray, np.ndarray]:
    """Along x from -0.5 to 0.5, radius 0.5 in y/z, closed, outward."""
    ang = np.linspace(0, 2 * math.pi, sides, endpoint=False)
    ring = np.column_stack([np.cos(ang), np.sin(ang)]) * 0.5
    v = np.vstack([np.column_stack([np.full(sides, -0.5), ring]), np.column_stack([np.full(sides, 0.5), ring]),
                   [[-0.5, 0, 0], [0.5, 0, 0]]])
    f = []
    for i in range(sides):
        j = (i + 1) % sides
        f += [[i, sides + i, sides + j], [i, sides + j, j]]
        f += [[2 * sides, i, j], [2 * sides + 1, sides + j, sides + i]]
    return v, np.array(f)


def _unit_superellipsoid(exponent: float = SUPERELLIPSOID_EXPONENT, rings: int = ELLIPSOID_RINGS,
                         segments: int = ELLIPSOID_SEGMENTS) -> tuple[np.ndarray, np.ndarray]:
    """|x|^e + |y|^e + |z|^e = 0.5^e (poles on x), closed, outward."""
    def spow(c, p):
        return np.sign(c) * np.abs(c) ** p

    p = 2.0 / exponent
    lat = np.linspace(0, math.pi, rings + 1)[1:-1]  # between the poles
    lon = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    x = spow(np.cos(la), p)
    y = spow(np.sin(la), p) * spow(np.cos(lo), p)
    z = spow(np.sin(la), p) * spow(np.sin(lo), p)
    v = np.vstack([np.column_stack([x.ravel(), y.ravel(), z.ravel()]) * 0.5, [[0.5, 0, 0], [-0.5, 0, 0]]])
    return v, _ring_faces(rings - 1, segments, cap_first=len(v) - 2, cap_last=len(v) - 1)


def _ring_faces(n_rings: int, segments: int, *, cap_first: int, cap_last: int) -> np.ndarray:
    """Faces of n_rings rings of `segments` vertices (ring k starts at k * segments) joined
    in order, capped by a vertex at each end: outward when the rings run from +x to -x
    and turn counter-clockwise seen from +x."""
    f = []
    for k in range(n_rings - 1):
        for i in range(segments):
            j = (i + 1) % segments
            a, b, c, d = k * segments + i, k * segments + j, (k + 1) * segments + i, (k + 1) * segments + j
            f += [[a, c, d], [a, d, b]]
    last = (n_rings - 1) * segments
    for i in range(segments):
        j = (i + 1) % segments
        f += [[cap_first, i, j], [cap_last, last + j, last + i]]
    return np.array(f)


def _lathe(xs: np.ndarray, radius: np.ndarray, sides: int) -> tuple[np.ndarray, np.ndarray]:
    """A solid of revolution about x: a ring of `radius[k]` at each `xs[k]` (running from +x
    to -x), capped by a vertex at x = +0.5 and -0.5, closed, outward."""
    ang = np.linspace(0, 2 * math.pi, sides, endpoint=False)
    v = [np.column_stack([np.full(sides, x), r * np.cos(ang), r * np.sin(ang)]) for x, r in zip(xs, radius)]
    v = np.vstack(v + [[[0.5, 0, 0], [-0.5, 0, 0]]])
    return v, _ring_faces(len(xs), sides, cap_first=len(v) - 2, cap_last=len(v) - 1)


def _fill_unit_box(v: np.ndarray) -> np.ndarray:
    """Scaled per axis (positive factors: the winding stays outward) to fill the unit box."""
    lo, hi = v.min(0), v.max(0)
    return (v - (lo + hi) / 2) / (hi - lo)


def _unit_lump(rings: int = ELLIPSOID_RINGS, segments: int = ELLIPSOID_SEGMENTS):
    """A fouling clump: an ellipsoid with fixed irregular bulges (weed, mussels, barnacles
    grow in knobs, not in boxes), closed, outward, filling the unit box."""
    v, f = _unit_superellipsoid(2.0, rings, segments)
    ang = np.arctan2(v[:, 2], v[:, 1])
    bump = 1 + 0.22 * np.sin(3 * ang + 0.7) * np.cos(2.5 * np.pi * v[:, 0]) + 0.12 * np.cos(5 * ang + 2.1)
    v = v * np.column_stack([np.ones(len(v)), bump, bump])
    return _fill_unit_box(v), f


def _unit_capsule(rings: int = 12, sides: int = CYLINDER_SIDES, straight: float = 0.6):
    """A fender: a cylinder with round ends (the middle `straight` share of its length is
    straight), along x, closed, outward, filling the unit box."""
    xs = np.linspace(0.5, -0.5, rings + 1)[1:-1]
    end = np.clip((np.abs(xs) - straight / 2) / (0.5 - straight / 2), 0.0, 1.0)
    radius = 0.5 * np.sqrt(1 - end ** 2)
    v, f = _lathe(xs, radius, sides)
    return _fill_unit_box(v), f


# debris: a splintered chunk, an irregular heptagonal prism (radius of each corner)
SHARD_RADII = (0.5, 0.31, 0.44, 0.22, 0.47, 0.36, 0.28)


def _unit_shard() -> tuple[np.ndarray, np.ndarray]:
    """Debris: an irregular prism along x (a broken plank or crate slat), closed, outward,
    filling the unit box."""
    v, f = _unit_cylinder(len(SHARD_RADII))
    n = len(SHARD_RADII)
    for ring in (slice(0, n), slice(n, 2 * n)):
        v[ring, 1:] *= 2 * np.asarray(SHARD_RADII)[:, None]
    v[n:2 * n, 1:] *= 0.8  # one end narrower than the other: broken off
    return _fill_unit_box(v), f[:, ::-1]  # _unit_cylinder's faces are wound the other way round


def _unit_drum(sides: int = DRUM_SIDES, rings: int = DRUM_RINGS, bulge: float = DRUM_BULGE):
    """A barrel along x (-0.5..0.5), widest (radius 0.5) at the middle, closed, outward."""
    xs = np.linspace(0.5, -0.5, rings + 1)
    radius = 0.5 * (1 + bulge * (1 - (2 * xs) ** 2)) / (1 + bulge)
    return _lathe(xs, radius, sides)


def _unit_wedge() -> tuple[np.ndarray, np.ndarray]:
    """A wedge: full height at -x, sloping to nothing at +x (a faired case), closed, outward."""
    v = np.array([[-0.5, -0.5, -0.5], [0.5, -0.5, -0.5], [-0.5, -0.5, 0.5],
                  [-0.5, 0.5, -0.5], [0.5, 0.5, -0.5], [-0.5, 0.5, 0.5]])
    f = np.array([[0, 2, 1], [3, 4, 5],  # the two triangular sides
                  [0, 1, 4], [0, 4, 3],  # bottom
                  [0, 3, 5], [0, 5, 2],  # back
                  [1, 2, 5], [1, 5, 4]])  # slope
    return v, f[:, ::-1]


def _unit_hexagonal() -> tuple[np.ndarray, np.ndarray]:
    """A hexagonal prism along x filling the unit box, closed, outward."""
    v, f = _unit_cylinder(6)
    v = v.copy()
    v[:, 1:] /= 2 * np.abs(v[:, 1:]).max(axis=0)
    return v, f[:, ::-1]  # _unit_cylinder's faces are wound the other way round


def _unit_net_bag() -> tuple[np.ndarray, np.ndarray]:
    """Packages in a cluster, each a small box, filling the unit box."""
    verts, faces = [], []
    for k, (cx, cy, cz, sx, sy, sz, yaw) in enumerate(NET_BAG_PACKAGES):
        a = math.radians(yaw)
        rot = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
        verts.append((_BOX_V * [sx, sy, sz]) @ rot.T + [cx, cy, cz])
        faces.append(_BOX_F + 8 * k)
    return _fill_unit_box(np.vstack(verts)), np.vstack(faces)  # exactly the unit box, as the other shapes


# ---- training-only container families: each object draws its own member ----------------
# Training containers were boxes and one tube, so the detector learnt "a box or a tube" and
# missed most held-out shapes (2026-11-29: 8 of 16). These families widen what "a foreign
# object on the hull" looks like. None of them is a held-out shape: no hexagonal prism
# (prisms have 5, 7 or 8 sides), no bulged barrel (canisters are straight), no wedge
# (tapered cases keep a top face at least 0.35 of the base), no superellipsoid of exponent
# 3 (rounded cases are 5..12), no cluster of six packages (bundles are 2..4 tubes in a row).
PRISM_SIDES = (5, 7, 8)
ROUNDED_EXPONENT = (5.0, 12.0)
TAPER_TOP = (0.35, 0.9)  # top face length over the base's
BUNDLE_TUBES = (2, 4)


def _unit_tapered(rng: np.random.Generator):
    """A case narrower at the top than at its base (a frustum, leaning a little)."""
    v = _BOX_V.astype(float).copy()
    top = v[:, 2] > 0
    a, b = rng.uniform(*TAPER_TOP), rng.uniform(0.55, 1.0)
    v[top, 0] = v[top, 0] * a + rng.uniform(-0.5, 0.5) * (1 - a) / 2
    v[top, 1] *= b
    return _fill_unit_box(v), _BOX_F


def _unit_rounded(rng: np.random.Generator):
    """A hard case with rounded edges: a superellipsoid, boxier than the held-out holdall."""
    return _unit_superellipsoid(float(rng.uniform(*ROUNDED_EXPONENT)), 12, 24)


def _unit_prism(rng: np.random.Generator):
    """A regular prism of 5, 7 or 8 sides along x, turned by a random phase."""
    n = int(rng.choice(PRISM_SIDES))
    v, f = _unit_cylinder(n)
    c, s = math.cos(phase := rng.uniform(0, 2 * math.pi / n)), math.sin(phase)
    v = v.copy()
    v[:, 1:] = v[:, 1:] @ np.array([[c, s], [-s, c]])
    return _fill_unit_box(v), f[:, ::-1]  # _unit_cylinder's faces are wound inward


def _unit_bundle(rng: np.random.Generator):
    """Two to four tubes side by side (welded or taped pipes), a little staggered."""
    k = int(rng.integers(BUNDLE_TUBES[0], BUNDLE_TUBES[1] + 1))
    v0, f0 = _unit_cylinder(12)
    verts, faces = [], []
    for i in range(k):
        length = rng.uniform(0.8, 1.0)
        v = v0 * [length, 1.0, 1.0] + [rng.uniform(-0.5, 0.5) * (1 - length), i - (k - 1) / 2, 0.0]
        verts.append(v)
        faces.append(f0[:, ::-1] + len(v0) * i)
    return _fill_unit_box(np.vstack(verts)), np.vstack(faces)


def _unit_canister(rng: np.random.Generator):
    """A straight can or bottle: flat ends, sometimes a neck at one end."""
    sides = int(rng.integers(16, 25))
    xs = np.linspace(0.5, -0.5, 9)
    radius = np.full(len(xs), 0.5)
    if rng.random() < 0.5:  # a bottle: the last quarter narrows to a neck
        neck = rng.uniform(0.2, 0.35)
        t = np.clip((xs - 0.25) / 0.25, 0.0, 1.0)
        radius = 0.5 - (0.5 - neck) * t
    v, f = _lathe(xs, radius, sides)
    return _fill_unit_box(v), f


VARIED_SHAPES = {"tapered_case": _unit_tapered, "rounded_case": _unit_rounded, "prism_case": _unit_prism,
                 "tube_bundle": _unit_bundle, "canister": _unit_canister}


def shape_rng(obj) -> np.random.Generator:
    """The draws of an object's own shape: a pure function of its kind, place and size."""
    key = np.round(np.abs(np.r_[obj.center_h, obj.size_m]) * 1e5).astype(np.int64)
    return np.random.default_rng([*map(int, key), zlib.crc32(obj.kind.encode())])


_SHAPES = {"cylinder": _unit_cylinder, "hexagonal": _unit_hexagonal, "superellipsoid": _unit_superellipsoid,
           "drum": _unit_drum, "wedge": _unit_wedge, "net_bag": _unit_net_bag, "lump": _unit_lump,
           "capsule": _unit_capsule, "shard": _unit_shard, "box": lambda: (_BOX_V, _BOX_F)}
KIND_SHAPES = {"holdall": "superellipsoid", "drum": "drum", "hex_case": "hexagonal", "wedge_case": "wedge",
               "net_bag": "net_bag", "fouling_clump": "lump", "fender": "capsule", "debris": "shard",
               **{k: "cylinder" for k in CYLINDER_KINDS}}


def posed_shape(cylinder: bool | str, center_h, axis_h, normal_h, size_m) -> TriangleMesh:
    """A shape (True: cylinder, False: box, or a name in _SHAPES) along its axis, of size
    (length, width, height), posed in H."""
    shape = cylinder if isinstance(cylinder, str) else ("cylinder" if cylinder else "box")
    v, f = _SHAPES[shape]()
    local = v * np.asarray(size_m, float)
    return TriangleMesh(local @ _frame(normal_h, axis_h).T + np.asarray(center_h, float), f)


def object_mesh(obj) -> TriangleMesh:
    if obj.kind in VARIED_SHAPES:
        v, f = VARIED_SHAPES[obj.kind](shape_rng(obj))
        local = v * np.asarray(obj.size_m, float)
        return TriangleMesh(local @ _frame(obj.normal_h, obj.axis_h).T + np.asarray(obj.center_h, float), f)
    return posed_shape(KIND_SHAPES.get(obj.kind, "box"), obj.center_h, obj.axis_h, obj.normal_h, obj.size_m)


def combined_mesh(meshes: list[TriangleMesh]) -> tuple[TriangleMesh, np.ndarray]:
    """One mesh of several, and the index of the source mesh of each face."""
    verts, faces, owner, base = [], [], [], 0
    for k, m in enumerate(meshes):
        verts.append(m.vertices)
        faces.append(m.faces + base)
        owner.append(np.full(m.n_faces, k))
        base += m.n_vertices
    return TriangleMesh(np.vstack(verts), np.vstack(faces)), np.concatenate(owner)
