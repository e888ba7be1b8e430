"""`hullwatch connect URL`: the headless station on any vehicle."""
from __future__ import annotations

from .headless_station import run_headless


def run_connect_command(args) -> int:
    return run_headless(args.url, arm=args.arm, mode=args.mode, dive_depth_m=args.dive_to,
                        duration_s=args.duration, discovery_timeout_s=args.timeout, tlog=args.tlog,
                        keep_armed=args.keep_armed)
