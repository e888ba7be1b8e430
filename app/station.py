"""The station: the composition root that owns every worker of a mission and shuts them
down in order. No Qt: the headless station and the GUI both build on it.

On the embedded world it starts the ship at the berth with its planted objects, the
simulated ArduSub vehicle on a loopback TCP port, and the vehicle's camera (H.264/RTP),
Oculus multibeam and Ping360 streams; then, as for a real vehicle, the station's own video
and sonar readers, live detection with the shipped models and the hull map. By default
the world runs in a child process (app/world_process.py), a separate machine as a real
vehicle is, so its renderers never take the window's GIL; the station builds the same
ship (same seed) for its map. world_process=False keeps it in this process (tests that
reach into the simulator). On a real vehicle it listens for the camera's RTP stream and
maps once a hull is known.

Threads (DESIGN.md): the link's, the video and sonar readers', one detector per sensor,
the hull map's and the pose feeder's. start() blocks for seconds (it builds the world),
so the GUI calls it from a task. close() stops sources -> detectors -> map -> vehicle
-> the embedded world, each join bounded.
"""
from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path

from .errors import UserError

EMBEDDED = "embedded"
REAL_VIDEO_URL = "udp://0.0.0.0:5600"  # where BlueOS sends the camera's RTP stream by default
SONAR_RANGE_M = 20.0


@dataclasses.dataclass(frozen=True)
class StationConfig:
    connect_url: str = EMBEDDED  # or a MAVLink connection string
    video_url: str | None = None  # None: the embedded world's stream, or REAL_VIDEO_URL on a real vehicle
    oculus: tuple[str, int] | None = None  # a real Oculus (host, port); the embedded world has its own
    ping360: tuple[str, int] | None = None  # a real Ping360 (host, UDP port); the embedded world has its own
    camera_model: Path | None = None  # None: resources/models/camera.onnx
    sonar_model: Path | None = None
    detect: bool = True
    tlog_path: Path | None = None
    world_process: bool = True  # the embedded world in a child process; False: in this one
    embedded_camera: bool = True  # False: the child's camera is off (a benchmark streams its own)
    records_dir: Path | None = None  # None: records_root() (HULLWATCH_RECORDS or ~/HullWatch/records)


def records_root(config: StationConfig | None = None) -> Path:
    """Where mission records go: the config's, else $HULLWATCH_RECORDS, else ~/HullWatch/records."""
    import os

    if config is not None and config.records_dir is not None:
        return Path(config.records_dir)
    env = os.environ.get("HULLWATCH_RECORDS")
    return Path(env) if env else Path.home() / "HullWatch" / "records"


def _resource_model(name: str) -> Path:
    from resources import resource_path

    return resource_path("models", name)


class Station:
    def __init__(self, config: StationConfig | None = None, *, log=None):
        self.config = config or StationConfig()
        self._log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.sim = self.streams = None  # the embedded world in this process (world_process=False)
        self.world_proc = None  # app.world_process.WorldProcess: the embedded world in a child process
        self.world: dict = {}  # model, placement, world (sim.embedded_world.EmbeddedWorld) when embedded
        self.monitor = None  # app.station_sensors.SensorMonitor
        self.station_map = None  # app.station_map.StationMap once a hull is known
        self.vehicle = None  # vehicle.Vehicle once open_vehicle() ran
        self.vehicle_url: str | None = None
        self.ping360 = None  # app.station_ping360.StationPing360 when a Ping360 answers
        self.alarm_listeners: list = []  # callables(Alarm), called on detector threads
        self.recording = None  # app.station_recording.StationRecording while a record is open
        self._rec_lock = threading.Lock()  # a record's start and stop, and close(), one at a time
        self._closed = threading.Event()

    def set_log(self, log) -> None:
        """log(text): where progress and the workers' messages go (any thread)."""
        self._log = log

    @property
    def embedded(self) -> bool:
        return self.config.connect_url == EMBEDDED

    # ---- start ----------------------------------------------------------------------
    def start(self, *, open_vehicle: bool = True, progress=None) -> "Station":
        """Build and start everything; progress(fraction, text) is told as it goes.
        Raises UserError naming what could not start (everything started is stopped)."""
        progress = progress or (lambda f, t: None)
        try:
            if self.embedded:
                self._start_world(progress)
            else:
                from .station_sensors import SensorMonitor

                self.monitor = SensorMonitor(video_url=self.config.video_url or REAL_VIDEO_URL,
                                             oculus=self.config.oculus, oculus_range_m=SONAR_RANGE_M)
                self.monitor.alarm_listeners = self.alarm_listeners
                self.vehicle_url = self.config.connect_url
                if self.config.ping360 is not None:
                    self._start_ping360(*self.config.ping360)
                self._start_detection(progress)
            if open_vehicle:
                progress(0.9, "connecting to the vehicle")
                self.open_vehicle()
            progress(1.0, "running")
            return self
        except BaseException:
            self.close()
            raise

    def _start_world(self, progress) -> None:
        from sim.cli import prepare_world
        from sim.embedded_world import WorldSetupError
        from sim.sensor_streams import SensorPortInUseError
        from sim.vehicle_server import SimConfig, SimVehicle

        from .station_sensors import SensorMonitor

        progress(0.05, "building the embedded world (ship, berth, planted objects)")
        # the station listens first (a free UDP port), then the vehicle's camera streams to it
        self.monitor = SensorMonitor(video_url="udp://127.0.0.1:0")
        self.monitor.alarm_listeners = self.alarm_listeners
        if self.config.world_process:
            self._start_world_process(progress)
            return
        try:
            setup, start_sensors, seabed_m = prepare_world(
                sensors=True, video=("127.0.0.1", self.monitor.video_port), oculus_port=0, ping360_port=0,
                world_out=self.world, out=_LogWriter(self._log))
        except WorldSetupError as exc:
            raise UserError(str(exc)) from None
        progress(0.4, "starting the simulated vehicle and its sensors")
        self.sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0, seabed_depth_m=seabed_m))
        setup(self.sim)
        self.sim.start()
        try:
            self.streams = start_sensors(self.sim)
        except SensorPortInUseError as exc:
            raise UserError(f"the embedded world's {exc.kind} port {exc.port} is in use") from None
        from vision.sonar.oculus_client import OculusClient

        self.monitor.oculus = OculusClient("127.0.0.1", self.streams.oculus_port, range_m=SONAR_RANGE_M).start()
        if self.streams.ping360_port is not None:
            self._start_ping360("127.0.0.1", self.streams.ping360_port)
        self.vehicle_url = f"tcp:127.0.0.1:{self.sim.tcp_port}"
        self._log(f"embedded world: simulated ArduSub vehicle on {self.vehicle_url}")
        for line in self.streams.describe():
            self._log("  " + line)
        progress(0.6, "building the hull map")
        self.set_hull(self.world["model"], self.world["placement"])
        self._start_detection(progress)

    def _start_world_process(self, progress) -> None:
        from sim.cli import prepare_world
        from sim.embedded_world import WorldSetupError
        from vision.sonar.oculus_client import OculusClient

        from .world_process import WorldProcess

        # the child builds its world while this process builds the same one for the map
        video = ("127.0.0.1", self.monitor.video_port) if self.config.embedded_camera else None
        self.world_proc = WorldProcess(video, log=self._log, on_exit=self._log).spawn()
        try:
            prepare_world(sensors=True, video=None, oculus_port=None, ping360_port=None,
                          world_out=self.world, out=_LogWriter(lambda text: None))
        except WorldSetupError as exc:
            raise UserError(str(exc)) from None
        progress(0.4, "starting the simulated vehicle and its sensors (a child process)")
        ports = self.world_proc.wait_ready()
        self.monitor.oculus = OculusClient("127.0.0.1", ports["oculus"], range_m=SONAR_RANGE_M).start()
        if ports.get("ping360") is not None:
            self._start_ping360("127.0.0.1", ports["ping360"])
        self.vehicle_url = f"tcp:127.0.0.1:{ports['tcp']}"
        self._log(f"embedded world: simulated ArduSub vehicle on {self.vehicle_url} (process {ports['pid']})")
        progress(0.6, "building the hull map")
        self.set_hull(self.world["model"], self.world["placement"])
        self._start_detection(progress)

    def _start_ping360(self, host: str, port: int) -> None:
        from vision.sonar.ping360_client import Ping360Error

        from .station_ping360 import StationPing360

        try:
            self.ping360 = StationPing360(host, port, log=self._log).start()
            self._log(f"ping360: sweeping {host}:{port}")
        except Ping360Error as exc:
            self.ping360 = None
            self._log(f"ping360 off: {exc}")

    def _start_detection(self, progress) -> None:
        if not self.config.detect:
            return
        progress(0.8, "loading the detection models")
        self._log(self.monitor.start_detection(self.config.camera_model or _resource_model("camera.onnx")))
        self._log(self.monitor.start_sonar_detection(self.config.sonar_model or _resource_model("sonar.onnx")))

    def set_hull(self, model, placement) -> None:
        """Map onto this hull from now on (the embedded world's, or one the planner loaded).
        Call before detection starts: the detectors feed the map they find then."""
        from sim.camera_render import CameraConfig

        from .station_map import StationMap

        if self.station_map is not None:
            self.station_map.close()
        ew = self.world.get("world")
        tilt = ew.world.sonar_tilt_deg if ew is not None else 10.0
        self.station_map = StationMap(model, placement, camera_hfov_deg=CameraConfig().hfov_deg,
                                      sonar_tilt_deg=tilt, out=_LogWriter(self._log))
        self.monitor.start_map(self.station_map)
        if self.vehicle is not None:
            self.station_map.start(self.vehicle)
        self._log(f"hull map: {len(self.station_map.samples)} surface patches of "
                  f"{self.station_map.samples.area_m2.sum():.0f} m2 wetted")

    def open_vehicle(self):
        """Open the MAVLink link (does not wait for the vehicle: its heartbeat shows in the
        state); the hull map starts taking poses from it."""
        from vehicle import Vehicle

        self.vehicle = Vehicle(self.vehicle_url, tlog_path=self.config.tlog_path)
        self.vehicle.open()
        if self.station_map is not None:
            self.station_map.start(self.vehicle)
        return self.vehicle

    # ---- mission records ----------------------------------------------------------------
    def recover_interrupted(self) -> list[str]:
        """Close the records an earlier station left open (killed, power cut); one line each."""
        from recording.errors import RecordError
        from recording.recovery import find_interrupted, recover_record

        lines = []
        for folder in find_interrupted(records_root(self.config)):
            try:
                lines.append(recover_record(folder).describe())
            except RecordError as exc:
                lines.append(f"could not recover {folder.name}: {exc}")
            self._log(lines[-1])
        return lines

    def start_recording(self, info, *, key=None):
        """Open a mission record for this mission (recording.MissionInfo); RecordError names
        what is wrong (bad vessel data, no space, unwritable folder)."""
        with self._rec_lock:
            if self._closed.is_set():
                raise UserError("the station is closing: no new record")
            if self.recording is not None:
                raise UserError(f"already recording to {self.recording.folder}")
            return self._open_record(info, key)

    def _open_record(self, info, key):
        from recording.mission_record import model_identity, software_identity
        from recording.recorder import MissionRecorder

        from .station_recording import StationRecording

        models = {"camera": model_identity(self.config.camera_model or _resource_model("camera.onnx")),
                  "sonar": model_identity(self.config.sonar_model or _resource_model("sonar.onnx"))}
        vehicle = {"url": self.vehicle_url, "embedded": self.embedded}
        if self.vehicle is not None and self.vehicle.state.discovered:
            from .station_recording import jsonable

            vehicle["firmware"] = jsonable(self.vehicle.state.firmware)
        recorder = MissionRecorder(records_root(self.config), info, software=software_identity(), models=models,
                                   vehicle=vehicle, key=key, hull=self._hull_identity())
        self.recording = StationRecording(self, recorder).start()
        self._log(f"recording to {self.recording.folder}")
        return self.recording

    def _hull_identity(self) -> dict | None:
        """The hull the map is made on, so that a record can be re-analysed on it later."""
        if self.station_map is None:
            return None
        from .station_recording import jsonable

        m = self.station_map.model
        from sim.camera_render import CameraConfig

        ew = self.world.get("world")
        return {"name": m.name, "parametric": jsonable(m.parametric), "source_path": m.source_path,
                "sha256": m.sha256, "niche_areas": len(m.niche_areas), "embedded_world": self.embedded,
                "placement": jsonable(self.station_map.placement),
                "sensors": {"camera_hfov_deg": CameraConfig().hfov_deg,
                            "sonar_tilt_deg": ew.world.sonar_tilt_deg if ew is not None else 10.0}}

    def stop_recording(self) -> dict | None:
        """Close and sign the open record; its summary, or None when none was open. A close()
        meanwhile waits for it (the record's final map is read from the running map)."""
        with self._rec_lock:
            rec = self.recording
            if rec is None:
                return None
            try:
                summary = rec.stop()
            finally:
                self.recording = None
        self._log(f"record closed: {summary.get('folder')} ({summary.get('files')} files, "
                  f"{summary.get('bytes', 0) / 1e6:.1f} MB, manifest {str(summary.get('manifest_sha256'))[:16]}…)")
        return summary

    # ---- stop -----------------------------------------------------------------------
    def close(self) -> None:
        """Sources -> detectors -> map (SensorMonitor.close keeps that order) -> vehicle ->
        the embedded world. Safe to call twice and from any thread."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self.recording is not None:
            try:
                self.stop_recording()
            except Exception as exc:  # noqa: BLE001 - the rest must still stop; the record is recovered later
                self._log(f"the record could not be closed ({exc}); it will be recovered at the next start")
        if self.ping360 is not None:
            self.ping360.close()
        if self.monitor is not None:
            self.monitor.close()
        elif self.station_map is not None:
            self.station_map.close()
        if self.vehicle is not None:
            self.vehicle.close()
        if self.streams is not None:
            self.streams.stop()
        if self.sim is not None:
            self.sim.stop()
        if self.world_proc is not None:
            self.world_proc.close()


class _LogWriter:
    """A file-like front for the log callable (prepare_world and StationMap print)."""

    def __init__(self, log):
        self._log = log

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self._log(line)
        return len(text)

    def flush(self) -> None:
        pass
