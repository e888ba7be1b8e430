"""A multibeam imaging sonar (Oculus-like) rendered by ray casting the real scene.

Each beam is a fan of rays across the vertical aperture. A ray's first hit returns an echo
at its range with a strength from the surface's reflectivity and the incidence angle
(Lambert-like backscatter), so acoustic shadows fall out of the first-hit rule.

Received level and time-varied gain (TVG). A ray stands for a fixed solid angle, so the
patch of surface it ensonifies grows as R^2 while two-way spherical spreading takes R^-4:
an extended surface's echo falls as R^-2 (20 log R), times absorption 10^(-2 alpha R / 10)
(alpha ~0.2 dB/m at 750 kHz in sea water, ~0.4 dB/m at 1.2 MHz). Receiver noise is added
to that received level, then the TVG (`tvg_spreading_db` log10 R + 2 `tvg_absorption_db_per_m`
R, capped at `tvg_max_db`) lifts it: with the TVG matched to the losses (the default) a
surface looks as bright far as near, and the noise floor rises with range, as on a real
sonar.

Gratings (sea chests, thruster grids) are acoustically see-through. At imaging-sonar
wavelengths (1.5 mm at 1 MHz) steel flat bars tens of mm apart are smooth mirrors (paint
and fouling roughness << wavelength, steel/water reflection ~0.94), so sound that enters
a gap is guided between the bars into the recess by specular reflections, while the
bars' edges return only a weak echo. Light, in contrast, is scattered and absorbed at the
rough painted bars, so a camera at a grazing angle sees bars only. Model: a ray whose
first hit is a grating returns the bars' weak echo there (the material's reflectivity)
and continues in a straight line (mirror unfolding: the guided path has the same length
as the straight one, to within a bar pitch) to the next opaque surface, whose echo is
weighted by the grating's two-way transmission (`Material.transmission` squared).

A ray stands for a slice of the vertical aperture, and its echo spreads over the ranges at
which that slice meets the surface (`_footprint`): a face square to the beam returns in one
range bin, a surface the fan grazes (the hull ahead of a sonar laid along it, the seabed)
over a band of bins, tens of dB fainter per bin, as on a real sonar.

After the echoes: the beam pattern spreads energy into neighbouring beams, the range bins
get Rayleigh speckle and noise, and the amplitudes become grey levels, linearly or on the
log (dB) scale an imaging sonar's display uses (`MultibeamConfig.display_range_db`).
Output: the polar image (range bins x beams, like the Oculus image), the ground-truth boxes
of the planted objects and niche landmarks, and which of them owns each bin (`object_ids`:
the one whose echo is most of the bin's expected energy).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hull.mesh import TriangleMesh
from hull.queries import raycasting_scene

from .world_geometry import as_scene_geometry

HULL_REFLECTIVITY = 0.35
SEABED_REFLECTIVITY = 0.25
QUAY_REFLECTIVITY = 0.45
REFERENCE_RANGE_M = 1.0  # received levels are relative to an echo from 1 m
# a bin shows an object (`SonarFrame.object_ids`) only where the object's speckle-free echo is
# at least this many times the bin's noise floor (receiver noise plus the display floor, both
# Rayleigh): fainter echo is there in the physics but no one could point at it in the image,
# so a label drawn around it would teach a detector to see speckle
ECHO_SNR_MIN = 1.0
# a grazing ray's echo spreads over the ranges its slice of the aperture meets the surface
# at (`_footprint`); where the slice's far edge runs (nearly) parallel to the surface it
# ends at this many times the ray's range
MAX_FOOTPRINT_FACTOR = 2.0


@dataclasses.dataclass(frozen=True)
class MultibeamConfig:
    beams: int = 256
    swath_deg: float = 130.0
    vertical_aperture_deg: float = 20.0
    range_bins: int = 512
    min_range_m: float = 0.1
    max_range_m: float = 10.0
    rays_per_beam: int = 12  # across the vertical aperture
    noise_level: float = 0.02  # display noise floor, after the TVG
    receiver_noise: float = 2e-5  # before the TVG, relative to a unit echo at 1 m
    gain: float = 1.0
    absorption_db_per_m: float = 0.2  # sea water at ~750 kHz
    tvg: bool = True
    tvg_spreading_db: float = 20.0  # dB per decade of range
    tvg_absorption_db_per_m: float | None = None  # None: the water's absorption
    tvg_max_db: float = 60.0
    # None: grey levels linear in echo amplitude (255 at amplitude 0.5 / gain); a number: the
    # sonar's log display, this many dB of amplitude (20 log10) mapped onto 0..255 with 255 at
    # amplitude 1 / gain. Imaging sonars show their echoes compressed this way: a hull face
    # square to the beam and the hull's grazing return tens of dB below it both stay visible
    display_range_db: float | None = None

    def __post_init__(self):
        if self.beams < 2 or self.range_bins < 2 or self.rays_per_beam < 1:
            raise ValueError(f"MultibeamConfig: beams, range_bins (>= 2) and rays_per_beam (>= 1) too small: "
                             f"{self.beams}, {self.range_bins}, {self.rays_per_beam}")
        if not 0 < self.min_range_m < self.max_range_m:
            raise ValueError(f"MultibeamConfig: need 0 < min_range_m < max_range_m, got "
                             f"{self.min_range_m}, {self.max_range_m}")

    @property
    def range_resolution_m(self) -> float:
        return (self.max_range_m - self.min_range_m) / self.range_bins

    def bearings_deg(self) -> np.ndarray:
        return np.linspace(-self.swath_deg / 2, self.swath_deg / 2, self.beams)

    def bin_ranges_m(self) -> np.ndarray:
        return self.min_range_m + (np.arange(self.range_bins) + 0.5) * self.range_resolution_m

    def tvg_gain(self) -> np.ndarray:
        """(range_bins,) linear intensity gain; 1 everywhere when the TVG is off."""
        if not self.tvg:
            return np.ones(self.range_bins)
        r = self.bin_ranges_m()
        alpha = self.absorption_db_per_m if self.tvg_absorption_db_per_m is None else self.tvg_absorption_db_per_m
        db = self.tvg_spreading_db * np.log10(r / REFERENCE_RANGE_M) + 2.0 * alpha * r
        return 10.0 ** (np.minimum(db, self.tvg_max_db) / 10.0)


@dataclasses.dataclass(frozen=True, eq=False)
class SonarFrame:
    intensities: np.ndarray  # (range_bins, beams) uint8, row 0 = nearest range
    bearings_deg: np.ndarray
    range_resolution_m: float
    min_range_m: float
    boxes_polar: tuple  # (name, class, (beam0, range0, beam1, range1)) per visible object/landmark
    # (range_bins, beams) int16 like `intensities`: k > 0 where boxes_polar[k - 1]'s own rays
    # bring more than half of the bin's expected (speckle- and noise-free) echo, before the
    # beam pattern leaks it sideways, and that echo is at least ECHO_SNR_MIN times the bin's
    # noise floor; 0 elsewhere (water, hull, seabed, echoes of a single ray, echoes sunk in noise)
    object_ids: np.ndarray | None = None


class SonarScene:
    """The scene as ray-casting BVHs. Accepts a SceneGeometry or a bare hull mesh with
    planted objects. Public per-face arrays (also read by the Ping360 renderer): `owner`
    (material of each face), `reflectivity` (per material), `normals`, `scene`, `seabed_z_h`."""

    def __init__(self, hull_mesh, objects=(), seabed_z_h: float | None = None):
        geo = as_scene_geometry(hull_mesh, objects)
        self.geometry = geo
        self.objects = geo.objects
        self.owner = geo.face_material.astype(np.int64)
        self.reflectivity = np.array([m.reflectivity for m in geo.materials])
        self.transmission = np.array([m.transmission for m in geo.materials])
        self.normals = geo.mesh.face_normals()
        self.seabed_z_h = seabed_z_h
        self.scene = raycasting_scene(geo.mesh)
        see_through = self.transmission[self.owner] > 0
        self._opaque_faces = np.flatnonzero(~see_through)
        self._opaque = (raycasting_scene(TriangleMesh(geo.mesh.vertices, geo.mesh.faces[self._opaque_faces]))
                        if see_through.any() else None)

    def _first_hits(self, scene, origin, dirs, face_map, nthreads):
        """(t, face) of each ray's first hit in `scene`, seabed plane included (face -1)."""
        import open3d as o3d

        rays = np.empty((len(dirs), 6), np.float32)
        rays[:, :3] = origin
        rays[:, 3:] = dirs
        ans = scene.cast_rays(o3d.core.Tensor.from_numpy(rays), nthreads=nthreads)
        t = ans["t_hit"].numpy().astype(float)
        hit = np.isfinite(t)
        face = np.full(len(t), -2, np.int64)  # -2: nothing
        face[hit] = face_map[ans["primitive_ids"].numpy()[hit]]
        if self.seabed_z_h is not None:
            down = dirs[:, 2] < -1e-6
            t_bed = np.where(down, (self.seabed_z_h - origin[2]) / np.where(down, dirs[:, 2], -1.0), np.inf)
            bed = (t_bed > 0) & (t_bed < t)
            t = np.where(bed, t_bed, t)
            face[bed] = -1
        return t, face

    def _echo(self, face, dirs, d_elev):
        """Backscatter strength of each hit (0 for nothing), its label (0 for none) and how
        fast its range grows across the vertical aperture: (n . d_elev) / (n . d), with n the
        surface normal, d the ray and d_elev the direction the ray turns in elevation (0 for
        a face square to the beam, large where the fan grazes the surface; 0 for nothing)."""
        strength = np.zeros(len(face))
        label = np.zeros(len(face), np.int64)
        slope = np.zeros(len(face))
        on = face >= 0
        f = face[on]
        nd = np.einsum("ij,ij->i", self.normals[f], dirs[on])
        strength[on] = self.reflectivity[self.owner[f]] * np.abs(nd)
        slope[on] = np.einsum("ij,ij->i", self.normals[f], d_elev[on]) / np.where(np.abs(nd) > 1e-9, nd, 1e-9)
        label[on] = self.geometry.face_label[f]
        bed = face == -1
        strength[bed] = SEABED_REFLECTIVITY * np.abs(dirs[bed, 2])
        slope[bed] = d_elev[bed, 2] / np.where(np.abs(dirs[bed, 2]) > 1e-9, dirs[bed, 2], -1e-9)
        return strength, label, slope

    def render(self, position_h, forward_h, up_h, config: MultibeamConfig, rng: np.random.Generator,
               nthreads: int = 0) -> SonarFrame:
        f = np.asarray(forward_h, float); f = f / np.linalg.norm(f)
        u = np.asarray(up_h, float); u = u - f * np.dot(u, f); u /= np.linalg.norm(u)
        r = np.cross(f, u)  # starboard (right) when looking along f with u up
        bearings = np.radians(config.bearings_deg())
        elev = np.radians(np.linspace(-config.vertical_aperture_deg / 2, config.vertical_aperture_deg / 2,
                                      config.rays_per_beam))
        b, e = np.meshgrid(bearings, elev, indexing="ij")  # (beams, rays)
        level = np.cos(b)[..., None] * f + np.sin(b)[..., None] * r
        dirs = (np.cos(e)[..., None] * level + np.sin(e)[..., None] * u).reshape(-1, 3)
        d_elev = (-np.sin(e)[..., None] * level + np.cos(e)[..., None] * u).reshape(-1, 3)
        origin = np.asarray(position_h, float)
        all_faces = np.arange(len(self.owner))
        t, face = self._first_hits(self.scene, origin, dirs, all_faces, nthreads)
        strength, label, slope = self._echo(face, dirs, d_elev)
        ray_ids = np.arange(len(t))
        trans = np.where(face >= 0, self.transmission[self.owner[np.maximum(face, 0)]], 0.0)
        through = np.flatnonzero(trans > 0)
        if len(through) and self._opaque is not None:
            t2, face2 = self._first_hits(self._opaque, origin, dirs[through], self._opaque_faces, nthreads)
            s2, l2, sl2 = self._echo(face2, dirs[through], d_elev[through])
            t = np.concatenate([t, t2])
            strength = np.concatenate([strength, s2 * trans[through] ** 2])
            label = np.concatenate([label, l2])
            slope = np.concatenate([slope, sl2])
            ray_ids = np.concatenate([ray_ids, through])
        beam_of = ray_ids // config.rays_per_beam
        rng_m = np.where(np.isfinite(t), t, 1.0)
        near, far = _footprint(rng_m, slope, config)
        # a ray whose centre lies past the range scale may still light its nearer ranges
        in_range = np.isfinite(t) & (far >= config.min_range_m) & (near < config.max_range_m) & (strength > 0)
        # a ray that starts on a face (t = 0) is never in range; the floor only keeps it finite
        received = strength * (REFERENCE_RANGE_M / np.maximum(rng_m, 1e-6)) ** 2 \
            * 10.0 ** (-2.0 * config.absorption_db_per_m * rng_m / 10.0)
        b0, b1, span = _range_bins(near, far, config)
        share = received / config.rays_per_beam / span  # per bin of the footprint
        img = _splat(config, b0, b1, beam_of, share, in_range)
        boxes, box_labels = self._boxes(label, in_range, (b0, b1), beam_of)
        floor = ECHO_SNR_MIN * (config.noise_level / config.tvg_gain() + config.receiver_noise)  # before the TVG
        object_ids = self._owners(img, box_labels, label, in_range, (b0, b1), beam_of, share, floor[:, None], config)
        img = _beam_pattern(img)
        img *= rng.rayleigh(1.0, img.shape)  # speckle
        img += config.receiver_noise * rng.rayleigh(1.0, img.shape)
        img *= config.tvg_gain()[:, None]
        img += config.noise_level * rng.rayleigh(1.0, img.shape)
        img = _display(img, config)
        img.setflags(write=False)
        return SonarFrame(img, config.bearings_deg(), config.range_resolution_m, config.min_range_m, boxes,
                          object_ids)

    def _boxes(self, label, in_range, footprints, beam_of):
        """(boxes, the geometry label of each box): the beams and range bins its rays' echoes
        reach (`footprints`: first, last + 1 bin of each ray)."""
        out, ks = [], []
        b0, b1 = footprints
        sel = in_range & (label > 0)
        counts = np.bincount(label[sel], minlength=len(self.geometry.labels))
        for k in np.flatnonzero(counts >= 2):
            mask = sel & (label == k)
            lab = self.geometry.labels[k]
            out.append((lab.name, lab.class_name, (int(beam_of[mask].min()), int(b0[mask].min()),
                                                   int(beam_of[mask].max()) + 1, int(b1[mask].max()))))
            ks.append(int(k))
        return tuple(out), ks

    @staticmethod
    def _owners(expected, box_labels, label, in_range, footprints, beam_of, share, floor, config):
        """SonarFrame.object_ids: `expected` is the echo image before the beam pattern, `share`
        each ray's part of it in each bin of its `footprints` (first, last + 1 bin), `floor`
        the least echo a bin needs to show its object."""
        ids = np.zeros(expected.shape, np.int16)
        b0, b1 = footprints
        for i, k in enumerate(box_labels):
            own = _splat(config, b0, b1, beam_of, share, in_range & (label == k))
            ids[(own >= floor) & (own > 0) & (own > 0.5 * expected)] = i + 1  # a majority: one box at most per bin
        ids.setflags(write=False)
        return ids


def _display(amplitude: np.ndarray, config: MultibeamConfig) -> np.ndarray:
    """uint8 grey levels of the received amplitude (MultibeamConfig.display_range_db)."""
    if config.display_range_db is None:
        return np.clip(amplitude * config.gain * 255.0 * 2.0, 0, 255).astype(np.uint8)
    db = 20.0 * np.log10(np.maximum(amplitude * config.gain, 1e-12))
    return np.clip(255.0 * (1.0 + db / config.display_range_db), 0, 255).astype(np.uint8)


def _footprint(rng_m, slope, config: MultibeamConfig) -> tuple[np.ndarray, np.ndarray]:
    """(nearest, farthest range) each ray's echo spreads over. A ray stands for a slice
    d_theta of the vertical aperture (the spacing of the rays); on a surface that is locally flat the slice's edges,
    turned +-d_theta/2 from the ray, meet it at R / (cos(d_theta/2) -+ slope sin(d_theta/2))
    (`SonarScene._echo`'s slope). A surface the fan grazes (the hull ahead of a sonar laid
    along it, the seabed) so returns over every range bin of its band, as on a real sonar,
    not in one spike per ray with dark bins between; a face square to the beam keeps its
    echo in one bin."""
    # the slices meet between neighbouring rays (linspace over the aperture, ends included)
    h = 0.5 * np.radians(config.vertical_aperture_deg) / max(config.rays_per_beam - 1, 1)
    ends = np.empty((2, len(rng_m)))
    for i, sign in enumerate((1.0, -1.0)):
        den = np.cos(h) + sign * slope * np.sin(h)
        ends[i] = np.where(den > 1.0 / MAX_FOOTPRINT_FACTOR, rng_m / np.maximum(den, 1e-9),
                           MAX_FOOTPRINT_FACTOR * rng_m)
    return ends.min(axis=0), ends.max(axis=0)


def _range_bins(near, far, config: MultibeamConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first bin, last bin + 1) of the ranges from near to far within the range scale, and
    how many bins the whole footprint spans (the part past an end of the scale is not shown,
    and its echo must not pile up in the part that is)."""
    res, n = config.range_resolution_m, config.range_bins
    first = ((near - config.min_range_m) / res).astype(np.int64)
    last = ((far - config.min_range_m) / res).astype(np.int64)
    b0 = np.clip(first, 0, n - 1)
    b1 = np.clip(last, b0, n - 1) + 1
    return b0, b1, np.maximum(last - first + 1, 1)


def _splat(config: MultibeamConfig, b0, b1, beam_of, per_bin, sel) -> np.ndarray:
    """(range_bins, beams) image of each selected ray's per_bin value over its bins b0..b1-1."""
    diff = np.zeros((config.range_bins + 1, config.beams))
    np.add.at(diff, (b0[sel], beam_of[sel]), per_bin[sel])
    np.add.at(diff, (b1[sel], beam_of[sel]), -per_bin[sel])
    return np.maximum(np.cumsum(diff, axis=0)[:-1], 0.0)  # the sums leave ~1e-18 where nothing is


def _beam_pattern(img: np.ndarray) -> np.ndarray:
    """Side lobes: a little of each beam's energy leaks into its neighbours."""
    k = np.array([0.05, 0.15, 0.6, 0.15, 0.05])
    padded = np.pad(img, ((0, 0), (2, 2)), mode="edge")
    return sum(w * padded[:, i:i + img.shape[1]] for i, w in enumerate(k))
