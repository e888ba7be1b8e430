"""Bytes <-> MAVLink messages, with the counts a pilot needs to judge a link."""
from __future__ import annotations

import dataclasses
import threading

from .dialect import STATION_COMPONENT_ID, STATION_SYSTEM_ID, MAVLink, mavlink

# A backwards jump larger than this is a reboot or reordering, not 200+ lost packets.
_MAX_PLAUSIBLE_GAP = 128


@dataclasses.dataclass(frozen=True)
class LinkStats:
    received: int = 0
    sent: int = 0
    lost: int = 0
    bad_crc: int = 0
    bad_bytes: int = 0
    unknown: int = 0
    lost_by_source: tuple[tuple[tuple[int, int], int], ...] = ()
    received_by_source: tuple[tuple[tuple[int, int], int], ...] = ()

    @property
    def loss_pct(self) -> float:
        total = self.received + self.lost
        return 100.0 * self.lost / total if total else 0.0

    def source_loss_pct(self, system_id: int, component_id: int) -> float:
        """Loss seen on one sender's sequence numbers. Routers (mavlink-router, BlueOS)
        forward some components' traffic selectively, so only the autopilot's own
        sequence says how healthy the link to the vehicle is."""
        key = (system_id, component_id)
        lost = dict(self.lost_by_source).get(key, 0)
        total = dict(self.received_by_source).get(key, 0) + lost
        return 100.0 * lost / total if total else 0.0


class MavlinkProtocol:
    """Parses one link's byte stream and packs outgoing messages.

    `parse` is called by the link's reader thread only; `pack` from any thread.
    """

    def __init__(self, system_id: int = STATION_SYSTEM_ID, component_id: int = STATION_COMPONENT_ID):
        self._rx = MAVLink(None)
        self._rx.robust_parsing = True
        self._tx = MAVLink(None, system_id, component_id)
        self._tx_lock = threading.Lock()
        self._last_seq: dict[tuple[int, int], int] = {}
        self._lost_by_source: dict[tuple[int, int], int] = {}
        self._received_by_source: dict[tuple[int, int], int] = {}
        self._received = self._sent = self._lost = 0
        self._bad_crc = self._bad_bytes = self._unknown = 0

    @property
    def system_id(self) -> int:
        return self._tx.srcSystem

    @property
    def component_id(self) -> int:
        return self._tx.srcComponent

    def parse(self, data: bytes, *, datagram: bool = False) -> list:
        """Messages in `data`. With datagram=True a half packet left by the previous
        datagram is dropped first: MAVLink never spans UDP datagrams, and a garbage
        datagram must not swallow the next good one."""
        rx = self._rx
        if datagram and len(rx.buf) - rx.buf_index:
            self._bad_bytes += len(rx.buf) - rx.buf_index
            rx.buf = bytearray()
            rx.buf_index = 0
            rx.expected_length = mavlink.HEADER_LEN_V1 + 2
        msgs = rx.parse_buffer(data)
        if not msgs:
            return []
        good = []
        for msg in msgs:
            mtype = msg._type
            if mtype == "BAD_DATA":
                if "CRC" in getattr(msg, "reason", ""):
                    self._bad_crc += 1
                else:
                    self._bad_bytes += len(msg.data)
                continue
            if mtype.startswith("UNKNOWN"):
                # an id outside the dialect: its CRC cannot be checked, so it may be noise
                self._unknown += 1
                continue
            self._received += 1
            self._track_sequence(msg)
            good.append(msg)
        return good

    def _track_sequence(self, msg) -> None:
        hdr = msg._header
        key = (hdr.srcSystem, hdr.srcComponent)
        self._received_by_source[key] = self._received_by_source.get(key, 0) + 1
        last = self._last_seq.get(key)
        self._last_seq[key] = hdr.seq
        if last is None:
            return
        gap = (hdr.seq - last - 1) % 256
        if 0 < gap <= _MAX_PLAUSIBLE_GAP:
            self._lost += gap
            self._lost_by_source[key] = self._lost_by_source.get(key, 0) + gap

    def pack(self, msg) -> bytes:
        with self._tx_lock:
            buf = msg.pack(self._tx)
            # pack() stamps the sequence number but, unlike MAVLink.send(), does not advance it
            self._tx.seq = (self._tx.seq + 1) % 256
            self._sent += 1
        return bytes(buf)

    def stats(self) -> LinkStats:
        return LinkStats(
            received=self._received, sent=self._sent, lost=self._lost, bad_crc=self._bad_crc,
            bad_bytes=self._bad_bytes, unknown=self._unknown,
            lost_by_source=tuple(sorted(self._lost_by_source.items())),
            received_by_source=tuple(sorted(self._received_by_source.items())),
        )
