"""H.264 over RTP/UDP: the simulator's sender against our depacketizer and VideoSource,
over real loopback UDP on ephemeral ports; plus a file read back through PyAV."""
from __future__ import annotations

import os
import random
import socket
import struct
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

av = pytest.importorskip("av")

from sim.video_stream import RtpH264Sender, packetize_h264, split_annexb  # noqa: E402
from vision.video import EndOfStream, H264Depacketizer, VideoSource, parse_rtp  # noqa: E402

W, H, FPS = 640, 480, 30
BITS = 8  # frame number drawn as 8 black/white blocks
BLOCK = 40
BLOCK_Y = 20


# -- synthetic camera ---------------------------------------------------------------
def render(n: int) -> np.ndarray:
    """A moving gradient, the frame number as binary blocks and a colour patch whose
    blue level encodes n."""
    x = np.arange(W, dtype=np.int32)
    y = np.arange(H, dtype=np.int32)[:, None]
    img = np.empty((H, W, 3), np.uint8)
    img[..., 0] = ((x + 8 * n) % 256).astype(np.uint8)
    img[..., 1] = ((y + 4 * n) % 256).astype(np.uint8)
    img[..., 2] = ((x // 2 + y // 2 + 6 * n) % 256).astype(np.uint8)
    for b in range(BITS):
        x0 = 20 + b * (BLOCK + 10)
        img[BLOCK_Y:BLOCK_Y + BLOCK, x0:x0 + BLOCK] = 255 if (n >> b) & 1 else 0
    img[300:380, 260:380] = (patch_blue(n), 128, 64)
    return img


def patch_blue(n: int) -> int:
    return (40 + 3 * n) % 256


def frame_number(img: np.ndarray) -> int:
    n = 0
    for b in range(BITS):
        x0 = 20 + b * (BLOCK + 10)
        if img[BLOCK_Y + 10:BLOCK_Y + BLOCK - 10, x0 + 10:x0 + BLOCK - 10].mean() > 128:
            n |= 1 << b
    return n


def check_content(img: np.ndarray, n: int) -> None:
    mean = img[310:370, 270:370].reshape(-1, 3).mean(axis=0)
    assert abs(mean[0] - patch_blue(n)) < 8 and abs(mean[1] - 128) < 8 and abs(mean[2] - 64) < 8, (n, mean)


# -- helpers --------------------------------------------------------------------------
class Collector:
    """Reads a VideoSource on its own thread, as the detector thread would."""

    def __init__(self, src: VideoSource) -> None:
        self.src = src
        self.frames = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.frames.append(self.src.read(timeout_s=0.2))
            except TimeoutError:
                pass

    def wait_for(self, count: int, timeout_s: float = 3.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.frames) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def finish(self) -> list:
        self.stop.set()
        self.thread.join(2.0)
        assert not self.thread.is_alive()
        return self.frames


def stream(sender: RtpH264Sender, numbers, rendered_at: dict | None = None, between=None) -> None:
    period = 1.0 / FPS
    t_next = time.monotonic()
    for n in numbers:
        img = render(n)
        t = time.monotonic()
        if rendered_at is not None:
            rendered_at[n] = t
        sender.send(img, t_s=t)
        if between is not None:
            between(n)
        t_next += period
        time.sleep(max(0.0, t_next - time.monotonic()))


@pytest.fixture
def source():
    sources = []

    def factory(url: str = "udp://127.0.0.1:0", **kw) -> VideoSource:
        src = VideoSource(url, **kw).start()
        sources.append(src)
        return src

    yield factory
    for src in sources:
        assert src.close(timeout_s=3.0), "reader thread did not stop"


# -- over loopback UDP -------------------------------------------------------------------
def test_sixty_frames_arrive_decoded_in_order_with_latency(source):
    src = source()
    collector = Collector(src)
    rendered_at: dict[int, float] = {}
    with RtpH264Sender("127.0.0.1", src.local_port, W, H, FPS, gop=15) as tx:
        stream(tx, range(60), rendered_at)
    collector.wait_for(60)
    frames = collector.finish()

    numbers = [frame_number(f.image) for f in frames]
    assert len(set(numbers)) >= 57, f"only {len(set(numbers))}/60 frames decoded: {numbers}"
    assert numbers == sorted(numbers)
    for f, n in zip(frames, numbers):
        assert f.image.shape == (H, W, 3) and f.image.dtype == np.uint8
        assert not f.image.flags.writeable
        assert not f.damaged
        assert f.t_capture_s <= f.t_received_s
        check_content(f.image, n)
    captures = [f.t_capture_s for f in frames]
    received = [f.t_received_s for f in frames]
    assert all(b > a for a, b in zip(captures, captures[1:]))
    assert all(b >= a for a, b in zip(received, received[1:]))
    assert [f.index for f in frames] == list(range(len(frames)))
    # the RTP timestamps carry the sender's frame spacing (1/30 s)
    spacing = np.diff(captures)
    assert abs(np.median(spacing) - 1 / FPS) < 0.005

    latency_ms = np.array([(f.t_received_s - rendered_at[n]) * 1000 for f, n in zip(frames, numbers)])
    p50, p95 = np.percentile(latency_ms, [50, 95])
    print(f"\nrender->decoded latency over loopback, {W}x{H}@{FPS}: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {latency_ms.max():.1f} ms")
    stats = src.stats()
    print(f"stats: {stats}")
    assert stats.rtp.lost_packets == 0 and stats.rtp.invalid_datagrams == 0
    assert stats.frames_decoded == len(frames)
    assert p95 < 100


def test_a_receiver_that_gets_nothing_times_out_with_a_clear_message(source):
    src = source()
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match=r"no video frame from udp://.* within 0\.3 s \(no datagrams received"):
        src.read(timeout_s=0.3)
    assert time.monotonic() - t0 < 1.0
    assert src.latest() is None


def test_garbage_datagrams_on_the_port_do_not_crash_it(source):
    src = source()
    collector = Collector(src)
    rng = random.Random(7)
    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = src.local_port

    def spray(_n: int) -> None:
        for _ in range(10):
            kind = rng.random()
            if kind < 0.3:  # random bytes
                data = rng.randbytes(rng.randint(0, 1500))
            elif kind < 0.7:  # RTP v2, PT 96, random SSRC and payload
                data = struct.pack("!BBHII", 0x80 | rng.randint(0, 0x3F), rng.choice([96, 0x80 | 96, 97]),
                                   rng.getrandbits(16), rng.getrandbits(32), rng.getrandbits(32))
                data += rng.randbytes(rng.randint(0, 1400))
            else:  # truncated headers
                data = bytes([0x80]) + rng.randbytes(rng.randint(0, 11))
            junk.sendto(data, ("127.0.0.1", port))

    try:
        with RtpH264Sender("127.0.0.1", port, W, H, FPS) as tx:
            spray(0)
            stream(tx, range(45), between=spray)
    finally:
        junk.close()
    collector.wait_for(45)
    frames = collector.finish()
    numbers = {frame_number(f.image) for f in frames}
    assert len(numbers) >= 40, sorted(numbers)
    stats = src.stats()
    assert stats.running
    assert stats.rtp.invalid_datagrams + stats.rtp.foreign_datagrams > 100
    assert stats.rtp.stream_restarts == 0, "stray datagrams must not replace the stream"


def test_a_sender_restart_is_recovered_without_reopening(source):
    src = source()
    collector = Collector(src)
    with RtpH264Sender("127.0.0.1", src.local_port, W, H, FPS) as first:
        stream(first, range(0, 30))
        ssrc1 = first.ssrc
    time.sleep(0.2)
    with RtpH264Sender("127.0.0.1", src.local_port, W, H, FPS) as second:  # new SSRC, seq, timestamps
        assert second.ssrc != ssrc1
        stream(second, range(100, 130))
    collector.wait_for(60)
    frames = collector.finish()
    before = [frame_number(f.image) for f in frames if f.stream_id == frames[0].stream_id]
    after = [frame_number(f.image) for f in frames if f.stream_id != frames[0].stream_id]
    assert len(before) >= 28 and len(after) >= 28, (before, after)
    assert all(100 <= n < 130 for n in after)
    assert src.stats().rtp.stream_restarts == 1
    captures = [f.t_capture_s for f in frames]
    assert all(b >= a for a, b in zip(captures, captures[1:]))


def test_port_in_use_fails_at_start():
    with VideoSource("udp://127.0.0.1:0") as first:
        with pytest.raises(OSError):
            VideoSource(f"udp://127.0.0.1:{first.local_port}").start()


# -- depacketizer without sockets -----------------------------------------------------
def _encoded_packets(count: int = 20, mtu: int = 1400) -> list[bytes]:
    """RTP datagrams of ``count`` frames, captured from the real sender."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx.settimeout(0.5)
    out = []
    with RtpH264Sender("127.0.0.1", rx.getsockname()[1], W, H, FPS, mtu=mtu) as tx:
        for n in range(count):
            tx.send(render(n), t_s=n / FPS)
            while True:
                try:
                    rx.settimeout(0.05)
                    out.append(rx.recv(65535))
                except socket.timeout:
                    break
    rx.close()
    return out


def test_depacketizer_uses_fu_a_stap_a_and_markers():
    packets = _encoded_packets()
    parsed = [parse_rtp(p) for p in packets]
    types = {p.payload[0] & 0x1F for p in parsed}
    assert 28 in types and 24 in types, types  # FU-A (IDR is larger than the MTU), STAP-A (SPS+PPS)
    assert all(len(p.payload) <= 1400 for p in parsed)
    assert sum(p.marker for p in parsed) == 20
    d = H264Depacketizer()
    aus = [au for p in packets for au in d.push(p)]
    assert len(aus) == 20 and not any(au.damaged for au in aus)
    assert aus[0].keyframe and aus[0].has_parameter_sets
    assert [round((au.rtp_time_s - aus[0].rtp_time_s) * FPS) for au in aus] == list(range(20))
    decoder = av.CodecContext.create("h264", "r")
    images = [f.to_ndarray(format="bgr24") for au in aus for f in decoder.decode(av.Packet(au.data))]
    assert [frame_number(i) for i in images] == list(range(20))


def test_depacketizer_counts_a_lost_packet_and_marks_the_frame_damaged():
    packets = _encoded_packets(5)
    fu_middle = next(i for i, p in enumerate(packets)
                     if parse_rtp(p).payload[0] & 0x1F == 28 and not parse_rtp(p).payload[1] & 0xC0)
    d = H264Depacketizer()
    aus = [au for i, p in enumerate(packets) if i != fu_middle for au in d.push(p)]
    assert d.stats.lost_packets == 1
    assert aus[0].damaged and not aus[-1].damaged
    assert d.stats.damaged_access_units == 1


def test_depacketizer_survives_sequence_and_timestamp_wrap():
    nal = bytes([0x65]) + bytes(range(256)) * 10  # an IDR-typed NAL, fragmented
    d = H264Depacketizer()
    seq, ts, got = 0xFFF0, 0xFFFFFFFF - 3 * 3000, []
    for frame in range(8):
        payloads = packetize_h264([nal], mtu=500)
        for i, pl in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            got += d.push(struct.pack("!BBHII", 0x80, marker | 96, seq, ts, 1234) + pl)
            seq = (seq + 1) & 0xFFFF
        ts = (ts + 3000) & 0xFFFFFFFF
    assert len(got) == 8 and d.stats.lost_packets == 0
    assert all(au.data == b"\x00\x00\x00\x01" + nal for au in got)
    assert np.allclose(np.diff([au.rtp_time_s for au in got]), 3000 / 90000)


def test_depacketizer_fuzz_does_not_raise():
    rng = random.Random(3)
    good = _encoded_packets(5)
    d = H264Depacketizer(payload_type=None)
    for _ in range(3000):
        p = bytearray(rng.choice(good))
        for _ in range(rng.randint(0, 6)):
            p[rng.randrange(len(p))] = rng.getrandbits(8)
        d.push(bytes(p[:rng.randint(0, len(p))]))
    assert d.stats.datagrams == 3000


def test_split_annexb_handles_three_and_four_byte_start_codes():
    data = b"\x00\x00\x00\x01\x67\x01\x02\x00\x00\x01\x68\x03\x00\x00\x00\x01\x65\x04\x05"
    assert split_annexb(data) == [b"\x67\x01\x02", b"\x68\x03", b"\x65\x04\x05"]


# -- files ----------------------------------------------------------------------------
@pytest.mark.parametrize("ext, codec", [("mp4", "libx264"), ("mkv", "libx264"), ("avi", "mpeg4")])
def test_a_video_file_written_with_pyav_is_read_back(tmp_path, ext, codec, source):
    path = os.fspath(tmp_path / f"clip.{ext}")
    count = 45
    with av.open(path, "w") as out:
        st = out.add_stream(codec, rate=FPS)
        st.width, st.height, st.pix_fmt = W, H, "yuv420p"
        if codec == "mpeg4":
            st.bit_rate = 8_000_000
        for n in range(count):
            for pkt in st.encode(av.VideoFrame.from_ndarray(render(n), format="bgr24")):
                out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)

    src = source(path)
    frames = list(src)
    assert len(frames) == count
    assert [frame_number(f.image) for f in frames] == list(range(count))
    for f, n in zip(frames, range(count)):
        check_content(f.image, n)
    times = [f.t_capture_s for f in frames]
    assert times[0] == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(np.diff(times), 1 / FPS, atol=1e-3)
    assert src.stats().frames_dropped == 0
    with pytest.raises(EndOfStream):
        src.read(timeout_s=0.5)


def test_a_missing_file_is_reported(source):
    src = source("/nonexistent/clip.mp4")
    with pytest.raises(Exception, match="failed"):
        src.read(timeout_s=2.0)


def test_realtime_file_playback_paces_by_pts(tmp_path, source):
    path = os.fspath(tmp_path / "clip.mp4")
    with av.open(path, "w") as out:
        st = out.add_stream("libx264", rate=Fraction(FPS))
        st.width, st.height, st.pix_fmt = W, H, "yuv420p"
        for n in range(15):
            for pkt in st.encode(av.VideoFrame.from_ndarray(render(n), format="bgr24")):
                out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)
    src = source(path, realtime=True)
    t0 = time.monotonic()
    frames = list(src)
    elapsed = time.monotonic() - t0
    assert elapsed >= 14 / FPS * 0.9
    assert len(frames) + src.stats().frames_dropped == 15


def _free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_receiver_joining_late_starts_at_the_next_idr(source):
    port = _free_udp_port()
    with RtpH264Sender("127.0.0.1", port, W, H, FPS, gop=15) as tx:
        stream(tx, range(0, 5))  # nobody listening yet
        src = source(f"udp://127.0.0.1:{port}")
        collector = Collector(src)
        stream(tx, range(5, 40))
    collector.wait_for(25)
    frames = collector.finish()
    numbers = [frame_number(f.image) for f in frames]
    assert numbers == list(range(15, 40)), numbers
    assert src.stats().skipped_access_units == 10


def test_a_lost_packet_marks_frames_damaged_until_the_next_idr(source):
    src = source()
    relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay.bind(("127.0.0.1", 0))
    relay.settimeout(0.1)
    dropped_ts = []
    done = threading.Event()
    frame_stamps = []  # the relay numbers frames by their RTP timestamps, not by the clock

    def run_relay() -> None:
        while not done.is_set():
            try:
                data = relay.recv(65535)
            except socket.timeout:
                continue
            pkt = parse_rtp(data)
            if pkt is not None and pkt.timestamp not in frame_stamps:
                frame_stamps.append(pkt.timestamp)
            # a fragment (not the last) of the first P frame from 20 on that is fragmented,
            # so the loss lies between the IDRs at 15 and 30 however the threads are scheduled
            if pkt is not None and not dropped_ts and not pkt.marker and pkt.payload[0] & 0x1F == 28 \
                    and 20 <= frame_stamps.index(pkt.timestamp) < 30:
                dropped_ts.append(pkt.timestamp)
                continue
            relay.sendto(data, ("127.0.0.1", src.local_port))

    thread = threading.Thread(target=run_relay, daemon=True)
    thread.start()
    collector = Collector(src)
    try:
        with RtpH264Sender("127.0.0.1", relay.getsockname()[1], W, H, FPS, gop=15) as tx:
            stream(tx, range(40))
        collector.wait_for(40)
    finally:
        done.set()
        thread.join(1.0)
        relay.close()
    frames = collector.finish()
    assert dropped_ts, "the relay never dropped a packet"
    damaged = [frame_number(f.image) for f in frames if f.damaged]  # concealed: blocks may mislead
    stats = src.stats()
    assert stats.rtp.lost_packets == 1
    assert stats.damaged_frames >= 1
    assert not frames[-1].damaged  # the IDR at frame 30 cleared it
    assert all(not f.damaged for f in frames[:15])
    print(f"\none lost packet: {stats.damaged_frames} frames shown concealed (numbers read: {damaged})")
