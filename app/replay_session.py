"""One opened record (or bare .tlog) for replay and review: every stream on one UTC timeline.

A record's video is placed by its frames' capture times (app.record_analysis_inputs
.capture_times_utc: the RTP clock anchored on the fastest frame), so a frame lines up with
the telemetry of the moment it was taken, not with when the station happened to receive it.

What a reviewer gets when parts are missing: a record without a video/ (or sonar/) folder
opens without it and `notes` says so (the telemetry, sonar and findings still tell the
story); a record whose video index lists segments that are gone is refused with a RecordError
naming the missing file, since a silently shorter video would mislead.

Read-only and immutable after open() (the hull is rebuilt once, under a lock): any thread may
query it. Decoding needs a reader per thread: open_video_reader()/open_sonar_reader().
"""
from __future__ import annotations

import bisect
import copy
import dataclasses
import datetime as dt
import threading
from pathlib import Path

import numpy as np

from recording.errors import RecordError

from .replay_telemetry import TelemetryTimeline
from .telemetry_line import forward_standoff_m, overlay_line

WARNING_KINDS = ("media_stopped", "disk_warning", "record_recovered", "vehicle_LinkLost", "vehicle_FailsafeRaised")
STATUSTEXT_MARK_SEVERITY = 4  # MAV_SEVERITY_WARNING and worse become marks
_TELEMETRY_WARNINGS = ("failsafe", "leak", "link_gap")


@dataclasses.dataclass(frozen=True)
class Mark:
    t_utc_s: float
    kind: str  # "alarm" | "finding" | "event" | "warning"
    ref_id: int | None  # alarm id, finding id; None for the others
    label: str
    source: str  # "camera", "sonar", "telemetry", "record", "vehicle"


def _label(kind: str, ref, p: dict) -> str:  # "alarm 3: parasitic_container 82%, starboard 40.0 m from the stern"
    conf, where = p.get("confidence", p.get("best_confidence")), p.get("address")
    where = f", {where['side']} {where.get('x_from_stern_m') or 0:.1f} m from the stern" \
        if isinstance(where, dict) and where.get("side") else ""
    return f"{kind} {ref}: {p.get('class_name') or '?'}" + (f" {conf:.0%}" if isinstance(conf, float) else "") + where


def _utc(t_s: float) -> str:
    return dt.datetime.fromtimestamp(t_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] + " UTC"


class ReplaySession:
    def __init__(self, path: Path) -> None:
        """Use ReplaySession.open()."""
        self.path, self.is_record, self.mission, self.telemetry = Path(path), False, None, None
        self.notes: list[str] = []  # what the record lacks (no video, not closed, ...), for the window to show
        self._events, self._frames, self._capture_t, self._sonar = [], None, np.zeros(0), None
        self._hull, self._hull_lock, self._placement = None, threading.Lock(), None
        self.external_video = None  # app.replay_external_video.ExternalVideo beside a bare log: with_video()

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path, *, progress=None, cancel=None) -> "ReplaySession":
        """A record folder or a telemetry log. RecordError (naming the file, saying what to do)
        for anything else or for a damaged record."""
        s = cls(Path(path))
        if s.path.is_file():
            s.telemetry = TelemetryTimeline.from_tlog(s.path, progress=progress, cancel=cancel)
        elif s.path.is_dir():
            s._open_record(progress, cancel)
        else:
            raise RecordError(f"{s.path} does not exist: choose a record folder or a telemetry log (.tlog)")
        spans = [(s.telemetry.t_start_s, s.telemetry.t_end_s)] if s.telemetry is not None else []
        if len(s._capture_t):
            spans.append((float(s._capture_t[0]), float(s._capture_t[-1])))
        if s._sonar is not None and s._sonar.ping_count:
            spans.append((float(s._sonar.t_utc.min()), float(s._sonar.t_utc.max())))
        if not spans and s.mission and s.mission.get("start_utc_s"):
            spans.append((s.mission["start_utc_s"], s.mission.get("end_utc_s") or s.mission["start_utc_s"]))
        if not spans:
            raise RecordError(f"{s.path} holds no telemetry, video or sonar to replay")
        s.t_start_s, s.t_end_s = min(a for a, _ in spans), max(b for _, b in spans)
        s.marks = s._build_marks()
        return s

    def _open_record(self, progress, cancel) -> None:
        from recording.event_log import read_events
        from recording.mission_record import MISSION_FILE, read_mission

        if not (self.path / MISSION_FILE).is_file():
            raise RecordError(f"{self.path} is not a HullWatch mission record (it has no {MISSION_FILE}): choose "
                              "the folder of one mission, or open a telemetry log with \"Open telemetry log\"")
        self.is_record, self.mission = True, read_mission(self.path)
        if self.mission["state"] == "recording":
            self.notes.append("the record was not closed (still recording, or interrupted): it may end early")
        self._events = read_events(self.path / "events.sqlite")
        self._open_video()
        if (self.path / "sonar").is_dir():
            self._sonar = self.open_sonar_reader()
        else:
            self.notes.append("the record has no sonar/ folder: replay without sonar")
        tlog = self.path / "telemetry.tlog"
        if tlog.is_file():
            self.telemetry = TelemetryTimeline.from_tlog(tlog, progress=progress, cancel=cancel)
        else:
            self.notes.append("the record has no telemetry.tlog: no instruments, track or overlay")
        try:
            from hull.placement import Placement

            self._placement = Placement.from_dict((self.mission.get("hull") or {})["placement"])
        except Exception:  # noqa: BLE001 - no hull or an unusable placement: no trail in the hull frame
            self._placement = None

    def _open_video(self) -> None:
        from recording.video_record import INDEX_FILE, segment_name
        from recording.video_replay import read_frame_index

        from .record_analysis_inputs import capture_times_utc

        folder = self.path / "video"
        if not folder.is_dir():
            self.notes.append("the record has no video/ folder: replay without video")
            return
        if not (folder / INDEX_FILE).is_file():
            raise RecordError(f"{folder / INDEX_FILE} is missing: the record's video cannot be placed in time; "
                              "check the record with `hullwatch verify` and restore it from the original copy")
        self._frames, partial = read_frame_index(folder / INDEX_FILE)
        for seg in sorted(set(self._frames["segment"].tolist())):
            if not (folder / segment_name(seg)).is_file():
                listed = int((self._frames["segment"] == seg).sum())
                raise RecordError(f"{folder / segment_name(seg)} is missing ({listed} frames of video/{INDEX_FILE} are "
                                  "in it): the record's video was deleted or moved; restore it from the original "
                                  "copy, and check the record with `hullwatch verify`")
        self._capture_t = capture_times_utc(self._frames)
        if partial:
            self.notes.append("the video index ends in a line cut short by a crash (dropped)")


    def with_video(self, video) -> "ReplaySession":
        """A copy of this bare-log session replaying `video` (an ExternalVideo another ground
        station recorded beside the log) as its camera; the span grows to cover it."""
        if self.is_record:
            raise RecordError(f"{self.path} is a mission record: its own video is replayed, not {video.path.name}")
        s = copy.copy(self)
        s.external_video, s.notes = video, self.notes + [f"video {video.path.name} aligned by {video.start_text}"]
        s.t_start_s = min(self.t_start_s, video.t0_utc_s)
        s.t_end_s = max(self.t_end_s, video.t0_utc_s + video.duration_s)
        return s

    # ---- what the record holds -------------------------------------------------------------
    @property
    def title(self) -> str:
        if self.external_video is not None:
            return f"{self.path.name} (telemetry log) with {self.external_video.path.name}"
        if not self.is_record:
            return f"{self.path.name} (telemetry log)"
        vessel = (self.mission.get("vessel") or {}).get("name") or "?"
        return f"{vessel}, {self.mission.get('start_utc') or '?'} ({self.path.name})"

    @property
    def has_video(self) -> bool:
        return self.external_video is not None or (self._frames is not None and len(self._frames) > 0)

    @property
    def has_sonar(self) -> bool:
        return self._sonar is not None and len(self._sonar.ping_numbers) > 0

    @property
    def frame_count(self) -> int:
        if self.external_video is not None:
            return self.external_video.frame_count
        return len(self._frames) if self._frames is not None else 0

    def open_video_reader(self):
        """A new recording.video_replay.VideoRecordReader (one per thread), or None; an
        ExternalVideoReader for a log with a video beside it."""
        from recording.video_replay import VideoRecordReader

        if self.external_video is not None:
            return self.external_video.reader()
        return VideoRecordReader(self.path / "video") if self.has_video else None

    def open_sonar_reader(self):
        """A new recording.sonar_record.SonarRecordReader, or None."""
        from recording.sonar_record import SonarRecordReader

        return SonarRecordReader(self.path / "sonar") if (self.path / "sonar").is_dir() and self.is_record else None

    def video_frame_at(self, t_s: float) -> int:
        """The frame shown at t_s: the last one captured at or before it (-1: none)."""
        if self.external_video is not None:
            return self.external_video.frame_at(t_s)
        return int(np.searchsorted(self._capture_t, t_s, side="right")) - 1

    def frame_t_s(self, i: int) -> float:
        if self.external_video is not None:
            return self.external_video.t_utc_s(i)
        return float(self._capture_t[i])

    def keyframe_before(self, i: int) -> int:
        """The keyframe decoding frame i starts from (the cost of a seek)."""
        if self.external_video is not None:
            return self.external_video.keyframe_before(i)
        keys = np.flatnonzero(self._frames["keyframe"][:i + 1])
        return int(keys[-1]) if len(keys) else 0

    def sonar_ping_at(self, t_s: float) -> int:
        return self._sonar.ping_at(t_s) if self._sonar is not None else -1

    def detections_at(self, source: str, t_s: float, window_s: float = 0.25) -> list[dict]:
        """The boxes of the last recorded "detections" event of `source` within window_s before
        t_s, one dict per box (xyxy, confidence, class_name, track_id, frame_index)."""
        times, payloads = self._detections.get(source, ((), ()))
        i = bisect.bisect_right(times, t_s) - 1
        if i < 0 or t_s - times[i] > window_s:
            return []
        p = payloads[i]
        tracks = p.get("track_id") or [None] * len(p.get("xyxy") or ())
        return [{"xyxy": box, "confidence": conf, "class_name": name, "track_id": tid,
                 "frame_index": p.get("frame_index")}
                for box, conf, name, tid in zip(p.get("xyxy") or (), p.get("confidence") or (),
                                                p.get("class_name") or (), tracks)]

    def events_between(self, t0_s: float, t1_s: float) -> list:
        """recording.event_log.Event with t0_s <= t <= t1_s, in time order."""
        lo = bisect.bisect_left(self._event_t, t0_s)
        return self._by_time[lo:bisect.bisect_right(self._event_t, t1_s)]

    # ---- marks -------------------------------------------------------------------------------
    def _build_marks(self) -> list[Mark]:
        self._by_time = sorted(self._events, key=lambda e: e.t_utc_s)
        self._event_t = [e.t_utc_s for e in self._by_time]
        self._detections = {}
        for e in self._by_time:
            if e.kind == "detections":
                times, payloads = self._detections.setdefault(str(e.payload.get("source")), ([], []))
                times.append(e.t_utc_s)
                payloads.append(e.payload)
        marks, seen = [], set()
        for e in self._by_time:
            p = e.payload
            ref = p.get(f"{e.kind}_id") if e.kind in ("alarm", "finding") else None
            if e.kind in ("alarm", "finding") and (e.kind, ref) not in seen:
                seen.add((e.kind, ref))
                source = p.get("source") or ",".join(p.get("sources") or ()) or "?"
                marks.append(Mark(e.t_utc_s, e.kind, ref if isinstance(ref, int) else None, _label(e.kind, ref, p),
                                  str(source)))
            elif e.kind in WARNING_KINDS:
                text = p.get("text") or p.get("reason") or p.get("message") or e.kind.replace("_", " ")
                marks.append(Mark(e.t_utc_s, "warning", None, str(text),
                                  "vehicle" if e.kind.startswith("vehicle_") else "record"))
        for ev in self.telemetry.events if self.telemetry is not None else ():
            if ev.kind == "statustext" and (ev.severity is None or ev.severity > STATUSTEXT_MARK_SEVERITY):
                continue
            marks.append(Mark(ev.t_utc_s, "warning" if ev.kind in _TELEMETRY_WARNINGS else "event", None,
                              ev.text, "telemetry"))
        return sorted(marks, key=lambda m: m.t_utc_s)

    def next_mark(self, t_s: float, direction: int = +1, kinds=("alarm", "finding")) -> Mark | None:
        """The first mark of `kinds` strictly after t_s (direction +1) or before it (-1)."""
        chosen = [m for m in self.marks if m.kind in kinds]
        times = [m.t_utc_s for m in chosen]
        if direction >= 0:
            i = bisect.bisect_right(times, t_s)
            return chosen[i] if i < len(chosen) else None
        i = bisect.bisect_left(times, t_s) - 1
        return chosen[i] if i >= 0 else None

    # ---- findings and review -------------------------------------------------------------
    def _linked(self):
        from .replay_review import linked_findings

        return linked_findings(self.path, self._events, self.mission)

    def reviewed(self) -> tuple[list, list]:
        """(findings, alarms) from one reading of the record and its addenda, so both show
        the same reviews: recording.report_findings.FindingInfo with their whole review
        history, and every AlarmInfo (in a finding or not) by id."""
        if not self.is_record:
            return [], []
        linked = self._linked()
        alarms = sorted([a for f in linked.findings for a in f.alarms] + list(linked.unlinked_alarms),
                        key=lambda a: a.alarm_id)
        return list(linked.findings), alarms

    def findings(self) -> list:
        """Addenda re-read at each call (a review just written shows at once)."""
        return self.reviewed()[0]

    def alarms(self) -> list:
        return self.reviewed()[1]

    # ---- the vehicle ----------------------------------------------------------------------
    def trail_h(self, t_s: float) -> np.ndarray | None:
        """(K, 3) the vehicle's positions in the hull frame H up to t_s; None without a hull placement."""
        if self._placement is None or self.telemetry is None:
            return None
        track = self.telemetry.track
        k = int(np.searchsorted(track[:, 0], t_s, side="right"))
        return np.asarray(self._placement.ned_to_h(track[:k, 1:4]), float).reshape(-1, 3)

    @property
    def hull(self):
        return self._hull

    def hull_rebuilt(self):
        """app.record_analysis_inputs.HullRebuild, rebuilt once (seconds: run it off the GUI thread)."""
        from .record_analysis_inputs import HullRebuild, rebuild_hull

        with self._hull_lock:
            if self._hull is None:
                self._hull = (rebuild_hull(self.mission) if self.is_record
                              else HullRebuild(None, None, "", "a telemetry log names no hull"))
            return self._hull

    def overlay_lines(self, t_s: float) -> list[str]:
        """The live video overlay's text (app.main_window's) for the state at t_s, under a time line."""
        vessel = ((self.mission or {}).get("vessel") or {}).get("name") or self.path.name
        state = self.telemetry.state_at(t_s) if self.telemetry is not None else None
        if state is None:
            return [f"{vessel}  {_utc(t_s)}", "no telemetry yet"]
        return [f"{vessel}  {_utc(t_s)}", overlay_line(state, forward_standoff_m(state))]
