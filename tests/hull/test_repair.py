"""Repairs on synthetic meshes: welding, hole filling, stray shells, winding, half hulls."""
from __future__ import annotations

import numpy as np

from hull.repair import repair_mesh
from tests.hull.test_mesh_io import BOX_F, BOX_V


def _grid_box(n=6, size=(4.0, 2.0, 1.0)):
    """A closed box with every side split into n x n quads (so a small hole can be cut)."""
    verts, faces = [], []
    for axis in range(3):
        for side in (0.0, 1.0):
            u, w = [a for a in range(3) if a != axis]
            base = len(verts)
            for i in range(n + 1):
                for j in range(n + 1):
                    p = np.zeros(3)
                    p[axis], p[u], p[w] = side, i / n, j / n
                    verts.append(p)
            for i in range(n):
                for j in range(n):
                    a, b, c, d = (base + i * (n + 1) + j, base + (i + 1) * (n + 1) + j,
                                  base + (i + 1) * (n + 1) + j + 1, base + i * (n + 1) + j + 1)
                    quad = [[a, b, c], [a, c, d]]
                    outward = (side == 1.0) == ((axis, u, w) in ((0, 1, 2), (1, 0, 2)[::-1], (2, 0, 1)))
                    faces += quad if outward else [t[::-1] for t in quad]
    return np.array(verts) * size, np.array(faces)


def test_duplicates_welded_with_counts_and_box_stays_closed():
    v = BOX_V[BOX_F].reshape(-1, 3)          # STL-like soup: 36 corners
    f = np.arange(36).reshape(-1, 3)
    mesh, repairs, warnings = repair_mesh(v, f, mirror_half=False)
    assert mesh.n_vertices == 8 and mesh.is_watertight()
    assert any("welded 28 duplicate vertices" in r for r in repairs)
    assert mesh.signed_volume_m3() > 0


def test_inward_box_is_flipped():
    mesh, repairs, _ = repair_mesh(BOX_V, BOX_F[:, ::-1], mirror_half=False)
    assert mesh.signed_volume_m3() > 0 and any("inward" in r for r in repairs)


def test_small_hole_filled():
    v, f = _grid_box(n=6)
    mesh0, _, _ = repair_mesh(v, f, mirror_half=False)
    assert mesh0.is_watertight()
    holed = np.delete(mesh0.faces, [40, 41], axis=0)   # one quad out of a side
    mesh, repairs, warnings = repair_mesh(mesh0.vertices, holed, mirror_half=False)
    assert mesh.is_watertight(), warnings
    assert any("filled 1 small holes" in r or "closed a planar opening of 4 edges" in r for r in repairs), repairs
    assert abs(mesh.signed_volume_m3() - 8.0) < 1e-9


def test_tiny_stray_shell_dropped():
    tiny = BOX_V * 1e-3 + 10.0
    v = np.vstack([BOX_V, tiny])
    f = np.vstack([BOX_F, BOX_F + 8])
    mesh, repairs, _ = repair_mesh(v, f, mirror_half=False)
    assert mesh.n_faces == 12 and any("tiny disconnected shell" in r for r in repairs)


def test_half_box_mirrored_with_lid_removed():
    # A "half ship" box on y >= 0 with its centreline lid: mirrored into a closed full box.
    v, f = _grid_box(n=4, size=(10.0, 1.0, 1.0))
    mesh, repairs, warnings = repair_mesh(v, f)
    assert any("half hull detected" in r for r in repairs), repairs
    assert any("removed" in r and "y=0 plane" in r for r in repairs)
    lo, hi = mesh.bounds()
    assert np.isclose(lo[1], -hi[1]) and mesh.is_watertight()
    assert np.isclose(mesh.signed_volume_m3(), 20.0)
