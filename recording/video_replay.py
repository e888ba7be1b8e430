"""Reading a record's video back: the frame index (a crash's cut-off last line is
dropped), each access unit exactly as received, and decoding for replay and re-analysis.
The writer is recording/video_record.py."""
from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np

from .errors import RecordError
from .video_record import AUD, INDEX_DTYPE, INDEX_FILE, INDEX_HEADER, NAL_PPS, NAL_SPS, nal_units, segment_name


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
            drained = False
            try:
                with closing(self._demux(seg, first, hi - first)) as packets:
                    for n, data in enumerate(packets, first):
                        if n == first and key != first:
                            _decode(dec, nal_units(data, (NAL_SPS, NAL_PPS)), None)
                        if n >= key:
                            yield from self._emit(_decode(dec, data, n), lo, hi)
                flushed = _decode(dec, None, None)
                drained = True
                yield from self._emit(flushed, lo, hi)
            finally:
                if not drained:
                    # a generator abandoned mid-segment: FFmpeg's frame threads must be drained
                    # before the decoder is freed, or freeing it can deadlock on the GIL
                    try:
                        _decode(dec, None, None)
                    except Exception:  # noqa: BLE001 - only the drain matters here
                        pass

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
