"""`hullwatch dataset`: YOLO data sets with their cards."""
from __future__ import annotations

import sys
import time

from .errors import UserError


def run_dataset_command(args) -> int:
    heldout = getattr(args, "heldout", False)
    hull, hull_scale, draft = (getattr(args, k, None) for k in ("hull", "hull_scale", "draft"))
    if not heldout and (hull or hull_scale or draft):
        args._parser.error("--hull, --hull-scale and --draft render a held-out set: add --heldout "
                           "(training sets use parametric hulls only)")
    if (hull_scale or draft) and not hull:
        args._parser.error("--hull-scale and --draft describe a hull mesh: give it with --hull FILE")
    if args.from_fls and heldout:
        args._parser.error("--from-fls --heldout: the real frames' held-out part is the test split that --from-fls "
                           "writes (split by blocks of consecutive frames); convert once and evaluate on --split test")
    if args.from_fls and getattr(args, "focus", None):
        args._parser.error("--focus chooses where rendered views look; --from-fls converts recorded frames")
    if args.from_fls and getattr(args, "standoff", None):
        args._parser.error("--standoff chooses where rendered views are taken from; --from-fls converts recorded frames")
    if args.from_fls:
        if args.kind != "sonar":
            raise UserError("--from-fls holds sonar frames: use --kind sonar")
        from vision.training.fls_dataset import convert_fls

        print(f"converting {args.from_fls} ...", file=sys.stderr, flush=True)
        card = convert_fls(args.from_fls, args.output, seed=args.seed)
        print(f"wrote {args.output}: frames {card['frames']}, labels {card['labels']}")
        return 0

    from pathlib import Path

    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset
    from vision.training.yolo_layout import check_output_dir

    spec = SyntheticSpec(kind=args.kind, n=args.n, seed=args.seed, image_size=args.size,
                         negative_fraction=args.negatives, heldout=heldout, hull_path=hull,
                         hull_scale=hull_scale or 1.0, hull_draft_m=draft, focus=getattr(args, "focus", None),
                         standoff_m=tuple(args.standoff) if getattr(args, "standoff", None) else None)
    spec.validate()
    check_output_dir(Path(args.output), force=args.force)  # before minutes of rendering, not after
    progress = _Progress(args.kind)
    what = "held-out " if heldout else ""
    on = f" on {hull}" if hull else (" on held-out parametric hulls" if heldout else "")
    on += {"niche": " looking at niche areas", "distractor": " looking at distractors"}.get(spec.focus, "")
    on += f" from {spec.standoff[0]:g}-{spec.standoff[1]:g} m" if spec.standoff_m else ""
    print(f"dataset: rendering {args.n} {what}{args.kind} images{on} (seed {args.seed}) into {args.output}",
          file=sys.stderr, flush=True)
    card = build_synthetic_dataset(spec, args.output, force=args.force, progress=progress)
    frames, empty = card["frames"], card["empty_images"]
    labels = {c: sum(card["labels"][s].get(c, 0) for s in frames) for c in card["classes"]}
    print(f"wrote {args.output}: {sum(frames.values())} images (" + ", ".join(f"{s} {frames[s]}" for s in frames)
          + f"), {sum(empty.values())} without labels; labels "
          + ", ".join(f"{c} {k}" for c, k in labels.items() if k) + f"; card {args.output}/card.md")
    if heldout:
        print(f"held out, for evaluation only: hullwatch evaluate MODEL.onnx {args.output} (split test)")
    return 0


class _Progress:
    """One line on stderr at most every second, and one at the end."""

    def __init__(self, kind: str):
        self.kind = kind
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 1.0 and done < total:
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-9)
        eta = (total - done) / rate if rate > 0 else float("inf")
        print(f"dataset: {done}/{total} {self.kind} images ({rate:.1f}/s, about {eta:.0f} s left)",
              file=sys.stderr, flush=True)
