"""The live hull map worker on the embedded world: real renders, the shipped camera model,
the tracker, real ray casts on the hull. Glide passes past planted containers must each
give one finding at the container's place; poses come only from the pose history (never
invented), sonar pings build the point map on the hull, and producers never block."""
from __future__ import annotations

import math
import threading
import time
import types

import numpy as np
import pytest

from hull.pose import SensorMount, VehiclePose
from hull.surface_samples import sample_surface
from hull.visibility import SensorModel
from vision.hullmap.live_map import HullMapWorker, MapSensors

FPS = 10.0
STEP_M = 0.1
LEAD_M = 1.5
STANDOFF_M = 1.8
HFOV_DEG = 80.0  # sim.camera_render.CameraConfig's default
FINDING_WITHIN_M = 0.5  # the acceptance


@pytest.fixture(scope="module")
def world():
    from sim.embedded_world import build_world

    ew = build_world(seed=4)  # three hull-mounted containers: a torpedo and two magnetic boxes
    model, placement = ew.model, ew.scenario.placement
    samples = sample_surface(model.wetted(placement.draft_m).mesh, sample_area_m2=1.0)
    return ew, samples


def _sensors() -> MapSensors:
    return MapSensors(camera_mount=SensorMount("camera"), camera_hfov_deg=HFOV_DEG,
                      camera_coverage=SensorModel.camera(HFOV_DEG, 64.0, 4.0),
                      sonar_mount=SensorMount("sonar", tilt_up_deg=-10.0), sonar_vertical_aperture_deg=20.0,
                      sonar_coverage=SensorModel.sonar(130.0, 20.0, 0.5, 10.0))


def _worker(ew, samples, **kw) -> HullMapWorker:
    placement = ew.scenario.placement
    return HullMapWorker(ew.model.queries, samples, ew.model.niche_areas, placement.draft_m, _sensors(), **kw)


def vehicle_pose(t_s: float, position_h, forward_h) -> VehiclePose:
    """The vehicle whose level camera (no offset, no tilt) looks along forward_h."""
    f = np.asarray(forward_h, float)
    f /= np.linalg.norm(f)
    up = np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.95 else np.array([1.0, 0.0, 0.0])
    up = up - f * (f @ up)
    up /= np.linalg.norm(up)
    # body axes in H: x forward, y right, z down
    return VehiclePose(t_s, np.asarray(position_h, float), np.column_stack([f, np.cross(f, up), -up]))


def glide_past(obj, standoff_m: float):
    n = np.asarray(obj.normal_h, float)
    n /= np.linalg.norm(n)
    ref = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    along = np.cross(n, ref)
    along /= np.linalg.norm(along)
    reach = LEAD_M + 0.5 * max(obj.size_m)
    c = np.asarray(obj.center_h, float)
    return [(c + along * o + n * standoff_m, -n) for o in np.arange(-reach, reach + 1e-9, STEP_M)]


@pytest.fixture(scope="module")
def containers_mapped(world):
    """Passes past the world's hull-mounted containers, each frame: pose into the history,
    render, the live pipeline's own step, frame and result into the map worker."""
    from resources import resource_path
    from sim.camera_render import CameraConfig
    from sim.world import SensorPose
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.pipeline import DetectionPipeline, FrameIn

    ew, samples = world
    detector = OnnxDetector(resource_path("models", "camera.onnx"), expected_classes=CLASSES, threads=1)
    worker = _worker(ew, samples)
    targets = [o for o in ew.scenario.objects
               if o.class_name == "parasitic_container" and o.kind != "sea_chest_package"][:3]
    assert len(targets) >= 2
    rng = np.random.default_rng(5)
    t = 0.0
    alarms = []
    pipe = DetectionPipeline(detector, source="camera")  # one tracker for the mission, as the station runs it
    for obj in targets:
        for pos, fwd in glide_past(obj, STANDOFF_M):
            t += 1.0 / FPS
            vp = vehicle_pose(t, pos, fwd)
            worker.add_pose(vp)
            frame = ew.world.render_camera(SensorPose(vp.position_h, vp.R_h_body[:, 0], -vp.R_h_body[:, 2]),
                                           CameraConfig(), rng)
            result = pipe._process(FrameIn(frame.image, t, int(t * FPS)))
            alarms.extend(result.new_alarms)
            worker.add_camera_frame(t)
            worker.add_detections(result, "camera")
        t += 5.0  # a transit between passes: no poses, no frames
    snap = worker.step(final=True)
    return targets, snap, alarms


def test_each_container_is_one_finding_at_its_place(containers_mapped):
    targets, snap, alarms = containers_mapped
    assert alarms, "the shipped camera model raised no alarm on the container passes"
    errors = []
    for obj in targets:
        c = np.asarray(obj.center_h, float)
        near = [f for f in snap.findings if np.linalg.norm(f.position_h - c) < 2.0]
        assert len(near) == 1, (obj.name, [(f.class_name, np.round(f.position_h, 2)) for f in near])
        f = near[0]
        errors.append(float(np.linalg.norm(f.position_h - c)))
        assert errors[-1] <= FINDING_WITHIN_M, (obj.name, errors[-1])
        assert f.class_name in ("parasitic_container", "niche_anomaly") and f.observations >= 3
        assert f.address is not None and f.address.side in ("port", "starboard", "bottom")
    # nothing else on the hull became a finding
    assert len(snap.findings) == len(targets), [(f.class_name, np.round(f.position_h, 1)) for f in snap.findings]
    print("finding errors (m):", np.round(errors, 3))


def test_frames_count_towards_coverage_and_every_observation_is_placed(containers_mapped):
    targets, snap, _ = containers_mapped
    c = snap.counters
    assert c.received["camera"] == c.placed["camera"] > 0 and not c.no_pose and c.dropped_inbox == 0
    assert c.errors == 0, c.last_error
    assert snap.coverage.observations["camera"] == c.placed["camera"]
    assert 0.0 < snap.coverage.per_sensor_pct["camera"] < 20.0  # a few passes: a few square metres
    assert snap.coverage.per_sensor_pct["sonar"] == 0.0  # no pings were sent


def test_no_pose_is_invented_and_late_poses_are_waited_for(world):
    ew, samples = world
    worker = _worker(ew, samples)
    c = np.asarray(ew.scenario.objects[0].center_h, float)
    n = np.asarray(ew.scenario.objects[0].normal_h, float)
    for k in range(10):
        worker.add_pose(vehicle_pose(10.0 + 0.1 * k, c + 2.0 * n, -n))
    worker.add_camera_frame(9.0)  # before the history: never placed
    worker.add_camera_frame(10.45)  # inside: placed
    worker.add_camera_frame(11.5)  # newer than the newest pose: waits for it
    snap = worker.step()
    assert snap.counters.placed.get("camera") == 1 and snap.counters.no_pose.get("camera") == 1
    for k in range(10, 20):
        worker.add_pose(vehicle_pose(10.0 + 0.1 * k, c + 2.0 * n, -n))
    snap = worker.step()
    assert snap.counters.placed.get("camera") == 2  # the late pose arrived: the waiting frame is placed
    # across a telemetry gap longer than the history allows: not placed
    worker.add_pose(vehicle_pose(20.0, c + 2.0 * n, -n))
    worker.add_camera_frame(15.0)
    snap = worker.step()
    assert snap.counters.no_pose.get("camera") == 2 and snap.counters.placed.get("camera") == 2
    # a frame that waits for a pose that never comes is given up at the end, not held forever
    worker.add_camera_frame(25.0)
    snap = worker.step(final=True)
    assert snap.counters.no_pose.get("camera") == 3


def test_steps_without_snapshots_end_with_a_fresh_final_snapshot(world):
    """Offline analysis turns the map without snapshots; the final step, even with nothing
    left to place, hands back the map as it is, not the one before those steps."""
    ew, samples = world
    worker = _worker(ew, samples)
    c = np.asarray(ew.scenario.objects[0].center_h, float)
    n = np.asarray(ew.scenario.objects[0].normal_h, float)
    before = worker.step()
    for k in range(10):
        worker.add_pose(vehicle_pose(10.0 + 0.1 * k, c + 2.0 * n, -n))
    worker.add_camera_frame(10.45)
    assert worker.step(snapshot=False) is before  # placed, but no snapshot made
    snap = worker.step(final=True)  # nothing left in the inbox
    assert snap is not before and snap.counters.placed.get("camera") == 1
    assert worker.step(final=True) is snap  # nothing new: the same snapshot


def test_sonar_pings_build_the_point_map_on_the_hull(world):
    from sim.sonar_render import MultibeamConfig
    from sim.world import SensorPose

    ew, samples = world
    worker = _worker(ew, samples)
    obj = ew.scenario.objects[0]
    rng = np.random.default_rng(3)
    pings = 0
    for k, (pos, fwd) in enumerate(glide_past(obj, 4.0)[::4]):
        t = 0.5 * k
        vp = vehicle_pose(t, pos, fwd)
        worker.add_pose(vp)
        worker.add_pose(VehiclePose(t + 0.25, vp.position_h, vp.R_h_body))
        son = worker.sensors.sonar_mount
        tilt = math.radians(son.tilt_up_deg)
        f, d = vp.R_h_body[:, 0], vp.R_h_body[:, 2]
        pose = SensorPose(vp.position_h, math.cos(tilt) * f - math.sin(tilt) * d,
                          -math.sin(tilt) * f - math.cos(tilt) * d)
        frame = ew.world.render_sonar(pose, MultibeamConfig(max_range_m=8.0, gain=3.0), rng)
        # the station's pings carry their receive time; a rendered SonarFrame has none
        worker.add_sonar_ping(types.SimpleNamespace(t_s=t, intensities=frame.intensities,
                                                    bearings_deg=frame.bearings_deg, min_range_m=frame.min_range_m,
                                                    range_resolution_m=frame.range_resolution_m))
        pings += 1
    snap = worker.step(final=True)
    assert snap.counters.placed["sonar"] == pings and snap.coverage.per_sensor_pct["sonar"] > 0.0
    assert snap.map_points > 50
    d = ew.model.queries.distance(worker.points.points())
    assert np.median(d) < 0.15, np.percentile(d, [50, 90])


def test_producers_never_wait_and_close_is_prompt(world):
    ew, samples = world
    worker = _worker(ew, samples, tick_s=0.05).start()
    c = np.asarray(ew.scenario.objects[0].center_h, float)
    n = np.asarray(ew.scenario.objects[0].normal_h, float)
    updates = []
    worker.on_update = updates.append
    t0 = time.perf_counter()
    for k in range(200):
        worker.add_pose(vehicle_pose(0.04 * k, c + 2.0 * n, -n))
        worker.add_camera_frame(0.04 * k)
    put_s = time.perf_counter() - t0
    deadline = time.monotonic() + 10.0
    while worker.latest.counters.placed.get("camera", 0) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.latest.counters.placed.get("camera") == 200 and updates
    assert updates[-1] is worker.latest and threading.current_thread() is threading.main_thread()
    t1 = time.perf_counter()
    assert worker.close(timeout_s=5.0)
    assert time.perf_counter() - t1 < 2.0
    assert put_s < 1.0  # 400 appends: producers only append


def test_submit_runs_on_the_worker_thread_and_snapshot_carries_seen_masks(world):
    """Readers of the whole map (export, 3D view) go through submit(): the function runs
    on the map's own thread, between turns, and its result comes back in the future."""
    ew, samples = world
    worker = _worker(ew, samples)
    try:
        worker.start()
        fut = worker.submit(lambda w: (threading.current_thread().name, len(w.coverage.samples)))
        name, n = fut.result(timeout=5)
        assert name == "hull map"
        snap = worker.latest
        assert set(snap.seen) == set(worker.coverage.sensors)
        for mask in snap.seen.values():
            assert mask.shape == (n,) and mask.dtype == bool and not mask.flags.writeable
        assert snap.standoff_m is None  # no pose yet
        failing = worker.submit(lambda w: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failing.result(timeout=5)
    finally:
        worker.close()
