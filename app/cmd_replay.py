"""`hullwatch replay FILE.tlog [--json]`: what a telemetry log holds."""
from __future__ import annotations

import json
import sys


def run_replay_command(args) -> int:
    from vehicle.tlog_summary import format_summary, summarize_tlog

    summary = summarize_tlog(args.file)
    if args.json:
        json.dump(summary.to_dict(), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print(format_summary(summary))
    return 0
