"""`hullwatch evaluate`: a model (ONNX + card) scored on a split of a YOLO data set."""
from __future__ import annotations

import sys
import time


def run_evaluate_command(args) -> int:
    from vision.atomic_files import write_json_atomic
    from vision.evaluation.evaluate_dataset import evaluate_model

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
    if args.record:
        _record_in_card(args, ev)
    return 0


def _record_in_card(args, ev) -> None:
    """Held-out results belong in the model card: it is what a report cites. The weights
    (and their SHA-256) are untouched; only the card gains an `evaluations` entry."""
    import json
    from pathlib import Path

    from vision.detect.model_card import card_path_for, load_card
    from vision.atomic_files import write_json_atomic
    from vision.training.model_card_writer import dataset_ref

    from .errors import UserError

    card_path = card_path_for(args.model)
    load_card(args.model)  # a broken card is reported before it is rewritten
    doc = json.loads(card_path.read_text(encoding="utf-8"))
    data_card = Path(args.dataset) / "card.json"
    result = {**ev.to_dict(), "model": Path(args.model).name, "dataset": dataset_ref(args.dataset)}
    entry = {"dataset": dataset_ref(args.dataset), "split": args.split,
             "dataset_card": json.loads(data_card.read_text(encoding="utf-8")) if data_card.is_file() else None,
             "result": result}
    doc.setdefault("evaluations", [])
    doc["evaluations"] = [e for e in doc["evaluations"]
                          if (e.get("dataset"), e.get("split")) != (entry["dataset"], entry["split"])] + [entry]
    try:
        write_json_atomic(card_path, doc)
    except OSError as exc:
        raise UserError(f"cannot update {card_path}: {exc.strerror or exc}") from None
    print(f"recorded in {card_path}")
