"""A sweep plan flown through the embedded world, frame by frame: every frame the camera
sees along the plan's looking tracks is rendered, detected, tracked and placed on the
hull map with the pose the vehicle had, as the live station would. Kinematic (the plan's
own poses at a constant speed, no vehicle dynamics) and as fast as the CPU renders, so a
whole sweep of a small hull takes minutes, not the mission's half hour.

Used by the sweep benchmark and tests (every planted container must end as one finding
at its place) and by the headless demo. Transit tracks are skipped (no frames) but cost
time, so tracks do not run into each other.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np

from hull.pose import VehiclePose

FPS = 10.0
STEP_M = 0.1  # camera travel per frame: 1 m/s at 10 frames/s
MAP_TICK_FRAMES = 10  # the worker's turn: once per second of mission


@dataclasses.dataclass(frozen=True)
class SweepOutcome:
    frames: int
    mission_s: float
    snapshot: object  # vision.hullmap.live_map.MapSnapshot at the end
    alarms: tuple  # vision.tracking Alarm, in the order raised
    timings_ms: dict  # per stage: list of per-frame (render, detect) or per-tick (map) times


def resample_track(positions_h, forward_h, up_h, step_m: float):
    """The track's poses every step_m metres along its path (linear in position, axes
    renormalised): (positions (K, 3), forward (K, 3), up (K, 3))."""
    p = np.asarray(positions_h, float)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return p[:1], np.asarray(forward_h, float)[:1], np.asarray(up_h, float)[:1]
    q = np.arange(0.0, s[-1] + 1e-9, step_m)

    def interp(a):
        a = np.asarray(a, float)
        out = np.column_stack([np.interp(q, s, a[:, k]) for k in range(3)])
        return out

    f, u = interp(forward_h), interp(up_h)
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    u -= f * np.sum(u * f, axis=1, keepdims=True)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return interp(p), f, u


def vehicle_pose(t_s: float, position_h, forward_h, up_h) -> VehiclePose:
    """The vehicle whose level, centred camera looks along forward_h with up_h up."""
    f, u = np.asarray(forward_h, float), np.asarray(up_h, float)
    return VehiclePose(t_s, np.asarray(position_h, float), np.column_stack([f, np.cross(f, u), -u]))


def fly_sweep(world, tracks, pipeline, worker, *, step_m: float = STEP_M, fps: float = FPS, camera_config=None,
              seed: int = 0, transit_speed_m_s: float = 1.0,
              on_frame: Callable[[int, object, object], None] | None = None) -> SweepOutcome:
    """world: sim.world.World; tracks: the plan's PoseTracks (mission_plans.patterns),
    in plan order; pipeline: a vision.detect.pipeline.DetectionPipeline (never started:
    its process() runs here); worker: a vision.hullmap.live_map.HullMapWorker (not
    started: its step() runs once per mission second here). on_frame(k, frame, result)
    sees each rendered frame (sim CameraFrame) and its detection result."""
    from sim.camera_render import CameraConfig
    from sim.world import SensorPose
    from vision.detect.pipeline import FrameIn

    cfg = camera_config or CameraConfig()
    rng = np.random.default_rng(seed)
    t = 0.0
    k = 0
    alarms = []
    timings = {"render_ms": [], "detect_ms": [], "map_tick_ms": []}
    last_end = None
    for track in tracks:
        if track.kind == "transit":
            if len(track.positions_h) > 1:
                t += float(np.linalg.norm(np.diff(track.positions_h, axis=0), axis=1).sum()) / transit_speed_m_s
            continue
        pos, fwd, up = resample_track(track.positions_h, track.forward_h, track.up_h, step_m)
        if last_end is not None:
            t += float(np.linalg.norm(pos[0] - last_end)) / transit_speed_m_s
        last_end = pos[-1]
        for i in range(len(pos)):
            # the vehicle's pose at the frame's time: the map looks it up in the history as live
            worker.add_pose(vehicle_pose(t, pos[i], fwd[i], up[i]))
            t0 = time.perf_counter()
            frame = world.render_camera(SensorPose(pos[i], fwd[i], up[i]), cfg, rng)
            t1 = time.perf_counter()
            result = pipeline.process(FrameIn(frame.image, t, k))
            t2 = time.perf_counter()
            timings["render_ms"].append((t1 - t0) * 1e3)
            timings["detect_ms"].append((t2 - t1) * 1e3)
            alarms.extend(result.new_alarms)
            worker.add_camera_frame(t)
            worker.add_detections(result, "camera")
            if on_frame is not None:
                on_frame(k, frame, result)
            k += 1
            t += 1.0 / fps
            if k % MAP_TICK_FRAMES == 0 or i == len(pos) - 1:
                # and at a track's end: the worker ticks in mission time, and a long transit
                # must not age the track's poses out of the history before its frames are placed
                t3 = time.perf_counter()
                worker.step()
                timings["map_tick_ms"].append((time.perf_counter() - t3) * 1e3)
    snap = worker.step(final=True)
    return SweepOutcome(k, t, snap, tuple(alarms), timings)


@dataclasses.dataclass(frozen=True)
class Workboat:
    """A small parametric workboat at the berth with planted objects, and its sweep
    planner: the test bed of the sweep tests, benchmarks and the GUI's map tests."""

    model: object  # hull.model.HullModel
    placement: object  # hull.placement.Placement
    scenario: object  # sim.scenario.Scenario
    world: object  # sim.world.World
    sensors: object  # mission_plans.plan_model.SensorSetup
    planner: object  # mission_plans.planner.SweepPlanner


WORKBOAT_STANDOFF_M = 1.8


def workboat(length_m: float = 24.0, seed: int = 1, containers: int = 4) -> Workboat:
    """A workboat of length_m (24 m: 7 m beam, 2.4 m draft; larger ones scaled alike)
    with `containers` containers, one anomaly and four distractors in clear water, and a
    camera sweep planner at 1.8 m standoff."""
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from mission_plans.plan_model import CameraSensor, SensorSetup
    from mission_plans.planner import SweepPlanner, SweepSettings
    from sim.embedded_world import berth_beside_start
    from sim.scenario import generate_scenario
    from sim.world import World

    k = length_m / 24.0
    dims = HullDimensions(length_m, 7.0 * k, 2.4 * k, 3.6 * k, 0.55)
    model = HullModel.parametric_hull(dims)
    placement = berth_beside_start(model, dims.draft_m)
    scenario = generate_scenario(model, placement, seed=seed, water="clear", containers=containers, anomalies=1,
                                 distractors=4, vessel_name=f"workboat {length_m:g} m")
    sensors = SensorSetup(camera=CameraSensor(80.0, 60.0, 640, 480, 4.0))
    planner = SweepPlanner(model.mesh, placement, sensors, SweepSettings(standoff_m=WORKBOAT_STANDOFF_M),
                           niche_areas=model.niche_areas, queries=model.queries)
    return Workboat(model, placement, scenario, World.from_scenario(scenario, model), sensors, planner)
