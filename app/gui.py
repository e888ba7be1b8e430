"""`hullwatch` with no sub-command: the ground station's window on the embedded world, or
on a real vehicle with --connect. Without a display it falls back to the headless station.

--screenshot FILE runs a short simulated mission (arm, lights, fly in GUIDED to look at the
planted container nearest the start) and saves the whole window to FILE after --duration seconds: the picture the
README and the issue ask to be looked at, made by a command rather than kept as a test
artefact.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

SCREENSHOT_DEFAULT_S = 30.0
DEMO_LIGHTS = 0.5  # the camera needs its lamps below the first metres


def display_available() -> bool:
    """Whether Qt can open a window here: a chosen platform plugin, or an X/Wayland display."""
    if sys.platform != "linux":
        return True
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def demo_mission(station, log) -> None:
    """What the screenshot shows: the vehicle armed and lit, flown in GUIDED to look at the
    planted container nearest its start. Blocking; run it in a task. Every wait is bounded."""
    import math

    import numpy as np

    from .fly_to import fly_to, target_for

    vehicle = station.vehicle
    vehicle.wait_discovered(15.0)
    vehicle.arm()
    log("demo: armed")
    vehicle.controls.set_lights(DEMO_LIGHTS)
    ew, placement = station.world["world"], station.world["placement"]
    seen = [o for o in ew.scenario.objects if o.class_name == "parasitic_container" and o.attached_to != "free"
            and o.kind != "sea_chest_package" and math.hypot(*o.normal_h[:2]) > 0.5]
    if not seen:
        log("demo: no container on the ship's side to look at")
        return
    ned = [placement.h_to_ned(np.array([o.center_h]))[0] for o in seen]
    obj = seen[int(np.argmin([math.hypot(p[0], p[1]) for p in ned]))]
    target = target_for(ew.model.queries, placement, obj.center_h)
    log(f"demo: flying in GUIDED to look at {obj.name} ({obj.kind})")
    fly_to(vehicle, target, timeout_s=120.0)
    log("demo: at the container")


def run_gui(connect_url: str | None = None, duration_s: float | None = None, screenshot: str | None = None,
            settings_path: str | None = None) -> int:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from hull.queries import load_open3d

    from .main_window import MainWindow
    from .qt_tasks import run_task
    from .station import EMBEDDED, Station, StationConfig

    load_open3d()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("HullWatch")
    app.setOrganizationName("HullWatch")
    if screenshot is not None and settings_path is None:
        import tempfile

        # the picture shows the default layout, not whatever this user arranged last time
        settings_path = str(Path(tempfile.mkdtemp(prefix="hullwatch-screenshot-")) / "layout.ini")
    settings = QSettings(settings_path, QSettings.IniFormat) if settings_path else None
    station = Station(StationConfig(connect_url=connect_url or EMBEDDED))
    window = MainWindow(station, settings)
    if window.settings.value("geometry") is None:
        window.resize(1600, 1000)
    window.show()
    window.shut_down.connect(app.quit)
    window.start_station()
    if screenshot is not None and station.embedded:
        tasks = []

        def fly() -> None:
            if station.vehicle is not None:
                tasks.append(run_task("demo mission", demo_mission, station, window.log_line.emit,
                                      executor=station.vehicle, parent=window, on_error=window.log_line.emit))
        _when_attached(window, fly)
    if duration_s is not None or screenshot is not None:
        wait_s = duration_s if duration_s is not None else SCREENSHOT_DEFAULT_S

        def finish() -> None:
            if screenshot is not None:
                window.grab().save(screenshot)
                print(f"hullwatch: saved a screenshot of the window to {screenshot}", file=sys.stderr, flush=True)
            window.close()
        QTimer.singleShot(int(wait_s * 1000), finish)
    # Ctrl-C in the terminal closes the window the orderly way; the timer lets Python see it
    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer(window)
    tick.start(200)
    tick.timeout.connect(lambda: None)
    app.exec()
    return 0


def _when_attached(window, fn) -> None:
    """Call fn once the station is up (the bridge exists)."""
    from PySide6.QtCore import QTimer

    poll = QTimer(window)

    def check() -> None:
        if window.bridge is not None:
            poll.stop()
            fn()
    poll.timeout.connect(check)
    poll.start(100)
