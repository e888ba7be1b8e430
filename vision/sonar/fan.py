"""The Cartesian fan view of a multibeam ping (beam/range polar image -> fan image).

Geometry: the apex (the sonar) is at the bottom of the image; range grows upwards and
bearing is + to starboard, i.e. to the right. A point at range r, bearing b sits at
``x = ox + r sin(b) / mpp``, ``y = oy - r cos(b) / mpp`` where ``(ox, oy)`` is the apex
pixel and ``mpp`` the metres per pixel; pixel centres are at integer coordinates.

Polar image coordinates are (beam index, range index) as in ``SonarPing.intensities``
columns and rows: beam index -> bearing through the (possibly non-uniform) bearing table,
range index i -> ``i * range_resolution_m``.

The remap maps depend only on the geometry (bearing table, range resolution, number of
ranges, maximum range, output size), so they are built once per geometry and cached
(``cv2.remap`` with fixed-point maps); rendering a ping is then one remap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from vision.sonar.oculus import SonarPing

__all__ = ["FanImage", "clear_fan_cache", "fan_cache_info", "fan_image", "polar_box_to_fan"]


@dataclass(frozen=True, eq=False)
class FanImage:
    """A rendered fan: ``image`` (H, W) uint8, read-only; 0 outside the fan."""

    image: np.ndarray
    origin_px: tuple[float, float]  # apex (x, y) in pixels
    metres_per_pixel: float
    max_range_m: float
    bearings_deg: np.ndarray  # the ping's bearing table (beam index -> bearing)
    range_resolution_m: float

    @property
    def width_px(self) -> int:
        return int(self.image.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.image.shape[0])

    def polar_to_pixel(self, range_m, bearing_deg):
        """Pixel (x, y) of a point at ``range_m``, ``bearing_deg`` (scalars or arrays)."""
        r = np.asarray(range_m, dtype=np.float64)
        b = np.radians(np.asarray(bearing_deg, dtype=np.float64))
        ox, oy = self.origin_px
        x = ox + r * np.sin(b) / self.metres_per_pixel
        y = oy - r * np.cos(b) / self.metres_per_pixel
        return (float(x), float(y)) if x.ndim == 0 else (x, y)

    def pixel_to_polar(self, x, y):
        """(range_m, bearing_deg) of pixel (x, y) (scalars or arrays)."""
        ox, oy = self.origin_px
        east = (np.asarray(x, dtype=np.float64) - ox) * self.metres_per_pixel
        up = (oy - np.asarray(y, dtype=np.float64)) * self.metres_per_pixel
        r = np.hypot(east, up)
        b = np.degrees(np.arctan2(east, up))
        return (float(r), float(b)) if r.ndim == 0 else (r, b)

    def beam_index_to_bearing(self, beam_index):
        """Bearing (deg) of a fractional beam index; linear extrapolation beyond the table."""
        return _index_to_bearing(self.bearings_deg, beam_index)

    def bearing_to_beam_index(self, bearing_deg):
        """Fractional beam index of a bearing (clamped to the table)."""
        return np.interp(bearing_deg, self.bearings_deg, np.arange(len(self.bearings_deg), dtype=np.float64))

    def polar_box_to_fan(self, box_polar) -> tuple[float, float, float, float]:
        """Fan-pixel box (x0, y0, x1, y1) enclosing a polar-image box.

        ``box_polar`` is (beam0, range0, beam1, range1) in polar image coordinates (beam index,
        range-row index; either order). Its region in the fan is an annular sector; the result
        is the bounding box of its corners and edges (the arcs can bulge past the corners),
        clipped to the image.
        """
        b0, r0, b1, r1 = (float(v) for v in box_polar)
        b0, b1 = sorted((b0, b1))
        r0, r1 = sorted((r0, r1))
        n = 33
        beams = np.linspace(b0, b1, n)
        rows = np.linspace(r0, r1, n)
        edge_beams = np.concatenate([beams, beams, np.full(n, b0), np.full(n, b1)])
        edge_rows = np.concatenate([np.full(n, r0), np.full(n, r1), rows, rows])
        bearing = _index_to_bearing(self.bearings_deg, edge_beams)
        rng = np.maximum(edge_rows, 0.0) * self.range_resolution_m
        x, y = self.polar_to_pixel(rng, bearing)
        w, h = self.width_px - 1, self.height_px - 1
        return (
            float(np.clip(x.min(), 0, w)),
            float(np.clip(y.min(), 0, h)),
            float(np.clip(x.max(), 0, w)),
            float(np.clip(y.max(), 0, h)),
        )


def polar_box_to_fan(fan: FanImage, box_polar) -> tuple[float, float, float, float]:
    """Same as :meth:`FanImage.polar_box_to_fan`."""
    return fan.polar_box_to_fan(box_polar)


def _index_to_bearing(bearings: np.ndarray, index):
    idx = np.asarray(index, dtype=np.float64)
    n = len(bearings)
    if n == 1:
        return np.full_like(idx, bearings[0]) if idx.ndim else float(bearings[0])
    out = np.interp(idx, np.arange(n, dtype=np.float64), bearings)
    lo_step = bearings[1] - bearings[0]
    hi_step = bearings[-1] - bearings[-2]
    out = np.where(idx < 0, bearings[0] + idx * lo_step, out)
    out = np.where(idx > n - 1, bearings[-1] + (idx - (n - 1)) * hi_step, out)
    return float(out) if out.ndim == 0 else out


def _fan_extent_m(bmin: float, bmax: float, r_max: float) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max) in metres of the fan with the apex at (0, 0)."""
    b = np.radians(np.linspace(bmin, bmax, 721))
    if bmin <= 0.0 <= bmax:
        b = np.append(b, 0.0)
    x = np.append(r_max * np.sin(b), 0.0)
    y = np.append(r_max * np.cos(b), 0.0)
    return float(x.min()), float(x.max()), float(y.min()), float(y.max())


def _layout(bmin, bmax, r_max, default_mpp, width_px, height_px):
    """(W, H, mpp, ox, oy) for the requested output size."""
    x0, x1, y0, y1 = _fan_extent_m(bmin, bmax, r_max)
    w_m, h_m = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    for name, v in (("width_px", width_px), ("height_px", height_px)):
        if v is not None and int(v) < 2:
            raise ValueError(f"{name} must be >= 2, got {v}")
    if width_px is not None and height_px is not None:
        W, H = int(width_px), int(height_px)
        mpp = max(w_m / (W - 1), h_m / (H - 1))
    elif height_px is not None:
        H = int(height_px)
        mpp = h_m / (H - 1)
        W = int(round(w_m / mpp)) + 1
    elif width_px is not None:
        W = int(width_px)
        mpp = w_m / (W - 1)
        H = int(round(h_m / mpp)) + 1
    else:
        mpp = default_mpp
        W, H = int(round(w_m / mpp)) + 1, int(round(h_m / mpp)) + 1
    # centre horizontally, sit the fan on the bottom row
    ox = (W - 1) / 2.0 - (x0 + x1) / 2.0 / mpp
    oy = (H - 1) + y0 / mpp
    return W, H, float(mpp), float(ox), float(oy)


@lru_cache(maxsize=8)
def _fan_maps(bearings: tuple[float, ...], n_ranges: int, range_res: float, r_max: float,
              W: int, H: int, mpp: float, ox: float, oy: float):
    b_tab = np.asarray(bearings, dtype=np.float64)
    east = (np.arange(W, dtype=np.float64) - ox) * mpp
    up = (oy - np.arange(H, dtype=np.float64)) * mpp
    E, U = np.meshgrid(east, up)
    r = np.hypot(E, U)
    b = np.degrees(np.arctan2(E, U))
    beam_idx = np.interp(b, b_tab, np.arange(len(b_tab), dtype=np.float64))
    range_idx = r / range_res
    inside = (b >= b_tab[0]) & (b <= b_tab[-1]) & (r <= r_max) & (range_idx <= n_ranges - 1)
    map_x = np.where(inside, beam_idx, -10.0).astype(np.float32)
    map_y = np.where(inside, range_idx, -10.0).astype(np.float32)
    m1, m2 = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)
    return m1, m2


def clear_fan_cache() -> None:
    _fan_maps.cache_clear()


def fan_cache_info():
    return _fan_maps.cache_info()


def fan_image(ping: SonarPing, *, width_px: int | None = None, height_px: int | None = None,
              max_range_m: float | None = None) -> FanImage:
    """Render ``ping`` as a fan image.

    Size: both ``width_px`` and ``height_px`` -> exactly that size, the fan fitted inside;
    one of them -> the other follows the fan's aspect; neither -> one pixel per range bin.
    ``max_range_m`` defaults to the last range row (``ping.ranges_m[-1]``); beyond it, and
    outside the bearing table, pixels are 0. 16-bit intensities are shown by their high byte.
    """
    res = float(ping.range_resolution_m)
    r_max = float(ping.ranges_m[-1]) if max_range_m is None else float(max_range_m)
    if not math.isfinite(r_max) or r_max <= 0:
        r_max = res * max(ping.n_ranges - 1, 1) if max_range_m is None else r_max
    if not math.isfinite(r_max) or r_max <= 0:
        raise ValueError(f"max_range_m must be finite and > 0, got {max_range_m!r}")
    bearings = ping.bearings_deg
    W, H, mpp, ox, oy = _layout(float(bearings[0]), float(bearings[-1]), r_max, res, width_px, height_px)
    m1, m2 = _fan_maps(tuple(bearings.tolist()), ping.n_ranges, res, r_max, W, H, mpp, ox, oy)
    src = ping.intensities
    if src.dtype != np.uint8:
        src = (src >> 8).astype(np.uint8)
    img = cv2.remap(src, m1, m2, interpolation=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    img.setflags(write=False)
    return FanImage(image=img, origin_px=(ox, oy), metres_per_pixel=mpp, max_range_m=r_max,
                    bearings_deg=bearings, range_resolution_m=res)
