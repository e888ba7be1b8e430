"""RTP (RFC 3550) depacketizer for H.264 video (RFC 6184), no FFmpeg demuxer involved.

``H264Depacketizer.push(datagram)`` takes raw UDP payloads and returns the complete
access units (Annex-B byte streams, one per video frame) they finish. It handles single
NAL unit packets, STAP-A aggregates and FU-A fragments; an access unit ends at the RTP
marker bit, or when the timestamp changes (marker lost). Sequence gaps are counted as
lost packets and mark the access unit they hit (and, in ``RtpStats``, the stream until
the next IDR) as damaged. A new SSRC (sender restart) is accepted after two packets in
sequence (the first stream too), so stray datagrams cannot hijack the stream.

Pure Python and stdlib only: no sockets, no threads, no decoder (see ``source.py``).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

RTP_CLOCK_HZ = 90_000  # H.264 RTP clock (RFC 6184 section 8.2.1)
RTP_VERSION = 2
RTP_HEADER_SIZE = 12
START_CODE = b"\x00\x00\x00\x01"

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_STAP_A = 24
NAL_FU_A = 28

MAX_DROPOUT = 3000  # RFC 3550 A.1: a forward jump larger than this is a resync
MAX_MISORDER = 100  # a backward jump smaller than this is a late (discarded) packet
PROBATION_PACKETS = 2  # sequential packets a new SSRC needs before it replaces the old
MAX_ACCESS_UNIT_BYTES = 8 * 1024 * 1024  # a runaway (marker never seen) is dropped


@dataclass(frozen=True)
class RtpPacket:
    marker: bool
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse_rtp(datagram: bytes) -> RtpPacket | None:
    """Parse one RTP packet; None when it is not a well-formed RTP version 2 packet."""
    n = len(datagram)
    if n < RTP_HEADER_SIZE:
        return None
    b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", datagram, 0)
    if b0 >> 6 != RTP_VERSION:
        return None
    offset = RTP_HEADER_SIZE + 4 * (b0 & 0x0F)  # CSRC list
    if b0 & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
        if n < offset + 4:
            return None
        (ext_words,) = struct.unpack_from("!H", datagram, offset + 2)
        offset += 4 + 4 * ext_words
    end = n
    if b0 & 0x20:  # padding: last byte counts the padding bytes
        pad = datagram[-1]
        if pad == 0 or pad > n - offset:
            return None
        end -= pad
    if end <= offset:
        return None
    return RtpPacket(bool(b1 & 0x80), b1 & 0x7F, seq, ts, ssrc, bytes(datagram[offset:end]))


@dataclass(frozen=True)
class AccessUnit:
    """One coded picture as an Annex-B byte stream, ready for an H.264 decoder."""

    data: bytes
    rtp_timestamp: int  # extended (unwrapped) 90 kHz timestamp of this stream
    ssrc: int
    stream_id: int  # increments on every sender restart (new SSRC or resync)
    keyframe: bool  # contains an IDR slice
    has_parameter_sets: bool  # contains SPS and PPS
    damaged: bool  # a packet of this access unit was lost or malformed

    @property
    def rtp_time_s(self) -> float:
        return self.rtp_timestamp / RTP_CLOCK_HZ


@dataclass
class RtpStats:
    """Counters of one depacketizer; plain ints, read them from any thread."""

    datagrams: int = 0
    bytes: int = 0
    invalid_datagrams: int = 0  # not RTP, wrong payload type, malformed H.264 payload
    foreign_datagrams: int = 0  # RTP from another SSRC that never passed probation
    lost_packets: int = 0  # sequence-number gaps
    late_packets: int = 0  # duplicate or reordered packets (discarded)
    access_units: int = 0
    damaged_access_units: int = 0
    stream_restarts: int = 0  # new SSRC, or a sequence jump beyond MAX_DROPOUT


class H264Depacketizer:
    """Reassembles RTP/H.264 datagrams into access units. Not thread-safe: one owner."""

    def __init__(self, payload_type: int | None = 96) -> None:
        """``payload_type``: accept only this RTP payload type (None: any)."""
        self.payload_type = payload_type
        self.stats = RtpStats()
        self.ssrc: int | None = None
        self.stream_id = 0
        self._next_seq = 0
        self._ts_base = 0  # unwrapped timestamp = _ts_base + 32-bit timestamp
        self._last_ts32: int | None = None
        self._probation: list[RtpPacket] = []
        self._reset_access_unit()

    # -- public ----------------------------------------------------------------------
    def push(self, datagram: bytes) -> list[AccessUnit]:
        """Feed one UDP datagram; return the access units it completed (often 0 or 1)."""
        self.stats.datagrams += 1
        self.stats.bytes += len(datagram)
        pkt = parse_rtp(datagram)
        if pkt is None or (self.payload_type is not None and pkt.payload_type != self.payload_type):
            self.stats.invalid_datagrams += 1
            return []
        if pkt.ssrc != self.ssrc:
            return self._on_foreign_ssrc(pkt)
        return self._on_packet(pkt)

    def flush(self) -> list[AccessUnit]:
        """End the pending access unit (e.g. at end of stream); it is marked damaged
        because its marker bit was never seen."""
        if not self._nals and self._fu is None:
            return []
        self._au_damaged = True
        return self._finish_access_unit()

    # -- stream identity -------------------------------------------------------------
    def _on_foreign_ssrc(self, pkt: RtpPacket) -> list[AccessUnit]:
        prev = self._probation[-1] if self._probation else None
        if prev is None or prev.ssrc != pkt.ssrc or (prev.sequence + 1) & 0xFFFF != pkt.sequence:
            self.stats.foreign_datagrams += len(self._probation)
            self._probation = [pkt]
        else:
            self._probation.append(pkt)
        if len(self._probation) < PROBATION_PACKETS:
            return []
        # the new sender is real: drop what is pending from the old one, replay the probation
        replay, self._probation = self._probation, []
        out = self.flush()
        if self.ssrc is not None:
            self.stream_id += 1
            self.stats.stream_restarts += 1
        self._start_stream(replay[0])
        for p in replay:
            out += self._on_packet(p)
        return out

    def _start_stream(self, pkt: RtpPacket) -> None:
        self.ssrc = pkt.ssrc
        self._next_seq = pkt.sequence
        self._ts_base = 0
        self._last_ts32 = None
        self._reset_access_unit()

    def _unwrap_ts(self, ts32: int) -> int:
        if self._last_ts32 is not None:
            delta = (ts32 - self._last_ts32) & 0xFFFFFFFF
            if delta < 0x80000000 and ts32 < self._last_ts32:
                self._ts_base += 1 << 32  # forward wrap
            elif delta >= 0x80000000 and ts32 > self._last_ts32:
                self._ts_base -= 1 << 32  # late packet from before a wrap
        self._last_ts32 = ts32
        return self._ts_base + ts32

    # -- packets ---------------------------------------------------------------------
    def _on_packet(self, pkt: RtpPacket) -> list[AccessUnit]:
        out: list[AccessUnit] = []
        gap = (pkt.sequence - self._next_seq) & 0xFFFF
        if gap >= 0x10000 - MAX_MISORDER:  # duplicate or late: its frame has gone
            self.stats.late_packets += 1
            return out
        if gap > MAX_DROPOUT:  # the same sender restarted its numbering: resync
            out += self.flush()
            self.stream_id += 1
            self.stats.stream_restarts += 1
            self._last_ts32 = None
            self._ts_base = 0
        elif gap:
            self.stats.lost_packets += gap
            self._fu = None  # a fragment is missing: the NAL being rebuilt is lost
            self._au_damaged = True
        self._next_seq = (pkt.sequence + 1) & 0xFFFF

        ts = self._unwrap_ts(pkt.timestamp)
        if self._au_ts is not None and ts != self._au_ts and (self._nals or self._fu is not None):
            self._au_damaged = True  # marker of the previous frame was lost
            out += self._finish_access_unit()
        self._au_ts = ts
        if not self._add_payload(pkt.payload):
            self.stats.invalid_datagrams += 1
            self._au_damaged = True
        if self._au_bytes > MAX_ACCESS_UNIT_BYTES:
            self._reset_access_unit()
            self.stats.damaged_access_units += 1
        elif pkt.marker:
            out += self._finish_access_unit()
        return out

    def _add_payload(self, payload: bytes) -> bool:
        """Add one RTP payload to the access unit being built; False if malformed."""
        header = payload[0]
        if header & 0x80:  # forbidden_zero_bit
            return False
        nal_type = header & 0x1F
        if 1 <= nal_type <= 23:
            if self._fu is not None:  # the end fragment was lost
                self._fu = None
                self._au_damaged = True
            self._add_nal(payload)
            return True
        if nal_type == NAL_STAP_A:
            pos, n = 1, len(payload)
            nals = []
            while pos < n:
                if pos + 2 > n:
                    return False
                (size,) = struct.unpack_from("!H", payload, pos)
                pos += 2
                if size == 0 or pos + size > n:
                    return False
                nals.append(payload[pos:pos + size])
                pos += size
            for nal in nals:
                self._add_nal(nal)
            return bool(nals)
        if nal_type == NAL_FU_A:
            if len(payload) < 3:
                return False
            fu = payload[1]
            start, end = bool(fu & 0x80), bool(fu & 0x40)
            if start and end:
                return False
            if start:
                if self._fu is not None:  # the end fragment was lost
                    self._au_damaged = True
                self._fu = bytearray([(header & 0xE0) | (fu & 0x1F)])
                self._fu += payload[2:]
            elif self._fu is None:
                return True  # the start fragment was lost: already counted as a gap
            else:
                self._fu += payload[2:]
            self._au_bytes += len(payload) - 2
            if end:
                nal, self._fu = bytes(self._fu), None
                self._add_nal(nal)
            return True
        return False  # STAP-B, MTAP, FU-B and reserved types are not used by x264/BlueOS

    def _add_nal(self, nal: bytes) -> None:
        nal_type = nal[0] & 0x1F
        self._has_idr |= nal_type == NAL_IDR
        self._has_sps |= nal_type == NAL_SPS
        self._has_pps |= nal_type == NAL_PPS
        self._nals.append(nal)
        self._au_bytes += len(nal)

    def _reset_access_unit(self) -> None:
        self._nals: list[bytes] = []
        self._fu: bytearray | None = None
        self._au_ts: int | None = None
        self._au_bytes = 0
        self._au_damaged = False
        self._has_idr = self._has_sps = self._has_pps = False

    def _finish_access_unit(self) -> list[AccessUnit]:
        if self._fu is not None:
            self._au_damaged = True
        if not self._nals:
            damaged = self._au_damaged or self._fu is not None
            self._reset_access_unit()
            if damaged:
                self.stats.damaged_access_units += 1
            return []
        au = AccessUnit(
            data=b"".join(START_CODE + nal for nal in self._nals),
            rtp_timestamp=self._au_ts or 0,
            ssrc=self.ssrc or 0,
            stream_id=self.stream_id,
            keyframe=self._has_idr,
            has_parameter_sets=self._has_sps and self._has_pps,
            damaged=self._au_damaged,
        )
        self._reset_access_unit()
        self.stats.access_units += 1
        self.stats.damaged_access_units += au.damaged
        return [au]

