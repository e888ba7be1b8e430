"""Real inputs for recording tests: H.264 access units from libx264 (PyAV), as the
vehicle's camera sends them, and real Oculus messages."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from vision.video.rtp_h264 import AccessUnit

OCULUS_PING = Path(__file__).resolve().parents[3] / "shared" / "data" / "sonar_oculus" / "one_ping_8bit.raw"


def frames(n: int, size=(640, 480), noisy: bool = False, seed: int = 0):
    """A moving square on a gradient (noisy: random texture, which compresses badly)."""
    w, h = size
    rng = np.random.default_rng(seed)
    base = np.tile(np.linspace(0, 200, w, dtype=np.uint8), (h, 1))
    for i in range(n):
        img = np.dstack([base, np.roll(base, i * 7, axis=1), np.full_like(base, 60)])
        if noisy:
            img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        x = (i * 13) % (w - 80)
        img[100:180, x:x + 80] = (20, 220, 240)
        yield np.ascontiguousarray(img)


def access_units(n: int, fps: float = 10.0, size=(640, 480), gop: int = 10, noisy: bool = False,
                 stream_id: int = 0) -> list[AccessUnit]:
    import av

    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height = size
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, 90000)
    ctx.gop_size = gop
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "repeat-headers": "1"}
    out = []
    step = int(round(90000 / fps))
    for i, img in enumerate(frames(n, size, noisy)):
        frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
        frame.pts = i * step
        for packet in ctx.encode(frame):
            data = bytes(packet)
            out.append(AccessUnit(data, int(packet.pts), 0x1234, stream_id, bool(packet.is_keyframe),
                                  b"\x00\x00\x00\x01\x67" in data or b"\x00\x00\x01\x67" in data, False))
    for packet in ctx.encode(None):
        data = bytes(packet)
        out.append(AccessUnit(data, int(packet.pts), 0x1234, stream_id, bool(packet.is_keyframe),
                              b"\x00\x00\x00\x01\x67" in data or b"\x00\x00\x01\x67" in data, False))
    return out


def oculus_message() -> bytes:
    return OCULUS_PING.read_bytes()
