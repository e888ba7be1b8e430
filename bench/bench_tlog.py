"""Benchmark: reading telemetry logs with vehicle.tlog against plain pymavlink.

    python bench/bench_tlog.py [TLOG] [--repeat N] [--scale K]

Measures, in one run and on the same files (best of N runs each):
  ours          vehicle.tlog.iter_tlog_messages: framing + decoding, msgs/s
  frames        vehicle.tlog.iter_tlog: framing only, records/s
  mavutil       baseline 1: mavutil.mavlink_connection(path) + recv_msg() loop
  parse_buffer  baseline 2: MAVLink.parse_buffer() on each raw packet (framed beforehand)
  writer        vehicle.tlog.TlogWriter.write() of every record into a temp file, packets/s
on the given tlog (default ../shared/data/mavlink/small.tlog) and on a larger synthetic
tlog made by repeating it K times with shifted timestamps (in a temp dir, deleted after).

Goals: ours >= 30,000 msgs/s, and ours no slower than 1.2x either baseline
(ours msgs/s >= baseline msgs/s / 1.2). Results go to bench/results/bench_tlog.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pymavlink import mavutil  # noqa: E402

from vehicle.dialect import MAVLink  # noqa: E402
from vehicle.tlog import TlogReadStats, TlogWriter, iter_tlog, iter_tlog_messages  # noqa: E402

DEFAULT_TLOG = REPO.parent / "shared" / "data" / "mavlink" / "small.tlog"
RESULTS = REPO / "bench" / "results" / "bench_tlog.json"
GOAL_MSGS_PER_S = 30_000
GOAL_MAX_SLOWDOWN = 1.2


def run_ours(path: Path) -> int:
    n = 0
    for _t, _msg in iter_tlog_messages(path):
        n += 1
    return n


def run_frames(path: Path) -> int:
    n = 0
    for _rec in iter_tlog(path):
        n += 1
    return n


def run_mavutil(path: Path) -> int:
    conn = mavutil.mavlink_connection(str(path))
    n = 0
    try:
        recv = conn.recv_msg
        while recv() is not None:
            n += 1
    finally:
        conn.close()
    return n


def make_parse_buffer(path: Path):
    packets = [rec.packet for rec in iter_tlog(path)]   # framing is not timed

    def run_parse_buffer(_path: Path) -> int:
        mav = MAVLink(None)
        mav.robust_parsing = True       # as mavutil does: bad packets come back as BAD_DATA
        parse = mav.parse_buffer
        n = 0
        for p in packets:
            msgs = parse(p)
            if msgs:
                n += len(msgs)
        return n
    return run_parse_buffer


def make_writer(path: Path, tmp: Path):
    records = [(rec.packet, rec.t_unix_us) for rec in iter_tlog(path)]

    def run_writer(_path: Path) -> int:
        out = tmp / "writer_bench.tlog"
        with TlogWriter(out) as w:
            write = w.write
            for packet, t_us in records:
                write(packet, t_us)
        out.unlink()
        return len(records)
    return run_writer


def best_of(fn, path: Path, repeat: int) -> tuple[int, float]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        count = fn(path)
        best = min(best, time.perf_counter() - t0)
    return count, best


def make_large(src: Path, dst: Path, scale: int) -> Path:
    recs = list(iter_tlog(src))
    span = recs[-1].t_unix_us - recs[0].t_unix_us + 1_000_000
    with TlogWriter(dst) as w:
        for k in range(scale):
            w.write_many((r.packet, r.t_unix_us + k * span) for r in recs)
    return dst


def bench_file(path: Path, repeat: int, tmp: Path) -> dict:
    stats = TlogReadStats()
    for _ in iter_tlog_messages(path, stats=stats):
        pass
    runs = {
        "ours": run_ours,
        "frames": run_frames,
        "mavutil": run_mavutil,
        "parse_buffer": make_parse_buffer(path),
        "writer": make_writer(path, tmp),
    }
    out = {"file": str(path), "bytes": path.stat().st_size, "records": stats.records,
           "messages": stats.messages, "bad_crc": stats.bad_crc, "results": {}}
    for name, fn in runs.items():
        count, secs = best_of(fn, path, repeat)
        out["results"][name] = {"count": count, "best_s": secs, "per_s": count / secs}
    r = out["results"]
    ours = r["ours"]["per_s"]
    out["ratio_vs_mavutil"] = ours / r["mavutil"]["per_s"]
    out["ratio_vs_parse_buffer"] = ours / r["parse_buffer"]["per_s"]
    out["goal_throughput"] = ours >= GOAL_MSGS_PER_S
    out["goal_vs_baselines"] = (ours * GOAL_MAX_SLOWDOWN >= r["mavutil"]["per_s"]
                                and ours * GOAL_MAX_SLOWDOWN >= r["parse_buffer"]["per_s"])
    return out


def print_table(res: dict) -> None:
    print(f"\n{res['file']}  ({res['bytes'] / 1e6:.1f} MB, {res['records']} records, "
          f"{res['messages']} messages, {res['bad_crc']} bad CRC)")
    print(f"  {'reader':<14}{'count':>9}{'best s':>9}{'per s':>11}{'ours / it':>11}")
    ours = res["results"]["ours"]["per_s"]
    for name, r in res["results"].items():
        ratio = ours / r["per_s"] if name in ("mavutil", "parse_buffer") else None
        ratio_s = f"{ratio:>10.2f}x" if ratio is not None else f"{'':>11}"
        print(f"  {name:<14}{r['count']:>9}{r['best_s']:>9.3f}{r['per_s']:>11,.0f}{ratio_s}")
    ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
    print(f"  goal >= {GOAL_MSGS_PER_S:,} msgs/s: {ok(res['goal_throughput'])};  "
          f"goal no slower than {GOAL_MAX_SLOWDOWN}x pymavlink: {ok(res['goal_vs_baselines'])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tlog", nargs="?", type=Path, default=DEFAULT_TLOG)
    ap.add_argument("--repeat", type=int, default=3, help="runs per reader; best is kept")
    ap.add_argument("--scale", type=int, default=10,
                    help="the synthetic tlog repeats the input this many times (0: skip)")
    args = ap.parse_args(argv)
    if not args.tlog.is_file():
        print(f"no tlog at {args.tlog}", file=sys.stderr)
        return 2
    report = {
        "bench": "bench_tlog",
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pymavlink": _pymavlink_version(),
        "repeat": args.repeat,
        "files": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench_tlog_") as tmp_s:
        tmp = Path(tmp_s)
        files = [args.tlog]
        if args.scale > 1:
            files.append(make_large(args.tlog, tmp / f"x{args.scale}.tlog", args.scale))
        for path in files:
            res = bench_file(path, args.repeat, tmp)
            if path.parent == tmp:
                res["file"] = f"{args.tlog.name} x{args.scale} (synthetic)"
            print_table(res)
            report["files"].append(res)
    report["pass"] = all(f["goal_throughput"] and f["goal_vs_baselines"]
                         for f in report["files"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'PASS' if report['pass'] else 'FAIL'}; results in {RESULTS}")
    return 0 if report["pass"] else 1


def _pymavlink_version() -> str:
    try:
        from importlib.metadata import version
        return version("pymavlink")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
