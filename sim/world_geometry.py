"""The embedded world's scene geometry: the hull with its niche areas made solid, the quay
wall, and the planted objects, as one triangle mesh whose every face knows its material
(what it looks and sounds like) and its label (what a detector should call it).

What the niche areas become:

* **Sea chest**: the hull is cut open over the opening and a box recess goes in, 0.5-1 m
  deep (`recess_depth_m`), covered by a grating of flat bars on edge. Bars: 12 mm thick,
  60 mm deep, 50 mm pitch, spanning the short side of the opening. 50 mm is in the usual
  range of sea-chest gratings (clear gaps of ~25-40 mm keep out anything a diver could
  push through, while the ~75 % open area keeps the intake loss low). On-edge bars make
  the grating see-through only near its normal: light passes between them up to
  atan(gap / depth) = 32 deg off the normal across the bars; beyond that a camera sees
  bars only.
* **Thruster tunnel**: both mouths cut, a 16-sided tube between them, a hub with four
  blades in the middle and a coarser grid (20 mm bars, 150 mm pitch) in each mouth.
* **Overboard valve**: a 16-sided discharge pipe, 0.3 m deep, closed by the valve.
* **Anode**: a 60 mm thick block on the hull.
* **Rudder, propeller**: already in the hull mesh; the faces of the separate shells that
  lie in their niche boxes get their labels (or, if fused with the hull, the faces in the box).
* A `grating_missing` anomaly takes its niche's grating away; the open recess is then
  labelled with the anomaly, not as a grating.

Rim points of every opening are found by casting rays onto the hull, so recess walls meet
the real (curved) surface; a niche whose rim misses the hull is left uncut (a warning names
it). The quay wall is the plane from `Placement.quay_plane_h` with the half beam taken
from the mesh. Seabed and water surface are planes the renderers add themselves.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from hull.mesh import TriangleMesh
from hull.niche import NicheKind

from .mesh_cut import cut_convex_hole
from .object_meshes import object_mesh, posed_shape

GRATING_PITCH_M = 0.05
GRATING_BAR_THICKNESS_M = 0.012
GRATING_BAR_DEPTH_M = 0.06
TUNNEL_GRID_PITCH_M = 0.15
TUNNEL_GRID_BAR_M = 0.02
RECESS_DEPTH_RANGE_M = (0.5, 1.0)
DEFAULT_RECESS_DEPTH_M = 0.7  # when a sidecar gives depth 0
VALVE_PIPE_DEPTH_M = 0.3
ANODE_THICKNESS_M = 0.06
RING_SIDES = 16
RIM_STEP_M = 0.2  # rim samples along a rectangular opening's edge
QUAY_OVERHANG_M = (3.0, 2.0)  # quay wall above the waterline / below the seabed

LANDMARK_CLASS = {  # vision/classes.py's names (sim may not import vision)
    NicheKind.SEA_CHEST: "sea_chest_grating",
    NicheKind.BOW_THRUSTER: "thruster_tunnel",
    NicheKind.STERN_THRUSTER: "thruster_tunnel",
    NicheKind.RUDDER: "rudder",
    NicheKind.PROPELLER: "propeller",
    NicheKind.ANODE: "anode",
    NicheKind.OVERBOARD_VALVE: "overboard_valve",
}


@dataclasses.dataclass(frozen=True)
class Material:
    name: str
    colour_bgr: tuple[float, float, float]  # albedo, or a tint on the texture
    reflectivity: float  # acoustic backscatter, 0..1
    transmission: float = 0.0  # acoustic, one way, through a see-through layer (gratings)
    texture: str | None = None  # "hull" | "quay"
    ambient: float = 1.0  # share of daylight reaching it (recesses are dark inside)


BASE_MATERIALS = (
    Material("hull", (1.0, 1.0, 1.0), 0.35, texture="hull"),
    Material("recess", (0.55, 0.6, 0.6), 0.3, texture="hull", ambient=0.25),
    Material("grating", (0.22, 0.26, 0.30), 0.08, transmission=0.75, ambient=0.6),
    Material("bronze", (0.25, 0.45, 0.55), 0.6),
    Material("anode", (0.55, 0.58, 0.58), 0.45),
    Material("quay", (1.0, 1.0, 1.0), 0.45, texture="quay"),
)
MATERIAL_INDEX = {m.name: i for i, m in enumerate(BASE_MATERIALS)}


@dataclasses.dataclass(frozen=True)
class Label:
    name: str
    class_name: str | None
    object_index: int = 0  # 1-based index of the planted object, 0 for structures


@dataclasses.dataclass(frozen=True, eq=False)
class SceneGeometry:
    mesh: TriangleMesh
    face_material: np.ndarray  # (F,) index into materials
    face_label: np.ndarray  # (F,) index into labels; 0 = nothing to label
    materials: tuple[Material, ...]
    labels: tuple[Label, ...]
    objects: tuple
    quay_plane_h: tuple[np.ndarray, np.ndarray] | None = None


def recess_depth_m(niche) -> float:
    """How deep a sea chest's recess is made: the niche's depth, kept to 0.5-1 m."""
    d = niche.depth_m if niche.depth_m > 0 else DEFAULT_RECESS_DEPTH_M
    return float(np.clip(d, *RECESS_DEPTH_RANGE_M))


def grating_axes(niche) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(along the bars, across them, bar length, grating width): bars span the opening's
    shorter side, the shorter and stiffer span."""
    u, v, _ = niche.axes()
    w, h = niche.size_m
    return (v, u, h, w) if h <= w else (u, v, w, h)


class _Builder:
    def __init__(self):
        self.v: list[np.ndarray] = []
        self.f: list[np.ndarray] = []
        self.mat: list[np.ndarray] = []
        self.lab: list[np.ndarray] = []
        self.n = 0

    def add(self, verts, faces, material: int, label: int):
        verts = np.asarray(verts, float).reshape(-1, 3)
        faces = np.asarray(faces, np.int64).reshape(-1, 3)
        self.v.append(verts)
        self.f.append(faces + self.n)
        self.mat.append(np.full(len(faces), material, np.int16))
        self.lab.append(np.full(len(faces), label, np.int32))
        self.n += len(verts)

    def add_labelled(self, verts, faces, materials, labels):
        self.v.append(np.asarray(verts, float))
        self.f.append(np.asarray(faces, np.int64) + self.n)
        self.mat.append(np.asarray(materials, np.int16))
        self.lab.append(np.asarray(labels, np.int32))
        self.n += len(verts)

    def add_box(self, centre, axes, size, material: int, label: int):
        corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
        local = corners * np.asarray(size, float)
        v = np.asarray(centre, float) + local @ np.column_stack(axes).T
        f = [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
             [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]
        self.add(v, f, material, label)

    def add_strip(self, ring_a, ring_b, material: int, label: int):
        """A closed band joining two rings of equally many points."""
        k = len(ring_a)
        i = np.arange(k)
        j = (i + 1) % k
        f = np.concatenate([np.column_stack([i, j, k + j]), np.column_stack([i, k + j, k + i])])
        self.add(np.vstack([ring_a, ring_b]), f, material, label)

    def add_cap(self, ring, material: int, label: int):
        k = len(ring)
        v = np.vstack([ring, np.mean(ring, axis=0)])
        i = np.arange(k)
        self.add(v, np.column_stack([np.full(k, k), i, (i + 1) % k]), material, label)

    def geometry(self, materials, labels, objects, quay) -> SceneGeometry:
        mesh = TriangleMesh(np.vstack(self.v), np.vstack(self.f))
        return SceneGeometry(mesh, np.concatenate(self.mat), np.concatenate(self.lab), tuple(materials),
                             tuple(labels), tuple(objects), quay)


def _rect(w: float, h: float) -> np.ndarray:
    """Rectangle outline (CCW in (u, v)), edges sampled every RIM_STEP_M."""
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    pts = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        k = max(1, int(math.ceil(np.linalg.norm(b - a) / RIM_STEP_M)))
        pts += [a + (b - a) * s / k for s in range(k)]
    return np.array(pts)


def _ring(radius: float) -> np.ndarray:
    a = np.linspace(0, 2 * math.pi, RING_SIDES, endpoint=False)
    return np.column_stack([np.cos(a), np.sin(a)]) * radius


class _Cutter:
    """Holes in the hull surface and rim points on it; the hull's faces keep their labels."""

    def __init__(self, hull: TriangleMesh, face_label: np.ndarray, face_material: np.ndarray):
        from hull.queries import raycasting_scene

        self.v = hull.vertices.copy()
        self.f = hull.faces.copy()
        self.lab = face_label.copy()
        self.mat = face_material.copy()
        self.normals = hull.face_normals()
        self.scene = raycasting_scene(hull)  # the uncut hull, for rim points
        self.span = float(np.linalg.norm(np.ptp(hull.vertices, axis=0)))

    def rim(self, origin, axis, u, v, outline, max_t: float) -> np.ndarray | None:
        """Where rays from origin + outline along `axis` first meet the hull; None on a miss."""
        import open3d as o3d

        starts = np.asarray(origin, float) + outline[:, :1] * u + outline[:, 1:] * v
        rays = np.hstack([starts, np.broadcast_to(axis, starts.shape)]).astype(np.float32)
        t = self.scene.cast_rays(o3d.core.Tensor(rays), nthreads=1)["t_hit"].numpy()
        if not np.isfinite(t).all() or t.max() > max_t:
            return None
        return starts + t[:, None] * np.asarray(axis, float)

    def cut(self, origin, u, v, n, outline, band_m: float) -> None:
        centres = self.v[self.f].mean(axis=1)
        rel = centres - origin
        near = (np.abs(rel @ n) < band_m) & (self.normals @ n > 0.2)
        reach = np.abs(outline).max() + band_m
        near &= (np.abs(rel @ u) < reach) & (np.abs(rel @ v) < reach)
        cand = np.flatnonzero(near)
        if not len(cand):
            return
        nv, nf, parent = cut_convex_hole(self.v, self.f, cand, origin, u, v, outline)
        keep = np.ones(len(self.f), bool)
        keep[cand] = False
        self.v = np.vstack([self.v, nv])
        self.f = np.vstack([self.f[keep], nf])
        self.lab = np.concatenate([self.lab[keep], self.lab[parent]])
        self.mat = np.concatenate([self.mat[keep], self.mat[parent]])
        self.normals = np.vstack([self.normals[keep], self.normals[parent]])


def _components(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """Connected-component id of each vertex (hook and shortcut, pure numpy)."""
    lab = np.arange(n_vertices)
    while True:
        low = lab[faces].min(axis=1)
        new = lab.copy()
        for c in range(3):
            np.minimum.at(new, faces[:, c], low)
        new = new[new]
        while not np.array_equal(new, new[new]):
            new = new[new]
        if np.array_equal(new, lab):
            return lab
        lab = new


def _label_shells(hull: TriangleMesh, niches, label_of: dict, face_label: np.ndarray, face_mat: np.ndarray):
    """Rudder and propeller: whole shells inside their niche box, else faces in the box."""
    comp = None
    centres = hull.face_centers()
    for niche in niches:
        if niche.kind not in (NicheKind.RUDDER, NicheKind.PROPELLER):
            continue
        if comp is None:
            comp = _components(hull.faces, hull.n_vertices)
        inside_v = niche.contains(hull.vertices, margin_m=0.3)
        face_comp = comp[hull.faces[:, 0]]
        ids = np.unique(face_comp[inside_v[hull.faces].all(axis=1)])
        whole = [c for c in ids if inside_v[comp == c].all()]
        sel = np.isin(face_comp, whole) if whole else niche.contains(centres, margin_m=0.05)
        face_label[sel] = label_of[niche.name]
        if niche.kind == NicheKind.PROPELLER:
            face_mat[sel] = MATERIAL_INDEX["bronze"]


def _grating(b: _Builder, centre, along, across, n, length: float, width: float, pitch: float,
             bar: float, depth: float, label: int, chord=None):
    """Flat bars on edge, outer edge at `centre`'s plane; `chord(a)` limits a bar's length."""
    count = int(width / pitch)
    offsets = (np.arange(count) - (count - 1) / 2) * pitch
    for a in offsets:
        if abs(a) > width / 2 - bar:
            continue
        span = length if chord is None else chord(a)
        if span <= bar:
            continue
        c = np.asarray(centre) + a * across - n * depth / 2
        b.add_box(c, (along, across, n), (span, bar, depth), MATERIAL_INDEX["grating"], label)


def _sea_chest(b, cut, niche, label, grated: bool):
    u, v, n = niche.axes()
    c = np.asarray(niche.center_h, float)
    outline = _rect(*niche.size_m)
    probe = max(niche.size_m) + 1.0
    rim = cut.rim(c + n * probe, -n, u, v, outline, max_t=2 * probe)
    if rim is None:
        return False
    cut.cut(c, u, v, n, _corners(niche.size_m), band_m=1.0)
    depth = recess_depth_m(niche)
    bottom = c - n * depth + outline[:, :1] * u + outline[:, 1:] * v
    mat = MATERIAL_INDEX["recess"]
    b.add_strip(rim, bottom, mat, label)
    b.add_cap(bottom, mat, label)
    if grated:
        along, across, length, width = grating_axes(niche)
        top = c + n * min(0.0, float(((rim - c) @ n).min()))
        _grating(b, top, along, across, n, length, width, GRATING_PITCH_M, GRATING_BAR_THICKNESS_M,
                 GRATING_BAR_DEPTH_M, label)
    return True


def _corners(size) -> np.ndarray:
    w, h = size
    return np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])


def _valve(b, cut, niche, label):
    u, v, n = niche.axes()
    c = np.asarray(niche.center_h, float)
    outline = _ring(0.5 * min(niche.size_m))
    probe = max(niche.size_m) + 1.0
    rim = cut.rim(c + n * probe, -n, u, v, outline, max_t=2 * probe)
    if rim is None:
        return False
    cut.cut(c, u, v, n, outline, band_m=0.5)
    bottom = c - n * VALVE_PIPE_DEPTH_M + outline[:, :1] * u + outline[:, 1:] * v
    b.add_strip(rim, bottom, MATERIAL_INDEX["recess"], label)
    b.add_cap(bottom, MATERIAL_INDEX["bronze"], label)
    return True


def _tunnel(b, cut, niche, label, grated: bool):
    u, v, n = niche.axes()
    c = np.asarray(niche.center_h, float)
    r = 0.5 * min(niche.size_m)
    outline = _ring(r)
    reach = niche.depth_m + 2.0
    rims = [cut.rim(c, s * n, u, v, outline, max_t=reach) for s in (1.0, -1.0)]
    if any(rm is None for rm in rims):
        return False
    for s, rm in zip((1.0, -1.0), rims):
        mouth = c + n * s * float(((rm - c) @ n * s).min())
        cut.cut(mouth, u, v, s * n, outline, band_m=max(1.0, r))
        if grated:
            inner = mouth - s * n * 0.1
            _grating(b, inner, v, u, s * n, 0, 2 * r, TUNNEL_GRID_PITCH_M, TUNNEL_GRID_BAR_M, 0.08, label,
                     chord=lambda a: 2 * math.sqrt(max(r * r - a * a, 0.0)))
    b.add_strip(rims[0], rims[1], MATERIAL_INDEX["hull"], label)
    bronze = MATERIAL_INDEX["bronze"]
    hub_mesh = posed_shape(True, c, n, u, (0.7 * r, 0.36 * r, 0.36 * r))
    b.add(hub_mesh.vertices, hub_mesh.faces, bronze, label)
    for k in range(4):
        ang = k * math.pi / 2 + math.pi / 4
        radial = math.cos(ang) * u + math.sin(ang) * v
        tangent = np.cross(n, radial)
        b.add_box(c + radial * 0.55 * r, (radial, tangent, n), (0.75 * r, 0.35 * r, 0.03), bronze, label)
    return True


def _anode(b, niche, label):
    u, v, n = niche.axes()
    w, h = niche.size_m
    centre = np.asarray(niche.center_h, float) + n * (ANODE_THICKNESS_M / 2 - 0.01)
    b.add_box(centre, (u, v, n), (w, h, ANODE_THICKNESS_M), MATERIAL_INDEX["anode"], label)


def _quay(b, hull: TriangleMesh, placement):
    lo, hi = hull.bounds()
    half_beam = float(np.abs(hull.vertices[:, 1]).max())
    point, normal = placement.quay_plane_h(half_beam)
    length = hi[0] - lo[0]
    x0, x1 = lo[0] - length, hi[0] + length
    z0 = placement.seabed_z_h - QUAY_OVERHANG_M[1]
    z1 = placement.waterline_z_h + QUAY_OVERHANG_M[0]
    y = point[1]
    v = np.array([[x0, y, z0], [x1, y, z0], [x1, y, z1], [x0, y, z1]])
    f = [[0, 1, 2], [0, 2, 3]] if normal[1] > 0 else [[0, 2, 1], [0, 3, 2]]
    b.add(v, f, MATERIAL_INDEX["quay"], 0)
    return point, normal


def build_scene(hull: TriangleMesh, niches=(), objects=(), placement=None) -> SceneGeometry:
    """The whole scene as one labelled mesh. `placement` adds the quay wall."""
    objects = tuple(objects)
    materials = list(BASE_MATERIALS)
    labels = [Label("", None, 0)]
    object_label = {}
    for k, obj in enumerate(objects, start=1):
        labels.append(Label(obj.name, obj.class_name, k))
        object_label[obj.name] = len(labels) - 1
    missing = {o.attached_to: o.name for o in objects if o.kind == "grating_missing"}
    label_of = {}
    for niche in niches:
        cls = LANDMARK_CLASS.get(niche.kind)
        if cls is not None:
            labels.append(Label(niche.name, cls, 0))
            label_of[niche.name] = len(labels) - 1

    face_label = np.zeros(hull.n_faces, np.int32)
    face_mat = np.full(hull.n_faces, MATERIAL_INDEX["hull"], np.int16)
    _label_shells(hull, niches, label_of, face_label, face_mat)
    b = _Builder()
    cut = _Cutter(hull, face_label, face_mat) if niches else None
    for niche in niches:
        lab = label_of.get(niche.name, 0)
        gone = niche.name in missing
        if gone:
            lab = object_label[missing[niche.name]]
        if niche.kind == NicheKind.SEA_CHEST:
            ok = _sea_chest(b, cut, niche, lab, grated=not gone)
        elif niche.kind in (NicheKind.BOW_THRUSTER, NicheKind.STERN_THRUSTER):
            ok = _tunnel(b, cut, niche, lab, grated=not gone)
        elif niche.kind == NicheKind.OVERBOARD_VALVE:
            ok = _valve(b, cut, niche, lab)
        elif niche.kind == NicheKind.ANODE:
            _anode(b, niche, lab)
            ok = True
        else:
            ok = True
        if not ok:
            warnings.warn(f"niche area {niche.name!r}: its outline does not meet the hull surface; "
                          "left uncut in the rendered scene", stacklevel=2)
    if cut is not None:
        b.add_labelled(cut.v, cut.f, cut.mat, cut.lab)
    else:
        b.add_labelled(hull.vertices, hull.faces, face_mat, face_label)
    for k, obj in enumerate(objects, start=1):
        if obj.kind == "grating_missing":
            continue  # an absence: its niche has no grating, its recess carries the label
        materials.append(Material(f"object {k}", tuple(float(x) for x in obj.color_rgb[::-1]),
                                  float(obj.reflectivity)))
        m = object_mesh(obj)
        b.add(m.vertices, m.faces, len(materials) - 1, object_label[obj.name])
    quay = _quay(b, hull, placement) if placement is not None else None
    return b.geometry(materials, labels, objects, quay)


def as_scene_geometry(hull_or_geometry, objects=()) -> SceneGeometry:
    """A SceneGeometry as is, or a bare hull mesh with objects on it (no niches, no quay)."""
    if isinstance(hull_or_geometry, SceneGeometry):
        if objects:
            raise ValueError("give the planted objects to build_scene, not with a built SceneGeometry")
        return hull_or_geometry
    return build_scene(hull_or_geometry, (), objects, None)
