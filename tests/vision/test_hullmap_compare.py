"""Two inspections of the same vessel, rendered by the embedded world's multibeam: the
earlier map displaced as another draft and berth would leave it, registered back, and
compared. Figures are printed (pytest -s)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.vision.test_hullmap_anomalies import DRAFT_M, ship, sonar_pass, starboard_box, turbid_scenario
from vision.hullmap.compare import RegistrationError, compare_maps, register_maps

PASS_X_M = tuple(np.arange(38.0, 62.01, 1.0))  # into the taper forward of x 50: it fixes the slide along x
PASS_DEPTHS_M = (1.75, 2.5, 3.25, 4.0, 4.75, 5.25)  # down to the bilge turn: it fixes z
SHIFT_M = np.array([0.0, 0.3, 0.5])  # another berth (0.3 m across), another draft (0.5 m)
YAW_DEG = 1.0
MAX_ERROR_M = 0.05
MAX_ERROR_DEG = 0.3
COMMON = (("box 0.4 m", 42.0, 2.5, (0.4, 0.3, 0.3)), ("case 0.6 m", 56.0, 3.5, (0.6, 0.35, 0.25)))
ADDED = ("bag 0.5 m", 48.0, 3.0, (0.5, 0.4, 0.3))


def _displacement() -> np.ndarray:
    """(4, 4) the error another mooring leaves in the earlier map: 1 deg of yaw about the
    map's middle, then SHIFT_M."""
    c, s = math.cos(math.radians(YAW_DEG)), math.sin(math.radians(YAW_DEG))
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    mid = np.array([50.0, -8.0, 3.0])
    t = np.eye(4)
    t[:3, :3] = rot
    t[:3, 3] = mid - rot @ mid + SHIFT_M
    return t


def _apply(t, p):
    return p @ t[:3, :3].T + t[:3, 3]


@pytest.fixture(scope="module")
def inspections():
    common = [starboard_box(*spec) for spec in COMMON]
    earlier = sonar_pass(turbid_scenario(common), seed=11, xs=PASS_X_M, depths=PASS_DEPTHS_M).points()
    current = sonar_pass(turbid_scenario(common + [starboard_box(*ADDED)]), seed=12, xs=PASS_X_M,
                         depths=PASS_DEPTHS_M).points()
    return _apply(_displacement(), earlier), current


def _errors(transform):
    """(translation error m, rotation error deg) of transform as the inverse displacement."""
    residual = transform @ _displacement()
    angle = math.degrees(math.acos(np.clip((np.trace(residual[:3, :3]) - 1) / 2, -1, 1)))
    probe = np.array([[40.0, -8.0, 1.0], [60.0, -8.0, 5.0], [50.0, -8.0, 3.0]])
    return float(np.abs(_apply(residual, probe) - probe).max()), angle


def test_registration_recovers_another_draft_and_berth(inspections):
    earlier, current = inspections
    reg = register_maps(earlier, current)
    err_m, err_deg = _errors(reg.transform)
    print(f"\n{len(earlier)} / {len(current)} points; displaced {SHIFT_M} m, {YAW_DEG} deg yaw; registered: "
          f"fitness {reg.fitness:.2f}, RMSE {reg.rmse_m * 1000:.1f} mm, error {err_m * 100:.1f} cm, {err_deg:.3f} deg")
    assert err_m <= MAX_ERROR_M and err_deg <= MAX_ERROR_DEG


def test_registration_refuses_unrelated_clouds(inspections):
    _, current = inspections
    rng = np.random.default_rng(2)
    elsewhere = current.copy()
    elsewhere[:, 1] *= -1.0  # the port side: the same vessel, no overlap
    elsewhere[:, 0] -= 25.0
    scattered = rng.uniform([30, -12, 0], [60, -4, 8], (5000, 3))
    for cloud in (elsewhere, scattered):
        with pytest.raises(RegistrationError, match="overlap too little"):
            register_maps(cloud, current)


def test_second_inspection_reports_exactly_the_added_object(inspections):
    earlier, current = inspections
    model, _ = ship()
    added = starboard_box(*ADDED)
    result = compare_maps(earlier, current, model.queries, DRAFT_M, model.niche_areas)
    new_d = [float(np.linalg.norm(c.position_h - np.asarray(added.center_h))) for c in result.new]
    change_d = [float(np.linalg.norm(c - np.asarray(added.center_h))) for c in result.change_clusters_h]
    print(f"\nnew {len(result.new)} (distance to the added object {', '.join(f'{d:.2f}' for d in new_d)} m), gone "
          f"{len(result.gone)}, unchanged {len(result.unchanged)}; point changes: {len(result.changed_points_h)} "
          f"points, clusters at {', '.join(f'{d:.2f}' for d in change_d)} m from it")
    assert len(result.new) == 1 and new_d[0] <= 0.5
    assert result.gone == []
    assert len(result.change_clusters_h) >= 1 and max(change_d) <= 0.6


def test_what_the_earlier_map_did_not_cover_is_not_new(inspections):
    """The earlier inspection stopped short of x 52 m (H): the case at 56 m is seen now
    but was never looked at, so it is not new; the added bag still is."""
    earlier, current = inspections
    model, _ = ship()
    added = starboard_box(*ADDED)
    short = earlier[_apply(np.linalg.inv(_displacement()), earlier)[:, 0] < 52.0]
    result = compare_maps(short, current, model.queries, DRAFT_M)
    print(f"\nearlier map cut at x 52 m: new {len(result.new)}, uncovered before {len(result.uncovered_before)} "
          f"(at x {', '.join(f'{c.position_h[0]:.1f}' for c in result.uncovered_before)} m), gone {len(result.gone)}; "
          f"changed points beyond x 52.5 m: {int((result.changed_points_h[:, 0] > 52.5).sum())}")
    assert len(result.new) == 1 and np.linalg.norm(result.new[0].position_h - np.asarray(added.center_h)) <= 0.5
    assert [round(c.position_h[0]) for c in result.uncovered_before] == [56]
    assert result.gone == []
    assert not (result.changed_points_h[:, 0] > 52.5).any()
