"""`hullwatch` as users type it: real processes, real sockets, exit codes and messages."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sim.vehicle_server import SimConfig, SimVehicle

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
SMALL_TLOG = DATA / "mavlink" / "small.tlog"
needs_data = pytest.mark.skipif(not SMALL_TLOG.is_file(), reason="../shared/data is not beside the checkout")


def hullwatch(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


def _free_tcp_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _one_line_error(proc) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("hullwatch: error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize("args", [["--help"], ["sim", "--help"], ["connect", "--help"], ["replay", "--help"]])
def test_help(args):
    proc = hullwatch(*args)
    assert proc.returncode == 0
    assert "usage: hullwatch" in proc.stdout


@pytest.mark.parametrize("args", [["connect"], ["connect", "tcp:1.2.3.4:5760", "--dive-to", "-3"],
                                  ["replay"], ["frobnicate"], ["connect", "x", "--duration", "0"]])
def test_bad_arguments_exit_2(args):
    assert hullwatch(*args).returncode == 2


@needs_data
def test_replay_summary_of_real_ardusub_log():
    proc = hullwatch("replay", str(SMALL_TLOG), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["vehicle_type"] == "SUBMARINE"
    assert summary["firmware"] == "ArduSub V4.1.1"
    assert summary["modes"][0]["mode"] == "MANUAL"
    assert summary["total_messages"] == 35912 and summary["bad_crc"] == 4
    text = hullwatch("replay", str(SMALL_TLOG))
    assert text.returncode == 0 and "ArduSub V4.1.1" in text.stdout and "MANUAL" in text.stdout


def test_replay_of_a_file_that_is_not_a_tlog(tmp_path):
    bad = tmp_path / "holiday.tlog"
    bad.write_bytes(os.urandom(5000))
    proc = hullwatch("replay", str(bad))
    assert proc.returncode == 1
    assert "not a telemetry log" in _one_line_error(proc)
    missing = hullwatch("replay", str(tmp_path / "nope.tlog"))
    assert missing.returncode == 1 and "nope.tlog" in _one_line_error(missing)


def test_connect_to_nothing_fails_fast_with_the_reason():
    proc = hullwatch("connect", f"tcp:127.0.0.1:{_free_tcp_port()}", timeout=20)
    assert proc.returncode == 1
    assert "connection refused" in _one_line_error(proc)
    proc = hullwatch("connect", "udpin:127.0.0.1:0", "--timeout", "1", timeout=20)
    assert proc.returncode == 1
    assert "no vehicle on udpin:127.0.0.1:" in _one_line_error(proc)


def test_malformed_connection_string():
    proc = hullwatch("connect", "tcp:localhost")
    assert proc.returncode == 1
    assert "bad connection string" in _one_line_error(proc)


@pytest.mark.timeout(120)
def test_connect_arm_mode_dive_confirmed_by_the_vehicle():
    with SimVehicle(SimConfig(udp_target=None, tcp_port=0)) as sim:
        proc = hullwatch("connect", f"tcp:127.0.0.1:{sim.tcp_port}", "--arm", "--mode", "ALT_HOLD",
                         "--dive-to", "1.5", timeout=100)
        final_armed = sim.truth().armed
    assert proc.returncode == 0, proc.stderr
    assert "step: armed" in proc.stderr and "step: mode ALT_HOLD" in proc.stderr
    assert "step: holding" in proc.stderr
    assert "ALT_HOLD" in proc.stdout and "depth" in proc.stdout  # telemetry lines
    assert not final_armed  # the station disarms what it armed


def test_connect_reports_a_refused_mode():
    with SimVehicle(SimConfig(udp_target=None, tcp_port=0, position_estimate=False)) as sim:
        proc = hullwatch("connect", f"tcp:127.0.0.1:{sim.tcp_port}", "--mode", "POSHOLD", timeout=30)
    assert proc.returncode == 1
    line = _one_line_error(proc)
    assert "set mode POSHOLD rejected by the vehicle: FAILED" in line
    assert "POSHOLD requires position" in line


def test_connect_unknown_mode_name_is_a_bad_argument():
    proc = hullwatch("connect", "tcp:127.0.0.1:5760", "--mode", "TURBO", timeout=30)
    assert proc.returncode == 2
    assert "unknown ArduSub mode 'TURBO'" in proc.stderr and "ALT_HOLD" in proc.stderr


def test_sim_command_runs_and_stops():
    proc = hullwatch("sim", "--tcp", "0", "--udp", "none", "--no-sensors", "--duration", "2", timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "simulator on TCP 127.0.0.1:" in proc.stderr
    assert "MANUAL" in proc.stderr


def test_sim_port_in_use():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        proc = hullwatch("sim", "--tcp", str(holder.getsockname()[1]), "--udp", "none", "--no-sensors",
                         "--duration", "1")
    finally:
        holder.close()
    assert proc.returncode == 1
    assert "already in use" in proc.stderr


@pytest.mark.timeout(120)
def test_default_command_runs_the_station_on_the_embedded_world():
    import re

    proc = hullwatch("--headless", "--duration", "8", timeout=100)
    assert proc.returncode == 0, proc.stderr
    assert "embedded world" in proc.stderr
    assert "camera: H.264 RTP/UDP" in proc.stderr and "multibeam: Oculus protocol" in proc.stderr
    assert "step: lights 50%" in proc.stderr and "step: holding" in proc.stderr
    assert proc.stdout.count("depth") >= 3
    # the station decodes the vehicle's video and reads its sonar, which sees the hull 5 m ahead
    fps = [float(v) for v in re.findall(r"video ([0-9.]+) fps 640x480", proc.stdout)]
    assert fps and max(fps) > 1.0, proc.stdout
    assert "detection: camera.onnx" in proc.stderr and re.search(r"detect [0-9.]+ fps", proc.stdout), proc.stderr
    from resources import resource_path

    if resource_path("models", "sonar.onnx").exists():  # and the sonar's fan images with the sonar model
        assert "sonar detection: sonar.onnx" in proc.stderr, proc.stderr
        assert re.search(r"sonar detect [0-9]+ in view", proc.stdout), proc.stdout
    else:
        assert "sonar detection off: no model" in proc.stderr, proc.stderr
    echoes = [float(v) for v in re.findall(r"echo ([0-9.]+) m", proc.stdout)]
    assert echoes and abs(echoes[-1] - 5.0) < 1.0, proc.stdout
    # the hull map: the sonar's pings, placed with the vehicle's poses, cover the hull 5 m ahead
    assert "hull map:" in proc.stderr, proc.stderr
    seen = re.findall(r"map: seen ([0-9.]+)% of ([0-9]+) m2 \(camera ([0-9.]+)%, sonar ([0-9.]+)%\), ([0-9]+) findings, "
                      r"([0-9]+) map points", proc.stdout)
    assert seen, proc.stdout
    overall, wetted, camera, sonar, findings, points = (float(v) for v in seen[-1])
    assert wetted > 1000 and sonar > 0.5 and overall >= sonar and points > 100, seen[-1]


@pytest.mark.timeout(120)
def test_sim_serves_camera_and_sonars_to_the_station(tmp_path):
    """`hullwatch sim` as a process; the station's own readers take what it serves."""
    import re
    import time

    from sim.scenario import save_scenario
    from sim.embedded_world import build_world
    from vision.sonar.oculus_client import OculusClient
    from vision.sonar.ping360_client import Ping360Client
    from vision.video.source import VideoSource

    scenario = tmp_path / "berth.scenario.json"
    save_scenario(build_world(seed=4).scenario, scenario)
    with VideoSource("udp://127.0.0.1:0") as video:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "sim", "--tcp", "0", "--udp", "none",
                                 "--scenario", str(scenario), "--video", f"127.0.0.1:{video.local_port}",
                                 "--oculus-port", "0", "--ping360-port", "0", "--duration", "20"],
                                cwd=REPO, stderr=subprocess.PIPE, text=True, env=env)
        try:
            lines, ports = [], {}
            deadline = time.monotonic() + 60
            while len(ports) < 2 and time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                lines.append(line)
                if m := re.search(r"Oculus protocol on TCP 127\.0\.0\.1:(\d+)", line):
                    ports["oculus"] = int(m.group(1))
                if m := re.search(r"Ping360 ping protocol on UDP 127\.0\.0\.1:(\d+)", line):
                    ports["ping360"] = int(m.group(1))
            assert len(ports) == 2, "".join(lines)
            assert any("scenario berth.scenario.json (seed 4" in ln for ln in lines), "".join(lines)
            assert video.read(timeout_s=10.0).image.shape == (480, 640, 3)
            with OculusClient("127.0.0.1", ports["oculus"], range_m=10.0) as sonar:
                assert sonar.read(timeout_s=10.0).range_m == pytest.approx(10.0)
            with Ping360Client("127.0.0.1", ports["ping360"]) as ping360:
                ping360.configure(range_m=10.0, number_of_samples=400)
                assert ping360.scan(0, 4, 2).intensities.shape == (3, 400)
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stderr.close()


def test_sim_refuses_a_broken_scenario_in_one_line(tmp_path):
    bad = tmp_path / "bad.scenario.json"
    bad.write_text('{"format": "hullwatch-scenario", "version": 9}')
    proc = hullwatch("sim", "--tcp", "0", "--udp", "none", "--scenario", str(bad), "--duration", "1")
    assert proc.returncode == 1
    assert "version" in _one_line_error(proc)


def test_sim_saves_the_scenario_it_runs_with_its_ground_truth(tmp_path):
    """What a trainer does before a rehearsal: keep the generated scenario and its answer
    sheet; running the saved file again gives the same world."""
    import json

    from sim.scenario import load_scenario

    path = tmp_path / "drill.scenario.json"
    proc = hullwatch("sim", "--tcp", "0", "--udp", "none", "--no-sensors", "--seed", "7", "--save-scenario",
                     str(path), "--duration", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr
    scenario = load_scenario(path)
    truth = json.loads((tmp_path / "drill.truth.json").read_text())
    assert scenario.seed == 7 and len(truth["objects"]) == len(scenario.objects) > 0
    assert {o["name"] for o in truth["objects"]} == {o.name for o in scenario.objects}
    assert all(o["address"]["side"] in ("port", "starboard", "bottom") for o in truth["objects"])
    again = tmp_path / "again.scenario.json"
    proc = hullwatch("sim", "--tcp", "0", "--udp", "none", "--no-sensors", "--scenario", str(path),
                     "--save-scenario", str(again), "--duration", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(again.read_text()) == json.loads(path.read_text())
    proc = hullwatch("sim", "--tcp", "0", "--udp", "none", "--save-scenario", str(tmp_path / "x.json"),
                     "--duration", "1")
    assert proc.returncode == 1 and "NAME.scenario.json" in proc.stderr
