"""Loading a hull mesh file into the hull frame H in one call, with a report of every step.

`load_hull_mesh(path) -> LoadedMesh(mesh, report)`: read (hull/mesh_io.py), repair
(hull/repair.py), move into H (hull/normalize.py), measure. The report is what the user
sees and what a plan or a mission record stores (file SHA-256, repairs, transform).
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from .exterior import drop_doubled_sheets, keep_exterior
from .mesh import TriangleMesh
from .mesh_io import HullLoadError, read_mesh_bytes
from .normalize import parse_axis, normalize_to_hull_frame
from .repair import count_shells, open_edge_count, mesh_is_closed, repair_mesh, weld_vertices

__all__ = ["HullLoadError", "LoadReport", "LoadedMesh", "load_hull_mesh"]


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What was loaded, repaired and measured. Lengths in metres in the hull frame H."""

    source_path: str
    file_format: str
    sha256: str
    original_vertices: int
    original_triangles: int
    repairs: tuple[str, ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    units: str
    scale: float
    transform: tuple[tuple[float, ...], ...]   # 4x4, file coordinates -> H
    length_m: float
    beam_m: float
    depth_m: float
    watertight: bool
    open_edges: int
    shells: int
    triangles: int = 0
    area_m2: float = 0.0
    volume_m3: float = 0.0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["repairs"] = list(self.repairs)
        d["notes"] = list(self.notes)
        d["warnings"] = list(self.warnings)
        d["transform"] = [list(row) for row in self.transform]
        return d


@dataclasses.dataclass(frozen=True, eq=False)
class LoadedMesh:
    mesh: TriangleMesh
    report: LoadReport


def _transverse_axis(vertices: np.ndarray, up_axis: str | None, forward_axis: str | None) -> int:
    """The file axis across the ship, where a half hull is cut: the one neither up nor
    forward when those are given; otherwise file y (the usual convention), unless y is
    named as up or forward, then the shorter of the two left."""
    taken = {a[0] for a in (parse_axis(up_axis, "--up"), parse_axis(forward_axis, "--forward")) if a}
    free = [i for i in range(3) if i not in taken]
    if len(free) == 1:
        return free[0]
    if 1 in free and not taken:
        return 1
    extents = np.ptp(vertices, axis=0)
    return min(free, key=lambda i: extents[i])


def load_hull_mesh(path, *, units: str | None = None, scale: float = 1.0, up_axis: str | None = None,
                   forward_axis: str | None = None, repair: bool = True) -> LoadedMesh:
    """Read, repair and normalise a hull mesh file; raises HullLoadError naming the file."""
    path = Path(path)
    if not path.exists():
        raise HullLoadError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise HullLoadError(f"{path}: is a folder, not a mesh file")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    raw = read_mesh_bytes(data, name=str(path))

    if repair:
        half_axis = _transverse_axis(raw.vertices, up_axis, forward_axis)
        mesh, repairs, warnings = repair_mesh(raw.vertices, raw.faces, half_axis=half_axis)
    else:
        v, f, merged = weld_vertices(raw.vertices, raw.faces, 0.0)
        mesh = TriangleMesh(v, f)
        repairs = [f"joined {merged} identical vertices (no other repair: repair=False)"] if merged else []
        warnings = []
    if mesh.n_faces == 0:
        raise HullLoadError(f"{path}: nothing left after repair (all faces degenerate)")
    try:
        hmesh, transform, notes, nwarn = normalize_to_hull_frame(
            mesh, units=units, scale=scale, up_axis=up_axis, forward_axis=forward_axis)
    except HullLoadError as exc:
        raise HullLoadError(f"{path}: {exc}") from None
    warnings = list(warnings) + list(nwarn)
    repairs = list(repairs)
    if repair and not mesh_is_closed(hmesh.faces):
        # parity cannot tell inside from outside on an open mesh: keep what is seen from outside
        hmesh, dropped, flipped = keep_exterior(hmesh)
        hmesh, doubled = drop_doubled_sheets(hmesh)
        if doubled:
            repairs.append(f"removed {doubled} faces of surfaces modelled twice (one sheet on top of another)")
        if dropped or flipped:
            repairs.append(f"the hull is still open, so its outside was found by looking at it: dropped {dropped} "
                           f"internal or doubled faces no view from outside reaches, flipped {flipped} faces "
                           f"seen only from behind")
    units_used = "mm" if any("millimetres" in w for w in nwarn) else (units or "m")

    lo, hi = hmesh.bounds()
    length, beam, depth = (float(x) for x in (hi - lo))
    open_edges = open_edge_count(hmesh.faces)
    report = LoadReport(
        source_path=str(path),
        file_format=raw.file_format,
        sha256=sha,
        original_vertices=raw.n_vertices,
        original_triangles=raw.n_faces,
        repairs=tuple(repairs),
        notes=tuple(notes),
        warnings=tuple(warnings),
        units=units_used,
        scale=float(scale),
        transform=tuple(tuple(float(x) for x in row) for row in np.asarray(transform)),
        length_m=length,
        beam_m=beam,
        depth_m=depth,
        watertight=mesh_is_closed(hmesh.faces),
        open_edges=open_edges,
        shells=count_shells(hmesh.faces),
        triangles=hmesh.n_faces,
        area_m2=hmesh.area_m2(),
        volume_m3=hmesh.signed_volume_m3(),
    )
    return LoadedMesh(hmesh, report)
