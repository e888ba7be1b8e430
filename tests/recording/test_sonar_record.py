"""The Oculus multibeam in a mission record: a real sonar's ping (liboculus test data) and the
simulated Oculus over a loopback TCP socket, recorded byte for byte, read back, parsed,
replayed by `hullwatch detect`, and survived a kill, a cut-short file and a full disk."""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from recording.errors import RecordError
from recording.sonar_record import FLUSH_INTERVAL_S, SonarRecorder, SonarRecordReader
from sim.oculus_server import OculusServer
from sim.sonar_render import SonarScene
from tests.hull.shapes import box_mesh
from vision.sonar.oculus import iter_oculus_messages, parse_oculus_ping
from vision.sonar.oculus_client import OculusClient

REPO = Path(__file__).resolve().parents[2]
REAL_PING = REPO.parent / "shared" / "data" / "sonar_oculus" / "one_ping_8bit.raw"
T0_UTC = 1_760_000_000.0


@pytest.fixture(scope="module")
def real_ping() -> bytes:
    if not REAL_PING.exists():
        pytest.skip(f"{REAL_PING} is not present")
    return REAL_PING.read_bytes()


def same_ping(a, b) -> bool:
    return (np.array_equal(a.intensities, b.intensities) and np.array_equal(a.bearings_deg, b.bearings_deg)
            and (a.ping_id, a.range_m, a.frequency_hz) == (b.ping_id, b.range_m, b.frequency_hz))


def test_a_real_sonars_messages_come_back_byte_exact_and_parsed(real_ping, tmp_path):
    rec = SonarRecorder(tmp_path / "sonar", segment_bytes=3 * len(real_ping))
    numbers = [rec.write(real_ping, 50.0 + i / 10, T0_UTC + i / 10) for i in range(8)]
    rec.close()
    assert numbers == list(range(8)) and rec.files == 3 and rec.bytes_written == 8 * len(real_ping)
    assert sorted(p.name for p in (tmp_path / "sonar").iterdir()) == [
        "oculus_0001.oculus", "oculus_0002.oculus", "oculus_0003.oculus", "pings.csv"]

    reader = SonarRecordReader(tmp_path / "sonar")
    assert reader.ping_count == 8 and reader.truncated_messages == 0 and reader.partial_lines == 0
    assert [(p[1], p[2], p[3], p[6]) for p in reader.pings[2:4]] == [
        ("oculus_0001.oculus", 2 * len(real_ping), len(real_ping), 0x23),
        ("oculus_0002.oculus", 0, len(real_ping), 0x23)]
    original = parse_oculus_ping(real_ping)
    for k in range(8):
        assert reader.raw(k) == real_ping
        assert same_ping(reader.ping(k), original) and reader.ping(k).t_s == pytest.approx(T0_UTC + k / 10)
    assert [(n, t) for n, t, _ in reader.iter_pings()] == [(k, pytest.approx(T0_UTC + k / 10)) for k in range(8)]
    assert reader.ping_at(T0_UTC + 0.35) == 3 and reader.ping_at(T0_UTC - 1) == -1 and reader.ping_at(2e9) == 7
    assert reader.duration_s == pytest.approx(0.7)
    assert (tmp_path / "sonar" / "oculus_0002.oculus").read_bytes() == real_ping * 3  # a plain sonar log


@pytest.fixture(scope="module")
def wall_render():
    scene = SonarScene(box_mesh(40.0, 10.0, 8.0))
    rng = np.random.default_rng(0)
    lock = threading.Lock()

    def render(cfg):
        with lock:
            return scene.render((20.0, -9.0, 4.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), cfg, rng)
    return render


@pytest.mark.timeout(60)
def test_the_simulated_sonar_over_tcp_is_recorded_and_hullwatch_detect_reads_it(wall_render, tmp_path, caplog):
    rec = SonarRecorder(tmp_path / "sonar")
    items: queue.Queue = queue.Queue(maxsize=1000)
    heard: list[bytes] = []

    def writer() -> None:  # the recorder's writer thread owns the SonarRecorder
        while (item := items.get(timeout=20.0)) is not None:
            rec.write(*item)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    server = OculusServer(wall_render, port=0, max_ping_rate_hz=10.0).start()
    client = OculusClient("127.0.0.1", server.port, range_m=8.0)
    client.raw_message_listeners.append(lambda raw, t_mono, t_utc: 1 / 0)  # broken: must not stop the sonar
    client.raw_message_listeners.append(lambda raw, t_mono, t_utc: (heard.append(raw), items.put((raw, t_mono, t_utc))))
    try:
        client.start()
        deadline = time.monotonic() + 20.0
        while len(heard) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert client.close(timeout_s=3.0)
        server.stop()
    items.put(None)
    thread.join(10.0)
    rec.close()
    assert len(heard) >= 6 and client.stats().pings_received == len(heard)
    assert sum("listener" in r.getMessage() and "ZeroDivisionError" in (r.exc_text or "") for r in caplog.records) == 1

    reader = SonarRecordReader(tmp_path / "sonar")
    assert reader.ping_count == len(heard) == rec.pings_written
    assert [reader.raw(k) for k in range(len(heard))] == heard
    pings = list(reader.iter_pings())
    assert len(pings) == len(heard)
    for (k, t, ping), raw in zip(pings, heard):
        assert same_ping(ping, parse_oculus_ping(raw)) and ping.range_m == pytest.approx(8.0)
        assert abs(t - time.time()) < 60
    log = tmp_path / "sonar" / "oculus_0001.oculus"
    assert list(iter_oculus_messages(log.read_bytes())) == heard

    out = subprocess.run([sys.executable, "-m", "app.cli", "detect", str(log), "-o", str(tmp_path / "det"),
                          "--no-media"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"sonar: {len(heard)} frames" in out.stdout
    assert (tmp_path / "det" / "detections.jsonl").exists()


CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from recording.sonar_record import SonarRecorder
raw = Path(sys.argv[2]).read_bytes()
rec = SonarRecorder(Path(sys.argv[3]))
results = []
for i in range(int(sys.argv[4])):
    n = rec.write(raw, time.monotonic(), time.time())
    results.append(n)
    print(n, time.monotonic(), flush=True)
    time.sleep(0.05)
print("STATS", __import__("json").dumps(dict(disk_full=rec.disk_full, error=rec.error, results=results)), flush=True)
rec.close()
"""


def run_child(raw_path: Path, folder: Path, count: int, preexec=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), str(raw_path), str(folder), str(count)],
                            stdout=subprocess.PIPE, text=True, preexec_fn=preexec)


def test_a_killed_recorder_loses_at_most_the_last_half_second(tmp_path):
    if not REAL_PING.exists():
        pytest.skip(f"{REAL_PING} is not present")
    child = run_child(REAL_PING, tmp_path / "sonar", 200)
    written = []
    try:
        while len(written) < 30:
            line = child.stdout.readline()
            assert line, "the recording process ended early"
            written.append(tuple(float(x) for x in line.split()))
        os.kill(child.pid, signal.SIGKILL)
        t_kill = time.monotonic()
    finally:
        child.kill()
        rest = child.communicate(timeout=10)[0]
    written += [tuple(float(x) for x in line.split()) for line in rest.splitlines() if line]

    reader = SonarRecordReader(tmp_path / "sonar")
    lost = [t for n, t in written if n >= reader.ping_count]
    assert reader.ping_count >= 1 and all(t > t_kill - FLUSH_INTERVAL_S - 0.1 for t in lost), (reader.ping_count, lost)
    assert all(reader.raw(k) == REAL_PING.read_bytes() for k in range(reader.ping_count))


def test_a_message_cut_short_is_ignored_and_counted_and_damage_is_named(real_ping, tmp_path):
    rec = SonarRecorder(tmp_path / "sonar")
    for i in range(4):
        rec.write(real_ping, float(i), T0_UTC + i)
    rec.close()
    data = tmp_path / "sonar" / "oculus_0001.oculus"
    data.write_bytes(data.read_bytes()[:-1000])  # the crash's last message, half on disk
    reader = SonarRecordReader(tmp_path / "sonar")
    assert reader.ping_count == 3 and reader.truncated_messages == 1
    assert [n for n, _, _ in reader.iter_pings()] == [0, 1, 2]

    index = tmp_path / "sonar" / "pings.csv"
    index.write_text(index.read_text() + "4,oculus_0001.ocu")  # a line cut by the crash
    assert SonarRecordReader(tmp_path / "sonar").partial_lines == 1

    blob = bytearray(data.read_bytes())
    blob[len(real_ping):len(real_ping) + 2] = b"XX"  # message 1 altered
    data.write_bytes(bytes(blob))
    with pytest.raises(RecordError, match=r"oculus_0001.oculus at byte 182016: ping 1 is not"):
        SonarRecordReader(tmp_path / "sonar").ping(1)
    with pytest.raises(RecordError, match="never overwritten"):
        SonarRecorder(tmp_path / "sonar")
    data.unlink()
    with pytest.raises(RecordError, match="oculus_0001.oculus is missing"):
        SonarRecordReader(tmp_path / "sonar")


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB filesystem (tmpfs) when we may mount one; else None: the writer runs under
    RLIMIT_FSIZE (EFBIG). HULLWATCH_TEST_NO_MOUNT=1 forces the fallback."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    try:
        mounted = not os.environ.get("HULLWATCH_TEST_NO_MOUNT") and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True).returncode == 0
    except OSError:  # no mount command
        mounted = False
    if not mounted:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _limit_file_size() -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


def test_a_full_disk_stops_the_stream_and_keeps_what_was_written(real_ping, small_disk, tmp_path):
    folder = (small_disk or tmp_path) / "sonar"
    child = run_child(REAL_PING, folder, 12, None if small_disk else _limit_file_size)
    out = child.communicate(timeout=60)[0]
    stats = json.loads(out.split("STATS ", 1)[1])
    assert stats["disk_full"] and "oculus_0001.oculus" in stats["error"]
    first_none = stats["results"].index(None)
    assert stats["results"][:first_none] == list(range(first_none)) and first_none >= 3
    assert set(stats["results"][first_none:]) == {None}  # it stopped for good

    reader = SonarRecordReader(folder)
    assert 3 <= reader.ping_count <= first_none
    assert all(reader.raw(k) == real_ping for k in range(reader.ping_count))
    assert len(list(reader.iter_pings())) == reader.ping_count
