"""Ping360: the simulated device (ping protocol over UDP, brping framing) scanned by the
station's client, against a known geometry and from the running vehicle."""
from __future__ import annotations

import logging
import math
import socket
import time

import numpy as np
import pytest

from sim.ping360_render import BeamRequest, Ping360Renderer
from sim.ping360_server import Ping360Server
from sim.sonar_render import SonarScene
from tests.hull.shapes import box_mesh
from vision.sonar.ping360_client import Ping360Client, Ping360Error, sample_period_ticks

# a 40 x 10 x 8 m box; the head 4 m off its starboard side (y = -5), facing it (+y), level
POSE = ((20.0, -9.0, 4.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


@pytest.fixture(scope="module")
def renderer():
    return Ping360Renderer(SonarScene(box_mesh(40.0, 10.0, 8.0)))


@pytest.fixture
def device(renderer):
    rng = np.random.default_rng(1)
    server = Ping360Server(lambda req: renderer.render(*POSE, req, rng), port=0).start()
    yield server
    assert server.stop()


def first_echo_m(ranges, row, threshold=80):
    above = np.flatnonzero(row >= threshold)
    return float(ranges[above[0]]) if len(above) else None


@pytest.mark.timeout(60)
def test_scan_of_a_wall_matches_the_geometry(device):
    with Ping360Client("127.0.0.1", device.port) as sonar:
        sonar.configure(range_m=16.0, number_of_samples=800, gain_setting=1)
        scan = sonar.scan(350, 450, 10)  # -45 deg .. +45 deg across the wall
    assert scan.intensities.shape == (11, 800) and scan.intensities.dtype == np.uint8
    assert list(scan.angles_grad) == [350, 360, 370, 380, 390, 0, 10, 20, 30, 40, 50]
    assert np.all(np.diff(scan.t_s) > 0)
    assert scan.range_m == pytest.approx(16.0, rel=0.01)
    for angle, row in zip(scan.angles_deg, scan.intensities):
        theta = math.radians(angle if angle < 180 else angle - 360)
        expected = 4.0 / math.cos(theta)  # the flat side of the box
        assert first_echo_m(scan.ranges_m, row, threshold=40) == pytest.approx(expected, abs=0.25), angle
    # the wall's echo shadows the far side of the box (14 m ahead): nothing comes back from there
    beyond = (scan.ranges_m > 9.0)
    centre = scan.intensities[list(scan.angles_grad).index(0)]
    assert centre[beyond].max() < centre[scan.ranges_m < 9.0].max() / 3


def test_beam_away_from_everything_is_only_noise(renderer):
    rng = np.random.default_rng(0)
    req = BeamRequest(200, 600, sample_period_ticks(10.0, 600))  # facing away from the box, no seabed
    samples = renderer.render(*POSE, req, rng)
    assert samples.shape == (600,) and samples.max() < 40
    near = renderer.render(*POSE, BeamRequest(0, 600, sample_period_ticks(10.0, 600), gain_setting=0), rng)
    loud = renderer.render(*POSE, BeamRequest(0, 600, sample_period_ticks(10.0, 600), gain_setting=2), rng)
    assert loud.astype(int).sum() > near.astype(int).sum()  # the gain setting matters


@pytest.mark.timeout(30)
def test_device_refuses_bad_settings_and_drops_garbage(device, caplog):
    from brping import Ping360, definitions

    caplog.set_level(logging.WARNING, logger="sim.ping360_server")
    dev = Ping360()
    dev.connect_udp("127.0.0.1", device.port)
    try:
        assert dev.initialize()
        dev.control_transducer(1, 1, 0, 32, 80, 750, 5000, 1, 0)
        nack = dev.wait_message([definitions.COMMON_NACK, definitions.PING360_DEVICE_DATA], 4.0)
        assert nack is not None and nack.message_id == definitions.COMMON_NACK
        assert b"number_of_samples 5000 outside 200..1200" in bytes(nack.nack_message)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.sendto(b"\x00\x01 definitely not a ping message", ("127.0.0.1", device.port))
        good = bytearray(b"BR\x02\x00\x06\x00\x00\x00\x05\x00")  # general_request for protocol_version
        bad = good + (sum(good) + 1).to_bytes(2, "little")  # off-by-one checksum
        raw.sendto(bytes(bad), ("127.0.0.1", device.port))
        raw.close()
        time.sleep(0.5)
        assert device.garbage_bytes > 0 and device.bad_checksums == 1
        assert dev.get_protocol_version() is not None  # still answering
    finally:
        dev.iodev.close()
    assert "not ping-protocol messages" in caplog.text and "bad checksum" in caplog.text


def test_client_explains_an_absent_device_and_impossible_ranges():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(Ping360Error, match="no Ping360 answered"):
        Ping360Client("127.0.0.1", port).connect()
    with pytest.raises(ValueError, match="outside 80..40000"):
        sample_period_ticks(1000.0, 200)  # 1 km over 200 samples needs a longer period than exists
    with pytest.raises(ValueError, match="outside 80..40000"):
        sample_period_ticks(0.5, 1200)  # and 0.5 m over 1200 samples a shorter one


@pytest.mark.timeout(90)
def test_running_vehicle_scans_the_ship_beside_it():
    from sim.embedded_world import STANDOFF_M, build_world
    from sim.sensor_streams import SensorStreams, SensorStreamsConfig
    from sim.vehicle_server import SimConfig, SimVehicle

    ship = build_world()
    cfg = SensorStreamsConfig(video=None, oculus_port=None, oculus_status=None, ping360_port=0)
    with SimVehicle(SimConfig(udp_target=None, tcp_port=0, start_depth_m=3.0)) as sim, \
            SensorStreams(sim, ship.world, cfg) as streams, Ping360Client("127.0.0.1", streams.ping360_port) as sonar:
        assert "Ping360 ping protocol on UDP" in streams.describe()[0]
        sonar.configure(range_m=12.0, number_of_samples=600)
        scan = sonar.scan(390, 410, 10)
    ahead = scan.intensities[list(scan.angles_grad).index(0)]
    assert first_echo_m(scan.ranges_m, ahead, threshold=40) == pytest.approx(STANDOFF_M, abs=0.3)
