"""Reading triangle meshes from files: STL (ASCII and binary), OBJ, PLY, any of them gzipped.

`read_mesh_file(path) -> RawMesh` returns the file's vertices and triangles as they are
(STL triangles are not yet welded: each facet has its own three vertices). Repairs and the
move into the hull frame happen in hull/repair.py and hull/normalize.py.

The format is found from the content, not only the suffix: gzip by its magic bytes, PLY by
its "ply" line, binary STL by its triangle count matching the file size (a binary STL may
start with "solid"), ASCII STL by "solid ... facet ... vertex", OBJ by its "v"/"f" lines.
Every failure raises `HullLoadError`, whose message names the file, the problem and what
to do about it.
"""
from __future__ import annotations

import dataclasses
import gzip
import re
import zlib
from pathlib import Path

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"
STL_HEADER_BYTES = 80
STL_BINARY_TRIANGLE_BYTES = 50

_STL_BINARY_DTYPE = np.dtype([
    ("normal", "<f4", (3,)),
    ("corners", "<f4", (3, 3)),
    ("attribute", "<u2"),
])

_KNOWN_NOT_MESH = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an executable"),
)

_SUPPORTED = "STL (ASCII or binary), OBJ or PLY, optionally gzipped"


class HullLoadError(ValueError):
    """A hull file could not be loaded; the message names the file, the cause and the fix."""


@dataclasses.dataclass(frozen=True, eq=False)
class RawMesh:
    """A mesh as read from a file, before repair.

    vertices: (N, 3) float64 in file units; faces: (M, 3) int64 indices into vertices;
    file_format: "stl-binary", "stl-ascii", "obj", "ply-ascii", "ply-binary_little_endian",
    "ply-binary_big_endian", prefixed "gzip+" when the file was compressed;
    solid_names: STL solid names (ASCII) or object/group names (OBJ), in file order.
    """

    vertices: np.ndarray
    faces: np.ndarray
    file_format: str
    solid_names: tuple[str, ...] = ()

    @property
    def n_vertices(self) -> int:
        return len(self.vertices)

    @property
    def n_faces(self) -> int:
        return len(self.faces)


def read_mesh_file(path) -> RawMesh:
    """Read a mesh file (format detected from content); raises HullLoadError."""
    path = Path(path)
    if not path.exists():
        raise HullLoadError(f"{path}: file not found; check the path (a hull mesh is {_SUPPORTED})")
    if path.is_dir():
        raise HullLoadError(f"{path}: is a folder, not a mesh file; give the path of an {_SUPPORTED} file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HullLoadError(f"{path}: cannot be read ({exc.strerror or exc}); check its permissions") from exc
    return read_mesh_bytes(data, name=str(path))


def read_mesh_bytes(data: bytes, name: str = "<bytes>") -> RawMesh:
    """Parse mesh file content; `name` (the file path) is used for format hints and messages."""
    prefix = ""
    inner_name = name
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise HullLoadError(f"{name}: gzip data is damaged ({exc}); re-download or re-export the file") from exc
        prefix = "gzip+"
        if inner_name.lower().endswith(".gz"):
            inner_name = inner_name[:-3]
    if not data.strip():
        raise HullLoadError(f"{name}: file is empty; export the hull again as {_SUPPORTED}")
    for magic, what in _KNOWN_NOT_MESH:
        if data.startswith(magic):
            raise HullLoadError(f"{name}: this is {what}, not a mesh; give an {_SUPPORTED} file")

    raw = _parse(data, name, inner_name)
    raw = dataclasses.replace(raw, file_format=prefix + raw.file_format)
    _check(raw, name)
    return raw


# --------------------------------------------------------------------------- dispatch


def _parse(data: bytes, name: str, inner_name: str) -> RawMesh:
    suffix = Path(inner_name).suffix.lower()
    head = data[:512].lstrip()
    if head[:3].lower() == b"ply":
        return _read_ply(data, name)
    if _is_binary_stl_size(data):
        if not (head[:5].lower() == b"solid" and _looks_ascii_stl(data)):
            return _read_stl_binary(data, name)
    if head[:5].lower() == b"solid" and _looks_ascii_stl(data):
        return _read_stl_ascii(data, name)
    if _looks_obj(data):
        return _read_obj(data, name)
    if suffix == ".stl":
        # Neither a matching binary size nor ASCII facets: a broken binary STL.
        return _read_stl_binary(data, name)
    if suffix in (".obj", ".ply"):
        raise HullLoadError(f"{name}: has the suffix {suffix} but no {suffix[1:].upper()} content; "
                            "re-export the hull")
    if not _is_text(data):
        raise HullLoadError(f"{name}: is not a mesh file (unknown binary content); give an {_SUPPORTED} file")
    raise HullLoadError(f"{name}: is a text file without mesh data (no STL facets, OBJ v/f lines or "
                        f"PLY header); give an {_SUPPORTED} file")


def _is_text(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_binary_stl_size(data: bytes) -> bool:
    if len(data) < STL_HEADER_BYTES + 4:
        return False
    n = int(np.frombuffer(data, "<u4", 1, STL_HEADER_BYTES)[0])
    return n > 0 and len(data) == STL_HEADER_BYTES + 4 + STL_BINARY_TRIANGLE_BYTES * n


def _looks_ascii_stl(data: bytes) -> bool:
    sample = data[:4096].lower()
    has_facets = (b"facet" in sample and b"vertex" in sample) or b"endsolid" in data[-512:].lower()
    return has_facets and _is_text(data)


_OBJ_LINE = re.compile(rb"^[ \t]*(v|f)[ \t]", re.M)


def _looks_obj(data: bytes) -> bool:
    if not _is_text(data):
        return False
    kinds = set(_OBJ_LINE.findall(data[:1 << 20]))
    return b"v" in kinds or b"f" in kinds


def _check(raw: RawMesh, name: str) -> None:
    if raw.faces.size == 0:
        raise HullLoadError(f"{name}: contains no triangles ({raw.file_format}); export the hull as a "
                            "surface mesh, not points or lines")
    if not np.isfinite(raw.vertices).all():
        bad = int((~np.isfinite(raw.vertices).all(axis=1)).sum())
        raise HullLoadError(f"{name}: {bad} vertices have NaN or infinite coordinates; "
                            "repair the export (the mesh is corrupt)")
    if raw.faces.min() < 0 or raw.faces.max() >= len(raw.vertices):
        raise HullLoadError(f"{name}: faces refer to vertices that do not exist "
                            f"(index range {raw.faces.min()}..{raw.faces.max()}, {len(raw.vertices)} vertices); "
                            "the file is corrupt, export it again")


# --------------------------------------------------------------------------- STL


def _read_stl_binary(data: bytes, name: str) -> RawMesh:
    if len(data) < STL_HEADER_BYTES + 4:
        raise HullLoadError(f"{name}: too short for a binary STL ({len(data)} bytes, a header alone is 84); "
                            "the file is truncated or not an STL")
    n = int(np.frombuffer(data, "<u4", 1, STL_HEADER_BYTES)[0])
    available = (len(data) - STL_HEADER_BYTES - 4) // STL_BINARY_TRIANGLE_BYTES
    if n > available:
        raise HullLoadError(f"{name}: binary STL is truncated: its header announces {n} triangles but the "
                            f"file holds only {available}; copy or download the file again")
    if n == 0:
        raise HullLoadError(f"{name}: binary STL with 0 triangles; export the hull again")
    rec = np.frombuffer(data, _STL_BINARY_DTYPE, n, STL_HEADER_BYTES + 4)
    vertices = rec["corners"].reshape(-1, 3).astype(np.float64)
    faces = np.arange(3 * n, dtype=np.int64).reshape(-1, 3)
    header = data[:STL_HEADER_BYTES].split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    names = (header,) if header else ()
    return RawMesh(vertices, faces, "stl-binary", names)


_STL_VERTEX = re.compile(rb"vertex[ \t]+([^\r\n]*)")
_STL_VERTEX_ANY_CASE = re.compile(rb"vertex[ \t]+([^\r\n]*)", re.I)


def _stl_solid_names(data: bytes) -> tuple[str, ...]:
    names = []
    pos = data.find(b"solid")
    while pos >= 0:
        if data[max(0, pos - 3):pos].lower() != b"end":
            end = data.find(b"\n", pos)
            line = data[pos + 5:end if end >= 0 else len(data)]
            names.append(line.decode("utf-8", "replace").strip())
        pos = data.find(b"solid", pos + 5)
    return tuple(names)


def _read_stl_ascii(data: bytes, name: str) -> RawMesh:
    rows = _STL_VERTEX.findall(data) or _STL_VERTEX_ANY_CASE.findall(data)
    if not rows:
        raise HullLoadError(f"{name}: ASCII STL without any 'vertex' lines; export the hull again")
    if len(rows) % 3:
        raise HullLoadError(f"{name}: ASCII STL has {len(rows)} vertices, not a multiple of 3 "
                            "(a facet is cut short); the file is truncated")
    try:
        vertices = np.loadtxt(rows, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise HullLoadError(f"{name}: ASCII STL has a vertex line that is not three numbers ({exc}); "
                            "the file is corrupt") from exc
    if vertices.shape != (len(rows), 3):
        raise HullLoadError(f"{name}: ASCII STL vertex lines must hold three numbers each; the file is corrupt")
    faces = np.arange(len(vertices), dtype=np.int64).reshape(-1, 3)
    return RawMesh(vertices, faces, "stl-ascii", _stl_solid_names(data))


# --------------------------------------------------------------------------- OBJ


def _read_obj(data: bytes, name: str) -> RawMesh:
    text = data.decode("utf-8", "replace")
    vert_rows: list[str] = []
    faces: list[list[int]] = []
    names: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("v ") or line.startswith("v\t"):
            vert_rows.append(line[2:])
        elif line.startswith("f ") or line.startswith("f\t"):
            nv = len(vert_rows)
            idx = []
            for token in line[2:].split():
                head = token.split("/", 1)[0]
                try:
                    i = int(head)
                except ValueError:
                    raise HullLoadError(f"{name}: OBJ line {lineno}: face index {token!r} is not a number; "
                                        "the file is corrupt") from None
                if i == 0:
                    raise HullLoadError(f"{name}: OBJ line {lineno}: face index 0 (OBJ counts from 1); "
                                        "the file is corrupt")
                idx.append(i - 1 if i > 0 else nv + i)
            if len(idx) < 3:
                raise HullLoadError(f"{name}: OBJ line {lineno}: a face needs at least 3 vertices")
            for k in range(1, len(idx) - 1):  # fan triangulation of polygons
                faces.append([idx[0], idx[k], idx[k + 1]])
        elif line.startswith(("o ", "g ")):
            names.append(line[2:].strip())
    if not vert_rows:
        raise HullLoadError(f"{name}: OBJ file without vertices ('v' lines); export the hull again")
    # Vertices may carry an optional w (or colours): keep the first three numbers.
    try:
        parts = [r.split() for r in vert_rows]
        widths = {len(p) for p in parts}
        if widths == {3}:
            vertices = np.array(" ".join(vert_rows).split(), dtype=np.float64).reshape(-1, 3)
        else:
            vertices = np.array([p[:3] for p in parts], dtype=np.float64)
    except ValueError as exc:
        raise HullLoadError(f"{name}: OBJ vertex line is not numbers ({exc}); the file is corrupt") from exc
    f = np.array(faces, dtype=np.int64).reshape(-1, 3)
    return RawMesh(vertices, f, "obj", tuple(names))


# --------------------------------------------------------------------------- PLY

_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}


@dataclasses.dataclass
class _PlyElement:
    name: str
    count: int
    props: list  # (name, dtype str) for scalars, (name, count dtype, item dtype, "list")


def _parse_ply_header(data: bytes, name: str):
    end = re.search(rb"end_header[ \t]*\r?\n", data)
    if end is None:
        raise HullLoadError(f"{name}: PLY header has no 'end_header' line; the file is truncated or corrupt")
    lines = data[:end.start()].decode("ascii", "replace").splitlines()
    fmt = None
    elements: list[_PlyElement] = []
    for line in lines[1:]:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        try:
            if words[0] == "format":
                fmt = words[1]
            elif words[0] == "element":
                elements.append(_PlyElement(words[1], int(words[2]), []))
            elif words[0] == "property":
                if not elements:
                    raise HullLoadError(f"{name}: PLY property before any element; the header is corrupt")
                if words[1] == "list":
                    elements[-1].props.append((words[4], _PLY_TYPES[words[2]], _PLY_TYPES[words[3]], "list"))
                else:
                    elements[-1].props.append((words[2], _PLY_TYPES[words[1]]))
        except (IndexError, KeyError, ValueError) as exc:
            raise HullLoadError(f"{name}: PLY header line {line!r} is not understood ({exc}); "
                                "the header is corrupt") from None
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise HullLoadError(f"{name}: PLY format {fmt!r} is not supported (ascii, binary_little_endian, "
                            "binary_big_endian)")
    return fmt, elements, end.end()


def _read_ply(data: bytes, name: str) -> RawMesh:
    fmt, elements, body_start = _parse_ply_header(data, name)
    if fmt == "ascii":
        values = _read_ply_ascii(data[body_start:], elements, name)
    else:
        values = _read_ply_binary(data, body_start, elements, "<" if fmt == "binary_little_endian" else ">", name)
    if "vertex" not in values:
        raise HullLoadError(f"{name}: PLY without a 'vertex' element; export the hull as a mesh")
    vertex = values["vertex"]
    if not all(k in vertex for k in ("x", "y", "z")):
        raise HullLoadError(f"{name}: PLY vertices lack x, y or z; export the hull with positions")
    vertices = np.column_stack([vertex["x"], vertex["y"], vertex["z"]]).astype(np.float64)
    face = values.get("face", {})
    lists = face.get("vertex_indices", face.get("vertex_index"))
    if lists is None:
        faces = np.zeros((0, 3), np.int64)
    elif isinstance(lists, np.ndarray):
        faces = lists.astype(np.int64).reshape(-1, 3)
    else:
        tris = []
        for poly in lists:
            for k in range(1, len(poly) - 1):
                tris.append((poly[0], poly[k], poly[k + 1]))
        faces = np.array(tris, dtype=np.int64).reshape(-1, 3)
    return RawMesh(vertices, faces, "ply-" + fmt, ())


def _read_ply_ascii(body: bytes, elements, name):
    lines = body.decode("ascii", "replace").splitlines()
    pos = 0
    out = {}
    for el in elements:
        rows = lines[pos:pos + el.count]
        pos += el.count
        if len(rows) < el.count:
            raise HullLoadError(f"{name}: PLY has {len(rows)} {el.name} lines, the header announces {el.count}; "
                                "the file is truncated")
        has_list = any(len(p) == 4 for p in el.props)
        if not has_list:
            try:
                arr = np.array(" ".join(rows).split(), dtype=np.float64).reshape(el.count, len(el.props))
            except ValueError as exc:
                raise HullLoadError(f"{name}: PLY {el.name} lines are not {len(el.props)} numbers each; "
                                    "the file is corrupt") from exc
            out[el.name] = {p[0]: arr[:, i] for i, p in enumerate(el.props)}
            continue
        cols: dict = {p[0]: [] for p in el.props}
        for row in rows:
            words = row.split()
            k = 0
            try:
                for p in el.props:
                    if len(p) == 4:
                        n = int(words[k])
                        cols[p[0]].append([int(w) for w in words[k + 1:k + 1 + n]])
                        k += 1 + n
                    else:
                        cols[p[0]].append(float(words[k]))
                        k += 1
            except (IndexError, ValueError):
                raise HullLoadError(f"{name}: PLY {el.name} line {row!r} is malformed; the file is corrupt") from None
        out[el.name] = _maybe_triangle_array(cols)
    return out


def _maybe_triangle_array(cols: dict) -> dict:
    for key in ("vertex_indices", "vertex_index"):
        lists = cols.get(key)
        if lists is not None and lists and all(len(p) == 3 for p in lists):
            cols[key] = np.array(lists, dtype=np.int64)
    return cols


def _read_ply_binary(data: bytes, offset: int, elements, endian: str, name: str):
    out = {}
    for el in elements:
        has_list = any(len(p) == 4 for p in el.props)
        if not has_list:
            dt = np.dtype([(p[0], endian + p[1]) for p in el.props])
            need = dt.itemsize * el.count
            if offset + need > len(data):
                raise HullLoadError(f"{name}: binary PLY is truncated in its {el.name} data "
                                    f"({el.count} announced); copy or export the file again")
            arr = np.frombuffer(data, dt, el.count, offset)
            offset += need
            out[el.name] = {p[0]: arr[p[0]] for p in el.props}
            continue
        # Fast path: every list holds 3 items (triangles) -> one structured dtype.
        fields = []
        for p in el.props:
            if len(p) == 4:
                fields += [(p[0] + "__n", endian + p[1]), (p[0], endian + p[2], (3,))]
            else:
                fields.append((p[0], endian + p[1]))
        dt = np.dtype(fields)
        if offset + dt.itemsize * el.count <= len(data):
            arr = np.frombuffer(data, dt, el.count, offset)
            counts_ok = all((arr[p[0] + "__n"] == 3).all() for p in el.props if len(p) == 4)
            if counts_ok:
                offset += dt.itemsize * el.count
                out[el.name] = {p[0]: np.array(arr[p[0]]) for p in el.props}
                continue
        # General path: walk the records one by one.
        cols: dict = {p[0]: [] for p in el.props}
        try:
            for _ in range(el.count):
                for p in el.props:
                    if len(p) == 4:
                        cdt = np.dtype(endian + p[1])
                        n = int(np.frombuffer(data, cdt, 1, offset)[0])
                        offset += cdt.itemsize
                        idt = np.dtype(endian + p[2])
                        cols[p[0]].append(np.frombuffer(data, idt, n, offset).tolist())
                        offset += idt.itemsize * n
                    else:
                        sdt = np.dtype(endian + p[1])
                        cols[p[0]].append(np.frombuffer(data, sdt, 1, offset)[0])
                        offset += sdt.itemsize
        except ValueError:
            raise HullLoadError(f"{name}: binary PLY is truncated in its {el.name} data; "
                                "copy or export the file again") from None
        out[el.name] = _maybe_triangle_array(cols)
    return out
