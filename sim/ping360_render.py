"""One beam of a Blue Robotics Ping360 mechanical scanning sonar, rendered by ray casting
the world's sonar scene (the hull, its planted objects and the seabed).

The Ping360 head turns about the vehicle's vertical axis and pings one narrow beam at a
time (about 2 deg wide, 25 deg tall, per Blue Robotics' specification). Angles are in
gradians, 0..399 for a full turn; here 0 is the vehicle's forward direction and angles
grow clockwise seen from above (towards starboard), the sense of the head's motor.

A beam's samples are equally spaced in two-way travel time: sample i covers the range
[i, i + 1) * dr with dr = sample_period * c / 2. Each ray's first hit returns an echo
(so anything behind an object lies in its acoustic shadow); its strength falls with
incidence angle, spherical spreading and absorption, then a time-varied gain puts most
of that back, as the device does, and speckle and noise are added.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

SPEED_OF_SOUND_M_S = 1500.0
SAMPLE_PERIOD_TICK_S = 25e-9  # the protocol's sample_period unit
BEAM_WIDTH_DEG = 2.0
BEAM_HEIGHT_DEG = 25.0
GRADIANS_PER_TURN = 400
GAIN_FACTORS = {0: 0.5, 1: 1.0, 2: 2.0}  # gain_setting low / normal / high
SEABED_REFLECTIVITY = 0.25
NOISE_LEVEL = 0.015


def sample_range_m(sample_period_ticks: int, speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> float:
    """Range covered by one sample: half the distance sound travels in one sample period."""
    return sample_period_ticks * SAMPLE_PERIOD_TICK_S * speed_of_sound_m_s / 2.0


def absorption_db_per_m(frequency_hz: float) -> float:
    """Seawater absorption, roughly 0.2 dB/m at 750 kHz and growing about as f^1.5 there."""
    return 0.2 * (frequency_hz / 750e3) ** 1.5


@dataclasses.dataclass(frozen=True)
class BeamRequest:
    angle_grad: int
    number_of_samples: int
    sample_period_ticks: int
    gain_setting: int = 1
    transmit_frequency_hz: float = 750e3
    transmit_duration_s: float = 32e-6

    @property
    def range_m(self) -> float:
        return self.number_of_samples * sample_range_m(self.sample_period_ticks)


class Ping360Renderer:
    """Renders beams against a sim.sonar_render.SonarScene (read-only use of its public
    attributes: scene, owner, reflectivity, normals, seabed_z_h)."""

    def __init__(self, sonar_scene, rays_across: int = 3, rays_up: int = 15) -> None:
        self.sonar_scene = sonar_scene
        h = np.radians(np.linspace(-BEAM_WIDTH_DEG / 2, BEAM_WIDTH_DEG / 2, rays_across))
        v = np.radians(np.linspace(-BEAM_HEIGHT_DEG / 2, BEAM_HEIGHT_DEG / 2, rays_up))
        hh, vv = np.meshgrid(h, v, indexing="ij")
        self._h = hh.ravel()
        self._v = vv.ravel()
        # a real beam is strongest on its axis: weight rays by a Gaussian-ish pattern
        w = np.exp(-0.5 * ((hh / math.radians(BEAM_WIDTH_DEG / 2)) ** 2
                           + (vv / math.radians(BEAM_HEIGHT_DEG / 2)) ** 2)).ravel()
        self._weights = w / w.sum()

    def beam_directions(self, forward_h, up_h, angle_grad: float) -> np.ndarray:
        """Unit ray directions (rays, 3) in H for the head at `angle_grad`."""
        f = np.asarray(forward_h, float)
        f = f / np.linalg.norm(f)
        u = np.asarray(up_h, float)
        u = u - f * np.dot(u, f)
        u /= np.linalg.norm(u)
        r = np.cross(f, u)  # starboard when looking along f with u up
        a = 2.0 * math.pi * float(angle_grad) / GRADIANS_PER_TURN
        axis = math.cos(a) * f + math.sin(a) * r
        side = np.cross(axis, u)
        az = self._h[:, None]
        el = self._v[:, None]
        return np.cos(el) * (np.cos(az) * axis + np.sin(az) * side) + np.sin(el) * u

    def render(self, position_h, forward_h, up_h, request: BeamRequest,
               rng: np.random.Generator) -> np.ndarray:
        """The beam's `number_of_samples` intensities (uint8), nearest first."""
        import open3d as o3d

        n = int(request.number_of_samples)
        dr = sample_range_m(request.sample_period_ticks)
        dirs = self.beam_directions(forward_h, up_h, request.angle_grad)
        origin = np.asarray(position_h, float)
        origins = np.broadcast_to(origin, dirs.shape)
        rays = np.concatenate([origins, dirs], axis=1).astype(np.float32)
        scene = self.sonar_scene
        ans = scene.scene.cast_rays(o3d.core.Tensor(rays))
        t = ans["t_hit"].numpy().astype(float)
        prim = ans["primitive_ids"].numpy().astype(np.int64)
        hit = np.isfinite(t) & (prim < len(scene.owner))
        refl = np.zeros(len(t))
        cos_inc = np.zeros(len(t))
        if hit.any():
            refl[hit] = scene.reflectivity[scene.owner[prim[hit]]]
            cos_inc[hit] = np.abs(np.einsum("ij,ij->i", scene.normals[prim[hit]], dirs[hit]))
        if scene.seabed_z_h is not None:  # the seabed as a plane, where nothing nearer was hit
            down = dirs[:, 2] < -1e-6
            t_bed = np.where(down, (scene.seabed_z_h - origin[2]) / np.where(down, dirs[:, 2], -1.0), np.inf)
            bed = ~hit & np.isfinite(t_bed) & (t_bed > 0)
            t = np.where(bed, t_bed, t)
            refl[bed] = SEABED_REFLECTIVITY
            cos_inc[bed] = np.abs(dirs[bed, 2])
            hit |= bed
        bins = np.floor(np.where(hit, t, -1.0) / dr).astype(np.int64)
        ok = hit & (bins >= 0) & (bins < n)
        r = np.maximum(np.where(ok, t, dr), dr)  # misses (t = inf) carry no energy
        alpha = absorption_db_per_m(request.transmit_frequency_hz)
        # two-way spreading and absorption, then a TVG that restores them: the echo of a
        # surface keeps its strength with range, but the noise floor is amplified with it
        loss = 10.0 ** (-2.0 * alpha * r / 10.0) / r ** 2
        tvg = r ** 2 * 10.0 ** (2.0 * alpha * r / 10.0)
        echo = np.zeros(n)
        np.add.at(echo, bins[ok], (self._weights * refl * cos_inc * loss * tvg)[ok])
        pulse_bins = max(1, int(round(request.transmit_duration_s * SPEED_OF_SOUND_M_S / 2.0 / dr)))
        if pulse_bins > 1:  # the transmit pulse smears each echo over its length
            echo = np.convolve(echo, np.ones(pulse_bins) / math.sqrt(pulse_bins))[:n]
        echo *= rng.rayleigh(1.0, n)  # speckle
        ranges = (np.arange(n) + 0.5) * dr
        noise_tvg = np.minimum(ranges, 50.0) / 50.0  # the gain ramp amplifies the receiver's noise too
        echo += NOISE_LEVEL * (0.3 + noise_tvg) * rng.rayleigh(1.0, n)
        gain = GAIN_FACTORS.get(int(request.gain_setting), 1.0)
        return np.clip(echo * gain * 255.0 * 3.0, 0, 255).astype(np.uint8)
