"""The station's Oculus network client against the simulated sonar and against a sonar
that sends broken bytes: real loopback sockets, real renders."""
from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest

from sim.oculus_server import OculusServer, decode_fire
from sim.sonar_render import SonarScene
from tests.hull.shapes import box_mesh
from vision.sonar.oculus import encode_oculus_ping
from vision.sonar.oculus_client import OculusClient, encode_simple_fire, ping_rate_code


@pytest.fixture(scope="module")
def wall_render():
    """A 40 m box hull; the sonar 4 m off its side, looking at it."""
    scene = SonarScene(box_mesh(40.0, 10.0, 8.0))
    rng = np.random.default_rng(0)
    lock = threading.Lock()

    def render(cfg):
        with lock:
            return scene.render((20.0, -9.0, 4.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), cfg, rng)
    return render


def test_fire_message_is_what_the_sonar_reads():
    fire = decode_fire(encode_simple_fire(12.5, 40.0, master_mode=1, ping_rate=ping_rate_code(15)))
    assert (fire.master_mode, fire.ping_rate, fire.range_m, fire.gain_percent) == (1, 1, 12.5, 40.0)
    assert fire.flags & 0x01  # range in metres
    assert ping_rate_code(3) == 3 and ping_rate_code(0) == 5 and ping_rate_code(100) == 2
    with pytest.raises(ValueError, match="master_mode"):
        encode_simple_fire(5.0, master_mode=3)


@pytest.mark.timeout(60)
def test_client_reads_pings_and_survives_a_server_restart(wall_render):
    server = OculusServer(wall_render, port=0, max_ping_rate_hz=10.0).start()
    port = server.port
    client = OculusClient("127.0.0.1", port, range_m=8.0, reconnect_delay_s=0.2).start()
    try:
        first = client.read(timeout_s=5.0)
        assert first.range_m == pytest.approx(8.0)
        mid = first.n_beams // 2
        assert first.ranges_m[int(np.argmax(first.intensities[:, mid]))] == pytest.approx(4.0, abs=0.3)
        assert server.stop()
        deadline = time.monotonic() + 5.0
        while client.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "lost" in client.status or "cannot connect" in client.status
        with pytest.raises(TimeoutError, match="no Oculus ping"):
            while True:  # drain what arrived before the stop, then time out on the dead link
                client.read(timeout_s=0.5)
        server = OculusServer(wall_render, port=port, max_ping_rate_hz=10.0).start()
        again = client.read(timeout_s=10.0)
        assert again.range_m == pytest.approx(8.0) and again.t_s > first.t_s
        stats = client.stats()
        assert stats.connects == 2 and stats.fires_sent >= 2 and stats.bad_messages == 0
    finally:
        assert client.close(timeout_s=3.0)
        server.stop()


@pytest.mark.timeout(30)
def test_garbage_and_corrupt_pings_are_counted_and_reported():
    """A sonar (not the sim) whose stream carries junk and a ping with an impossible size."""
    from vision.sonar.oculus import SonarPing

    good = encode_oculus_ping(SonarPing(1, 1.2e6, 5.0, 0.05, 1500.0, 50.0, np.linspace(-10, 10, 8),
                                        np.full((100, 8), 7, np.uint8)))
    corrupt = bytearray(good)
    corrupt[114:118] = (12345).to_bytes(4, "little")  # imageSize that fits nothing
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5.0)
    fired = threading.Event()

    def fake_sonar():
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5.0)
            if conn.recv(1024)[:2] == b"SO":
                fired.set()
            conn.sendall(b"\x00garbage\xffSO" + bytes(corrupt) + b"more junk" + good)
            time.sleep(1.0)

    thread = threading.Thread(target=fake_sonar, daemon=True)
    thread.start()
    with OculusClient("127.0.0.1", listener.getsockname()[1], reconnect_delay_s=5.0) as client:
        ping = client.read(timeout_s=5.0)
        stats = client.stats()
    thread.join(3.0)
    listener.close()
    assert fired.is_set()
    assert ping.range_m == pytest.approx(5.0) and int(ping.intensities[0, 0]) == 7
    assert stats.bad_messages == 1 and stats.skipped_bytes > 0
    assert "bad ping" in stats.last_error or "not Oculus messages" in stats.last_error


@pytest.mark.timeout(20)
def test_no_sonar_gives_a_clear_status_and_a_bounded_wait():
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with OculusClient("127.0.0.1", port, connect_timeout_s=0.5, reconnect_delay_s=0.2) as client:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match="cannot connect"):
            client.read(timeout_s=1.0)
        assert time.monotonic() - t0 < 2.0
    assert client.stats().connects == 0
