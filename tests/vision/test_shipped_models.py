"""The models shipped in resources/models, on frames rendered fresh by the embedded world:
they find planted containers (a seed chosen at random per run, printed on failure), raise
no alarm on object-free views, and the tracker keeps one id for a container seen along a
pass down the hull."""
from __future__ import annotations

import math

import numpy as np
import pytest

from resources import resource_path
from tests.vision.random_seed import random_test_seed
from vision.classes import CLASS_ID, CLASSES

CAMERA_MODEL = resource_path("models", "camera.onnx")
pytestmark = pytest.mark.skipif(not CAMERA_MODEL.exists(), reason="no camera model shipped in resources/models yet")

RECALL_FLOOR = 0.4  # single frames, ~10 close clear-water views; the shipped thresholds were set for
# track-confirmed alarms (weak boxes continue a track), so one frame finds less than the alarms do
CONTAINER = CLASS_ID["parasitic_container"]
VERIFIER_PASS_FLOOR, VERIFIER_DOUBT_FLOOR = 0.5, 0.5  # single views; an alarm gets a look every 0.3 s


@pytest.fixture(scope="module")
def world():
    return _world(random_test_seed())


def _world(seed: int):
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from hull.placement import Placement
    from sim.scenario import generate_scenario
    from sim.world import World

    model = HullModel.parametric_hull(HullDimensions(length_m=90.0, beam_m=16.0, draft_m=6.0, depth_m=9.0,
                                                     block_coefficient=0.7))
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0.0, draft_m=6.0,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
    while True:  # a draw can put most containers in sea chests (the sonar's job): enough on the hull to judge
        scenario = generate_scenario(model, placement, seed=seed, water="clear", containers=8, anomalies=0,
                                     distractors=0)
        if sum(o.class_name == "parasitic_container" and o.kind != "sea_chest_package" for o in scenario.objects) >= 5:
            break
        seed += 1
    return seed, model, placement, scenario, World.from_scenario(scenario, model)


@pytest.fixture(scope="module")
def detector():
    from vision.detect import OnnxDetector

    return OnnxDetector(CAMERA_MODEL, expected_classes=CLASSES)


def _look_at(world_, target, normal, standoff_m):
    from sim.world import SensorPose

    up = np.array([0.0, 0.0, 1.0])
    pos = np.asarray(target) + np.asarray(normal) * standoff_m
    f = np.asarray(target) - pos
    f /= np.linalg.norm(f)
    if abs(f @ up) > 0.95:
        up = np.array([1.0, 0.0, 0.0])
    return SensorPose(pos, f, up)


def _visible_containers(frame):
    return [b for _, c, b in frame.boxes if c == "parasitic_container" and (b[2] - b[0]) * (b[3] - b[1]) > 400]


def _single_frame_recall(world_, detector) -> tuple[int, int]:
    from sim.camera_render import CameraConfig
    from vision.detections import box_iou

    seed, model, placement, scenario, w = world_
    rng = np.random.default_rng(seed)
    found = total = 0
    for obj in scenario.objects:
        if obj.class_name != "parasitic_container" or obj.kind == "sea_chest_package":
            continue  # behind a grating: the sonar's job
        for _ in range(3):  # a look can miss (the object is thin edge-on, or a niche shades it): look again
            frame = w.render_camera(_look_at(w, obj.center_h, obj.normal_h, rng.uniform(1.2, 2.2)),
                                    CameraConfig(light_power=15.0), rng)
            truth = _visible_containers(frame)
            if truth:
                break
        if not truth:
            continue
        det = detector(frame.image)
        boxes = det.xyxy[det.class_id == CONTAINER]
        for t in truth:
            total += 1
            found += bool(len(boxes)) and box_iou(np.array([t], float), boxes).max() >= 0.3
    return found, total


def test_shipped_camera_model_finds_planted_containers(world, detector):
    """Two worlds pooled: one world's recall swings from 0.36 to 1.0 with its draw (36 seeds
    measured; mean 0.74), two together stay well above the floor."""
    worlds = (world, _world(world[0] + 5000))
    counts = [_single_frame_recall(w, detector) for w in worlds]
    found, total = sum(c[0] for c in counts), sum(c[1] for c in counts)
    seeds = [w[0] for w in worlds]
    assert total >= 6, f"seeds {seeds}: too few containers in view to judge"
    assert found / total >= RECALL_FLOOR, f"seeds {seeds}: recall {counts}"


def test_object_free_views_raise_no_alarm(world, detector):
    from sim.camera_render import CameraConfig
    from vision.alarms import AlarmBook
    from vision.tracking import ByteTracker

    seed, model, placement, scenario, w = world
    rng = np.random.default_rng(seed + 1)
    wet_mid = np.array([model.length_m * 0.5, -model.beam_m / 2, placement.draft_m * 0.5])
    tracker, book = ByteTracker(), AlarmBook(CLASSES, "camera")
    alarms = []
    centres = np.array([o.center_h for o in scenario.objects])
    for k in range(20):  # a slow pass along bare starboard plating, 0.2 m a frame
        target = wet_mid + np.array([-2.0 + 0.2 * k, 0.0, 0.0])
        if np.min(np.linalg.norm(centres - target, axis=1)) < 4.0:
            continue
        hit = model.queries.closest_points(target[None, :])
        frame = w.render_camera(_look_at(w, hit.points_h[0], hit.normals_h[0], 1.8), CameraConfig(light_power=15.0),
                                rng)
        if any(c in ("parasitic_container", "niche_anomaly") for _, c, _ in frame.boxes):
            continue
        alarms += book.update(tracker.update(detector(frame.image)), float(k), frame.image)
    assert alarms == [], f"seed {seed}: alarms on bare hull: {[(a.class_name, a.confidence) for a in alarms]}"


def _glide_ids(w, obj, standoff_m, rng, detector) -> list[int]:
    """Container track ids, frame by frame, as the vehicle glides past ``obj`` at 0.1 m per
    frame (1 m/s at 10 fps) with the camera kept on it."""
    from sim.camera_render import CameraConfig
    from vision.detections import box_iou
    from vision.tracking import ByteTracker

    n = np.asarray(obj.normal_h)
    along = np.cross(n, [0.0, 0.0, 1.0])
    if np.linalg.norm(along) < 0.3:  # on the bottom: glide fore and aft
        along = np.cross(n, [0.0, 1.0, 0.0])
    along /= np.linalg.norm(along)
    centre = np.asarray(obj.center_h)
    tracker = ByteTracker()
    ids = []
    for k in range(25):
        pose = _look_at(w, centre + along * (-1.2 + 0.1 * k), n, standoff_m)
        aim = (centre - pose.position_h) / np.linalg.norm(centre - pose.position_h)
        frame = w.render_camera(type(pose)(pose.position_h, aim, pose.up_h), CameraConfig(light_power=15.0), rng)
        det = tracker.update(detector(frame.image))
        truth = [b for name, _, b in frame.boxes if name == obj.name]
        keep = (det.class_id == CONTAINER) & (det.tracker_id > 0)
        if truth and keep.any():  # this container's track, not a neighbour's in the same view
            keep &= box_iou(det.xyxy, np.array(truth[:1], float))[:, 0] >= 0.3
            ids += [int(t) for t in det.tracker_id[keep]]
    return ids


def test_tracker_keeps_one_id_along_a_pass(world, detector):
    """The pass is the first one the model confirms in at least 10 of its 25 frames: bags
    and boxes first, then the other containers on the plating, each at 1.2 m and then 1.6 m.
    A small dark container glided past at 1.8 m is often never confirmed at all, and the
    test is about the ids of a track, not about recall (the test above judges that). Seed 5020
    found none in generator-9 worlds: its bags and boxes shared niche centres with each other
    or a torpedo; objects now lie side by side (sim.scenario CLEARANCE_M)."""
    seed, model, placement, scenario, w = world
    rng = np.random.default_rng(seed + 2)
    on_plating = [o for o in scenario.objects
                  if o.class_name == "parasitic_container" and o.kind != "sea_chest_package"]
    on_plating.sort(key=lambda o: o.kind not in ("duffel_bag", "magnetic_box"))
    tried = []
    for obj in on_plating[:4]:
        for standoff_m in (1.2, 1.6):
            ids = _glide_ids(w, obj, standoff_m, rng, detector)
            tried.append((obj.kind, standoff_m, len(ids)))
            if len(ids) >= 10:
                values, counts = np.unique(ids, return_counts=True)
                assert counts.max() / len(ids) >= 0.8, \
                    f"seed {seed}: {obj.kind} at {standoff_m} m, ids {dict(zip(values.tolist(), counts.tolist()))}"
                return
    pytest.fail(f"seed {seed}: no container on the plating was confirmed in 10 frames of a pass: {tried}")


def test_openvino_bf16_keeps_the_shipped_models_boxes_and_serves_two_threads(world, detector):
    """Re-analysis runs OpenVINO in bf16 where the CPU allows (about twice ONNX Runtime's
    speed): the confident boxes stay within a few pixels of the live runtime's, and two
    threads sharing one detector (analysis's pool) get what one thread gets."""
    import concurrent.futures

    from sim.camera_render import CameraConfig
    from vision.detect import OnnxDetector
    from vision.detect.backends import bf16_supported
    from vision.detections import box_iou

    if not bf16_supported():
        pytest.skip("this CPU has no bf16 units (or OpenVINO is not installed)")
    seed, model, placement, scenario, w = world
    rng = np.random.default_rng(seed + 3)
    bf16 = OnnxDetector(CAMERA_MODEL, expected_classes=CLASSES, backend="openvino-bf16", parallel=2)
    assert bf16.backend.name == "openvino-bf16"
    objs = [o for o in scenario.objects if o.class_name == "parasitic_container" and o.kind != "sea_chest_package"]
    images = [w.render_camera(_look_at(w, o.center_h, o.normal_h, standoff_m), CameraConfig(light_power=15.0),
                              rng).image for o in objs for standoff_m in (1.2, 1.6)]
    compared = 0
    alarm_classes = [CLASS_ID["parasitic_container"], CLASS_ID["niche_anomaly"]]
    for img in images:
        # what the network computes, anchor by anchor: every class score within bf16's rounding,
        # and every box that scores at all within a few input pixels (the 2026-11-30 model, 30 seeds
        # of 4 views: at most 0.041 and 3.3 px; the one before: 0.02 and 1.3 px)
        x, _ = detector.preprocess([img])
        raw_a, raw_b = detector.backend.run(x)[0], bf16.backend.run(x)[0]
        scored = raw_a[4:].max(axis=0) >= 0.2
        assert np.abs(raw_a[4:] - raw_b[4:]).max() <= 0.06, \
            f"seed {seed}: bf16 moved a class score by {np.abs(raw_a[4:] - raw_b[4:]).max():.3f}"
        assert np.abs(raw_a[:4, scored] - raw_b[:4, scored]).max(initial=0) <= 5.0, \
            f"seed {seed}: bf16 moved a box by {np.abs(raw_a[:4, scored] - raw_b[:4, scored]).max():.1f} px"
        # what analysis is for, the alarms: NMS picks one of near-tied twins (two anchors on one
        # long torpedo, seed 5) and argmax one of near-tied classes (container 0.360 vs anomaly
        # 0.356, seed 9609), so the box may be the twin's or of the other alarm class; every
        # live alarm box still has a bf16 alarm box on the same object, as strong, or a stronger one
        # that NMS judged its twin
        a, b = detector(img, conf=0.3), bf16(img, conf=0.2)
        alarm = np.flatnonzero(np.isin(b.class_id, alarm_classes))
        for i in np.flatnonzero(np.isin(a.class_id, alarm_classes)):
            iou = box_iou(a.xyxy[i:i + 1].astype(float), b.xyxy[alarm].astype(float))[0]
            over = alarm[iou >= 0.7]
            if len(over) and b.confidence[over].max() >= a.confidence[i] - 0.06:
                compared += 1
                continue
            # or NMS took it for a stronger neighbour's twin: their overlap sits on NMS's edge
            # (seed 5296: a loose 0.375 box at IoU 0.507 to a 0.414 one, threshold 0.5)
            edge = alarm[(iou >= bf16.card.iou_threshold - 0.1) & (b.confidence[alarm] >= a.confidence[i])]
            assert len(edge), f"seed {seed}: bf16 lost a {CLASSES[a.class_id[i]]} at {a.confidence[i]:.3f} " \
                f"{a.xyxy[i]} (nearest {b.xyxy[over]} {b.confidence[over]})"
    assert compared >= 2, f"seed {seed}: too few confident boxes to compare"
    serial = [bf16(img, conf=0.2) for img in images * 2]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(lambda im: bf16(im, conf=0.2), images * 2))
    for s, p in zip(serial, parallel):
        assert np.array_equal(s.xyxy, p.xyxy) and np.array_equal(s.confidence, p.confidence)


def _look_alike_world(seed: int):
    from sim.scenario import generate_scenario
    from sim.world import World

    _, model, placement, _, _ = _world(seed)
    scenario = generate_scenario(model, placement, seed=seed + 7000, water="clear", containers=0, anomalies=0,
                                 distractors=16)
    return model, scenario, World.from_scenario(scenario, model)


def _verifier_scores(w, objects, verifier, rng, class_name: str) -> list[float]:
    from sim.camera_render import CameraConfig

    scores = []
    for obj in objects:
        frame = w.render_camera(_look_at(w, obj.center_h, obj.normal_h, rng.uniform(1.2, 2.0)),
                                CameraConfig(light_power=15.0), rng)
        box = [b for name, _, b in frame.boxes if name == obj.name and (b[2] - b[0]) * (b[3] - b[1]) > 400]
        if box:
            scores.append(verifier.score(frame.image, box[0], class_name))
    return scores


def test_the_shipped_verifier_passes_containers_and_doubts_look_alikes(world, detector):
    """The second look on fresh renders of three worlds: the boxes of planted containers, and
    of fenders, fouling clumps and debris (what the detector confuses with containers), each
    judged as a container at the card's level. Over 36 seeds (single views, 1.2-2.0 m; the
    niche-trained verifier of 2026-11-30 at 0.2): 0.80 of containers pass (lowest 0.62) and
    0.80 of look-alikes are doubted (lowest 0.57); a seed draws ~17 containers and ~28
    look-alikes, so a floor of 0.5 sits about 3 standard deviations below either mean. A
    look-alike world's fenders and clumps look alike, so three worlds of 16. (The previous
    verifier, at 0.25, doubted more single views, 0.86, yet alarmed twice as often on six
    rendered worlds, 0.45 against 0.22 per minute: a track's alarm waits for the mean of
    three looks.)"""
    from vision.detect.verifier import verifier_for

    verifier = verifier_for(detector)
    if verifier is None:
        pytest.skip("the camera model's card names no alarm verifier")
    level = verifier.level("parasitic_container")
    passed, doubted = [], []
    for w_ in (world, _world(world[0] + 5000), _world(world[0] + 10000)):
        seed, model, placement, scenario, w = w_
        rng = np.random.default_rng(seed + 3)
        containers = [o for o in scenario.objects if o.class_name == "parasitic_container"
                      and o.kind != "sea_chest_package"]
        passed += [s >= level for s in _verifier_scores(w, containers, verifier, rng, "parasitic_container")]
    seed = world[0]
    rng = np.random.default_rng(seed + 4)
    for k in range(3):
        _, alike_scenario, alike_world = _look_alike_world(seed + 1000 * k)
        alikes = [o for o in alike_scenario.objects if o.kind in ("fender", "fouling_clump", "debris")]
        doubted += [s < level for s in _verifier_scores(alike_world, alikes, verifier, rng, "parasitic_container")]
    assert len(passed) >= 6 and len(doubted) >= 12, f"seed {seed}: too few in view ({len(passed)}, {len(doubted)})"
    assert np.mean(passed) >= VERIFIER_PASS_FLOOR, f"seed {seed}: containers passed {passed}"
    assert np.mean(doubted) >= VERIFIER_DOUBT_FLOOR, f"seed {seed}: look-alikes doubted {doubted}"
