import io
import socket
import subprocess
import sys
from pathlib import Path

from sim.cli import parse_host_port, run_sim

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
    proc = subprocess.run([sys.executable, "-m", "sim", "--tcp", "0", "--udp", "127.0.0.1:9",
                           "--duration", "1.2"], cwd=REPO, capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert "ArduSub simulator" in proc.stderr
