"""The mission recorder: one writer thread owns every file of a record while diving.

Producers (the video and sonar reader threads, the detectors, the hull map, the GUI's
actions) only put items on a bounded queue; they never wait and never touch the disk.
When the queue is full the item is dropped and counted, so a slow disk can never stall
detection or the link. The writer thread commits the event log and flushes the media
index files at least every COMMIT_PERIOD_S, so a crash or a power cut loses at most
about a second.

Disk space is checked before the record opens and every DISK_CHECK_PERIOD_S: below
warn_free_bytes a warning (status and event), below stop_free_bytes the media streams
stop and the record stays consistent; a write that hits a full disk stops that stream the
same way. close() drains the queue (bounded), closes every file, marks mission.json
closed and signs the manifest (SHA-256 of every file, the event chain's head).

The record folder holds .recording.lock (an flock held while recording) so the next start
can tell an interrupted record from one being written by another station, and .reserve, a
few MB set aside at the start: when the disk fills up it is deleted, so the event log,
mission.json and the signed manifest still have room to close the record cleanly.
"""
from __future__ import annotations

import dataclasses
import fcntl
import os
import queue
import shutil
import threading
import time
from pathlib import Path

from .errors import RecordError
from .mission_record import PLAN_FILE, MissionInfo, new_mission_doc, record_folder_name, utc_iso, write_mission

COMMIT_PERIOD_S = 0.5
DISK_CHECK_PERIOD_S = 5.0
QUEUE_ITEMS = 4096  # ~ 40 s of video + sonar + events at the embedded world's rates
DRAIN_TIMEOUT_S = 10.0
LOCK_FILE = ".recording.lock"
RESERVE_FILE = ".reserve"
RESERVE_BYTES = 4 << 20
WARN_FREE_BYTES = 2 << 30
STOP_FREE_BYTES = 256 << 20


@dataclasses.dataclass(frozen=True)
class RecorderStatus:
    recording: bool
    folder: str
    t_elapsed_s: float
    video_frames: int
    sonar_pings: int
    events: int
    files: int
    dropped: int  # items the full queue refused
    disk_free_bytes: int | None
    warning: str  # "" when all is well
    media_stopped: bool


class MissionRecorder:
    def __init__(self, root: Path, info: MissionInfo, *, software: dict | None = None, models: dict | None = None,
                 vehicle: dict | None = None, key=None, warn_free_bytes: int = WARN_FREE_BYTES,
                 stop_free_bytes: int = STOP_FREE_BYTES, reserve_bytes: int = RESERVE_BYTES,
                 disk_check_s: float = DISK_CHECK_PERIOD_S, hull: dict | None = None) -> None:
        """hull: what the map was made on (mission_record's "hull": name, parametric
        dimensions or source path + SHA-256, placement), for re-analysis."""
        problems = info.problems()
        if problems:
            raise RecordError("; ".join(problems))
        self.root = Path(root)
        self.info = info
        self._software = software if software is not None else {}
        self._models = models or {}
        self._vehicle = vehicle or {}
        self._hull = hull
        self._key = key
        self.warn_free_bytes, self.stop_free_bytes = warn_free_bytes, stop_free_bytes
        self.reserve_bytes, self.disk_check_s = reserve_bytes, disk_check_s
        self.folder: Path | None = None
        self.doc: dict = {}
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_ITEMS)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock_fd: int | None = None
        self._n = {"video": 0, "sonar": 0, "events": 0, "files": 0, "dropped": 0}
        self._warning = ""
        self._media_stopped = False
        self._free: int | None = None
        self._t0 = 0.0
        self.events = self.video = self.sonar = None
        self.closed_summary: dict | None = None

    # ---- start ----------------------------------------------------------------------
    def start(self) -> "MissionRecorder":
        from .event_log import EventLog
        from .sonar_record import SonarRecorder
        from .video_record import VideoRecorder

        t_utc = time.time()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(self.root).free
        except OSError as exc:
            raise RecordError(f"cannot use {self.root} for records ({exc.strerror or exc}); choose another "
                              "folder") from None
        if free < self.stop_free_bytes:
            raise RecordError(f"only {free / 1e6:.0f} MB free on {self.root}: free some space or record to "
                              "another disk before diving")
        folder = self.root / record_folder_name(self.info, t_utc)
        n = 1
        while folder.exists():
            n += 1
            folder = self.root / f"{record_folder_name(self.info, t_utc)}_{n}"
        folder.mkdir()
        self.folder = folder
        self._take_lock()
        self._make_reserve()
        self.doc = new_mission_doc(self.info, t_utc, software=self._software, models=self._models,
                                   vehicle=self._vehicle, hull=self._hull)
        if self.info.plan_path:
            shutil.copyfile(self.info.plan_path, folder / PLAN_FILE)
        write_mission(folder, self.doc)
        self.events = EventLog.create(folder / "events.sqlite", self.doc["record_id"])
        self.events.append("record_started", {"folder": folder.name, "disk_free_bytes": free}, t_utc_s=t_utc,
                           commit=True)
        self._n["events"] += 1
        self.video = VideoRecorder(folder / "video")
        self.sonar = SonarRecorder(folder / "sonar")
        self._free = free
        self._t0 = time.monotonic()
        if free < self.warn_free_bytes:
            self._warn(free)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        return self

    def _make_reserve(self) -> None:
        try:
            fd = os.open(self.folder / RESERVE_FILE, os.O_CREAT | os.O_WRONLY, 0o644)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
            finally:
                os.close(fd)
        except OSError as exc:
            self._release_reserve()
            raise RecordError(f"cannot set aside {self.reserve_bytes >> 20} MB in {self.folder} "
                              f"({exc.strerror or exc}): free some disk space before recording") from None

    def _release_reserve(self) -> None:
        if self.folder is not None:
            try:
                (self.folder / RESERVE_FILE).unlink(missing_ok=True)
            except OSError:
                pass

    def _take_lock(self) -> None:
        fd = os.open(self.folder / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    # ---- producers (any thread; never block) --------------------------------------------
    def on_access_unit(self, au, t_mono_s: float, t_utc_s: float) -> None:
        self._put(("video", au, t_mono_s, t_utc_s))

    def on_sonar_message(self, raw: bytes, t_mono_s: float, t_utc_s: float) -> None:
        self._put(("sonar", raw, t_mono_s, t_utc_s))

    def event(self, kind: str, payload: dict, t_utc_s: float | None = None) -> None:
        self._put(("event", kind, payload, time.time() if t_utc_s is None else t_utc_s))

    def add_file(self, relpath: str, data: bytes, kind: str, payload: dict, t_utc_s: float | None = None) -> None:
        """A file (an alarm's snapshot, a map snapshot) and the event that refers to it."""
        self._put(("file", relpath, data, kind, payload, time.time() if t_utc_s is None else t_utc_s))

    def _put(self, item) -> None:
        if self._stop.is_set():
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._n["dropped"] += 1

    # ---- writer thread ----------------------------------------------------------------
    def _run(self) -> None:
        next_commit = time.monotonic() + COMMIT_PERIOD_S
        next_disk = time.monotonic() + self.disk_check_s
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                item = None
            if item is not None:
                self._write(item)
            now = time.monotonic()
            if now >= next_commit:
                self._commit()
                next_commit = now + COMMIT_PERIOD_S
            if now >= next_disk:
                self._check_disk()
                next_disk = now + self.disk_check_s
            if self._stop.is_set() and self._queue.empty():
                self._commit()
                return

    def _write(self, item) -> None:
        from .errors import RecordDiskFull

        kind = item[0]
        try:
            if kind == "video" and not self._media_stopped:
                if self.video.write(item[1], item[2], item[3]) is not None:
                    self._n["video"] += 1
                elif self.video.disk_full:
                    self._stop_media(f"video: {self.video.error}")
            elif kind == "sonar" and not self._media_stopped:
                if self.sonar.write(item[1], item[2], item[3]) is not None:
                    self._n["sonar"] += 1
                elif self.sonar.disk_full:
                    self._stop_media(f"sonar: {self.sonar.error}")
            elif kind == "event":
                self.events.append(item[1], item[2], t_utc_s=item[3])
                self._n["events"] += 1
            elif kind == "file" and not self._media_stopped:
                self._write_file(*item[1:])
        except RecordDiskFull as exc:
            self._stop_media(str(exc))
        except RecordError as exc:
            self._warning = str(exc)

    def _write_file(self, relpath: str, data: bytes, kind: str, payload: dict, t_utc_s: float) -> None:
        import hashlib

        path = self.folder / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "xb") as f:
                f.write(data)
        except FileExistsError:
            self._warning = f"{relpath} exists already: not overwritten"
            return
        except OSError as exc:
            path.unlink(missing_ok=True)
            self._stop_media(f"{relpath}: {exc.strerror or exc}")
            return
        self._n["files"] += 1
        self.events.append(kind, {**payload, "file": relpath, "sha256": hashlib.sha256(data).hexdigest()},
                           t_utc_s=t_utc_s)
        self._n["events"] += 1

    def _commit(self) -> None:
        from .errors import RecordDiskFull

        try:
            self.events.commit()
        except RecordDiskFull as exc:
            self._stop_media(str(exc))
        for writer in (self.video, self.sonar):
            try:
                writer.flush()
            except (OSError, RecordError):
                pass

    def _check_disk(self) -> None:
        try:
            free = shutil.disk_usage(self.folder).free
        except OSError:
            return
        self._free = free
        if free < self.stop_free_bytes and not self._media_stopped:
            self._stop_media(f"only {free / 1e6:.0f} MB free on the record's disk")
        elif free < self.warn_free_bytes and not self._warning:
            self._warn(free)

    def _warn(self, free: int) -> None:
        rate = self._bytes_per_s()
        left = f", about {free / rate / 60:.0f} min of recording left" if rate > 0 else ""
        self._warning = f"disk nearly full: {free / 1e9:.1f} GB free on {self.root}{left}"
        if self.events is not None:
            try:
                self.events.append("disk_warning", {"disk_free_bytes": free, "text": self._warning})
                self._n["events"] += 1
            except RecordError:
                pass

    def _bytes_per_s(self) -> float:
        elapsed = time.monotonic() - self._t0
        if elapsed < 5.0 or self.folder is None:
            return 0.0
        size = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        return size / elapsed

    def _stop_media(self, why: str) -> None:
        """Stop video, sonar and snapshots; events (small) go on while the disk takes them."""
        if self._media_stopped:
            return
        self._media_stopped = True
        self._release_reserve()  # room for the events and the closing
        self._warning = f"recording of video and sonar stopped: {why}. Free disk space; what was recorded is safe"
        for writer in (self.video, self.sonar):
            try:
                writer.close()
            except (OSError, RecordError):
                pass
        try:
            self.events.append("media_stopped", {"reason": why}, commit=True)
            self._n["events"] += 1
        except RecordError:
            pass

    # ---- status and close --------------------------------------------------------------
    def status(self) -> RecorderStatus:
        return RecorderStatus(self._thread is not None and not self._stop.is_set(), str(self.folder or ""),
                              time.monotonic() - self._t0 if self._t0 else 0.0, self._n["video"],
                              self._n["sonar"], self._n["events"], self._n["files"], self._n["dropped"],
                              self._free, self._warning, self._media_stopped)

    def close(self, timeout_s: float = DRAIN_TIMEOUT_S) -> dict:
        """Drain, close every file, mark mission.json closed, sign the manifest. Returns a
        summary {folder, duration_s, video_frames, ...}. Safe to call twice."""
        if self.closed_summary is not None or self.folder is None:
            return self.closed_summary or {}
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                raise RecordError(f"the recorder did not finish writing within {timeout_s:.0f} s; the record "
                                  f"{self.folder} will be recovered at the next start")
        from .finalize import finalize_record

        self._release_reserve()
        t_end = time.time()
        status = self.status()
        for writer in (self.video, self.sonar):
            try:
                writer.close()
            except (OSError, RecordError):
                pass
        self.events.append("record_closed", {"video_frames": status.video_frames, "sonar_pings": status.sonar_pings,
                                             "dropped": status.dropped, "warning": status.warning},
                           t_utc_s=t_end, commit=True)
        self.doc.update(state="closed", end_utc=utc_iso(t_end), end_utc_s=t_end)
        (self.folder / LOCK_FILE).unlink(missing_ok=True)  # still held (flock on the open fd) until finalised
        self.closed_summary = finalize_record(self.folder, self.doc, self.events, self._key)
        self._release_lock()
        self.closed_summary.update(duration_s=t_end - self.doc["start_utc_s"], video_frames=status.video_frames,
                                   sonar_pings=status.sonar_pings, events=status.events + 1,
                                   dropped=status.dropped, warning=status.warning)
        return self.closed_summary

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
