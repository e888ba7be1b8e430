"""Synthetic YOLO data sets rendered from the embedded world (`hullwatch dataset`).

What is randomised (domain randomisation), and at which level:
* per hull (the split unit): hull family and main dimensions, block coefficient, bulb,
  transom, skeg (parametric hulls, with their niche areas); draft at the berth, water
  depth, berth side, quay gap, heading; the sonar's mount tilt.
* per scenario (several per hull, each a `generate_scenario` seed): water (clear,
  moderate, turbid), how many containers, anomalies and distractors, and through the seed
  their kinds, sizes, colours and poses.
* per image: what to look at (a planted object most of the time, a niche area, a random
  spot of the wetted hull, a distractor for the empty images), standoff (camera 0.5-4 m,
  capped where turbid water leaves no signal; sonar 1-10 m; `SyntheticSpec.standoff_m` asks for
  another range), incidence angle (a share of
  grazing views; most sonar views graze, their fan laid along the surface), azimuth, aim
  offset, vehicle roll/pitch/yaw and camera tilt; camera lens field of view, light power,
  exposure, daylight, blur, noise, JPEG quality, marine snow; sonar beams (256/512), range
  scale, gain, log display span, noise.

Images look at objects most of the time because that is what a detector must learn; a
fixed share (`negative_fraction`) are views chosen to hold no labelled object, because a
detector that never saw an empty hull raises false alarms.

Splits are by hull: every image of a hull (all its scenarios and views) lands in one of
train/val/test, so near-identical views never straddle train and test.

Held-out evaluation sets (`heldout=True`, `hullwatch dataset --heldout`) hold only test
images (train/ and val/ exist but are empty) of what training never draws:
* containers of HELDOUT_CONTAINER_KINDS only (holdall, drum, hexagonal and wedge cases, net
  bag of packages), never the training kinds (sim.scenario.TRAINING_CONTAINER_KINDS);
* an unseen hull: the given mesh file (training only ever renders parametric hulls), or
  parametric hulls of HELDOUT_HULL_FAMILIES, whose length/beam ratio lies in a gap that no
  training family reaches (HELDOUT_L_OVER_B against the families' l_over_b ranges);
* other random streams: the seed domain of a held-out set differs from training's
  (HELDOUT_SEED_DOMAIN), so even the same --seed draws other scenarios, poses and settings.
Anomalies, distractors and landmarks are the training kinds; the card says so.

Determinism: everything is drawn from numpy generators seeded from (seed, kind, hull,
scenario or image index), and images are written as PNG with a fixed compression level.
PNG, not JPEG: the camera renderer already applies the video link's JPEG compression, and
a lossless file keeps exactly those pixels (no second, different lossy pass, and pixels
that do not depend on the JPEG library's version); the same seed gives the same bytes.
"""
from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from vision.classes import CLASS_ID, CLASSES

from .dataset_card import generator_identity, write_card
from .view_sampling import aim, fan_along_surface, offset_aim, place_sensor
from .yolo_layout import (SPLITS, count_labels, data_yaml_text, label_line, make_split_dirs, split_counts,
                          staged_dataset_dir)

KINDS = ("camera", "sonar")
GENERATOR_VERSION = 11  # 2: more niche, hull and distractor views (v1 models called landmarks containers);
# 3: a sonar label needs an echo that stands out of the speckle (SONAR_MIN_CONTRAST);
# 4: fouling clumps, fenders and debris have their own shapes and colours (sim.object_meshes)
# 5: training containers also come from shape families that vary per object
#    (sim.scenario.VARIED_CONTAINER_KINDS): v4 models found 8 of 16 held-out shapes
# 6: a niche view of a propeller, rudder or thruster aims at its face, not its middle (no
#    pose saw the middle, so v5 sets fell back to other areas: 32 propeller labels in 1500)
# 7: a sonar label boxes only the bins whose echo clears the noise floor (sim ECHO_SNR_MIN):
#    v6 boxes spanned every first hit, and half the labelled bags were speckle to the eye
# 8: sonar views mostly lay the fan along the surface they graze (SONAR_GRAZING_FRACTION),
#    a grazing echo spreads over its footprint's ranges and the fan is shown on a log (dB)
#    scale: v7 fans were noise with thin arcs, in which no detector found a container
# 9: a grazing echo whose footprint runs past the range scale's end keeps only its share
#    inside (v8 piled it into the last bins: a rim up to 8 dB too bright at the fan's edge)
# 10: objects drawn to one niche area lie side by side, not inside each other
#    (sim.scenario CLEARANCE_M): v9 scenes put two bags in one spot a third of the time
# 11: a sonar label boxes the part of the echo that stands out of the echo around it
#    (sonar_echo_shown): a tube along the line of sight on grazed plating shows its near end
#    only, and v10 boxed its whole length or, its mean being plating-grey, left it unlabelled
#    (on 120 close fans: 3 of 44 containers labelled that were not, a quarter of boxes <= 0.8
#    of their v10 area; on a sweep bench pass past a torpedo, every 5th ping: 6 of the 8 in
#    which it is in the fan count it as shown, against 1)
# the last generator version that changed what the camera world renders, which the alarm
# tapes depend on (v5 changed training draws only, v8 and v9 the sonar only)
WORLD_LOOK_VERSION = 5
MIN_DISTRACTOR_PX = 400  # boxes of unlabelled look-alikes kept in index.jsonl (area in pixels)
MIN_IMAGES = 3  # one hull for each of train, val and test
MAX_IMAGES = 1_000_000
PNG_COMPRESSION = 3  # fixed: part of what makes the bytes reproducible
DEFAULT_SIZE = {"camera": (640, 480), "sonar": (640, 360)}  # sonar: the Cartesian fan image
IMAGES_PER_HULL = {"camera": 12, "sonar": 40}  # sonar renders are cheap next to a hull build
VIEWS_PER_SCENARIO = {"camera": 12, "sonar": 20}  # a World build (~0.7 s) is worth many views
STANDOFF_M = {"camera": (0.5, 4.0), "sonar": (1.0, 10.0)}
STANDOFF_LIMITS_M = (0.3, 30.0)  # what `SyntheticSpec.standoff_m` may ask for
GRAZING_FRACTION = 0.3
# sonar views: most graze the surface (incidence 60-82 deg) with the fan laid along it
# (view_sampling.fan_along_surface), as a hull sweep flies the sonar; the rest hold the fan
# level on the station's fixed downward mount, where a vertical side is one thin arc
SONAR_GRAZING_FRACTION = 0.75
SONAR_ALONG_SURFACE_INCIDENCE_DEG = 60.0
NEGATIVE_FRACTION = 0.1
# v1 drew 0.65/0.15/0.20: its model called anodes, valves, tunnels and the propeller
# containers, so landmarks now get as many looks as the hull around them
ROLE_WEIGHTS = {"object": 0.5, "niche": 0.25, "hull": 0.25}
# focus="niche" (`--focus niche`): every view that is not a chosen negative looks at a niche
# area, and each kind of area (propeller, rudder, thruster, sea chest...) is equally likely,
# where the default draws areas one by one (a hull has one propeller and four anodes). The
# default sets hold ~2 propeller views per 100 images, too few to teach what a bare
# propeller or rudder looks like from every side; a niche-focused set holds ~14.
# focus="distractor": every view looks at a distractor (fender, rope, debris, fish, fouling
# clump) from the poses a pass takes, where the default sets aim ~6 % of their views at one;
# the alarm verifier mines its look-alike crops from such views (the false alarms left on a
# hull no set renders were all on distractor passes)
FOCUS_ROLE_WEIGHTS = {None: ROLE_WEIGHTS, "niche": {"niche": 1.0}, "distractor": {"distractor": 1.0}}
# share of the empty images aimed at a distractor (rope, fender, debris, fish, fouling):
# the things an empty-hull detector must learn to leave alone (v1: 0.4)
NEGATIVE_DISTRACTOR_SHARE = 0.6
WATER_WEIGHTS = {"clear": 0.3, "moderate": 0.45, "turbid": 0.25}
# the lit object keeps at least this share of its signal over the out-and-back path:
# exp(-2 c d) >= 2% caps a turbid-water standoff at ~2.2 m (labels of invisible objects
# would teach the detector to hallucinate)
CAMERA_MIN_SIGNAL = 0.02
REFERENCE_STANDOFF_M, REFERENCE_LIGHT_POWER = 2.0, 25.0  # the renderer's default lamps suit ~2 m
ATTEMPTS = 4  # poses tried per image before taking what the last one saw
_KIND_CODE = {"camera": 1, "sonar": 2}
HELDOUT_SEED_DOMAIN = 100  # added to the kind code: held-out sets draw from other streams than training sets

# family -> length (m), L/B, B/T, D/T, block coefficient, P(bulbous bow), P(transom), P(skeg)
HULL_FAMILIES: dict[str, dict] = {
    "tanker_bulker": dict(length_m=(90, 200), l_over_b=(5.5, 7.0), b_over_t=(2.3, 3.0), d_over_t=(1.3, 1.5),
                          cb=(0.78, 0.86), bulb=0.9, transom=0.9, skeg=0.5),
    "container_cargo": dict(length_m=(70, 200), l_over_b=(6.0, 7.5), b_over_t=(2.4, 3.2), d_over_t=(1.4, 1.8),
                            cb=(0.62, 0.75), bulb=0.8, transom=1.0, skeg=0.5),
    "ferry_roro": dict(length_m=(40, 120), l_over_b=(5.0, 6.5), b_over_t=(3.0, 4.5), d_over_t=(1.6, 2.2),
                       cb=(0.52, 0.65), bulb=0.5, transom=1.0, skeg=0.6),
    "workboat_tug": dict(length_m=(18, 40), l_over_b=(2.8, 4.0), b_over_t=(2.2, 3.2), d_over_t=(1.3, 1.7),
                         cb=(0.45, 0.60), bulb=0.0, transom=0.6, skeg=0.8),
}
# Held-out hulls: families training never draws. Their length/beam ratio lies in the gap
# (4.0, 5.0) between the training families' ranges (workboat_tug up to 4.0, ferry_roro from
# 5.0): a held-out hull can never be mistaken for a training hull (checked at import).
HELDOUT_L_OVER_B = (4.15, 4.85)
HELDOUT_HULL_FAMILIES: dict[str, dict] = {
    "offshore_supply": dict(length_m=(50, 95), l_over_b=HELDOUT_L_OVER_B, b_over_t=(2.4, 3.2), d_over_t=(1.3, 1.6),
                            cb=(0.62, 0.74), bulb=0.3, transom=1.0, skeg=0.4),
    "fishing_trawler": dict(length_m=(22, 60), l_over_b=HELDOUT_L_OVER_B, b_over_t=(2.2, 2.8), d_over_t=(1.4, 1.8),
                            cb=(0.50, 0.62), bulb=0.1, transom=0.7, skeg=0.9),
}
assert all(f["l_over_b"][1] < HELDOUT_L_OVER_B[0] or f["l_over_b"][0] > HELDOUT_L_OVER_B[1]
           for f in HULL_FAMILIES.values()), "held-out hulls must be disjoint from the training families"
MESH_BERTHS = 4  # placements (berth side, heading, water depth) a mesh hull is rendered at, at most
LICENCE_NOTE = ("Synthetic: every image was rendered by HullWatch's simulator (sim/) from parametric hulls and "
                "random scenarios; no photographs or third-party data are in it. HullWatch is free software under "
                "AGPL-3.0-or-later; keep this card with the data set so its origin and generator stay known.")
MIN_CONTRAST = 6.0  # grey levels (of 255): a few times the sensor noise averaged over a box
# Sonar labels need an echo that stands out of the speckle in the saved 8-bit fan
# (`sonar_echo_contrast`): the mean of the object's own pixels above the median of a ring of
# background around its box, in units of that ring's interquartile range. Rayleigh speckle
# alone scores ~0.09 (its mean sits just above its median); an echo 1.8 times as bright as
# its surroundings on average scores 1.2. Generator 7 asks for 2.0: looking at 36 labels
# spread over the range of scores, most echoes between 1.2 and 2 were speckle to the eye, and a
# model fine-tuned on such labels learnt nothing (test mAP50 0.02).
SONAR_MIN_CONTRAST = 2.0
# the ring's spread is taken as at least this (grey levels), so on a near-black fan an echo
# still has to stand 16 grey levels above its surroundings (dark echoes scored high on a
# spread of a few levels yet could not be seen)
SONAR_MIN_SPREAD = 8.0
# an echo shown by fewer range x beam bins is a speckle grain or two, not a shape: it scores
# 0 (a patch of 8 bins of pure speckle reaches SONAR_MIN_CONTRAST about once in 20 000)
SONAR_MIN_ECHO_BINS = 8
# a label boxes the part of an echo whose local mean over this many fan pixels (a side; own
# pixels only) clears SONAR_MIN_CONTRAST: enough to tame the speckle, small against a bag
SONAR_SHOWN_WINDOW = 5
HONESTY = ("Rendered, not recorded: a ray-cast hull with simple materials, boxes and cylinders for planted "
           "objects, a physically motivated but simplified water model (camera) and a first-hit echo model "
           "(sonar). Good for pre-training and for testing the pipeline; a detector trained only on it must be "
           "checked on real footage before its scores mean anything at the quay. Hull paint colour is not varied "
           "(the world does not expose it).")


class SyntheticDatasetError(ValueError):
    pass


HELDOUT_HONESTY = ("Held out: an evaluation-only set. Every image is in the test split; train/ and val/ are "
                   "empty. What no training set shows: the containers' shapes ({kinds}, never {train_kinds}) "
                   "and the hull ({hull}); its random streams differ from any training set's. What training does "
                   "show: the landmark and anomaly classes, the distractors, the water, lights and sensor models.")


@dataclasses.dataclass(frozen=True)
class SyntheticSpec:
    kind: str
    n: int
    seed: int = 0
    image_size: tuple[int, int] | None = None  # (width, height); default by kind
    negative_fraction: float = NEGATIVE_FRACTION
    images_per_hull: int | None = None
    heldout: bool = False  # an evaluation-only set of what training never sees (module docstring)
    hull_path: str | None = None  # held out only: a hull mesh file instead of held-out parametric hulls
    hull_scale: float = 1.0  # of hull_path: model-to-full-scale factor
    hull_draft_m: float | None = None  # of hull_path: draft at the berth; default 40% of its depth
    focus: str | None = None  # "niche" or "distractor": where every view looks (FOCUS_ROLE_WEIGHTS)
    standoff_m: tuple[float, float] | None = None  # (nearest, farthest) sensor-to-target metres; default by kind

    @property
    def min_images(self) -> int:
        return 1 if self.heldout else MIN_IMAGES

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise SyntheticDatasetError(f"kind: one of {', '.join(KINDS)}, got {self.kind!r}")
        lo = self.min_images
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or not lo <= self.n <= MAX_IMAGES:
            raise SyntheticDatasetError(f"n: the number of images must be a whole number from {lo} "
                                        f"{'' if self.heldout else '(one per split) '}to {MAX_IMAGES:,}, "
                                        f"got {self.n!r}")
        if not self.heldout and (self.hull_path is not None or self.hull_draft_m is not None
                                 or self.hull_scale != 1.0):
            raise SyntheticDatasetError("hull: a hull mesh renders a held-out evaluation set (heldout=True, "
                                        "--heldout); training sets use parametric hulls only")
        if not (isinstance(self.hull_scale, (int, float)) and 0 < self.hull_scale < 1e4):
            raise SyntheticDatasetError(f"hull scale: a factor > 0, got {self.hull_scale!r}")
        if self.hull_draft_m is not None and self.hull_path is None:
            raise SyntheticDatasetError("draft: give the hull mesh it belongs to (--hull FILE)")
        if self.hull_draft_m is not None and not self.hull_draft_m > 0:
            raise SyntheticDatasetError(f"draft: metres > 0, got {self.hull_draft_m!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SyntheticDatasetError(f"seed: a whole number >= 0, got {self.seed!r}")
        if self.focus not in FOCUS_ROLE_WEIGHTS:
            raise SyntheticDatasetError(f"focus: one of {', '.join(str(f) for f in FOCUS_ROLE_WEIGHTS if f)} or "
                                        f"none, got {self.focus!r}")
        if not 0.0 <= self.negative_fraction <= 0.9:
            raise SyntheticDatasetError(f"negative_fraction: 0..0.9, got {self.negative_fraction!r}")
        if self.standoff_m is not None:
            try:
                lo, hi = (float(v) for v in self.standoff_m)
            except (TypeError, ValueError):
                raise SyntheticDatasetError(f"standoff: two numbers (nearest, farthest) in metres, got "
                                            f"{self.standoff_m!r}") from None
            if not STANDOFF_LIMITS_M[0] <= lo < hi <= STANDOFF_LIMITS_M[1]:
                raise SyntheticDatasetError(f"standoff: nearest < farthest, both {STANDOFF_LIMITS_M[0]:g}.."
                                            f"{STANDOFF_LIMITS_M[1]:g} m, got {lo!r}..{hi!r}")
        w, h = self.size
        if not (32 <= w <= 4096 and 32 <= h <= 4096):
            raise SyntheticDatasetError(f"image size: width and height 32..4096 pixels, got {w}x{h}")
        if self.images_per_hull is not None and self.images_per_hull < 1:
            raise SyntheticDatasetError(f"images_per_hull: at least 1, got {self.images_per_hull!r}")

    @property
    def standoff(self) -> tuple[float, float]:
        return tuple(float(v) for v in (self.standoff_m or STANDOFF_M[self.kind]))  # type: ignore[return-value]

    @property
    def size(self) -> tuple[int, int]:
        return tuple(int(v) for v in (self.image_size or DEFAULT_SIZE[self.kind]))  # type: ignore[return-value]

    @property
    def per_hull(self) -> int:
        if self.heldout:  # one split: no minimum number of hulls (a mesh: its berths)
            per = self.images_per_hull or IMAGES_PER_HULL[self.kind]
            if self.hull_path is not None and not self.images_per_hull:
                per = max(per, math.ceil(self.n / MESH_BERTHS))
            return max(1, min(per, self.n))
        # at least 3 hulls: one for each split
        return max(1, min(self.images_per_hull or IMAGES_PER_HULL[self.kind], self.n // 3))


@dataclasses.dataclass(frozen=True)
class HullPlan:
    index: int
    split: str
    first_image: int
    n_images: int


@dataclasses.dataclass(frozen=True, eq=False)
class Sample:
    """One rendered image with its labels; `frame` is the renderer's own output (its
    boxes are the ground truth the labels come from), `fan` the sonar's FanImage."""

    index: int
    split: str
    hull: int
    image: np.ndarray
    labels: tuple  # (class_id, (x0, y0, x1, y1) pixels, object name)
    record: dict
    frame: object
    fan: object = None


def _domain(spec: SyntheticSpec) -> int:
    return _KIND_CODE[spec.kind] + (HELDOUT_SEED_DOMAIN if spec.heldout else 0)


def _seed(spec: SyntheticSpec, *keys: int) -> int:
    return int(np.random.SeedSequence([int(spec.seed), _domain(spec), *keys]).generate_state(1)[0])


def _rng(spec: SyntheticSpec, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(spec.seed), _domain(spec), *keys]))


def plan_hulls(spec: SyntheticSpec) -> list[HullPlan]:
    """Which images each hull renders and which split it belongs to (seeded, by hull).
    A held-out set puts every hull in test."""
    per = spec.per_hull
    n_hulls = math.ceil(spec.n / per)
    if spec.heldout:
        return [HullPlan(h, "test", h * per, min(per, spec.n - h * per)) for h in range(n_hulls)]
    counts = split_counts(n_hulls)
    order = _rng(spec, 0xA11).permutation(n_hulls)
    split_of = {}
    pos = 0
    for split in SPLITS:
        for h in order[pos:pos + counts[split]]:
            split_of[int(h)] = split
        pos += counts[split]
    return [HullPlan(h, split_of[h], h * per, min(per, spec.n - h * per)) for h in range(n_hulls)]


def negative_images(spec: SyntheticSpec) -> frozenset[int]:
    k = round(spec.negative_fraction * spec.n)
    return frozenset(int(i) for i in _rng(spec, 0xE6).choice(spec.n, size=k, replace=False))


# ---- hulls and scenarios -----------------------------------------------------------------
def draw_hull(rng: np.random.Generator, families: dict | None = None):
    """(family, HullDimensions, Placement) of one randomised vessel at its berth, from the
    training families (default) or the given ones (HELDOUT_HULL_FAMILIES)."""
    from hull.parametric import HullDimensions
    from hull.placement import Placement

    families = HULL_FAMILIES if families is None else families
    family = list(families)[int(rng.integers(len(families)))]
    f = families[family]
    u = lambda lo_hi: float(rng.uniform(*lo_hi))  # noqa: E731
    length = u(f["length_m"])
    beam = length / u(f["l_over_b"])
    draft = beam / u(f["b_over_t"])
    depth = min(draft * u(f["d_over_t"]), 0.8 * beam + draft - 0.01)
    dims = HullDimensions(length_m=round(length, 2), beam_m=round(beam, 2), draft_m=round(draft, 2),
                          depth_m=round(depth, 2), block_coefficient=round(u(f["cb"]), 3),
                          bulbous_bow=bool(rng.random() < f["bulb"]), transom=bool(rng.random() < f["transom"]),
                          skeg=bool(rng.random() < f["skeg"]))
    berth_draft = round(dims.draft_m * u((0.75, 1.0)), 2)
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=round(u((0.0, 359.9)), 1),
                          draft_m=berth_draft, berth_side=("port", "starboard")[int(rng.integers(2))],
                          quay_gap_m=round(u((1.5, 6.0)), 2), water_depth_m=round(berth_draft + u((1.5, 10.0)), 2))
    return family, dims, placement


def is_heldout_hull(dims) -> bool:
    """True when a parametric hull's length/beam lies in the held-out gap (no training
    family draws it)."""
    lo, hi = HELDOUT_L_OVER_B
    return lo - 0.01 <= dims.length_m / dims.beam_m <= hi + 0.01


def mesh_berth(model, draft_m: float, rng: np.random.Generator):
    """A random berth (side, heading, quay gap, water under the keel) for a mesh hull at draft_m."""
    from hull.placement import Placement

    u = lambda lo_hi: float(rng.uniform(*lo_hi))  # noqa: E731
    return Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=round(u((0.0, 359.9)), 1),
                     draft_m=round(float(draft_m), 4), berth_side=("port", "starboard")[int(rng.integers(2))],
                     quay_gap_m=round(u((1.5, 6.0)), 2), water_depth_m=round(float(draft_m) + u((1.5, 10.0)), 2))


def load_heldout_mesh(spec: SyntheticSpec):
    """(HullModel, draft_m) of the spec's hull mesh file, with its niche-area sidecar if any."""
    from hull.loader import HullLoadError
    from hull.model import HullModel
    from hull.niche import NicheFileError

    try:
        model = HullModel.load(spec.hull_path, scale=float(spec.hull_scale))
    except (HullLoadError, NicheFileError, OSError) as exc:
        raise SyntheticDatasetError(f"hull: {exc}") from None
    draft = spec.hull_draft_m if spec.hull_draft_m is not None else 0.4 * model.depth_m
    if not 0 < draft < model.depth_m:
        raise SyntheticDatasetError(f"draft {draft:g} m must lie between the keel and the deck of {model.name} "
                                    f"(depth {model.depth_m:.2f} m at scale {spec.hull_scale:g})")
    return model, float(draft)


class _HullContext:
    """A built hull and what views need from it, shared by its scenarios."""

    def __init__(self, model, placement):
        self.model = model
        self.placement = placement
        wet = model.wetted(placement.draft_m).mesh
        areas = wet.face_areas()
        self.wet_centers, self.wet_normals = wet.face_centers(), wet.face_normals()
        self.wet_prob = areas / areas.sum()
        self.quay = placement.quay_plane_h(model.beam_m / 2)
        self.niches = tuple(model.niche_areas)


@dataclasses.dataclass
class _ScenarioContext:
    hull: _HullContext
    world: object
    water: str
    attenuation_per_m: float
    sonar_tilt_deg: float
    labelled: tuple  # planted objects with a class in CLASSES
    distractors: tuple


# ---- one view -----------------------------------------------------------------------------
def _config(cls, values: dict):
    """A renderer config from the values this version of the renderer knows (the sim's
    configs grow fields; the card records what was applied)."""
    known = {f.name for f in dataclasses.fields(cls)}
    applied = {k: v for k, v in values.items() if k in known}
    return cls(**applied), applied


def _choose_target(ctx: _ScenarioContext, role: str, rng: np.random.Generator, *, by_kind: bool = False):
    """(target kind, name, point, normal) for a view of this role; `by_kind`: a niche view
    draws the kind of area first, then one area of that kind."""
    h = ctx.hull
    if role == "object" and ctx.labelled:
        o = ctx.labelled[int(rng.integers(len(ctx.labelled)))]
        return "object", o.name, np.asarray(o.center_h), np.asarray(o.normal_h)
    if role == "niche" and h.niches:
        areas = h.niches
        if by_kind:
            kinds = sorted({a.kind.value for a in areas})
            kind = kinds[int(rng.integers(len(kinds)))]
            areas = tuple(a for a in areas if a.kind.value == kind)
        a = areas[int(rng.integers(len(areas)))]
        n = np.asarray(a.normal_h, float)
        if a.side == "centreline" and rng.random() < 0.5:
            n = -n  # rudder, tunnels: seen from either side
        p = np.asarray(a.center_h, float)
        if a.centred:  # its centre is inside it (hub, rudder, mid-tunnel): no camera sees that point
            p = p + n * (a.depth_m / 2)
        return "niche", a.name, p, n
    if ctx.distractors and (role == "distractor" or (role == "negative" and rng.random() < NEGATIVE_DISTRACTOR_SHARE)):
        o = ctx.distractors[int(rng.integers(len(ctx.distractors)))]
        return "distractor", o.name, np.asarray(o.center_h), np.asarray(o.normal_h)
    i = int(rng.choice(len(h.wet_prob), p=h.wet_prob))
    return "hull", f"hull face {i}", h.wet_centers[i], h.wet_normals[i]


def _camera_settings(spec: SyntheticSpec, standoff_m: float, rng: np.random.Generator) -> dict:
    w, h = spec.size
    # the pilot dims the lamps close to the hull: lamp light on the target falls as 1/d^2, so
    # a fixed power burns out every close view; the power follows d^2 within a factor of 2
    light = REFERENCE_LIGHT_POWER * (standoff_m / REFERENCE_STANDOFF_M) ** 2 \
        * math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
    return {"width": w, "height": h, "hfov_deg": round(float(rng.uniform(70.0, 90.0)), 2),
            "light_power": round(float(np.clip(light, 2.0, 80.0)), 2),
            "exposure": round(float(rng.uniform(0.7, 1.3)), 3), "daylight": round(float(rng.uniform(0.0, 1.0)), 3),
            "blur_sigma_px": round(float(rng.uniform(0.3, 1.4)), 3),
            "noise_sigma": round(float(rng.uniform(0.006, 0.025)), 4),
            "jpeg_quality": int(rng.integers(60, 96)), "marine_snow_per_frame": int(rng.integers(0, 300))}


def _sonar_settings(standoff_m: float, rng: np.random.Generator) -> dict:
    # the operator picks a range scale that holds the target, with room behind it, and sets
    # the gain and the log display's span (MultibeamConfig.display_range_db) so the hull's
    # grazing return (~45 dB under a unit echo) shows grey: a face square to the beam then
    # saturates, and the noise floor (display noise -80..-60 dB, receiver noise lifted by the
    # TVG) stays near black
    max_range = float(np.clip(standoff_m * rng.uniform(1.2, 2.2), 3.0, 20.0))
    return {"beams": int((256, 512)[int(rng.integers(2))]), "max_range_m": round(max_range, 2),
            "gain": round(float(math.exp(rng.uniform(math.log(3.0), math.log(30.0)))), 3),
            "noise_level": round(float(math.exp(rng.uniform(math.log(1e-4), math.log(1e-3)))), 7),
            "receiver_noise": round(float(math.exp(rng.uniform(math.log(1e-7), math.log(1e-6)))), 9),
            "display_range_db": round(float(rng.uniform(40.0, 60.0)), 1)}


def _render(spec: SyntheticSpec, ctx: _ScenarioContext, role: str, rng: np.random.Generator):
    """(image, labels, frame, fan, record) of one view, or None when no pose was found."""
    from hull.pose import SensorPose
    from sim.camera_render import CameraConfig
    from sim.sonar_render import MultibeamConfig

    h = ctx.hull
    world = ctx.world
    target_kind, target_name, p, n = _choose_target(ctx, role, rng, by_kind=spec.focus == "niche")
    lo, hi = spec.standoff
    if spec.kind == "camera":
        hi = min(hi, max(lo + 0.5, math.log(1 / CAMERA_MIN_SIGNAL) / (2 * ctx.attenuation_per_m)))
    grazing = GRAZING_FRACTION if spec.kind == "camera" else SONAR_GRAZING_FRACTION
    placed = place_sensor(h.model.queries, h.placement, p, n, (lo, hi), grazing, rng, quay=h.quay)
    if placed is None:
        return None
    pos, standoff, incidence = placed
    geo = None
    if spec.kind == "camera":
        settings = _camera_settings(spec, standoff, rng)
        half_h = math.radians(settings["hfov_deg"]) / 2
        half_v = math.atan(math.tan(half_h) * spec.size[1] / spec.size[0])
        aim_pt = offset_aim(pos, p, rng, (0.6 * half_h, 0.6 * half_v))
        geo = aim(pos, aim_pt, h.placement, rng, kind="camera")
    else:
        settings = _sonar_settings(standoff, rng)
        if incidence >= SONAR_ALONG_SURFACE_INCIDENCE_DEG:
            aim_pt = offset_aim(pos, p, rng, (math.radians(45.0), math.radians(3.0)))
            pose = SensorPose(pos, *fan_along_surface(pos, aim_pt, n, rng))
        else:
            aim_pt = offset_aim(pos, p, rng, (math.radians(45.0), math.radians(6.0)))
            geo = aim(pos, aim_pt, h.placement, rng, kind="sonar", sonar_tilt_deg=ctx.sonar_tilt_deg)
    if geo is not None:
        pose = world.sensor_pose(h.placement.h_to_ned(pos), tuple(math.radians(a) for a in
                                                                  (geo.roll_deg, geo.pitch_deg, geo.yaw_deg)),
                                 geo.tilt_deg)
    fan = None
    if spec.kind == "camera":
        cfg, applied = _config(CameraConfig, settings)
        frame = world.render_camera(pose, cfg, rng, class_of=lambda c: CLASS_ID.get(c, -1))
        image = frame.image
        width, height = image.shape[1], image.shape[0]
        boxes = [(name, cls, tuple(float(v) for v in box)) for name, cls, box in frame.boxes]
    else:
        cfg, applied = _config(MultibeamConfig, settings)
        frame = world.render_sonar(pose, cfg, rng)
        fan, boxes, echo = sonar_fan_boxes(frame, spec.size)
        image = fan.image
        width, height = fan.width_px, fan.height_px
    labels = []
    unseen = []
    for k, (name, cls, box) in enumerate(boxes):
        if cls in CLASS_ID and label_line(CLASS_ID[cls], box, width, height) is not None:
            if spec.kind == "camera" and box_contrast(image, frame.class_ids, CLASS_ID[cls], box) < MIN_CONTRAST:
                unseen.append(name)  # in view geometrically, but lost in the dark or the haze
                continue
            if spec.kind == "sonar" and echo[k] < SONAR_MIN_CONTRAST:
                unseen.append(name)  # in the fan, but lost in the speckle, the noise floor or a shadow
                continue
            labels.append((CLASS_ID[cls], box, name))
    record = {"role": role, "target": target_name, "target_kind": target_kind,
              "standoff_m": round(standoff, 3), "incidence_deg": round(incidence, 2),
              "position_h": [round(float(v), 3) for v in pos]}
    if geo is not None:
        record["vehicle"] = {"roll_deg": round(geo.roll_deg, 2), "pitch_deg": round(geo.pitch_deg, 2),
                             "yaw_deg": round(geo.yaw_deg, 2)}
        record["tilt_deg"] = round(geo.tilt_deg, 2)
    else:  # the fan laid along the surface (view_sampling.fan_along_surface)
        record["fan_along_surface"] = {"forward_h": [round(float(v), 4) for v in pose.forward_h],
                                       "up_h": [round(float(v), 4) for v in pose.up_h]}
    record.update(sensor=applied, unlabelled_too_faint=unseen)
    if target_kind == "niche":
        record["niche_kind"] = next(a.kind.value for a in h.niches if a.name == target_name)
    if spec.kind == "camera":  # what is in view but is no class: the alarm verifier's look-alikes
        record["distractors"] = [{"name": name, "xyxy": [round(v, 2) for v in box]} for name, cls, box in boxes
                                 if cls is None and (box[2] - box[0]) * (box[3] - box[1]) >= MIN_DISTRACTOR_PX]
        record["too_faint_boxes"] = [{"name": name, "xyxy": [round(v, 2) for v in box]} for name, cls, box in boxes
                                     if name in unseen]  # a detector box there is no false alarm
    return image, tuple(labels), frame, fan, record


def box_contrast(image: np.ndarray, class_ids: np.ndarray, cid: int, box) -> float:
    """Grey-level difference between an object's own pixels and a ring of other pixels
    around its box. A label on something no one could see in the image teaches a detector
    to hallucinate, so a camera label needs this to reach MIN_CONTRAST."""
    h, w = class_ids.shape
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    mx, my = max(2, (x1 - x0) // 4), max(2, (y1 - y0) // 4)
    xa, ya, xb, yb = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
    grey = image[ya:yb, xa:xb].astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
    own = class_ids[ya:yb, xa:xb] == cid
    inside = np.zeros_like(own)
    inside[y0 - ya:y1 - ya, x0 - xa:x1 - xa] = True
    ring = ~own & ~inside
    if not own.any() or not ring.any():
        return float("inf")  # the object fills the view: its edges are out of frame, not faint
    return float(abs(grey[own].mean() - grey[ring].mean()))


def sonar_fan_boxes(frame, size) -> tuple[object, list, list[float]]:
    """(fan, boxes, contrasts): a sonar frame as a data set saves it, the Cartesian fan of
    `size` (width, height); each of `frame.boxes_polar` as (name, class, fan-pixel box around
    the part of it that stands out of the echo around it (`sonar_echo_shown`), or around the
    pixels that show it when no part does, or around all its first hits when none do); and
    how far that part stands out of the speckle (`sonar_echo_contrast`)."""
    from scipy.ndimage import find_objects

    fan, pad = _fan_of(frame, size)
    ids, bins = fan_object_ids(fan, frame.object_ids, pad)
    # the box of the pixels that show each object (its echo above the noise floor): its first
    # hits can spread far wider (a grazing bag's far end, a blade edge-on), and a box around
    # all of them would ask the detector for speckle
    shown = find_objects(ids, max_label=len(frame.boxes_polar))
    boxes, contrasts = [], []
    for k, (name, cls, polar) in enumerate(frame.boxes_polar):
        if not shown[k]:
            boxes.append((name, cls, _fan_box(fan, polar, pad)))
            contrasts.append(0.0)
            continue
        box, contrast = sonar_echo_shown(fan.image, ids, bins, k + 1, _slices_box(shown[k]))
        boxes.append((name, cls, box))
        contrasts.append(contrast)
    return fan, boxes, contrasts


def sonar_echo_shown(image: np.ndarray, fan_ids: np.ndarray, fan_bins: np.ndarray, oid: int, box):
    """(box, contrast) of the part of an object's echo that stands out of the echo around it:
    its own pixels whose local mean (over SONAR_SHOWN_WINDOW px of its own pixels, which
    tames the speckle) clears the median of a ring of background around `box` by
    SONAR_MIN_CONTRAST of the ring's spread. That part's box, and its contrast as
    `sonar_echo_contrast` measures it; when fewer than SONAR_MIN_ECHO_BINS bins stand out,
    `box` and the contrast of all the object's pixels. Why: a bag or a tube lying along the
    look direction on plating the fan grazes shows a bright end and, behind it, an echo as
    bright as the plating beside it; the eye (and a detector) sees the end, and a box over
    the whole length, or no label because the length's mean is faint, teaches neither."""
    from scipy.ndimage import uniform_filter

    xa, ya, xb, yb = _ring_window(box, fan_ids.shape)
    own, bins = fan_ids[ya:yb, xa:xb] == oid, fan_bins[ya:yb, xa:xb]
    stats = _ring_stats(image, fan_ids, fan_bins, box)
    if stats is None or np.unique(bins[own]).size < SONAR_MIN_ECHO_BINS:
        return box, sonar_echo_contrast(image, fan_ids, fan_bins, oid, box)  # 0 or inf: no ring to judge by
    _, q50, spread = stats
    grey = image[ya:yb, xa:xb].astype(np.float32)
    weight = uniform_filter(own.astype(np.float32), SONAR_SHOWN_WINDOW, mode="constant")
    local = uniform_filter(np.where(own, grey, 0.0), SONAR_SHOWN_WINDOW, mode="constant") / np.maximum(weight, 1e-6)
    out = own & (local >= q50 + SONAR_MIN_CONTRAST * spread)
    if np.unique(bins[out]).size < SONAR_MIN_ECHO_BINS:  # no part stands out: all its pixels, judged together
        return box, float((grey[own].mean() - q50) / spread)
    ys, xs = np.nonzero(out)
    part = (float(xa + xs.min()), float(ya + ys.min()), float(xa + xs.max() + 1), float(ya + ys.max() + 1))
    return part, float((grey[out].mean() - q50) / spread)


def _slices_box(rows_cols) -> tuple[float, float, float, float]:
    ys, xs = rows_cols
    return float(xs.start), float(ys.start), float(xs.stop), float(ys.stop)


def _fan_box(fan, polar, pad):
    # a bin's echo is drawn centred on its row: bins r0..r1-1 cover rows r0-0.5..r1-0.5
    b0, r0, b1, r1 = polar
    return fan.polar_box_to_fan((b0 - 0.5, r0 + pad - 0.5, b1 - 0.5, r1 + pad - 0.5))


def fan_object_ids(fan, object_ids: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """A sonar frame's `object_ids` (polar, without the `pad` rows of `_fan_of`) carried into
    its fan: (ids, bins), both (H, W). Each fan pixel takes the polar bin nearest to where the
    fan samples the polar image (the bin its grey level mostly comes from); `bins` is that
    bin's flat index (row * beams + beam), -1 where the fan shows no polar data (outside the
    fan, the blank rows below the minimum range), where `ids` is 0."""
    h, w = fan.image.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r, b = fan.pixel_to_polar(xx, yy)
    rows, beams = object_ids.shape
    row = np.rint(r / fan.range_resolution_m).astype(np.int64) - pad
    beam = np.rint(fan.bearing_to_beam_index(b)).astype(np.int64)
    bt = fan.bearings_deg
    shown = (b >= bt[0]) & (b <= bt[-1]) & (r <= fan.max_range_m) & (row >= 0) & (row < rows)
    bins = np.where(shown, row * beams + beam, -1)
    ids = np.where(shown, object_ids.reshape(-1)[np.maximum(bins, 0)], 0).astype(np.int16)
    return ids, bins


def sonar_echo_contrast(image: np.ndarray, fan_ids: np.ndarray, fan_bins: np.ndarray, oid: int, box) -> float:
    """How far an object's echo stands out of the speckle in the fan image, in units of the
    background's spread: (mean of the object's own pixels - median of a ring of background
    around its box) / the ring's interquartile range (at least SONAR_MIN_SPREAD). Speckle is
    Rayleigh (its spread grows with its level), so a grey-level difference alone would pass
    noise on a bright fan and fail clear echoes on a dark one. Own pixels: `fan_ids == oid`
    (`fan_object_ids`); the ring leaves out the box, other objects' echoes and what lies
    outside the fan. 0 when fewer than SONAR_MIN_ECHO_BINS bins of the echo are shown (a
    speck, or an echo that other echoes or the fan's edge hide)."""
    xa, ya, xb, yb = _ring_window(box, fan_ids.shape)
    own = fan_ids[ya:yb, xa:xb] == oid  # the object's pixels all lie in its box
    if np.unique(fan_bins[ya:yb, xa:xb][own]).size < SONAR_MIN_ECHO_BINS:
        return 0.0
    stats = _ring_stats(image, fan_ids, fan_bins, box)
    if stats is None:
        return float("inf")  # the echo fills the fan around it: nothing to compare with, not faint
    _, q50, spread = stats
    return float((image[ya:yb, xa:xb][own].astype(np.float64).mean() - q50) / spread)


def _ring_window(box, shape) -> tuple[int, int, int, int]:
    """(xa, ya, xb, yb): `box` plus the margin its ring of background is taken from."""
    h, w = shape
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    m = max(6, (x1 - x0) // 4, (y1 - y0) // 4)
    return max(0, x0 - m), max(0, y0 - m), min(w, x1 + m + 1), min(h, y1 + m + 1)


def _ring_stats(image, fan_ids, fan_bins, box):
    """((xa, ya, xb, yb), median, spread) of the ring of background around `box`: the window
    `box` plus a margin, less the box, every object's echo and what lies outside the fan;
    spread = its interquartile range, at least SONAR_MIN_SPREAD. None when no ring is left."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    xa, ya, xb, yb = _ring_window(box, fan_ids.shape)
    ring = (fan_ids[ya:yb, xa:xb] == 0) & (fan_bins[ya:yb, xa:xb] >= 0)
    ring[max(0, y0 - ya):max(0, y1 - ya + 1), max(0, x0 - xa):max(0, x1 - xa + 1)] = False
    if not ring.any():
        return None
    q25, q50, q75 = np.percentile(image[ya:yb, xa:xb][ring].astype(np.float64), [25, 50, 75])
    return (xa, ya, xb, yb), float(q50), float(max(q75 - q25, SONAR_MIN_SPREAD))


def _fan_of(frame, size):
    """The station's view of a ping: Oculus-style polar image (range 0 at row 0, bearings to
    0.01 deg as the wire format carries them) -> Cartesian fan. Returns (fan, rows of padding)."""
    from vision.sonar.fan import fan_image
    from vision.sonar.oculus import SonarPing

    res = float(frame.range_resolution_m)
    pad = int(round(frame.min_range_m / res))
    img = np.asarray(frame.intensities, np.uint8)
    if pad:
        img = np.vstack([np.zeros((pad, img.shape[1]), np.uint8), img])
    bearings = np.round(np.asarray(frame.bearings_deg, float) * 100) / 100
    ping = SonarPing(ping_id=0, frequency_hz=1.2e6, range_m=img.shape[0] * res, range_resolution_m=res,
                     speed_of_sound_m_s=1500.0, gain_percent=50.0, bearings_deg=bearings, intensities=img)
    return fan_image(ping, width_px=size[0], height_px=size[1]), pad


# ---- the data set -------------------------------------------------------------------------
class SyntheticRenderer:
    """Renders a spec's images in order (`samples()`), building each hull once for all its
    scenarios and views; `hulls` fills with what was built, for the card."""

    def __init__(self, spec: SyntheticSpec):
        spec.validate()
        self.spec = spec
        self.plan = plan_hulls(spec)
        self.negatives = negative_images(spec)
        self.hulls: list[dict] = []
        self.mesh = load_heldout_mesh(spec) if spec.hull_path is not None else None  # (model, draft)

    @property
    def container_kinds(self) -> tuple[str, ...]:
        from sim.scenario import HELDOUT_CONTAINER_KINDS, TRAINING_CONTAINER_KINDS

        return HELDOUT_CONTAINER_KINDS if self.spec.heldout else TRAINING_CONTAINER_KINDS

    def _hull(self, hp: HullPlan, rng: np.random.Generator):
        """(family, model, placement, hull record, hull_ref of the scenario)."""
        from hull.model import HullModel

        if self.mesh is not None:
            model, draft = self.mesh
            placement = mesh_berth(model, draft, rng)
            rec = {"family": "mesh file", "mesh": {"file": Path(self.spec.hull_path).name, "sha256": model.sha256,
                                                    "scale": float(self.spec.hull_scale),
                                                    "length_m": round(model.length_m, 3),
                                                    "beam_m": round(model.beam_m, 3),
                                                    "depth_m": round(model.depth_m, 3),
                                                    "niche_areas": [a.name for a in model.niche_areas]}}
            return "mesh", model, placement, rec, {"path": str(Path(self.spec.hull_path).resolve()),
                                                   "scale": float(self.spec.hull_scale)}
        family, dims, placement = draw_hull(rng, HELDOUT_HULL_FAMILIES if self.spec.heldout else None)
        return family, HullModel.parametric_hull(dims), placement, {"family": family,
                                                                   "dims": dataclasses.asdict(dims)}, None

    def samples(self) -> Iterator[Sample]:
        for hp in self.plan:
            yield from self._hull_samples(hp)

    def _hull_samples(self, hp: HullPlan) -> Iterator[Sample]:
        from sim.scenario import WATER, generate_scenario
        from sim.world import World

        spec = self.spec
        rng = _rng(spec, 1, hp.index)
        family, model, placement, rec, hull_ref = self._hull(hp, rng)
        hctx = _HullContext(model, placement)
        hull_rec = {"index": hp.index, "split": hp.split, **rec,
                    "placement": {k: placement.to_dict()[k] for k in ("draft_m", "water_depth_m", "berth_side",
                                                                      "quay_gap_m", "heading_deg")},
                    "images": hp.n_images, "scenarios": []}
        kinds = {"container_kinds": self.container_kinds}
        self.hulls.append(hull_rec)
        vps = VIEWS_PER_SCENARIO[spec.kind]
        for s in range(math.ceil(hp.n_images / vps)):
            srng = _rng(spec, 2, hp.index, s)
            water = str(srng.choice(list(WATER_WEIGHTS), p=list(WATER_WEIGHTS.values())))
            scen_seed = _seed(spec, 3, hp.index, s)
            counts = {"containers": int(srng.integers(1, 5)), "anomalies": int(srng.integers(0, 3)),
                      "distractors": int(srng.integers(1, 7))}
            scenario = generate_scenario(model, placement, seed=scen_seed, water=water, hull_ref=hull_ref,
                                         vessel_name=f"synthetic {family} {hp.index}", **counts, **kinds)
            tilt = round(float(srng.uniform(5.0, 20.0)), 2)
            world = World.from_scenario(scenario, model, sonar_tilt_deg=tilt)
            objs = scenario.objects
            ctx = _ScenarioContext(hctx, world, water, WATER[water], tilt,
                                   tuple(o for o in objs if o.class_name in CLASS_ID),
                                   tuple(o for o in objs if o.class_name is None))
            hull_rec["scenarios"].append({"seed": scen_seed, "water": water, **counts, "sonar_tilt_deg": tilt,
                                          "objects": dict(sorted(Counter(o.kind for o in objs).items()))})
            first = hp.first_image + s * vps
            for index in range(first, min(first + vps, hp.first_image + hp.n_images)):
                yield self._image(hp, s, scen_seed, ctx, index)

    def _image(self, hp: HullPlan, s: int, scen_seed: int, ctx: _ScenarioContext, index: int) -> Sample:
        spec = self.spec
        rng = _rng(spec, 4, index)
        if index in self.negatives:
            role = "negative"
        else:
            weights = FOCUS_ROLE_WEIGHTS[spec.focus]
            roles = list(weights)
            role = roles[int(rng.choice(len(roles), p=list(weights.values())))]
        result, tries = None, 0
        for tries in range(1, ATTEMPTS + 1):
            # when no pose was found at all, the last try looks at the wetted hull (always
            # reachable from the water); a negative view that found no clear water near its
            # distractors (seed 105, image 968) takes it too, labels and all, rather than failing
            last_resort = tries == ATTEMPTS and result is None
            got = _render(spec, ctx, "hull" if last_resort else role, rng)
            if got is None:
                continue
            result = got
            has_labels = bool(got[1])
            if (role == "negative" and not has_labels) or (role != "negative" and (has_labels or role != "object")):
                break
        if result is None:
            raise SyntheticDatasetError(f"image {index}: found no sensor pose in the water near hull {hp.index}; "
                                        f"this is a bug in the view sampler, please report it with the seed")
        image, labels, frame, fan, record = result
        name = f"{spec.kind}_h{hp.index:04d}_{index:06d}.png"
        record = {"image": f"images/{hp.split}/{name}", "split": hp.split, "hull": hp.index, "scenario": s,
                  "scenario_seed": scen_seed, "water": ctx.water, "tries": tries, **record,
                  "labels": [{"class": CLASSES[c], "name": nm, "xyxy": [round(float(v), 2) for v in box]}
                             for c, box, nm in labels]}
        return Sample(index, hp.split, hp.index, image, labels, record, frame, fan)


def parameters(spec: SyntheticSpec) -> dict:
    from sim.scenario import HELDOUT_CONTAINER_KINDS, TRAINING_CONTAINER_KINDS

    out = {"kind": spec.kind, "n": spec.n, "seed": spec.seed, "image_size": list(spec.size),
           "images_per_hull": spec.per_hull, "views_per_scenario": VIEWS_PER_SCENARIO[spec.kind],
           "negative_fraction": spec.negative_fraction, "view_roles": FOCUS_ROLE_WEIGHTS[spec.focus],
           "negative_distractor_share": NEGATIVE_DISTRACTOR_SHARE,
           "standoff_m": list(spec.standoff), "grazing_fraction": GRAZING_FRACTION,
           "grazing_incidence_deg": [60, 82], "camera_min_signal": CAMERA_MIN_SIGNAL if spec.kind == "camera" else None,
           "water": WATER_WEIGHTS, "hull_families": HULL_FAMILIES,
           "scenario_objects": {"containers": [1, 4], "anomalies": [0, 2], "distractors": [1, 6]},
           "pose_attempts_per_image": ATTEMPTS, "png_compression": PNG_COMPRESSION,
           "container_kinds": list(TRAINING_CONTAINER_KINDS)}
    if spec.focus:
        out.update(focus=spec.focus)
    if spec.focus == "niche":
        out.update(niche_area_draw="kind of area first, then one area of that kind")
    if spec.heldout:
        out.update(heldout=True, seed_domain=_domain(spec), container_kinds=list(HELDOUT_CONTAINER_KINDS),
                   training_container_kinds=list(TRAINING_CONTAINER_KINDS),
                   hull_families=None if spec.hull_path else HELDOUT_HULL_FAMILIES,
                   hull_mesh=None if spec.hull_path is None else {
                       "file": Path(spec.hull_path).name, "scale": spec.hull_scale, "draft_m": spec.hull_draft_m,
                       "berths": math.ceil(spec.n / spec.per_hull)})
    return out


def heldout_description(spec: SyntheticSpec, mesh=None) -> dict:
    """What a held-out set holds that training never draws, for its card."""
    from sim.scenario import HELDOUT_CONTAINER_KINDS, TRAINING_CONTAINER_KINDS

    if mesh is not None:
        model, draft = mesh
        hull = {"rule": "a hull mesh file: training renders parametric hulls only, never a mesh",
                "file": Path(spec.hull_path).name, "sha256": model.sha256, "scale": float(spec.hull_scale),
                "draft_m": round(draft, 4), "niche_areas": len(model.niche_areas),
                "niche_source": (f"{Path(spec.hull_path).name}.niches.json" if model.niche_areas else
                                 "none (no sidecar): containers go on the hull surface, no niche anomalies")}
        hull_text = f"mesh {Path(spec.hull_path).name} at scale {spec.hull_scale:g}, draft {draft:.2f} m"
    else:
        tr = sorted((f["l_over_b"] for f in HULL_FAMILIES.values()))
        hull = {"rule": f"parametric hulls of held-out families ({', '.join(HELDOUT_HULL_FAMILIES)}) with "
                        f"length/beam {HELDOUT_L_OVER_B[0]}..{HELDOUT_L_OVER_B[1]}; every training family's "
                        f"length/beam lies outside it ({', '.join(f'{a}..{b}' for a, b in tr)})",
                "families": sorted(HELDOUT_HULL_FAMILIES), "l_over_b": list(HELDOUT_L_OVER_B)}
        hull_text = f"held-out parametric families {', '.join(HELDOUT_HULL_FAMILIES)}"
    return {"hull": hull, "hull_text": hull_text,
            "container_kinds": list(HELDOUT_CONTAINER_KINDS), "training_container_kinds": list(TRAINING_CONTAINER_KINDS),
            "seed_domain": f"SeedSequence([seed, {_domain(spec)}, ...]); training sets use "
                           f"[seed, {_KIND_CODE[spec.kind]}, ...]",
            "seen_in_training": ["landmark and niche_anomaly classes and kinds", "distractors",
                                 "water, lights, sensor models"]}


def build_synthetic_dataset(spec: SyntheticSpec, out_dir, *, force: bool = False,
                            progress: Callable[[int, int], None] | None = None) -> dict:
    """Render the data set into out_dir (atomically: a temp folder renamed at the end) and
    return its card."""
    import cv2

    renderer = SyntheticRenderer(spec)  # validates before anything touches the disk
    with staged_dataset_dir(Path(out_dir), force=force) as tmp:
        make_split_dirs(tmp)
        records = []
        for done, sample in enumerate(renderer.samples(), start=1):
            ok, png = cv2.imencode(".png", sample.image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
            if not ok:
                raise SyntheticDatasetError(f"image {sample.index}: PNG encoding failed")
            img_path = tmp / sample.record["image"]
            img_path.write_bytes(png.tobytes())
            h, w = sample.image.shape[:2]
            lines = [label_line(c, box, w, h) for c, box, _ in sample.labels]
            (tmp / "labels" / sample.split / (img_path.stem + ".txt")).write_text(
                "".join(ln + "\n" for ln in lines))
            records.append(sample.record)
            if progress:
                progress(done, spec.n)
        (tmp / "index.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
        (tmp / "data.yaml").write_text(data_yaml_text())
        frames, labels, empty = count_labels(tmp)  # from the files themselves: the card cannot disagree
        card = {
            "format": "hullwatch-dataset-card", "version": 1, "title": f"HullWatch synthetic {spec.kind} data set",
            "summary": f"{spec.n} {spec.kind} images rendered from {len(renderer.hulls)} randomised parametric "
                       f"hulls, YOLO layout, classes in vision.classes order.",
            "kind": spec.kind, "source": "synthetic", "seed": spec.seed,
            "generator": {"module": __name__, "generator_version": GENERATOR_VERSION, **generator_identity()},
            "image_format": f"PNG, lossless, compression level {PNG_COMPRESSION}, "
                            f"{spec.size[0]}x{spec.size[1]}, {'BGR' if spec.kind == 'camera' else 'grey fan'}",
            "split": "by hull: all scenarios and views of one hull are in one split (about 70/15/15 of the hulls)",
            "frames": frames, "labels": labels, "empty_images": empty,
            "classes": list(CLASSES), "parameters": parameters(spec), "hulls": renderer.hulls,
            "honesty": HONESTY, "licence": LICENCE_NOTE,
        }
        if spec.heldout:
            card.update(_heldout_card(spec, renderer))
        card = json.loads(json.dumps(card))  # what card.json holds (lists, not tuples)
        write_card(tmp, card)
    return card


def _heldout_card(spec: SyntheticSpec, renderer: SyntheticRenderer) -> dict:
    unseen = heldout_description(spec, renderer.mesh)
    hull_text = unseen.pop("hull_text")
    berths = f"{len(renderer.hulls)} berth(s) of one hull mesh" if renderer.mesh else \
        f"{len(renderer.hulls)} held-out parametric hulls"
    out = {"title": f"HullWatch held-out synthetic {spec.kind} evaluation set", "heldout": True,
           "evaluation_only": True,
           "summary": f"HELD OUT, for evaluation only: {spec.n} {spec.kind} images rendered from {berths}, all in "
                      f"the test split, with container shapes and a hull that no training set shows. YOLO "
                      f"layout, classes in vision.classes order.",
           "split": "evaluation only: every image is in test; train/ and val/ are empty folders (kept so that "
                    "ultralytics and hullwatch evaluate accept the layout; hullwatch train refuses the set)",
           "unseen": unseen,
           "honesty": HELDOUT_HONESTY.format(kinds=", ".join(unseen["container_kinds"]),
                                             train_kinds=", ".join(unseen["training_container_kinds"]),
                                             hull=hull_text) + " " + HONESTY}
    if renderer.mesh is not None:
        out["licence"] = (LICENCE_NOTE + f" The hull is the third-party mesh {Path(spec.hull_path).name} "
                          f"(SHA-256 {renderer.mesh[0].sha256}): images rendered from it may carry its licence; "
                          f"record that licence before sharing this set.")
    return out
