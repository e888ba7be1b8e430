"""A record's camera frames and sonar pings as one time-ordered stream of detector inputs,
each source read ahead on its own thread (ReadAhead: decoding H.264, parsing pings and
drawing their fan images release the GIL for most of their time), and the detector run a
few frames ahead on a thread pool (DetectedAhead), so both cores work. Nothing is
dropped: the read-ahead queues are bounded and block the readers instead.

Threads: a ReadAhead's items are produced on its own thread and taken by ONE consumer
thread; a DetectedAhead is submitted to and called from ONE thread (the analysis'), its
pool threads only run the detector.
"""
from __future__ import annotations

import concurrent.futures
import heapq
import queue
import threading
import time

from recording.errors import RecordError

READ_AHEAD = 8  # frames decoded ahead of the detector: 8 x 0.9 MB at 640x480
POLL_S = 0.5
STALL_S = 120.0  # a reader that hands nothing over for this long is stuck (a damaged file, a hung decoder)
_END = object()


class ReadAhead:
    """Iterates `items` on its own thread, `size` items ahead; `busy_s` is the time the
    thread spent producing them. close() stops it (bounded join)."""

    def __init__(self, items, name: str, size: int = READ_AHEAD):
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self.busy_s = 0.0
        self.count = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        it = iter(self._items)
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                item = _END
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
                item = exc
            self.busy_s += time.perf_counter() - t0
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=POLL_S)
                    break
                except queue.Full:
                    continue
            if item is _END or isinstance(item, BaseException):
                return
            self.count += 1

    def __iter__(self):
        waited = 0.0
        while True:
            try:
                item = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                waited += POLL_S
                if waited >= STALL_S or not self._thread.is_alive() and self._queue.empty():
                    raise RecordError(f"{self._thread.name}: nothing read for {waited:.0f} s; the record's files "
                                      "may be damaged: run `hullwatch verify`") from None
                continue
            waited = 0.0
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._thread.join(timeout_s)


def camera_inputs(reader, capture_utc):
    """("camera", FrameIn) for every recorded frame, at its capture time (UTC).

    Decoded frame by frame (VideoRecordReader.decode keeps its decoder stepping forward),
    not with iter_decoded: that one's frame-threaded decoder, dropped with pictures in
    flight (an analysis stopped early), deadlocks freeing them (FFmpeg joins its threads
    under the GIL while they wait for it to release PyAV's packets)."""
    from vision.detect.pipeline import FrameIn

    for frame in range(reader.frame_count):
        yield "camera", FrameIn(reader.decode(frame), float(capture_utc[frame]), frame)


def sonar_inputs(reader):
    """("sonar", FrameIn) for every recorded ping: its fan image as the live sonar detector
    sees it (vision.detect.feeder.sonar_frame_in), at its receive time (UTC)."""
    from vision.detect.feeder import sonar_frame_in

    convert = sonar_frame_in()
    for _, _, ping in reader.iter_pings():
        yield "sonar", convert(ping)


def merged(*streams):
    """One stream in time order (ties: camera before sonar, then frame order): the order
    the live station met them in, and the same on every run."""
    return heapq.merge(*streams, key=lambda item: (item[1].t_s, item[0], item[1].index))


class DetectedAhead:
    """The detector's half of a DetectionPipeline, run ahead on a pool of threads: frames are
    detected several at a time (ONNX Runtime releases the GIL, one session serves all
    threads), while tracking, alarms and the map take the results one by one in time order
    on the caller's thread. Used as the pipeline's detector: calling it with a frame's image
    returns that frame's detections, computed ahead with the confidence the tracker asks
    for. Results are those of the detector alone, whatever the number of workers."""

    def __init__(self, detector, pool, conf: float):
        self.detector = detector
        self.card = detector.card
        self.classes = detector.classes
        self.model_path = getattr(detector, "model_path", None)  # where the card's alarm verifier lives
        self.last_timings_ms: dict = {}
        self._pool = pool
        self._conf = conf
        self._pending: dict[int, object] = {}
        self.busy_s = 0.0  # on the pool's threads, detecting
        self.waited_s = 0.0  # on the caller's thread, waiting for a frame's detections

    def submit(self, image) -> None:
        self._pending[id(image)] = self._pool.submit(self._detect, image)

    def _detect(self, image):
        t0 = time.perf_counter()
        det = self.detector(image, conf=self._conf)
        return det, time.perf_counter() - t0

    def __call__(self, image, conf: float | None = None):
        future = self._pending.pop(id(image), None)
        if future is None or conf != self._conf:  # not submitted ahead: detect here
            return self.detector(image, conf=conf)
        t0 = time.perf_counter()
        try:
            det, took_s = future.result(timeout=STALL_S)
        except concurrent.futures.TimeoutError:
            raise RuntimeError(f"detecting one frame took over {STALL_S:.0f} s: the computer is overloaded") from None
        self.waited_s += time.perf_counter() - t0
        self.busy_s += took_s
        self.last_timings_ms = {"detect": took_s * 1e3}
        return det
