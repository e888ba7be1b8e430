"""Benchmark: the replay core's seeks and telemetry loading.

    python bench/bench_replay.py [--minutes 2] [--gop 30] [--seeks 80] [--repeat 5]

  seek      random seeks in a record's video (640x480, 10 fps, H.264 from libx264, a GOP of
            --gop frames, written by tests/app/replay_record_fixture.py): the latency of
            VideoRecordReader.decode(frame) from the keyframe before it, p50/p95
  step      the baseline: sequential next-frame decode (the reader keeps its decoder), p50/p95
  load      TelemetryTimeline.from_tlog on ../shared/data/mavlink/small.tlog against a bare
            vehicle.tlog.iter_tlog_messages pass over the same file (best of --repeat each)
  state_at  random TelemetryTimeline.state_at queries on it, p50/p95

Goals: load <= 1.5x the bare pass; a seek costs about half a GOP of decoding (the ratio to a
step shows it). Results go to bench/results/bench_replay.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.replay_session import ReplaySession  # noqa: E402
from app.replay_telemetry import TelemetryTimeline  # noqa: E402
from bench.percentiles import pct  # noqa: E402
from recording.keys import InstallationKey  # noqa: E402
from tests.app.replay_record_fixture import build_record, decode_frame_index  # noqa: E402
from vehicle.tlog import iter_tlog_messages  # noqa: E402

SMALL_TLOG = REPO.parent / "shared" / "data" / "mavlink" / "small.tlog"


def _ms(values) -> dict:
    return {k: (round(v * 1000.0, 3) if isinstance(v, float) else v) for k, v in pct(values).items()}


def bench_video(minutes: float, gop: int, seeks: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        key = InstallationKey.load_or_create(Path(tmp) / "keys")
        t = time.perf_counter()
        truth = build_record(Path(tmp) / "records", key, seconds=minutes * 60.0, fps=10.0, size=(640, 480), gop=gop,
                             segment_s=60.0)
        built_s = time.perf_counter() - t
        session = ReplaySession.open(truth.folder)
        reader = session.open_video_reader()
        n = session.frame_count
        rng = random.Random(seed)
        seek_s, gop_frames, wrong = [], [], 0
        for _ in range(seeks):
            frame = rng.randrange(n)
            t = time.perf_counter()
            image = reader.decode(frame)
            seek_s.append(time.perf_counter() - t)
            gop_frames.append(frame - session.keyframe_before(frame) + 1)
            wrong += decode_frame_index(image) != frame
        start = rng.randrange(n - 120)
        reader.decode(start)
        step_s = []
        for frame in range(start + 1, start + 120):
            t = time.perf_counter()
            image = reader.decode(frame)
            step_s.append(time.perf_counter() - t)
            wrong += decode_frame_index(image) != frame
    seek, step = _ms(seek_s), _ms(step_s)
    return {"frames": n, "gop": gop, "record_built_s": round(built_s, 2), "seek_ms": seek, "step_ms": step,
            "frames_decoded_per_seek_mean": round(sum(gop_frames) / len(gop_frames), 1),
            "seek_over_step_p50": round(seek["p50"] / step["p50"], 2), "wrong_frames": wrong}


def bench_telemetry(repeat: int, seed: int) -> dict:
    bare, load = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        count = sum(1 for _ in iter_tlog_messages(str(SMALL_TLOG)))
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        timeline = TelemetryTimeline.from_tlog(SMALL_TLOG)
        load.append(time.perf_counter() - t)
    rng = random.Random(seed)
    queries = []
    for _ in range(2000):
        at = rng.uniform(timeline.t_start_s, timeline.t_end_s)
        t = time.perf_counter()
        timeline.state_at(at)
        queries.append(time.perf_counter() - t)
    return {"messages_in_file": count, "vehicle_messages_folded": timeline.messages,
            "bare_pass_s": round(min(bare), 4), "from_tlog_s": round(min(load), 4),
            "load_over_bare": round(min(load) / min(bare), 2), "state_at_us": {
                k: (round(v * 1e6, 1) if isinstance(v, float) else v) for k, v in pct(queries).items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--gop", type=int, default=30)
    ap.add_argument("--seeks", type=int, default=80)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    video = bench_video(args.minutes, args.gop, args.seeks, args.seed)
    tele = bench_telemetry(args.repeat, args.seed)
    rows = [("seek to a random frame", f"p50 {video['seek_ms']['p50']:.1f} ms, p95 {video['seek_ms']['p95']:.1f} ms",
             f"{video['frames_decoded_per_seek_mean']} frames decoded on average"),
            ("next frame (baseline)", f"p50 {video['step_ms']['p50']:.1f} ms, p95 {video['step_ms']['p95']:.1f} ms",
             f"seek/step {video['seek_over_step_p50']}x"),
            ("frames read back wrong", str(video["wrong_frames"]), f"of {args.seeks + 119}"),
            ("TelemetryTimeline.from_tlog", f"{tele['from_tlog_s'] * 1000:.0f} ms",
             f"bare pass {tele['bare_pass_s'] * 1000:.0f} ms: {tele['load_over_bare']}x (goal <= 1.5x)"),
            ("state_at", f"p50 {tele['state_at_us']['p50']:.0f} us, p95 {tele['state_at_us']['p95']:.0f} us",
             f"{tele['vehicle_messages_folded']} vehicle messages")]
    width = max(len(r[0]) for r in rows)
    print(f"record: {video['frames']} frames 640x480 10 fps, GOP {video['gop']} (built in {video['record_built_s']} s)")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:<32}  {note}")
    out = REPO / "bench" / "results" / "bench_replay.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"video": video, "telemetry": tele, "args": vars(args),
                               "python": platform.python_version(), "machine": platform.machine(),
                               "t_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
