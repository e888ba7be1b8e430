"""`hullwatch verify RECORD`: exit 0 when the record is intact, 1 naming what changed."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from .errors import UserError


def run_verify_command(args) -> int:
    from recording.keys import InstallationKey
    from recording.verify import format_report, verify_record

    folder = Path(args.record)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give the mission record's folder")
    try:
        own = InstallationKey.load_or_create().key_id
    except Exception:  # noqa: BLE001 - without this installation's key, the signer is only reported
        own = None
    # integrity does not depend on which station signed: a team's other laptops sign with
    # their own keys; the report names the signer and says whether it is this installation
    report = verify_record(folder)
    if args.json:
        print(json.dumps({**dataclasses.asdict(report), "this_installation_key_id": own}, indent=1, default=str))
    else:
        print(format_report(report, this_key_id=own))
    return 0 if report.ok else 1
