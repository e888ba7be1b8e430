"""The embedded world as the station's child process (`hullwatch sim --station-child`).

The station runs its embedded world in a separate process, as a real vehicle is a separate
machine: the simulator's physics, renderers and H.264 encoder then never hold the window's
GIL (bench/bench_gui.py: event-loop lateness p95 56 ms with the world in the window's
process, 15 ms beside it). The child speaks to the station only through the same sockets a
real vehicle uses (MAVLink TCP, RTP video, Oculus TCP, Ping360 UDP), plus a control pipe:

  stdout: JSON lines to the station: {"ready": {...ports...}} once serving; replies
          {"stats": {...}}; {"error": "..."} when it cannot start;
  stdin:  JSON lines from the station: {"fault": NAME, "value": V} (link fault injection,
          sim.faults.FaultInjector's fields), {"stats": true}; end of input (the station
          closed it, or died) stops the vehicle and the sensors and ends the process;
  stderr: human-readable lines for the station's log.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

CHILD_NICE = 10  # below the window's GUI thread; above the station's own workers (nice 15), as a vehicle's own CPU would be
FAULTS = ("loss", "delay_s", "duplicate", "corrupt", "link_down")


def _send(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve_station(config, setup, sensors) -> int:
    """Start the vehicle (TCP on a free port, no UDP) and its sensors, announce the ports,
    then obey the station's commands until its pipe closes."""
    from sim.sensor_streams import SensorPortInUseError
    from sim.vehicle_server import SimVehicle

    if hasattr(os, "nice"):
        try:
            os.nice(CHILD_NICE)
        except OSError:
            pass
    sim = SimVehicle(dataclasses.replace(config, udp_target=None, udp_enabled=False, tcp_port=0))
    setup(sim)
    streams = None
    try:
        sim.start()
        try:
            streams = sensors(sim)
        except SensorPortInUseError as exc:
            _send({"error": f"the embedded world's {exc.kind} port {exc.port} is in use"})
            return 1
        for line in streams.describe():
            print("  " + line, file=sys.stderr, flush=True)
        _send({"ready": {"tcp": sim.tcp_port, "oculus": streams.oculus_port,
                         "ping360": streams.ping360_port, "pid": os.getpid()}})
        for line in sys.stdin:
            _obey(line, sim, streams)
        return 0
    finally:
        if streams is not None:
            streams.stop()
        sim.stop()


def _obey(line: str, sim, streams) -> None:
    try:
        command = json.loads(line)
    except ValueError:
        print(f"station command is not JSON, ignored: {line.strip()[:80]}", file=sys.stderr, flush=True)
        return
    if "fault" in command:
        name = command["fault"]
        if name not in FAULTS:
            print(f"unknown fault {name!r}, ignored (known: {', '.join(FAULTS)})", file=sys.stderr, flush=True)
            return
        setattr(sim.faults, name, type(getattr(sim.faults, name))(command.get("value")))
    if command.get("stats"):
        camera = streams.camera
        _send({"stats": {"camera_frames_sent": camera.frames_sent if camera is not None else None,
                         "dropped_packets": sim.faults.dropped_count}})
