"""Keep the outside of an open hull: faces no ray from outside can reach are internal
walls or doubled sheets (a half hull's centreline lid, a patch modelled twice), and faces
seen only from behind are wound inward. Used when repair cannot close a mesh, where
inside/outside parity no longer works.

Hull files often have no deck, so looking down into them shows the inside of the bottom.
Below the deck zone, only views from the side and from below count: that is where the
wetted surface is, and where a diver would look at it."""
from __future__ import annotations

import numpy as np

from .mesh import TriangleMesh
from .queries import RAYS_PER_CALL, raycasting_scene, sliced_query

FAR_M_FACTOR = 3.0
DECK_ZONE = 0.1  # the top tenth of the depth may also be judged from above
FROM_ABOVE_Z = 0.2  # a view direction with more upward component than this looks down from above  # rays start this many hull sizes away
TILT_DEG = 35.0  # besides the normal itself, look from four directions tilted by this


def _directions(normals: np.ndarray) -> list[np.ndarray]:
    """The normal and four tilted around it, per face."""
    helper = np.where(np.abs(normals[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    u = np.cross(normals, helper)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = np.cross(normals, u)
    t = np.tan(np.radians(TILT_DEG))
    out = [normals]
    for a, b in ((t, 0), (-t, 0), (0, t), (0, -t)):
        d = normals + a * u + b * v
        out.append(d / np.linalg.norm(d, axis=1, keepdims=True))
    return out


def keep_exterior(mesh: TriangleMesh) -> tuple[TriangleMesh, int, int]:
    """(mesh of the faces seen from outside, wound outward; dropped count; flipped count)."""
    scene = raycasting_scene(mesh)
    lo, hi = mesh.bounds()
    far = FAR_M_FACTOR * float(np.linalg.norm(hi - lo))
    centers = mesh.face_centers()
    normals = mesh.face_normals()
    ids = np.arange(mesh.n_faces)
    seen_front = np.zeros(mesh.n_faces, dtype=bool)
    seen_back = np.zeros(mesh.n_faces, dtype=bool)
    in_deck_zone = centers[:, 2] >= hi[2] - DECK_ZONE * (hi[2] - lo[2])
    for sign, seen in ((1.0, seen_front), (-1.0, seen_back)):
        for d in _directions(sign * normals):
            origins = centers + d * far
            rays = np.concatenate([origins, -d], axis=1).astype(np.float32)
            hit = sliced_query(scene.cast_rays, rays, RAYS_PER_CALL, ("primitive_ids",))["primitive_ids"]
            hit = hit.astype(np.int64)
            allowed = in_deck_zone | (d[:, 2] <= FROM_ABOVE_Z)
            seen |= (hit == ids) & allowed
    keep = seen_front | seen_back
    flip = ~seen_front & seen_back
    faces = mesh.faces.copy()
    faces[flip] = faces[flip][:, ::-1]
    return TriangleMesh(mesh.vertices, faces[keep]), int((~keep).sum()), int(flip.sum())


SHEET_GAP_FACTOR = 1e-4  # two faces closer than this fraction of the hull size are one sheet twice


def drop_doubled_sheets(mesh: TriangleMesh) -> tuple[TriangleMesh, int]:
    """A surface modelled twice (two patches on top of each other, facing the same way) is
    kept once: each face looks a hair outward along its normal; if another face lies right
    there, facing the same way, the one with the higher index goes."""
    lo, hi = mesh.bounds()
    gap = SHEET_GAP_FACTOR * float(np.linalg.norm(hi - lo))
    scene = raycasting_scene(mesh)
    centers, normals = mesh.face_centers(), mesh.face_normals()
    ids = np.arange(mesh.n_faces)
    drop = np.zeros(mesh.n_faces, dtype=bool)
    for sign in (1.0, -1.0):  # the twin may lie just outside or just inside
        origins = centers - sign * normals * gap
        rays = np.concatenate([origins, sign * normals], axis=1).astype(np.float32)
        ans = sliced_query(scene.cast_rays, rays, RAYS_PER_CALL, ("t_hit", "primitive_ids"))
        t = ans["t_hit"]
        hit = ans["primitive_ids"].astype(np.int64)
        valid = np.isfinite(t) & (hit < mesh.n_faces)
        other = np.where(valid, hit, ids)
        # the first hit may be the face itself: then look again from just past it
        same_face = valid & (other == ids)
        if same_face.any():
            rays2 = rays[same_face].copy()
            rays2[:, :3] = centers[same_face] + sign * normals[same_face] * (gap * 0.01)
            ans2 = sliced_query(scene.cast_rays, rays2, RAYS_PER_CALL, ("t_hit", "primitive_ids"))
            t[same_face] = ans2["t_hit"] + gap * 1.01
            other[same_face] = np.where(np.isfinite(ans2["t_hit"]), ans2["primitive_ids"].astype(np.int64),
                                        ids[same_face])
        near = np.isfinite(t) & (t <= 2.0 * gap) & (other != ids)
        other = np.clip(other, 0, mesh.n_faces - 1)
        twin = near & (np.einsum("ij,ij->i", normals, normals[other]) > 0.9)
        drop |= twin & (ids > other)
    return TriangleMesh(mesh.vertices, mesh.faces[~drop]), int(drop.sum())
