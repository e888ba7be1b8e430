"""The camera's H.264 stream in a mission record, exactly as the vehicle sent it, and a reader.

``VideoRecorder(video_dir)`` muxes each access unit from the RTP depacketizer, never decoded
or re-encoded, into MPEG-TS segments (``segment_0001.ts``, ...: a file cut short by a crash
still plays anywhere) and indexes it in ``frames.csv``. A segment starts at a clean keyframe
with SPS and PPS (so it decodes alone): the first after ``segment_s`` of RTP time, after a
sender restart (new ``stream_id``) or a new SPS (resolution). The TS muxer prepends a 6-byte
access unit delimiter where there is none; ``bytes`` is the size as received, and
``VideoRecordReader.raw()`` strips it: the bytes come back exactly.

Crash safety: TS packets reach the OS as muxed (FFmpeg ``flush_packets``); the index at least
every ``FLUSH_INTERVAL_S`` (and on ``flush()``). A full disk stops the stream: ``write``
returns None from then on, ``disk_full``/``error`` say why, what was written stays readable.
Replay assumes no B-frames (ROV cameras send none): decode order is display order.
"""
from __future__ import annotations

import errno
import logging
import os
import time
from contextlib import closing
from fractions import Fraction
from pathlib import Path

import numpy as np

from vision.video.rtp_h264 import RTP_CLOCK_HZ, AccessUnit

from .errors import RecordError

LOG = logging.getLogger(__name__)

INDEX_FILE = "frames.csv"
INDEX_HEADER = "frame,segment,t_utc_s,t_mono_s,rtp_timestamp,keyframe,damaged,bytes"
INDEX_DTYPE = np.dtype([("frame", "i8"), ("segment", "i8"), ("t_utc_s", "f8"), ("t_mono_s", "f8"),
                        ("rtp_timestamp", "i8"), ("keyframe", "?"), ("damaged", "?"), ("bytes", "i8")])
FLUSH_INTERVAL_S = 0.5
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
AUD = b"\x00\x00\x00\x01\x09\xf0"  # what FFmpeg's TS muxer inserts in front of an access unit
NAL_SPS, NAL_PPS = 7, 8
SPACE_MARGIN_BYTES = 256 << 10  # the TS packaging of one access unit and its index line, with room to spare


def _free_bytes(folder: Path) -> int:
    try:
        st = os.statvfs(folder)
    except OSError:
        return 1 << 62  # cannot tell: the write itself will say
    return st.f_bavail * st.f_frsize


def segment_name(segment: int) -> str:
    return f"segment_{segment:04d}.ts"


def nal_units(annexb: bytes, types: tuple[int, ...]) -> bytes:
    """The NAL units of those types in an Annex-B byte stream, as Annex-B."""
    parts = annexb.split(b"\x00\x00\x01")[1:]  # a 4-byte start code leaves a 0 on the part before
    return b"".join(b"\x00\x00\x00\x01" + p.rstrip(b"\x00") for p in parts if p and p[0] & 0x1F in types)


def _os_error(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


class VideoRecorder:
    """Writes one record's video. Used by ONE thread (the recorder's writer thread)."""

    def __init__(self, folder: Path, segment_s: float = 60.0) -> None:
        """``folder``: the record's ``video/`` (created); an existing index is never overwritten."""
        self.folder, self.segment_s = Path(folder), float(segment_s)
        self.frames_written = self.bytes_written = self.segments = self.skipped_before_keyframe = self.damaged = 0
        self.disk_full, self.error, self._closed = False, "", False
        self._mux = self._stream = self._stream_id = self._sps = None
        self._seg_rtp0 = self._last_pts = 0
        path = self.folder / INDEX_FILE
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._index = open(path, "x", encoding="ascii", newline="\n")
            self._index.write(INDEX_HEADER + "\n")
            self._index.flush()
        except FileExistsError:
            raise RecordError(f"{path} exists: a record is never overwritten; record into a new folder") from None
        except OSError as exc:
            raise RecordError(f"cannot create {path} ({_os_error(exc)}); check the disk and its space") from None
        self._last_flush = time.monotonic()

    def write(self, au: AccessUnit, t_mono_s: float, t_utc_s: float) -> int | None:
        """Record one access unit; its frame number (0, 1, ...), or None if skipped or stopped."""
        if self._closed or self.error:
            return None
        import av

        starts = au.keyframe and au.has_parameter_sets and not au.damaged
        if _free_bytes(self.folder) < len(au.data) + SPACE_MARGIN_BYTES:
            # FFmpeg's writer can lose a failed write without telling the muxer, which would
            # leave index lines for bytes that never reached the disk: stop before the disk is full
            self._fail(OSError(errno.ENOSPC, "No space left on device (less than the margin kept free)"))
            return None
        sps = nal_units(au.data, (NAL_SPS,)) if au.has_parameter_sets else None
        try:
            if self._mux is not None and (au.stream_id != self._stream_id or (sps and sps != self._sps) or (
                    starts and au.rtp_timestamp - self._seg_rtp0 >= self.segment_s * RTP_CLOCK_HZ)):
                self._close_segment()
            if self._mux is None:
                if not starts:
                    self.skipped_before_keyframe += 1
                    return None
                self._open_segment(av, au, sps)
            packet = av.Packet(au.data)
            # the muxer needs increasing timestamps; the index keeps the true RTP time
            packet.pts = packet.dts = self._last_pts = max(au.rtp_timestamp - self._seg_rtp0, self._last_pts + 1)
            packet.time_base, packet.is_keyframe, packet.stream = Fraction(1, RTP_CLOCK_HZ), au.keyframe, self._stream
            self._mux.mux(packet)
            frame = self.frames_written
            self._index.write(f"{frame},{self.segments},{t_utc_s:.6f},{t_mono_s:.6f},{au.rtp_timestamp},"
                              f"{int(au.keyframe)},{int(au.damaged)},{len(au.data)}\n")
            self.frames_written += 1
            self.bytes_written += len(au.data)
            self.damaged += au.damaged
            if time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
                self.flush()
            return frame
        except (OSError, av.FFmpegError) as exc:
            self._fail(exc)
            return None

    def flush(self) -> None:
        """Push the index to the OS (the segment's packets are there already)."""
        if not (self._closed or self.error):
            try:
                self._index.flush()
            except OSError as exc:
                self._fail(exc)
            self._last_flush = time.monotonic()

    def close(self) -> None:
        """Finalise the open segment and the index (fsynced). Safe to call twice."""
        if self._closed:
            return
        try:
            if not self.error:
                self._close_segment()
                self._index.flush()
                os.fsync(self._index.fileno())
        except Exception as exc:  # noqa: BLE001 - OSError or av.FFmpegError from the muxer
            self._fail(exc)
        finally:
            self._closed = True
            self._close_quietly()

    def _open_segment(self, av, au: AccessUnit, sps: bytes | None) -> None:
        self.segments += 1
        self._mux = av.open(str(self.folder / segment_name(self.segments)), "w", format="mpegts",
                            options={"flush_packets": "1"})
        self._stream = self._mux.add_stream("h264")  # no codec opened: players take the size from the SPS
        self._stream.time_base = Fraction(1, RTP_CLOCK_HZ)
        self._stream_id, self._sps, self._seg_rtp0, self._last_pts = au.stream_id, sps, au.rtp_timestamp, -1

    def _close_segment(self) -> None:
        mux, self._mux = self._mux, None
        if mux is not None:
            mux.close()
            with open(mux.name, "ab") as f:  # a finished segment survives a power cut too
                os.fsync(f.fileno())

    def _fail(self, exc: Exception) -> None:
        self.disk_full = getattr(exc, "errno", None) in DISK_FULL_ERRNOS
        where = self.folder / (segment_name(self.segments) if self.segments else INDEX_FILE)
        self.error = (f"{'disk full' if self.disk_full else 'write failed'} writing {where} or its index "
                      f"({_os_error(exc)}): video recording stopped after {self.frames_written} frames; what was "
                      "written stays readable")
        LOG.error("%s", self.error)
        self._close_quietly()

    def _close_quietly(self) -> None:
        for f in (self._mux, self._index):
            try:
                if f is not None:
                    f.close()
            except Exception:  # noqa: BLE001 - the disk is failing: keep what is there
                pass
        self._mux = None


def read_frame_index(path: Path) -> tuple[np.ndarray, int]:
    """``frames.csv`` as an INDEX_DTYPE array, and 1 if a last line cut short by a crash (it
    has no newline) was dropped. A damaged whole line is a RecordError."""
    try:
        lines = path.read_text(encoding="ascii").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"cannot read {path} ({exc}): the video index is damaged") from None
    partial, whole = int(lines[-1] != ""), lines[:-1]
    if whole[:1] != [INDEX_HEADER] and (whole or not INDEX_HEADER.startswith(lines[-1])):
        raise RecordError(f"{path} is not a HullWatch video index (first line {lines[0][:60]!r})")
    rows = []
    for i, line in enumerate(whole[1:], 2):
        f = line.split(",")
        try:
            if len(f) != 8:
                raise ValueError(f"{len(f)} fields")
            rows.append((int(f[0]), int(f[1]), float(f[2]), float(f[3]), int(f[4]), f[5] == "1", f[6] == "1",
                         int(f[7])))
        except ValueError as exc:
            raise RecordError(f"{path} line {i} is damaged ({exc}): {line[:80]!r}") from None
    frames = np.array(rows, dtype=INDEX_DTYPE)
    if not np.array_equal(frames["frame"], np.arange(len(frames))):
        raise RecordError(f"{path}: frame numbers are not 0, 1, 2, ...: the index was altered or damaged")
    return frames, partial


def _exact(data: bytes, size: int, path: Path, frame: int) -> bytes:
    if len(data) == size + len(AUD) and data.startswith(AUD):
        data = data[len(AUD):]
    if len(data) != size:
        raise RecordError(f"{path}: frame {frame} holds {len(data)} bytes, its index {size}: the segment does not "
                          "match its index (damaged or altered)")
    return data


class VideoRecordReader:
    """Reads a record's ``video/``; ``frames`` holds the index (INDEX_DTYPE). Any thread, one
    thread per reader (it keeps a decoder and the current segment's access units)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        if not (self.folder / INDEX_FILE).is_file():
            raise RecordError(f"{self.folder / INDEX_FILE} is missing: this folder holds no recorded video")
        self.frames, self.partial_lines = read_frame_index(self.folder / INDEX_FILE)
        self._t_sorted = np.maximum.accumulate(self.frames["t_utc_s"])  # a wall-clock step back stays searchable
        self._seg, self._first, self._packets = 0, 0, []  # the loaded segment, its first frame, its access units
        self._dec, self._fed, self._out = None, 0, {}  # decoder, next frame to feed it, decoded frames by number

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def duration_s(self) -> float:
        return float(self.frames["t_utc_s"][-1] - self.frames["t_utc_s"][0]) if len(self.frames) > 1 else 0.0

    def t_utc_s(self, frame: int) -> float:
        return float(self.frames["t_utc_s"][self._check(frame)])

    def segment_path(self, segment: int) -> Path:
        return self.folder / segment_name(segment)

    def frame_at(self, t_utc_s: float) -> int:
        """The frame shown at t_utc_s: the last one received at or before it (-1: none yet)."""
        return int(np.searchsorted(self._t_sorted, t_utc_s, side="right")) - 1

    def raw(self, frame: int) -> bytes:
        """The access unit exactly as received (Annex-B)."""
        self._load(int(self.frames["segment"][self._check(frame)]))
        return self._packets[frame - self._first]

    def decode(self, frame: int) -> np.ndarray:
        """Frame ``frame`` as HxWx3 BGR. Stepping forward feeds the kept decoder the next
        access units; going back (or past a keyframe) restarts at the nearest keyframe."""
        self._load(int(self.frames["segment"][self._check(frame)]))
        key = self._first + int(np.flatnonzero(self.frames["keyframe"][self._first:frame + 1])[-1])
        if self._dec is None or frame < min(self._out, default=self._fed) or key >= self._fed:
            self._dec, self._fed, self._out = _decoder("SLICE"), key, {}  # SLICE: a picture per access unit
            if key != self._first:  # a later keyframe may come without SPS/PPS
                _decode(self._dec, nal_units(self._packets[0], (NAL_SPS, NAL_PPS)), None)
        while frame not in self._out and not any(n > frame for n in self._out) and self._dec is not None:
            if self._fed < self._first + len(self._packets):
                self._out.update((f.pts, f) for f in _decode(self._dec, self._packets[self._fed - self._first],
                                                              self._fed))
                self._fed += 1
            else:  # the segment's end: take what the decoder still holds
                self._out.update((f.pts, f) for f in _decode(self._dec, None, None))
                self._dec = None
        shown = max((n for n in self._out if n <= frame), default=None)  # a lost picture shows the one before
        if shown is None:
            raise RecordError(f"frame {frame} in {self.segment_path(self._seg)} cannot be decoded (damaged)")
        self._out = {n: f for n, f in self._out.items() if n >= shown}
        return self._out[shown].to_ndarray(format="bgr24")

    def iter_decoded(self, start: int = 0, stop: int | None = None):
        """(frame, t_utc_s, BGR image) for frames start..stop-1, one decoder pass per segment
        (re-analysis); pictures the decoder cannot rebuild (damaged) are left out."""
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        segs = self.frames["segment"]
        for seg in dict.fromkeys(segs[start:stop].tolist()) if start < stop else ():
            first, last = (int(i) for i in np.flatnonzero(segs == seg)[[0, -1]])
            lo, hi = max(start, first), min(stop, last + 1)
            key = first + int(np.flatnonzero(self.frames["keyframe"][first:lo + 1])[-1])
            dec = _decoder("AUTO")  # frame threads: throughput over latency
            with closing(self._demux(seg, first, hi - first)) as packets:
                for n, data in enumerate(packets, first):
                    if n == first and key != first:
                        _decode(dec, nal_units(data, (NAL_SPS, NAL_PPS)), None)
                    if n >= key:
                        yield from self._emit(_decode(dec, data, n), lo, hi)
            yield from self._emit(_decode(dec, None, None), lo, hi)

    def _emit(self, decoded, lo: int, hi: int):
        for f in decoded:
            if lo <= f.pts < hi:
                yield f.pts, float(self.frames["t_utc_s"][f.pts]), f.to_ndarray(format="bgr24")

    def _check(self, frame: int) -> int:
        if not 0 <= int(frame) < len(self.frames):
            raise IndexError(f"frame {frame} is not in {self.folder / INDEX_FILE} (0..{len(self.frames) - 1})")
        return int(frame)

    def _load(self, seg: int) -> None:
        if seg != self._seg:
            rows = np.flatnonzero(self.frames["segment"] == seg)
            with closing(self._demux(seg, int(rows[0]), len(rows))) as packets:
                self._packets = list(packets)
            self._seg, self._first, self._dec, self._out = seg, int(rows[0]), None, {}

    def _demux(self, seg: int, first: int, count: int):
        """The first ``count`` access units of segment ``seg``, exactly as received."""
        import av

        path = self.segment_path(seg)
        if not path.is_file():
            raise RecordError(f"{path} is missing: the record is incomplete ({count} frames listed in its index)")
        try:
            container = av.open(str(path))
        except (av.FFmpegError, OSError) as exc:
            raise RecordError(f"{path} is not a readable MPEG-TS video segment ({exc}): the file is damaged") from None
        n = 0
        try:
            packets = container.demux(container.streams.video[0]) if container.streams.video else ()
            for packet in packets:
                if n == count:
                    return
                if packet.size:
                    yield _exact(bytes(packet), int(self.frames["bytes"][first + n]), path, first + n)
                    n += 1
        except av.FFmpegError as exc:
            raise RecordError(f"{path} is damaged after frame {first + n} ({exc})") from None
        finally:
            container.close()
        if n < count:
            raise RecordError(f"{path} ends after {n} access units but its index lists {count}: the file was cut "
                              "short or replaced")


def _decoder(thread_type: str):
    import av

    dec = av.CodecContext.create("h264", "r")
    dec.thread_type = thread_type
    return dec


def _decode(dec, data: bytes | None, n: int | None) -> list:
    import av

    packet = None if data is None else av.Packet(data)
    if packet is not None:
        packet.pts = n
    try:
        return dec.decode(packet)
    except (av.FFmpegError, ValueError):  # a damaged access unit: its picture is lost, decoding goes on
        return []
