"""Benchmark: detection latency through the station's pipeline on a 25 frames/s stream and
on the simulator's live stream, and offline `hullwatch detect` speed on a video.

    python bench/bench_pipeline.py [--model M.onnx] [--stream-fps F] [--stream-seconds S]
                                   [--stream-frames N] [--seconds N] [--video-seconds K] [--seed S]
                                   [--skip-stream] [--skip-live] [--skip-offline]

Stream (the issue's goal: end-to-end p95 < 100 ms on a 25 frames/s stream): up to
--stream-frames (default 150) 640x480 frames of a glide along the embedded world's
starboard side (1 m/s: 0.04 m a frame at 25 frames/s, 2 m off, 3 m deep) are rendered
first, so the renderer does not compete with the pipeline; a sender thread then streams
them (forwards and backwards, no jump) at --stream-fps (default 25) on a fixed schedule
(a frame more than one period late is skipped, as a camera would) with the project's
RtpH264Sender (libx264 ultrafast/zerolatency, H.264 RTP over loopback) into the station's
VideoSource -> SourceFeeder -> DetectionPipeline, the model on one thread as
app/station_sensors.py runs it. After the first result (warm-up, not counted),
--stream-seconds (default 6) of results are kept:
  * frame arrival -> result: arrival is when VideoSource handed the decoded frame to the
    feeder (its read() returned; read is wrapped); p50/p95/max, with the goal line;
  * decoded at VideoSource (VideoFrame.t_received_s) -> result, DetectionResult.latency_s
    (from the RTP-mapped capture time), and sender encode start -> result (frames matched
    by decode order; the table says whether the match is exact);
  * processed frames/s; drops: in VideoSource's slot, in the pipeline's slot, and in all
    (frames sent - frames processed, over the same window).
Baseline: the detector alone on frames kept from the same run, after the stream stopped.

Live: the embedded world's camera stream as `hullwatch sim` sends it (SensorStreams'
CameraStream: render from the vehicle's true pose, H.264 over RTP/UDP to a free loopback
port, 10 frames/s; the vehicle sits disarmed 3 m deep, 5 m off the starboard side, lamps
off as the simulator starts) -> the station's VideoSource -> SourceFeeder ->
DetectionPipeline with the model on one thread, wired as app/station_sensors.py does it.
After the first result (warm-up, not counted), N seconds of DetectionResults are kept:
  * latency_s as the pipeline reports it: from the frame's capture time on the station's
    clock (VideoSource maps the RTP timestamp with the fastest frame as anchor, so the
    smallest render + encode + network + decode delay is not in it) to the result;
  * end to end: from the moment the sender sampled the pose (its capture time, in the same
    process) to the result; frames are matched by decode order (the table says whether the
    match is exact);
  * timings_ms per stage, and the pipeline's submitted / processed / dropped counts.
Baseline: the detector alone (one call: preprocess + inference + NMS, one thread) on
frames kept from the same run, timed after the stream has stopped: the ratio therefore
includes the renderer competing for the cores in the same process, as it does when
`hullwatch sim` and the station share one machine.

Offline: K seconds of 640x480 video at 10 frames/s rendered from the embedded world (a
glide along the starboard side, 0.1 m a frame, 2 m off, 3 m deep), encoded to H.264 MP4
with PyAV into a temporary folder; then `vision.detect.offline.run_offline`, the function
`hullwatch detect` runs, with the detector `hullwatch detect` builds (ONNX Runtime's
default threads), with annotated video (the command's default) and without (--no-media).
Reported as x real time (video duration / wall time) and against the baseline: the
detector alone on the decoded frames of the same video.

The machine is shared: compare the ratios, not the milliseconds.
Results: a table on stdout and bench/results/bench_pipeline.json.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results" / "bench_pipeline.json"
FPS = 10.0
FIRST_RESULT_TIMEOUT_S = 30.0
KEEP_EVERY = 5  # keep every 5th processed frame for the baseline
KEEP_MAX = 40
GOAL_P95_MS = 100.0  # stream mode: frame arrival -> result p95


def pct_ms(values_s) -> dict:
    ms = np.asarray(values_s, float) * 1000.0
    if not len(ms):
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    return {"n": int(len(ms)), "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "max_ms": float(ms.max())}


def detector_baseline(detector, images) -> dict:
    """Median time of one detector call, and of the bare inference inside it."""
    detector(images[0])  # warm-up
    call, inf = [], []
    for img in images:
        t0 = time.perf_counter()
        detector(img)
        call.append(time.perf_counter() - t0)
        inf.append(detector.last_timings_ms["inference"] / 1e3)
    return {"frames": len(images), "call": pct_ms(call), "inference": pct_ms(inf)}


# ------------------------------------------------------------------------------------ live
def live(model: Path, seconds: float, seed: int) -> dict:
    from sim.embedded_world import build_world
    from sim.sensor_streams import SensorStreams, SensorStreamsConfig
    from sim.vehicle_server import SimConfig, SimVehicle
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.feeder import SourceFeeder, video_frame_in
    from vision.detect.pipeline import DetectionPipeline
    from vision.video.source import VideoSource

    ew = build_world(seed=seed)
    detector = OnnxDetector(model, expected_classes=CLASSES, threads=1)  # as app/station_sensors.py
    captures: list[tuple[float, float]] = []  # the sender's (capture, render complete) times, in send order

    class RecordingStreams(SensorStreams):
        def _capture_camera(self):
            image, t_capture = super()._capture_camera()
            captures.append((t_capture, time.monotonic()))
            return image, t_capture

    received: dict[int, tuple[float, float]] = {}  # VideoFrame.index -> (t_capture_s, t_received_s)
    results: list = []
    kept: list[np.ndarray] = []
    lock = threading.Lock()
    measuring = threading.Event()
    first = threading.Event()

    def on_result(result) -> None:
        t_now = time.monotonic()
        first.set()
        if not measuring.is_set():
            return
        with lock:
            results.append((result.frame.index, result.frame.t_s, result.latency_s, dict(result.timings_ms), t_now,
                            len(result.detections), len(result.new_alarms)))
            if len(results) % KEEP_EVERY == 1 and len(kept) < KEEP_MAX:
                kept.append(result.frame.image)

    closed = {}
    with contextlib.ExitStack() as stack:
        video = VideoSource("udp://127.0.0.1:0").start()  # the station's reader, on a free port
        stack.callback(lambda: closed.__setitem__("video_source", video.close()))

        def read(timeout_s):
            frame = video.read(timeout_s)
            received[frame.index] = (frame.t_capture_s, frame.t_received_s)
            return frame

        sim = SimVehicle(SimConfig(udp_target=None, tcp_port=None, udp_enabled=False, start_depth_m=3.0))
        sim.start()
        stack.callback(sim.stop)
        streams = RecordingStreams(sim, ew.world, SensorStreamsConfig(
            video=("127.0.0.1", video.local_port), oculus_port=None, oculus_status=None, ping360_port=None,
            seed=seed))
        streams.start()
        camera = streams.camera
        stack.callback(lambda: closed.__setitem__("sensor_streams", streams.stop()))
        pipeline = DetectionPipeline(detector, source="camera", on_result=on_result).start()
        stack.callback(lambda: closed.__setitem__("pipeline", pipeline.close()))
        feeder = SourceFeeder(read, video_frame_in, pipeline, name="camera feeder").start()
        stack.callback(lambda: closed.__setitem__("feeder", feeder.close()))

        if not first.wait(FIRST_RESULT_TIMEOUT_S):
            raise RuntimeError(f"no detection result within {FIRST_RESULT_TIMEOUT_S:.0f} s: video "
                               f"{video.stats()}, pipeline {pipeline.stats()}, feeder error {feeder.last_error!r}")
        s0, v0 = pipeline.stats(), video.stats()
        sent0, skipped0 = camera.frames_sent, camera.frames_skipped
        t0 = time.monotonic()
        measuring.set()
        deadline = t0 + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(0.5, left))
        measuring.clear()
        wall = time.monotonic() - t0
        s1, v1 = pipeline.stats(), video.stats()
        sent1, skipped1, render_last = camera.frames_sent, camera.frames_skipped, camera.render_s_last
    # everything is closed here (ExitStack unwinds in reverse: feeder, pipeline, streams, vehicle, source)
    base = detector_baseline(detector, kept) if kept else None

    # end to end: decode order k <-> the sender's k-th capture when nothing was lost on the way
    rtp = v1.rtp
    exact = (v1.skipped_access_units == 0 and v1.decode_errors == 0 and (rtp is None or rtp.lost_packets == 0)
             and v1.frames_decoded <= len(captures))
    e2e, rendered_to_result, render, rendered_to_decoded, decoded_to_result, hidden = [], [], [], [], [], []
    for index, t_station, lat, _, t_res, _, _ in results:
        if index >= len(captures) or index not in received:
            continue
        t_cap, t_rendered = captures[index]
        t_decoded = received[index][1]
        e2e.append(t_res - t_cap)
        rendered_to_result.append(t_res - t_rendered)
        render.append(t_rendered - t_cap)
        rendered_to_decoded.append(t_decoded - t_rendered)
        decoded_to_result.append(t_res - t_decoded)
        # how far VideoSource's capture time lies after the sender's: the part latency_s leaves out
        hidden.append(t_station - t_cap)
    stages = sorted({k for r in results for k in r[3]})
    out = {
        "seconds": round(wall, 2),
        "results": len(results),
        "latency_pipeline": pct_ms([r[2] for r in results]),
        "latency_end_to_end": pct_ms(e2e),
        "latency_render_complete_to_result": pct_ms(rendered_to_result),
        "render": pct_ms(render),
        "render_complete_to_decoded": pct_ms(rendered_to_decoded),
        "decoded_to_result": pct_ms(decoded_to_result),
        "station_capture_time_after_sender_capture": pct_ms(hidden),
        "timings_ms": {k: pct_ms([r[3][k] / 1e3 for r in results if k in r[3]]) for k in stages},
        "match_exact": bool(exact),
        "station_capture_offset_spread_ms": float(np.ptp(hidden) * 1e3) if hidden else None,
        "pipeline": {"submitted": s1.submitted - s0.submitted, "processed": s1.processed - s0.processed,
                     "dropped": s1.dropped - s0.dropped, "errors": s1.errors, "last_error": s1.last_error},
        "video_source": {"decoded": v1.frames_decoded - v0.frames_decoded,
                         "dropped_in_source_slot": v1.frames_dropped - v0.frames_dropped,
                         "damaged": v1.damaged_frames, "skipped_access_units": v1.skipped_access_units,
                         "lost_packets": None if rtp is None else rtp.lost_packets},
        "sender": {"frames_sent": sent1 - sent0, "frames_skipped_render_overran": skipped1 - skipped0,
                   "render_s_last": render_last},
        "detections_per_frame_mean": float(np.mean([r[5] for r in results])) if results else None,
        "alarms": int(sum(r[6] for r in results)),
        "closed_cleanly": closed,
        "baseline_detector": base,
    }
    p = out["pipeline"]
    out["processed_per_s"] = p["processed"] / wall
    out["drop_pct"] = 100.0 * p["dropped"] / p["submitted"] if p["submitted"] else None
    if base:
        call = base["call"]["p50_ms"]
        for k in ("latency_pipeline", "latency_end_to_end", "latency_render_complete_to_result"):
            r = out[k]
            out[k + "_over_detector"] = ({q: r[q + "_ms"] / call for q in ("p50", "p95", "max")}
                                         if r["n"] else None)
    return out


# ---------------------------------------------------------------------------------- stream
def render_frames(seed: int, n: int, step_m: float) -> tuple[list[np.ndarray], float]:
    """n 640x480 frames of a glide along the embedded world's starboard side, step_m apart."""
    from sim.camera_render import CameraConfig
    from sim.embedded_world import build_world

    ew = build_world(seed=seed)
    cfg = CameraConfig()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    frames = [ew.world.render_camera(pose, cfg, rng).image for pose in _glide_poses(ew, n, step_m)]
    return frames, time.perf_counter() - t0


def _ping_pong(k: int, n: int) -> int:
    """Frame k of a stream that runs forwards and backwards through n frames (no jump)."""
    if n <= 1:
        return 0
    k %= 2 * n - 2
    return k if k < n else 2 * n - 2 - k


def stream(model: Path, fps: float, seconds: float, n_frames: int, seed: int) -> dict:
    from sim.video_stream import RtpH264Sender
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.feeder import SourceFeeder, video_frame_in
    from vision.detect.pipeline import DetectionPipeline
    from vision.video.source import VideoSource

    frames, render_s = render_frames(seed, n_frames, step_m=1.0 / fps)  # 1 m/s; rendered before anything runs
    height, width = frames[0].shape[:2]
    detector = OnnxDetector(model, expected_classes=CLASSES, threads=1)  # as app/station_sensors.py

    sends: list[float] = []  # monotonic time the sender started encoding frame k (send order)
    sender = {"skipped_behind_schedule": 0, "late_s": [], "error": ""}
    arrivals: dict[int, tuple[float, float]] = {}  # VideoFrame.index -> (read by the feeder, decoded)
    results: list = []
    kept: list[np.ndarray] = []
    lock = threading.Lock()
    measuring = threading.Event()
    first = threading.Event()
    stop = threading.Event()

    def on_result(result) -> None:
        t_now = time.monotonic()
        first.set()
        if not measuring.is_set():
            return
        with lock:
            results.append((result.frame.index, result.latency_s, dict(result.timings_ms), t_now))
            if len(results) % KEEP_EVERY == 1 and len(kept) < KEEP_MAX:
                kept.append(result.frame.image)

    def send_loop(port: int) -> None:
        period = 1.0 / fps
        try:
            with RtpH264Sender("127.0.0.1", port, width=width, height=height, fps=fps) as tx:
                t0 = time.monotonic()
                k = 0
                while not stop.is_set():
                    t_due = t0 + k * period
                    wait = t_due - time.monotonic()
                    if wait > 0 and stop.wait(wait):
                        break
                    late = time.monotonic() - t_due
                    if late > period:  # a camera does not catch up: it skips to the current frame time
                        behind = int(late / period)
                        sender["skipped_behind_schedule"] += behind
                        k += behind
                        continue
                    sender["late_s"].append(late)
                    t_send = time.monotonic()
                    tx.send(frames[_ping_pong(k, len(frames))], t_s=t_due)
                    sends.append(t_send)
                    k += 1
        except Exception as exc:  # noqa: BLE001 - reported, and the wait for results times out
            sender["error"] = f"{type(exc).__name__}: {exc}"

    closed = {}
    with contextlib.ExitStack() as stack:
        video = VideoSource("udp://127.0.0.1:0").start()  # the station's reader, on a free port
        stack.callback(lambda: closed.__setitem__("video_source", video.close()))

        def read(timeout_s):
            frame = video.read(timeout_s)
            arrivals[frame.index] = (time.monotonic(), frame.t_received_s)
            return frame

        thread = threading.Thread(target=send_loop, args=(video.local_port,), name="bench sender", daemon=True)
        thread.start()

        def stop_sender():
            stop.set()
            thread.join(5.0)
            closed["sender"] = not thread.is_alive()

        stack.callback(stop_sender)
        pipeline = DetectionPipeline(detector, source="camera", on_result=on_result).start()
        stack.callback(lambda: closed.__setitem__("pipeline", pipeline.close()))
        feeder = SourceFeeder(read, video_frame_in, pipeline, name="camera feeder").start()
        stack.callback(lambda: closed.__setitem__("feeder", feeder.close()))

        if not first.wait(FIRST_RESULT_TIMEOUT_S):
            raise RuntimeError(f"no detection result within {FIRST_RESULT_TIMEOUT_S:.0f} s: sender "
                               f"{sender['error'] or 'running'}, video {video.stats()}, pipeline {pipeline.stats()}, "
                               f"feeder error {feeder.last_error!r}")
        s0, v0, sent0, skipped0 = pipeline.stats(), video.stats(), len(sends), sender["skipped_behind_schedule"]
        t0 = time.monotonic()
        measuring.set()
        deadline = t0 + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(0.5, left))
        measuring.clear()
        wall = time.monotonic() - t0
        s1, v1, sent1, skipped1 = pipeline.stats(), video.stats(), len(sends), sender["skipped_behind_schedule"]
    # everything is closed here (feeder, pipeline, sender, source)
    base = detector_baseline(detector, kept) if kept else None

    rtp = v1.rtp
    exact = (v1.skipped_access_units == 0 and v1.decode_errors == 0 and (rtp is None or rtp.lost_packets == 0)
             and v1.frames_decoded <= len(sends))
    arrival, decoded, sent_to_result, read_after_decode = [], [], [], []
    for index, _, _, t_res in results:
        if index not in arrivals:
            continue
        t_read, t_decoded = arrivals[index]
        arrival.append(t_res - t_read)
        decoded.append(t_res - t_decoded)
        read_after_decode.append(t_read - t_decoded)
        if index < len(sends):
            sent_to_result.append(t_res - sends[index])
    stages = sorted({k for r in results for k in r[2]})
    p = {"submitted": s1.submitted - s0.submitted, "processed": s1.processed - s0.processed,
         "dropped": s1.dropped - s0.dropped, "errors": s1.errors, "last_error": s1.last_error}
    vs = {"decoded": v1.frames_decoded - v0.frames_decoded,
          "dropped_in_source_slot": v1.frames_dropped - v0.frames_dropped, "damaged": v1.damaged_frames,
          "skipped_access_units": v1.skipped_access_units, "decode_errors": v1.decode_errors,
          "lost_packets": None if rtp is None else rtp.lost_packets}
    sent = sent1 - sent0
    out = {
        "fps": fps, "seconds": round(wall, 2), "frames_rendered": len(frames), "render_s": render_s,
        "frame_size": [width, height], "results": len(results),
        "latency_arrival_to_result": pct_ms(arrival),
        "latency_decoded_to_result": pct_ms(decoded),
        "feeder_read_after_decode": pct_ms(read_after_decode),
        "latency_pipeline": pct_ms([r[1] for r in results]),
        "latency_send_to_result": pct_ms(sent_to_result),
        "timings_ms": {k: pct_ms([r[2][k] / 1e3 for r in results if k in r[2]]) for k in stages},
        "match_exact": bool(exact),
        "pipeline": p,
        "video_source": vs,
        "sender": {"frames_sent": sent, "skipped_behind_schedule": skipped1 - skipped0,
                   "late": pct_ms(sender["late_s"]), "error": sender["error"]},
        "closed_cleanly": closed,
        "baseline_detector": base,
    }
    out["processed_per_s"] = p["processed"] / wall
    out["sent_per_s"] = sent / wall
    out["drop_pct_pipeline"] = 100.0 * p["dropped"] / p["submitted"] if p["submitted"] else None
    out["drop_pct_video_source"] = 100.0 * vs["dropped_in_source_slot"] / vs["decoded"] if vs["decoded"] else None
    out["drop_pct_total"] = 100.0 * max(0, sent - p["processed"]) / sent if sent else None
    lat = out["latency_arrival_to_result"]
    out["goal"] = {"p95_ms_below": GOAL_P95_MS, "p95_ms": lat["p95_ms"],
                   "pass": lat["p95_ms"] is not None and lat["p95_ms"] < GOAL_P95_MS}
    if base:
        call = base["call"]["p50_ms"]
        for k in ("latency_arrival_to_result", "latency_pipeline", "latency_send_to_result"):
            r = out[k]
            out[k + "_over_detector"] = ({q: r[q + "_ms"] / call for q in ("p50", "p95", "max")}
                                         if r["n"] else None)
    return out


# --------------------------------------------------------------------------------- offline
def _glide_poses(ew, n: int, step_m: float = 0.1):
    """n camera poses along the starboard side, step_m apart, 2 m off the hull, 3 m deep."""
    from sim.world import SensorPose

    model, placement = ew.model, ew.scenario.placement
    lo, hi = model.mesh.bounds()
    x0 = 0.5 * float(lo[0] + hi[0]) - 0.5 * step_m * n
    z = placement.waterline_z_h - 3.0
    outside = np.column_stack([x0 + step_m * np.arange(n), np.full(n, float(lo[1]) - 10.0), np.full(n, z)])
    hit = model.queries.closest_points(outside)
    normals = hit.normals_h / np.linalg.norm(hit.normals_h, axis=1, keepdims=True)
    up = np.array([0.0, 0.0, 1.0])
    return [SensorPose(p + nrm * 2.0, -nrm, up) for p, nrm in zip(hit.points_h, normals)]


def write_video(ew, path: Path, seconds: float, seed: int) -> dict:
    import av

    from sim.camera_render import CameraConfig

    n = int(round(seconds * FPS))
    cfg = CameraConfig()
    rng = np.random.default_rng(seed)
    render_s = encode_s = 0.0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=int(FPS))
        stream.width, stream.height, stream.pix_fmt = cfg.width, cfg.height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for pose in _glide_poses(ew, n):
            t0 = time.perf_counter()
            image = ew.world.render_camera(pose, cfg, rng).image
            t1 = time.perf_counter()
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
            encode_s += time.perf_counter() - t1
            render_s += t1 - t0
        t1 = time.perf_counter()
        for packet in stream.encode():
            container.mux(packet)
        encode_s += time.perf_counter() - t1
    return {"frames": n, "seconds": seconds, "render_s": render_s, "encode_s": encode_s,
            "bytes": path.stat().st_size}


def offline(model: Path, seconds: float, seed: int) -> dict:
    from sim.embedded_world import build_world
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.offline import iter_video, run_offline

    ew = build_world(seed=seed)
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
        video = Path(tmp) / "pass.mp4"
        made = write_video(ew, video, seconds, seed)
        detector = OnnxDetector(model, expected_classes=CLASSES)  # as app/cmd_detect.py builds it
        # baseline: the detector alone on the decoded frames of the same video
        first = True
        call, inf, decode = [], [], []
        t_dec = time.perf_counter()
        for frame in iter_video(video):
            t0 = time.perf_counter()
            decode.append(t0 - t_dec)
            if first:
                detector(frame.image)  # warm-up
                first = False
                t0 = time.perf_counter()
            detector(frame.image)
            t_dec = time.perf_counter()
            call.append(t_dec - t0)
            inf.append(detector.last_timings_ms["inference"] / 1e3)
        runs = {}
        for media in (True, False):
            s = run_offline(detector, video, Path(tmp) / f"out_media_{media}", write_media=media)
            runs["with_media" if media else "no_media"] = {
                "frames": s.frames, "detections": s.detections, "tracks": s.tracks, "media_s": s.media_s,
                "wall_s": s.wall_s, "x_real_time": s.speed_x, "over_detector_only": s.wall_s / sum(call),
                "per_frame_ms": 1e3 * s.wall_s / max(1, s.frames)}
    return {"video": made, "baseline": {"frames": len(call), "detector_only_s": sum(call),
                                        "detector_only_x_real_time": seconds / sum(call),
                                        "detector_call": pct_ms(call), "inference": pct_ms(inf),
                                        "decode": pct_ms(decode)},
            "runs": runs}


# ------------------------------------------------------------------------------------ main
def _row(name, r, extra="") -> str:
    if not r or not r.get("n"):
        return f"{name:<46} {'-':>5}"
    return f"{name:<46} {r['n']:>5} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}{extra}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO / "resources" / "models" / "camera.onnx"))
    ap.add_argument("--seconds", type=float, default=20.0, help="live measurement time (default 20)")
    ap.add_argument("--video-seconds", type=float, default=30.0, help="offline video length (default 30)")
    ap.add_argument("--seed", type=int, default=1, help="embedded-world seed (default 1, as hullwatch sim)")
    ap.add_argument("--stream-fps", type=float, default=25.0, help="stream mode frame rate (default 25)")
    ap.add_argument("--stream-seconds", type=float, default=6.0, help="stream mode measurement time (default 6)")
    ap.add_argument("--stream-frames", type=int, default=150,
                    help="stream mode: at most this many distinct frames are pre-rendered, then played back and "
                         "forth (default 150)")
    ap.add_argument("--skip-stream", action="store_true")
    ap.add_argument("--skip-live", action="store_true")
    ap.add_argument("--skip-offline", action="store_true")
    args = ap.parse_args()
    if args.seconds <= 0 or args.video_seconds <= 0 or args.stream_seconds <= 0 or args.stream_fps <= 0:
        ap.error("--seconds, --video-seconds, --stream-seconds and --stream-fps must be > 0")
    if args.stream_frames < 1:
        ap.error("--stream-frames must be >= 1")
    model = Path(args.model)
    out = {"model": model.name, "seed": args.seed}
    if not args.skip_stream:
        n = min(args.stream_frames, math.ceil(args.stream_fps * args.stream_seconds))
        st = out["stream"] = stream(model, args.stream_fps, args.stream_seconds, n, args.seed)
        w, h = st["frame_size"]
        print(f"stream: {model.name}, {w}x{h} H.264 RTP over loopback at {st['fps']:g} frames/s (RtpH264Sender), "
              f"{st['seconds']:.1f} s after warm-up; {st['frames_rendered']} frames pre-rendered in "
              f"{st['render_s']:.1f} s (embedded world seed {args.seed}, 1 m/s glide), played back and forth")
        print(f"{'stage':<46} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        base = st["baseline_detector"]
        if base:
            print(_row("baseline: detector call alone (1 thread)", base["call"]))
            print(_row("baseline: bare inference inside it", base["inference"]))
        for k, name in (("latency_arrival_to_result", "frame arrival (feeder's read) -> result"),
                        ("latency_decoded_to_result", "decoded at VideoSource -> result"),
                        ("latency_pipeline", "DetectionResult.latency_s"),
                        ("latency_send_to_result", "sender encode start -> result"),
                        ("feeder_read_after_decode", "  decoded -> read by the feeder")):
            ratio = st.get(k + "_over_detector")
            extra = (f"   x detector p50/p95/max {ratio['p50']:.1f} / {ratio['p95']:.1f} / {ratio['max']:.1f}"
                     if ratio else "")
            print(_row(name, st[k], extra))
        for k, r in st["timings_ms"].items():
            print(_row(f"  stage {k}", r))
        p, vs, snd = st["pipeline"], st["video_source"], st["sender"]

        def pc(v):
            return "n/a" if v is None else f"{v:.1f} %"

        print(f"processed {st['processed_per_s']:.1f} frames/s of {st['sent_per_s']:.1f} sent; dropped "
              f"{pc(st['drop_pct_total'])} in all (sent - processed): VideoSource slot {vs['dropped_in_source_slot']} "
              f"of {vs['decoded']} decoded ({pc(st['drop_pct_video_source'])}), pipeline slot {p['dropped']} of "
              f"{p['submitted']} submitted ({pc(st['drop_pct_pipeline'])}), errors {p['errors']}")
        error = f", error {snd['error']}" if snd["error"] else ""
        print(f"sender sent {snd['frames_sent']}, skipped behind schedule {snd['skipped_behind_schedule']}, late "
              f"p95 {snd['late']['p95_ms'] or 0:.1f} ms{error}; lost packets {vs['lost_packets']}, decode errors "
              f"{vs['decode_errors']}; sender match {'exact' if st['match_exact'] else 'NOT exact'}; closed cleanly: "
              f"{st['closed_cleanly']}")
        g = st["goal"]
        got = "n/a" if g["p95_ms"] is None else f"{g['p95_ms']:.1f} ms"
        print(f"goal: end-to-end (frame arrival -> result) p95 < {GOAL_P95_MS:g} ms at {st['fps']:g} frames/s, "
              f"{st['processed_per_s']:.1f} frames/s processed: p95 {got}  {'PASS' if g['pass'] else 'FAIL'}")
        print()
    if not args.skip_live:
        lv = out["live"] = live(model, args.seconds, args.seed)
        print(f"live: {model.name}, {lv['seconds']:.1f} s after warm-up, embedded world seed {args.seed}")
        print(f"{'stage':<46} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        base = lv["baseline_detector"]
        if base:
            print(_row("baseline: detector call alone (1 thread)", base["call"]))
            print(_row("baseline: bare inference inside it", base["inference"]))
        for k, name in (("latency_pipeline", "latency_s (station capture time -> result)"),
                        ("latency_end_to_end", "end to end (pose sampled -> result)"),
                        ("latency_render_complete_to_result", "render complete -> result"),
                        ("render", "  pose sampled -> render complete"),
                        ("render_complete_to_decoded", "  render complete -> decoded at VideoSource"),
                        ("decoded_to_result", "  decoded -> result (feeder, slot, detect)"),
                        ("station_capture_time_after_sender_capture", "VideoSource capture time - pose sampled")):
            ratio = lv.get(k + "_over_detector")
            extra = (f"   x detector p50/p95/max {ratio['p50']:.1f} / {ratio['p95']:.1f} / {ratio['max']:.1f}"
                     if ratio else "")
            print(_row(name, lv[k], extra))
        for k, r in lv["timings_ms"].items():
            print(_row(f"  stage {k}", r))
        p, vs, snd = lv["pipeline"], lv["video_source"], lv["sender"]
        drop = "n/a" if lv["drop_pct"] is None else f"{lv['drop_pct']:.1f} %"
        print(f"processed {lv['processed_per_s']:.1f} frames/s; pipeline submitted {p['submitted']}, processed "
              f"{p['processed']}, dropped {p['dropped']} ({drop}), errors {p['errors']}")
        print(f"sender sent {snd['frames_sent']} (skipped, render overran: {snd['frames_skipped_render_overran']}); "
              f"VideoSource decoded {vs['decoded']}, dropped in its slot {vs['dropped_in_source_slot']}, "
              f"lost packets {vs['lost_packets']}; end-to-end match "
              f"{'exact' if lv['match_exact'] else 'NOT exact'}")
        print(f"detections/frame {lv['detections_per_frame_mean']:.2f}, alarms {lv['alarms']}; closed cleanly: "
              f"{lv['closed_cleanly']}")
    if not args.skip_offline:
        off = out["offline"] = offline(model, args.video_seconds, args.seed)
        v, b = off["video"], off["baseline"]
        print()
        print(f"offline: {v['frames']} frames, {v['seconds']:g} s of 640x480 at {FPS:g} fps "
              f"(rendered in {v['render_s']:.1f} s, encoded in {v['encode_s']:.1f} s, {v['bytes'] / 1e6:.1f} MB)")
        print(f"{'run':<46} {'wall s':>8} {'x real time':>12} {'ms/frame':>9} {'x detector-only':>16}")
        print(f"{'baseline: detector alone on the decoded frames':<46} {b['detector_only_s']:8.1f} "
              f"{b['detector_only_x_real_time']:12.1f} {b['detector_call']['p50_ms']:9.1f} {1.0:16.2f}")
        for name, r in off["runs"].items():
            label = "hullwatch detect (run_offline), " + ("annotated video" if name == "with_media" else "--no-media")
            print(f"{label:<46} {r['wall_s']:8.1f} {r['x_real_time']:12.1f} {r['per_frame_ms']:9.1f} "
                  f"{r['over_detector_only']:16.2f}")
        r = off["runs"]["with_media"]
        print(f"frames {r['frames']}, media {r['media_s']:.1f} s, {r['detections']} detections in {r['tracks']} "
              f"tracks; bare inference p50 {b['inference']['p50_ms']:.1f} ms, decode p50 {b['decode']['p50_ms']:.1f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
