"""A sonar view laid along the surface it grazes sees that surface over a band of ranges;
held level against a vertical side it sees it as one thin arc."""
from __future__ import annotations

import numpy as np

from sim.sonar_render import MultibeamConfig, SonarScene
from tests.hull.shapes import box_mesh
from vision.training.view_sampling import fan_along_surface

BOX = box_mesh(40.0, 10.0, 8.0, n=8)  # port side at y = +5, normal +y
CFG = MultibeamConfig(beams=64, range_bins=256, max_range_m=12.0, rays_per_beam=12, noise_level=0.0,
                      receiver_noise=0.0, display_range_db=90.0)
TARGET = np.array([24.0, 5.0, 4.0])
NORMAL = np.array([0.0, 1.0, 0.0])
POS = np.array([16.0, 6.2, 4.0])  # 1.2 m off the side, 8 m short of the target: ~8.5 deg grazing


def test_the_fan_s_up_axis_is_the_surface_normal_across_the_line_of_sight():
    rng = np.random.default_rng(3)
    for _ in range(50):
        pos = TARGET + rng.uniform(0.5, 8.0) * np.array([-rng.uniform(0.3, 1.0), rng.uniform(0.1, 0.5),
                                                          rng.uniform(-0.3, 0.3)])
        fwd, up = fan_along_surface(pos, TARGET, NORMAL, rng, roll_sigma_deg=0.0)
        assert np.allclose(fwd, (TARGET - pos) / np.linalg.norm(TARGET - pos))
        assert abs(fwd @ up) < 1e-9 and abs(np.linalg.norm(up) - 1) < 1e-9
        across = NORMAL - fwd * (NORMAL @ fwd)
        assert up @ across / np.linalg.norm(across) > 1 - 1e-9
        _, tilted = fan_along_surface(pos, TARGET, NORMAL, rng, roll_sigma_deg=5.0)
        assert np.degrees(np.arccos(np.clip(tilted @ up, -1, 1))) <= 15.0 + 1e-6  # 3 sigma at most


def _ranges_lit(up) -> int:
    fwd = (TARGET - POS) / np.linalg.norm(TARGET - POS)
    frame = SonarScene(BOX).render(POS, fwd, up, CFG, np.random.default_rng(0))
    return int((frame.intensities[:, CFG.beams // 2] > 0).sum())


def test_a_fan_laid_along_the_side_sees_it_over_a_band_a_level_fan_in_an_arc():
    along = _ranges_lit(fan_along_surface(POS, TARGET, NORMAL, np.random.default_rng(0), roll_sigma_deg=0.0)[1])
    level = _ranges_lit(np.array([0.0, 0.0, 1.0]))
    assert along > 0.5 * CFG.range_bins  # from ~3.5 m to the end of the 12 m scale
    assert level < 0.1 * CFG.range_bins
