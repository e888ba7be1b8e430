"""The station's live hull map: the vehicle's telemetry becomes poses in the hull frame,
the frames, pings, distance readings and tracked detections the station receives go to
the hull-map worker (vision.hullmap.live_map), and new findings are reported with their
hull-surface address.

Threads: a pose feeder polls the vehicle's immutable state snapshots (50 Hz; ATTITUDE
comes at 16 Hz) and appends a pose for every new attitude sample, its position carried
from the last LOCAL_POSITION_NED by that message's velocity; the worker places everything
~4 times a second. Nothing here runs on a GUI thread.
"""
from __future__ import annotations

import math
import threading

from hull.pose import SensorMount, VehiclePose
from hull.surface_samples import sample_surface
from mission_plans.plan_model import CameraSensor, SensorSetup, SonarSensor
from mission_plans.planner import sensor_models
from vision.hullmap.live_map import HullMapWorker, MapSensors

from .cmd_plan import DEFAULT_CAMERA, DEFAULT_SONAR

POSE_POLL_S = 0.02
MAX_EXTRAPOLATION_S = 0.5  # a position older than this against the attitude is not carried forward
CAM_TILT_RANGE_DEG = 90.0  # ArduSub's CamTilt 0..1 spans the mount's +-45 deg (MNT1_PITCH limits)


def cam_tilt_deg(cam_tilt: float | None) -> float:
    """ArduSub's CamTilt named value (0..1, 0.5 level) in degrees, up positive."""
    return 0.0 if cam_tilt is None else (float(cam_tilt) - 0.5) * CAM_TILT_RANGE_DEG


def vehicle_pose_of(state, placement) -> VehiclePose | None:
    """The pose at the state's newest attitude, or None without attitude or position."""
    att, lp = state.attitude, state.local_position
    if att.t_s is None or lp is None or abs(att.t_s - lp.t_s) > MAX_EXTRAPOLATION_S:
        return None
    dt = att.t_s - lp.t_s
    ned = (lp.north_m + lp.vn_m_s * dt, lp.east_m + lp.ve_m_s * dt, lp.down_m + lp.vd_m_s * dt)
    return VehiclePose.from_ned(att.t_s, placement, ned, math.radians(att.roll_deg), math.radians(att.pitch_deg),
                                math.radians(att.yaw_deg))


class StationMap:
    """model: hull.model.HullModel; placement: hull.placement.Placement; sensors: the
    plan's SensorSetup (coverage counts as the planner predicts); sonar_tilt_deg: the
    multibeam's mount, tilted down."""

    def __init__(self, model, placement, *, sensors: SensorSetup | None = None, camera_hfov_deg: float = 80.0,
                 sonar_tilt_deg: float = 10.0, sonar_vertical_aperture_deg: float = 20.0, out=None):
        sensors = sensors or SensorSetup(camera=CameraSensor(**DEFAULT_CAMERA), sonar=SonarSensor(**DEFAULT_SONAR))
        models = {m.name: m for m in sensor_models(sensors)}
        self.model = model
        self.placement = placement
        self.samples = sample_surface(model.wetted(placement.draft_m).mesh)
        map_sensors = MapSensors(camera_mount=SensorMount("camera"), camera_hfov_deg=camera_hfov_deg,
                                 camera_coverage=models.get("camera"),
                                 sonar_mount=SensorMount("sonar", tilt_up_deg=-abs(sonar_tilt_deg)),
                                 sonar_vertical_aperture_deg=sonar_vertical_aperture_deg,
                                 sonar_coverage=models.get("sonar"))
        self.worker = HullMapWorker(model.queries, self.samples, model.niche_areas, placement.draft_m, map_sensors,
                                    on_update=self._updated)
        self._out = out
        self._reported: set[int] = set()
        self._vehicle = None
        self._stop = threading.Event()
        self._feeder: threading.Thread | None = None
        self._last_att_t = None
        self._last_range_t = None
        self.poses_fed = 0

    # ---- wiring ---------------------------------------------------------------------
    def start(self, vehicle) -> "StationMap":
        self._vehicle = vehicle
        self.worker.start()
        self._feeder = threading.Thread(target=self._feed_poses, name="pose feeder", daemon=True)
        self._feeder.start()
        return self

    def tilt_deg(self) -> float:
        return cam_tilt_deg(self._vehicle.state.cam_tilt) if self._vehicle is not None else 0.0

    def camera_frame(self, frame) -> None:
        """A video frame received (any thread): it counts towards coverage."""
        self.worker.add_camera_frame(frame.t_capture_s, self.tilt_deg())

    def sonar_ping(self, ping) -> None:
        if ping.t_s is not None:
            self.worker.add_sonar_ping(ping)

    def detections(self, result, source: str) -> None:
        self.worker.add_detections(result, source, self.tilt_deg() if source == "camera" else 0.0)

    def _feed_poses(self) -> None:
        while not self._stop.wait(POSE_POLL_S):
            state = self._vehicle.state
            if state.attitude.t_s is not None and state.attitude.t_s != self._last_att_t:
                self._last_att_t = state.attitude.t_s
                pose = vehicle_pose_of(state, self.placement)
                if pose is not None:
                    self.worker.add_pose(pose)
                    self.poses_fed += 1
            d = state.distance
            # the camera-axis rangefinder (orientation 0, forward) measures the hull ahead
            if d is not None and d.t_s != self._last_range_t and d.orientation == 0:
                self._last_range_t = d.t_s
                if d.min_m < d.distance_m < d.max_m:
                    self.worker.add_range(d.t_s, d.distance_m, 0.0)

    # ---- reporting ------------------------------------------------------------------
    def _updated(self, snap) -> None:
        if self._out is None:
            return
        for f in snap.findings:
            if f.finding_id in self._reported or f.observations < 3:
                continue
            self._reported.add(f.finding_id)
            print(f"FINDING {f.finding_id}: {f.class_name} at {f.address.describe()} (+-{f.uncertainty_m:.2f} m, "
                  f"{'+'.join(f.sources)})", file=self._out, flush=True)

    def status(self) -> str:
        snap = self.worker.latest
        cov = snap.coverage
        parts = [f"{name} {pct:.1f}%" for name, pct in cov.per_sensor_pct.items()]
        c = snap.counters
        unplaced = sum(c.no_pose.values())
        return (f"map: seen {cov.overall_pct:.1f}% of {cov.wetted_area_m2:.0f} m2 ({', '.join(parts)}), "
                f"{len(snap.findings)} findings, {snap.map_points} map points"
                + (f", {unplaced} without pose" if unplaced else ""))

    def close(self) -> None:
        self._stop.set()
        if self._feeder is not None:
            self._feeder.join(2.0)
        self.worker.close()

