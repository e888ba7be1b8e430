"""Re-analysis of a mission record (`hullwatch analyze`): detection, tracking, alarms and
findings on the hull re-run on every recorded camera frame and sonar ping, with the
shipped models or others, faster than real time.

analyze_record is a pure function of one record and the models: it reads the record and
writes nothing (write_analysis adds the result as a signed addendum), so batch
re-analysis can run it record-per-task on Ray or Dask unchanged.

Exactly as live: the same detector (vision.detect.OnnxDetector), pipeline (tracker and
alarm book, alarm ids shared by camera and sonar), hull map worker (app.station_map.
StationMap's, same sensors and mounts) and poses (the tlog's ATTITUDE + LOCAL_POSITION_NED
through vehicle.telemetry and vehicle_pose_of), on the UTC clock. Unlike live, no frame is
dropped. Coverage and the point map depend on the poses and sensors only, not on the
model: they are the record's own (map/), not recomputed here.

Threads (all end before it returns): one read-ahead thread decodes the video, another
parses the pings and draws their fan images; DETECT_WORKERS pool threads run the detector
on frames a few ahead (one ONNX Runtime thread each, as live, so the detections are the
same whatever the number of workers); the caller's thread tracks, raises alarms and maps,
in time order (app/record_analysis_streams.py, app/record_analysis_replay.py).
"""
from __future__ import annotations

import concurrent.futures
import itertools
import time
from pathlib import Path

import numpy as np

from .record_analysis_findings import FindingRecord, match_findings, original_findings
from .record_analysis_replay import Replay
from .record_analysis_result import AlarmRecord, Analysis, ModelUse

__all__ = ["AlarmRecord", "Analysis", "ModelUse", "analyze_record", "write_analysis"]

DETECT_WORKERS = 2  # frames detected at once, one ONNX Runtime thread each (as live): both cores


def _resource_model(name: str) -> Path:
    from resources import resource_path

    return resource_path("models", name)


def _model_use(source: str, path: Path, doc: dict, engine: str) -> ModelUse:
    from recording.mission_record import file_sha256

    live = (doc.get("models") or {}).get(source) or {}
    return ModelUse(source, path.name, file_sha256(path), live.get("file"), live.get("sha256"), engine)


def analyze_record(record_dir, camera_model=None, sonar_model=None, *, progress=None,
                   detect_workers: int = DETECT_WORKERS, backend: str = "fastest") -> Analysis:
    """Re-run detection and mapping on a record (any state; read only). camera_model,
    sonar_model: .onnx paths (with their .card.json), default the shipped ones. backend:
    the inference engine (vision.detect.backends); "fastest" is OpenVINO in bf16 where the
    CPU has bf16 units (boxes within a pixel or two of live's ONNX Runtime, at about twice
    the speed), "onnxruntime" reproduces live's arithmetic exactly.
    progress(fraction, text) is called about once a second of work. Raises RecordError
    for a record it cannot read, vision.detect.ModelError for a model it cannot load."""
    from recording.errors import RecordError
    from recording.mission_record import read_mission
    from recording.sonar_record import SonarRecordReader
    from recording.video_replay import VideoRecordReader
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.pipeline import DetectionPipeline
    from vision.tracking import tracker_for

    from . import record_analysis_streams as streams
    from .record_analysis_inputs import capture_times_utc, read_telemetry, rebuild_hull

    t_start = time.perf_counter()
    folder = Path(record_dir)
    doc = read_mission(folder)
    notes: list[str] = []
    paths = {"camera": Path(camera_model) if camera_model else _resource_model("camera.onnx"),
             "sonar": Path(sonar_model) if sonar_model else _resource_model("sonar.onnx")}
    video = VideoRecordReader(folder / "video") if (folder / "video" / "frames.csv").is_file() else None
    sonar = SonarRecordReader(folder / "sonar") if (folder / "sonar" / "pings.csv").is_file() else None
    wanted = [s for s, r in (("camera", video), ("sonar", sonar)) if r is not None]
    if not wanted:
        notes.append("the record holds neither video nor sonar: nothing to detect")
    ids = itertools.count(1)  # one alarm numbering for camera and sonar, as live
    pipes, engines = {}, {}
    for s in wanted:
        detector = OnnxDetector(paths[s], expected_classes=CLASSES, threads=1, backend=backend,
                                parallel=max(1, int(detect_workers)))
        engines[s] = detector.backend.name
        tracker = tracker_for(detector)
        pipes[s] = (detector, tracker)
    uses = tuple(_model_use(s, paths[s], doc, engines[s]) for s in wanted)
    pool = concurrent.futures.ThreadPoolExecutor(max(1, int(detect_workers)), thread_name_prefix="detect")
    for s, (detector, tracker) in pipes.items():
        pipes[s] = DetectionPipeline(streams.DetectedAhead(detector, pool, tracker.config.detect_conf()), source=s,
                                     tracker=tracker, alarm_ids=ids, clock=time.time)

    hull = rebuild_hull(doc)
    smap = telemetry = None
    if hull.model is not None:
        from .station_map import StationMap

        try:
            telemetry = read_telemetry(folder / "telemetry.tlog", hull.placement)
        except RecordError as exc:
            notes.append(f"detection only, no mapping: {exc}")
    else:
        notes.append(f"detection only, no mapping: {hull.problem}")
    if telemetry is not None:
        smap = StationMap(hull.model, hull.placement, camera_hfov_deg=hull.camera_hfov_deg,
                          sonar_tilt_deg=hull.sonar_tilt_deg)
        smap.worker.queries.distance(np.zeros((1, 3)))  # Open3D and the hull's ray-casting scene: setup, not mapping
        if not telemetry.poses:
            notes.append("the tlog holds no vehicle poses (ATTITUDE + LOCAL_POSITION_NED): nothing can be placed")
    setup_s = time.perf_counter() - t_start

    readers = []
    if video is not None:
        readers.append(streams.ReadAhead(streams.camera_inputs(video, capture_times_utc(video.frames)), "decode video"))
    if sonar is not None:
        readers.append(streams.ReadAhead(streams.sonar_inputs(sonar), "read sonar"))
    media_s = _media_span(video, sonar)
    replay = Replay(pipes, smap, telemetry, media_s, progress)
    try:
        replay.run(streams.merged(*readers))
        snap = replay.finish()
    finally:
        for r in readers:
            r.close()
        pool.shutdown(wait=True, cancel_futures=True)
    findings = () if snap is None else tuple(FindingRecord.from_finding(f) for f in snap.findings)
    unplaced = 0 if snap is None else int(snap.counters.no_pose.get("detections", 0))
    if unplaced:
        notes.append(f"{unplaced} frames' detections could not be placed on the hull (no vehicle pose at their time)")
    originals, source = original_findings(folder)
    diff = match_findings(originals, findings)
    t_end = _media_end(video, sonar)
    for f in diff.only_a:
        if f.first_utc_s is not None and t_end is not None and f.first_utc_s > t_end:
            # the live map kept running while the record closed: frames it saw last were not recorded
            notes.append(f"original finding {f.finding_id} was first seen after the record's last frame or ping: "
                         "no recorded data shows it")
    wall_s = time.perf_counter() - t_start
    timings = {"setup": setup_s, "decode": readers[0].busy_s if video is not None else 0.0,
               "sonar_read": readers[-1].busy_s if sonar is not None else 0.0}
    for s, p in pipes.items():
        timings[f"detect_{s}"] = p.detector.busy_s
        timings[f"track_alarms_{s}"] = max(replay.spent_s[s] - p.detector.waited_s, 0.0)
        timings[f"wait_{s}"] = p.detector.waited_s
    timings["map"] = replay.spent_s["map"]
    return Analysis(str(folder), findings, _alarms(pipes), originals, source, diff,
                    replay.counts["camera"], replay.counts["sonar"], media_s, wall_s, uses, hull.how,
                    smap is not None, tuple(notes), timings)


def _media_times(video, sonar) -> list[float]:
    """First and last receive time (UTC s) of the video and of the sonar."""
    ts = []
    for arr in (video.frames["t_utc_s"] if video is not None else (), sonar.t_utc if sonar is not None else ()):
        if len(arr):
            ts += [float(arr.min()), float(arr.max())]
    return ts


def _media_span(video, sonar) -> float:
    ts = _media_times(video, sonar)
    return max(ts) - min(ts) if ts else 0.0


def _media_end(video, sonar) -> float | None:
    ts = _media_times(video, sonar)
    return max(ts) if ts else None


def _alarms(pipes) -> tuple[AlarmRecord, ...]:
    out = []
    for pipe in pipes.values():
        for a in pipe.alarms.alarms.values():
            out.append(AlarmRecord(a.alarm_id, a.source, a.class_name, round(float(a.confidence), 4),
                                   float(a.first_t_s), float(a.last_t_s), int(a.frames),
                                   tuple(int(t) for t in a.track_ids), a.second_look))
    return tuple(sorted(out, key=lambda a: a.alarm_id))


def write_analysis(record_dir, analysis: Analysis, key=None) -> Path:
    """The analysis as a signed addendum of its record (app/record_analysis_write.py); the
    record's own files are never touched. key: recording.keys.InstallationKey, default
    this installation's. Returns the addendum's .json path."""
    from .record_analysis_write import write_analysis_addendum

    return write_analysis_addendum(record_dir, analysis, key)
