"""`hullwatch evaluate`: a model (ONNX + card) scored on a split of a YOLO data set."""
from __future__ import annotations

import sys
import time


def run_evaluate_command(args) -> int:
    from vision.evaluation.evaluate_dataset import evaluate_model, write_json_atomic

    t0 = time.monotonic()
    last = [t0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or (done == total and now - t0 >= 1.0):
            last[0] = now
            print(f"evaluate: {done}/{total} images ({done / max(now - t0, 1e-9):.1f}/s)", file=sys.stderr,
                  flush=True)

    ev = evaluate_model(args.model, args.dataset, split=args.split, conf=args.conf, fps=args.fps,
                        progress=progress)
    print(f"{args.model} on {args.dataset} [{args.split}], {ev.images} images "
          f"({ev.images / max(ev.wall_time_s, 1e-9):.1f} images/s); P and R at "
          + (f"conf {args.conf:g}" if args.conf is not None else "the card's per-class thresholds (thr)")
          + "; AP from conf 0.001")
    print(ev.table())
    if args.json:
        write_json_atomic(args.json, ev.to_dict())
        print(f"wrote {args.json}")
    return 0
