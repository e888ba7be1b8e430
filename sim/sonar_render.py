"""A multibeam imaging sonar (Oculus-like) rendered by ray casting the real scene.

Each beam is a fan of rays across the vertical aperture; every ray's first hit returns
an echo at its range with a strength from the surface's reflectivity and the incidence
angle (Lambert-like backscatter), so the objects' acoustic shadows fall out of the first
hit rule. Then the beam pattern spreads energy into neighbouring beams, the range bins
get speckle (Rayleigh) and noise, and time-varied gain compensates spreading loss.
Output: the polar image (range bins x beams, like the Oculus image) and the ground-truth
boxes of the planted objects in that image.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from hull.queries import raycasting_scene

from .object_meshes import combined_mesh, object_mesh

HULL_REFLECTIVITY = 0.35
SEABED_REFLECTIVITY = 0.25
QUAY_REFLECTIVITY = 0.45


@dataclasses.dataclass(frozen=True)
class MultibeamConfig:
    beams: int = 256
    swath_deg: float = 130.0
    vertical_aperture_deg: float = 20.0
    range_bins: int = 512
    min_range_m: float = 0.1
    max_range_m: float = 10.0
    rays_per_beam: int = 12  # across the vertical aperture
    noise_level: float = 0.02
    gain: float = 1.0

    @property
    def range_resolution_m(self) -> float:
        return (self.max_range_m - self.min_range_m) / self.range_bins

    def bearings_deg(self) -> np.ndarray:
        return np.linspace(-self.swath_deg / 2, self.swath_deg / 2, self.beams)


@dataclasses.dataclass(frozen=True, eq=False)
class SonarFrame:
    intensities: np.ndarray  # (range_bins, beams) uint8, row 0 = nearest range
    bearings_deg: np.ndarray
    range_resolution_m: float
    min_range_m: float
    boxes_polar: tuple  # (name, class, (beam0, range0, beam1, range1)) per visible object


class SonarScene:
    """The hull (with the planted objects) as one ray-casting scene."""

    def __init__(self, hull_mesh, objects=(), seabed_z_h: float | None = None):
        meshes = [hull_mesh] + [object_mesh(o) for o in objects]
        mesh, owner = combined_mesh(meshes)
        self.objects = tuple(objects)
        self.owner = owner  # 0 = hull, k = objects[k-1]
        self.reflectivity = np.concatenate([[HULL_REFLECTIVITY], [o.reflectivity for o in objects]])
        self.normals = mesh.face_normals()
        self.seabed_z_h = seabed_z_h
        self.scene = raycasting_scene(mesh)

    def render(self, position_h, forward_h, up_h, config: MultibeamConfig, rng: np.random.Generator) -> SonarFrame:
        import open3d as o3d

        f = np.asarray(forward_h, float); f /= np.linalg.norm(f)
        u = np.asarray(up_h, float); u = u - f * np.dot(u, f); u /= np.linalg.norm(u)
        r = np.cross(f, u)  # starboard (right) when looking along f with u up
        bearings = np.radians(config.bearings_deg())
        elev = np.radians(np.linspace(-config.vertical_aperture_deg / 2, config.vertical_aperture_deg / 2,
                                      config.rays_per_beam))
        b, e = np.meshgrid(bearings, elev, indexing="ij")  # (beams, rays)
        dirs = (np.cos(e)[..., None] * (np.cos(b)[..., None] * f + np.sin(b)[..., None] * r)
                + np.sin(e)[..., None] * u).reshape(-1, 3)
        origins = np.broadcast_to(np.asarray(position_h, float), dirs.shape)
        rays = np.concatenate([origins, dirs], axis=1).astype(np.float32)
        ans = self.scene.cast_rays(o3d.core.Tensor(rays))
        t = ans["t_hit"].numpy().astype(float)
        prim = ans["primitive_ids"].numpy().astype(np.int64)
        hit = np.isfinite(t) & (prim < len(self.owner))
        refl = np.zeros(len(t))
        cos_inc = np.zeros(len(t))
        who = np.full(len(t), -1)
        if hit.any():
            who[hit] = self.owner[prim[hit]]
            refl[hit] = self.reflectivity[who[hit]]
            cos_inc[hit] = np.abs(np.einsum("ij,ij->i", self.normals[prim[hit]], dirs[hit]))
        if self.seabed_z_h is not None:  # the seabed as a plane, where nothing nearer was hit
            down = dirs[:, 2] < -1e-6
            t_bed = np.where(down, (self.seabed_z_h - origins[:, 2]) / np.where(down, dirs[:, 2], -1.0), np.inf)
            bed = ~hit & np.isfinite(t_bed) & (t_bed > 0)
            t = np.where(bed, t_bed, t)
            refl[bed] = SEABED_REFLECTIVITY
            cos_inc[bed] = np.abs(dirs[bed, 2])
            hit |= bed
        in_range = hit & (t >= config.min_range_m) & (t < config.max_range_m)
        strength = refl * cos_inc ** 1.0  # backscatter falls with incidence
        bins = ((t - config.min_range_m) / config.range_resolution_m).astype(np.int64)
        beam_of = np.repeat(np.arange(config.beams), config.rays_per_beam)
        img = np.zeros((config.range_bins, config.beams))
        np.add.at(img, (bins[in_range], beam_of[in_range]), strength[in_range])
        img /= config.rays_per_beam
        img = _beam_pattern(img)
        img *= rng.rayleigh(1.0, img.shape)  # speckle
        img += config.noise_level * rng.rayleigh(1.0, img.shape)
        img = np.clip(img * config.gain * 255.0 * 2.0, 0, 255).astype(np.uint8)
        img.setflags(write=False)
        boxes = self._boxes(who, in_range, bins, beam_of)
        return SonarFrame(img, config.bearings_deg(), config.range_resolution_m, config.min_range_m, boxes)

    def _boxes(self, who, in_range, bins, beam_of):
        out = []
        for k, obj in enumerate(self.objects, start=1):
            mask = in_range & (who == k)
            if mask.sum() < 2:
                continue  # hidden (shadowed, behind a grating) or out of the fan
            out.append((obj.name, obj.class_name, (int(beam_of[mask].min()), int(bins[mask].min()),
                                                   int(beam_of[mask].max()) + 1, int(bins[mask].max()) + 1)))
        return tuple(out)


def _beam_pattern(img: np.ndarray) -> np.ndarray:
    """Side lobes: a little of each beam's energy leaks into its neighbours."""
    k = np.array([0.05, 0.15, 0.6, 0.15, 0.05])
    padded = np.pad(img, ((0, 0), (2, 2)), mode="edge")
    return sum(w * padded[:, i:i + img.shape[1]] for i, w in enumerate(k))
