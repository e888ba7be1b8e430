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

from .headless_station import run_headless

DEMO_DEPTH_M = 2.0
DEMO_LIGHTS = 0.5  # the camera needs its lamps below the first metres


def run_station(connect_url: str | None = None, duration_s: float | None = None) -> int:
    if connect_url:
        return run_headless(connect_url, duration_s=duration_s)
    from .station import Station, StationConfig

    station = Station(StationConfig())
    try:
        station.start(open_vehicle=False)
        print("(Ctrl-C to stop)", file=sys.stderr, flush=True)
        return run_headless(station.vehicle_url, arm=True, dive_depth_m=DEMO_DEPTH_M,
                            duration_s=duration_s if duration_s is not None else 1e9, keep_armed=False,
                            extra_status=station.monitor.status, lights=DEMO_LIGHTS,
                            on_vehicle=station.station_map.start)
    finally:
        station.close()
