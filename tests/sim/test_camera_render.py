"""The simulated camera: ground truth matches where objects really appear, same seed same
pixels, turbid water lowers contrast, hidden objects get no box."""
from __future__ import annotations

import numpy as np

from sim.camera_render import CameraConfig, CameraScene
from sim.object_meshes import object_mesh
from sim.scenario import PlantedObject
from tests.hull.shapes import box_mesh

BOX = box_mesh(40.0, 10.0, 8.0, n=8)
BAG = PlantedObject("bag", "duffel_bag", (20.0, 5.2, 4.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.8, 0.4, 0.4),
                    "hull", (0.2, 0.3, 0.8), 0.9)
CFG = CameraConfig(width=320, height=240, auto_exposure=False)  # image formation, ungained
POSE = ((20.3, 7.5, 4.2), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))


def _project(points_h, cfg, position, forward, up):
    f = np.asarray(forward, float) / np.linalg.norm(forward)
    u = np.asarray(up, float) - f * np.dot(up, f); u /= np.linalg.norm(u)
    r = np.cross(f, u)
    rel = np.asarray(points_h) - np.asarray(position)
    cam = np.stack([rel @ r, rel @ -u, rel @ f], axis=1)
    k = cfg.intrinsics()
    return (cam[:, :2] / cam[:, 2:3]) * [k[0, 0], k[1, 1]] + [k[0, 2], k[1, 2]]


def test_ground_truth_box_is_where_the_object_projects():
    frame = CameraScene(BOX, [BAG]).render(*POSE, CFG, np.random.default_rng(0))
    (name, cls, (x0, y0, x1, y1)), = frame.boxes
    assert (name, cls) == ("bag", "parasitic_container")
    corners = _project(object_mesh(BAG).vertices, CFG, *POSE)
    px0, py0 = corners.min(axis=0)
    px1, py1 = corners.max(axis=0)
    inter = max(0, min(x1, px1) - max(x0, px0)) * max(0, min(y1, py1) - max(y0, py0))
    union = (x1 - x0) * (y1 - y0) + (px1 - px0) * (py1 - py0) - inter
    assert inter / union > 0.8
    assert (frame.object_ids[y0:y1, x0:x1] == 1).mean() > 0.5


def test_same_seed_same_pixels():
    scene = CameraScene(BOX, [BAG])
    a = scene.render(*POSE, CFG, np.random.default_rng(9)).image
    b = scene.render(*POSE, CFG, np.random.default_rng(9)).image
    c = scene.render(*POSE, CFG, np.random.default_rng(10)).image
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_turbid_water_lowers_contrast():
    clear = CameraScene(BOX, [BAG], attenuation_per_m=0.1).render(*POSE, CFG, np.random.default_rng(0)).image
    turbid = CameraScene(BOX, [BAG], attenuation_per_m=0.9).render(*POSE, CFG, np.random.default_rng(0)).image
    assert clear.astype(float).std() > 1.3 * turbid.astype(float).std()


def test_an_object_round_the_hull_is_not_seen():
    hidden = PlantedObject("hidden", "magnetic_box", (20.0, -5.2, 4.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0),
                           (0.5, 0.3, 0.3), "hull", (0.5, 0.5, 0.5), 0.9)
    frame = CameraScene(BOX, [hidden]).render(*POSE, CFG, np.random.default_rng(0))
    assert frame.boxes == () and not frame.object_ids.any()


def test_auto_exposure_keeps_close_views_unclipped_and_lifts_far_ones():
    """Bright lamps at 0.6 m burn a fixed-exposure image white; the metered one keeps
    detail, and a far view under weak lamps is brought up to a usable level."""
    import dataclasses

    cam = CameraScene(BOX, [BAG], attenuation_per_m=0.35)
    near = ((20.3, 6.0, 4.2), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))
    far = ((20.3, 10.0, 4.2), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))
    metered = dataclasses.replace(CFG, auto_exposure=True)

    def render(pose, cfg, power):
        return cam.render(*pose, dataclasses.replace(cfg, light_power=power, daylight=0.0),
                          np.random.default_rng(1)).image

    assert (render(near, CFG, 200.0) >= 250).mean() > 0.2
    assert (render(near, metered, 200.0) >= 250).mean() < 0.05
    dim, lifted = render(far, CFG, 2.0), render(far, metered, 2.0)
    assert lifted.mean() > 2 * dim.mean()
    assert 30 < lifted.mean() < 140
