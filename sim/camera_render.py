"""The vehicle's camera, rendered by ray casting the real scene with underwater image
formation. Every frame comes with per-pixel class ids and ground-truth boxes.

Image formation, per colour channel k (B, G, R), for a pixel whose ray meets a surface of
albedo rho at range t (after Jaffe-McGlamery and Akkaynak-Treibitz):

    I_k = rho_k (E_lights T_k^2 + E_day,k T_k) + B_inf,k (1 - T_k) + veil_k,   T_k = exp(-c_k t)

* c_k: beam attenuation, the scenario's c (at 532 nm) times a per-channel factor (red is
  absorbed first); light from the vehicle's lamps travels out and back (T^2), daylight
  only back (T).
* E_lights: two lamps beside the lens, inverse-square fall-off, a cos^2 beam, Lambertian
  surfaces.
* E_day: daylight at the point's depth, exp(-K_d,k depth), weighted by how much the surface
  faces up and by the material's exposure (a recess sees little sky).
* B_inf: the water's own colour far away (space light), darker with the camera's depth;
  rays that meet nothing see it. Rays that reach the water surface see it from below:
  bright inside Snell's window (48.6 deg from the vertical), darker outside it, rippled.
* veil: backscatter of the lamps' light by the water, saturating with range.
Then marine snow (lit particles in front of the scene), optical blur, sensor noise (read
plus shot noise), JPEG.

Speed: directions, light-beam and pixel tables are per resolution; the ray cast is the only
per-frame geometry; shading is float32 on flat arrays, with no per-pixel Python, in blocks
of rays small enough that its intermediates stay in the core's cache (bench/bench_world.py).

Conventions: OpenCV pinhole (x right, y down, z forward); images are BGR uint8.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from hull.queries import raycasting_scene

from .textures import hull_texture, quay_texture, ripple_texture, seabed_texture, texture_atlas
from .world_geometry import as_scene_geometry

CHANNEL_ATTENUATION = np.array([0.85, 1.0, 1.9], np.float32)  # c_k / c(532 nm), coastal water (B, G, R)
DIFFUSE_OVER_BEAM = 0.3  # K_d / c: downwelling light fades slower than a beam
SPACE_LIGHT = np.array([0.30, 0.26, 0.07], np.float32)  # B_inf just below the surface, full daylight
SURFACE_WINDOW = np.array([3.0, 3.0, 2.6], np.float32)  # sky through Snell's window (over-exposes, as it does)
SNELL_COS = math.cos(math.asin(1.0 / 1.34))  # 48.6 deg
BACKSCATTER_COLOUR = np.array([0.55, 0.45, 0.15], np.float32)
FAR_M = 300.0  # stands in for "no hit" in the arithmetic (exp(-c * FAR) is 0 in float32)
NOISE_BANK_MARGIN_PX = 64
SHADE_BLOCK_PX = 16384  # rays shaded together: ~15 float32 intermediates stay within a 1 MB L2 cache
# auto exposure, as an ROV camera meters: a mid-grey average, but highlights kept just under
# clipping (lamps at 0.5 m would otherwise burn the hull white), within the sensor's gain range
AE_TARGET_MEAN = 0.30
AE_HIGHLIGHT = 0.92
AE_HIGHLIGHT_PERCENTILE = 97.0
AE_GAIN_RANGE = (0.002, 16.0)  # exposure time x analogue gain, as a sensor spans
AE_SAMPLE_STEP = 7  # meter every 7th pixel: the statistics need thousands of pixels, not all


@dataclasses.dataclass(frozen=True)
class CameraConfig:
    width: int = 640
    height: int = 480
    hfov_deg: float = 80.0
    light_power: float = 25.0
    light_offset_m: float = 0.2  # lights either side of the camera
    exposure: float = 1.0  # exposure compensation on top of the auto exposure
    auto_exposure: bool = True
    daylight: float = 0.5  # 0 at night; 1 bright sun above clear water
    blur_sigma_px: float = 0.8
    noise_sigma: float = 0.012  # read noise (fraction of full scale)
    shot_noise: float = 0.0004  # variance per unit of signal
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
    class_ids: np.ndarray  # (H, W) int16: -1 background/hull, else class index (class_of)
    object_ids: np.ndarray  # (H, W) int16: 0 = nothing/hull/landmark, k = planted object k
    boxes: tuple  # (name, class, (x0, y0, x1, y1)) per visible planted object and landmark


@dataclasses.dataclass(frozen=True, eq=False)
class _Tables:
    """What depends only on the resolution."""

    dirs_cam: np.ndarray  # (N, 3) float32 unit ray directions, camera frame
    dirs_cam_rows: np.ndarray  # (3, N) the same, contiguous per component
    beam: np.ndarray  # (N,) float32 lamp beam pattern, cos^2 off the axis
    noise: np.ndarray  # (H + m, W + m, 3) float32 standard normal bank


class CameraScene:
    """Accepts a SceneGeometry (sim.world_geometry.build_scene) or a bare hull mesh with
    planted objects on it."""

    def __init__(self, hull_mesh, objects=(), attenuation_per_m: float = 0.35, seabed_z_h: float | None = None,
                 waterline_z_h: float | None = None):
        geo = as_scene_geometry(hull_mesh, objects)
        self.geometry = geo
        self.objects = geo.objects
        self.c = float(attenuation_per_m)
        self.seabed_z_h = seabed_z_h
        self.waterline_z_h = waterline_z_h
        nf = geo.mesh.n_faces
        # one extra face row (index nf) stands for "no face"; two extra materials follow
        # the scene's: the seabed plane, then "nothing" (open water, the water surface)
        normals = np.vstack([geo.mesh.face_normals(), [[0.0, 0.0, 0.0]]]).astype(np.float32)
        self._normal_rows = np.ascontiguousarray(normals.T)  # (3, F + 1): contiguous gathers per component
        self._seabed_mat = len(geo.materials)
        self._face_mat = np.concatenate([geo.face_material, [self._seabed_mat + 1]]).astype(np.int16)
        self._face_label = np.concatenate([geo.face_label, [0]]).astype(np.int32)
        colours = [m.colour_bgr for m in geo.materials] + [(1.0, 1.0, 1.0), (0.0, 0.0, 0.0)]
        self._mat_colour = np.array(colours, np.float32)
        self._mat_ambient = np.array([m.ambient for m in geo.materials] + [1.0, 0.0], np.float32)
        tex_names = [m.texture for m in geo.materials] + ["seabed", None]
        self._atlas = texture_atlas([("hull", hull_texture()), ("quay", quay_texture()), ("seabed", seabed_texture())])
        self._mat_texture = np.array([self._atlas.index(t) for t in tex_names], np.int16)
        self._mat_plan_view = np.array([t == "seabed" for t in tex_names])  # textured in (x, y)
        self._ripple = ripple_texture()
        self._label_obj = np.array([lab.object_index for lab in geo.labels], np.int16)
        self.scene = raycasting_scene(geo.mesh)
        self._tables: dict[tuple, _Tables] = {}

    # ---- per-resolution tables -----------------------------------------------------------------
    def _table(self, cfg: CameraConfig) -> _Tables:
        key = (cfg.width, cfg.height, cfg.hfov_deg)
        if key not in self._tables:
            u, v = np.meshgrid(np.arange(cfg.width) + 0.5, np.arange(cfg.height) + 0.5)
            d = np.stack([(u - cfg.width / 2) / cfg.fx, (v - cfg.height / 2) / cfg.fx, np.ones_like(u)], -1)
            d = (d / np.linalg.norm(d, axis=-1, keepdims=True)).reshape(-1, 3).astype(np.float32)
            bank = np.random.default_rng(1234).standard_normal(
                (cfg.height + NOISE_BANK_MARGIN_PX, cfg.width + NOISE_BANK_MARGIN_PX, 3), dtype=np.float32)
            self._tables[key] = _Tables(d, np.ascontiguousarray(d.T), d[:, 2] ** 2, bank)
        return self._tables[key]

    def _camera_dirs(self, cfg: CameraConfig) -> np.ndarray:
        return self._table(cfg).dirs_cam

    # ---- rendering ------------------------------------------------------------------------
    def render(self, position_h, forward_h, up_h, cfg: CameraConfig, rng: np.random.Generator,
               class_of=None, nthreads: int = 0) -> CameraFrame:
        import cv2
        import open3d as o3d

        f = np.asarray(forward_h, float); f = f / np.linalg.norm(f)
        up = np.asarray(up_h, float); up = up - f * np.dot(up, f); up /= np.linalg.norm(up)
        right = np.cross(f, up)
        rot = np.column_stack([right, -up, f]).astype(np.float32)  # camera (x right, y down, z fwd) -> H
        tab = self._table(cfg)
        pos = np.asarray(position_h, float)
        rays = np.empty((len(tab.dirs_cam), 6), np.float32)
        rays[:, :3] = pos
        d_rows = rot @ tab.dirs_cam_rows  # (3, N): contiguous x, y, z components for the shading
        rays[:, 3:] = d_rows.T
        ans = self.scene.cast_rays(o3d.core.Tensor.from_numpy(rays), nthreads=nthreads)
        t_hit, prim_hit = ans["t_hit"].numpy(), ans["primitive_ids"].numpy()
        n = len(t_hit)
        img = np.empty((n, 3), np.float32)
        label = np.empty(n, np.int32)
        t = np.empty(n, np.float32)
        # shading in blocks that fit the core's cache: the same arithmetic on the whole frame
        # streams every intermediate through memory and takes ~1.3x as long
        for a in range(0, n, SHADE_BLOCK_PX):
            s = slice(a, min(n, a + SHADE_BLOCK_PX))
            self._shade_block(pos, right, d_rows[:, s], t_hit[s], prim_hit[s], tab.dirs_cam_rows[0, s], tab.beam[s],
                              cfg, img[s], label[s], t[s])
        img = img.reshape(cfg.height, cfg.width, 3)
        self._marine_snow(img, t.reshape(cfg.height, cfg.width), rng, cfg)
        if cfg.auto_exposure:  # the gain acts on the lit particles too: they are in the light
            img *= auto_exposure_gain(img)
        if cfg.blur_sigma_px > 0:
            img = cv2.GaussianBlur(img, (0, 0), cfg.blur_sigma_px * (1 + self.c))
        img = self._sensor_noise(img, tab, rng, cfg)
        img8 = cv2.convertScaleAbs(np.maximum(img, 0, out=img), alpha=255.0)
        if cfg.jpeg_quality < 100:
            ok, buf = cv2.imencode(".jpg", img8, [cv2.IMWRITE_JPEG_QUALITY, int(cfg.jpeg_quality)])
            img8 = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        return self._frame(img8, label.reshape(cfg.height, cfg.width), class_of)

    def _shade_block(self, pos, right, d, t, prim, dx_cam, beam, cfg: CameraConfig, out_img, out_label, out_t):
        """Shades one block of rays: writes its colours, labels and ranges into the out arrays."""
        nf = len(self._face_mat) - 1
        prim = np.minimum(prim, nf)
        dz = d[2]
        # np.take: several times faster than fancy indexing for these gathers
        mat = np.take(self._face_mat, prim)
        label = np.take(self._face_label, prim)
        normal = np.take(self._normal_rows, prim, axis=1)  # (3, n)
        t = np.minimum(t, np.float32(FAR_M))
        surf = None
        if self.seabed_z_h is not None:
            t_bed = np.float32(self.seabed_z_h - pos[2]) / np.minimum(dz, np.float32(-1e-6))
            bed = (dz < 0) & (t_bed < t)
            if bed.any():
                t = np.where(bed, t_bed, t)
                mat[bed] = self._seabed_mat
                label[bed] = 0
                normal[:, bed] = np.array([[0.0], [0.0], [1.0]], np.float32)
        if self.waterline_z_h is not None and pos[2] < self.waterline_z_h:
            t_top = np.float32(self.waterline_z_h - pos[2]) / np.maximum(dz, np.float32(1e-6))
            surf = (dz > 0) & (t_top < t)
            if surf.any():
                t = np.where(surf, t_top, t)
                mat[surf] = self._seabed_mat + 1
                label[surf] = 0
                normal[:, surf] = 0.0
            else:
                surf = None
        out_img[:] = self._shade(pos, right, d, t, mat, normal, surf, dx_cam, beam, cfg)
        out_label[:] = label
        out_t[:] = t

    def _shade(self, pos, right, d, t, mat, normal, surf, dx_cam, beam, cfg: CameraConfig) -> np.ndarray:
        n_d = normal[0] * d[0]
        n_d += normal[1] * d[1]
        n_d += normal[2] * d[2]
        facing = np.where(n_d > 0, np.float32(-1.0), np.float32(1.0))  # surfaces are two-sided
        abs_nd = np.abs(n_d)
        rx, ry, rz = (np.float32(c) for c in right)
        n_right = normal[0] * rx
        n_right += normal[1] * ry
        n_right += normal[2] * rz
        n_right *= facing
        # two lamps at +-offset along the camera's x axis: |L - P|^2 and n . (L - P) in terms of t
        off = np.float32(cfg.light_offset_m)
        t2 = t * t + off * off
        lamps = np.zeros_like(t)
        for side in (-1.0, 1.0):
            s_off = np.float32(side) * off
            dist2 = t2 - 2 * s_off * t * dx_cam
            cos_term = np.maximum(s_off * n_right + t * abs_nd, 0)
            lamps += cos_term / (dist2 * np.sqrt(dist2) + np.float32(1e-9))
        lamps *= beam * np.float32(cfg.light_power)
        c_k = np.float32(self.c) * CHANNEL_ATTENUATION
        trans = np.exp(t[:, None] * -c_k)  # T_k, (N, 3)
        depth_cam = float(self.waterline_z_h - pos[2]) if self.waterline_z_h is not None else 5.0
        kd = DIFFUSE_OVER_BEAM * c_k
        b_inf = (np.float32(cfg.daylight) * SPACE_LIGHT * np.exp(-kd * max(depth_cam, 0.0))).astype(np.float32)
        albedo = self._albedo(pos, d, t, mat, normal)
        # daylight on the surface: from above, fading with the point's depth. Exact per
        # channel at the camera's depth; the few metres between camera and point fade at the
        # green rate (one exp per pixel instead of three)
        up_facing = np.clip(np.float32(0.5) + np.float32(0.5) * normal[2] * facing, 0, 1)
        up_facing *= np.take(self._mat_ambient, mat)
        dz_pt = t * d[2]  # the point's height above the camera
        day = np.exp(np.minimum(dz_pt, np.float32(max(depth_cam, 0.0))) * kd[1]) * up_facing
        day_cam = (np.float32(cfg.daylight) * np.exp(-kd * max(depth_cam, 0.0))).astype(np.float32)
        out = lamps[:, None] * trans
        out += day[:, None] * day_cam
        out *= trans
        out *= albedo
        out += b_inf
        out -= b_inf * trans
        if surf is not None:
            idx = np.flatnonzero(surf)
            window = np.where(d[2, idx] > SNELL_COS, np.float32(1.0), np.float32(0.25))[:, None]
            sky = SURFACE_WINDOW * np.float32(cfg.daylight) * window
            sx = np.float32(pos[0]) + t[idx] * d[0, idx]
            sy = np.float32(pos[1]) + t[idx] * d[1, idx]
            out[idx] += sky * self._ripple.lookup(sx, sy) * trans[idx]
        strength = 0.35 * min(1.0, self.c / 0.35) * cfg.light_power / 25.0
        out += BACKSCATTER_COLOUR * (np.float32(strength) * (1 - trans[:, 1]))[:, None]
        if cfg.exposure != 1.0:
            out *= np.float32(cfg.exposure)
        return out

    def _albedo(self, pos, d, t, mat, normal) -> np.ndarray:
        """Material colour times its texture: hull sides and the quay in (x, z), the hull's
        bottom and the seabed in (x, y). One gather from the atlas for every pixel."""
        x = np.float32(pos[0]) + t * d[0]
        plan = np.take(self._mat_plan_view, mat) | (np.abs(normal[2]) > 0.7)
        v = np.where(plan, np.float32(pos[1]) + t * d[1], np.float32(pos[2]) + t * d[2])
        albedo = self._atlas.lookup(np.take(self._mat_texture, mat), x, v)
        albedo *= np.take(self._mat_colour, mat, axis=0)
        return albedo

    def _marine_snow(self, img: np.ndarray, t_img: np.ndarray, rng: np.random.Generator, cfg: CameraConfig):
        """Particles lit by the lamps: bright when near, hidden behind the scene."""
        count = int(rng.poisson(cfg.marine_snow_per_frame * max(self.c, 0.05) / 0.35))
        h, w, _ = img.shape
        ys = rng.integers(0, h, count)
        xs = rng.integers(0, w, count)
        r = rng.uniform(0.15, 4.0, count).astype(np.float32)
        keep = r < t_img[ys, xs]
        ys, xs, r = ys[keep], xs[keep], r[keep]
        glow = (np.float32(cfg.light_power / 25.0 * 0.08) * np.exp(-2 * self.c * r) / (r * r)).astype(np.float32)
        img[ys, xs] += np.minimum(glow, 1.0)[:, None]

    def _sensor_noise(self, img, tab: _Tables, rng: np.random.Generator, cfg: CameraConfig) -> np.ndarray:
        """Read noise plus shot noise, drawn from a per-resolution bank at a random offset."""
        if cfg.noise_sigma <= 0 and cfg.shot_noise <= 0:
            return img
        oy, ox = rng.integers(0, NOISE_BANK_MARGIN_PX, 2)
        noise = tab.noise[oy:oy + cfg.height, ox:ox + cfg.width]
        sigma = np.sqrt(np.float32(cfg.noise_sigma ** 2) + np.float32(cfg.shot_noise) * np.maximum(img, 0))
        sign = np.float32(1.0 if rng.random() < 0.5 else -1.0)
        img += noise * sigma * sign
        return img

    def _frame(self, img8, label, class_of) -> CameraFrame:
        labels = self.geometry.labels
        lut_class = np.array([class_of(lab.class_name) if (class_of and lab.class_name) else -1
                              for lab in labels], np.int16)
        class_ids = np.take(lut_class, label)
        obj_ids = np.take(self._label_obj, label)
        counts = np.bincount(label.ravel(), minlength=len(labels))
        boxes = []
        for k in np.flatnonzero(counts[1:] >= 4) + 1:
            mask = label == k
            rows = np.flatnonzero(mask.any(axis=1))
            cols = np.flatnonzero(mask.any(axis=0))
            lab = labels[k]
            boxes.append((lab.name, lab.class_name, (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)))
        for a in (img8, class_ids, obj_ids):
            a.setflags(write=False)
        return CameraFrame(img8, class_ids, obj_ids, tuple(boxes))


def auto_exposure_gain(linear_rgb: np.ndarray) -> np.float32:
    """Gain that brings the frame's mean luminance to AE_TARGET_MEAN unless that would clip
    more than the brightest 3 % of the frame (Snell's window may still clip: it does in
    real footage)."""
    sample = linear_rgb.reshape(-1, 3)[::AE_SAMPLE_STEP]
    lum = sample @ np.array([0.114, 0.587, 0.299], np.float32)  # BGR
    mean = float(lum.mean())
    peak = sample.max(axis=1)  # a channel clips before the luminance does
    k = int(len(peak) * AE_HIGHLIGHT_PERCENTILE / 100.0)
    high = float(np.partition(peak, k)[k]) if len(peak) else 0.0
    gain = min(AE_TARGET_MEAN / max(mean, 1e-6), AE_HIGHLIGHT / max(high, 1e-6))
    return np.float32(min(max(gain, AE_GAIN_RANGE[0]), AE_GAIN_RANGE[1]))
