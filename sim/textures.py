"""Procedural, tileable albedo textures for the camera (hull plating, quay wall, seabed,
the rippled water surface), built once from a fixed seed and looked up per pixel.

Each tile is a power of two in pixels, so a lookup is a multiply and a bit mask (also
right for negative coordinates); a texel covers 2-3 cm, finer than a pixel at the 1-3 m
ranges of a hull survey. Noise is made periodic by filtering white noise in the Fourier
domain, so tiles join without seams.
"""
from __future__ import annotations

import dataclasses

import numpy as np

HULL_PAINT = np.array([0.18, 0.16, 0.42], np.float32)  # anti-fouling red (B, G, R reflectance)
FOULING = np.array([0.22, 0.38, 0.30], np.float32)
PLATE_SPACING_M = (8.0, 2.0)  # plate seams along x and z
TILE_M = (16.0, 8.0)  # every tile, 512 x 256 texels of 3.1 cm


@dataclasses.dataclass(frozen=True, eq=False)
class Texture:
    image: np.ndarray  # (H, W, 3) float32 BGR albedo, H and W powers of two
    size_m: tuple[float, float]  # tile size along the texture's (u, v)

    def lookup(self, u_m: np.ndarray, v_m: np.ndarray) -> np.ndarray:
        h, w, _ = self.image.shape
        iu = (u_m * np.float32(w / self.size_m[0])).astype(np.int32) & (w - 1)
        iv = (v_m * np.float32(h / self.size_m[1])).astype(np.int32) & (h - 1)
        return self.image[iv, iu]


def _periodic_noise(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """Smooth noise in [0, 1] that wraps around, features about `scale_px` across."""
    white = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    smooth = np.fft.irfft2(np.fft.rfft2(white) * np.exp(-(fx ** 2 + fy ** 2) * (np.pi * scale_px) ** 2), s=shape)
    smooth -= smooth.min()
    return (smooth / max(smooth.max(), 1e-12)).astype(np.float32)


def hull_texture(seed: int = 11) -> Texture:
    """Two plates by four: paint, darker seams and welds, patches of fouling."""
    rng = np.random.default_rng(seed)
    h, w = 256, 512
    size = TILE_M
    img = np.empty((h, w, 3), np.float32)
    img[:] = HULL_PAINT
    img *= (0.85 + 0.3 * _periodic_noise(rng, (h, w), 3.0))[..., None]  # worn paint
    seam_px = 2
    plates_x, plates_z = int(size[0] / PLATE_SPACING_M[0]), int(size[1] / PLATE_SPACING_M[1])
    for k in range(plates_x):
        img[:, k * w // plates_x:k * w // plates_x + seam_px] *= 0.55
    for k in range(plates_z):
        img[k * h // plates_z:k * h // plates_z + seam_px] *= 0.55
    fouling = np.clip((_periodic_noise(rng, (h, w), 18.0) - 0.5) * 3.0, 0.0, 1.0)[..., None]
    img = img * (1 - fouling) + FOULING * fouling * (0.8 + 0.4 * _periodic_noise(rng, (h, w), 2.0))[..., None]
    return Texture(img.astype(np.float32), size)


def quay_texture(seed: int = 12) -> Texture:
    """Concrete blocks (2 m x 1 m) with joints, stained by growth."""
    rng = np.random.default_rng(seed)
    h, w = 256, 512
    size = TILE_M  # 8 x 8 blocks
    img = np.empty((h, w, 3), np.float32)
    img[:] = np.array([0.30, 0.32, 0.31], np.float32)
    img *= (0.75 + 0.5 * _periodic_noise(rng, (h, w), 2.0))[..., None]
    for row in range(8):
        r0 = row * h // 8
        img[r0:r0 + 2] *= 0.4
        shift = (w // 16) * (row % 2)  # staggered vertical joints
        for col in range(8):
            c0 = (col * w // 8 + shift) % w
            img[r0:r0 + h // 8, c0:c0 + 2] *= 0.4
    growth = np.clip((_periodic_noise(rng, (h, w), 12.0) - 0.35) * 2.0, 0.0, 1.0)[..., None]
    img = img * (1 - 0.6 * growth) + np.array([0.12, 0.28, 0.2], np.float32) * 0.6 * growth
    return Texture(img.astype(np.float32), size)


def seabed_texture(seed: int = 13) -> Texture:
    """Silty sand with ripples and scattered stones."""
    rng = np.random.default_rng(seed)
    h, w = 256, 512
    size = TILE_M
    y = np.arange(h, dtype=np.float32)[:, None]
    ripples = 0.5 + 0.5 * np.sin(2 * np.pi * 16 * y / h + 3.0 * _periodic_noise(rng, (h, w), 20.0))
    shade = 0.7 + 0.2 * ripples + 0.25 * _periodic_noise(rng, (h, w), 4.0)
    stones = (_periodic_noise(rng, (h, w), 1.5) > 0.82).astype(np.float32)
    img = np.array([0.24, 0.31, 0.35], np.float32) * shade[..., None]
    img = img * (1 - 0.5 * stones[..., None])
    return Texture(img.astype(np.float32), size)


def ripple_texture(seed: int = 14) -> Texture:
    """Brightness of the wavy surface seen from below (caustic-like), around 1."""
    rng = np.random.default_rng(seed)
    n = 256
    waves = _periodic_noise(rng, (n, n), 10.0)
    img = (0.6 + 0.8 * waves ** 2)[..., None].repeat(3, axis=2)
    return Texture(img.astype(np.float32), (8.0, 8.0))


@dataclasses.dataclass(frozen=True, eq=False)
class TextureAtlas:
    """Several textures of one pixel size behind one gather; index 0 is plain white (1.0)."""

    images: np.ndarray  # (T + 1, H, W, 3) float32
    scale_px_per_m: np.float32  # the same along u and v, for every tile
    names: tuple[str | None, ...]

    def index(self, name: str | None) -> int:
        return self.names.index(name) if name in self.names else 0

    def lookup(self, tex_ids: np.ndarray, u_m: np.ndarray, v_m: np.ndarray) -> np.ndarray:
        """Every tile has the same size in metres, so one scale serves all pixels."""
        _, h, w, _ = self.images.shape
        flat = (u_m * self.scale_px_per_m).astype(np.int32) & (w - 1)
        iv = (v_m * self.scale_px_per_m).astype(np.int32) & (h - 1)
        iv *= w
        flat += iv
        flat += tex_ids.astype(np.int32) * (h * w)
        return np.take(self.images.reshape(-1, 3), flat, axis=0)  # np.take: ~4x fancy indexing here


def texture_atlas(named: list[tuple[str, Texture]]) -> TextureAtlas:
    h, w, _ = named[0][1].image.shape
    size = named[0][1].size_m
    images = [np.ones((h, w, 3), np.float32)]
    for name, tex in named:
        if tex.image.shape != (h, w, 3) or tex.size_m != size:
            raise ValueError(f"texture {name!r}: {tex.image.shape} over {tex.size_m} m differs from the atlas's "
                             f"{(h, w, 3)} over {size} m")
        images.append(tex.image)
    if abs(w / size[0] - h / size[1]) > 1e-6:
        raise ValueError(f"atlas tiles must have square texels: {w}x{h} px over {size} m")
    return TextureAtlas(np.stack(images), np.float32(w / size[0]), (None, *(n for n, _ in named)))
