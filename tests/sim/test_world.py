"""The embedded world on a real parametric ship: recessed sea chests with gratings that a
camera cannot see past at a grazing angle but a sonar can, labelled landmarks, the quay
wall at its range, sensor poses from the vehicle's NED pose."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from hull.model import HullModel
from hull.parametric import HullDimensions
from hull.placement import Placement
from sim.camera_render import CameraConfig
from sim.object_meshes import object_mesh
from sim.scenario import PlantedObject, generate_scenario
from sim.sonar_render import MultibeamConfig
from sim.world import World
from sim.world_geometry import GRATING_BAR_DEPTH_M, recess_depth_m
from tests.sim.test_camera_render import _project

CAM = CameraConfig(width=320, height=240, auto_exposure=False)  # image formation, ungained
SONAR = MultibeamConfig(beams=256, range_bins=400, max_range_m=8.0, rays_per_beam=24)


@dataclasses.dataclass(frozen=True)
class Truth:  # the fields of SimTruth the world reads
    position_ned_m: np.ndarray
    attitude_rpy_rad: tuple[float, float, float]
    cam_tilt: float = 0.5


@pytest.fixture(scope="module")
def ship():
    model = HullModel.parametric_hull(HullDimensions(length_m=120.0, beam_m=20.0, draft_m=7.0, depth_m=11.0,
                                                     block_coefficient=0.72))
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0.0, draft_m=7.0,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
    chest = next(n for n in model.niche_areas if n.name == "sea chest P1")
    return model, placement, chest


def _package(chest, lateral_m=-0.55, height_m=0.25):
    """A package on the recess floor, off to one side (along the grating's width)."""
    u, v, n = chest.axes()
    centre = np.asarray(chest.center_h) - n * (recess_depth_m(chest) - height_m / 2) + u * lateral_m
    return PlantedObject("package", "sea_chest_package", tuple(centre), tuple(n), tuple(v), (0.5, 0.3, height_m),
                         chest.name, (0.8, 0.7, 0.2), 0.8)


def _missing_grating(chest):
    return PlantedObject("no grating", "grating_missing", tuple(chest.center_h), tuple(chest.normal_h),
                         (1.0, 0.0, 0.0), (1.0, 0.8, 0.01), chest.name, (0.5, 0.5, 0.5), 0.5)


def _look(world, position, target, up=(0.0, 0.0, 1.0)):
    fwd = np.asarray(target, float) - np.asarray(position, float)
    return position, fwd / np.linalg.norm(fwd), up


def _grazing_pose(chest, package, off_normal_deg, distance_m=2.5):
    u, _, n = chest.axes()
    a = math.radians(off_normal_deg)
    pos = np.asarray(chest.center_h) + (n * math.cos(a) + u * math.sin(a)) * distance_m
    return pos, np.asarray(package.center_h)


def test_scenario_puts_sea_chest_packages_behind_the_grating(ship):
    model, placement, _ = ship
    for seed in range(200):
        s = generate_scenario(model, placement, seed=seed, containers=3, anomalies=0, distractors=0)
        found = [o for o in s.objects if o.kind == "sea_chest_package"]
        if found:
            break
    assert found, "no seed in 0..199 planted a sea-chest package"
    for obj in found:
        niche = next(n for n in model.niche_areas if n.name == obj.attached_to)
        u, v, n = niche.axes()
        rel = object_mesh(obj).vertices - niche.center_h
        assert (rel @ n < -GRATING_BAR_DEPTH_M).all()  # wholly behind the bars
        assert (rel @ n > -recess_depth_m(niche) - 1e-6).all()  # and not in the solid hull


@pytest.mark.parametrize("off_normal_deg", [62.0, 70.0])
def test_grating_hides_the_package_from_the_camera_but_not_from_the_sonar(ship, off_normal_deg):
    model, placement, chest = ship
    package = _package(chest)
    pos, target = _grazing_pose(chest, package, off_normal_deg)
    pose = _look(None, pos, target)
    world = World(model, placement, [package])
    frame = world.camera_scene.render(*pose, CAM, np.random.default_rng(0))
    assert not (frame.object_ids == 1).any()
    assert "package" not in [b[0] for b in frame.boxes]
    assert ("sea chest P1", "sea_chest_grating") in [b[:2] for b in frame.boxes]
    sonar = world.sonar_scene.render(*pose, SONAR, np.random.default_rng(0))
    boxes = {b[0]: b for b in sonar.boxes_polar}
    assert "package" in boxes and boxes["package"][1] == "parasitic_container"
    b0, r0, b1, r1 = boxes["package"][2]
    assert b0 <= SONAR.beams // 2 + 2 and b1 >= SONAR.beams // 2 - 2  # ahead, where the sonar points
    # without the grating, the same camera sees the package: the bars were what hid it
    open_world = World(model, placement, [package, _missing_grating(chest)])
    seen = open_world.camera_scene.render(*pose, CAM, np.random.default_rng(0))
    assert (seen.object_ids == 1).sum() > 20 and "package" in [b[0] for b in seen.boxes]
    assert ("no grating", "niche_anomaly") in [b[:2] for b in seen.boxes]
    assert "sea chest P1" not in [b[0] for b in seen.boxes]


def test_grating_and_landmarks_carry_their_class(ship):
    model, placement, chest = ship
    world = World(model, placement)
    n = np.asarray(chest.normal_h)
    pose = _look(world, np.asarray(chest.center_h) + n * 2.0, chest.center_h)
    frame = world.camera_scene.render(*pose, CAM, np.random.default_rng(0), class_of=lambda c: 2 if c == "sea_chest_grating" else 9)
    box = {b[0]: b for b in frame.boxes}["sea chest P1"]
    assert box[1] == "sea_chest_grating"
    x0, y0, x1, y1 = box[2]
    assert (frame.class_ids[y0:y1, x0:x1] == 2).mean() > 0.5
    # the opening (2 m x 1.05 m at 2 m) fills the box that the projection of its corners gives
    corners = _project(chest.corners_h()[:4], CAM, *pose)
    assert abs((x1 - x0) - np.ptp(corners[:, 0])) < 0.1 * np.ptp(corners[:, 0])
    sonar = world.sonar_scene.render(*pose, SONAR, np.random.default_rng(0))
    assert ("sea chest P1", "sea_chest_grating") in [b[:2] for b in sonar.boxes_polar]
    stern = next(nc for nc in model.niche_areas if nc.name == "propeller")
    pose = _look(world, np.asarray(stern.center_h) + [-7.0, 5.0, 0.0], stern.center_h)
    classes = {b[1] for b in world.camera_scene.render(*pose, CAM, np.random.default_rng(0)).boxes}
    assert {"propeller", "rudder"} <= classes


def test_box_matches_the_projection_of_an_unoccluded_object(ship):
    model, placement, _ = ship
    bag = PlantedObject("bag", "duffel_bag", (60.0, 10.2, 4.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.8, 0.4, 0.4),
                        "hull", (0.2, 0.3, 0.8), 0.9)
    world = World(model, placement, [bag])
    pose = ((60.3, 12.4, 4.2), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))
    frame = world.camera_scene.render(*pose, CAM, np.random.default_rng(0))
    (x0, y0, x1, y1), = [b[2] for b in frame.boxes if b[0] == "bag"]
    p = _project(object_mesh(bag).vertices, CAM, *pose)
    (px0, py0), (px1, py1) = p.min(axis=0), p.max(axis=0)
    inter = max(0, min(x1, px1) - max(x0, px0)) * max(0, min(y1, py1) - max(y0, py0))
    union = (x1 - x0) * (y1 - y0) + (px1 - px0) * (py1 - py0) - inter
    assert inter / union > 0.8


def test_quay_wall_at_its_range_in_the_sonar(ship):
    model, placement, _ = ship
    world = World(model, placement)
    half_beam = float(np.abs(model.mesh.vertices[:, 1]).max())
    quay_y = half_beam + placement.quay_gap_m
    frame = world.sonar_scene.render((60.0, quay_y - 2.0, 4.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), SONAR,
                                     np.random.default_rng(0))
    centre = frame.intensities[:, SONAR.beams // 2 - 5:SONAR.beams // 2 + 5].astype(float).mean(axis=1)
    assert SONAR.bin_ranges_m()[int(np.argmax(centre))] == pytest.approx(2.0, abs=0.15)


def test_camera_sees_the_bright_surface_above_and_the_dim_seabed_below(ship):
    model, placement, _ = ship
    world = World(model, placement)
    at = (60.0, 11.5, 5.0)  # between hull and quay, 2 m deep, 10 m above the seabed
    up = world.camera_scene.render(at, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0), CAM, np.random.default_rng(0))
    down = world.camera_scene.render(at, (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), CAM, np.random.default_rng(0))
    centre = np.s_[80:160, 120:200]
    assert up.image[centre].mean() > 2.0 * down.image[centre].mean()
    night = World(model, placement).camera_scene.render(at, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0),
                                                       dataclasses.replace(CAM, daylight=0.0), np.random.default_rng(0))
    assert night.image[centre].mean() < 0.5 * up.image[centre].mean()  # the brightness is daylight


@pytest.mark.parametrize("heading_deg, yaw_deg, expect_fwd", [
    (0.0, 0.0, (1.0, 0.0, 0.0)),  # bow north, vehicle north: along the bow
    (0.0, 90.0, (0.0, -1.0, 0.0)),  # vehicle east = starboard when the bow is north
    (90.0, 0.0, (0.0, 1.0, 0.0)),  # bow east: north is to port
    (90.0, 90.0, (1.0, 0.0, 0.0)),
])
def test_camera_pose_from_the_vehicle_pose(ship, heading_deg, yaw_deg, expect_fwd):
    model, _, _ = ship
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=heading_deg, draft_m=7.0,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
    world = World(model, placement)
    ned = np.array([3.0, -2.0, 4.0])
    pose = world.camera_pose(Truth(ned, (0.0, 0.0, math.radians(yaw_deg))))
    assert np.allclose(pose.forward_h, expect_fwd, atol=1e-9)
    assert np.allclose(pose.up_h, (0.0, 0.0, 1.0), atol=1e-9)
    assert np.allclose(pose.position_h, placement.ned_to_h(ned))
    assert pose.position_h[2] == pytest.approx(7.0 - 4.0)
    tilted = world.camera_pose(Truth(ned, (0.0, 0.0, math.radians(yaw_deg)), cam_tilt=1.0))  # 45 deg up
    assert np.allclose(tilted.forward_h, np.array(expect_fwd) * math.sqrt(0.5) + [0, 0, math.sqrt(0.5)])


def test_same_seed_same_pixels_in_the_world(ship):
    model, placement, chest = ship
    world = World(model, placement, [_package(chest)])
    pose = _look(world, np.asarray(chest.center_h) + np.asarray(chest.normal_h) * 2.0, chest.center_h)
    a, b, c = (world.camera_scene.render(*pose, CAM, np.random.default_rng(s)).image for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    s1, s2 = (world.sonar_scene.render(*pose, SONAR, np.random.default_rng(3)).intensities for _ in range(2))
    assert np.array_equal(s1, s2)


DTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"


@pytest.mark.skipif(not DTC.is_file(), reason="needs ../shared/data/hulls/DTC-scaled.stl.gz")
def test_the_embedded_world_builds_on_a_model_scale_mesh_at_full_scale():
    """Benches build worlds on a hull no training set renders: the 1:59.407 DTC model."""
    from sim.embedded_world import WorldSetupError, build_world

    ew = build_world(hull_path=DTC, hull_scale=59.407, draft_m=12.0, seed=3)
    assert 360 < ew.model.length_m < 380  # 6.3 m model: 372.8 m overall, 355 m between perpendiculars
    assert ew.scenario.placement.draft_m == 12.0 and ew.scenario.hull["scale"] == 59.407
    assert any(o.class_name == "parasitic_container" for o in ew.scenario.objects)
    with pytest.raises(WorldSetupError, match="draft 12 m"):
        build_world(hull_path=DTC, draft_m=12.0, seed=3)  # unscaled, the model is 0.8 m deep
