"""Fixtures for the simulator tests; the test GCS lives in gcs_helper."""
from __future__ import annotations

import time

import pytest

from sim.vehicle_server import SimConfig, SimVehicle
from tests.sim.gcs_helper import TestGcs


@pytest.fixture
def make_sim():
    """Factory: make_sim(**SimConfig fields) -> started SimVehicle; always stopped."""
    sims: list[SimVehicle] = []

    def factory(**kwargs) -> SimVehicle:
        kwargs.setdefault("tcp_port", 0)
        sim = SimVehicle(SimConfig(**kwargs))
        sim.start()
        sims.append(sim)
        return sim

    yield factory
    for sim in sims:
        sim.stop()


@pytest.fixture
def make_gcs():
    gcss: list[TestGcs] = []

    def factory(sim: SimVehicle, transport: str = "udp") -> TestGcs:
        gcs = TestGcs(sim, transport)
        gcss.append(gcs)
        if transport == "udp":
            gcs.heartbeat()   # a UDP endpoint only answers peers it has heard from
            time.sleep(0.05)
        return gcs

    yield factory
    for gcs in gcss:
        gcs.close()


@pytest.fixture
def sim_and_gcs(make_sim, make_gcs):
    sim = make_sim()
    gcs = make_gcs(sim)
    gcs.heartbeat()
    return sim, gcs
