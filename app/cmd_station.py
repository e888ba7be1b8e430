"""`hullwatch` with no sub-command.

Until the GUI lands this is the headless station: on the embedded world it starts the
simulated vehicle on a loopback TCP port and flies a short scripted check (arm, depth
hold, dive to 2 m) while printing telemetry; with --connect it watches a real vehicle.
"""
from __future__ import annotations

import sys

from .headless_station import run_headless

DEMO_DEPTH_M = 2.0


def run_station(connect_url: str | None = None, duration_s: float | None = None) -> int:
    if connect_url:
        return run_headless(connect_url, duration_s=duration_s)
    from sim.vehicle_server import SimConfig, SimVehicle

    sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0))
    sim.start()
    print(f"embedded world: simulated ArduSub vehicle on tcp:127.0.0.1:{sim.tcp_port} "
          f"(Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        return run_headless(f"tcp:127.0.0.1:{sim.tcp_port}", arm=True, dive_depth_m=DEMO_DEPTH_M,
                            duration_s=duration_s if duration_s is not None else 1e9, keep_armed=False)
    finally:
        sim.stop()
