"""`write_report(record_dir)`: a closed record's inspection report as PDF and HTML, and its
machine-readable export (JSON, CSV) for other port-security systems.

Written beside the record, never into it (a closed record is sealed: one more file would
make `hullwatch verify` report it altered): by default <record>_report.pdf, .html, .json
and .csv in the record's parent folder. Each file is written whole or not at all
(temporary file, then rename), and only after all four rendered.

JSON (format "hullwatch-report", version 1; keys are stable, new ones may be added):
    mission    {record_id, record_folder, vessel {name, imo, mmsi, berth}, team {operator,
                members, unit}, plan {file, sha256, copy} | null, hull (name and SHA-256 of the
                hull model mapped on, "" if not recorded), start_utc, end_utc, duration_s,
                state, recovered_utc, notes, software {}, models [{source, file, sha256}], vehicle {}}
    coverage   {overall_pct, wetted_area_m2, seen_area_m2, per_sensor_pct {}, per_side_pct
                {port, starboard, bottom}, per_niche_pct {}, source}
    findings   [{finding_id, class_name, confidence, sources [], detectors [{source, file,
                sha256}], first_seen_utc, last_seen_utc, address {side, x_from_stern_m,
                depth_below_waterline_m, niche}, uncertainty_m, size_m {width, height} | null,
                observations, merged_from [], note, decision ("confirmed" | "dismissed" |
                "not reviewed"), decided_by, decided_utc, decisions [DECISION], alarms [ALARM]}]
    unlinked_alarms [ALARM]   alarms no finding holds
    gaps       {uncovered_m2, regions [{area_m2, where, niche}]}
    integrity  {verdict ("INTACT" | "ALTERED" | "NOT CLOSED"), problems [], manifest_sha256,
                signer_key_id, files_checked, events_checked, addenda_checked, verified_utc}
    addenda    [{seq, kind, author, created_utc, key_id, entries, other_entries [] (the first 20
                entries that are not review decisions, as JSON text), other_count, file}]
    timeline   [{t_utc, kind, text, warning}]
    notes      []
    ALARM      {alarm_id, source, class_name, confidence, raised_utc, tracks [[source, id]],
                snapshot {file, sha256, status} | null, decisions [DECISION]}
    DECISION   {kind, reviewer, t_utc, text, alarm_id, finding_id, recorded ("during the mission"
                | "addendum"), addendum (its seq) | null, author, added_utc (when it was signed) | null}
Times are ISO 8601 UTC ("2026-11-29T09:15:45.010Z"), lengths metres, areas m², shares 0..100.

CSV: one row per finding, the columns of CSV_COLUMNS; decision, reviewer and decided_utc
are the finding's current review decision.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

from .errors import RecordError
from .mission_record import utc_iso
from .report_data import ReportData, gather_report_data
from .report_findings import AlarmInfo, Decision, FindingInfo

__all__ = ["CSV_COLUMNS", "ReportFiles", "report_files", "report_json", "report_csv", "write_report"]

JSON_FORMAT, JSON_VERSION = "hullwatch-report", 1
CSV_COLUMNS = ("finding_id", "class_name", "confidence", "side", "x_from_stern_m", "depth_below_waterline_m",
               "niche", "uncertainty_m", "size_w_m", "size_h_m", "first_seen_utc", "last_seen_utc", "sources",
               "decision", "reviewer", "decided_utc")


@dataclasses.dataclass(frozen=True)
class ReportFiles:
    pdf: Path
    html: Path
    json: Path
    csv: Path


def _iso(t_utc_s: float | None) -> str | None:
    return utc_iso(t_utc_s) if t_utc_s is not None else None


def _decision(d: Decision) -> dict:
    return {"kind": d.kind, "reviewer": d.reviewer, "t_utc": _iso(d.t_utc_s), "text": d.text, "alarm_id": d.alarm_id,
            "finding_id": d.finding_id, "recorded": "during the mission" if d.addendum is None else "addendum",
            "addendum": d.addendum, "author": d.author, "added_utc": _iso(d.added_utc_s)}


def _alarm(a: AlarmInfo) -> dict:
    snapshot = None
    if a.snapshot_file:
        digest = hashlib.sha256(a.snapshot_png).hexdigest() if a.snapshot_png is not None else None
        snapshot = {"file": a.snapshot_file, "sha256": digest, "status": a.snapshot_status}
    return {"alarm_id": a.alarm_id, "source": a.source, "class_name": a.class_name, "confidence": a.confidence,
            "second_look": None if a.second_look is None else {"score": a.second_look, "level": a.second_look_level},
            "raised_utc": _iso(a.t_utc_s), "tracks": [list(t) for t in a.tracks], "snapshot": snapshot,
            "decisions": [_decision(d) for d in a.decisions]}


def _finding(f: FindingInfo) -> dict:
    d = f.decided
    return {"finding_id": f.finding_id, "class_name": f.class_name, "confidence": f.confidence,
            "sources": list(f.sources), "detectors": [dataclasses.asdict(m) for m in f.detectors],
            "first_seen_utc": _iso(f.first_seen_utc_s), "last_seen_utc": _iso(f.last_seen_utc_s),
            "address": {"side": f.side, "x_from_stern_m": f.x_from_stern_m,
                        "depth_below_waterline_m": f.depth_below_waterline_m, "niche": f.niche},
            "uncertainty_m": f.uncertainty_m,
            "size_m": {"width": f.size_m[0], "height": f.size_m[1]} if f.size_m else None,
            "observations": f.observations, "merged_from": list(f.merged_from), "note": f.note,
            "decision": f.decision, "decided_by": d.reviewer if d else None,
            "decided_utc": _iso(d.t_utc_s) if d else None,
            "decisions": [_decision(x) for x in f.decisions], "alarms": [_alarm(a) for a in f.alarms]}


def report_json(data: ReportData) -> dict:
    m, c, i = data.mission, data.coverage, data.integrity
    mission = {"record_id": m.record_id, "record_folder": m.folder_name,
               "vessel": {"name": m.vessel_name, "imo": m.imo, "mmsi": m.mmsi, "berth": m.berth},
               "team": {"operator": m.operator, "members": list(m.members), "unit": m.unit},
               "plan": {"file": m.plan_file, "sha256": m.plan_sha256, "copy": m.plan_copy} if m.plan_file else None,
               "hull": m.hull,
               "start_utc": _iso(m.start_utc_s), "end_utc": _iso(m.end_utc_s), "duration_s": m.duration_s,
               "state": m.state, "recovered_utc": m.recovered_utc, "notes": m.notes, "software": dict(m.software),
               "models": [dataclasses.asdict(x) for x in m.models], "vehicle": dict(m.vehicle)}
    coverage = {"overall_pct": c.overall_pct, "wetted_area_m2": c.wetted_area_m2, "seen_area_m2": c.seen_area_m2,
                "per_sensor_pct": dict(c.per_sensor_pct), "per_side_pct": dict(c.per_side_pct),
                "per_niche_pct": dict(c.per_niche_pct), "source": c.source}
    integrity = {"verdict": i.verdict, "problems": list(i.problems), "manifest_sha256": i.manifest_sha256,
                 "signer_key_id": i.signer_key_id, "files_checked": i.files_checked,
                 "events_checked": i.events_checked, "addenda_checked": i.addenda_checked,
                 "verified_utc": _iso(i.verified_utc_s)}
    return {"format": JSON_FORMAT, "version": JSON_VERSION, "generated_utc": _iso(data.generated_utc_s),
            "mission": mission, "coverage": coverage, "findings": [_finding(f) for f in data.findings],
            "unlinked_alarms": [_alarm(a) for a in data.unlinked_alarms],
            "gaps": {"uncovered_m2": data.uncovered_m2,
                     "regions": [dataclasses.asdict(g) for g in data.gaps]},
            "integrity": integrity, "addenda": [{**dataclasses.asdict(a), "other_entries": list(a.other_entries)}
                                                for a in data.addenda],
            "timeline": [{"t_utc": _iso(t.t_utc_s), "kind": t.kind, "text": t.text, "warning": t.warning}
                         for t in data.timeline],
            "notes": list(data.notes)}


def _num(value, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else ""


def report_csv(data: ReportData) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in data.findings:
        d = f.decided
        w, h = f.size_m if f.size_m else (None, None)
        writer.writerow([f.finding_id, f.class_name, _num(f.confidence), f.side or "", _num(f.x_from_stern_m),
                         _num(f.depth_below_waterline_m), f.niche or "", _num(f.uncertainty_m), _num(w), _num(h),
                         _iso(f.first_seen_utc_s) or "", _iso(f.last_seen_utc_s) or "", "+".join(f.sources),
                         f.decision, d.reviewer if d else "", (_iso(d.t_utc_s) or "") if d else ""])
    return out.getvalue()


def report_files(record_dir: Path, pdf_path: Path | None = None) -> ReportFiles:
    """Where the report of `record_dir` goes; RecordError for a place inside the record."""
    record = Path(record_dir).resolve()
    pdf = Path(pdf_path) if pdf_path is not None else record.parent / f"{record.name}_report.pdf"
    if pdf.suffix == "":
        pdf = pdf.with_suffix(".pdf")
    if pdf.suffix.lower() != ".pdf":
        raise RecordError(f"{pdf}: the report's file name must end in .pdf (the HTML, JSON and CSV go beside it)")
    pdf = pdf.resolve()
    if pdf.parent == record or record in pdf.parents:
        raise RecordError(f"{pdf}: inside the record folder; a closed record is never written to (that would make "
                          "it fail `hullwatch verify`): write the report beside the record or elsewhere")
    return ReportFiles(pdf, pdf.with_suffix(".html"), pdf.with_suffix(".json"), pdf.with_suffix(".csv"))


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(record_dir, pdf_path=None, font_dirs=()) -> ReportFiles:
    """Gather, render all four files, then write them. Raises RecordError naming the
    problem: a folder that is not a closed record, a damaged one, an unwritable output.
    font_dirs: folders searched first for DejaVu Sans (the installer bundles a copy)."""
    from .report_html import render_html
    from .report_pdf import render_pdf

    files = report_files(record_dir, pdf_path)
    data = gather_report_data(Path(record_dir))
    rendered = {files.pdf: render_pdf(data, font_dirs), files.html: render_html(data).encode("utf-8"),
                files.json: (json.dumps(report_json(data), indent=1, ensure_ascii=False) + "\n").encode("utf-8"),
                files.csv: report_csv(data).encode("utf-8")}
    folder = files.pdf.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, payload in rendered.items():
            _write_atomic(path, payload)
    except OSError as e:
        raise RecordError(f"cannot write the report to {folder} ({e.strerror or e}): choose a folder you can write "
                          "to (`hullwatch report RECORD -o FOLDER/report.pdf`) or free disk space") from None
    return files
