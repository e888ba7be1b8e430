"""Closed test solids with known answers (built here, not loaded)."""
from __future__ import annotations

import numpy as np

from hull.mesh import TriangleMesh


def box_mesh(length: float, beam: float, depth: float, n: int = 8) -> TriangleMesh:
    """A closed, outward box from (0, -beam/2, 0) to (length, beam/2, depth), each face an
    n x n grid so that cuts cross many triangles."""
    verts, faces = [], []

    def face(origin, u, v):
        base = len(verts)
        for i in range(n + 1):
            for j in range(n + 1):
                verts.append(origin + u * i / n + v * j / n)
        for i in range(n):
            for j in range(n):
                a = base + i * (n + 1) + j
                b, c, d = a + n + 1, a + 1, a + n + 2
                faces.append((a, b, d))
                faces.append((a, d, c))

    L, B, D = length, beam, depth
    o = np.array([0.0, -B / 2, 0.0])
    X, Y, Z = np.array([L, 0, 0.0]), np.array([0, B, 0.0]), np.array([0, 0, D])
    face(o, Y, X)  # bottom, normal -z
    face(o + Z, X, Y)  # top, +z
    face(o, X, Z)  # starboard side y=-B/2, normal -y
    face(o + Y, Z, X)  # port side, +y
    face(o, Z, Y)  # aft, -x
    face(o + X, Y, Z)  # fore, +x
    mesh = TriangleMesh(np.array(verts), np.array(faces))
    # weld the shared edges so the box is one closed surface
    v, inverse = np.unique(np.round(mesh.vertices, 9), axis=0, return_inverse=True)
    return TriangleMesh(v, inverse.reshape(-1)[mesh.faces])
