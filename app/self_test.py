"""`hullwatch --self-test`: a short headless check that this installation works, made for
the desktop bundle (a missing library, model or Qt plugin shows up here, not at the quay).

Steps, each printing "self-test: <step>: ok (...)" or "self-test: <step>: FAILED (...)":
- models: both shipped models load (card, SHA-256, classes) and run; the camera model must
  box the planted container in a frame the embedded world renders in front of it.
- vehicle: the embedded vehicle starts on a loopback TCP port; the station's Vehicle
  discovers it and reads one telemetry snapshot.
- libraries: what the station loads lazily (Open3D, PyAV's H.264 decoder, pygame's SDL,
  the Ping360 protocol, Ed25519 signing, SciPy) imports and works.
- qt: the window's modules and every app.qt_* view import, the platform plugins and a
  QtMultimedia backend are present, and a widget draws text on the offscreen platform.
  Runs last and leaves no QApplication behind (unless one existed), so a window can still
  open later in the same process.

Exit code 0 only when every step passed. Every wait is bounded; the whole run takes
~10-20 s on two cores.
"""
from __future__ import annotations

import os
import sys
import time

STANDOFFS_M = (1.5, 1.2, 2.0)  # tried in turn (each container) until the camera model boxes one
MATCH_IOU = 0.3
DISCOVERY_TIMEOUT_S = 10.0
TELEMETRY_TIMEOUT_S = 5.0


class SelfTestError(RuntimeError):
    """A step ran but its result is wrong; the message says what was seen."""


def run_self_test(log=None) -> int:
    """Run every step; print one line per step (to stderr unless `log` is given). Returns
    the exit code: 0 when all passed, 1 otherwise."""
    if log is None:
        def log(line: str) -> None:
            print(line, file=sys.stderr, flush=True)
    t0 = time.monotonic()
    where = getattr(sys, "_MEIPASS", None)
    log(f"self-test: HullWatch {_version()} ({'bundle ' + where if where else 'Python ' + sys.version.split()[0]})")
    failed = []
    for name, step in (("models", _models), ("vehicle", _vehicle), ("libraries", _libraries), ("qt", _qt)):
        t = time.monotonic()
        try:
            detail = step()
        except Exception as exc:  # noqa: BLE001 - every failure becomes the step's one line
            failed.append(name)
            log(f"self-test: {name}: FAILED ({type(exc).__name__}: {exc})")
        else:
            log(f"self-test: {name}: ok ({detail}; {time.monotonic() - t:.1f} s)")
    total = time.monotonic() - t0
    if failed:
        log(f"self-test: FAILED: {', '.join(failed)} ({total:.1f} s)")
        return 1
    log(f"self-test: passed ({total:.1f} s)")
    return 0


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("hullwatch")
    except Exception:  # noqa: BLE001 - a bundle may carry no distribution metadata
        return "(version unknown)"


# ---------------------------------------------------------------- models
def _models() -> str:
    import numpy as np

    from resources import resource_path
    from sim.camera_render import CameraConfig
    from sim.embedded_world import build_world
    from sim.sonar_render import MultibeamConfig
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detections import box_iou

    camera = OnnxDetector(resource_path("models", "camera.onnx"), expected_classes=CLASSES, threads=1)
    sonar = OnnxDetector(resource_path("models", "sonar.onnx"), expected_classes=CLASSES, threads=1)
    ew = build_world()
    targets = [o for o in ew.scenario.objects if o.class_name == "parasitic_container"
               and o.attached_to != "free" and o.kind != "sea_chest_package"]
    if not targets:
        raise SelfTestError("the embedded world planted no container on the hull")
    rng = np.random.default_rng(0)
    cid = CLASSES.index("parasitic_container")
    tried = []
    for obj, standoff in ((o, s) for s in STANDOFFS_M for o in targets):
        frame = ew.world.render_camera(_facing(obj, standoff), CameraConfig(), rng)
        truth = [b for name, _, b in frame.boxes if name == obj.name]
        det = camera(frame.image)
        hit = det.xyxy[det.class_id == cid].astype(float)
        if truth and len(hit) and box_iou(np.array(truth[:1], float), hit).max() >= MATCH_IOU:
            best = float(det.confidence[det.class_id == cid].max())
            break
        tried.append(f"{obj.name} at {standoff:g} m: {len(det)} boxes")
    else:
        raise SelfTestError(f"the camera model boxed no planted container ({'; '.join(tried)})")
    cam_ms = camera.last_timings_ms["inference"]
    fan = _sonar_fan(ew, obj, MultibeamConfig())
    sonar_det = sonar(fan.image)
    names = ", ".join(sorted({CLASSES[int(c)] for c in det.class_id}))
    fan_h, fan_w = fan.image.shape[:2]
    return (f"camera model boxed {obj.name} at {standoff:g} m, confidence {best:.2f} ({len(det)} boxes: {names}; "
            f"{cam_ms:.0f} ms, {len(tried) + 1} frames); sonar model ran on a {fan_w}x{fan_h} fan: "
            f"{len(sonar_det)} boxes ({sonar.last_timings_ms['inference']:.0f} ms)")


def _facing(obj, standoff_m: float):
    """The camera `standoff_m` off the object along its hull normal, looking at it."""
    import numpy as np

    from sim.world import SensorPose

    n = np.asarray(obj.normal_h, float)
    n /= np.linalg.norm(n)
    f = -n
    up = np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.95 else np.array([1.0, 0.0, 0.0])
    return SensorPose(np.asarray(obj.center_h, float) + n * standoff_m, f, up)


def _sonar_fan(ew, obj, cfg):
    """The multibeam's fan image (the sonar model's input) 4 m off the object, looking down a little."""
    import numpy as np

    from sim.world import SensorPose
    from vision.detect.feeder import sonar_frame_in
    from vision.sonar import SonarPing

    pos = np.asarray(obj.center_h, float) + np.asarray(obj.normal_h, float) * 4.0 + np.array([0.0, 0.0, 0.7])
    f = np.asarray(obj.center_h, float) - pos
    f /= np.linalg.norm(f)
    up = np.array([0.0, 0.0, 1.0]) - f * f[2]
    up /= np.linalg.norm(up)
    frame = ew.world.render_sonar(SensorPose(pos, f, up), cfg, np.random.default_rng(0))
    ping = SonarPing(0, 2.1e6, cfg.max_range_m, frame.range_resolution_m, 1500.0, 50.0, frame.bearings_deg,
                     frame.intensities, t_s=time.monotonic())
    return sonar_frame_in()(ping).meta


# ---------------------------------------------------------------- vehicle
def _vehicle() -> str:
    from sim.vehicle_server import SimConfig, SimVehicle
    from vehicle import Timeouts, Vehicle

    from .telemetry_line import telemetry_line

    sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0, udp_enabled=False))
    sim.start()
    vehicle = None
    try:
        vehicle = Vehicle(f"tcp:127.0.0.1:{sim.tcp_port}",
                          timeouts=Timeouts(discovery_s=DISCOVERY_TIMEOUT_S, command_ack_s=1.0, command_retries=2))
        vehicle.open()
        t = time.monotonic()
        state = vehicle.wait_discovered(DISCOVERY_TIMEOUT_S)
        found_s = time.monotonic() - t
        state = vehicle.wait_for(lambda s: s.attitude.t_s is not None and s.depth.depth_m is not None
                                 and s.battery.voltage_v is not None, TELEMETRY_TIMEOUT_S, "telemetry")
        line = telemetry_line(state, vehicle.link_loss_pct(), vehicle.now_s())
        return (f"{state.vehicle_type or '?'} {state.autopilot or '?'} discovered on tcp:127.0.0.1:{sim.tcp_port} "
                f"in {found_s:.1f} s; {' '.join(line.split())}")
    finally:
        if vehicle is not None:
            vehicle.close()
        sim.stop()


# ---------------------------------------------------------------- libraries
def _libraries() -> str:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import av
    import brping
    import cv2
    import numpy as np
    import open3d as o3d
    import pygame
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    av.codec.Codec("h264", "r")  # raises when this FFmpeg has no H.264 decoder
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.random.default_rng(0).random((100, 3))))
    if len(cloud.voxel_down_sample(0.5).points) == 0:
        raise SelfTestError("Open3D returned an empty point cloud")
    key = Ed25519PrivateKey.generate()
    key.public_key().verify(key.sign(b"hullwatch"), b"hullwatch")  # raises InvalidSignature
    if cKDTree(np.eye(3)).query([1.0, 0.0, 0.0])[1] != 0:
        raise SelfTestError("SciPy's KD-tree gave a wrong neighbour")
    connected_components(np.eye(2))
    if brping.definitions.PING360_DEVICE_DATA is None:
        raise SelfTestError("brping has no Ping360 messages")
    sdl = ".".join(str(v) for v in pygame.get_sdl_version())
    return (f"open3d {o3d.__version__}, PyAV {av.__version__} (h264), OpenCV {cv2.__version__}, "
            f"pygame {pygame.version.ver} (SDL {sdl}), brping, cryptography, scipy")


# ---------------------------------------------------------------- qt
def _native_platform() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "cocoa"
    return "xcb"


def _qt() -> str:
    import PySide6
    from PySide6.QtCore import QLibraryInfo
    from PySide6 import QtMultimedia  # noqa: F401 - the alarm sound needs it
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication, QLabel

    plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    platforms = sorted(_plugin_names(os.path.join(plugins, "platforms")))
    for needed in (_native_platform(), "offscreen"):
        if needed not in platforms:
            raise SelfTestError(f"Qt platform plugin {needed!r} missing in {plugins} (found: {platforms})")
    media = sorted(_plugin_names(os.path.join(plugins, "multimedia")))
    if not media:
        raise SelfTestError(f"no QtMultimedia backend in {plugins} (the alarm sound needs one)")
    views = _import_gui_modules()
    app = QApplication.instance()
    own = app is None
    if own:
        # the command-line option, not QT_QPA_PLATFORM: a later window in this process picks its own platform
        app = QApplication([sys.argv[0] if sys.argv else "hullwatch", "-platform", "offscreen"])
    try:
        label = QLabel("HULLWATCH")
        label.setStyleSheet("background: white; color: black; font-size: 24px;")
        label.resize(240, 60)
        img = label.grab().toImage()
        dark = sum(1 for x in range(0, img.width(), 2) for y in range(0, img.height(), 2)
                   if QColor(img.pixel(x, y)).lightness() < 100)
        label.deleteLater()
        if dark == 0:
            raise SelfTestError("a label drew no text (no usable font?)")
        name = app.platformName()
    finally:
        if own:
            app.processEvents()
            app.shutdown()
            del app
    return (f"PySide6 {PySide6.__version__}, {views} GUI modules imported, platforms {', '.join(platforms)}, "
            f"multimedia {', '.join(media)}; text drawn on {name}")


def _import_gui_modules() -> int:
    """Import the window and every app.qt_* view: a Qt module a view needs but the bundle
    lacks fails here rather than when the pilot opens the window."""
    import importlib
    import pkgutil

    import app

    names = ["app.main_window"] + sorted(f"app.{m.name}" for m in pkgutil.iter_modules(app.__path__)
                                         if m.name.startswith("qt_"))
    for name in names:
        importlib.import_module(name)
    if len(names) < 2:
        raise SelfTestError("found no app.qt_* modules to import (a bundle without the GUI?)")
    return len(names)


def _plugin_names(folder: str):
    """Plugin names in a Qt plugin folder: libqxcb.so -> xcb, qwindows.dll -> windows."""
    if not os.path.isdir(folder):
        return []
    out = []
    for f in os.listdir(folder):
        stem, ext = os.path.splitext(f)
        if ext not in (".so", ".dll", ".dylib"):
            continue
        stem = stem[3:] if stem.startswith("lib") else stem
        out.append(stem[1:] if stem.startswith("q") else stem)
    return out


if __name__ == "__main__":
    sys.exit(run_self_test())
