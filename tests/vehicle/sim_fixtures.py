"""A simulated ArduSub vehicle on loopback and a station connected to it."""
from __future__ import annotations

import contextlib

from sim.vehicle_server import SimConfig, SimVehicle
from vehicle import Timeouts, Vehicle

TEST_TIMEOUTS = Timeouts(discovery_s=5.0, command_ack_s=1.0, command_retries=2)


@contextlib.contextmanager
def sim_and_station(*, position_estimate: bool = True, params: dict | None = None,
                    timeouts: Timeouts = TEST_TIMEOUTS, tlog_path=None, **sim_kwargs):
    sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0, position_estimate=position_estimate,
                               params_overrides=params or {}, **sim_kwargs))
    sim.start()
    vehicle = Vehicle(f"tcp:127.0.0.1:{sim.tcp_port}", timeouts=timeouts, tlog_path=tlog_path)
    try:
        vehicle.open()
        vehicle.wait_discovered()
        yield sim, vehicle
    finally:
        vehicle.close()
        sim.stop()
