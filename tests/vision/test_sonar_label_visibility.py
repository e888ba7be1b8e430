"""Sonar data sets label an object only when its echo stands out of the speckle in the saved
fan: a clear echo is labelled; one hidden in an acoustic shadow or sunk in the noise floor is
not, and the record lists it as too faint; pure speckle never reaches the threshold. Real
renders: a box hull with planted objects, and a small rendered data set."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim.scenario import PlantedObject
from sim.sonar_render import MultibeamConfig, SonarScene
from tests.hull.shapes import box_mesh
from vision.classes import CLASS_ID
from vision.training.synthetic_dataset import (DEFAULT_SIZE, SONAR_MIN_CONTRAST, SyntheticRenderer, SyntheticSpec,
                                               _fan_box, fan_object_ids, sonar_echo_contrast, sonar_fan_boxes)
from vision.training.yolo_layout import label_line

BOX = box_mesh(40.0, 10.0, 8.0, n=8)  # port side at y = +5
SIZE = DEFAULT_SIZE["sonar"]
TILT = math.radians(10.0)  # the sonar looks down a little, as mounted
# settings from the middle of what _sonar_settings draws (gain 1-5, noise 0.01-0.05)
TYPICAL = {"beams": 256, "max_range_m": 8.0, "gain": 2.0, "noise_level": 0.02}


def _bag() -> PlantedObject:
    """A duffel bag on the port side at x = 20 m, with a duffel bag's reflectivity."""
    return PlantedObject("bag", "duffel_bag", (20.0, 5.2, 4.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.8, 0.4, 0.4),
                         "hull", (0.2, 0.2, 0.8), 0.45)


def _fender_in_front(x: float, distance_m: float) -> PlantedObject:
    """A fender floating 1.5 m off the hull on the sonar's line of sight to the bag; its
    centre at `x` decides how much of the bag peeks out past it. 2 m long: its straight
    middle (60 %, the ends are round) spans 1.2 m, where a 1.2 m cylinder used to end."""
    z_sonar, y = 4.0 + distance_m * math.tan(TILT), 6.5
    z = z_sonar + (4.0 - z_sonar) * (5.0 + distance_m - y) / (distance_m - 0.4)
    return PlantedObject("fender", "fender", (x, y, z), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (2.0, 0.6, 0.6), "free",
                         (0.9, 0.9, 0.9), 0.5)


def _look(objects, distance_m: float, seed: int = 0, **settings):
    """A ping at the port side from `distance_m` off it, level with the bag."""
    cfg = MultibeamConfig(**{**TYPICAL, **settings})
    pos = (20.0, 5.0 + distance_m, 4.0 + distance_m * math.tan(TILT))
    return SonarScene(BOX, objects).render(pos, (0.0, -math.cos(TILT), -math.sin(TILT)),
                                           (0.0, -math.sin(TILT), math.cos(TILT)), cfg, np.random.default_rng(seed))


def _contrasts(frame) -> dict[str, float]:
    _, boxes, echo = sonar_fan_boxes(frame, SIZE)
    return {name: c for (name, _, _), c in zip(boxes, echo)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_clear_echo_is_labelled(seed):
    frame = _look([_bag()], 4.0, seed)
    fan, boxes, echo = sonar_fan_boxes(frame, SIZE)
    assert [b[0] for b in boxes] == ["bag"]
    assert echo[0] >= SONAR_MIN_CONTRAST
    # the pixels the measure reads as the bag's own lie inside its label box
    pad = int(round(frame.min_range_m / frame.range_resolution_m))
    ids, _ = fan_object_ids(fan, frame.object_ids, pad)
    ys, xs = np.nonzero(ids == 1)
    x0, y0, x1, y1 = boxes[0][2]
    assert len(xs) > 0 and x0 - 1 <= xs.min() and xs.max() <= x1 + 1 and y0 - 1 <= ys.min() and ys.max() <= y1 + 1


def test_an_echo_hidden_in_an_acoustic_shadow_is_not_labelled():
    """Behind a fender only the bag's end peeks out: rays reach it (it has a polar box), but
    what the fan shows of it is a speck; the fender itself stands out."""
    frame = _look([_bag(), _fender_in_front(19.25, 4.0)], 4.0)
    assert {b[0] for b in frame.boxes_polar} == {"bag", "fender"}
    c = _contrasts(frame)
    assert c["bag"] < SONAR_MIN_CONTRAST
    assert c["fender"] >= SONAR_MIN_CONTRAST


@pytest.mark.parametrize("distance_m, settings", [
    (12.0, {"max_range_m": 20.0}),  # far: the bag fills a sliver of each beam, below the TVG-lifted floor
    (4.0, {"gain": 5.0, "noise_level": 0.05}),  # near, but under the noisiest floor the data sets draw
], ids=["beyond echo reach", "under the noise floor"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_echo_sunk_in_the_noise_floor_is_not_labelled(distance_m, settings, seed):
    frame = _look([_bag()], distance_m, seed, **settings)
    assert [b[0] for b in frame.boxes_polar] == ["bag"]  # in the fan, geometrically
    assert _contrasts(frame)["bag"] < SONAR_MIN_CONTRAST


def test_an_echo_under_the_noise_floor_owns_no_bins_though_rays_reach_it():
    """The renderer's ground truth (`object_ids`) marks only bins where the object's own echo
    clears the noise floor; the same bag in a quieter fan owns bins again."""
    loud = _look([_bag()], 4.0, 0, gain=5.0, noise_level=0.05)
    quiet = _look([_bag()], 4.0, 0, gain=5.0, noise_level=0.005)
    assert [b[0] for b in loud.boxes_polar] == [b[0] for b in quiet.boxes_polar] == ["bag"]
    assert not (loud.object_ids == 1).any()
    assert (quiet.object_ids == 1).sum() >= 20


def _speckle_patches(frame, size=(4, 5), step=(16, 24)):
    """The frame with a grid of made-up objects (beams x range bins each) where there is only
    speckle: the measure must not find an echo in any of them."""
    ids = np.zeros(frame.intensities.shape, np.int16)
    boxes = []
    nb, nr = size
    for r0 in range(8, ids.shape[0] - nr, step[1]):
        for b0 in range(4, ids.shape[1] - nb, step[0]):
            boxes.append((f"patch {len(boxes) + 1}", "parasitic_container", (b0, r0, b0 + nb, r0 + nr)))
            ids[r0:r0 + nr, b0:b0 + nb] = len(boxes)
    return dataclasses.replace(frame, object_ids=ids, boxes_polar=tuple(boxes))


@pytest.mark.parametrize("settings", [TYPICAL, {"max_range_m": 25.0, "gain": 4.5, "noise_level": 0.045}],
                         ids=["typical", "noisy, far: floor rising with range"])
def test_pure_speckle_stays_below_the_threshold(settings):
    """Looking away from the hull into open water: the fan is noise only (Rayleigh)."""
    cfg = MultibeamConfig(**{**TYPICAL, **settings})
    frame = SonarScene(BOX).render((20.0, 9.0, 4.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), cfg, np.random.default_rng(3))
    assert frame.boxes_polar == () and not frame.object_ids.any()
    _, boxes, echo = sonar_fan_boxes(_speckle_patches(frame), SIZE)
    echo = np.array(echo)
    assert len(echo) > 200
    assert echo.max() < SONAR_MIN_CONTRAST
    assert abs(echo.mean()) < 0.2  # speckle scores ~0.09 on average (its mean sits just above its median)


@pytest.fixture(scope="module")
def rendered():
    return list(SyntheticRenderer(SyntheticSpec("sonar", 20, seed=5)).samples())


def test_a_rendered_set_labels_exactly_the_echoes_that_stand_out(rendered):
    kept = faint = 0
    for sample in rendered:
        fan, boxes, echo = sonar_fan_boxes(sample.frame, SIZE)
        assert np.array_equal(fan.image, sample.image)  # measured on the very image that is saved
        candidates = {name: (c, box) for (name, cls, box), c in zip(boxes, echo)
                      if cls in CLASS_ID and label_line(CLASS_ID[cls], box, *SIZE) is not None}
        labelled = {name for _, _, name in sample.labels}
        too_faint = set(sample.record["unlabelled_too_faint"])
        assert labelled == {n for n, (c, _) in candidates.items() if c >= SONAR_MIN_CONTRAST}
        assert too_faint == {n for n, (c, _) in candidates.items() if c < SONAR_MIN_CONTRAST}
        for _, box, name in sample.labels:
            assert box == candidates[name][1]
        kept += len(labelled)
        faint += len(too_faint)
    assert kept > 0 and faint > 0


def test_a_label_boxes_the_pixels_that_show_the_echo_not_every_first_hit(rendered):
    """An object's first hits can reach far past what the fan shows of it (a bag's far end at
    grazing incidence, a blade edge-on): the label lies inside the box of the pixels whose
    echo clears the noise floor, which lies inside the box of all its first hits."""
    shrunk = 0
    for sample in rendered:
        fan, _, _ = sonar_fan_boxes(sample.frame, SIZE)
        pad = int(round(sample.frame.min_range_m / sample.frame.range_resolution_m))
        ids, _ = fan_object_ids(fan, sample.frame.object_ids, pad)
        names = [b[0] for b in sample.frame.boxes_polar]
        for _, box, name in sample.labels:
            k = names.index(name) + 1
            ys, xs = np.nonzero(ids == k)
            sx0, sy0, sx1, sy1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            assert sx0 <= box[0] and sy0 <= box[1] and box[2] <= sx1 and box[3] <= sy1
            hx0, hy0, hx1, hy1 = _fan_box(fan, sample.frame.boxes_polar[k - 1][2], pad)  # all first hits
            assert hx0 - 1 <= sx0 and hy0 - 1 <= sy0 and sx1 <= hx1 + 1 and sy1 <= hy1 + 1
            shrunk += (box[2] - box[0]) * (box[3] - box[1]) < 0.8 * (hx1 - hx0) * (hy1 - hy0)
    assert shrunk > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_tube_along_the_look_direction_is_labelled_by_the_end_that_stands_out(seed):
    """A torpedo lying on plating the fan grazes, along the sonar's line of sight, as a sweep
    passes it: its near end is a bright echo, its length as bright as the plating beside it.
    The label boxes the end (and the object counts as shown), where the mean over all its
    pixels would call it too faint and a box over its length would ask for plating."""
    from sim.sensor_streams import EMBEDDED_MULTIBEAM
    from vision.training.view_sampling import fan_along_surface

    tube = PlantedObject("tube", "torpedo", (13.5, 5.12, 4.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (1.6, 0.25, 0.25),
                         "hull", (0.3, 0.3, 0.3), 0.45)
    pos = np.array([10.0, 6.5, 4.0])  # 1.5 m off the port side, the fan laid along it looking 3 m ahead
    f, u = fan_along_surface(pos, np.array([13.0, 5.0, 4.0]), np.array([0.0, 1.0, 0.0]), np.random.default_rng(0),
                             roll_sigma_deg=0.0)
    cfg = dataclasses.replace(EMBEDDED_MULTIBEAM, max_range_m=6.0)
    frame = SonarScene(BOX, [tube]).render(tuple(pos), tuple(f), tuple(u), cfg, np.random.default_rng(seed))
    fan, boxes, echo = sonar_fan_boxes(frame, SIZE)
    pad = int(round(frame.min_range_m / frame.range_resolution_m))
    ids, bins = fan_object_ids(fan, frame.object_ids, pad)
    ys, xs = np.nonzero(ids == 1)
    whole = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert sonar_echo_contrast(fan.image, ids, bins, 1, whole) < SONAR_MIN_CONTRAST / 4  # its length: plating
    assert echo[0] >= SONAR_MIN_CONTRAST  # its end: shown
    x0, y0, x1, y1 = boxes[0][2]
    assert whole[0] <= x0 and whole[1] <= y0 and x1 <= whole[2] and y1 <= whole[3]
    assert (y1 - y0) < 0.25 * (whole[3] - whole[1])  # the end, not the length
    near_end = whole[3]  # the fan's apex is at the bottom, range grows upwards: the near end is the lowest row
    assert near_end - y1 <= 2
