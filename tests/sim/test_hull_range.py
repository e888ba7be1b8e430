"""The embedded vehicle's rangefinder against a real hull mesh, through a real MAVLink link."""
import math

import numpy as np
import pytest

from hull.placement import Placement
from sim.hull_range import ORIENT_DOWN, ORIENT_FORWARD, ORIENT_UP, hull_range_function
from tests.hull.shapes import box_mesh

# a 40 m box ship, bow pointing north, port side to the west, keel 5 m deep, 12 m of water
PLACEMENT = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0.0, draft_m=5.0,
                      berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
BOX = box_mesh(40.0, 10.0, 8.0)


def test_forward_range_is_the_standoff_to_the_hull_side():
    orient = [ORIENT_FORWARD]
    fn = hull_range_function(BOX, PLACEMENT, lambda: orient[0])
    # 3 m east of the starboard side (y = -5 in H is east with the bow north), facing west
    east_of_ship = np.array([20.0, 8.0, 2.0])
    assert fn(east_of_ship, 1.5 * math.pi) == pytest.approx(3.0, abs=1e-3)  # heading west
    assert fn(east_of_ship, 0.0) is None  # facing north along the ship: nothing ahead
    orient[0] = ORIENT_UP
    under_keel = np.array([20.0, 0.0, 8.0])  # 3 m below the keel
    assert fn(under_keel, 0.0) == pytest.approx(3.0, abs=1e-3)
    orient[0] = ORIENT_DOWN
    assert fn(under_keel, 0.0) == pytest.approx(4.0, abs=1e-3)  # the seabed at 12 m


def test_embedded_vehicle_reports_hull_distance_over_mavlink():
    from sim.vehicle_server import SimConfig, SimVehicle
    from vehicle import Timeouts, Vehicle

    with SimVehicle(SimConfig(udp_target=None, tcp_port=0, start_depth_m=8.0,
                              params_overrides={"RNGFND1_ORIENT": ORIENT_UP})) as sim:
        sim.set_range_function(hull_range_function(BOX, PLACEMENT, lambda: sim.param("RNGFND1_ORIENT")))
        # the vehicle starts at the EKF origin = H0's NED position: under the stern, 3 m below the keel
        with Vehicle(f"tcp:127.0.0.1:{sim.tcp_port}", timeouts=Timeouts(discovery_s=5)) as v:
            v.wait_discovered()
            state = v.wait_for(lambda s: s.distance is not None, 5, "distance sensor")
            assert state.distance.orientation == ORIENT_UP
            assert state.distance.distance_m == pytest.approx(3.0, abs=0.1)
