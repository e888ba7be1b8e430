"""A small software renderer for the 3D hull view: numpy and cv2 only, no OpenGL, so it
runs the same on a laptop's GPU-less session, under Xvfb and in the offscreen tests.

The hull is drawn as its surface samples (one square splat per sample, sized from the
sample spacing, z-buffered, shaded by the sample's normal), then polylines (the planned
path, the vehicle's trail: dimmed where the hull hides them) and markers (findings, the
vehicle: always on top, since a finding behind the hull must still be found; a marker may
instead hide behind the hull, e.g. a niche area's label). Everything in the hull frame H,
metres. Pure functions of immutable inputs: render() runs in a task.

The result keeps, per pixel, which surface sample the z-buffer drew there
(Rendered.surface_point), so a click on the image maps back to a point on the hull.
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

MAX_SPLAT_PX = 7  # larger splats cost O(s^2) and a hull that close is better drawn coarse
HIDDEN_LINE_WEIGHT = 0.35  # a path behind the hull is drawn faded, not dropped
DEPTH_BIAS_M = 0.05  # a line on the hull's own surface must not hide behind its splats
AMBIENT = 0.35
LABEL_SCALE = 0.5  # cv2 Hershey scale: ~12 px tall, white on a dark rim


@dataclasses.dataclass(frozen=True)
class OrbitCamera:
    """Looks at target_h from azimuth_deg (from +x towards +y, i.e. seen from port at 90),
    elevation_deg (up positive) and distance_m. fov_deg: vertical field of view of the
    perspective projection; ortho=True draws with parallel rays (the same scale at every
    depth, what one wants to compare lanes side by side)."""

    target_h: tuple[float, float, float] = (0.0, 0.0, 0.0)
    azimuth_deg: float = -60.0
    elevation_deg: float = -20.0
    distance_m: float = 50.0
    fov_deg: float = 40.0
    ortho: bool = False

    @classmethod
    def framing(cls, points_h, azimuth_deg: float = -60.0, elevation_deg: float = -20.0, **kw) -> "OrbitCamera":
        """A camera that shows all of points_h (the hull's bounding sphere) in view."""
        p = np.asarray(points_h, float).reshape(-1, 3)
        lo, hi = p.min(axis=0), p.max(axis=0)
        radius = max(0.5 * float(np.linalg.norm(hi - lo)), 0.5)
        fov = kw.get("fov_deg", cls.fov_deg)
        distance = 0.75 * radius / math.tan(math.radians(fov) / 2)  # the view's width is the larger
        return cls(tuple(float(v) for v in (lo + hi) / 2), azimuth_deg, elevation_deg, distance, **kw)

    def orbited(self, d_azimuth_deg: float, d_elevation_deg: float) -> "OrbitCamera":
        el = float(np.clip(self.elevation_deg + d_elevation_deg, -89.0, 89.0))
        return dataclasses.replace(self, azimuth_deg=(self.azimuth_deg + d_azimuth_deg) % 360.0, elevation_deg=el)

    def zoomed(self, factor: float) -> "OrbitCamera":
        return dataclasses.replace(self, distance_m=float(np.clip(self.distance_m * factor, 0.5, 1e5)))

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(eye (3,), right, up, forward): unit axes in H, forward from the eye to the target."""
        az, el = math.radians(self.azimuth_deg), math.radians(self.elevation_deg)
        towards_eye = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        forward = -towards_eye
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= max(np.linalg.norm(right), 1e-12)
        up = np.cross(right, forward)
        return np.asarray(self.target_h, float) + self.distance_m * towards_eye, right, up, forward

    def focal_px(self, height_px: int) -> float:
        """Pixels per metre at the target's distance (ortho: everywhere)."""
        return (height_px / 2) / math.tan(math.radians(self.fov_deg) / 2) / (self.distance_m if self.ortho else 1.0)


def project(camera: OrbitCamera, points_h, width_px: int, height_px: int):
    """(u_px, v_px, depth_m) of points_h (N, 3): u right, v down from the top-left corner;
    depth along the view axis (<= 0 for points behind the eye, which are not drawn)."""
    eye, right, up, forward = camera.basis()
    p = np.asarray(points_h, np.float32).reshape(-1, 3)
    x, y, z = (p[:, k] - np.float32(eye[k]) for k in range(3))
    # element-wise, not a matmul: BLAS threads spin on a busy 2-core machine and triple the time
    cx, cy, depth = (np.float32(a[0]) * x + np.float32(a[1]) * y + np.float32(a[2]) * z for a in (right, up, forward))
    f = np.float32(camera.focal_px(height_px))
    scale = f if camera.ortho else f / np.where(depth > 1e-6, depth, np.float32(np.nan))
    return np.float32(width_px / 2) + cx * scale, np.float32(height_px / 2) - cy * scale, depth


@dataclasses.dataclass(frozen=True)
class Polyline:
    points_h: np.ndarray  # (K, 3); a row of NaN breaks the line (many outlines, one draw)
    rgb: tuple[int, int, int]
    width_px: int = 2


@dataclasses.dataclass(frozen=True)
class Marker:
    marker_id: int
    position_h: tuple[float, float, float]
    rgb: tuple[int, int, int]
    radius_px: int = 7
    pickable: bool = True
    label: str = ""  # drawn beside the dot
    hide_behind_m: float | None = None  # None: always on top; else not drawn this far behind the hull


@dataclasses.dataclass(frozen=True, eq=False)
class Scene:
    """points_h (N, 3) float32 and point_rgb (N, 3) uint8: the hull's surface samples;
    normals_h (N, 3) or None; spacing_m: the side of the square a sample stands for."""

    points_h: np.ndarray
    point_rgb: np.ndarray
    normals_h: np.ndarray | None = None
    spacing_m: float = 0.5
    polylines: tuple[Polyline, ...] = ()
    markers: tuple[Marker, ...] = ()


@dataclasses.dataclass(frozen=True, eq=False)
class Rendered:
    """The image (H, W, 3) RGB uint8, the camera it was drawn with, each marker's pixel
    (marker_id -> (u, v)) for picking, and point_index (ceil(H / c), ceil(W / c)) int32
    with c = index_cell_px: the index into scene.points_h of the surface sample drawn in
    each c x c block of pixels (a close-up draws blocks, see _draw_points), -1 where none
    is. index_at() reads it per pixel."""

    image: np.ndarray
    camera: OrbitCamera
    marker_px: dict
    render_ms: float = 0.0
    point_index: np.ndarray | None = None
    index_cell_px: int = 1

    def index_at(self, rows, cols) -> np.ndarray:
        """point_index per image pixel: (len(rows), len(cols)) for in-image rows and cols."""
        c = self.index_cell_px
        return self.point_index[np.asarray(rows) // c][:, np.asarray(cols) // c]

    def surface_point(self, x_px: float, y_px: float, max_px: int = 4) -> int | None:
        """The index of the surface sample drawn at image pixel (x_px, y_px) (pixel (i, j)
        covers x in [j, j + 1)), else of the one drawn nearest within max_px; None when
        no sample is drawn that close (a click beside the hull)."""
        if self.point_index is None:
            return None
        h, w = self.image.shape[:2]
        j, i = int(math.floor(x_px)), int(math.floor(y_px))
        r = max(int(max_px), 0)
        i0, i1, j0, j1 = max(i - r, 0), min(i + r + 1, h), max(j - r, 0), min(j + r + 1, w)
        if i0 >= i1 or j0 >= j1:
            return None
        window = self.index_at(np.arange(i0, i1), np.arange(j0, j1))
        ii, jj = np.nonzero(window >= 0)
        if not len(ii):
            return None
        d2 = (ii + i0 + 0.5 - y_px) ** 2 + (jj + j0 + 0.5 - x_px) ** 2
        k = int(np.argmin(d2))
        return int(window[ii[k], jj[k]]) if d2[k] <= (r + 0.75) ** 2 else None

    def pick(self, x_px: float, y_px: float, max_px: float = 12.0) -> int | None:
        """The id of the pickable marker nearest (x_px, y_px) within max_px, or None."""
        best, best_d = None, float(max_px)
        for mid, (u, v) in self.marker_px.items():
            d = math.hypot(u - x_px, v - y_px)
            if d <= best_d:
                best, best_d = mid, d
        return best


def _splat_px(camera: OrbitCamera, depth: np.ndarray, spacing_m: float, height_px: int) -> int:
    f = camera.focal_px(height_px)
    near = float(np.percentile(depth, 25)) if len(depth) else 1.0
    size = spacing_m * (f if camera.ortho else f / max(near, 1e-3))
    return int(np.clip(math.ceil(size), 1, MAX_SPLAT_PX))


def _draw_points(img, zbuf, scene: Scene, camera: OrbitCamera) -> tuple[np.ndarray, int] | None:
    """Draws the samples into img and zbuf; returns the index image and its cell (px)."""
    h, w = zbuf.shape
    u, v, depth = project(camera, scene.points_h, w, h)
    ok = (depth > 1e-3) & (u > -MAX_SPLAT_PX) & (u < w + MAX_SPLAT_PX) & (v > -MAX_SPLAT_PX) & (v < h + MAX_SPLAT_PX)
    if not ok.any():
        return None
    ids = np.flatnonzero(ok).astype(np.int32)
    rgb = scene.point_rgb[ok].astype(np.float32)
    if scene.normals_h is not None:
        _, _, _, forward = camera.basis()
        n = np.asarray(scene.normals_h, np.float32)[ok]
        lambert = np.abs(n[:, 0] * np.float32(forward[0]) + n[:, 1] * np.float32(forward[1])
                         + n[:, 2] * np.float32(forward[2]))
        rgb *= (AMBIENT + (1 - AMBIENT) * lambert)[:, None]
    u, v, depth = u[ok], v[ok], depth[ok]
    s = _splat_px(camera, depth, scene.spacing_m, h)
    # large splats are drawn as 2 px splats on a grid `cell` times coarser, then blown up:
    # fragments stay <= 4 per point (a close-up costs what the whole hull does), edges
    # are cell px steps
    cell = max(1, math.ceil(s / 2))
    s = min(s, 2) if cell > 1 else s
    hc, wc = -(-h // cell), -(-w // cell)
    ui = np.floor(u / cell - (s - 1) / 2).astype(np.int32)
    vi = np.floor(v / cell - (s - 1) / 2).astype(np.int32)
    # all fragments of all splats at once: a min-depth pass, then colour whoever won
    du, dv = np.meshgrid(np.arange(s, dtype=np.int32), np.arange(s, dtype=np.int32))
    fu = (ui[None, :] + du.reshape(-1, 1)).reshape(-1)
    fv = (vi[None, :] + dv.reshape(-1, 1)).reshape(-1)
    inside = (fu >= 0) & (fu < wc) & (fv >= 0) & (fv < hc)
    pix = (fv * wc + fu)[inside]
    frag = np.tile(np.arange(len(u), dtype=np.int32), s * s)[inside]
    fdepth = depth[frag]
    flat_z = np.full(hc * wc, np.inf, np.float32)
    np.minimum.at(flat_z, pix, fdepth)
    win = fdepth <= flat_z[pix]
    cimg = np.empty((hc * wc, 3), np.uint8)
    cimg[:] = img[0, 0]
    pix, frag = pix[win], frag[win]
    cimg[pix] = np.clip(rgb[frag], 0, 255).astype(np.uint8)
    cidx = np.full(hc * wc, -1, np.int32)
    cidx[pix] = ids[frag]  # the same winner as the colour's, ties included
    cz = flat_z.reshape(hc, wc)
    cimg = cimg.reshape(hc, wc, 3)
    cidx = cidx.reshape(hc, wc)
    if cell > 1:
        cz = cz.repeat(cell, 0).repeat(cell, 1)[:h, :w]
        cimg = cimg.repeat(cell, 0).repeat(cell, 1)[:h, :w]
    drawn = np.isfinite(cz)
    img[drawn] = cimg[drawn]
    np.minimum(zbuf, cz, out=zbuf)
    return cidx, cell  # kept coarse: blowing it up too would cost a close-up ~10 % more


def _draw_polyline(img, zbuf, line: Polyline, camera: OrbitCamera) -> None:
    h, w = zbuf.shape
    p = np.asarray(line.points_h, np.float32).reshape(-1, 3)
    if len(p) < 2:
        return
    u, v, depth = project(camera, p, w, h)
    seg_px = np.hypot(np.diff(u), np.diff(v))
    seg_px = np.where(np.isfinite(seg_px), seg_px, 0.0)
    n = np.clip(np.ceil(seg_px), 1, 4 * (w + h)).astype(np.int64)
    # points along each segment about a pixel apart, interpolated in H then projected
    starts = np.repeat(np.arange(len(p) - 1), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n, n)
    q = p[starts] + (p[starts + 1] - p[starts]) * t[:, None].astype(np.float32)
    qu, qv, qd = project(camera, q, w, h)
    ok = (qd > 1e-3) & np.isfinite(qu) & np.isfinite(qv)
    qu, qv, qd = qu[ok], qv[ok], qd[ok]
    r = max(int(line.width_px) // 2, 0)
    off = np.arange(-r, r + 1)
    ox, oy = (o.reshape(-1, 1) for o in np.meshgrid(off, off))
    x = (np.round(qu).astype(np.int64)[None, :] + ox).reshape(-1)
    y = (np.round(qv).astype(np.int64)[None, :] + oy).reshape(-1)
    d = np.tile(qd, len(off) ** 2)
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    x, y, d = x[inside], y[inside], d[inside]
    flat = y * w + x
    shown = d <= zbuf[y, x] + DEPTH_BIAS_M
    # one gather and one scatter: a pixel many stamps cover is blended once (blended again
    # and again a hidden line reaches its full colour and looks as if in front); the
    # line's visible pixels are written last, so they win over its hidden ones
    behind = flat[~shown]
    colour = np.array(line.rgb, np.float32)
    pixels = img.reshape(-1, 3)
    pixels[behind] = (pixels[behind] * (1 - HIDDEN_LINE_WEIGHT) + colour * HIDDEN_LINE_WEIGHT).astype(np.uint8)
    pixels[flat[shown]] = np.asarray(line.rgb, np.uint8)


def render(scene: Scene, camera: OrbitCamera, width_px: int, height_px: int,
           background_rgb=(255, 255, 255)) -> Rendered:
    """The scene seen by the camera as an RGB image of width_px x height_px."""
    import time

    t0 = time.perf_counter()
    w, h = max(int(width_px), 1), max(int(height_px), 1)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = np.asarray(background_rgb, np.uint8)
    zbuf = np.full((h, w), np.inf, np.float32)
    drawn = _draw_points(img, zbuf, scene, camera) if len(scene.points_h) else None
    index, cell = drawn if drawn is not None else (np.full((h, w), -1, np.int32), 1)
    for line in scene.polylines:
        _draw_polyline(img, zbuf, line, camera)
    marker_px = {}
    for m in scene.markers:
        u, v, d = project(camera, np.asarray(m.position_h, float)[None, :], w, h)
        if not (d[0] > 1e-3 and np.isfinite(u[0]) and np.isfinite(v[0])):
            continue
        c = (int(round(float(u[0]))), int(round(float(v[0]))))
        if not (-50 <= c[0] < w + 50 and -50 <= c[1] < h + 50):
            continue
        if m.hide_behind_m is not None and 0 <= c[0] < w and 0 <= c[1] < h \
                and d[0] > zbuf[c[1], c[0]] + m.hide_behind_m:
            continue
        cv2.circle(img, c, int(m.radius_px) + 2, (0, 0, 0), -1, cv2.LINE_AA)  # dark rim: visible on any hull colour
        cv2.circle(img, c, int(m.radius_px), tuple(int(x) for x in m.rgb), -1, cv2.LINE_AA)
        if m.label:
            at = (c[0] + int(m.radius_px) + 4, c[1] + 5)
            cv2.putText(img, m.label, at, cv2.FONT_HERSHEY_SIMPLEX, LABEL_SCALE, (0, 0, 0), 4, cv2.LINE_AA)
            cv2.putText(img, m.label, at, cv2.FONT_HERSHEY_SIMPLEX, LABEL_SCALE, (255, 255, 255), 1, cv2.LINE_AA)
        if m.pickable:
            marker_px[m.marker_id] = (float(u[0]), float(v[0]))
    index.setflags(write=False)
    return Rendered(img, camera, marker_px, (time.perf_counter() - t0) * 1e3, index, cell)
