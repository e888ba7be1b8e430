"""A real, closed, signed mission record with known contents, written in seconds for the
replay tests (and the replay window's tests): H.264 from libx264 whose frames carry their own
index in pixels, a tlog of real MAVLink packets (the autopilot on a straight path, plus the
station's and a companion computer's heartbeats, as real tlogs hold), real Oculus pings and
the events a station logs (detections, an alarm, a finding, a warning, the final map).

It uses the recorder's own writers (VideoRecorder, SonarRecorder, EventLog, TlogWriter,
finalize_record) rather than MissionRecorder's queue, so every time in the record is chosen
here and known exactly: ``RecordTruth`` says what is where.

    truth = build_record(tmp_path / "records", key, seconds=20.0, fps=10.0)
    truth.folder                           # the record
    decode_frame_index(image_bgr) -> int   # the frame's index, read back from its pixels
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from recording.event_log import EventLog
from recording.finalize import finalize_record
from recording.mission_record import MissionInfo, new_mission_doc, record_folder_name, utc_iso, write_mission
from recording.sonar_record import SonarRecorder
from recording.video_record import VideoRecorder
from tests.recording.media import oculus_message
from vehicle.dialect import MAVLink, mavlink
from vehicle.tlog import TlogWriter
from vision.video.rtp_h264 import RTP_CLOCK_HZ, AccessUnit

INFO = MissionInfo("MV Replay Tester", imo="9234567", operator="A. Pilot", team=("B. Tender",),
                   unit="Port police dive team")
CODE_BITS = 12  # frame index code: up to 4096 frames (6.8 min at 10 fps)
MONO_OFFSET_S = 1.0e9  # UTC minus the station's monotonic clock in this record
START_NED_M = (2.0, -5.0, 1.0)
VEL_NED_M_S = (0.5, 0.2, 0.05)
SONAR_HZ = 5.0
HULL = {"name": "fixture hull", "embedded_world": False, "source_path": None, "sha256": None,
        "parametric": {"length_m": 60.0, "beam_m": 12.0, "draft_m": 4.0, "depth_m": 6.0},
        "placement": {"origin_lat_deg": 53.5, "origin_lon_deg": 9.9, "origin_ned_m": [0.0, 0.0], "heading_deg": 90.0,
                      "draft_m": 4.0, "trim_deg": 0.0, "berth_side": "starboard", "quay_gap_m": 2.0,
                      "water_depth_m": 12.0}}


@dataclasses.dataclass(frozen=True)
class RecordTruth:
    folder: Path  # the record (build_record's folder is the parent it is created in)
    key_id: str
    t0_s: float  # the tlog's first message; the path starts here
    t_end_s: float  # the tlog's last message
    fps: float
    size: tuple[int, int]
    frame_t_s: np.ndarray  # capture time (UTC s) of each frame: what replay shows at t
    frame_rx_t_s: np.ndarray  # receive time (frames.csv t_utc_s): capture + latency
    keyframes: np.ndarray  # bool per frame
    ping_t_s: np.ndarray  # receive time of each sonar ping (all SimplePingResults)
    modes: tuple[tuple[float, str], ...]  # (t, mode) at each mode change, the first included
    armed_t_s: float
    disarmed_t_s: float
    statustexts: tuple[tuple[float, int, str], ...]  # (t, severity, text)
    alarm_t_s: float
    alarm_id: int
    finding_t_s: float
    finding_id: int
    warning_t_s: float  # the disk_warning event
    detections: tuple[tuple[float, int], ...]  # (event t, frame index) of each camera detections event
    extra_alarm_t_s: float | None = None  # build_record(extra_alarm=True): a sonar alarm no finding holds
    extra_alarm_id: int | None = None

    def position_at(self, t_s: float) -> tuple[float, float, float]:
        """The true NED position (m) at t_s on the straight path."""
        dt = t_s - self.t0_s
        return tuple(p + v * dt for p, v in zip(START_NED_M, VEL_NED_M_S))

    def frame_at(self, t_s: float) -> int:
        return int(np.searchsorted(self.frame_t_s, t_s, side="right")) - 1

    def ping_at(self, t_s: float) -> int:
        return int(np.searchsorted(self.ping_t_s, t_s, side="right")) - 1


def _blocks(size) -> tuple[int, int]:
    w, _ = size
    bw = max(8, (w - 32) // CODE_BITS // 8 * 8)
    return bw, 16


def frame_image(index: int, size=(640, 480)) -> np.ndarray:
    """BGR frame `index`: a scrolling gradient (so P-frames carry motion), a moving bright bar,
    and the index as CODE_BITS black/white blocks across the top, aligned to macroblocks."""
    w, h = size
    base = np.tile(np.linspace(30, 200, w, dtype=np.uint8), (h, 1))
    img = np.dstack([base, np.roll(base, index * 7, axis=1), np.full_like(base, 70)])
    x = (index * 13) % max(1, w - 40)
    img[h // 2:h // 2 + 60, x:x + 40] = (20, 230, 240)
    bw, y0 = _blocks(size)
    for b in range(CODE_BITS):
        img[y0:y0 + bw, 16 + b * bw:16 + (b + 1) * bw] = 250 if (index >> b) & 1 else 5
    return np.ascontiguousarray(img)


def decode_frame_index(image_bgr: np.ndarray) -> int:
    """The index frame_image drew, read from the middle of each block (robust to H.264 loss)."""
    h, w = image_bgr.shape[:2]
    bw, y0 = _blocks((w, h))
    q = bw // 4
    gray = image_bgr.astype(np.float32).mean(axis=2)
    bits = [gray[y0 + q:y0 + bw - q, 16 + b * bw + q:16 + (b + 1) * bw - q].mean() > 128 for b in range(CODE_BITS)]
    return sum(1 << b for b, on in enumerate(bits) if on)


def _encode(n: int, fps: float, size, gop: int) -> list[AccessUnit]:
    import av

    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height = size
    ctx.pix_fmt, ctx.time_base, ctx.gop_size = "yuv420p", Fraction(1, 90000), gop
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "repeat-headers": "1", "bf": "0"}
    step, out = int(round(RTP_CLOCK_HZ / fps)), []
    rtp0 = 123_456

    def take(packets):
        for p in packets:
            data = bytes(p)
            sps = b"\x00\x00\x00\x01\x67" in data or b"\x00\x00\x01\x67" in data
            out.append(AccessUnit(data, rtp0 + int(p.pts), 0x1234, 0, bool(p.is_keyframe), sps, False))

    for i in range(n):
        frame = av.VideoFrame.from_ndarray(frame_image(i, size), format="bgr24").reformat(format="yuv420p")
        frame.pts = i * step
        take(ctx.encode(frame))
    take(ctx.encode(None))
    return out


def _write_tlog(path: Path, t0: float, seconds: float, modes, armed_t: float, disarmed_t: float, texts) -> float:
    """The autopilot (1/1) at 10 Hz attitude, 5 Hz position and depth, 1 Hz heartbeat, plus
    the station's (255/190) and a companion computer's (1/194, base_mode 128) heartbeats."""
    sub, gcs, blueos = MAVLink(None, 1, 1), MAVLink(None, 255, 190), MAVLink(None, 1, 194)
    yaw = math.atan2(VEL_NED_M_S[1], VEL_NED_M_S[0])
    items = []
    for k in range(int(seconds * 10) + 1):
        t = t0 + k * 0.1
        ms = int(k * 100)
        n, e, d = (p + v * (t - t0) for p, v in zip(START_NED_M, VEL_NED_M_S))
        items.append((t, sub.attitude_encode(ms, 0.01, -0.02, yaw, 0.0, 0.0, 0.0).pack(sub)))
        if k % 2 == 0:
            items.append((t + 0.01, sub.local_position_ned_encode(ms, n, e, d, *VEL_NED_M_S).pack(sub)))
            items.append((t + 0.02, sub.vfr_hud_encode(0.0, 0.5, int(round(math.degrees(yaw))) % 360, 20, -d,
                                                       -VEL_NED_M_S[2]).pack(sub)))
        if k % 5 == 0:
            items.append((t + 0.03, sub.global_position_int_encode(ms, 535000000, 99000000, int(-d * 1000),
                                                                   int(-d * 1000), 0, 0, 0, 65535).pack(sub)))
        if k % 10 == 0:
            mode = [m for mt, m in modes if mt <= t][-1]
            armed = armed_t <= t < disarmed_t
            base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (mavlink.MAV_MODE_FLAG_SAFETY_ARMED if armed else 0)
            custom = {"MANUAL": 19, "STABILIZE": 0, "ALT_HOLD": 2}[mode]
            items.append((t + 0.04, sub.heartbeat_encode(mavlink.MAV_TYPE_SUBMARINE,
                                                         mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, base, custom,
                                                         mavlink.MAV_STATE_ACTIVE, 3).pack(sub)))
            items.append((t + 0.05, gcs.heartbeat_encode(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 192, 0,
                                                         mavlink.MAV_STATE_ACTIVE, 3).pack(gcs)))
            items.append((t + 0.06, blueos.heartbeat_encode(mavlink.MAV_TYPE_ONBOARD_CONTROLLER,
                                                            mavlink.MAV_AUTOPILOT_INVALID, 128, 0,
                                                            mavlink.MAV_STATE_ACTIVE, 3).pack(blueos)))
    for t, severity, text in texts:
        items.append((t, sub.statustext_encode(severity, text.encode()).pack(sub)))
    items.sort(key=lambda it: it[0])
    with TlogWriter(path) as w:
        w.write_many((p, int(round(t * 1e6))) for t, p in items)
    return items[-1][0]


def build_record(folder: Path, key, *, seconds: float = 20.0, fps: float = 10.0, size=(640, 480), gop: int = 20,
                 segment_s: float = 8.0, extra_alarm: bool = False) -> RecordTruth:
    """A closed record signed with `key` (recording.keys.InstallationKey) in a new folder under
    `folder`; segment_s: the video's segment length (short, so seeks cross segments);
    extra_alarm: also a sonar alarm (alarm 2, its own track, no pose) that no finding holds."""
    t0 = math.floor(time.time() - seconds - 60.0)  # in the past: addenda come after the record
    rec = Path(folder) / record_folder_name(INFO, t0 - 1.0)
    rec.mkdir(parents=True)
    doc = new_mission_doc(INFO, t0 - 1.0, software={"hullwatch": "test"}, models={},
                          vehicle={"type": "SUBMARINE"}, hull=HULL)
    write_mission(rec, doc)
    events = EventLog.create(rec / "events.sqlite", doc["record_id"])
    events.append("record_started", {"folder": rec.name}, t_utc_s=t0 - 1.0)
    modes = ((t0, "MANUAL"), (t0 + 0.3 * seconds, "ALT_HOLD"), (t0 + 0.7 * seconds, "STABILIZE"))
    armed_t, disarmed_t = t0 + 2.0, t0 + seconds - 2.0
    texts = ((t0 + 0.45, 6, "ArduSub V4.1.1 (66c674c1)"), (t0 + 0.5 * seconds + 0.25, 4, "EKF variance"),
             (t0 + 0.9 * seconds + 0.15, 6, "Lights on"))
    t_end = _write_tlog(rec / "telemetry.tlog", t0, seconds, modes, armed_t, disarmed_t, texts)

    units = _encode(int(seconds * fps), fps, size, gop)
    video = VideoRecorder(rec / "video", segment_s=segment_s)
    rng = np.random.default_rng(7)
    capture = t0 + 0.5 + np.arange(len(units)) / fps
    # the first frame comes with no delay, the others up to 50 ms late: capture_times_utc recovers `capture`
    rx = capture + np.concatenate([[0.0], rng.uniform(0.0, 0.05, len(units) - 1)])
    for au, t in zip(units, rx):
        assert video.write(au, t - MONO_OFFSET_S, float(t)) is not None
    video.close()
    sonar = SonarRecorder(rec / "sonar")
    ping = oculus_message()
    ping_t = t0 + 0.3 + np.arange(int((seconds - 0.5) * SONAR_HZ)) / SONAR_HZ
    for t in ping_t:
        sonar.write(ping, t - MONO_OFFSET_S, float(t))
    sonar.close()

    dets, box = [], [200.0, 150.0, 320.0, 230.0]
    for i in range(int(0.35 * len(units)), int(0.65 * len(units))):
        t = float(capture[i] + 0.08)
        events.append("detections", {"source": "camera", "frame_index": i, "t_frame_s": capture[i] - MONO_OFFSET_S,
                                     "xyxy": [box], "confidence": [0.8], "class_name": ["parasitic_container"],
                                     "track_id": [1], "latency_ms": 80.0}, t_utc_s=t)
        dets.append((t, i))
    alarm_t = float(capture[int(0.4 * len(units))] + 0.1)
    events.append("alarm", {"alarm_id": 1, "source": "camera", "track_id": 1, "class_name": "parasitic_container",
                            "confidence": 0.8, "first_t_s": alarm_t - 1.0 - MONO_OFFSET_S,
                            "last_t_s": alarm_t - MONO_OFFSET_S, "box_xyxy": box, "frames": 6, "address": None,
                            "track_ids": [1], "last_box_xyxy": box}, t_utc_s=alarm_t)
    extra_t = None
    if extra_alarm:  # a sonar contact raised without a pose: it never became a finding on the map
        extra_t = float(ping_t[int(0.25 * len(ping_t))] + 0.05)
        events.append("alarm", {"alarm_id": 2, "source": "sonar", "track_id": 5, "class_name": "niche_anomaly",
                                "confidence": 0.65, "first_t_s": extra_t - 0.8 - MONO_OFFSET_S,
                                "last_t_s": extra_t - MONO_OFFSET_S, "box_xyxy": [40.0, 60.0, 90.0, 120.0],
                                "frames": 4, "address": None, "track_ids": [5]}, t_utc_s=extra_t)
    finding_t = float(capture[int(0.6 * len(units))] + 0.1)
    finding = {"finding_id": 1, "class_name": "parasitic_container", "position_h": [40.0, -6.0, 2.0],
               "uncertainty_m": 0.2, "address": {"side": "starboard", "x_from_stern_m": 40.0,
                                                 "depth_below_waterline_m": 2.0, "niche": None,
                                                 "distance_to_hull_m": 0.0},
               "tracks": [["camera", 1]], "sources": ["camera"], "observations": 12,
               "first_t_s": dets[0][0] - 0.08 - MONO_OFFSET_S, "last_t_s": finding_t - MONO_OFFSET_S,
               "best_confidence": 0.8, "size_m": [0.3, 0.2]}
    events.append("finding", finding, t_utc_s=finding_t)
    warning_t = t0 + 0.8 * seconds
    events.append("disk_warning", {"disk_free_bytes": 1 << 30, "text": "disk nearly full"}, t_utc_s=warning_t)
    final = json.dumps({"coverage": {"overall_pct": 12.0}, "findings": [finding], "files": {}}).encode()
    (rec / "map").mkdir()
    (rec / "map" / "final.json").write_bytes(final)
    events.append("map_snapshot", {"findings": 1, "file": "map/final.json",
                                   "sha256": hashlib.sha256(final).hexdigest()}, t_utc_s=t_end + 0.2)
    events.append("record_closed", {"video_frames": len(units), "sonar_pings": len(ping_t), "dropped": 0,
                                    "warning": ""}, t_utc_s=t_end + 0.5)
    events.commit()
    doc.update(state="closed", end_utc=utc_iso(t_end + 0.5), end_utc_s=t_end + 0.5)
    finalize_record(rec, doc, events, key)
    return RecordTruth(rec, key.key_id, t0, t_end, fps, tuple(size), capture, rx,
                       np.array([au.keyframe for au in units]), ping_t, modes, armed_t, disarmed_t, texts,
                       alarm_t, 1, finding_t, 1, warning_t, tuple(dets), extra_alarm_t_s=extra_t,
                       extra_alarm_id=2 if extra_alarm else None)
