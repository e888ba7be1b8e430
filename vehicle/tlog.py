"""Telemetry logs (tlog): writing them while diving, and reading them back fast.

A tlog is what QGroundControl, MAVProxy and pymavlink write: a plain sequence of records,
each an 8-byte big-endian UNIX time in microseconds followed by one MAVLink packet exactly
as it was on the wire. There is no file header and no index, so a reader frames packets
from their own headers:

- MAVLink 2: STX 0xFD, payload length at byte 1, incompat flags at byte 2; the packet is
  12 + length bytes, plus a 13-byte signature when flag 0x01 is set.
- MAVLink 1: STX 0xFE, payload length at byte 1; the packet is 8 + length bytes.

The reader here frames packets itself from big chunks of the file (no per-byte Python
work on the good path) and resynchronises after damage: when a record does not look like
one (no STX after the timestamp, a timestamp outside 2000..2100, unknown incompat flags,
or the next record does not start where this one ends), it scans for the next offset where
a plausible record starts *and* is followed by another plausible record (or the end of the
file), and counts the bytes it skipped. A cut-off last record is reported in the stats,
not raised. `iter_tlog_messages` decodes with one pymavlink `MAVLink` parser and counts
bad CRCs, unknown message ids and decode errors instead of raising.

The writer appends records under a lock (the link reader thread and sender threads share
it), hands every write to the OS at once, fsyncs at most every `fsync_interval_s`, and
never raises out of `write()`: a full disk closes the log cleanly and sets `error`.
"""
from __future__ import annotations

import dataclasses
import errno
import os
import struct
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from .dialect import MAVError, MAVLink, MAVLinkMessage, mavlink

__all__ = [
    "TlogError", "TlogRecord", "TlogReadStats", "TlogWriter",
    "iter_tlog", "iter_tlog_messages",
    "STX_V1", "STX_V2", "TIMESTAMP_MIN_US", "TIMESTAMP_MAX_US",
]

STX_V1 = 0xFE
STX_V2 = 0xFD
_IFLAG_SIGNED = 0x01
_SIGNATURE_LEN = 13

# Plausible record timestamps: 2000-01-01 .. 2100-01-01 UTC, in microseconds.
TIMESTAMP_MIN_US = 946_684_800 * 1_000_000
TIMESTAMP_MAX_US = 4_102_444_800 * 1_000_000

_TS_LEN = 8
_MAX_PACKET = 12 + 255 + _SIGNATURE_LEN          # largest MAVLink 2 packet, signed
_MAX_RECORD = _TS_LEN + _MAX_PACKET
# Bytes the framer wants after a record's start: that record, the next one's header,
# and enough to validate a resync candidate and its follower.
_LOOKAHEAD = 2 * _MAX_RECORD + 2 * _TS_LEN + 16
_CHUNK = 4 << 20
# A file is refused as "not a tlog" when no plausible record starts in this prefix.
_SNIFF_BYTES = 64 << 10

_ts_from = struct.Struct(">Q").unpack_from
_ts_pack = struct.Struct(">Q").pack


class TlogError(Exception):
    """A telemetry log cannot be opened, created or read; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class TlogRecord:
    """One tlog record: when it was logged (UNIX µs) and the MAVLink packet as sent."""

    t_unix_us: int
    packet: bytes


@dataclasses.dataclass(slots=True)
class TlogReadStats:
    """Counters filled in while a tlog is read.

    Framing counters are brought up to date at every chunk (4 MiB) and when iteration
    ends (also when the caller stops early); the decode counters after every message.
    """

    records: int = 0            # framed packets handed on
    bytes_total: int = 0        # bytes in the file (or buffer) read so far
    bytes_skipped: int = 0      # bytes dropped while resynchronising (not the tail)
    resyncs: int = 0            # times the framer lost and found the record boundary
    truncated_tail: bool = False  # the file ends in the middle of a record
    tail_bytes: int = 0         # bytes of that incomplete last record
    messages: int = 0           # packets decoded into messages (iter_tlog_messages)
    bad_crc: int = 0            # packets whose CRC did not match (corrupt, or other dialect)
    unknown_ids: int = 0        # packets with a message id this dialect does not know
    decode_errors: int = 0      # packets pymavlink refused for another reason
    bad_crc_by_id: dict[int, int] = dataclasses.field(default_factory=dict)
    first_t_unix_us: int | None = None
    last_t_unix_us: int | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------- reading

def _record_end(buf, pos: int) -> int:
    """End offset of the record starting at `pos` if its header is plausible, else -1.

    Needs buf[pos : pos + 11] present. Checks STX, incompat flags and the timestamp.
    """
    stx = buf[pos + 8]
    if stx == STX_V2:
        flags = buf[pos + 10]
        if flags & ~_IFLAG_SIGNED:
            return -1
        end = pos + 20 + buf[pos + 9] + (_SIGNATURE_LEN if flags else 0)
    elif stx == STX_V1:
        end = pos + 16 + buf[pos + 9]
    else:
        return -1
    t = _ts_from(buf, pos)[0]
    if t < TIMESTAMP_MIN_US or t > TIMESTAMP_MAX_US:
        return -1
    return end


def _find_record(buf, start: int, stop: int, n: int) -> int:
    """First offset in [start, stop) where a plausible record starts, or -1.

    `n` is the number of real data bytes in `buf` (the buffer may be padded beyond it);
    every offset below `stop` must have `_LOOKAHEAD` bytes of buffer after it.
    A candidate is accepted when its header is plausible, it fits in the data, and it is
    followed by the end of the data, another plausible record header, or (at the very
    end) a stub too short to hold a header. Scans with bytes.find for the two STX
    values, so the work is per STX byte, not per byte.
    """
    find = buf.find
    lo = start + _TS_LEN            # where the STX of a record starting at `start` sits
    hi = stop + _TS_LEN
    if lo >= hi:
        return -1
    next_v2 = find(b"\xfd", lo, hi)
    next_v1 = find(b"\xfe", lo, hi)
    while next_v2 >= 0 or next_v1 >= 0:
        if next_v1 < 0 or (0 <= next_v2 < next_v1):
            s = next_v2
            next_v2 = find(b"\xfd", s + 1, hi)
        else:
            s = next_v1
            next_v1 = find(b"\xfe", s + 1, hi)
        pos = s - _TS_LEN
        end = _record_end(buf, pos)
        if end < 0 or end > n:
            continue
        if end == n or end + _TS_LEN + 3 > n:
            return pos
        if _record_end(buf, end) >= 0:
            return pos
    return -1


def _find_truncated(buf, start: int, n: int) -> int:
    """First offset in [start, n) where a plausible record header starts whose record
    runs past the end of the data (n), or -1. For classifying the tail of a file."""
    find = buf.find
    best = -1
    for stx in (b"\xfd", b"\xfe"):
        s = find(stx, start + _TS_LEN, n)
        while s >= 0 and (best < 0 or s - _TS_LEN < best):
            if _record_end(buf, s - _TS_LEN) > n:
                best = s - _TS_LEN
                break
            s = find(stx, s + 1, n)
    return best


def _open_source(source) -> tuple[str, Callable[[int], bytes] | None, bytes, BinaryIO | None]:
    """(label, read function or None, first chunk, file) for a path or an in-memory log."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<tlog bytes>", None, bytearray(source), None
    path = Path(source)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise TlogError(f"cannot read telemetry log {path}: no such file") from None
    except IsADirectoryError:
        raise TlogError(f"cannot read telemetry log {path}: it is a directory") from None
    except OSError as e:
        raise TlogError(f"cannot read telemetry log {path}: {e.strerror or e}") from None
    try:
        first = bytearray(f.read(_CHUNK))
    except OSError as e:
        f.close()
        raise TlogError(f"cannot read telemetry log {path}: {e.strerror or e}") from None
    return str(path), f.read, first, f


def _frames(source, stats: TlogReadStats) -> Iterator[tuple[int, bytes]]:
    """Open `source`, check it is a tlog, and return a generator of (t_unix_us, packet).

    Raises TlogError here, before the first record, for a missing, unreadable, empty or
    non-tlog source.
    """
    label, read, first, f = _open_source(source)
    try:
        if not first:
            raise TlogError(f"{label} is empty: it holds no telemetry records")
        eof = read is None or len(first) < _CHUNK
        if eof:
            n = len(first)
            buf = first + bytes(_LOOKAHEAD)
        else:
            n = len(first)
            buf = first
        sniff_stop = min(_SNIFF_BYTES, n if eof else n - _LOOKAHEAD)
        start = _find_record(buf, 0, max(sniff_stop, 0), n)
        if start < 0:
            what = _describe_non_tlog(first)
            raise TlogError(f"{label} is not a telemetry log (tlog): no MAVLink record with a "
                            f"plausible timestamp in its first {min(n, _SNIFF_BYTES)} bytes"
                            f"{what}")
    except BaseException:
        if f is not None:
            f.close()
        raise
    return _frame_loop(buf, n, start, eof, read, f, stats)


def _describe_non_tlog(head: bytes) -> str:
    if head.startswith(b"\xa3\x95"):
        return " (it looks like an ArduPilot dataflash .BIN log)"
    if head.startswith(b"\x89PNG"):
        return " (it is a PNG image)"
    return ""


def _frame_loop(buf, n: int, pos: int, eof: bool, read, f, stats: TlogReadStats
                ) -> Iterator[tuple[int, bytes]]:
    # Invariants: buf[:n] is real data; when not eof, offsets below n - _LOOKAHEAD have
    # full lookahead; when eof, buf is padded with _LOOKAHEAD zero bytes after n.
    # `base` is the file offset of buf[0].
    ts_from = _ts_from
    t_min, t_max = TIMESTAMP_MIN_US, TIMESTAMP_MAX_US
    records = 0
    skipped = pos                    # leading bytes before the first record
    resyncs = 0
    base = 0
    first_t = last_t = None
    stats.bytes_total = n
    scan_from = -1                   # >= 0 while looking for the next good record
    skip_from = 0
    try:
        while True:
            limit = n if eof else n - _LOOKAHEAD
            if scan_from >= 0:
                cand = _find_record(buf, scan_from, limit, n)
                if cand < 0 and not eof:
                    # Nothing yet: count what was scanned as skipped, so a long damaged
                    # stretch is not held in memory, and read on.
                    scan_from = max(limit, scan_from)
                    skipped += scan_from - skip_from
                    skip_from = scan_from
                else:
                    if cand < 0:
                        # Nothing plausible until the end: garbage, then maybe a record
                        # cut off by the end of the file.
                        if n - skip_from < 11:
                            tail_at = skip_from
                        else:
                            tail_at = _find_truncated(buf, skip_from, n)
                        if tail_at >= 0:
                            skipped += tail_at - skip_from
                            stats.truncated_tail = True
                            stats.tail_bytes = n - tail_at
                        else:
                            skipped += n - skip_from
                        break
                    skipped += cand - skip_from
                    resyncs += 1
                    pos = cand
                    scan_from = -1
            if scan_from < 0:
                while pos < limit:
                    # Frame the record at pos (inline copy of _record_end for speed).
                    stx = buf[pos + 8]
                    if stx == 0xFD:
                        flags = buf[pos + 10]
                        if flags == 0:
                            end = pos + 20 + buf[pos + 9]
                        elif flags == 1:
                            end = pos + 33 + buf[pos + 9]
                        else:
                            end = -1
                    elif stx == 0xFE:
                        end = pos + 16 + buf[pos + 9]
                    else:
                        end = -1
                    if end > 0:
                        t = ts_from(buf, pos)[0]
                        if t_min <= t <= t_max:
                            if end < n:
                                nx = buf[end + 8]
                                if nx == 0xFD or nx == 0xFE:
                                    if first_t is None:
                                        first_t = t
                                    last_t = t
                                    records += 1
                                    yield t, buf[pos + 8:end]
                                    pos = end
                                    continue
                            elif end == n:
                                if first_t is None:
                                    first_t = t
                                last_t = t
                                records += 1
                                yield t, buf[pos + 8:end]
                                pos = end
                                continue
                        else:
                            end = -1
                    # Damage at or just after pos. If a plausible record starts inside
                    # this one, this one is broken: drop it. Otherwise (the header was
                    # fine and only what follows is not) hand it on and drop what follows.
                    if 0 < end <= n and _find_record(buf, pos + 1, end, n) < 0:
                        if first_t is None:
                            first_t = t
                        last_t = t
                        records += 1
                        yield t, buf[pos + 8:end]
                        pos = end
                    skip_from = pos
                    scan_from = pos + 1
                    break
                if scan_from >= 0:
                    continue
                if eof:
                    if pos < n:
                        # Fewer bytes than a header, and nothing after them.
                        stats.truncated_tail = True
                        stats.tail_bytes = n - pos
                    break
            # Refill: keep what is not yet consumed, append the next chunk.
            keep = pos if scan_from < 0 else skip_from
            stats.records = records
            stats.bytes_skipped = skipped
            stats.resyncs = resyncs
            chunk = read(_CHUNK)
            base += keep
            buf = buf[keep:n] + chunk
            n = len(buf)
            pos -= keep
            if scan_from >= 0:
                scan_from -= keep
                skip_from -= keep
            stats.bytes_total = base + n
            if len(chunk) < _CHUNK:
                eof = True
                buf += bytes(_LOOKAHEAD)
    finally:
        stats.records = records
        stats.bytes_skipped = skipped
        stats.resyncs = resyncs
        if first_t is not None:
            if stats.first_t_unix_us is None:
                stats.first_t_unix_us = first_t
            stats.last_t_unix_us = last_t
        if f is not None:
            f.close()


def iter_tlog(source, *, stats: TlogReadStats | None = None) -> Iterator[TlogRecord]:
    """Records of a tlog file (path) or of tlog bytes in memory.

    Raises TlogError at once for a missing or unreadable file, an empty one, and one with
    no plausible record in its first 64 KiB (a dataflash .BIN, an image, random bytes).
    Damage later in the file is skipped and counted in `stats`, never raised.
    """
    frames = _frames(source, stats if stats is not None else TlogReadStats())
    return (TlogRecord(t, bytes(p)) for t, p in frames)


def iter_tlog_messages(source, *, stats: TlogReadStats | None = None
                       ) -> Iterator[tuple[float, MAVLinkMessage]]:
    """(UNIX time in s, decoded pymavlink message) for each good packet of a tlog.

    Packets with a bad CRC, an unknown message id or that pymavlink cannot decode are
    counted in `stats` and skipped. Each message also gets `_timestamp` set to the record
    time, as mavutil's tlog reader does, so code written for mavutil keeps working.
    Raises TlogError at once, like iter_tlog.
    """
    if stats is None:
        stats = TlogReadStats()
    frames = _frames(source, stats)
    return _decode_loop(frames, stats)


def _packet_msgid(packet) -> int:
    if packet[0] == STX_V2:
        return packet[7] | (packet[8] << 8) | (packet[9] << 16)
    return packet[5]


def _decode_loop(frames, stats: TlogReadStats) -> Iterator[tuple[float, MAVLinkMessage]]:
    decode = MAVLink(None).decode
    mav_error = MAVError
    by_id = stats.bad_crc_by_id
    unknown_cls = mavlink.MAVLink_unknown
    messages = bad_crc = unknown = errors = 0
    try:
        for t_us, packet in frames:
            try:
                msg = decode(packet)
            except mav_error as e:
                if "CRC" in str(e):
                    bad_crc += 1
                    msgid = _packet_msgid(packet)
                    by_id[msgid] = by_id.get(msgid, 0) + 1
                else:
                    errors += 1
                continue
            except Exception:        # pymavlink raises struct.error etc. on odd packets
                errors += 1
                continue
            if msg.__class__ is unknown_cls:
                unknown += 1
                continue
            t_s = t_us * 1e-6
            msg._timestamp = t_s
            messages += 1
            yield t_s, msg
    finally:
        stats.messages += messages
        stats.bad_crc += bad_crc
        stats.unknown_ids += unknown
        stats.decode_errors += errors
        frames.close()


# ---------------------------------------------------------------------------- writing

class TlogWriter:
    """Appends MAVLink packets to a tlog, crash-safe and thread-safe.

    The file is created, or emptied if it exists (`append=True` adds to it instead).
    A missing or read-only folder raises TlogError here.

    Every `write()` reaches the OS before it returns (a process crash loses nothing);
    the file is fsync'd at most every `fsync_interval_s` seconds, checked on each write
    (an OS crash or power cut loses at most about that much). Call `sync()` to force it.

    `write()` never raises for I/O: on a full disk or another write error the file is cut
    back to the last whole record, closed, `error` says what happened, and later packets
    are counted in `packets_dropped`. Writes after `close()` are dropped the same way.
    """

    def __init__(self, path: str | os.PathLike, *, fsync_interval_s: float = 1.0,
                 append: bool = False) -> None:
        self.path = Path(path)
        self.fsync_interval_s = float(fsync_interval_s)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.bytes_written = 0
        self.packets_written = 0
        self.packets_dropped = 0
        self.error: str | None = None
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(self.path, flags, 0o644)
        except FileNotFoundError:
            raise TlogError(f"cannot create telemetry log {self.path}: the folder "
                            f"{self.path.parent} does not exist") from None
        except PermissionError:
            raise TlogError(f"cannot create telemetry log {self.path}: permission denied "
                            f"(is {self.path.parent} read-only?)") from None
        except OSError as e:
            raise TlogError(f"cannot create telemetry log {self.path}: "
                            f"{e.strerror or e}") from None
        if append:
            try:
                self.bytes_written = os.fstat(self._fd).st_size
            except OSError:
                pass
        self._size_at_open = self.bytes_written
        self._last_sync = time.monotonic()

    # -- context manager
    def __enter__(self) -> "TlogWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write(self, packet: bytes, t_unix_us: int | None = None) -> bool:
        """Log one packet; time defaults to now. Returns False if it was dropped."""
        with self._lock:
            if self._fd is None:
                self.packets_dropped += 1
                return False
            if t_unix_us is None:
                t_unix_us = time.time_ns() // 1000
            ok = self._write_locked(_ts_pack(t_unix_us) + packet, 1)
            if ok:
                self._maybe_sync_locked()
            return ok

    def write_many(self, items: Iterable[tuple[bytes, int | None]]) -> int:
        """Log a batch of (packet, t_unix_us or None) with one OS write; returns the count
        written (0 if the batch was dropped)."""
        now_us = time.time_ns() // 1000
        parts = []
        for packet, t_us in items:
            parts.append(_ts_pack(now_us if t_us is None else t_us))
            parts.append(packet)
        count = len(parts) // 2
        if not count:
            return 0
        with self._lock:
            if self._fd is None:
                self.packets_dropped += count
                return 0
            ok = self._write_locked(b"".join(parts), count)
            if ok:
                self._maybe_sync_locked()
            return count if ok else 0

    def _write_locked(self, data: bytes, count: int) -> bool:
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError as e:
            self._fail_locked(e, count)
            return False
        self.bytes_written += done
        self.packets_written += count
        return True

    def _maybe_sync_locked(self) -> None:
        now = time.monotonic()
        if now - self._last_sync >= self.fsync_interval_s:
            self._last_sync = now
            self._fsync_locked()

    def _fsync_locked(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as e:
            if e.errno in (errno.EINVAL, errno.EROFS, errno.ENOTSUP):
                return      # not a regular file (a pipe, /dev/full): nothing to sync
            self._fail_locked(e, 0)

    def _fail_locked(self, e: OSError, count: int) -> None:
        name = self.path.name
        if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            self.error = (f"disk full while writing {name} ({self.path}): telemetry after "
                          f"{self.packets_written} packets ({self.bytes_written} bytes) is "
                          f"not recorded; free space and start a new recording")
        else:
            self.error = (f"error while writing {name} ({self.path}): "
                          f"{e.strerror or e}; telemetry after {self.packets_written} "
                          f"packets is not recorded; check the disk and start a new "
                          f"recording")
        self.packets_dropped += count
        fd, self._fd = self._fd, None
        try:
            # Cut off a partly written record so the file ends on a record boundary.
            os.ftruncate(fd, self.bytes_written)
        except OSError:
            pass
        try:
            os.close(fd)
        except OSError:
            pass

    def sync(self) -> None:
        """fsync now (no-op once closed)."""
        with self._lock:
            if self._fd is not None:
                self._last_sync = time.monotonic()
                self._fsync_locked()

    def close(self) -> None:
        """fsync and close; safe to call more than once and from any thread."""
        with self._lock:
            if self._fd is None:
                return
            self._fsync_locked()
            if self._fd is None:        # the fsync failed and closed the file
                return
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError as e:
                if self.error is None:
                    self.error = f"error while closing {self.path}: {e.strerror or e}"

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else "open"
        return (f"TlogWriter({str(self.path)!r}, {state}, packets={self.packets_written}, "
                f"bytes={self.bytes_written}, dropped={self.packets_dropped})")
