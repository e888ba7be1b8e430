"""The headless station: connect, run the requested steps, print telemetry once a second.

Used by `hullwatch connect` and, until the GUI exists, by `hullwatch` itself.
"""
from __future__ import annotations

import sys
import threading
import time

from vehicle import SubMode, Vehicle
from vehicle.events import (ArmedChanged, FailsafeRaised, LinkLost, LinkProblem, LinkRestored,
                            ManualControlChanged, ModeChanged, ReplayFinished, StatusTextReceived,
                            TlogFailed)
from vehicle.maneuvers import dive_to

from .telemetry_line import telemetry_line

def _describe(event) -> str | None:
    if isinstance(event, StatusTextReceived):
        return f"vehicle says: {event.status.text}"
    if isinstance(event, LinkLost):
        return f"LINK LOST: {event.reason}"
    if isinstance(event, LinkRestored):
        return f"link restored after {event.after_s:.1f} s"
    if isinstance(event, LinkProblem):
        return f"link: {event.message}"
    if isinstance(event, FailsafeRaised):
        return f"FAILSAFE {event.kind.upper()}: {event.text}"
    if isinstance(event, ModeChanged):
        return f"mode {event.mode}"
    if isinstance(event, ArmedChanged):
        return "ARMED" if event.armed else "disarmed"
    if isinstance(event, ManualControlChanged) and not event.active:
        return f"manual control: {event.reason}"
    if isinstance(event, TlogFailed):
        return f"RECORDING STOPPED: {event.message}"
    if isinstance(event, ReplayFinished):
        return f"end of replay {event.path}"
    return None


def run_headless(url: str, *, arm: bool = False, mode: str | None = None, dive_depth_m: float | None = None,
                 duration_s: float | None = None, discovery_timeout_s: float = 10.0, tlog: str | None = None,
                 keep_armed: bool = False, out=sys.stdout, err=sys.stderr, extra_status=None,
                 lights: float | None = None, on_vehicle=None) -> int:
    """Returns the exit code; raises VehicleError/LinkError for the CLI to report."""
    started = time.monotonic()
    vehicle = Vehicle(url, tlog_path=tlog)
    vehicle.open()
    unsubscribe = vehicle.events.subscribe(lambda e: (text := _describe(e)) and print(text, file=err, flush=True))
    station_pilot = False
    printer_stop = threading.Event()
    we_armed = False

    def print_lines() -> None:
        while not printer_stop.wait(1.0):
            line = telemetry_line(vehicle.state, vehicle.link_loss_pct(), vehicle.now_s())
            if extra_status is not None:
                line += " | " + extra_status()
            print(line, file=out, flush=True)

    printer = threading.Thread(target=print_lines, name="telemetry printer", daemon=True)
    try:
        state = vehicle.wait_discovered(discovery_timeout_s)
        fw = state.firmware.version or "firmware version not reported yet"
        print(f"connected to {state.vehicle_type} ({state.autopilot}) system {state.system_id} component "
              f"{state.component_id} on {vehicle.link.description}; {fw}", file=err, flush=True)
        if on_vehicle is not None:
            on_vehicle(vehicle)  # e.g. the hull map's pose feeder, once the vehicle is known
        printer.start()
        steps = arm or mode is not None or dive_depth_m is not None or lights is not None
        if arm or dive_depth_m is not None:
            # no gamepad here: the station is the pilot and holds the sticks neutral
            vehicle.manual.keep_alive(True)
            station_pilot = True
        if arm:
            if not vehicle.state.armed:
                vehicle.arm()
                we_armed = True
            print("step: armed (confirmed by heartbeat)", file=err, flush=True)
        if lights is not None:
            level = vehicle.controls.set_lights(lights)
            print(f"step: lights {level * 100:.0f}% (confirmed by the vehicle)", file=err, flush=True)
        if mode is not None:
            reached = vehicle.set_mode(mode)
            print(f"step: mode {reached.name} (confirmed by heartbeat)", file=err, flush=True)
        if dive_depth_m is not None:
            if vehicle.state.custom_mode not in (SubMode.ALT_HOLD, SubMode.GUIDED):
                vehicle.set_mode(SubMode.ALT_HOLD)
                print("step: mode ALT_HOLD for the dive (confirmed)", file=err, flush=True)
            held = dive_to(vehicle, dive_depth_m)
            print(f"step: holding {held:.2f} m (target {dive_depth_m:.2f} m)", file=err, flush=True)
        if duration_s is not None:
            left = duration_s - (time.monotonic() - started)
            _wait(vehicle, left)
        elif not steps:
            _wait(vehicle, None)
        return 0
    finally:
        printer_stop.set()
        if we_armed and not keep_armed and vehicle.state.armed and vehicle.state.link_ok:
            try:
                vehicle.disarm()
                print("disarmed (the station had armed it; --keep-armed leaves it armed)", file=err, flush=True)
            except Exception as exc:  # noqa: BLE001 - report, still close the link
                print(f"could not disarm at exit: {exc}", file=err, flush=True)
        if station_pilot:
            vehicle.manual.keep_alive(False)
        unsubscribe()
        vehicle.close()


def _wait(vehicle: Vehicle, seconds: float | None) -> None:
    deadline = None if seconds is None else time.monotonic() + max(0.0, seconds)
    while deadline is None or time.monotonic() < deadline:
        if vehicle.link.is_replay and getattr(vehicle.link, "finished", False):
            return
        time.sleep(0.1)
