"""The camera stream in a mission record: real libx264 access units (through the real RTP
packetizer and depacketizer, and once through VideoSource on a loopback UDP port) recorded
to MPEG-TS segments, read back bit-exact, decoded, and survived a kill and a full disk."""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from recording.errors import RecordError  # noqa: E402
from recording.video_record import FLUSH_INTERVAL_S, VideoRecorder  # noqa: E402
from recording.video_replay import VideoRecordReader  # noqa: E402
from sim.video_stream import RtpH264Sender, packetize_h264, split_annexb  # noqa: E402
from vision.video import H264Depacketizer, VideoSource  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
W, H, FPS, GOP = 640, 480, 30, 10
T0_UTC = 1_760_000_000.0


def render(n: int, noise: np.random.Generator | None = None) -> np.ndarray:
    """A gradient with a square moving by 8 px a frame (plus noise: big access units)."""
    x = np.arange(W, dtype=np.int32)
    y = np.arange(H, dtype=np.int32)[:, None]
    img = np.empty((H, W, 3), np.uint8)
    img[..., 0] = (x * 255 // W).astype(np.uint8)
    img[..., 1] = (y * 255 // H).astype(np.uint8)
    img[..., 2] = 90
    x0 = (8 * n) % (W - 60)
    img[200:260, x0:x0 + 60] = (20, 20, 240)
    if noise is not None:
        img = np.clip(img + noise.integers(-24, 24, img.shape), 0, 255).astype(np.uint8)
    return img


def encode(n_frames: int, width: int = W, height: int = H, noise: bool = False) -> list[tuple[bytes, int]]:
    """(Annex-B access unit, 90 kHz timestamp) from libx264 as the vehicle's encoder makes them."""
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.time_base, enc.framerate = Fraction(1, 90_000), Fraction(FPS)
    enc.gop_size, enc.max_b_frames = GOP, 0
    enc.options = {"preset": "ultrafast", "tune": "zerolatency",
                   "x264-params": f"repeat-headers=1:keyint={GOP}:min-keyint={GOP}:scenecut=0"}
    enc.open()
    rng = np.random.default_rng(1) if noise else None
    out = []
    for n in range(n_frames):
        img = render(n, rng)
        if (width, height) != (W, H):
            img = np.ascontiguousarray(img[:height, :width])
        frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
        frame.pts = n * 90_000 // FPS
        out += [(bytes(p), frame.pts) for p in enc.encode(frame)]
    return out


def access_units(encoded, ssrc: int = 0x1234) -> list:
    """The encoder's output through the real RTP packetizer and our depacketizer."""
    depack, seq, aus = H264Depacketizer(96), 100, []
    for data, ts in encoded:
        payloads = packetize_h264(split_annexb(data))
        for i, payload in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            aus += depack.push(struct.pack("!BBHII", 0x80, marker | 96, seq, ts, ssrc) + payload)
            seq += 1
    return aus


def decode_live(aus) -> list[np.ndarray]:
    """What VideoSource shows for each access unit: the same decoder, fed in order."""
    dec = av.CodecContext.create("h264", "r")
    dec.thread_type = "SLICE"
    return [f.to_ndarray(format="bgr24") for au in aus for f in dec.decode(av.Packet(au.data))]


def record(folder: Path, aus, segment_s: float = 1.0) -> VideoRecorder:
    rec = VideoRecorder(folder, segment_s=segment_s)
    for i, au in enumerate(aus):
        rec.write(au, 100.0 + i / FPS, T0_UTC + i / FPS)
    return rec


@pytest.fixture(scope="module")
def clip():
    aus = access_units(encode(75))
    return aus, decode_live(aus)


def test_every_frame_is_kept_bit_exact_in_segments_that_start_at_keyframes(clip, tmp_path):
    aus, live = clip
    rec = record(tmp_path / "video", aus, segment_s=1.0)
    rec.close()
    assert (rec.frames_written, rec.segments, rec.skipped_before_keyframe, rec.damaged) == (75, 3, 0, 0)
    assert rec.bytes_written == sum(len(a.data) for a in aus)

    reader = VideoRecordReader(tmp_path / "video")
    f = reader.frames
    assert reader.frame_count == 75 and reader.partial_lines == 0
    assert f["rtp_timestamp"].tolist() == [a.rtp_timestamp for a in aus]
    assert f["keyframe"].tolist() == [a.keyframe for a in aus]
    assert f["bytes"].tolist() == [len(a.data) for a in aus]
    assert f["segment"].tolist() == [1] * 30 + [2] * 30 + [3] * 15  # 1 s of RTP time, then the next keyframe
    assert reader.duration_s == pytest.approx(74 / FPS, abs=1e-5)
    for k, au in enumerate(aus):  # the evidence: the bytes as received
        assert reader.raw(k) == au.data
    for seg in (1, 2, 3):  # a common player opens each segment on its own
        rows = f[f["segment"] == seg]
        assert rows["keyframe"][0]
        with av.open(str(reader.segment_path(seg))) as c:
            stream = c.streams.video[0]
            assert (stream.codec_context.name, stream.codec_context.width, stream.codec_context.height) == (
                "h264", W, H)
            images = [fr.to_ndarray(format="bgr24") for fr in c.decode(stream)]
        assert len(images) == len(rows)
        assert all(np.array_equal(a, live[n]) for a, n in zip(images, rows["frame"]))


def test_replay_lands_on_the_right_frame_forward_backward_and_in_one_pass(clip, tmp_path):
    aus, live = clip
    record(tmp_path / "video", aus).close()
    reader = VideoRecordReader(tmp_path / "video")

    passed = list(reader.iter_decoded())
    assert [n for n, _, _ in passed] == list(range(75))
    assert all(np.array_equal(img, live[n]) and t == reader.t_utc_s(n) for n, t, img in passed)
    assert [n for n, _, _ in reader.iter_decoded(33, 47)] == list(range(33, 47))  # from mid-GOP, across a segment

    for k in range(75):  # stepping forward
        assert np.array_equal(reader.decode(k), live[k]), k
    for k in range(74, -1, -1):  # stepping back re-decodes from the keyframe
        assert np.array_equal(reader.decode(k), live[k]), k
    for k in (52, 7, 68, 30, 29):
        assert np.array_equal(reader.decode(k), live[k]), k

    t17 = reader.t_utc_s(17)
    assert abs(t17 - (T0_UTC + 17 / FPS)) < 1e-6
    assert reader.frame_at(t17) == 17 and reader.frame_at(t17 - 1e-4) == 16
    assert reader.frame_at(t17 + 0.5 / FPS) == 17  # between frames: the one shown
    assert reader.frame_at(T0_UTC - 1.0) == -1
    assert reader.frame_at(T0_UTC + 100.0) == 74


def test_joining_late_a_sender_restart_and_a_new_resolution_start_new_segments(clip, tmp_path):
    aus, live = clip
    small = access_units(encode(20, 320, 240))
    restart = [dataclasses.replace(a, stream_id=1, rtp_timestamp=a.rtp_timestamp + 5000) for a in aus[:25]]
    resized = [dataclasses.replace(a, stream_id=1, rtp_timestamp=a.rtp_timestamp + 900_000) for a in small]
    stream = aus[3:40] + restart[4:] + resized  # joins mid-GOP, the sender restarts mid-GOP, then 320x240
    rec = record(tmp_path / "video", stream, segment_s=60.0)
    rec.close()
    assert rec.skipped_before_keyframe == 7 + 6
    assert rec.segments == 3 and rec.frames_written == len(stream) - 13

    reader = VideoRecordReader(tmp_path / "video")
    assert np.bincount(reader.frames["segment"]).tolist() == [0, 30, 15, 20]
    sizes = []
    for seg in (1, 2, 3):
        with av.open(str(reader.segment_path(seg))) as c:
            sizes.append((c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height))
    assert sizes == [(W, H), (W, H), (320, 240)]
    assert np.array_equal(reader.decode(0), live[10])
    assert np.array_equal(reader.decode(30), live[10])  # the restarted stream's first keyframe
    assert reader.decode(45).shape == (240, 320, 3)


def test_the_real_socket_path_records_what_videosource_showed(tmp_path, caplog):
    rec = VideoRecorder(tmp_path / "video", segment_s=1.0)
    items: queue.Queue = queue.Queue(maxsize=1000)

    def writer() -> None:  # the recorder's writer thread owns the VideoRecorder
        while (item := items.get(timeout=10.0)) is not None:
            rec.write(*item)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    shown, done = [], threading.Event()

    def viewer() -> None:  # the detector thread: reads the latest-frame slot
        while not done.is_set():
            try:
                shown.append(src.read(timeout_s=0.1))
            except TimeoutError:
                pass

    with VideoSource("udp://127.0.0.1:0") as src:
        src.access_unit_listeners.append(lambda au, t_mono, t_utc: items.put_nowait((au, t_mono, t_utc)))
        src.access_unit_listeners.insert(0, lambda *a: 1 / 0)  # a broken listener must not stop the video
        view = threading.Thread(target=viewer, daemon=True)
        view.start()
        with RtpH264Sender("127.0.0.1", src.local_port, W, H, FPS, gop=GOP) as tx:
            for n in range(45):
                tx.send(render(n))
                time.sleep(1 / FPS)
        deadline = time.monotonic() + 3.0
        while src.stats().frames_decoded < 45 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        done.set()
        view.join(2.0)
        stats = src.stats()
    items.put(None)
    thread.join(10.0)
    rec.close()

    assert stats.rtp.lost_packets == 0 and stats.frames_decoded == 45
    assert sum("listener" in r.getMessage() and "ZeroDivisionError" in (r.exc_text or "") for r in caplog.records) == 1
    assert rec.frames_written == stats.rtp.access_units == 45 and rec.segments >= 2
    reader = VideoRecordReader(tmp_path / "video")
    assert len(shown) >= 40  # a slow test thread may miss a few; each one shown is compared
    for frame in shown:
        assert np.array_equal(reader.decode(frame.index), frame.image), frame.index
    t = reader.frames["t_utc_s"]
    assert np.all(np.diff(t) >= 0) and abs(t[0] - time.time()) < 30
    assert reader.frame_at(float(t[20])) == 20


CHILD = r"""
import os, pickle, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from recording.video_record import VideoRecorder
aus = pickle.loads(Path(sys.argv[2]).read_bytes())
rec = VideoRecorder(Path(sys.argv[3]), segment_s=float(sys.argv[4]))
paced = sys.argv[5] == "paced"
results = []
for i, au in enumerate(aus):
    n = rec.write(au, time.monotonic(), time.time())
    results.append(n)
    if paced:
        print(n, time.monotonic(), flush=True)
        time.sleep(1 / 30)
print("STATS", __import__("json").dumps(dict(disk_full=rec.disk_full, error=rec.error, results=results)), flush=True)
rec.close()
"""


def run_child(tmp_path: Path, aus, folder: Path, segment_s: float, mode: str, preexec=None):
    (tmp_path / "aus.pkl").write_bytes(pickle.dumps(aus))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), str(tmp_path / "aus.pkl"), str(folder),
                             str(segment_s), mode], stdout=subprocess.PIPE, text=True, preexec_fn=preexec)


def test_a_killed_recorder_loses_at_most_the_last_half_second(clip, tmp_path):
    aus, live = clip
    child = run_child(tmp_path, aus, tmp_path / "video", 1.0, "paced")
    written = []
    try:
        while len(written) < 50:
            line = child.stdout.readline()
            assert line, "the recording process ended early"
            written.append(tuple(float(x) for x in line.split()))
        os.kill(child.pid, signal.SIGKILL)
        t_kill = time.monotonic()
    finally:
        child.kill()
        rest = child.communicate(timeout=10)[0]
    written += [tuple(float(x) for x in line.split()) for line in rest.splitlines() if line]

    reader = VideoRecordReader(tmp_path / "video")
    kept = reader.frame_count
    lost = [t for n, t in written if n >= kept]
    assert kept >= 1 and all(t > t_kill - FLUSH_INTERVAL_S - 0.1 for t in lost), (kept, len(written), lost, t_kill)
    for n, t, img in reader.iter_decoded():  # the unfinished segment plays
        assert np.array_equal(img, live[n])
    last = int(reader.frames["segment"][-1])
    with av.open(str(reader.segment_path(last))) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) >= np.count_nonzero(reader.frames["segment"] == last)


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
    resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))


def test_a_full_disk_stops_the_stream_and_keeps_what_was_written(small_disk, tmp_path):
    aus = access_units(encode(45, noise=True))  # ~30 kB an access unit: 1 MiB is full after ~1 s
    folder = (small_disk or tmp_path) / "video"
    child = run_child(tmp_path, aus, folder, 0.5, "paced", None if small_disk else _limit_file_size)
    out = child.communicate(timeout=60)[0]
    stats = json.loads(out.split("STATS ", 1)[1])
    assert stats["disk_full"] and ("No space left" in stats["error"] or "too large" in stats["error"])
    first_none = stats["results"].index(None)
    assert stats["results"][:first_none] == list(range(first_none)) and first_none > 2
    assert set(stats["results"][first_none:]) == {None}  # it stopped for good

    reader = VideoRecordReader(folder)
    assert 0 < reader.frame_count <= first_none
    live = decode_live(aus)
    for k in range(reader.frame_count):
        assert reader.raw(k) == aus[k].data
    assert [n for n, _, _ in reader.iter_decoded()] == list(range(reader.frame_count))
    assert all(np.array_equal(img, live[n]) for n, _, img in reader.iter_decoded(0, 12))


def test_damaged_files_are_named_and_a_crash_cut_last_line_is_tolerated(clip, tmp_path):
    aus, _ = clip
    record(tmp_path / "video", aus).close()
    with pytest.raises(RecordError, match="never overwritten"):
        VideoRecorder(tmp_path / "video")
    index = tmp_path / "video" / "frames.csv"
    index.write_bytes(index.read_bytes()[:-2])  # the last line cut short (what is left still parses)
    reader = VideoRecordReader(tmp_path / "video")
    assert reader.frame_count == 74 and reader.partial_lines == 1

    (tmp_path / "video" / "segment_0002.ts").unlink()
    with pytest.raises(RecordError, match="segment_0002.ts is missing"):
        reader.decode(40)
    seg3 = tmp_path / "video" / "segment_0003.ts"
    seg3.write_bytes(seg3.read_bytes()[:2000])
    with pytest.raises(RecordError, match="segment_0003.ts"):
        list(reader.iter_decoded(60))
    assert np.array_equal(reader.decode(5), clip[1][5])  # the rest still plays

    lines = index.read_text().split("\n")
    lines[10] = lines[10][:12]
    index.write_text("\n".join(lines))
    with pytest.raises(RecordError, match="frames.csv line 11 is damaged"):
        VideoRecordReader(tmp_path / "video")
    with pytest.raises(RecordError, match="missing"):
        VideoRecordReader(tmp_path / "nothing")
