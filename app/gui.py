"""`hullwatch` with no sub-command: the ground station's window on the embedded world, or
on a real vehicle with --connect. Without a display it falls back to the headless station.

--screenshot FILE runs a short simulated mission (arm, lights, depth hold, dive, close in
on the hull) and saves the whole window to FILE after --duration seconds: the picture the
README and the issue ask to be looked at, made by a command rather than kept as a test
artefact.
"""
from __future__ import annotations

import os
import signal
import sys

SCREENSHOT_DEFAULT_S = 30.0
DEMO_DEPTH_M = 2.0
DEMO_LIGHTS = 0.5
DEMO_APPROACH_S = 6.0  # forward at a quarter stick: the hull comes within the camera's useful range
DEMO_APPROACH_X = 250  # MANUAL_CONTROL x, -1000..1000


def display_available() -> bool:
    """Whether Qt can open a window here: a chosen platform plugin, or an X/Wayland display."""
    if sys.platform != "linux":
        return True
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def demo_mission(vehicle, log) -> None:
    """What the screenshot shows: the vehicle armed, lit, holding 2 m and closing on the
    hull. Blocking; run it in a task. Every step waits with a timeout (vehicle layer)."""
    from vehicle import SubMode
    from vehicle.maneuvers import dive_to

    vehicle.wait_discovered(15.0)
    vehicle.manual.keep_alive(True)  # the station is the pilot: neutral sticks, as a gamepad at rest
    vehicle.arm()
    log("demo: armed")
    vehicle.controls.set_lights(DEMO_LIGHTS)
    vehicle.set_mode(SubMode.ALT_HOLD)
    held = dive_to(vehicle, DEMO_DEPTH_M)
    log(f"demo: holding {held:.2f} m")
    vehicle.manual.set_input(x=DEMO_APPROACH_X)
    import time

    time.sleep(DEMO_APPROACH_S)
    vehicle.manual.neutral()
    log("demo: at the hull")


def run_gui(connect_url: str | None = None, duration_s: float | None = None, screenshot: str | None = None,
            settings_path: str | None = None) -> int:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .qt_tasks import run_task
    from .station import EMBEDDED, Station, StationConfig

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("HullWatch")
    app.setOrganizationName("HullWatch")
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
                tasks.append(run_task("demo mission", demo_mission, station.vehicle, window.log_line.emit,
                                      parent=window, on_error=window.log_line.emit))
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
