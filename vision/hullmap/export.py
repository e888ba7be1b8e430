"""The hull map as files a reviewer opens in any 3D viewer (MeshLab, Blender, Windows 3D
Viewer, three.js): the hull coloured by coverage, findings as markers, the measured point
map and, when built, the reconstructed surface. All in the hull frame H, metres.

Per layer: PLY (binary, vertex colours), OBJ (+ MTL; vertex colours as the common
'v x y z r g b' extension, which MeshLab, Blender and Open3D read) and binary glTF 2.0
(.glb, written here with numpy + struct + json: POSITION, COLOR_0, indices; triangles, or
points for the point map). hullmap.glb holds every layer as one scene. legend.json beside
them names the colours and lists the findings. Worker-side: disk I/O and Open3D.
"""
from __future__ import annotations

import json
import pathlib
import struct

import numpy as np

from hull.mesh import TriangleMesh

# coverage class of a surface sample: camera_seen + 2 * sonar_seen
UNSEEN, CAMERA_ONLY, SONAR_ONLY, BOTH = 0, 1, 2, 3
COVERAGE_NAMES = {UNSEEN: "unseen", CAMERA_ONLY: "camera only", SONAR_ONLY: "sonar only", BOTH: "camera and sonar"}
# RGB 0..255: red draws the eye to the gaps; the rest are told apart also by colour-blind readers
COVERAGE_RGB = {UNSEEN: (215, 48, 39), CAMERA_ONLY: (69, 117, 180), SONAR_ONLY: (254, 224, 144),
                BOTH: (26, 152, 80)}
FINDING_RGB = {"parasitic_container": (255, 0, 255), "niche_anomaly": (255, 140, 0)}
OTHER_FINDING_RGB = (0, 230, 230)
POINTS_RGB = (40, 40, 40)
SURFACE_RGB = (200, 200, 200)
MIN_MARKER_M = 0.15  # a finding known to 2 cm still needs a marker one can see on a 100 m hull

_GLB_MAGIC, _GLB_JSON, _GLB_BIN = 0x46546C67, 0x4E4F534A, 0x004E4942
_FLOAT, _UINT32 = 5126, 5125
_POINTS, _TRIANGLES = 0, 4


def coverage_classes(camera_seen, sonar_seen) -> np.ndarray:
    """(S,) uint8 coverage class per sample from two boolean masks (e.g.
    LiveCoverage.seen_mask("camera"), seen_mask("sonar"))."""
    return (np.asarray(camera_seen, bool).astype(np.uint8) + 2 * np.asarray(sonar_seen, bool).astype(np.uint8))


def finding_rgb(class_name: str) -> tuple[int, int, int]:
    return FINDING_RGB.get(class_name, OTHER_FINDING_RGB)


WELD_M = 1e-4  # vertices closer than this are one (a hull has no detail this small)


def welded(mesh: TriangleMesh) -> TriangleMesh:
    """The mesh with coincident vertices (to WELD_M) merged: hull.wetted's cut returns a
    triangle soup, three vertices per face, some a rounding error apart; merged, the file
    is a third of the size, viewers shade it smoothly and readers that join vertices
    (assimp, float32 glTF) find nothing left to join. Faces welding collapses are dropped."""
    keys = np.round(mesh.vertices / WELD_M).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    faces = inverse.reshape(-1)[mesh.faces]
    ok = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])
    used = np.zeros(len(first), bool)
    used[faces[ok]] = True
    remap = np.cumsum(used) - 1
    return TriangleMesh(mesh.vertices[first][used], remap[faces[ok]])


def vertex_coverage(mesh: TriangleMesh, coverage) -> np.ndarray:
    """(V,) coverage class per mesh vertex, from the nearest sample (cKDTree).

    coverage: (sample_points_h (S, 3), classes (S,)), or classes per vertex (V,), or per
    face (F,) (taken at the face centres)."""
    if isinstance(coverage, tuple):
        pts, cls = np.asarray(coverage[0], float), np.asarray(coverage[1])
    else:
        cls = np.asarray(coverage)
        if len(cls) == mesh.n_vertices:
            return cls.astype(np.uint8)
        if len(cls) != mesh.n_faces:
            raise ValueError(f"coverage: {len(cls)} values for {mesh.n_vertices} vertices / {mesh.n_faces} faces")
        pts = mesh.face_centers()
    from scipy.spatial import cKDTree

    _, idx = cKDTree(pts).query(mesh.vertices)
    return cls[idx].astype(np.uint8)


def marker_mesh(findings) -> tuple[TriangleMesh, np.ndarray]:
    """Octahedra at each finding's position_h, radius its uncertainty_m (at least
    MIN_MARKER_M), and their (V, 3) RGB colours 0..1 by class."""
    unit = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)
    faces = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])
    verts, tris, rgb = [], [], []
    for k, f in enumerate(findings):
        r = max(float(f.uncertainty_m), MIN_MARKER_M)
        verts.append(np.asarray(f.position_h, float) + r * unit)
        tris.append(faces + 6 * k)
        rgb.append(np.tile(np.array(finding_rgb(f.class_name)) / 255.0, (6, 1)))
    if not verts:
        return TriangleMesh(np.empty((0, 3)), np.empty((0, 3), np.int64)), np.empty((0, 3))
    return TriangleMesh(np.concatenate(verts), np.concatenate(tris)), np.concatenate(rgb)


# ---- glTF 2.0 binary ---------------------------------------------------------------------
def write_glb(path, layers) -> None:
    """layers: (name, vertices (V, 3) m, colours (V, 3) RGB 0..1, faces (F, 3) or None for
    points). One mesh and node per layer; H is written as is (glTF's +y up differs: a
    viewer shows the hull lying on its side, but measurements stay exact)."""
    blob = bytearray()
    views, accessors, meshes = [], [], []

    def add(array: np.ndarray, target: int, component: int, kind: str, with_bounds: bool = False) -> int:
        data = np.ascontiguousarray(array).tobytes()
        views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": len(data), "target": target})
        blob.extend(data)
        blob.extend(b"\0" * (-len(blob) % 4))
        acc = {"bufferView": len(views) - 1, "componentType": component, "count": int(len(array)), "type": kind}
        if with_bounds:  # required for POSITION
            acc["min"] = [float(v) for v in array.min(axis=0)]
            acc["max"] = [float(v) for v in array.max(axis=0)]
        accessors.append(acc)
        return len(accessors) - 1

    for name, vertices, colours, faces in layers:
        if not len(vertices):
            continue
        attrs = {"POSITION": add(np.asarray(vertices, np.float32), 34962, _FLOAT, "VEC3", True),
                 "COLOR_0": add(np.clip(np.asarray(colours, np.float32), 0, 1), 34962, _FLOAT, "VEC3")}
        prim = {"attributes": attrs, "mode": _POINTS}
        if faces is not None:
            prim.update(indices=add(np.asarray(faces, np.uint32).reshape(-1), 34963, _UINT32, "SCALAR"),
                        mode=_TRIANGLES, material=0)
        meshes.append({"name": name, "primitives": [prim]})
    doc = {"asset": {"version": "2.0", "generator": "HullWatch vision.hullmap.export"},
           "scene": 0, "scenes": [{"nodes": list(range(len(meshes)))}],
           "nodes": [{"mesh": i, "name": m["name"]} for i, m in enumerate(meshes)], "meshes": meshes,
           # vertex colours multiply the base colour; unlit, so a viewer's lights do not change them
           "materials": [{"name": "vertex colours", "pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1],
                                                                            "metallicFactor": 0.0},
                          "doubleSided": True, "extensions": {"KHR_materials_unlit": {}}}],
           "extensionsUsed": ["KHR_materials_unlit"],
           "accessors": accessors, "bufferViews": views, "buffers": [{"byteLength": len(blob)}]}
    js = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 4)
    total = 12 + 8 + len(js) + 8 + len(blob)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<III", _GLB_MAGIC, 2, total))
        fh.write(struct.pack("<II", len(js), _GLB_JSON) + js)
        fh.write(struct.pack("<II", len(blob), _GLB_BIN) + bytes(blob))


# ---- PLY / OBJ via Open3D ----------------------------------------------------------------
def _o3d_mesh(vertices, colours, faces):
    import open3d as o3d

    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(np.array(vertices, float)),
                                  o3d.utility.Vector3iVector(np.array(faces, np.int32)))
    m.vertex_colors = o3d.utility.Vector3dVector(np.array(colours, float))
    return m


def _write_layer(folder: pathlib.Path, name: str, vertices, colours, faces, formats) -> list[pathlib.Path]:
    import open3d as o3d

    out = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        if fmt == "glb":
            write_glb(path, [(name, vertices, colours, faces)])
        elif faces is None and fmt == "ply":
            pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.array(vertices, float)))
            pcd.colors = o3d.utility.Vector3dVector(np.array(colours, float))
            if not o3d.io.write_point_cloud(str(path), pcd):
                raise OSError(f"could not write {path}")
        elif faces is None:
            continue  # a point cloud has no OBJ form that viewers agree on
        elif not o3d.io.write_triangle_mesh(str(path), _o3d_mesh(vertices, colours, faces), write_vertex_colors=True):
            raise OSError(f"could not write {path}")
        out.append(path)
    return out


def export_map(folder, hull_mesh: TriangleMesh, coverage, findings=(), point_map=None,
               formats=("ply", "obj", "glb"), surface_mesh: TriangleMesh | None = None) -> dict[str, list[pathlib.Path]]:
    """Write the map into `folder` (created): layers "hull" (welded(); vertex colours by
    coverage, see vertex_coverage for the forms `coverage` takes), "findings" (markers), "points"
    (point_map: a PointMap or (N, 3) array), "surface" (surface_mesh), each in `formats`;
    "hullmap.glb" with every layer when "glb" is asked for; "legend.json". Returns
    layer -> files written."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    findings = list(findings)
    lut = np.array([COVERAGE_RGB[k] for k in sorted(COVERAGE_RGB)], float) / 255.0
    if not isinstance(coverage, tuple):  # per vertex or per face of the mesh as given, before welding
        values = np.asarray(coverage)
        if len(values) not in (hull_mesh.n_vertices, hull_mesh.n_faces):
            raise ValueError(f"coverage: {len(values)} values for {hull_mesh.n_vertices} vertices / "
                             f"{hull_mesh.n_faces} faces")
        where = hull_mesh.vertices if len(values) == hull_mesh.n_vertices else hull_mesh.face_centers()
        coverage = (where, values)
    hull_mesh = welded(hull_mesh)
    cls = vertex_coverage(hull_mesh, coverage)
    layers = [("hull", hull_mesh.vertices, lut[cls], hull_mesh.faces)]
    if findings:
        markers, rgb = marker_mesh(findings)
        layers.append(("findings", markers.vertices, rgb, markers.faces))
    if point_map is not None:
        pts = point_map.points() if hasattr(point_map, "points") else np.asarray(point_map, float).reshape(-1, 3)
        if len(pts):
            layers.append(("points", pts, np.tile(np.array(POINTS_RGB) / 255.0, (len(pts), 1)), None))
    if surface_mesh is not None and surface_mesh.n_faces:
        layers.append(("surface", surface_mesh.vertices, np.tile(np.array(SURFACE_RGB) / 255.0,
                                                                 (surface_mesh.n_vertices, 1)), surface_mesh.faces))
    written = {name: _write_layer(folder, name, v, c, f, formats) for name, v, c, f in layers}
    if "glb" in formats:
        write_glb(folder / "hullmap.glb", layers)
        written["hullmap"] = [folder / "hullmap.glb"]
    legend = {
        "frame": "hull frame H: x forward from the aft perpendicular, y to port, z up from the keel; metres",
        "coverage_rgb": {COVERAGE_NAMES[k]: list(v) for k, v in COVERAGE_RGB.items()},
        "coverage_vertices": {COVERAGE_NAMES[k]: int((cls == k).sum()) for k in COVERAGE_NAMES},
        "finding_rgb": {**{k: list(v) for k, v in FINDING_RGB.items()}, "other": list(OTHER_FINDING_RGB)},
        "points_rgb": list(POINTS_RGB), "surface_rgb": list(SURFACE_RGB),
        "marker": f"octahedron of radius = the finding's 1-sigma uncertainty, at least {MIN_MARKER_M} m",
        "findings": [{"id": int(f.finding_id), "class": f.class_name,
                      "position_h_m": [round(float(v), 3) for v in f.position_h],
                      "uncertainty_m": round(float(f.uncertainty_m), 3), "where": f.address.describe()}
                     for f in findings],
        "files": {k: [p.name for p in v] for k, v in written.items()},
    }
    (folder / "legend.json").write_text(json.dumps(legend, indent=2), encoding="utf-8")
    written["legend"] = [folder / "legend.json"]
    return written
