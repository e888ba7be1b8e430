"""Camera video into the project: a background thread fills a latest-frame slot of size 1.

``VideoSource(url)`` reads one of
  * ``udp://0.0.0.0:5600`` or ``rtp://...`` (also ``udp://:5600``, ``udp://@:5600``): H.264
    over RTP as BlueOS sends it, with our own depacketizer (``rtp_h264``) and a PyAV
    ``CodecContext`` decoder. No SDP needed; a sender restart (new SSRC) is picked up
    without reopening the socket, decoding resumes at its first IDR.
  * a video file (a path or ``file://``; mp4/avi/mkv/... via PyAV). By default every frame
    is delivered (the reader waits for the consumer); ``realtime=True`` paces it by pts
    and drops frames like a live source.
  * any other URL FFmpeg opens (``rtsp://...``): reopened after an error or end of stream.

Frames are immutable ``VideoFrame``s. ``t_received_s`` is ``time.monotonic()`` when the
frame was decoded. ``t_capture_s`` is, for RTP, the sender's 90 kHz timestamp mapped onto
the monotonic clock (anchored on the fastest packet seen, so ``t_capture_s <=
t_received_s``; the difference is latency beyond the best case); for files it is the
media time of the frame (pts) in seconds. When the consumer is slower than the camera,
the older frame is replaced and counted in ``stats().frames_dropped``. Every wait has a
timeout and ``close()`` joins the thread with one.

RTP only: ``access_unit_listeners`` are called on the reader thread with every access unit
the depacketizer completes, before decoding (so the recorder keeps the stream exactly as
sent); a listener that raises is logged once and the video goes on.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable
from urllib.parse import urlsplit

import numpy as np

from vision.video.rtp_h264 import RTP_CLOCK_HZ, AccessUnit, H264Depacketizer, RtpStats

LOG = logging.getLogger(__name__)

DEFAULT_RTP_PORT = 5600
SOCKET_TIMEOUT_S = 0.1  # the reader thread checks for close() at least this often
RECV_BUFFER_BYTES = 4 * 1024 * 1024  # an IDR burst at 1080p fits
DATAGRAM_MAX = 65535


class VideoSourceError(RuntimeError):
    """The source cannot deliver frames (cannot be opened, or failed for good)."""


class EndOfStream(EOFError):
    """A file source has delivered its last frame."""


@dataclass(frozen=True, eq=False)
class VideoFrame:
    index: int  # 0, 1, 2, ... in the order this source decoded them
    t_capture_s: float
    t_received_s: float  # time.monotonic()
    image: np.ndarray  # HxWx3 uint8 BGR, read-only
    damaged: bool = False  # decoded after packet loss, before the next clean IDR (concealed)
    stream_id: int = 0  # increments when the sender restarts

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]


@dataclass(frozen=True)
class VideoStats:
    frames_decoded: int = 0
    frames_read: int = 0
    frames_dropped: int = 0  # replaced in the slot before anyone read them
    damaged_frames: int = 0
    decode_errors: int = 0
    skipped_access_units: int = 0  # before the first IDR of a stream (joined late)
    reconnects: int = 0
    rtp: RtpStats | None = None
    last_error: str = ""
    running: bool = False
    ended: bool = False


@dataclass
class _Counters:
    frames_decoded: int = 0
    frames_read: int = 0
    frames_dropped: int = 0
    damaged_frames: int = 0
    decode_errors: int = 0
    skipped_access_units: int = 0
    reconnects: int = 0
    last_error: str = ""


def _parse_rtp_url(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if parts.scheme not in ("udp", "rtp"):
        return None
    netloc = parts.netloc.lstrip("@")
    host, _, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port) if port else DEFAULT_RTP_PORT


def _is_file(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("", "file") or (len(parts.scheme) == 1 and os.name == "nt")  # C:\...


class VideoSource:
    """Latest-frame video reader on its own thread. Use as a context manager or call
    ``start()`` then ``close()``."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, payload_type: int | None = 96,
                 realtime: bool = False, open_timeout_s: float = 5.0, read_timeout_s: float = 2.0,
                 reconnect_delay_s: float = 1.0, av_options: dict[str, str] | None = None) -> None:
        """``timeout_s``: default wait of ``read()``. ``realtime`` (files only): pace by pts
        and drop frames the consumer misses. ``open_timeout_s``/``read_timeout_s``: given to
        FFmpeg for files and URLs. ``av_options``: extra FFmpeg options for ``av.open``."""
        self.url = url
        self.timeout_s = timeout_s
        self.payload_type = payload_type
        self.realtime = realtime
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.reconnect_delay_s = reconnect_delay_s
        self.av_options = dict(av_options or {})
        self._rtp_addr = _parse_rtp_url(url)
        self.kind = "rtp" if self._rtp_addr else ("file" if _is_file(url) else "url")
        self._lossless = self.kind == "file" and not realtime

        self._cond = threading.Condition()
        self._slot: VideoFrame | None = None  # newest frame nobody has read yet
        self._latest: VideoFrame | None = None  # newest frame, read or not
        self._ended = False
        self._fatal: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._depacketizer: H264Depacketizer | None = None
        self._n = _Counters()
        self._next_index = 0
        # (au, t_received_mono_s, t_received_utc_s) for every access unit the RTP depacketizer
        # completes, before decoding (the recorder keeps the stream as sent); reader thread
        self.access_unit_listeners: list[Callable[[AccessUnit, float, float], None]] = []
        self._failed_listeners: set[int] = set()  # ids of listeners already logged as failing

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> VideoSource:
        """Open the source and start the reader thread. A UDP port that cannot be bound
        raises ``OSError`` here; files and URLs report open errors through ``read()``."""
        if self._thread is not None:
            return self
        if self.kind == "rtp":
            host, port = self._rtp_addr
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER_BYTES)
                sock.bind((host, port))
            except OSError:
                sock.close()
                raise
            sock.settimeout(SOCKET_TIMEOUT_S)
            self._sock = sock
            self._depacketizer = H264Depacketizer(self.payload_type)
            target = self._run_rtp
        else:
            target = self._run_av
        self._thread = threading.Thread(target=self._guard, args=(target,), name=f"video:{self.url}", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_s: float = 3.0) -> bool:
        """Stop the reader thread; True if it exited within ``timeout_s``."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        joined = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            joined = not self._thread.is_alive()
        if self._sock is not None and joined:
            self._sock.close()
        return joined

    def __enter__(self) -> VideoSource:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def local_port(self) -> int | None:
        """The bound UDP port (useful with port 0)."""
        return self._sock.getsockname()[1] if self._sock is not None else None

    # -- consumer side ---------------------------------------------------------------
    def read(self, timeout_s: float | None = None) -> VideoFrame:
        """The next frame not yet read (waits up to ``timeout_s``, default ``self.timeout_s``).
        Raises ``TimeoutError`` if none arrives, ``EndOfStream`` after a file's last frame,
        ``VideoSourceError`` if the source failed."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._slot is None:
                if self._fatal is not None:
                    raise VideoSourceError(f"video source {self.url} failed: {self._fatal}") from self._fatal
                if self._ended:
                    raise EndOfStream(f"end of video {self.url}")
                if self._thread is None:
                    raise VideoSourceError("VideoSource.read() before start()")
                if self._stop.is_set():
                    raise VideoSourceError(f"video source {self.url} is closed")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                self._cond.wait(remaining)
            frame, self._slot = self._slot, None
            self._n.frames_read += 1
            self._cond.notify_all()  # a lossless file reader may be waiting for the slot
            return frame

    def latest(self) -> VideoFrame | None:
        """The newest decoded frame (read or not), without waiting; None before the first."""
        return self._latest

    def __iter__(self):
        """Frames until end of stream; each wait is bounded by ``self.timeout_s``."""
        while True:
            try:
                yield self.read()
            except EndOfStream:
                return

    def stats(self) -> VideoStats:
        n = self._n
        rtp = replace(self._depacketizer.stats) if self._depacketizer is not None else None
        return VideoStats(n.frames_decoded, n.frames_read, n.frames_dropped, n.damaged_frames, n.decode_errors,
                          n.skipped_access_units, n.reconnects, rtp, n.last_error,
                          self._thread is not None and self._thread.is_alive(), self._ended)

    def _timeout_message(self, timeout: float) -> str:
        msg = f"no video frame from {self.url} within {timeout:.1f} s"
        if self._depacketizer is not None:
            s = self._depacketizer.stats
            if s.datagrams == 0:
                msg += f" (no datagrams received on UDP port {self.local_port}: is the vehicle streaming to this host?)"
            else:
                msg += (f" ({s.datagrams} datagrams, {s.invalid_datagrams} not RTP/H.264 payload type "
                        f"{self.payload_type}, {s.access_units} access units, "
                        f"{self._n.skipped_access_units} skipped waiting for an IDR)")
        elif self._n.last_error:
            msg += f" (last error: {self._n.last_error})"
        return msg

    # -- producer side (reader thread) -----------------------------------------------
    def _publish(self, image: np.ndarray, t_capture_s: float, t_received_s: float,
                 damaged: bool = False, stream_id: int = 0) -> None:
        image.flags.writeable = False
        with self._cond:
            while self._lossless and self._slot is not None and not self._stop.is_set():
                self._cond.wait(SOCKET_TIMEOUT_S)
            frame = VideoFrame(self._next_index, t_capture_s, t_received_s, image, damaged, stream_id)
            self._next_index += 1
            self._n.frames_decoded += 1
            self._n.damaged_frames += damaged
            if self._slot is not None:
                self._n.frames_dropped += 1
            self._slot = frame
            self._latest = frame
            self._cond.notify_all()

    def _guard(self, target) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - surfaced to the consumer by read()
            self._n.last_error = repr(exc)
            self._fatal = exc
        finally:
            with self._cond:
                self._ended = self._ended or self._fatal is not None
                self._cond.notify_all()

    def _run_rtp(self) -> None:
        import av

        sock, depack = self._sock, self._depacketizer
        assert sock is not None and depack is not None
        decoder = None
        stream_id = -1
        need_idr = True
        params_seen = False  # SPS and PPS of this stream reached the decoder
        damaged = False
        anchor = 0.0  # monotonic seconds at RTP time 0 of the current stream
        last_capture = float("-inf")
        while not self._stop.is_set():
            try:
                datagram = sock.recv(DATAGRAM_MAX)
            except (TimeoutError, socket.timeout):
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                self._n.last_error = f"UDP receive: {exc}"
                time.sleep(SOCKET_TIMEOUT_S)
                continue
            t_rx = time.monotonic()
            t_rx_utc = time.time()
            for au in depack.push(datagram):
                self._notify_access_unit(au, t_rx, t_rx_utc)
                if au.stream_id != stream_id:  # first stream, or the sender restarted
                    stream_id = au.stream_id
                    decoder = self._new_decoder(av)
                    need_idr, params_seen, damaged = True, False, False
                    anchor = t_rx - au.rtp_time_s
                if need_idr:  # joined late or restarted: start at the first clean IDR
                    params_seen |= au.has_parameter_sets and not au.damaged
                    if not (au.keyframe and params_seen) or au.damaged:
                        if au.has_parameter_sets and not au.damaged:
                            self._decode(decoder, au)  # SPS/PPS sent apart from the IDR
                        else:
                            self._n.skipped_access_units += 1
                        continue
                    need_idr = False
                damaged = au.damaged or (damaged and not au.keyframe)
                for image in self._decode(decoder, au):
                    t_now = time.monotonic()
                    if anchor + au.rtp_time_s > t_rx:  # this one came faster: re-anchor
                        anchor = t_rx - au.rtp_time_s
                    t_capture = max(anchor + au.rtp_time_s, last_capture)
                    last_capture = t_capture
                    self._publish(image, t_capture, t_now, damaged, stream_id)

    def _notify_access_unit(self, au: AccessUnit, t_mono_s: float, t_utc_s: float) -> None:
        for listener in list(self.access_unit_listeners):
            try:
                listener(au, t_mono_s, t_utc_s)
            except Exception:  # noqa: BLE001 - a failing listener must not stop the video
                if id(listener) not in self._failed_listeners:
                    self._failed_listeners.add(id(listener))
                    LOG.exception("video %s: access unit listener %r failed (logged once)", self.url, listener)

    @staticmethod
    def _new_decoder(av):
        decoder = av.CodecContext.create("h264", "r")
        decoder.thread_type = "SLICE"  # frame threading would hold frames back
        return decoder

    def _decode(self, decoder, au: AccessUnit) -> list[np.ndarray]:
        import av

        try:
            frames = decoder.decode(av.Packet(au.data))
        except (av.FFmpegError, ValueError) as exc:
            self._n.decode_errors += 1
            self._n.last_error = f"H.264 decode: {exc}"
            return []
        return [f.to_ndarray(format="bgr24") for f in frames]

    def _run_av(self) -> None:
        import av

        path = urlsplit(self.url).path if self.url.startswith("file://") else self.url
        live = self.kind == "url"
        while not self._stop.is_set():
            try:
                self._play(av, path, live)
                if not live:
                    with self._cond:
                        self._ended = True
                    return
            except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
                self._n.last_error = f"{type(exc).__name__}: {exc}"
                if not live:
                    raise VideoSourceError(self._n.last_error) from exc
            if self._stop.wait(self.reconnect_delay_s):
                return
            self._n.reconnects += 1

    def _play(self, av, path: str, live: bool) -> None:
        container = av.open(path, options=self.av_options, timeout=(self.open_timeout_s, self.read_timeout_s))
        try:
            stream = container.streams.video[0]
            stream.thread_type = "SLICE" if live else "AUTO"
            anchor = None
            wall0 = media0 = None
            last_capture = float("-inf")
            for frame in container.decode(stream):
                if self._stop.is_set():
                    return
                t_rx = time.monotonic()
                media_t = frame.time
                if media_t is None:
                    rate = float(stream.average_rate or 30)
                    media_t = self._next_index / rate
                if live:
                    if anchor is None or anchor + media_t > t_rx:
                        anchor = t_rx - media_t
                    t_capture = max(anchor + media_t, last_capture)
                    last_capture = t_capture
                else:
                    t_capture = media_t
                    if self.realtime:
                        if wall0 is None:
                            wall0, media0 = t_rx, media_t
                        delay = (media_t - media0) - (time.monotonic() - wall0)
                        if delay > 0 and self._stop.wait(delay):
                            return
                self._publish(frame.to_ndarray(format="bgr24"), t_capture, time.monotonic())
        finally:
            container.close()
