"""The embedded world: one vessel at the quay with its planted objects, and the sensors
that look at it from the vehicle.

`World` is what the streams, the data set renderer and the tests share: it owns the
camera and sonar scenes built from one hull model, placement and object list, and turns
a vehicle pose (local NED + attitude, as the simulated vehicle knows it) into sensor
poses in the hull frame H.

Sensor mounting (BlueROV2-like): the camera looks forward along the body x axis, tilted
about the body y axis by CamTilt (positive up, +-45 deg, MOUNT_CONTROL's convention); the
multibeam looks forward, tilted down by `sonar_tilt_deg`.

The scene (sim.world_geometry) is built once from the hull's niche areas, the placement's
quay wall and the planted objects. The seabed and the water surface are taken level in H
(the vessel's trim is ignored for them, as for the quay wall).
"""
from __future__ import annotations

import numpy as np

from hull.placement import Placement
from hull.pose import SensorMount, SensorPose, VehiclePose, body_to_ned, sensor_pose

from .camera_render import CameraConfig, CameraFrame, CameraScene
from .scenario import Scenario
from .sonar_render import MultibeamConfig, SonarFrame, SonarScene
from .world_geometry import build_scene

__all__ = ["World", "SensorPose", "body_to_ned", "cam_tilt_deg"]  # SensorPose, body_to_ned: from hull.pose


def cam_tilt_deg(cam_tilt_fraction: float) -> float:
    """The simulator's CamTilt (0..1, 0.5 level, like SERVO output 1100..1900) in degrees."""
    return (float(cam_tilt_fraction) - 0.5) * 90.0


class World:
    def __init__(self, model, placement: Placement, objects=(), attenuation_per_m: float = 0.35,
                 sonar_tilt_deg: float = 10.0):
        self.model = model
        self.placement = placement
        self.objects = tuple(objects)
        self.attenuation_per_m = float(attenuation_per_m)
        self.sonar_tilt_deg = float(sonar_tilt_deg)
        seabed = placement.seabed_z_h
        # one scene for both sensors: recessed sea chests with gratings, tunnels, anodes, the
        # quay wall and the planted objects (sim.world_geometry)
        self.geometry = build_scene(model.mesh, tuple(model.niche_areas), self.objects, placement)
        self.camera_scene = CameraScene(self.geometry, attenuation_per_m=self.attenuation_per_m, seabed_z_h=seabed,
                                        waterline_z_h=placement.waterline_z_h)
        self.sonar_scene = SonarScene(self.geometry, seabed_z_h=seabed)
        self._r_h_from_ned = placement._rotation_h_to_ned().T

    @classmethod
    def from_scenario(cls, scenario: Scenario, model, **kw) -> "World":
        return cls(model, scenario.placement, scenario.objects, scenario.attenuation_per_m, **kw)

    # ---- poses ----------------------------------------------------------------------------
    def ned_dir_to_h(self, d_ned) -> np.ndarray:
        return self._r_h_from_ned @ np.asarray(d_ned, float)

    def sensor_pose(self, position_ned_m, attitude_rpy_rad, tilt_up_deg: float) -> SensorPose:
        """A forward-looking sensor on the vehicle, pitched up by `tilt_up_deg` (hull.pose's
        mounting math, the same the station uses to georeference what the sensor saw)."""
        vehicle = VehiclePose.from_ned(0.0, self.placement, position_ned_m, *attitude_rpy_rad)
        return sensor_pose(vehicle, SensorMount("sensor", tilt_up_deg=float(tilt_up_deg)))

    def camera_pose(self, truth) -> SensorPose:
        """From a SimTruth (or anything with position_ned_m, attitude_rpy_rad, cam_tilt)."""
        return self.sensor_pose(truth.position_ned_m, truth.attitude_rpy_rad, cam_tilt_deg(truth.cam_tilt))

    def sonar_pose(self, truth) -> SensorPose:
        return self.sensor_pose(truth.position_ned_m, truth.attitude_rpy_rad, -self.sonar_tilt_deg)

    # ---- rendering ------------------------------------------------------------------------
    def render_camera(self, pose: SensorPose, cfg: CameraConfig, rng: np.random.Generator,
                      class_of=None) -> CameraFrame:
        return self.camera_scene.render(pose.position_h, pose.forward_h, pose.up_h, cfg, rng, class_of=class_of)

    def render_sonar(self, pose: SensorPose, cfg: MultibeamConfig, rng: np.random.Generator) -> SonarFrame:
        return self.sonar_scene.render(pose.position_h, pose.forward_h, pose.up_h, cfg, rng)
