"""`hullwatch detect INPUT [--model M] -o OUTDIR`: offline detection with tracking."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .errors import UserError


def default_model(kind: str) -> Path:
    from resources import resource_path

    return resource_path("models", "sonar.onnx" if kind == "sonar" else "camera.onnx")


def run_detect_command(args) -> int:
    from vision.classes import CLASSES
    from vision.detect import ModelError, OnnxDetector
    from vision.detect.offline import InputError, input_kind, run_offline

    src = Path(args.input)
    try:
        kind = input_kind(src)
    except InputError as exc:
        raise UserError(str(exc)) from None
    model = Path(args.model) if args.model else default_model(kind)
    if not model.is_file():
        hint = "pass --model M.onnx" if args.model is None else "check the path"
        raise UserError(f"model {model} not found: {hint} (models come from `hullwatch train`)")
    try:
        detector = OnnxDetector(model, expected_classes=CLASSES)
    except ModelError as exc:
        raise UserError(str(exc)) from None
    last = [0.0]

    def progress(summary) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0:
            last[0] = now
            print(f"detect: {summary.frames} frames, {summary.detections} detections", file=sys.stderr, flush=True)

    try:
        summary = run_offline(detector, src, Path(args.output), write_media=not args.no_media, progress=progress)
    except InputError as exc:
        raise UserError(str(exc)) from None
    speed = f", {summary.speed_x:.1f}x real time" if summary.speed_x == summary.speed_x else ""
    print(f"{summary.kind}: {summary.frames} frames, {summary.detections} detections in {summary.tracks} tracks, "
          f"{summary.alarms} alarms; "
          f"{summary.wall_s:.1f} s{speed}")
    for path in summary.outputs:
        print(f"wrote {path}")
    return 0
