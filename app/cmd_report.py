"""`hullwatch report RECORD [-o FILE.pdf]`: the inspection report of a closed mission record
(PDF, HTML, JSON, CSV), written beside the record; prints the files and the time taken."""
from __future__ import annotations

import time
from pathlib import Path

from .errors import UserError


def run_report_command(args) -> int:
    from recording.errors import RecordError
    from recording.report import write_report
    from resources import resource_path

    folder = Path(args.record)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give the mission record's folder")
    t0 = time.perf_counter()
    try:
        files = write_report(folder, Path(args.output) if args.output else None,
                             font_dirs=(resource_path("fonts"),))
    except RecordError as exc:
        raise UserError(str(exc)) from None
    took_s = time.perf_counter() - t0
    for path in (files.pdf, files.html, files.json, files.csv):
        print(path)
    print(f"report written in {took_s:.1f} s")
    return 0
