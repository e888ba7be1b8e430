"""The running embedded vehicle's sensors on loopback, read by the station's own readers:
camera RTP -> VideoSource, Oculus TCP -> OculusClient, the Oculus UDP status."""
from __future__ import annotations

import logging
import math
import socket
import time

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.embedded_world import STANDOFF_M, build_world
from sim.sensor_streams import SensorPortInUseError, SensorStreams, SensorStreamsConfig
from tests.sim.gcs_helper import PilotLoop
from vision.sonar.oculus_client import OculusClient, parse_oculus_status
from vision.video.source import VideoSource

M = mavlink
OFF = dict(video=None, oculus_port=None, ping360_port=None, oculus_status=None)


@pytest.fixture(scope="module")
def ship():
    return build_world()  # the default 120 m ship, starboard side 5 m north of the start


def hull_range_ahead_m(ship, truth) -> float:
    """Distance from the sonar to the hull straight ahead, level, from the truth pose."""
    pose = ship.world.sonar_pose(truth)
    heading = truth.heading_rad
    d_h = ship.world.ned_dir_to_h([math.cos(heading), math.sin(heading), 0.0])
    hits = ship.model.queries.cast_rays(pose.position_h[None, :], d_h[None, :])
    assert hits.hit[0]
    return float(hits.t_m[0])


def echo_range_m(ping) -> float:
    """Where the centre beams' echo starts: first range row above half the profile's peak."""
    mid = ping.n_beams // 2
    profile = ping.intensities[:, mid - 20:mid + 20].astype(float).mean(axis=1)
    smooth = np.convolve(profile, np.ones(5) / 5, mode="same")
    return float(ping.ranges_m[int(np.argmax(smooth > 0.5 * smooth.max()))])


def fresh_ping(client, after_t: float, timeout_s: float = 5.0):
    deadline = time.monotonic() + timeout_s
    while True:
        ping = client.read(timeout_s=max(0.1, deadline - time.monotonic()))
        if ping.t_s > after_t:
            return ping


@pytest.mark.timeout(60)
def test_camera_frames_reach_the_station_with_capture_times(make_sim, ship):
    sim = make_sim(start_depth_m=3.0)
    with VideoSource("udp://127.0.0.1:0") as video:
        cfg = SensorStreamsConfig(**{**OFF, "video": ("127.0.0.1", video.local_port)})
        with SensorStreams(sim, ship.world, cfg) as streams:
            frames = [video.read(timeout_s=10.0) for _ in range(3)]
            assert streams.describe()[0].startswith(f"camera: H.264 RTP/UDP to 127.0.0.1:{video.local_port}")
    assert [f.image.shape for f in frames] == [(480, 640, 3)] * 3
    assert all(f.t_capture_s <= f.t_received_s for f in frames)
    assert frames[0].t_capture_s < frames[1].t_capture_s < frames[2].t_capture_s
    # the hull fills the view 5 m ahead: a real picture, not a flat test pattern
    assert frames[-1].image.std() > 5.0
    assert video.stats().decode_errors == 0


@pytest.mark.timeout(90)
def test_oculus_echo_is_at_the_hull_and_follows_the_vehicle(make_sim, make_gcs, ship):
    sim = make_sim(start_depth_m=3.0, params_overrides={"JS_GAIN_DEFAULT": 1.0})
    cfg = SensorStreamsConfig(**{**OFF, "oculus_port": 0, "oculus_max_ping_rate_hz": 10.0})
    with SensorStreams(sim, ship.world, cfg) as streams, \
            OculusClient("127.0.0.1", streams.oculus_port, range_m=10.0, ping_rate_hz=10) as sonar:
        t0 = time.monotonic()
        ping = fresh_ping(sonar, t0)
        expected = hull_range_ahead_m(ship, sim.truth())
        assert expected == pytest.approx(STANDOFF_M, abs=0.3)
        assert ping.range_m == pytest.approx(10.0)
        assert echo_range_m(ping) == pytest.approx(expected, abs=0.35)

        gcs = make_gcs(sim)
        with PilotLoop(gcs) as pilot:
            assert gcs.arm() == M.MAV_RESULT_ACCEPTED
            pilot.x = 700  # towards the hull
            time.sleep(2.0)
            pilot.x = 0
            time.sleep(1.5)
            t_move = time.monotonic()
            closer = fresh_ping(sonar, t_move)
            truth = sim.truth()
        expected_now = hull_range_ahead_m(ship, truth)
        assert expected_now < expected - 0.5  # it really moved
        assert echo_range_m(closer) == pytest.approx(expected_now, abs=0.4)
        assert sonar.stats().bad_messages == 0


@pytest.mark.timeout(60)
def test_oculus_honours_the_requested_range_mode_and_gain(make_sim, ship):
    sim = make_sim(start_depth_m=3.0)
    cfg = SensorStreamsConfig(**{**OFF, "oculus_port": 0, "oculus_max_ping_rate_hz": 10.0})
    with SensorStreams(sim, ship.world, cfg) as streams, \
            OculusClient("127.0.0.1", streams.oculus_port, range_m=4.0, gain_percent=50) as sonar:
        near = sonar.read(timeout_s=5.0)
        sonar.set_fire(25.0, 80.0, master_mode=1, ping_rate_hz=5)
        deadline = time.monotonic() + 5.0
        far = sonar.read(timeout_s=5.0)
        while far.range_m != 25.0 and time.monotonic() < deadline:
            far = sonar.read(timeout_s=5.0)
    assert near.range_m == pytest.approx(4.0) and near.frequency_hz == pytest.approx(2.1e6)
    assert near.bearings_deg[-1] - near.bearings_deg[0] == pytest.approx(60.0, abs=0.5)
    assert far.range_m == pytest.approx(25.0) and far.frequency_hz == pytest.approx(1.2e6)
    assert far.gain_percent == pytest.approx(80.0) and far.master_mode == 1 and far.ping_rate == 3
    assert far.bearings_deg[-1] - far.bearings_deg[0] == pytest.approx(130.0, abs=0.5)


@pytest.mark.timeout(60)
def test_oculus_server_shrugs_off_garbage_and_bad_fire_messages(make_sim, ship, caplog):
    from vision.sonar.oculus_client import encode_simple_fire

    sim = make_sim()
    cfg = SensorStreamsConfig(**{**OFF, "oculus_port": 0})
    caplog.set_level(logging.WARNING, logger="sim.oculus_server")
    with SensorStreams(sim, ship.world, cfg) as streams:
        with socket.create_connection(("127.0.0.1", streams.oculus_port), timeout=5.0) as raw:
            raw.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)))
            bad = bytearray(encode_simple_fire(5.0))
            bad[16] = 9  # masterMode 9 does not exist
            raw.sendall(bytes(bad))
            raw.settimeout(0.8)
            with pytest.raises(socket.timeout):
                raw.recv(1)  # no valid orders yet: a real Oculus stays silent
            raw.sendall(encode_simple_fire(5.0))
            raw.settimeout(5.0)
            assert raw.recv(2) == b"SO"  # and now it pings
        time.sleep(0.3)
        assert streams.oculus.garbage_bytes >= 256
    assert "are not Oculus messages" in caplog.text
    assert "masterMode 9 unknown" in caplog.text


@pytest.mark.timeout(30)
def test_oculus_status_message_reaches_a_listener(make_sim, ship):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5.0)
    sim = make_sim()
    cfg = SensorStreamsConfig(**{**OFF, "oculus_port": 0, "oculus_status": listener.getsockname()})
    try:
        with SensorStreams(sim, ship.world, cfg):
            status = parse_oculus_status(listener.recv(4096))
    finally:
        listener.close()
    assert status.running and status.device_type == 1 and status.part_number == 1042
    assert status.ip_address == "127.0.0.1"


def test_a_busy_port_is_named_and_nothing_is_left_running(make_sim, ship):
    blocker = socket.create_server(("127.0.0.1", 0))
    sim = make_sim()
    cfg = SensorStreamsConfig(**{**OFF, "oculus_port": blocker.getsockname()[1], "ping360_port": 0})
    try:
        with pytest.raises(SensorPortInUseError) as err:
            SensorStreams(sim, ship.world, cfg).start()
    finally:
        blocker.close()
    assert err.value.kind == "Oculus TCP" and "already in use" in str(err.value)
