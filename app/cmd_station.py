"""`hullwatch` with no sub-command.

Until the GUI lands this is the headless station: on the embedded world it starts the
simulated vehicle on a loopback TCP port with the world's sensors (the ship at the berth
with planted objects, the camera's RTP stream and the Oculus multibeam), receives them as
it would from a real vehicle, and flies a short scripted check (arm, lights on, depth hold,
dive to 2 m) while printing telemetry and sensor rates, and maps what it sees onto the hull
(coverage, findings with their hull-surface address); with --connect it watches a real vehicle.
"""
from __future__ import annotations

import sys

from .errors import UserError
from .headless_station import run_headless

DEMO_DEPTH_M = 2.0
DEMO_LIGHTS = 0.5  # the camera needs its lamps below the first metres


def run_station(connect_url: str | None = None, duration_s: float | None = None) -> int:
    if connect_url:
        return run_headless(connect_url, duration_s=duration_s)
    from sim.cli import prepare_world
    from sim.embedded_world import WorldSetupError
    from sim.sensor_streams import SensorPortInUseError
    from sim.vehicle_server import SimConfig, SimVehicle

    from .station_sensors import SensorMonitor

    # the station listens first (a free UDP port), then the vehicle's camera streams to it
    monitor = SensorMonitor(video_url="udp://127.0.0.1:0")
    streams = sim = None
    world: dict = {}
    try:
        try:
            setup, start_sensors, seabed_m = prepare_world(
                sensors=True, video=("127.0.0.1", monitor.video_port), oculus_port=0, ping360_port=None,
                world_out=world)
        except WorldSetupError as exc:
            raise UserError(str(exc)) from None
        sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0, seabed_depth_m=seabed_m))
        setup(sim)
        sim.start()
        try:
            streams = start_sensors(sim)
        except SensorPortInUseError as exc:
            raise UserError(f"the embedded world's {exc.kind} port {exc.port} is in use") from None
        monitor.oculus = _oculus_client(streams.oculus_port)
        print(f"embedded world: simulated ArduSub vehicle on tcp:127.0.0.1:{sim.tcp_port} (Ctrl-C to stop)",
              file=sys.stderr, flush=True)
        for line in streams.describe():
            print("  " + line, file=sys.stderr, flush=True)
        station_map = _station_map(world)
        monitor.start_map(station_map)
        print(f"hull map: {len(station_map.samples)} surface patches of {station_map.samples.area_m2.sum():.0f} m2 "
              f"wetted; findings print with their place on the hull", file=sys.stderr, flush=True)
        print(monitor.start_detection(_camera_model()), file=sys.stderr, flush=True)
        print(monitor.start_sonar_detection(_model("sonar.onnx")), file=sys.stderr, flush=True)
        return run_headless(f"tcp:127.0.0.1:{sim.tcp_port}", arm=True, dive_depth_m=DEMO_DEPTH_M,
                            duration_s=duration_s if duration_s is not None else 1e9, keep_armed=False,
                            extra_status=monitor.status, lights=DEMO_LIGHTS, on_vehicle=station_map.start)
    finally:
        monitor.close()
        if streams is not None:
            streams.stop()
        if sim is not None:
            sim.stop()


def _station_map(world: dict):
    from sim.camera_render import CameraConfig

    from .station_map import StationMap

    ew = world["world"]
    return StationMap(world["model"], world["placement"], camera_hfov_deg=CameraConfig().hfov_deg,
                      sonar_tilt_deg=ew.world.sonar_tilt_deg, out=sys.stderr)


def _camera_model():
    from resources import resource_path

    return resource_path("models", "camera.onnx")


def _model(name: str):
    from resources import resource_path

    return resource_path("models", name)


def _oculus_client(port: int):
    from vision.sonar.oculus_client import OculusClient

    return OculusClient("127.0.0.1", port, range_m=20.0).start()
