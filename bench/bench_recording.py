"""Benchmark: mission records (issue 8, section 7).

    python bench/bench_recording.py [--seconds S] [--out FILE]

One run, the station on the embedded world (its own child process, as `hullwatch` runs it),
the same mission phase twice (armed, lit, holding 5 m off the ship's side, sensors live):
  1. without a record: camera and sonar frames received, detected, dropped per second;
  2. with a record: the same, plus the recorder's queue drops; the ratio is the recording
     overhead on the live pipeline;
then on the record just written:
  * size per minute, per stream (video, sonar, telemetry, events, map, snapshots);
  * closing time (drain, map export, manifest) and `verify` time per GB, against the
    bare SHA-256 of the same bytes (hashlib, one pass) as the baseline;
  * the inspection report's generation time (when recording.report exists).
The machine is shared: compare the ratios, not the absolute rates.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"


def _rates(station, seconds: float) -> dict:
    mon = station.monitor
    cam0, son0 = mon.pipeline.stats(), mon.sonar_pipeline.stats()
    v0 = mon.video.stats().frames_decoded
    time.sleep(seconds)
    cam1, son1 = mon.pipeline.stats(), mon.sonar_pipeline.stats()
    v1 = mon.video.stats().frames_decoded
    return {"camera_received_per_s": (v1 - v0) / seconds,
            "camera_detected_per_s": (cam1.processed - cam0.processed) / seconds,
            "camera_dropped_pct": 100.0 * (cam1.dropped - cam0.dropped) / max(1, cam1.submitted - cam0.submitted),
            "sonar_detected_per_s": (son1.processed - son0.processed) / seconds,
            "sonar_dropped_pct": 100.0 * (son1.dropped - son0.dropped) / max(1, son1.submitted - son0.submitted)}


def _sizes(folder: Path) -> dict:
    out: dict[str, int] = {}
    for p in folder.rglob("*"):
        if p.is_file():
            rel = p.relative_to(folder)
            key = rel.parts[0] if len(rel.parts) > 1 else rel.name
            out[key] = out.get(key, 0) + p.stat().st_size
    return out


def _sha_baseline(folder: Path) -> float:
    t = time.perf_counter()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="each phase (default 60 s)")
    ap.add_argument("--out", type=Path, default=RESULTS / "bench_recording.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-recording-"))
    os.environ["HULLWATCH_KEY_DIR"] = str(tmp / "keys")

    from app.gui import demo_mission
    from app.station import Station, StationConfig
    from recording.mission_record import MissionInfo
    from recording.verify import verify_record

    station = Station(StationConfig(records_dir=tmp / "records"), log=lambda text: None)
    out: dict = {"seconds": args.seconds}
    try:
        station.start()
        station.vehicle.manual.keep_alive(True)  # as the window does: ArduSub's pilot-input failsafe
        demo_mission(station, lambda text: None)  # the window's demo: arm, lamps, GUIDED to the nearest container
        time.sleep(5.0)
        out["without_record"] = _rates(station, args.seconds)
        t = time.perf_counter()
        rec = station.start_recording(MissionInfo("MV Bench", operator="bench"))
        out["open_s"] = time.perf_counter() - t
        out["with_record"] = _rates(station, args.seconds)
        status = rec.recorder.status()
        out["recorder_dropped"] = status.dropped
        t = time.perf_counter()
        summary = station.stop_recording()
        out["close_s"] = time.perf_counter() - t
    finally:
        station.close()
    folder = Path(summary["folder"])
    minutes = summary["duration_s"] / 60.0
    sizes = _sizes(folder)
    total = sum(sizes.values())
    out["record"] = {"duration_s": summary["duration_s"], "bytes": total, "mb_per_min": total / 1e6 / minutes,
                     "mb_per_min_by_part": {k: v / 1e6 / minutes for k, v in sorted(sizes.items())},
                     "video_frames": summary["video_frames"], "sonar_pings": summary["sonar_pings"]}
    t = time.perf_counter()
    report = verify_record(folder)
    verify_s = time.perf_counter() - t
    sha_s = _sha_baseline(folder)
    out["verify"] = {"ok": report.ok, "s": verify_s, "s_per_gb": verify_s / (total / 1e9),
                     "sha256_baseline_s": sha_s, "over_baseline": verify_s / sha_s if sha_s else None}
    try:
        from recording.report import write_report
    except ImportError:
        out["report"] = None
    else:
        t = time.perf_counter()
        files = write_report(folder, tmp / "report.pdf")
        out["report"] = {"s": time.perf_counter() - t, "files": [str(p) for p in vars(files).values()]
                         if hasattr(files, "__dict__") else str(files)}
    w, r = out["without_record"], out["with_record"]
    out["overhead"] = {k: (r[k] / w[k] if w[k] else None) for k in ("camera_received_per_s", "camera_detected_per_s",
                                                                      "sonar_detected_per_s")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    _print(out)
    print(f"\nwritten {args.out}")
    return 0


def _print(out: dict) -> None:
    w, r = out["without_record"], out["with_record"]
    print(f"\nrecording benchmark: two phases of {out['seconds']:.0f} s, the vehicle holding at a planted container")
    print(f"{'per second':32s} {'no record':>10s} {'recording':>10s} {'ratio':>7s}")
    for k in ("camera_received_per_s", "camera_detected_per_s", "sonar_detected_per_s"):
        ratio = r[k] / w[k] if w[k] else float("nan")
        print(f"{k:32s} {w[k]:10.2f} {r[k]:10.2f} {ratio:7.3f}")
    for k in ("camera_dropped_pct", "sonar_dropped_pct"):
        print(f"{k:32s} {w[k]:10.1f} {r[k]:10.1f}")
    print(f"recorder queue drops: {out['recorder_dropped']}; open {out['open_s']:.2f} s, close {out['close_s']:.1f} s "
          "(drain, map export, manifest)")
    rec = out["record"]
    print(f"\nrecord: {rec['bytes'] / 1e6:.1f} MB in {rec['duration_s']:.0f} s = {rec['mb_per_min']:.1f} MB/min "
          f"({rec['mb_per_min'] * 60 / 1000:.2f} GB/hour)")
    for k, v in rec["mb_per_min_by_part"].items():
        print(f"  {k:24s} {v:8.2f} MB/min")
    v = out["verify"]
    print(f"\nverify: {'INTACT' if v['ok'] else 'ALTERED'} in {v['s']:.2f} s = {v['s_per_gb']:.1f} s/GB; bare SHA-256 of "
          f"the same files {v['sha256_baseline_s']:.2f} s (verify / baseline {v['over_baseline']:.2f})")
    if out.get("report"):
        print(f"report: {out['report']['s']:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
