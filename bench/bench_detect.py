"""Benchmark: the detector on the CPU, ONNX Runtime against OpenVINO, per input size.

    python bench/bench_detect.py (--model M.onnx ... | --checkpoint W.pt) [--frames N]

--model times shipped/exported models as they are (default: resources/models/*.onnx);
--checkpoint exports an ultralytics checkpoint (e.g. MODEL.train/run/weights/last.pt of
a `hullwatch train` run: the speed does not depend on how well it is trained) at 480x640
(4:3 video at full size), 256x320 and 384x640 (sonar fan). For each size and engine: preprocess, inference,
postprocess (NMS) and tracking per 640x480 frame, 1 and 2 threads; the baseline is the
bare ONNX Runtime inference of the same model on one thread. Results:
bench/results/bench_detect.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vision.classes import CLASSES  # noqa: E402
from vision.detect import OnnxDetector  # noqa: E402
from vision.detect.backends import openvino_available  # noqa: E402
from vision.tracking import ByteTracker  # noqa: E402

RESULTS = REPO / "bench" / "results" / "bench_detect.json"
SIZES = ((480, 640), (256, 320), (384, 640))


def _export_sizes(checkpoint: Path, folder: Path) -> list[Path]:
    from vision.detect.model_card import sha256_of
    from vision.training.export_onnx import export_onnx
    from vision.training.model_card_writer import card_document, write_card
    from vision.training.ultralytics_offline import import_ultralytics

    import_ultralytics(folder / "ycfg")
    out = []
    for hw in SIZES:
        onnx = folder / f"yolo11n_{hw[0]}x{hw[1]}.onnx"
        export_onnx(checkpoint, onnx, hw)
        write_card(onnx.with_name(onnx.stem + ".card.json"), card_document(
            name=onnx.stem, kind="camera", classes=CLASSES, input_hw=list(hw), sha256=sha256_of(onnx),
            class_thresholds={}))
        out.append(onnx)
    return out


def _time(fn, n: int) -> float:
    fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model(s) to time (default: resources/models/*.onnx)")
    ap.add_argument("--checkpoint", help="ultralytics checkpoint to export at 480x640, 256x320 and 384x640")
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    if args.checkpoint:
        models = _export_sizes(Path(args.checkpoint), Path(tmp.name))
    else:
        models = [Path(m) for m in args.model] if args.model else sorted((REPO / "resources" / "models").glob("*.onnx"))
    if not models:
        ap.error("no models: give --model or --checkpoint (or ship models in resources/models)")
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    engines = ["onnxruntime"] + (["openvino"] if openvino_available() else [])
    rows = []
    for m in models:
        base = OnnxDetector(m, threads=1, verify_sha256=False, backend="onnxruntime")
        x, _ = base.preprocess([frame])
        baseline_s = _time(lambda: base.backend.run(x), args.frames)
        for engine in engines:
            for threads in (1, 2):
                det = OnnxDetector(m, threads=threads, verify_sha256=False, backend=engine)
                stages = {"preprocess": [], "inference": [], "postprocess": []}
                tracker = ByteTracker()
                track_ms = []
                det(frame)
                for _ in range(args.frames):
                    d = det(frame, conf=0.25)
                    for k in stages:
                        stages[k].append(det.last_timings_ms[k])
                    t0 = time.perf_counter()
                    tracker.update(d)
                    track_ms.append((time.perf_counter() - t0) * 1e3)
                med = {k: float(np.median(v)) for k, v in stages.items()}
                total = sum(med.values()) + float(np.median(track_ms))
                rows.append({"model": m.name, "input_hw": list(det.card.input_hw), "engine": engine,
                             "threads": threads, **{f"{k}_ms": round(v, 2) for k, v in med.items()},
                             "track_ms": round(float(np.median(track_ms)), 3), "total_ms": round(total, 2),
                             "fps": round(1000.0 / total, 1), "baseline_ms": round(baseline_s * 1e3, 2),
                             "vs_baseline": round(total / (baseline_s * 1e3), 2)})
    print(f"{'model':28s} {'engine':12s} thr  pre  infer  post  track  total   fps  x base")
    for r in rows:
        print(f"{r['model']:28s} {r['engine']:12s} {r['threads']:3d} {r['preprocess_ms']:5.1f} {r['inference_ms']:6.1f}"
              f" {r['postprocess_ms']:5.1f} {r['track_ms']:6.2f} {r['total_ms']:6.1f} {r['fps']:5.1f}  {r['vs_baseline']:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"frames": args.frames, "rows": rows}, indent=2))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
