"""`hullwatch dataset`: YOLO data sets with their cards."""
from __future__ import annotations

import sys

from .errors import UserError


def run_dataset_command(args) -> int:
    if args.from_fls:
        if args.kind != "sonar":
            raise UserError("--from-fls holds sonar frames: use --kind sonar")
        from vision.training.fls_dataset import convert_fls

        print(f"converting {args.from_fls} ...", file=sys.stderr, flush=True)
        card = convert_fls(args.from_fls, args.output, seed=args.seed)
        print(f"wrote {args.output}: frames {card['frames']}, labels {card['labels']}")
        return 0
    raise UserError("rendering synthetic data sets needs the embedded world's camera and sonar, which this version "
                    "does not have yet; --kind sonar --from-fls DIR converts the real FLS sonar frames")
