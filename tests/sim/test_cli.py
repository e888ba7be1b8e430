import io
import socket
import subprocess
import sys
from pathlib import Path

from sim.cli import parse_host_port, prepare_world, run_sim

REPO = Path(__file__).resolve().parents[2]


def test_run_sim_prints_status_lines_and_stops():
    out = io.StringIO()
    assert run_sim(udp="127.0.0.1:9", tcp=0, duration_s=2.1, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("HullWatch ArduSub simulator on UDP")
    assert sum("MANUAL" in line for line in lines[1:]) >= 2


def test_busy_tcp_port_gives_a_one_line_message():
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    out = io.StringIO()
    try:
        assert run_sim(udp=None, tcp=port, duration_s=1.0, out=out) == 1
    finally:
        blocker.close()
    assert out.getvalue().strip() == (
        f"TCP port {port} is already in use: stop the other simulator or pass --tcp PORT")


def test_bad_udp_argument():
    out = io.StringIO()
    assert run_sim(udp="nonsense", tcp=0, duration_s=0.1, out=out) == 2
    assert parse_host_port("10.0.0.2:14550") == ("10.0.0.2", 14550)


def test_python_dash_m_sim_runs():
    proc = subprocess.run([sys.executable, "-m", "sim", "--tcp", "0", "--udp", "127.0.0.1:9", "--no-sensors",
                           "--duration", "1.2"], cwd=REPO, capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert "ArduSub simulator" in proc.stderr


def test_run_sim_serves_the_world_s_sensors_where_it_says():
    """In-process: prepare_world + run_sim with every port picked free; the lines name them."""
    from vision.video.source import VideoSource

    with VideoSource("udp://127.0.0.1:0") as video:
        video_port = video.local_port
        setup, sensors, seabed_m = prepare_world(video=("127.0.0.1", video_port), oculus_port=0,
                                                 ping360_port=0, out=io.StringIO())
        out = io.StringIO()
        assert run_sim(udp=None, tcp=0, duration_s=3.0, out=out, setup=setup, sensors=sensors) == 0
        frame = video.read(timeout_s=1.0)  # frames arrived while it ran
    text = out.getvalue()
    assert seabed_m == 17.0 and frame.image.shape == (480, 640, 3)
    assert f"camera: H.264 RTP/UDP to 127.0.0.1:{video_port}" in text
    assert "multibeam: Oculus protocol on TCP 127.0.0.1:" in text and "status on UDP" not in text
    assert "scanning sonar: Ping360 ping protocol on UDP 127.0.0.1:" in text


def test_busy_sensor_port_gives_a_one_line_message():
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    port = blocker.getsockname()[1]
    out = io.StringIO()
    try:
        setup, sensors, _ = prepare_world(video=None, oculus_port=None, ping360_port=port, out=io.StringIO())
        assert run_sim(udp=None, tcp=0, duration_s=1.0, out=out, setup=setup, sensors=sensors) == 1
    finally:
        blocker.close()
    assert out.getvalue().strip() == (
        f"Ping360 UDP port {port} is already in use: stop the other simulator or pass --ping360-port PORT")
