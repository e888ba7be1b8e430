"""`hullwatch analyze RECORD [--model M] [--sonar-model M] [--engine E] [--json]`: re-run
detection and mapping on a closed record, add the new findings as a signed addendum, list the
differences from the live findings (app/record_analysis.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .errors import UserError


def run_analyze_command(args) -> int:
    from recording.errors import RecordError
    from vision.detect import ModelError

    from .record_analysis import analyze_record, write_analysis

    folder = Path(args.record)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give the mission record's folder")
    if not (folder / "manifest.json").is_file():
        raise UserError(f"{folder} is not closed (no manifest.json): open it with HullWatch to recover it first; "
                        "an analysis is added to a sealed record only")
    for flag, path in (("--model", args.model), ("--sonar-model", args.sonar_model)):
        if path and not Path(path).is_file():
            raise UserError(f"{flag} {path}: no such model file")
    told = [-1]

    def progress(fraction: float, text: str) -> None:
        step = int(fraction * 10)
        if step > told[0]:
            told[0] = step
            print(f"analyzing: {100 * fraction:3.0f} % ({text})", file=sys.stderr, flush=True)

    try:
        analysis = analyze_record(folder, args.model, args.sonar_model, progress=progress, backend=args.engine)
        addendum = write_analysis(folder, analysis)
    except (RecordError, ModelError) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps({**analysis.to_dict(), "addendum": str(addendum)}, indent=1))
    else:
        print("\n".join(analysis_lines(analysis)))
        print(f"addendum: {addendum}")
    return 0


def _model_text(m) -> str:
    same = {True: "same as live", False: f"live ran {m.live_file} {str(m.live_sha256)[:12]}",
            None: "the record names no live model"}[m.same_as_live]
    return f"{m.source} {m.file} {m.sha256[:12]} on {m.engine} ({same})"


def finding_rows(findings, id_label: str = "id") -> list[str]:
    out = [f"  {id_label:>4}  {'class':<20} {'where on the hull':<58} {'+-m':>5} {'seen':>5} {'conf':>5}  sources"]
    for f in findings:
        out.append(f"  {f.finding_id:>4}  {f.class_name:<20} {f.address[:58]:<58} {f.uncertainty_m:5.2f} "
                   f"{f.observations:5d} {f.best_confidence:5.2f}  {'+'.join(f.sources)}")
    return out


def analysis_lines(a) -> list[str]:
    out = [f"record: {a.record}",
           f"hull: {a.hull + ' (mapped)' if a.mapped else 'not rebuilt: detection only'}",
           "models: " + "; ".join(_model_text(m) for m in a.models),
           f"processed: {a.frames} camera frames, {a.pings} sonar pings (every one) over {a.media_s:.1f} s of mission "
           f"in {a.wall_s:.1f} s: {a.x_real_time:.2f}x real time"]
    out += [f"note: {n}" for n in a.notes]
    out.append(f"findings of the re-analysis: {len(a.findings)}")
    if a.findings:
        out += finding_rows(a.findings, "new")
    out.append(f"original findings (live, from {a.original_source}): {len(a.original_findings)}")
    if a.original_findings:
        out += finding_rows(a.original_findings, "orig")
    d = a.differences
    out.append(f"differences (same class within 1.0 m on the hull): {len(d.matched)} matched, {len(d.only_b)} new, "
               f"{len(d.only_a)} missing")
    out += [f"  matched  original {m.a_id} = new {m.b_id}  {m.class_name}, {m.distance_m:.2f} m apart"
            for m in d.matched]
    out += [f"  new      new {f.finding_id}  {f.class_name} at {f.address}" for f in d.only_b]
    out += [f"  missing  original {f.finding_id}  {f.class_name} at {f.address}" for f in d.only_a]
    by_source = {}
    for x in a.alarms:
        by_source[x.source] = by_source.get(x.source, 0) + 1
    out.append(f"alarms: {len(a.alarms)}" + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())) + ")"
                                             if by_source else ""))
    return out
