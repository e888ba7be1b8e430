"""The running vehicle's sensors on the network, as a BlueROV2 serves them.

`SensorStreams(sim, world, config)` starts, beside a SimVehicle:
  * the camera: H.264 over RTP/UDP to `video` (default 127.0.0.1:5600), `video_fps` frames
    a second (the renderer manages about 10 on one core);
  * the Oculus multibeam: a TCP server on `oculus_port` (52100) that pings once a client
    has sent a SimpleFire, plus the 1 Hz UDP status message to `oculus_status`;
  * the Ping360: a ping-protocol UDP device on `ping360_port` (12345).
Every sensor reads `sim.truth()` when it fires, turns it into its pose through the World
and renders then, so what it sees follows the vehicle. A port of None leaves that sensor
off; port 0 takes a free one (see the `*_port` properties).
"""
from __future__ import annotations

import dataclasses
import errno
import threading
import time

import numpy as np

from sim.camera_render import CameraConfig
from sim.sonar_render import MultibeamConfig


class SensorPortInUseError(OSError):
    def __init__(self, kind: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"{kind} port {port} is already in use")
        self.kind, self.port = kind, port


# the embedded world's Oculus as the sonar data sets show it (synthetic_dataset._sonar_settings):
# a log display with the hull's grazing return grey and the noise floor near black; the
# station's gain of 50 % is this gain
EMBEDDED_MULTIBEAM = MultibeamConfig(range_bins=512, display_range_db=50.0, gain=10.0, noise_level=3e-4,
                                     receiver_noise=3e-7)


@dataclasses.dataclass(frozen=True)
class SensorStreamsConfig:
    video: tuple[str, int] | None = ("127.0.0.1", 5600)
    video_fps: float = 10.0
    camera: CameraConfig = dataclasses.field(default_factory=CameraConfig)
    oculus_host: str = "127.0.0.1"
    oculus_port: int | None = 52100
    oculus_max_ping_rate_hz: float = 5.0  # the renderer's budget; a real Oculus goes to 15-40
    oculus_status: tuple[str, int] | None = ("127.0.0.1", 52102)
    multibeam: MultibeamConfig = dataclasses.field(default_factory=lambda: EMBEDDED_MULTIBEAM)
    ping360_host: str = "127.0.0.1"
    ping360_port: int | None = 12345
    ping360_realtime: bool = True
    seed: int = 0


class SensorStreams:
    def __init__(self, sim, world, config: SensorStreamsConfig | None = None) -> None:
        self.sim = sim
        self.world = world
        self.config = config or SensorStreamsConfig()
        self.camera = None
        self.oculus = None
        self.ping360 = None
        self._seeds = np.random.SeedSequence(self.config.seed)
        self._rng_local = threading.local()
        # the multibeam and the Ping360 share one ray-casting scene: take turns on it
        self._sonar_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "SensorStreams":
        """Starts every configured sensor; on a busy port stops what started and raises
        SensorPortInUseError."""
        from sim.camera_stream import CameraStream
        from sim.oculus_server import OculusServer
        from sim.ping360_render import Ping360Renderer
        from sim.ping360_server import Ping360Server

        cfg = self.config
        try:
            if cfg.oculus_port is not None:
                try:
                    self.oculus = OculusServer(self._render_multibeam, cfg.oculus_host, cfg.oculus_port,
                                               cfg.oculus_max_ping_rate_hz, cfg.multibeam, cfg.oculus_status)
                except OSError as exc:
                    raise self._busy(exc, "Oculus TCP", cfg.oculus_port) from None
            if cfg.ping360_port is not None:
                self._ping360_renderer = Ping360Renderer(self.world.sonar_scene)
                try:
                    self.ping360 = Ping360Server(self._render_ping360_beam, cfg.ping360_host, cfg.ping360_port,
                                                 realtime=cfg.ping360_realtime)
                except OSError as exc:
                    raise self._busy(exc, "Ping360 UDP", cfg.ping360_port) from None
            if cfg.video is not None:
                cam = cfg.camera
                self.camera = CameraStream(self._capture_camera, cfg.video[0], cfg.video[1], cfg.video_fps,
                                           cam.width, cam.height)
        except BaseException:
            self.stop()
            raise
        for part in (self.oculus, self.ping360, self.camera):
            if part is not None:
                part.start()
        return self

    def stop(self, timeout_s: float = 3.0) -> bool:
        """Stops every sensor (each joins its threads with a timeout); idempotent."""
        ok = True
        deadline = time.monotonic() + timeout_s
        for name in ("camera", "oculus", "ping360"):
            part = getattr(self, name)
            if part is not None:
                ok &= bool(part.stop(max(0.1, deadline - time.monotonic())))
                setattr(self, name, None)
        return ok

    def __enter__(self) -> "SensorStreams":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @staticmethod
    def _busy(exc: OSError, kind: str, port: int) -> OSError:
        return SensorPortInUseError(kind, port) if exc.errno == errno.EADDRINUSE else exc

    # ------------------------------------------------------------------ where
    @property
    def oculus_port(self) -> int | None:
        return self.oculus.port if self.oculus is not None else None

    @property
    def ping360_port(self) -> int | None:
        return self.ping360.port if self.ping360 is not None else None

    def describe(self) -> list[str]:
        """One line per sensor: what is served where."""
        cfg = self.config
        lines = []
        if self.camera is not None:
            host, port = self.camera.address
            lines.append(f"camera: H.264 RTP/UDP to {host}:{port} ({cfg.camera.width}x{cfg.camera.height}, "
                         f"{cfg.video_fps:g} fps)")
        if self.oculus is not None:
            status = (f", status on UDP {cfg.oculus_status[0]}:{cfg.oculus_status[1]}" if cfg.oculus_status else "")
            lines.append(f"multibeam: Oculus protocol on TCP {self.oculus.host}:{self.oculus.port} "
                         f"(pings after a SimpleFire, up to {cfg.oculus_max_ping_rate_hz:g}/s{status})")
        if self.ping360 is not None:
            lines.append(f"scanning sonar: Ping360 ping protocol on UDP {self.ping360.host}:{self.ping360.port}")
        return lines

    # ------------------------------------------------------------------ rendering
    def _rng(self) -> np.random.Generator:
        """One generator per thread: numpy's generators are not thread-safe."""
        rng = getattr(self._rng_local, "rng", None)
        if rng is None:
            rng = self._rng_local.rng = np.random.default_rng(self._seeds.spawn(1)[0])
        return rng

    def _capture_camera(self) -> tuple[np.ndarray, float]:
        truth = self.sim.truth()
        t_capture = time.monotonic()
        cam = self.config.camera
        # the lamps follow the pilot's Lights1 level (0 = off: daylight only, as on a BlueROV2)
        cam = dataclasses.replace(cam, light_power=cam.light_power * float(truth.lights1))
        frame = self.world.render_camera(self.world.camera_pose(truth), cam, self._rng())
        return frame.image, t_capture

    def _render_multibeam(self, config: MultibeamConfig):
        truth = self.sim.truth()
        with self._sonar_lock:
            return self.world.render_sonar(self.world.sonar_pose(truth), config, self._rng())

    def _render_ping360_beam(self, request):
        truth = self.sim.truth()
        # the head sits level on the vehicle, turning about its vertical axis
        pose = self.world.sensor_pose(truth.position_ned_m, truth.attitude_rpy_rad, 0.0)
        with self._sonar_lock:
            return self._ping360_renderer.render(pose.position_h, pose.forward_h, pose.up_h, request, self._rng())
