"""`hullwatch train`: a YOLO11n detector trained on a HullWatch data set, exported to ONNX
with its model card (vision.training.train)."""
from __future__ import annotations

import sys
from pathlib import Path

from .errors import UserError


def run_train_command(args) -> int:
    if args.resume and args.init is not None:
        args._parser.error("--init starts a new training; --resume continues one: give one of them")
    if not args.resume and (args.kind is None or args.data is None):
        args._parser.error("--kind and --data are required (only --resume takes them from the stopped run)")
    from vision.training.export_onnx import ExportError
    from vision.training.train import TrainSpec, train_model
    from vision.training.ultralytics_offline import UltralyticsUnavailable

    data = [Path(d) for d in args.data or []]
    spec = TrainSpec(kind=args.kind, data=(data[0] if len(data) == 1 else tuple(data)) if data else None,
                     output=Path(args.output),
                     epochs=args.epochs, imgsz=args.imgsz, seed=args.seed, batch=args.batch, threads=args.threads,
                     resume=args.resume, hours=args.hours, init=Path(args.init) if args.init else None)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    try:
        card = train_model(spec, log=log, on_epoch=lambda r: log(r.line()), verbose=args.debug)
    except UltralyticsUnavailable:
        raise UserError("ultralytics is not installed: install the train extra: pip install -e '.[train]' "
                        "(or scripts/setup.sh)") from None
    except ExportError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        print(f"train: stopped; the last completed epoch is kept: continue with "
              f"hullwatch train --resume -o {args.output}", file=sys.stderr, flush=True)
        raise
    m = card.get("metrics") or {}
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731

    def scores(mm: dict) -> str:
        mean = mm.get("mean") or {}
        if not mean:
            return "no test split: no held-out metrics"
        return (f"test split ({mm.get('images')} images): mAP50 {fmt(mean.get('map50'))}, mAP50-95 "
                f"{fmt(mean.get('map50_95'))}, recall at threshold {fmt(mean.get('recall'))}")

    h, w = card["input_hw"]
    head = (f"wrote {args.output} and {Path(args.output).with_suffix('').name}.card.json: {card['kind']} model, "
            f"input {h}x{w}, {card['training']['epochs_completed']} epochs in {card['training']['wall_time_s']:.0f} s")
    if "per_dataset" in m:
        print(head + f"; trained on {len(m['per_dataset'])} data sets")
        for mm in m["per_dataset"]:
            print(f"  {mm.get('dataset')}: {scores(mm)}")
    else:
        print(head + "; " + (scores(m) if m else "no test split: no held-out metrics"))
    op = card.get("alarm_operating_point") or {}
    if op:
        print(f"alarm thresholds {op.get('thresholds')}: {op.get('reason')}")
    return 0
