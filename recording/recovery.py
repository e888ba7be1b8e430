"""Interrupted records (the station was killed, the power went): found at the next start,
closed properly and described.

A record is interrupted when its mission.json still says "recording" and no station holds
its .recording.lock (an flock dies with its process, so a crashed station never keeps
it). Recovery keeps every byte that reached the disk: the event log is reopened (SQLite
replays its write-ahead log), the media indexes are read up to their last complete line,
the recovery itself is appended to the event chain, mission.json says "recovered" with the
time of the last data, and the manifest is signed as at an orderly close.
"""
from __future__ import annotations

import dataclasses
import fcntl
import os
import time
from pathlib import Path

from .errors import RecordError
from .mission_record import MISSION_FILE, read_mission, utc_iso
from .recorder import LOCK_FILE, RESERVE_FILE


@dataclasses.dataclass(frozen=True)
class Recovered:
    folder: Path
    started_utc: str
    last_data_utc: str | None
    video_frames: int
    sonar_pings: int
    events: int
    tlog_bytes: int
    manifest_sha256: str

    def describe(self) -> str:
        return (f"recovered the interrupted record {self.folder.name}: started {self.started_utc}, last data "
                f"{self.last_data_utc or 'none'}; kept {self.video_frames} video frames, {self.sonar_pings} sonar "
                f"pings, {self.events} events and {self.tlog_bytes / 1e6:.1f} MB of telemetry; it is now closed "
                f"and signed")


def find_interrupted(root: Path) -> list[Path]:
    """Records under root that were recording when their station stopped."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for mission in sorted(root.glob(f"*/{MISSION_FILE}")):
        folder = mission.parent
        try:
            if read_mission(folder)["state"] != "recording":
                continue
        except RecordError:
            continue
        fd = _try_lock(folder)
        if fd is not None:
            os.close(fd)
            out.append(folder)
    return out


def _try_lock(folder: Path) -> int | None:
    """The record's lock if nobody holds it, else None."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def recover_record(folder: Path, key=None) -> Recovered:
    from .event_log import EventLog, read_events
    from .finalize import finalize_record
    from .sonar_record import SonarRecordReader
    from .video_replay import VideoRecordReader

    folder = Path(folder)
    doc = read_mission(folder)
    if doc["state"] != "recording":
        raise RecordError(f"{folder.name} is already {doc['state']}: nothing to recover")
    fd = _try_lock(folder)
    if fd is None:
        raise RecordError(f"{folder.name} is being recorded by another HullWatch station right now; "
                          "stop that station first")
    try:
        for leftover in ("mission.json.tmp", RESERVE_FILE):
            (folder / leftover).unlink(missing_ok=True)
        last = []
        frames = pings = 0
        if (folder / "video").is_dir():
            video = VideoRecordReader(folder / "video")
            frames = video.frame_count
            if frames:
                last.append(video.t_utc_s(frames - 1))
        if (folder / "sonar").is_dir():
            sonar = SonarRecordReader(folder / "sonar")
            pings = sonar.ping_count
            if pings:
                last.append(sonar.t_utc_s(pings - 1))
        tlog = folder / "telemetry.tlog"
        tlog_bytes = tlog.stat().st_size if tlog.exists() else 0
        if tlog_bytes:
            last.append(_last_tlog_time(tlog))
        events_path = folder / "events.sqlite"
        if not events_path.exists():
            raise RecordError(f"{folder.name} has no events.sqlite: it cannot be recovered as a record; its "
                              "media files are intact and can be opened with a video player")
        logged = read_events(events_path)
        if logged:
            last.append(logged[-1].t_utc_s)
        last_s = max((t for t in last if t), default=None)
        log = EventLog.open_append(events_path)
        found = {"video_frames": frames, "sonar_pings": pings, "events": len(logged), "tlog_bytes": tlog_bytes,
                 "last_data_utc": utc_iso(last_s) if last_s else None}
        log.append("record_recovered", found, commit=True)
        now = time.time()
        end_s = last_s or doc["start_utc_s"]
        doc.update(state="recovered", end_utc=utc_iso(end_s), end_utc_s=end_s, recovered_utc=utc_iso(now),
                   recovery=found)
        (folder / LOCK_FILE).unlink(missing_ok=True)
        summary = finalize_record(folder, doc, log, key)
    finally:
        os.close(fd)
    return Recovered(folder, doc["start_utc"], found["last_data_utc"], frames, pings, len(logged) + 1, tlog_bytes,
                     summary["manifest_sha256"])


def _last_tlog_time(path: Path) -> float | None:
    """When the tlog was last written: its modification time (the vehicle's tlog writer
    appends as packets arrive, so this is the last packet to within its fsync period)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return None
