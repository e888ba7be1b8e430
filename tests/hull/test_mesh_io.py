"""Reading STL/OBJ/PLY (and gzip) into RawMesh; HullLoadError for files that are not meshes."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from hull.mesh_io import HullLoadError, read_mesh_file

BOX_V = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
                  [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], float) * [4.0, 2.0, 1.0]
BOX_F = np.array([[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
                  [1, 2, 6], [1, 6, 5], [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7]])


def stl_ascii(v, f) -> bytes:
    out = ["solid box"]
    for tri in f:
        out += ["  facet normal 0 0 0", "    outer loop"]
        out += [f"      vertex {x:.9g} {y:.9g} {z:.9g}" for x, y, z in v[tri]]
        out += ["    endloop", "  endfacet"]
    return ("\n".join(out + ["endsolid box"]) + "\n").encode()


def stl_binary(v, f, header=b"binary box") -> bytes:
    body = b"".join(struct.pack("<12fH", 0, 0, 0, *v[tri].ravel(), 0) for tri in f)
    return header.ljust(80, b" ") + struct.pack("<I", len(f)) + body


def test_ascii_and_binary_stl_same_mesh(tmp_path):
    (tmp_path / "a.stl").write_bytes(stl_ascii(BOX_V, BOX_F))
    (tmp_path / "b.stl").write_bytes(stl_binary(BOX_V, BOX_F, header=b"solid but binary"))
    a, b = read_mesh_file(tmp_path / "a.stl"), read_mesh_file(tmp_path / "b.stl")
    assert a.file_format == "stl-ascii" and b.file_format == "stl-binary"
    assert a.solid_names == ("box",)
    np.testing.assert_allclose(a.vertices, b.vertices, atol=1e-6)
    np.testing.assert_array_equal(a.faces, b.faces)
    assert a.n_faces == 12


def test_gzip_detected_by_magic_not_suffix(tmp_path):
    p = tmp_path / "hull.bin"
    p.write_bytes(gzip.compress(stl_binary(BOX_V, BOX_F)))
    raw = read_mesh_file(p)
    assert raw.file_format == "gzip+stl-binary" and raw.n_faces == 12


def test_obj_quads_negative_indices_comments(tmp_path):
    text = """# a box made of quads
o box
v 0 0 0
v 4 0 0
v 4 2 0
v 0 2 0   # trailing comment
v 0 0 1
v 4 0 1
v 4 2 1
v 0 2 1
vn 0 0 1
f 1//1 4//1 3//1 2//1
f 5/1/1 6/1/1 7/1/1 8/1/1
f -8 -7 -3 -4
f 2 3 7 6
f 3 4 8 7
f 4 1 5 8
"""
    p = tmp_path / "box.obj"
    p.write_text(text)
    raw = read_mesh_file(p)
    assert raw.file_format == "obj" and raw.solid_names == ("box",)
    assert raw.n_vertices == 8 and raw.n_faces == 12
    np.testing.assert_array_equal(raw.faces[4], [0, 1, 5])  # -8 -7 -3 -4 -> 0 1 5 4, fanned


def _ply_header(fmt, nv, nf, count="uchar"):
    return (f"ply\nformat {fmt} 1.0\ncomment test\nelement vertex {nv}\nproperty float x\nproperty float y\n"
            f"property float z\nproperty uchar red\nelement face {nf}\nproperty list {count} int vertex_indices\n"
            "end_header\n").encode()


def test_ply_ascii_and_binary(tmp_path):
    body = "".join(f"{x} {y} {z} 255\n" for x, y, z in BOX_V)
    body += "4 0 3 2 1\n" + "".join(f"3 {a} {b} {c}\n" for a, b, c in BOX_F[2:])
    (tmp_path / "a.ply").write_bytes(_ply_header("ascii", 8, 11) + body.encode())
    a = read_mesh_file(tmp_path / "a.ply")
    assert a.file_format == "ply-ascii" and a.n_faces == 12
    for fmt, e in (("binary_little_endian", "<"), ("binary_big_endian", ">")):
        data = _ply_header(fmt, 8, 12, "int")
        data += b"".join(struct.pack(e + "3fB", *p, 7) for p in BOX_V)
        data += b"".join(struct.pack(e + "i3i", 3, *t) for t in BOX_F)
        (tmp_path / f"{fmt}.ply").write_bytes(data)
        b = read_mesh_file(tmp_path / f"{fmt}.ply")
        assert b.file_format == "ply-" + fmt
        np.testing.assert_allclose(b.vertices, BOX_V)
        np.testing.assert_array_equal(b.faces, BOX_F)


@pytest.mark.parametrize("name,content,words", [
    ("empty.stl", b"", "empty"),
    ("picture.stl", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG"),
    ("notes.txt", b"hello, this is not a hull\n", "without mesh data"),
    ("trunc.stl", stl_binary(BOX_V, BOX_F)[:-60], "truncated"),
    ("nan.obj", b"v 0 0 0\nv 1 0 nan\nv 0 1 0\nf 1 2 3\n", "NaN"),
    ("points.obj", b"v 0 0 0\nv 1 0 0\n", "no triangles"),
])
def test_bad_files_raise_hull_load_error_naming_the_file(tmp_path, name, content, words):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(HullLoadError) as exc:
        read_mesh_file(p)
    assert name in str(exc.value) and words.lower() in str(exc.value).lower()
    assert isinstance(exc.value, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(HullLoadError, match="not found"):
        read_mesh_file(tmp_path / "nope.stl")
