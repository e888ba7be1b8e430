"""Bad input at the transport level: each gives a LinkError naming the cause, fast."""
import socket
import time

import pytest

from vehicle import LinkError, Vehicle, VehicleNotFound


def _free_port(kind=socket.SOCK_STREAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_udp_port_in_use():
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    try:
        v = Vehicle(f"udpin:127.0.0.1:{holder.getsockname()[1]}")
        with pytest.raises(LinkError, match="already in use"):
            v.open()
        v.close()
    finally:
        holder.close()


def test_tcp_nothing_listening():
    v = Vehicle(f"tcp:127.0.0.1:{_free_port()}")
    t0 = time.monotonic()
    with pytest.raises(LinkError, match="connection refused"):
        v.open()
    assert time.monotonic() - t0 < 5
    v.close()


def test_serial_device_missing():
    v = Vehicle("serial:/dev/hullwatch-no-such-device:115200")
    with pytest.raises(LinkError, match="cannot open serial device /dev/hullwatch-no-such-device"):
        v.open()
    v.close()


def test_tlog_replay_of_missing_file(tmp_path):
    v = Vehicle(f"tlog:{tmp_path / 'missing.tlog'}")
    with pytest.raises(LinkError, match="does not exist"):
        v.open()
    v.close()


def test_vehicle_that_never_answers_times_out_with_reason():
    with Vehicle("udpin:127.0.0.1:0") as v:
        t0 = time.monotonic()
        with pytest.raises(VehicleNotFound) as info:
            v.wait_discovered(0.8)
        assert time.monotonic() - t0 < 3
        assert "heard nothing at all" in str(info.value)
        assert "udpin:127.0.0.1:" in str(info.value)
