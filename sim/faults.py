"""Link fault injection shared by every transport, in both directions.

Applied per MAVLink packet so a test can ask for "10 % loss" and get about that
fraction of whole messages lost, as on a flaky tether or Wi-Fi bridge.
"""
from __future__ import annotations

import random
import threading


class FaultInjector:
    """Decides, per packet, what a faulty link does to it. Settable at run time."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.loss = 0.0
        self.delay_s = 0.0
        self.duplicate = 0.0
        self.corrupt = 0.0
        self.link_down = False
        self.dropped_count = 0
        self.corrupted_count = 0
        self.duplicated_count = 0

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)

    def reset(self) -> None:
        self.loss = self.delay_s = self.duplicate = self.corrupt = 0.0
        self.link_down = False

    def apply(self, packet: bytes) -> list[tuple[float, bytes]]:
        """Return the (delay_s, bytes) copies that actually travel; [] when dropped."""
        with self._lock:
            if self.link_down or (self.loss > 0.0 and self._rng.random() < self.loss):
                self.dropped_count += 1
                return []
            data = packet
            if self.corrupt > 0.0 and self._rng.random() < self.corrupt and len(data) > 12:
                data = self._flip_payload_byte(data)
                self.corrupted_count += 1
            copies = [(self.delay_s, data)]
            if self.duplicate > 0.0 and self._rng.random() < self.duplicate:
                copies.append((self.delay_s, data))
                self.duplicated_count += 1
            return copies

    def _flip_payload_byte(self, data: bytes) -> bytes:
        # Byte 10 onward is payload for MAVLink 2 (header is 10 bytes), and the
        # CRC covers it, so the receiver's checksum test rejects the packet.
        header_len = 10 if data[0] == 0xFD else 6
        last = max(header_len, len(data) - 3)
        index = self._rng.randint(header_len, last)
        buf = bytearray(data)
        buf[index] ^= 0xFF
        return bytes(buf)
