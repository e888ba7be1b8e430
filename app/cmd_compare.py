"""`hullwatch compare RECORD_A RECORD_B [--json]`: objects in both inspections of one vessel,
appeared in B, vanished from A (app/record_compare.py)."""
from __future__ import annotations

import json
from pathlib import Path

from .errors import UserError


def run_compare_command(args) -> int:
    from recording.errors import RecordError

    from .record_compare import NotSameVessel, compare_records

    for folder in (Path(args.record_a), Path(args.record_b)):
        if not folder.is_dir():
            raise UserError(f"{folder} is not a folder: give two mission record folders")
    try:
        comparison = compare_records(args.record_a, args.record_b)
    except (NotSameVessel, RecordError) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=1))
    else:
        print("\n".join(comparison_lines(comparison)))
    return 0


def comparison_lines(c) -> list[str]:
    from .cmd_analyze import finding_rows

    out = [f"vessel: {c.vessel} (the same vessel by {c.same_by})",
           f"A: {c.record_a} (started {c.start_a_utc})", f"B: {c.record_b} (started {c.start_b_utc})",
           f"findings compared: {c.findings_from}"]
    out += [f"note: {n}" for n in c.notes]
    for name, findings in (("A", c.findings_a), ("B", c.findings_b)):
        out.append(f"findings in {name}: {len(findings)}")
        if findings:
            out += finding_rows(findings, name)
    out.append(f"in both (same class within 1.0 m on the hull): {len(c.matched)}")
    out += [f"  A {m.a_id} = B {m.b_id}  {m.class_name}, moved {m.distance_m:.2f} m" for m in c.matched]
    # an appeared finding is B's, judged by A's coverage; a vanished one is A's, judged by B's
    for title, rows, mine, other in (("only in B", c.appeared, "B", "A"), ("only in A", c.vanished, "A", "B")):
        out.append(f"{title}: {len(rows)}")
        for u in rows:
            share = "unknown" if u.other_seen_share is None else f"{100 * u.other_seen_share:.0f} % seen"
            out.append(f"  {mine} {u.finding.finding_id}  {u.finding.class_name} at {u.finding.address}: "
                       f"{u.status} ({other}'s coverage within 1 m: {share})")
    return out
