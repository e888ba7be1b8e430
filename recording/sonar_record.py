"""The Oculus multibeam's raw messages in a mission record, byte for byte, and a reader.

``SonarRecorder(sonar_dir)`` appends every whole message the sonar sent (16-byte header +
payload, as ``OculusClient.raw_message_listeners`` hands it over) to ``oculus_0001.oculus``,
``oculus_0002.oculus``, ... (a new file past ``segment_bytes``) and one line per message to
``pings.csv``: ``ping,file,offset,length,t_utc_s,t_mono_s,msg_id``. A data file is a plain
concatenation of Oculus messages, the sonar log format ``hullwatch detect`` reads.

Crash safety: message bytes go to the OS as they are written (unbuffered); the index is
flushed at least every ``FLUSH_INTERVAL_S`` (checked on write; the writer thread calls
``flush()`` when idle), and only after the bytes it points to. A full disk (ENOSPC, EFBIG,
EDQUOT) stops the stream: ``write`` returns None from then on, ``disk_full`` and ``error``
say why, and what was written before stays readable. The reader ignores (and counts) a
message cut short by a crash.
"""
from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path

import numpy as np

from vision.sonar.oculus import (HEADER_SIZE, MAGIC_BYTES, MSG_SIMPLE_PING_RESULT, OculusFormatError, SonarPing,
                                 parse_oculus_ping)

from .errors import RecordError

LOG = logging.getLogger(__name__)

INDEX_FILE = "pings.csv"
INDEX_HEADER = "ping,file,offset,length,t_utc_s,t_mono_s,msg_id"
FLUSH_INTERVAL_S = 0.5
SEGMENT_BYTES = 256 * 1024 * 1024
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def data_file_name(number: int) -> str:
    return f"oculus_{number:04d}.oculus"


class SonarRecorder:
    """Writes one record's sonar messages. Used by ONE thread (the recorder's writer thread)."""

    def __init__(self, folder: Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        """``folder``: the record's ``sonar/`` folder (created). An existing index is never
        overwritten: RecordError."""
        self.folder = Path(folder)
        self.segment_bytes = int(segment_bytes)
        self.pings_written = self.bytes_written = self.files = 0
        self.disk_full = False
        self.error = ""
        self._data = None  # the open data file (unbuffered)
        self._offset = 0
        self._closed = False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._index = open(self.folder / INDEX_FILE, "x", encoding="ascii", newline="\n")
            self._index.write(INDEX_HEADER + "\n")
            self._index.flush()
        except FileExistsError:
            raise RecordError(f"{self.folder / INDEX_FILE} exists: a record is never overwritten; "
                              "record into a new folder") from None
        except OSError as exc:
            raise RecordError(f"cannot create {self.folder / INDEX_FILE} ({exc.strerror or exc}); "
                              "check the disk and its free space") from None
        self._last_flush = time.monotonic()

    def write(self, raw: bytes, t_mono_s: float, t_utc_s: float) -> int | None:
        """Record one whole Oculus message; its number (0, 1, ...) or None once stopped."""
        if self._closed or self.error:
            return None
        raw = bytes(raw)
        msg_id = int.from_bytes(raw[6:8], "little") if len(raw) >= HEADER_SIZE else -1
        try:
            if self._data is None or (self._offset and self._offset + len(raw) > self.segment_bytes):
                self._next_file()
            view = memoryview(raw)
            while view:  # a raw file may take less than asked
                view = view[self._data.write(view):]
            ping = self.pings_written
            self._index.write(f"{ping},{data_file_name(self.files)},{self._offset},{len(raw)},{t_utc_s:.6f},"
                              f"{t_mono_s:.6f},{msg_id}\n")
            self._offset += len(raw)
            self.pings_written += 1
            self.bytes_written += len(raw)
            if time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
                self.flush()
            return ping
        except OSError as exc:
            self._fail(exc)
            return None

    def flush(self) -> None:
        """Push the index to the OS (message bytes are already there)."""
        if self._closed or self.error:
            return
        try:
            self._index.flush()
        except OSError as exc:
            self._fail(exc)
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Close the data file and the index (fsynced). Safe to call twice."""
        if self._closed:
            return
        try:
            if not self.error:
                self._index.flush()
                for f in (self._data, self._index):
                    if f is not None:
                        os.fsync(f.fileno())
        except OSError as exc:
            self._fail(exc)
        finally:
            self._closed = True
            self._close_quietly()

    def _next_file(self) -> None:
        if self._data is not None:
            os.fsync(self._data.fileno())  # a finished file survives a power cut too
            self._data.close()
        self.files += 1
        self._data = open(self.folder / data_file_name(self.files), "xb", buffering=0)
        self._offset = 0

    def _fail(self, exc: OSError) -> None:
        self.disk_full = exc.errno in DISK_FULL_ERRNOS
        where = self.folder / (data_file_name(self.files) if self._data is not None else INDEX_FILE)
        self.error = (f"{'disk full' if self.disk_full else 'write failed'} writing {where} "
                      f"({exc.strerror or exc}); sonar recording stopped after {self.pings_written} messages, "
                      "what was written stays readable")
        LOG.error("%s", self.error)
        self._close_quietly()

    def _close_quietly(self) -> None:
        for f in (self._data, self._index):
            try:
                if f is not None:
                    f.close()
            except OSError:  # the disk is failing: keep what is there
                pass
        self._data = None


def read_ping_index(path: Path) -> tuple[list[tuple], int]:
    """The rows of ``pings.csv``, and 1 if a last line cut short by a crash (it has no
    newline) was dropped. A damaged whole line is a RecordError."""
    try:
        lines = path.read_text(encoding="ascii").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"cannot read {path} ({exc}): the sonar index is damaged") from None
    partial, whole = int(lines[-1] != ""), lines[:-1]
    if whole[:1] != [INDEX_HEADER] and (whole or not INDEX_HEADER.startswith(lines[-1])):
        raise RecordError(f"{path} is not a HullWatch sonar index (first line {lines[0][:60]!r})")
    rows = []
    for i, line in enumerate(whole[1:], 2):
        f = line.split(",")
        try:
            if len(f) != 7 or f[1] != Path(f[1]).name or not f[1].endswith(".oculus"):
                raise ValueError(f"{len(f)} fields, file {f[1:2]}")  # a file name, never a path
            rows.append((int(f[0]), f[1], int(f[2]), int(f[3]), float(f[4]), float(f[5]), int(f[6])))
        except ValueError as exc:
            raise RecordError(f"{path} line {i} is damaged ({exc}): {line[:80]!r}") from None
    if [r[0] for r in rows] != list(range(len(rows))):
        raise RecordError(f"{path}: ping numbers are not 0, 1, 2, ...: the index was altered or damaged")
    return rows, partial


class SonarRecordReader:
    """Reads a record's ``sonar/`` folder; any thread (every read opens its own file).

    ``pings`` lists the index rows (ping, file, offset, length, t_utc_s, t_mono_s, msg_id);
    ``ping_numbers`` are those that are SimplePingResults (the ones ``ping()`` parses).
    Rows whose bytes a crash cut short are dropped and counted in ``truncated_messages``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        path = self.folder / INDEX_FILE
        if not path.is_file():
            raise RecordError(f"{path} is missing: this folder holds no recorded sonar")
        rows, self.partial_lines = read_ping_index(path)
        sizes = {}
        for name in {r[1] for r in rows}:
            try:
                sizes[name] = (self.folder / name).stat().st_size
            except OSError:
                raise RecordError(f"{self.folder / name} is missing: the record is incomplete") from None
        keep = len(rows)
        while keep and rows[keep - 1][2] + rows[keep - 1][3] > sizes[rows[keep - 1][1]]:
            keep -= 1  # written to the index but not wholly to disk: the crash's last message
        self.truncated_messages = len(rows) - keep
        self.pings = rows[:keep]
        self.t_utc = np.array([r[4] for r in self.pings], dtype=np.float64)
        self.ping_numbers = np.array([r[0] for r in self.pings if r[6] == MSG_SIMPLE_PING_RESULT], dtype=np.int64)
        self._t_sorted = np.maximum.accumulate(self.t_utc[self.ping_numbers]) if len(self.ping_numbers) else []

    @property
    def ping_count(self) -> int:
        return len(self.pings)

    @property
    def duration_s(self) -> float:
        return float(self.t_utc[-1] - self.t_utc[0]) if len(self.t_utc) > 1 else 0.0

    def t_utc_s(self, ping: int) -> float:
        return float(self.pings[self._check(ping)][4])

    def ping_at(self, t_utc_s: float) -> int:
        """The sonar ping shown at t_utc_s: the last SimplePingResult received at or before
        it (-1: none yet)."""
        i = int(np.searchsorted(self._t_sorted, t_utc_s, side="right")) - 1
        return int(self.ping_numbers[i]) if i >= 0 else -1

    def raw(self, ping: int) -> bytes:
        """Message ``ping`` exactly as the sonar sent it."""
        _, name, offset, length, *_ = self.pings[self._check(ping)]
        try:
            with open(self.folder / name, "rb") as f:
                f.seek(offset)
                return self._checked(f.read(length), ping)
        except OSError as exc:
            raise RecordError(f"cannot read {self.folder / name} ({exc}); the record is damaged") from None

    def ping(self, ping: int) -> SonarPing:
        """Message ``ping`` parsed; ``t_s`` is its UTC receive time."""
        return self._parse(self.raw(ping), ping)

    def iter_pings(self):
        """(ping, t_utc_s, SonarPing) for every SimplePingResult, reading each file once."""
        wanted = set(self.ping_numbers.tolist())
        f, name = None, None
        try:
            for ping, file_name, offset, length, t_utc_s, _, _ in self.pings:
                if ping not in wanted:
                    continue
                if file_name != name:
                    if f is not None:
                        f.close()
                    name, f = file_name, open(self.folder / file_name, "rb")
                f.seek(offset)
                yield ping, t_utc_s, self._parse(self._checked(f.read(length), ping), ping)
        except OSError as exc:
            raise RecordError(f"cannot read {self.folder / str(name)} ({exc}); the record is damaged") from None
        finally:
            if f is not None:
                f.close()

    def _check(self, ping: int) -> int:
        ping = int(ping)
        if not 0 <= ping < len(self.pings):
            raise IndexError(f"ping {ping} is not in {self.folder / INDEX_FILE} (0..{len(self.pings) - 1})")
        return ping

    def _checked(self, data: bytes, ping: int) -> bytes:
        _, name, offset, length, *_ = self.pings[ping]
        if (len(data) != length or data[:2] != MAGIC_BYTES
                or HEADER_SIZE + int.from_bytes(data[10:14], "little") != length):
            raise RecordError(f"{self.folder / name} at byte {offset}: ping {ping} is not the {length}-byte Oculus "
                              "message the index lists (damaged or altered)")
        return data

    def _parse(self, data: bytes, ping: int) -> SonarPing:
        try:
            return parse_oculus_ping(data, t_s=self.pings[ping][4])
        except OculusFormatError as exc:
            raise RecordError(f"{self.folder / self.pings[ping][1]}: message {ping} is not a readable "
                              f"Oculus ping ({exc})") from None
