"""The camera's H.264 stream in a mission record, exactly as the vehicle sent it, and a reader.

``VideoRecorder(video_dir)`` muxes each access unit from the RTP depacketizer, never decoded
or re-encoded, into MPEG-TS segments (``segment_0001.ts``, ...: a file cut short by a crash
still plays anywhere) and indexes it in ``frames.csv``. A segment starts at a clean keyframe
with SPS and PPS (so it decodes alone): the first after ``segment_s`` of RTP time, after a
sender restart (new ``stream_id``) or a new SPS (resolution). The TS muxer prepends a 6-byte
access unit delimiter where there is none; ``bytes`` is the size as received, and
``recording.video_replay.VideoRecordReader.raw()`` strips it: the bytes come back exactly.

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

