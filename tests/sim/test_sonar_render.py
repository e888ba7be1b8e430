"""The simulated multibeam sonar sees the hull at the right range, objects on it, and their
acoustic shadows; same seed, same image."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.scenario import PlantedObject
from sim.sonar_render import MultibeamConfig, SonarScene
from tests.hull.shapes import box_mesh

BOX = box_mesh(40.0, 10.0, 8.0, n=8)  # port side at y = +5
CFG = MultibeamConfig(beams=128, range_bins=256, max_range_m=10.0, rays_per_beam=8)


def _bag(y_surface=5.0, z=4.0, x=20.0, length=0.8):
    return PlantedObject("bag", "duffel_bag", (x, y_surface + 0.2, z), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0),
                         (length, 0.4, 0.4), "hull", (0.2, 0.2, 0.8), 0.9)


def _looking_at_port_side(scene, seed=0, distance=4.0):
    return scene.render((20.0, 5.0 + distance, 4.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0), CFG,
                        np.random.default_rng(seed))


def test_hull_echo_at_the_standoff_range():
    frame = _looking_at_port_side(SonarScene(BOX), distance=4.0)
    centre = frame.intensities[:, CFG.beams // 2].astype(float)
    peak_range = CFG.min_range_m + (np.argmax(centre) + 0.5) * CFG.range_resolution_m
    assert peak_range == pytest.approx(4.0, abs=0.2)
    assert frame.intensities.shape == (CFG.range_bins, CFG.beams)


def test_object_on_the_hull_has_a_box_and_is_nearer_than_the_hull():
    scene = SonarScene(BOX, [_bag()])
    frame = _looking_at_port_side(scene)
    assert [b[0] for b in frame.boxes_polar] == ["bag"]
    name, cls, (b0, r0, b1, r1) = frame.boxes_polar[0]
    assert cls == "parasitic_container"
    assert CFG.min_range_m + r0 * CFG.range_resolution_m == pytest.approx(4.0 - 0.4, abs=0.25)
    assert b0 < CFG.beams // 2 < b1  # straight ahead


def test_same_seed_same_pixels():
    scene = SonarScene(BOX, [_bag()])
    a = _looking_at_port_side(scene, seed=4).intensities
    b = _looking_at_port_side(scene, seed=4).intensities
    c = _looking_at_port_side(scene, seed=5).intensities
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_a_hidden_object_gets_no_box():
    """An object on the far (starboard) side is behind the hull: no echo, no box."""
    hidden = PlantedObject("hidden", "magnetic_box", (20.0, -5.2, 4.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0),
                           (0.5, 0.3, 0.3), "hull", (0.5, 0.5, 0.5), 0.9)
    frame = _looking_at_port_side(SonarScene(BOX, [hidden]))
    assert frame.boxes_polar == ()


def _wall_energy(tvg: bool, distance: float) -> float:
    """The hull echo integrated over range, over the centre beams (no noise floor)."""
    cfg = dataclasses.replace(CFG, tvg=tvg, noise_level=0.0)
    frame = SonarScene(BOX).render((20.0, 5.0 + distance, 4.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0), cfg,
                                   np.random.default_rng(1))
    near = np.abs(cfg.bin_ranges_m() - distance - 0.1) < 0.4
    return float(frame.intensities[near, cfg.beams // 2 - 10:cfg.beams // 2 + 10].astype(float).sum())


def test_tvg_makes_far_returns_comparable_to_near_ones():
    with_tvg = _wall_energy(True, 8.0) / _wall_energy(True, 2.0)
    without = _wall_energy(False, 8.0) / _wall_energy(False, 2.0)
    assert 0.6 < with_tvg < 1.6
    assert without < 0.15  # spreading and absorption: (2/8)^2 and 2.4 dB


def test_tvg_gain_follows_its_settings():
    cfg = MultibeamConfig(range_bins=100, min_range_m=0.5, max_range_m=40.0, absorption_db_per_m=0.2)
    gain_db = 10 * np.log10(cfg.tvg_gain())
    r = cfg.bin_ranges_m()
    assert gain_db == pytest.approx(np.minimum(20 * np.log10(r) + 0.4 * r, cfg.tvg_max_db))
    assert (dataclasses.replace(cfg, tvg=False).tvg_gain() == 1.0).all()
    with pytest.raises(ValueError, match="min_range_m"):
        MultibeamConfig(min_range_m=5.0, max_range_m=2.0)


def _along_port_side(scene, cfg, height=1.0, grazing_deg=10.0, seed=0):
    """A fan laid along the port side (its up axis the side's normal), 'height' m off it,
    its axis meeting the side at 'grazing_deg'."""
    g = np.radians(grazing_deg)
    return scene.render((14.0, 5.0 + height, 4.0), (np.cos(g), -np.sin(g), 0.0), (np.sin(g), np.cos(g), 0.0),
                        cfg, np.random.default_rng(seed))


def test_a_grazed_surface_returns_over_its_whole_band_of_ranges():
    """A fan along the side sees it from 1 m / sin(20 deg) = 2.9 m outwards (the lower edge
    of its 20 deg aperture) to the end of the range: every range bin in that band must echo,
    not only the few bins each ray's centre lands in (8 rays per beam, 160 bins)."""
    cfg = dataclasses.replace(CFG, noise_level=0.0, receiver_noise=0.0, display_range_db=120.0)
    frame = _along_port_side(SonarScene(BOX), cfg)
    r = cfg.bin_ranges_m()
    band = (r > 3.2) & (r < 9.5)
    centre = frame.intensities[:, cfg.beams // 2 - 2:cfg.beams // 2 + 3]
    assert (centre[band] > 0).mean() > 0.95
    assert (centre[r < 2.6] == 0).all()  # water between the sonar and the side


def test_the_log_display_shows_the_grazing_hull_and_the_bag_on_it():
    """On a linear scale the grazing side, ~45 dB under a unit echo, is black; on the log
    display (50 dB, gain 10) it is grey over a dark water column, and a bag standing on it
    is far brighter."""
    scene = SonarScene(BOX, [_bag(x=19.0)])
    quiet = dict(noise_level=3e-4, receiver_noise=3e-7, gain=10.0)
    linear = _along_port_side(scene, dataclasses.replace(CFG, **quiet), seed=2)
    log = _along_port_side(scene, dataclasses.replace(CFG, **quiet, display_range_db=50.0), seed=2)
    r = CFG.bin_ranges_m()
    band = (r > 3.2) & (r < 9.5)
    ahead = slice(CFG.beams // 2 - 20, CFG.beams // 2 + 20)
    side = log.intensities[band, ahead][log.object_ids[band, ahead] == 0]
    water = np.median(log.intensities[r < 2.5])  # the water column between
    assert np.median(linear.intensities[band, ahead]) < 8
    assert np.median(side) > 20 and np.median(side) > 4 * water
    assert [b[0] for b in log.boxes_polar] == ["bag"]
    bag = log.intensities[log.object_ids == 1].astype(float)
    assert bag.size >= 8 and bag.mean() > np.percentile(side, 75) + 100


def test_the_end_of_the_range_scale_does_not_brighten_the_ranges_before_it():
    """A grazing ray's footprint may run past the scale's last range: the part past it is not
    shown, and its echo must not pile up in the last bins (a bright rim at the fan's edge)."""
    scene = SonarScene(BOX)
    ahead = slice(CFG.beams // 2 - 20, CFG.beams // 2 + 20)
    levels = []
    for max_range in (6.0, 10.0):
        cfg = dataclasses.replace(CFG, noise_level=0.0, receiver_noise=0.0, max_range_m=max_range,
                                  range_bins=int(round(max_range / 10.0 * 256)), display_range_db=50.0, gain=10.0)
        frame = _along_port_side(scene, cfg)
        r = cfg.bin_ranges_m()
        levels.append(frame.intensities[(r > 5.5) & (r < 6.0), ahead].astype(float).mean())
    assert abs(levels[0] - levels[1]) < 3.0, levels
