"""The vehicle's camera, rendered by ray casting the real scene with underwater image
formation: wavelength-dependent attenuation along the light's and the camera's paths,
the vehicle's lights and their fall-off, backscatter, marine snow, blur, sensor noise and
compression. Every frame comes with per-pixel class ids and ground-truth boxes.

Conventions: OpenCV pinhole (x right, y down, z forward); the camera looks along the
vehicle's forward axis tilted by CamTilt; images are BGR uint8.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from hull.queries import raycasting_scene

from .object_meshes import combined_mesh, object_mesh

# per-channel (B, G, R) beam attenuation multipliers relative to the scenario's c at 532 nm:
# red is absorbed first, blue-green travels farthest (coastal water)
CHANNEL_ATTENUATION = np.array([0.85, 1.0, 1.9])
BACKSCATTER_COLOUR = np.array([0.55, 0.45, 0.15])  # greenish-blue veil (B, G, R)
HULL_PAINT = np.array([0.18, 0.16, 0.42])  # anti-fouling red, in BGR reflectance
FOULING = np.array([0.22, 0.38, 0.30])
PLATE_SPACING_M = (8.0, 2.5)  # plate seams along x and z


@dataclasses.dataclass(frozen=True)
class CameraConfig:
    width: int = 640
    height: int = 480
    hfov_deg: float = 80.0
    light_power: float = 25.0
    light_offset_m: float = 0.2  # lights either side of the camera
    exposure: float = 1.0
    blur_sigma_px: float = 0.8
    noise_sigma: float = 0.015
    jpeg_quality: int = 80
    marine_snow_per_frame: int = 120

    @property
    def fx(self) -> float:
        return self.width / 2 / math.tan(math.radians(self.hfov_deg) / 2)

    def intrinsics(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.width / 2], [0, self.fx, self.height / 2], [0, 0, 1.0]])


@dataclasses.dataclass(frozen=True, eq=False)
class CameraFrame:
    image: np.ndarray  # (H, W, 3) BGR uint8
    class_ids: np.ndarray  # (H, W) int16: -1 background/hull, else index into CLASSES of the object
    object_ids: np.ndarray  # (H, W) int16: 0 = nothing/hull, k = scene object k
    boxes: tuple  # (name, class, (x0, y0, x1, y1)) for each visible object


class CameraScene:
    def __init__(self, hull_mesh, objects=(), attenuation_per_m: float = 0.35, seabed_z_h: float | None = None):
        meshes = [hull_mesh] + [object_mesh(o) for o in objects]
        mesh, owner = combined_mesh(meshes)
        self.objects = tuple(objects)
        self.owner = owner
        self.normals = mesh.face_normals().astype(np.float32)
        self.c = float(attenuation_per_m)
        self.seabed_z_h = seabed_z_h
        self.colours = np.vstack([HULL_PAINT] + [np.asarray(o.color_rgb)[::-1] for o in objects]).astype(np.float32)
        self.scene = raycasting_scene(mesh)
        self._dirs_cache = {}

    def _camera_dirs(self, cfg: CameraConfig) -> np.ndarray:
        key = (cfg.width, cfg.height, cfg.hfov_deg)
        if key not in self._dirs_cache:
            u, v = np.meshgrid(np.arange(cfg.width) + 0.5, np.arange(cfg.height) + 0.5)
            d = np.stack([(u - cfg.width / 2) / cfg.fx, (v - cfg.height / 2) / cfg.fx, np.ones_like(u)], -1)
            self._dirs_cache[key] = (d / np.linalg.norm(d, axis=-1, keepdims=True)).reshape(-1, 3).astype(np.float32)
        return self._dirs_cache[key]

    def render(self, position_h, forward_h, up_h, cfg: CameraConfig, rng: np.random.Generator,
               class_of=None) -> CameraFrame:
        import cv2
        import open3d as o3d

        f = np.asarray(forward_h, float); f /= np.linalg.norm(f)
        up = np.asarray(up_h, float); up = up - f * np.dot(up, f); up /= np.linalg.norm(up)
        right = np.cross(f, up)
        # OpenCV camera axes in H: x right, y down, z forward
        rot = np.column_stack([right, -up, f]).astype(np.float32)
        dirs = self._camera_dirs(cfg) @ rot.T
        pos = np.asarray(position_h, float)
        rays = np.empty((len(dirs), 6), dtype=np.float32)
        rays[:, :3] = pos
        rays[:, 3:] = dirs
        ans = self.scene.cast_rays(o3d.core.Tensor(rays))
        t = ans["t_hit"].numpy()
        prim = ans["primitive_ids"].numpy().astype(np.int64)
        hit = np.isfinite(t) & (prim < len(self.owner))
        who = np.where(hit, self.owner[np.clip(prim, 0, len(self.owner) - 1)], -1)
        n = np.zeros_like(dirs)
        n[hit] = self.normals[prim[hit]]
        albedo = np.zeros_like(dirs)
        albedo[hit] = self.colours[who[hit]]
        pts = pos.astype(np.float32) + dirs * np.where(hit, t, np.float32(0.0))[:, None]
        hull_hit = hit & (who == 0)
        albedo[hull_hit] = _hull_texture(pts[hull_hit])
        if self.seabed_z_h is not None:
            down = dirs[:, 2] < -1e-6
            t_bed = np.where(down, (self.seabed_z_h - pos[2]) / np.where(down, dirs[:, 2], -1.0), np.inf)
            bed = ~hit & np.isfinite(t_bed)
            t = np.where(bed, t_bed, t)
            n[bed] = [0.0, 0.0, 1.0]
            albedo[bed] = [0.25, 0.32, 0.35]
            hit |= bed
        # two lights beside the camera: inverse-square fall-off, Lambertian surface. The lights
        # sit a hand's breadth from the lens, so light and view paths are taken as equal:
        # one attenuation over twice the range (float32 throughout: this is the hot loop)
        dist = np.where(hit, t, 0.0).astype(np.float32)
        pts32, n32 = pts, n
        lam = np.zeros(len(dist), dtype=np.float32)
        for side in (-1.0, 1.0):
            to_light = (pos + right * side * cfg.light_offset_m).astype(np.float32) - pts32
            d_l = np.sqrt(np.einsum("ij,ij->i", to_light, to_light)) + np.float32(1e-6)
            lam += np.clip(np.einsum("ij,ij->i", n32, to_light) / d_l, 0, None) / np.maximum(d_l, 0.05) ** 2
        att = np.exp(np.float32(-2.0 * self.c) * CHANNEL_ATTENUATION.astype(np.float32)[None, :] * dist[:, None])
        direct = (np.float32(cfg.light_power) * lam)[:, None] * albedo.astype(np.float32) * att
        direct[~hit] = 0.0
        # backscatter: the lit water between camera and scene, saturating with distance
        veil_d = np.where(hit, dist, np.float32(8.0))
        strength = 0.35 * min(1.0, self.c / 0.35) * cfg.light_power / 25.0
        veil = (BACKSCATTER_COLOUR.astype(np.float32)[None, :]
                * (np.float32(strength) * (1 - np.exp(np.float32(-0.9 * self.c) * veil_d)))[:, None])
        img = ((direct + veil) * np.float32(cfg.exposure)).reshape(cfg.height, cfg.width, 3)
        _marine_snow(img, rng, cfg.marine_snow_per_frame)
        if cfg.blur_sigma_px > 0:
            img = cv2.GaussianBlur(img, (0, 0), cfg.blur_sigma_px * (1 + self.c))
        img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(cfg.noise_sigma)
        img8 = np.clip(img * np.float32(255.0), 0, 255).astype(np.uint8)
        if cfg.jpeg_quality < 100:
            ok, buf = cv2.imencode(".jpg", img8, [cv2.IMWRITE_JPEG_QUALITY, int(cfg.jpeg_quality)])
            img8 = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        obj_ids = np.where(who > 0, who, 0).reshape(cfg.height, cfg.width).astype(np.int16)
        class_ids = np.full(obj_ids.shape, -1, dtype=np.int16)
        boxes = []
        for k, obj in enumerate(self.objects, start=1):
            mask = obj_ids == k
            if mask.sum() < 4:
                continue
            cid = class_of(obj.class_name) if (class_of and obj.class_name) else -1
            class_ids[mask] = cid
            ys, xs = np.nonzero(mask)
            boxes.append((obj.name, obj.class_name, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)))
        for a in (img8, class_ids, obj_ids):
            a.setflags(write=False)
        return CameraFrame(img8, class_ids, obj_ids, tuple(boxes))


def _hull_texture(p: np.ndarray) -> np.ndarray:
    """Paint with plate seams and weld lines, and patches of fouling, from the position."""
    p = p.astype(np.float32, copy=False)
    col = np.empty((len(p), 3), dtype=np.float32)
    col[:] = HULL_PAINT
    sx, sz = PLATE_SPACING_M
    seam = (np.abs(np.mod(p[:, 0], sx) - sx / 2) > 0.497 * sx) | (np.abs(np.mod(p[:, 2], sz) - sz / 2) > 0.49 * sz)
    col[seam] *= np.float32(0.55)
    fouling = np.sin(p[:, 0] * np.float32(1.7)) * np.sin(p[:, 2] * np.float32(2.3) + p[:, 1] * np.float32(0.7))
    w = np.clip((fouling * 0.5 + 0.5 - 0.55) * 2.5, 0, 1)[:, None]
    return col * (1 - w) + FOULING.astype(np.float32) * w


def _marine_snow(img: np.ndarray, rng: np.random.Generator, count: int) -> None:
    h, w, _ = img.shape
    ys = rng.integers(0, h, count)
    xs = rng.integers(0, w, count)
    img[ys, xs] += rng.uniform(0.2, 0.6, (count, 1)).astype(img.dtype)
