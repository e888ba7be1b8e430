"""A camera video recorded apart from the telemetry log, by another ground station
(QGroundControl: "2023-05-04_17.15.41.mkv" beside the .tlog; Cockpit/BlueOS: .webm/.mp4),
placed on the log's UTC timeline.

Opening demuxes the file once (packets only, nothing decoded but the first picture, which
proves the codec is readable): each frame's presentation time and keyframe flag, in
presentation order, so B-frames and any codec FFmpeg decodes (H.264, H.265, VP8/9) index
alike. The time of the first frame comes from, in this order: the caller ("given"), the
container's creation_time ("metadata"; an MP4 holds whole seconds only), a date-time in the
file name ("file name"; read as UTC, though QGC names files in the station's local time), or
the file's modification time minus its duration ("file time": the end of the recording).
`start_source` says which, so the reviewer knows how far to trust the alignment and can
correct it with set_offset_s.

The index is immutable except the offset: one float the GUI thread sets and decoding threads
read (a frame decoded during the change is from the old alignment; the window asks again).
Decoding needs a reader per thread (it keeps a demuxer and decoder): reader(), or decode(),
which keeps one per calling thread.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import numpy as np

from recording.errors import RecordError

VIDEO_SUFFIXES = (".mkv", ".mp4", ".webm", ".mov", ".avi", ".ts", ".m4v")
START_SOURCES = {"given": "the time given", "metadata": "the file's creation time (metadata)",
                 "file name": "the time in its file name", "file time": "its modification time minus its length"}
OLDEST_PLAUSIBLE_UTC_S = 946_684_800.0  # 2000-01-01: earlier creation times are a camera's unset clock
BESIDE_MAX_FILES = 32  # files looked at beside a log (each probe opens the container header)
_NAME_TIMES = (  # QGC "2023-05-04_17.15.41", ISO-like "2023-05-04T17-15-41", compact "20230504_171541"
    re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[_ T](\d{2})[.:\-](\d{2})[.:\-](\d{2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})[_T\-]?(\d{2})(\d{2})(\d{2})(?!\d)"),
)


def name_time_utc_s(name: str) -> float | None:
    """The date-time written in a file name, read as UTC seconds (None: none found)."""
    for pattern in _NAME_TIMES:
        for m in pattern.finditer(name):
            try:
                return dt.datetime(*map(int, m.groups()), tzinfo=dt.timezone.utc).timestamp()
            except ValueError:  # digits that are no date (a serial number)
                continue
    return None


def _metadata_time_utc_s(container) -> float | None:
    stream = container.streams.video[0] if container.streams.video else None
    for meta in (container.metadata, stream.metadata if stream is not None else {}):
        text = meta.get("creation_time") or meta.get("CREATION_TIME")
        try:
            t = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00")) if text else None
        except ValueError:
            continue
        if t is not None:
            t = t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
            if t.timestamp() >= OLDEST_PLAUSIBLE_UTC_S:
                return t.timestamp()
    return None


def _start(path: Path, container, duration_s: float, given: float | None) -> tuple[float, str]:
    if given is not None:
        return float(given), "given"
    t = _metadata_time_utc_s(container)
    if t is not None:
        return t, "metadata"
    t = name_time_utc_s(path.stem)
    if t is not None:
        return t, "file name"
    return path.stat().st_mtime - duration_s, "file time"


def _open_container(path: Path):
    import av

    if not path.is_file():
        raise RecordError(f"{path} does not exist: choose the video file recorded with the telemetry log")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path} is not a readable video file ({exc}): choose the camera recording "
                          f"({', '.join(VIDEO_SUFFIXES)}) or check that it was copied completely") from None
    if not container.streams.video:
        container.close()
        raise RecordError(f"{path} holds no video stream: choose the camera recording of the dive")
    return container


class ExternalVideo:
    """Use ExternalVideo.open(). Frame i (presentation order) is shown from t_utc_s(i)."""

    def __init__(self, path: Path, pts: np.ndarray, rel_s: np.ndarray, keyframe: np.ndarray, frame_s: float,
                 start_utc_s: float, start_source: str, size: tuple[int, int], codec: str) -> None:
        self.path, self.pts, self.keyframe = Path(path), pts, keyframe
        self._rel_s, self._frame_s = rel_s, frame_s
        self.start_utc_s, self.start_source, self.size, self.codec = start_utc_s, start_source, size, codec
        self._offset_s, self._local = 0.0, threading.local()
        for a in (pts, rel_s, keyframe):
            a.setflags(write=False)

    @classmethod
    def open(cls, path, *, start_utc_s: float | None = None) -> "ExternalVideo":
        """Index `path` (RecordError naming it when it is missing, unreadable or no video)."""
        import av

        path = Path(path)
        container = _open_container(path)
        try:
            stream = container.streams.video[0]
            rows = [(p.pts if p.pts is not None else p.dts, bool(p.is_keyframe))
                    for p in container.demux(stream) if p.size and (p.pts is not None or p.dts is not None)]
            if not rows:
                raise RecordError(f"{path} holds no video frames: the recording is empty or damaged")
            rows.sort()
            pts = np.array([r[0] for r in rows], np.int64)
            keyframe = np.array([r[1] for r in rows], bool)
            keyframe[0] = True  # decoding starts at the first packet whatever it is flagged
            rel_s = (pts - pts[0]).astype(np.float64) * float(stream.time_base)
            step = float(np.median(np.diff(rel_s))) if len(rel_s) > 1 else 0.0
            frame_s = step if step > 0 else 1.0 / (float(stream.average_rate or stream.guessed_rate or 0) or 25.0)
            size, codec = (stream.codec_context.width, stream.codec_context.height), stream.codec_context.name
            start, source = _start(path, container, float(rel_s[-1]) + frame_s, start_utc_s)
        except av.FFmpegError as exc:
            raise RecordError(f"{path} is damaged: its packets cannot be read ({exc})") from None
        finally:
            container.close()
        video = cls(path, pts, rel_s, keyframe, frame_s, start, source, size, codec)
        reader = video.reader()
        try:
            reader.decode(0)  # the codec can be read: a bad file fails here, not in the middle of a review
        finally:
            reader.close()
        return video

    # ---- timing ---------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return len(self.pts)

    @property
    def duration_s(self) -> float:
        return float(self._rel_s[-1]) + self._frame_s

    @property
    def offset_s(self) -> float:
        return self._offset_s

    def set_offset_s(self, offset_s: float) -> None:
        """The reviewer's correction, added to every frame's time (seconds, + = later)."""
        self._offset_s = float(offset_s)

    @property
    def start_text(self) -> str:
        """How the first frame was placed in time, for the reviewer."""
        return START_SOURCES[self.start_source]

    @property
    def t0_utc_s(self) -> float:
        """The first frame's time, corrected."""
        return self.start_utc_s + self._offset_s

    def t_utc_s(self, i: int) -> float:
        return self.t0_utc_s + float(self._rel_s[self._check(i)])

    def frame_at(self, t_utc_s: float) -> int:
        """The frame on screen at t_utc_s; -1 before the first frame and after the last one has run."""
        rel = t_utc_s - self.t0_utc_s
        if rel > self.duration_s:
            return -1
        return int(np.searchsorted(self._rel_s, rel, side="right")) - 1

    def keyframe_before(self, i: int) -> int:
        keys = np.flatnonzero(self.keyframe[:self._check(i) + 1])
        return int(keys[-1]) if len(keys) else 0

    def _check(self, i: int) -> int:
        if not 0 <= int(i) < len(self.pts):
            raise IndexError(f"frame {i} is not in {self.path} (0..{len(self.pts) - 1})")
        return int(i)

    # ---- pictures ---------------------------------------------------------------------------
    def reader(self) -> "ExternalVideoReader":
        """A new decoder of this file, for one thread."""
        return ExternalVideoReader(self)

    def decode(self, i: int) -> np.ndarray:
        """Frame i as HxWx3 BGR, decoded by this thread's reader."""
        if getattr(self._local, "reader", None) is None:
            self._local.reader = self.reader()
        return self._local.reader.decode(i)

    def __repr__(self) -> str:
        return (f"ExternalVideo({self.path.name}, {self.frame_count} frames, {self.duration_s:.1f} s, "
                f"starts {self.start_utc_s:.3f} from {self.start_source}, offset {self._offset_s:+.2f} s)")


class ExternalVideoReader:
    """Decodes an ExternalVideo's frames on one thread. Stepping forward goes on from the last
    picture; going back, or past the next keyframe, seeks to the keyframe before the frame."""

    def __init__(self, video: ExternalVideo) -> None:
        self.video = video
        self._container = _open_container(video.path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "SLICE"  # a picture per packet: frame threads hold pictures back
        self._index_of = {int(p): i for i, p in enumerate(video.pts)}
        self._frames = None  # the decoding generator after the last seek
        self._last: tuple[int, np.ndarray] | None = None  # the last picture decoded
        self.seeks = 0  # (tests: stepping forward must not seek)

    def close(self) -> None:
        self._frames = None
        self._container.close()

    def decode(self, i: int) -> np.ndarray:
        import av

        v = self.video
        i = v._check(i)
        last = self._last[0] if self._last is not None else None
        if last == i:
            return self._last[1]
        try:
            if self._frames is None or last is None or i < last or v.keyframe_before(i) > last:
                self._seek(v.keyframe_before(i))
            image = self._forward(i)
            if image is None:  # the seek landed after the frame (a file without a keyframe index)
                self._seek(0)
                image = self._forward(i)
        except av.FFmpegError as exc:
            self._frames, self._last = None, None
            raise RecordError(f"{v.path} is damaged near frame {i} ({exc}): the picture cannot be decoded") from None
        if image is None:
            raise RecordError(f"{v.path}: frame {i} cannot be decoded (the file is damaged or cut short)")
        return image

    def _seek(self, key: int) -> None:
        self.seeks += 1
        self._container.seek(int(self.video.pts[key]), stream=self._stream, backward=True, any_frame=False)
        self._frames, self._last = self._container.decode(self._stream), None

    def _forward(self, i: int) -> np.ndarray | None:
        """Decode on to frame i; a picture the decoder lost shows the one before. None when the
        first picture decoded is already past i."""
        best = self._last  # (index, BGR array or av.VideoFrame) of the newest picture <= i
        while True:
            frame = next(self._frames, None)
            if frame is None:
                self._frames = None  # the stream's end: a later request seeks again
                break
            n = self._index_of.get(frame.pts) if frame.pts is not None else None
            if n is None or (best is not None and n <= best[0]):
                continue
            if n > i:
                self._frames = None  # one picture too far (i was lost): the next request seeks
                break
            best = (n, frame)
            if n == i:
                break
        if best is None:
            return None
        image = best[1] if isinstance(best[1], np.ndarray) else best[1].to_ndarray(format="bgr24")
        self._last = (best[0], image)
        return image


def beside_videos(tlog, t_start_s: float, t_end_s: float) -> list[tuple[Path, float, str]]:
    """Videos in the log's folder whose time (file name, else metadata) overlaps the log's span:
    (path, start_utc_s, start_source), the largest overlap first. Reads the folder and the
    containers' headers: run it off the GUI thread."""
    import av

    found = []
    files = sorted(p for p in Path(tlog).parent.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    for path in files[:BESIDE_MAX_FILES]:
        try:
            with av.open(str(path)) as c:
                if not c.streams.video:
                    continue
                duration = (c.duration or 0) / av.time_base or 1.0  # a browser's WebM often says no length
                start = _metadata_time_utc_s(c)
        except (av.FFmpegError, OSError, UnicodeDecodeError):
            continue  # not a video: nothing to offer
        source = "metadata"
        if start is None:
            start, source = name_time_utc_s(path.stem), "file name"
        if start is None:
            continue
        overlap = min(t_end_s, start + duration) - max(t_start_s, start)
        if overlap > 0:
            found.append((overlap, path, start, source))
    return [(p, s, src) for _, p, s, src in sorted(found, key=lambda f: -f[0])]
