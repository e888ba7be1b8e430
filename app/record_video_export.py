"""A record's camera video as an ordinary MP4 with the telemetry and the detections burned
in: for a briefing, a court or a colleague without HullWatch. The record itself keeps the
original stream untouched (evidence); this is a derived copy, named as such.

Each recorded frame is decoded once, the vehicle's state at that frame's time is replayed
from the record's tlog (the vehicle's own messages, in time order, alongside the frames),
and the live detections of that frame come from the record's events, matched on the frame's
capture time. Same overlay as the window's video view (app/video_overlay.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import UserError

MATCH_S = 0.03  # a detection belongs to the frame captured within this of its frame time


@dataclasses.dataclass(frozen=True)
class VideoExport:
    path: Path
    frames: int
    media_s: float
    wall_s: float
    detections_drawn: int


def export_video(record_dir: Path, out_path: Path, *, overlay: bool = True, detections: bool = True,
                 progress=None) -> VideoExport:
    from recording.errors import RecordError
    from recording.mission_record import read_mission
    from recording.video_replay import VideoRecordReader

    record_dir, out_path = Path(record_dir), Path(out_path)
    if out_path.resolve().is_relative_to(record_dir.resolve()):
        raise UserError(f"{out_path} is inside the record: write the video elsewhere (a record is never written to)")
    if out_path.suffix.lower() != ".mp4":
        raise UserError(f"{out_path}: name the video FILE.mp4")
    try:
        doc = read_mission(record_dir)
        reader = VideoRecordReader(record_dir / "video")
    except RecordError as exc:
        raise UserError(str(exc)) from None
    if reader.frame_count == 0:
        raise UserError(f"{record_dir.name} has no video frames to export")
    t0 = time.perf_counter()
    frames = reader.frames
    capture_mono = _capture_mono(frames)
    boxes = _detections_by_frame(record_dir, capture_mono) if detections else {}
    states = _States(record_dir / "telemetry.tlog") if overlay else None
    fps = _fps(frames)
    vessel = doc["vessel"]["name"]
    import av

    drawn = n = 0
    try:
        with av.open(str(out_path), "w") as mux:
            stream = mux.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
            stream.pix_fmt = "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "20"}
            first_t = float(frames["t_utc_s"][0])
            for k, t_utc, image in reader.iter_decoded():
                if n == 0:
                    stream.width, stream.height = image.shape[1], image.shape[0]
                if k in boxes:
                    image = _draw(image, boxes[k])
                    drawn += 1
                if states is not None:
                    image = _burn(image, states.at(t_utc), t_utc, vessel)
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
                frame.pts = n
                for packet in stream.encode(frame):
                    mux.mux(packet)
                n += 1
                if progress is not None and n % 50 == 0:
                    progress(n / reader.frame_count, f"{n} of {reader.frame_count} frames")
            for packet in stream.encode():
                mux.mux(packet)
    except OSError as exc:
        out_path.unlink(missing_ok=True)
        raise UserError(f"cannot write {out_path} ({exc.strerror or exc}): choose a folder you can write to") from None
    media_s = float(frames["t_utc_s"][-1]) - first_t if n else 0.0
    return VideoExport(out_path, n, media_s, time.perf_counter() - t0, drawn)


def _fps(frames) -> float:
    t = np.asarray(frames["t_utc_s"], float)
    if len(t) < 2 or t[-1] <= t[0]:
        return 10.0
    return float(np.clip((len(t) - 1) / (t[-1] - t[0]), 1.0, 60.0))


def _capture_mono(frames) -> np.ndarray:
    """Each frame's capture time on the station's monotonic clock, as the live video source
    computed it (RTP time anchored on the fastest frame), so detections match by time."""
    rtp_s = np.asarray(frames["rtp_timestamp"], float) / 90000.0
    offset = np.minimum.accumulate(np.asarray(frames["t_mono_s"], float) - rtp_s)
    return rtp_s + offset


def _detections_by_frame(record_dir: Path, capture_mono: np.ndarray) -> dict:
    from recording.event_log import read_events

    out: dict[int, dict] = {}
    for e in read_events(record_dir / "events.sqlite", kinds=["detections"]):
        p = e.payload
        if p.get("source") != "camera" or p.get("t_frame_s") is None:
            continue
        k = int(np.argmin(np.abs(capture_mono - float(p["t_frame_s"]))))
        if abs(capture_mono[k] - float(p["t_frame_s"])) <= MATCH_S:
            out[k] = p
    return out


def _draw(image, payload: dict):
    from vision.classes import CLASSES
    from vision.detections import Detections

    from .video_overlay import draw_detections

    names = payload.get("class_name") or []
    ids = [CLASSES.index(c) if c in CLASSES else 0 for c in names]
    tracks = payload.get("track_id")
    det = Detections(np.asarray(payload.get("xyxy") or np.zeros((0, 4)), np.float32),
                     np.asarray(payload.get("confidence") or [], np.float32), np.asarray(ids, np.int32),
                     np.asarray(tracks, np.int64) if tracks is not None else None)
    return draw_detections(image, det, CLASSES)


def _burn(image, state, t_utc: float, vessel: str):
    from .video_overlay import burn_overlay

    when = dt.datetime.fromtimestamp(t_utc, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] + " UTC"
    if state is None:
        return burn_overlay(image, [f"{vessel}  {when}", "no telemetry yet"])
    depth = f"{state.depth_m:.2f} m" if state.depth_m is not None else "-"
    hdg = f"{state.heading_deg:03.0f}" if state.heading_deg is not None else "-"
    return burn_overlay(image, [f"{vessel}  {when}",
                                f"depth {depth}  hdg {hdg}  {state.mode or ''}{' ARMED' if state.armed else ''}"])


class _States:
    """The vehicle's state at increasing times, replayed from the tlog as the frames advance."""

    def __init__(self, tlog: Path):
        from vehicle.state import VehicleState
        from vehicle.tlog import iter_tlog_messages

        self._messages = iter_tlog_messages(str(tlog)) if tlog.is_file() else iter(())
        self._state = VehicleState()
        self._system = None
        self._pending = None
        self._any = False

    def at(self, t_utc: float):
        from vehicle.telemetry import apply_message
        from vehicle.vehicle import is_autopilot_heartbeat

        while True:
            if self._pending is None:
                self._pending = next(self._messages, None)
                if self._pending is None:
                    break
            t_s, msg = self._pending
            if t_s > t_utc:
                break
            self._pending = None
            if self._system is None:
                if msg.get_type() != "HEARTBEAT" or not is_autopilot_heartbeat(msg):
                    continue
                self._system = msg.get_header().srcSystem
            if msg.get_header().srcSystem == self._system:
                self._state = apply_message(self._state, msg, t_s)
                self._any = True
        return self._state if self._any else None
