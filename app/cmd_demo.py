"""`hullwatch demo --headless`: a complete simulated inspection (app/demo_mission.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from .errors import UserError


def run_demo_command(args) -> int:
    from .demo_mission import run_demo

    if args.duration < 0:
        raise UserError("--duration: give seconds >= 0 (0 flies the whole plan)")
    out = Path(args.output) if args.output else Path.home() / "HullWatch" / "demo"
    summary = run_demo(args.duration or None, out, log=lambda text: print(text, file=sys.stderr, flush=True))
    print("\n".join(summary.lines()), flush=True)
    return 0
