"""The simulated vehicle's camera stream: H.264 over RTP/UDP, like a BlueOS vehicle.

``RtpH264Sender`` encodes numpy BGR frames with libx264 through a PyAV ``CodecContext``
(preset ultrafast, tune zerolatency, SPS/PPS repeated in-band before every IDR) and
packetizes the NAL units itself (RFC 6184: STAP-A for runs of small NALs, FU-A for NALs
larger than the MTU, marker bit on the last packet of an access unit, payload type 96,
90 kHz timestamps, random SSRC and initial sequence number).

    with RtpH264Sender("127.0.0.1", 5600, width=640, height=480, fps=30) as tx:
        tx.send(frame_bgr)

libx264 is GPL; PyAV's wheels bundle an FFmpeg built with it.
"""
from __future__ import annotations

import random
import socket
import struct
import time
from fractions import Fraction

import cv2
import numpy as np

RTP_CLOCK_HZ = 90_000
PAYLOAD_TYPE = 96
MTU_PAYLOAD = 1400  # bytes of RTP payload per datagram (well under a 1500-byte Ethernet MTU)
NAL_STAP_A = 24
NAL_FU_A = 28


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex-B byte stream (3- or 4-byte start codes) into NAL units."""
    positions: list[tuple[int, int]] = []  # (start-code position, NAL position)
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        positions.append((i - 1 if i > 0 and data[i - 1] == 0 else i, i + 3))
        i = data.find(b"\x00\x00\x01", i + 3)
    nals = []
    for k, (_, nal_start) in enumerate(positions):
        end = positions[k + 1][0] if k + 1 < len(positions) else len(data)
        nal = data[nal_start:end]
        if nal:
            nals.append(nal)
    return nals


def packetize_h264(nals: list[bytes], mtu: int = MTU_PAYLOAD) -> list[bytes]:
    """RTP payloads for one access unit: single NAL, STAP-A (runs of small NALs) or FU-A."""
    payloads: list[bytes] = []
    group: list[bytes] = []  # small NALs waiting to be aggregated

    def flush_group() -> None:
        if len(group) == 1:
            payloads.append(group[0])
        elif group:
            nri = max(n[0] & 0x60 for n in group)
            payloads.append(bytes([nri | NAL_STAP_A]) + b"".join(struct.pack("!H", len(n)) + n for n in group))
        group.clear()

    for nal in nals:
        if len(nal) > mtu:
            flush_group()
            header = nal[0]
            indicator = (header & 0xE0) | NAL_FU_A
            body = nal[1:]
            chunk = mtu - 2
            for pos in range(0, len(body), chunk):
                fu = header & 0x1F
                if pos == 0:
                    fu |= 0x80
                if pos + chunk >= len(body):
                    fu |= 0x40
                payloads.append(bytes([indicator, fu]) + body[pos:pos + chunk])
            continue
        stap_size = 1 + sum(2 + len(n) for n in group) + 2 + len(nal)
        if group and stap_size > mtu:
            flush_group()
        group.append(nal)
    flush_group()
    return payloads


class RtpH264Sender:
    """Encodes BGR frames to H.264 and sends them as RTP to host:port over UDP."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5600, width: int = 640, height: int = 480,
                 fps: float = 30.0, gop: int = 15, bitrate: int = 2_000_000,
                 payload_type: int = PAYLOAD_TYPE, mtu: int = MTU_PAYLOAD) -> None:
        import av  # PyAV: imported here so `import sim` stays light

        self.address = (host, port)
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.payload_type = payload_type
        self.mtu = mtu
        self.ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts0 = random.getrandbits(32)
        self._t0: float | None = None
        self._last_rtp_ts: int | None = None
        self.frames_sent = 0
        self.packets_sent = 0
        self.bytes_sent = 0
        self.send_errors = 0

        self._av = av
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height = self.width, self.height
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = Fraction(1, RTP_CLOCK_HZ)
        ctx.framerate = Fraction(self.fps).limit_denominator(1001)
        ctx.gop_size = gop
        ctx.max_b_frames = 0
        ctx.bit_rate = bitrate
        ctx.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            # in-band SPS/PPS before every IDR, a fixed GOP
            "x264-params": f"repeat-headers=1:keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        ctx.open()
        self._ctx = ctx
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        self._closed = False

    # -- API -------------------------------------------------------------------------
    def send(self, frame_bgr: np.ndarray, t_s: float | None = None) -> int:
        """Encode and send one frame; returns the number of datagrams sent.

        ``t_s``: capture time in seconds (any epoch, increasing); default the monotonic
        clock. It becomes the RTP timestamp (90 kHz) relative to the first frame.
        A frame of another size is resized to width x height.
        """
        if self._closed:
            raise RuntimeError("RtpH264Sender is closed")
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 BGR image, got shape {frame_bgr.shape}")
        if frame_bgr.shape[:2] != (self.height, self.width):
            frame_bgr = cv2.resize(frame_bgr, (self.width, self.height), interpolation=cv2.INTER_AREA)
        t = time.monotonic() if t_s is None else float(t_s)
        if self._t0 is None:
            self._t0 = t
        rtp_ts = round((t - self._t0) * RTP_CLOCK_HZ)
        if self._last_rtp_ts is not None and rtp_ts <= self._last_rtp_ts:
            rtp_ts = self._last_rtp_ts + 1  # the decoder needs strictly increasing pts
        self._last_rtp_ts = rtp_ts

        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_bgr, dtype=np.uint8), format="bgr24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = rtp_ts
        sent = 0
        for packet in self._ctx.encode(frame):  # zerolatency: one packet out per frame in
            sent += self._send_access_unit(bytes(packet), rtp_ts)
        self.frames_sent += 1
        return sent

    def close(self) -> None:
        """Flush the encoder and close the socket (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._ctx.encode(None):
                pts = packet.pts if packet.pts is not None else (self._last_rtp_ts or 0)
                self._send_access_unit(bytes(packet), int(pts))
        except Exception:  # noqa: BLE001 - flushing is best effort at shutdown
            pass
        finally:
            self._sock.close()

    def __enter__(self) -> RtpH264Sender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- RTP -------------------------------------------------------------------------
    def _send_access_unit(self, annexb: bytes, rtp_ts: int) -> int:
        payloads = packetize_h264(split_annexb(annexb), self.mtu)
        ts32 = (self._ts0 + rtp_ts) & 0xFFFFFFFF
        for i, payload in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            header = struct.pack("!BBHII", 0x80, marker | self.payload_type, self._seq, ts32, self.ssrc)
            self._seq = (self._seq + 1) & 0xFFFF
            try:
                self._sock.sendto(header + payload, self.address)
            except OSError:  # e.g. ECONNREFUSED echoed back, ENOBUFS: the stream goes on
                self.send_errors += 1
                continue
            self.packets_sent += 1
            self.bytes_sent += len(header) + len(payload)
        return len(payloads)
