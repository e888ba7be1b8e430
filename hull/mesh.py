"""The triangle mesh every part of HullWatch shares: vertices in metres in the hull frame H.

Immutable: arrays are read-only, so a mesh can cross threads. Geometry helpers here are
pure numpy; heavy queries (ray casting, closest point) live in hull/queries.py (Open3D).
"""
from __future__ import annotations

import dataclasses

import numpy as np


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    out = np.ascontiguousarray(a, dtype=dtype)
    if out is a:
        out = out.copy()
    out.setflags(write=False)
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class TriangleMesh:
    """vertices: (N, 3) float64 metres; faces: (M, 3) int64 vertex indices, counter-clockwise
    seen from outside (normals point out of the hull)."""

    vertices: np.ndarray
    faces: np.ndarray

    def __post_init__(self):
        v = np.asarray(self.vertices)
        f = np.asarray(self.faces)
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"vertices must be (N, 3), got {v.shape}")
        if f.ndim != 2 or f.shape[1] != 3:
            raise ValueError(f"faces must be (M, 3), got {f.shape}")
        if f.size and (f.min() < 0 or f.max() >= len(v)):
            raise ValueError("faces index vertices that do not exist")
        object.__setattr__(self, "vertices", _frozen(v, np.float64))
        object.__setattr__(self, "faces", _frozen(f, np.int64))

    @property
    def n_vertices(self) -> int:
        return len(self.vertices)

    @property
    def n_faces(self) -> int:
        return len(self.faces)

    def triangles(self) -> np.ndarray:
        """(M, 3, 3) corner coordinates."""
        return self.vertices[self.faces]

    def face_normals(self) -> np.ndarray:
        """(M, 3) unit normals (zero for degenerate faces)."""
        t = self.triangles()
        n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        length = np.linalg.norm(n, axis=1, keepdims=True)
        return np.divide(n, length, out=np.zeros_like(n), where=length > 0)

    def face_areas(self) -> np.ndarray:
        t = self.triangles()
        return 0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1)

    def face_centers(self) -> np.ndarray:
        return self.triangles().mean(axis=1)

    def area_m2(self) -> float:
        return float(self.face_areas().sum())

    def signed_volume_m3(self) -> float:
        """Positive for a closed mesh with outward normals."""
        t = self.triangles()
        return float(np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6.0)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    def edges_sorted(self) -> np.ndarray:
        """(3M, 2) undirected edges, each row sorted."""
        e = self.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
        return np.sort(e, axis=1)

    def edge_use_counts(self) -> np.ndarray:
        """How many faces use each distinct undirected edge. Each edge is one int64 key: a
        row-wise np.unique sorts a structured dtype, 30 times slower and holding the GIL
        throughout (0.4 s on a 90k-face hull, a frozen window when a worker thread asks)."""
        e = self.edges_sorted().astype(np.int64)
        return np.unique(e[:, 0] * max(len(self.vertices), 1) + e[:, 1], return_counts=True)[1]

    def boundary_edge_count(self) -> int:
        """Edges used by exactly one face (0 for a closed mesh)."""
        return int((self.edge_use_counts() == 1).sum())

    def is_watertight(self) -> bool:
        counts = self.edge_use_counts()
        return bool(len(counts)) and bool((counts == 2).all())

    def transformed(self, matrix: np.ndarray) -> "TriangleMesh":
        """Apply a 4x4 (or 3x3) transform; a mirroring transform also flips the winding."""
        m = np.asarray(matrix, dtype=float)
        rot = m[:3, :3]
        v = self.vertices @ rot.T + (m[:3, 3] if m.shape == (4, 4) else 0.0)
        f = self.faces[:, ::-1] if np.linalg.det(rot) < 0 else self.faces
        return TriangleMesh(v, f)
