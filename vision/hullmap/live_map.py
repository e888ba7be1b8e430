"""The live hull map: one worker thread that turns what the station receives (vehicle
poses, camera frames, sonar pings, distance readings, tracked detections) into coverage,
a point map and located findings, and publishes an immutable snapshot a few times a second.

Producers (link, video, sonar and detector threads) only append to a bounded inbox and
never wait on the map. The worker owns LiveCoverage, PointMap and FindingBook: nothing
else touches them. An observation is placed with the vehicle's pose at its own time
(PoseHistory); one newer than the newest pose waits for the pose to arrive (telemetry
runs a little behind video), up to POSE_WAIT_S; one the history cannot place (before it,
or across a telemetry gap) is counted, never placed with an invented pose.

Poses arrive as hull.pose.VehiclePose (the app converts the vehicle's NED telemetry
through the vessel placement); vision never imports vehicle.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import threading
import time
import types
from typing import Callable, Mapping

import numpy as np

from hull.pose import PoseHistory, PoseUnknown, SensorMount, VehiclePose, sensor_pose
from hull.visibility import SensorModel
from vision.classes import ALARM_CLASSES, CLASSES

from ..georef import CameraModel, FindingBook, locate_camera_detections, locate_sonar_detections
from .coverage import CoverageSummary, LiveCoverage
from .pointmap import PointMap

TICK_S = 0.25  # findings follow an alarm within a tick; coverage is published every tick too
POSE_WAIT_S = 2.0  # how long an observation newer than the newest pose waits for it
INBOX_MAX = 20_000  # ~10 min of 25 fps video plus pings if the worker stalled: then the oldest go
POINTMAP_PINGS_PER_S = 2.0  # pings into the point map (coverage takes every ping): each costs ~90 ms of
# elevation fans (bench_hullmap), and at 0.5 m/s two a second still give four per metre


@dataclasses.dataclass(frozen=True)
class MapSensors:
    """How the vehicle's sensors see the hull: mounts on the vehicle (hull.pose), the
    visibility models coverage counts with (the planner's, so live coverage compares with
    its prediction), the camera's field of view for georeferencing, and the multibeam's
    vertical aperture (deg) for resolving where its echoes lie."""

    camera_mount: SensorMount = SensorMount("camera")
    camera_hfov_deg: float = 80.0
    camera_coverage: SensorModel | None = None
    sonar_mount: SensorMount = SensorMount("sonar", tilt_up_deg=-10.0)
    sonar_vertical_aperture_deg: float = 20.0
    sonar_coverage: SensorModel | None = None
    rangefinder_mount: SensorMount | None = None  # None: the distance sensor looks along the camera's axis


@dataclasses.dataclass(frozen=True)
class MapCounters:
    received: Mapping[str, int]  # per kind: pose, camera, sonar, range, detections
    placed: Mapping[str, int]
    no_pose: Mapping[str, int]  # could not be placed: before the history, or across a telemetry gap
    dropped_inbox: int  # lost because the inbox overflowed (the worker fell behind)
    errors: int
    last_error: str


@dataclasses.dataclass(frozen=True)
class MapSnapshot:
    """What the map knows at t_s (s, newest observation placed): immutable, for any thread."""

    t_s: float | None
    coverage: CoverageSummary
    findings: tuple  # georef.Finding, oldest first
    map_points: int  # voxels in the point map
    counters: MapCounters
    tick_ms: float  # the worker's last turn
    # per surface sample of the worker's `samples` (read-only bool arrays): seen by each sensor
    seen: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    # distance (m) from the newest pose's vehicle position to the hull model: the standoff the
    # pilot reads when no forward distance sensor measures it
    standoff_m: float | None = None


@dataclasses.dataclass(frozen=True)
class _Obs:
    kind: str  # camera, sonar, range, detections
    t_s: float
    data: object = None
    extra: object = None
    queued_s: float = 0.0


class HullMapWorker:
    """hull_queries: hull.queries.HullQueries of the full mesh (occlusion and ray hits);
    samples: hull.surface_samples.SurfaceSamples of the wetted surface (the planner's, to
    compare with its prediction); niche_areas: hull.niche.NicheArea; draft_m: for the
    depth below the waterline of addresses. on_update(MapSnapshot) is called from the
    worker thread after every turn that changed something."""

    def __init__(self, hull_queries, samples, niche_areas, draft_m: float, sensors: MapSensors | None = None, *,
                 voxel_m: float = 0.05, pose_history: PoseHistory | None = None,
                 on_update: Callable[[MapSnapshot], None] | None = None, tick_s: float = TICK_S,
                 clock: Callable[[], float] = time.monotonic):
        self.sensors = sensors or MapSensors()
        models = {}
        if self.sensors.camera_coverage is not None:
            models["camera"] = self.sensors.camera_coverage
        if self.sensors.sonar_coverage is not None:
            models["sonar"] = self.sensors.sonar_coverage
        if not models:
            raise ValueError("MapSensors: give the camera's or the sonar's coverage model (or both)")
        self.queries = hull_queries
        self.draft_m = float(draft_m)
        self.niche_areas = tuple(niche_areas)
        self.history = pose_history or PoseHistory()
        self.coverage = LiveCoverage(samples, self.niche_areas, models, hull_queries)
        self.points = PointMap(voxel_m)
        self.findings = FindingBook(hull_queries, draft_m, self.niche_areas)
        self.on_update = on_update
        self.tick_s = float(tick_s)
        self._clock = clock
        self._inbox: collections.deque[_Obs] = collections.deque()
        self._calls: collections.deque = collections.deque()  # (fn, future) to run on the worker thread
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._received = collections.Counter()
        self._placed = collections.Counter()
        self._no_pose = collections.Counter()
        self._dropped = 0
        self._errors = 0
        self._last_error = ""
        self._last_pointmap_ping_s = -np.inf
        self._cameras: dict[tuple[int, int], CameraModel] = {}
        self._t_s: float | None = None
        self._tick_ms = 0.0
        self._latest: MapSnapshot = self._snapshot()
        self._snapshot_stale = False  # placed since the last snapshot (steps with snapshot=False)

    # ---- producers (any thread) -------------------------------------------------------
    def add_pose(self, pose: VehiclePose) -> None:
        """A vehicle pose (telemetry time t_s); poses go straight into the history."""
        if self.history.append(pose):
            self._count("pose")

    def add_camera_frame(self, t_s: float, tilt_up_deg: float = 0.0) -> None:
        """A camera frame received at capture time t_s (s) with the camera tilt (deg, up +)."""
        self._put(_Obs("camera", float(t_s), None, float(tilt_up_deg)))

    def add_sonar_ping(self, ping) -> None:
        """A multibeam ping (vision.sonar.oculus.SonarPing or anything with t_s,
        intensities, bearings_deg, range_resolution_m)."""
        self._put(_Obs("sonar", float(ping.t_s), ping))

    def add_range(self, t_s: float, range_m: float, tilt_up_deg: float = 0.0) -> None:
        """The distance sensor's reading (m) at t_s; along the camera's axis unless
        MapSensors.rangefinder_mount says otherwise."""
        self._put(_Obs("range", float(t_s), float(range_m), float(tilt_up_deg)))

    def add_detections(self, result, source: str, tilt_up_deg: float = 0.0) -> None:
        """A detection pipeline result (vision.detect.pipeline.DetectionResult): its
        confirmed tracks of the alarm classes become findings. source: camera or sonar
        (sonar results carry their FanImage in frame.meta)."""
        det = result.detections
        if det.tracker_id is None or not len(det):
            return
        names = np.array([CLASSES[int(c)] if 0 <= int(c) < len(CLASSES) else "" for c in det.class_id])
        keep = (det.tracker_id >= 0) & np.isin(names, list(ALARM_CLASSES))
        if keep.any():
            frame = result.frame
            # sonar boxes map back through the fan image; camera boxes need the frame's size
            meta = frame.meta if source == "sonar" else (frame.image.shape[1], frame.image.shape[0])
            self._put(_Obs("detections", float(frame.t_s), (det[keep], meta), (str(source), float(tilt_up_deg))))

    def _put(self, obs: _Obs) -> None:
        obs = dataclasses.replace(obs, queued_s=self._clock())
        with self._lock:
            if len(self._inbox) >= INBOX_MAX:
                self._inbox.popleft()
                self._dropped += 1
            self._inbox.append(obs)
            self._received[obs.kind] += 1

    def _count(self, kind: str) -> None:
        with self._lock:
            self._received[kind] += 1

    # ---- reader (any thread) ------------------------------------------------------------
    @property
    def latest(self) -> MapSnapshot:
        return self._latest

    # ---- the worker -------------------------------------------------------------------
    def start(self) -> "HullMapWorker":
        self._thread = threading.Thread(target=self._run, name="hull map", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> bool:
        """Stop after placing what can still be placed; True if the worker ended in time."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def submit(self, fn: Callable[["HullMapWorker"], object]) -> concurrent.futures.Future:
        """Run fn(worker) on the worker thread between turns (the one place the coverage,
        point map and findings may be read whole, e.g. for an export or the 3D view);
        the future gets its result. Without a running worker it runs at once, here."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        if self._thread is None or not self._thread.is_alive():
            self._call(fn, future)
            return future
        with self._lock:
            self._calls.append((fn, future))
        self._wake.set()
        return future

    def _call(self, fn, future) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(self))
        except BaseException as exc:  # noqa: BLE001 - the caller gets it through the future
            future.set_exception(exc)

    def _run_calls(self) -> None:
        while True:
            with self._lock:
                if not self._calls:
                    return
                fn, future = self._calls.popleft()
            self._call(fn, future)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            self.step()
            self._run_calls()
        self.step(final=True)
        self._run_calls()

    def step(self, final: bool = False, snapshot: bool = True) -> MapSnapshot:
        """One turn: place what the pose history can place. Called by the worker thread
        (or, without start(), by the owner directly, e.g. offline analysis). snapshot=False
        skips making the snapshot (coverage masks, standoff) for an owner that reads only
        the last one, after a final step: offline analysis turns the map ~16 times a second."""
        t0 = time.perf_counter()
        with self._lock:
            batch = list(self._inbox)
            self._inbox.clear()
        if not batch:
            if final and self._snapshot_stale:
                self._latest, self._snapshot_stale = self._snapshot(), False
            return self._latest
        newest = self.history.time_range_s
        now = self._clock()
        wait, ready = [], []
        for o in batch:
            if newest is not None and o.t_s > newest[1] and not final and now - o.queued_s < POSE_WAIT_S:
                wait.append(o)  # its pose has not arrived yet
            else:
                ready.append(o)
        if wait:
            with self._lock:
                self._inbox.extendleft(reversed(wait))
        try:
            self._place(ready)
        except Exception as exc:  # noqa: BLE001 - a bad observation must not stop the map
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"
        self._tick_ms = (time.perf_counter() - t0) * 1e3
        if ready and not (snapshot or final):
            self._snapshot_stale = True
        elif ready or (final and self._snapshot_stale):
            self._latest, self._snapshot_stale = self._snapshot(), False
            if self.on_update is not None:
                self.on_update(self._latest)
        return self._latest

    def _pose(self, o: _Obs) -> VehiclePose | None:
        try:
            return self.history.require(o.t_s)
        except PoseUnknown:
            self._no_pose[o.kind] += 1
            return None

    def _place(self, batch: list[_Obs]) -> None:
        s = self.sensors
        cam_poses, cam_t, son_poses, son_t = [], [], [], []
        for o in sorted(batch, key=lambda o: o.t_s):
            vp = self._pose(o)
            if vp is None:
                continue
            if o.kind == "camera":
                cam_poses.append(sensor_pose(vp, s.camera_mount, o.extra))
                cam_t.append(o.t_s)
            elif o.kind == "sonar":
                pose = sensor_pose(vp, s.sonar_mount)
                son_poses.append(pose)
                son_t.append(o.t_s)
                if o.t_s - self._last_pointmap_ping_s >= 1.0 / POINTMAP_PINGS_PER_S:
                    self._last_pointmap_ping_s = o.t_s
                    p = o.data
                    self.points.add_sonar_ping(p.intensities, p.bearings_deg, p.range_resolution_m,
                                               float(getattr(p, "min_range_m", 0.0)), pose,
                                               s.sonar_vertical_aperture_deg, hull_queries=self.queries,
                                               draft_m=self.draft_m)
            elif o.kind == "range":
                mount = s.rangefinder_mount or s.camera_mount
                pose = sensor_pose(vp, mount, 0.0 if s.rangefinder_mount else o.extra)
                self.points.add_range(pose.position_h, pose.forward_h, o.data)
            elif o.kind == "detections":
                self._locate(o, vp)
            self._placed[o.kind] += 1
            self._t_s = o.t_s if self._t_s is None else max(self._t_s, o.t_s)
        if cam_poses and "camera" in self.coverage.sensors:
            self.coverage.observe("camera", cam_poses, np.array(cam_t))
        if son_poses and "sonar" in self.coverage.sensors:
            self.coverage.observe("sonar", son_poses, np.array(son_t))

    def _locate(self, o: _Obs, vp: VehiclePose) -> None:
        det, meta = o.data
        source, tilt = o.extra
        s = self.sensors
        if source == "sonar":
            from vision.detect.sonar_geometry import fan_detections_to_polar

            polar = fan_detections_to_polar(det, meta)
            located = locate_sonar_detections(polar, sensor_pose(vp, s.sonar_mount), s.sonar_vertical_aperture_deg,
                                              self.queries, self.draft_m, self.niche_areas,
                                              range_resolution_m=meta.range_resolution_m)
        else:
            w, h = meta
            cam = self._cameras.get((w, h))
            if cam is None:
                cam = self._cameras[(w, h)] = CameraModel.from_hfov(w, h, s.camera_hfov_deg)
            located = locate_camera_detections(det, sensor_pose(vp, s.camera_mount, tilt), cam, self.queries,
                                               self.draft_m, self.niche_areas)
        for i, loc in enumerate(located):
            self.findings.add(int(det.tracker_id[i]), source, CLASSES[int(det.class_id[i])],
                              float(det.confidence[i]), o.t_s, loc)

    def _snapshot(self) -> MapSnapshot:
        ro = types.MappingProxyType
        with self._lock:
            received, dropped = dict(self._received), self._dropped
        counters = MapCounters(ro(received), ro(dict(self._placed)), ro(dict(self._no_pose)), dropped,
                               self._errors, self._last_error)
        seen = {}
        for name in self.coverage.sensors:
            mask = self.coverage.seen_mask(name)
            mask.setflags(write=False)
            seen[name] = mask
        standoff = None
        span = self.history.time_range_s
        if span is not None:
            pose = self.history.at(span[1])
            if pose is not None:
                standoff = float(self.queries.distance(np.asarray(pose.position_h, float).reshape(1, 3))[0])
        return MapSnapshot(self._t_s, self.coverage.summary(), tuple(self.findings.findings), len(self.points),
                           counters, self._tick_ms, ro(seen), standoff)

