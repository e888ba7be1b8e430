"""The embedded world in its own process (app/world_process.py, app/world_child.py): it
serves the vehicle and its sensors on loopback like a real vehicle, obeys fault requests,
reports when it dies, and never outlives the station."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from app.errors import UserError
from app.world_process import WorldProcess
from vehicle import Vehicle

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (ended, not yet reaped by its parent) counts as ended
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _wait(pred, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


@pytest.mark.timeout(300)
def test_the_child_serves_mavlink_video_and_sonar_obeys_faults_and_ends_with_its_pipe():
    video = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    video.bind(("127.0.0.1", 0))
    video.settimeout(30.0)
    world = WorldProcess(video.getsockname(), log=lambda text: None).spawn()
    vehicle = None
    try:
        ports = world.wait_ready()
        assert ports["pid"] == world.pid and world.running
        assert ports["oculus"] and ports["ping360"]
        socket.create_connection(("127.0.0.1", ports["oculus"]), timeout=5.0).close()
        packet, _ = video.recvfrom(65536)
        assert packet[0] >> 6 == 2  # RTP version 2: the camera's H.264 stream
        vehicle = Vehicle(f"tcp:127.0.0.1:{ports['tcp']}")
        vehicle.open()
        assert vehicle.wait_discovered(30.0).vehicle_type == "SUBMARINE"
        world.set_fault("link_down", True)
        assert _wait(lambda: not vehicle.state.link_ok, 15.0), "the link is lost while the vehicle's link is down"
        world.set_fault("link_down", False)
        assert _wait(lambda: vehicle.state.link_ok, 15.0), "and comes back"
        stats = world.stats()
        assert stats is not None and stats["camera_frames_sent"] > 0 and stats["dropped_packets"] > 0
    finally:
        if vehicle is not None:
            vehicle.close()
        pid = world.pid
        code = world.close()
        video.close()
    assert code == 0, "it stops in order when its control pipe closes"
    assert not _alive(pid)


@pytest.mark.timeout(300)
def test_a_child_that_dies_is_reported_with_its_exit_code():
    told = []
    world = WorldProcess(None, log=lambda text: None, on_exit=told.append).spawn()
    try:
        world.wait_ready()
        os.kill(world.pid, signal.SIGKILL)
        assert _wait(lambda: bool(told), 15.0)
        assert "stopped unexpectedly" in told[0] and "exit code -9" in told[0]
        with pytest.raises(UserError, match="not running"):
            world.set_fault("link_down", True)
    finally:
        world.close()


@pytest.mark.timeout(120)
def test_a_child_that_cannot_start_says_why():
    world = WorldProcess(("no-such-host-name", 99999), log=lambda text: None).spawn()
    with pytest.raises(UserError) as err:
        world.wait_ready(timeout_s=60.0)
    assert "stopped while starting (exit code 1)" in str(err.value) and "--video" in str(err.value)


@pytest.mark.timeout(300)
def test_the_child_ends_when_the_station_dies_without_closing_it():
    # a station process that starts its world and is killed outright: no close() runs
    script = textwrap.dedent("""
        import sys, time
        from app.world_process import WorldProcess
        world = WorldProcess(None).spawn()
        print(world.wait_ready()["pid"], flush=True)
        time.sleep(600)
    """)
    station = subprocess.Popen([sys.executable, "-c", script], cwd=str(REPO), stdout=subprocess.PIPE, text=True)
    try:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(station.stdout.readline()), daemon=True)
        reader.start()
        reader.join(180.0)
        assert box and box[0].strip().isdigit(), "the station process reports its world's pid"
        child = int(box[0])
        assert _alive(child)
        station.kill()
        station.wait(10.0)
        assert _wait(lambda: not _alive(child), 20.0), "the world ends once the station is gone"
    finally:
        if station.poll() is None:
            station.kill()
