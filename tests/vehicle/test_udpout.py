"""udpout: the station sends first, to a vehicle that listens (the simulator answers whoever speaks)."""
from sim.vehicle_server import SimConfig, SimVehicle
from vehicle import Vehicle

from .sim_fixtures import TEST_TIMEOUTS


def test_udpout_reaches_a_listening_vehicle():
    with SimVehicle(SimConfig(udp_target=None, tcp_port=None)) as sim:
        host, port = sim.udp_address
        with Vehicle(f"udpout:{host}:{port}", timeouts=TEST_TIMEOUTS) as v:
            state = v.wait_discovered()
            assert state.vehicle_type == "SUBMARINE"
            v.set_mode("STABILIZE")
            assert sim.truth().mode == "STABILIZE"
