"""Closed triangle meshes for planted objects (boxes, bags, cylinders), posed in H."""
from __future__ import annotations

import math

import numpy as np

from hull.mesh import TriangleMesh

_BOX_V = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
_BOX_F = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                   [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
CYLINDER_SIDES = 16
CYLINDER_KINDS = frozenset({"torpedo", "fender", "rope", "fish"})


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


def posed_shape(cylinder: bool, center_h, axis_h, normal_h, size_m) -> TriangleMesh:
    """A box or a cylinder (along its axis) of size (length, width, height), posed in H."""
    v, f = _unit_cylinder() if cylinder else (_BOX_V, _BOX_F)
    local = v * np.asarray(size_m, float)
    return TriangleMesh(local @ _frame(normal_h, axis_h).T + np.asarray(center_h, float), f)


def object_mesh(obj) -> TriangleMesh:
    return posed_shape(obj.kind in CYLINDER_KINDS, obj.center_h, obj.axis_h, obj.normal_h, obj.size_m)


def combined_mesh(meshes: list[TriangleMesh]) -> tuple[TriangleMesh, np.ndarray]:
    """One mesh of several, and the index of the source mesh of each face."""
    verts, faces, owner, base = [], [], [], 0
    for k, m in enumerate(meshes):
        verts.append(m.vertices)
        faces.append(m.faces + base)
        owner.append(np.full(m.n_faces, k))
        base += m.n_vertices
    return TriangleMesh(np.vstack(verts), np.vstack(faces)), np.concatenate(owner)
