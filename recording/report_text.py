"""The words and numbers of an inspection report, as rows both renderers lay out
(recording.report_html, recording.report_pdf): one wording, one rounding, one order, so
the PDF and the HTML say exactly the same thing.
"""
from __future__ import annotations

from .report_data import ReportData, utc_text
from .report_findings import Decision, FindingInfo, parse_utc

TITLE = "Hull inspection report"
SHA_SHORT = 16  # hex digits where a digest is only a pointer (the full one is on the summary page)


def pct(value) -> str:
    return f"{value:.1f} %" if isinstance(value, (int, float)) else "not recorded"


def metres(value, digits: int = 2) -> str:
    return f"{value:.{digits}f} m" if isinstance(value, (int, float)) else "unknown"


def duration(seconds) -> str:
    if not isinstance(seconds, (int, float)):
        return "unknown"
    s = max(0, int(round(seconds)))
    return f"{s // 3600} h {s // 60 % 60:02d} min {s % 60:02d} s" if s >= 3600 else f"{s // 60} min {s % 60:02d} s"


def yes_no(value) -> str:
    return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def header(data: ReportData) -> str:
    m = data.mission
    day = utc_text(m.start_utc_s)[:10]
    return f"{m.vessel_name or 'unnamed vessel'} · {day} · record {m.record_id}"


def mission_time(data: ReportData) -> str:
    """2026-11-29 09:15:45 to 09:17:17 UTC (1 min 33 s); the end's date when it differs."""
    m = data.mission
    start, end = utc_text(m.start_utc_s), utc_text(m.end_utc_s)
    if start[:10] == end[:10]:
        end = end[11:]
    return f"{start.removesuffix(' UTC')} to {end} ({duration(m.duration_s)})"


def mission_rows(data: ReportData) -> list[tuple[str, str]]:
    m = data.mission
    team = ", ".join(m.members) if m.members else "none entered"
    rows = [("Vessel", m.vessel_name or "not entered"), ("IMO number", m.imo or "not entered"),
            ("MMSI", m.mmsi or "not entered"), ("Berth", m.berth or "not entered"),
            ("Mission (UTC)", mission_time(data)), ("Unit", m.unit or "not entered"),
            ("ROV operator", m.operator or "not entered"), ("Team", team),
            ("Sweep plan", f"{m.plan_file}  SHA-256 {m.plan_sha256}" + (f" (copy in the record: {m.plan_copy})"
                                                                         if m.plan_copy else "")
             if m.plan_file else "no plan recorded"),
            ("Hull model", m.hull or "not recorded"),
            ("Record", f"{m.folder_name} (id {m.record_id})")]
    if m.state == "recovered":
        rows.append(("Record state", f"recovered after an interruption (closed {m.recovered_utc or '?'}): "
                                     "the end time is that of the last data written"))
    if m.notes:
        rows.append(("Notes", m.notes))
    return rows


def coverage_rows(data: ReportData) -> list[tuple[str, str]]:
    c = data.coverage
    area = (f"{c.seen_area_m2:.0f} of {c.wetted_area_m2:.0f} m² wetted hull"
            if isinstance(c.seen_area_m2, (int, float)) and isinstance(c.wetted_area_m2, (int, float)) else "")
    rows = [("Overall", pct(c.overall_pct) + (f" ({area})" if area else ""))]
    rows += [(f"By {name}", pct(v)) for name, v in c.per_sensor_pct]
    rows += [(f"{side.capitalize()} side" if side != "bottom" else "Bottom", pct(v)) for side, v in c.per_side_pct]
    if data.uncovered_m2 is not None:
        rows.append(("Left uncovered", f"{data.uncovered_m2:.0f} m² in {len(data.gaps)} region(s)"))
    rows.append(("Figures from", c.source))
    return rows


def niche_rows(data: ReportData) -> list[tuple[str, str]]:
    return [(name, pct(v)) for name, v in data.coverage.per_niche_pct]


def count_rows(data: ReportData) -> list[tuple[str, str]]:
    rows = [("Findings", str(len(data.findings)))]
    rows += [(f"Class: {name}", str(n)) for name, n in data.findings_by_class().items()]
    rows += [(f"Decision: {decision}", str(n)) for decision, n in data.findings_by_decision().items()]
    if data.unlinked_alarms:
        rows.append(("Alarms not placed on the hull", str(len(data.unlinked_alarms))))
    return rows


def integrity_rows(data: ReportData) -> list[tuple[str, str]]:
    i = data.integrity
    rows = [("Verified at report time", f"{i.verdict} ({utc_text(i.verified_utc_s)}; {i.files_checked} files, "
                                        f"{i.events_checked} events, {i.addenda_checked} addenda checked)"),
            ("Integrity digest", f"SHA-256 of manifest.json: {i.manifest_sha256 or 'none (no manifest)'}"),
            ("Signed with key", i.signer_key_id or "no signer recorded"),
            ("Record state", data.mission.state)]
    rows += [("Problem", p) for p in i.problems]
    return rows


def software_rows(data: ReportData) -> list[tuple[str, str]]:
    rows = [(f"Software {k.replace('_', ' ')}", yes_no(v)) for k, v in data.mission.software]
    rows += [(f"{m.source.capitalize()} model", f"{m.file}  SHA-256 {m.sha256}") for m in data.mission.models]
    rows += [(f"Vehicle {k}", yes_no(v)) for k, v in data.mission.vehicle]
    return rows


def place(f: FindingInfo) -> str:
    if f.side is None:
        return "not placed on the hull"
    where = (f"{f.side}, {metres(f.x_from_stern_m, 1)} from the stern, "
             f"{metres(f.depth_below_waterline_m, 1)} below the waterline")
    return where + (f", in {f.niche}" if f.niche else "")


def size(f: FindingInfo) -> str:
    return f"{f.size_m[0]:.2f} m × {f.size_m[1]:.2f} m (width × height)" if f.size_m else "not measured"


def detectors(f: FindingInfo) -> str:
    named = {m.source: f"{m.source} ({m.file}, SHA-256 {m.sha256[:SHA_SHORT]}…)" for m in f.detectors}
    return ", ".join(named.get(s, f"{s} (model not recorded)") for s in f.sources) or "unknown"


def decision_text(d: Decision | None) -> str:
    if d is None:
        return "NOT REVIEWED"
    later = " (added after the mission)" if d.addendum else ""
    return f"{d.kind.upper()} by {d.reviewer}, {utc_text(d.t_utc_s)}{later}"


def second_look(a, sep: str = " ") -> str:
    """The alarm verifier's score when the alarm was raised, against the level it had to reach."""
    if a.second_look is None:
        return ""
    level = f" (level {a.second_look_level:.2f})" if a.second_look_level is not None else ""
    return f"{sep}second look {a.second_look:.2f}{level}"


def finding_title(f: FindingInfo) -> str:
    return f"Finding {f.finding_id}: {f.class_name}"


def finding_rows(f: FindingInfo) -> list[tuple[str, str]]:
    rows = [("Review decision", decision_text(f.decided)),
            ("Confidence", f"{f.confidence:.2f} (best)" if f.confidence is not None else "unknown"),
            ("Detector", detectors(f)), ("First seen", utc_text(f.first_seen_utc_s)),
            ("Last seen", utc_text(f.last_seen_utc_s)),
            ("Place on the hull", place(f) + (f" ± {metres(f.uncertainty_m)}" if f.uncertainty_m is not None else "")),
            ("Size", size(f)), ("Observations", str(f.observations)),
            ("Alarms", ", ".join(f"{a.alarm_id} ({a.source}, raised {utc_text(a.t_utc_s)[11:]}{second_look(a, ', ')})"
                                 for a in f.alarms) or "none")]
    if f.merged_from:
        rows.append(("Merged", "the map merged finding(s) " + ", ".join(map(str, f.merged_from)) + " into this one"))
    if f.note:
        rows.append(("Note", f.note))
    return rows


def snapshot_caption(f: FindingInfo) -> str:
    a = f.snapshot
    if a is not None:
        state = "" if a.snapshot_status == "intact" else f" — {a.snapshot_status.upper()}"
        return f"{a.snapshot_file} (alarm {a.alarm_id}, {a.source}){state}"
    if f.sources and "camera" not in f.sources:
        return "no snapshot: a sonar-only finding"
    missing = [f"{a.snapshot_file}: {a.snapshot_status}" for a in f.alarms if a.snapshot_file]
    return "no snapshot" + (f" ({'; '.join(missing)})" if missing else " recorded")


DECISION_HEADER = ("Time", "Reviewer", "Action", "Reason / note", "Recorded")


def decision_rows(decisions) -> list[tuple[str, str, str, str, str]]:
    return [(utc_text(d.t_utc_s), d.reviewer, d.kind + (f" (alarm {d.alarm_id})" if d.alarm_id is not None else ""),
             d.text or "", "during the mission" if d.addendum is None
             else f"after the mission: signed addendum {d.addendum} by {d.author}, {utc_text(d.added_utc_s)}")
            for d in decisions]


ALARM_HEADER = ("Alarm", "Class", "Source", "Confidence", "Raised", "Decision")


def unlinked_alarm_rows(data: ReportData) -> list[tuple[str, ...]]:
    rows = []
    for a in data.unlinked_alarms:
        calls = [d for d in a.decisions if d.kind in ("confirmed", "dismissed")]
        conf = f"{a.confidence:.2f}" if a.confidence is not None else "?"
        rows.append((str(a.alarm_id), a.class_name, a.source, conf + second_look(a, "; "), utc_text(a.t_utc_s),
                     decision_text(calls[-1] if calls else None)))
    return rows


GAP_HEADER = ("Area", "Where (centre)", "Niche area")


def gap_rows(data: ReportData) -> list[tuple[str, str, str]]:
    return [(f"{g.area_m2:.1f} m²", g.where, g.niche or "–") for g in data.gaps]


def gap_total(data: ReportData) -> str:
    if data.uncovered_m2 is None:
        return "The record has no gap map (map/gaps.json): the uncovered area is not known."
    return f"Total uncovered: {data.uncovered_m2:.1f} m² in {len(data.gaps)} region(s)."


def timeline_rows(data: ReportData) -> list[tuple[str, str, bool]]:
    return [(utc_text(t.t_utc_s)[11:19], ("WARNING: " if t.warning else "") + t.text, t.warning)
            for t in data.timeline]


ADDENDUM_HEADER = ("No.", "Kind", "Author", "Added (UTC)", "Signed with key", "Entries")


def addendum_rows(data: ReportData) -> list[tuple[str, ...]]:
    return [(str(a.seq), a.kind, a.author, utc_text(parse_utc(a.created_utc)), a.key_id or "?", str(a.entries))
            for a in data.addenda]


def other_entry_lines(data: ReportData) -> list[str]:
    """Addendum entries that are not review decisions, as written (the first few of each)."""
    out = []
    for a in data.addenda:
        out += [f"Addendum {a.seq}, entry: {text}" for text in a.other_entries]
        shown = len(a.other_entries)
        if a.other_count > shown:
            out.append(f"Addendum {a.seq}: {a.other_count - shown} more entries in {a.file}")
    return out


def about_lines(data: ReportData) -> list[str]:
    lines = [f"Made by HullWatch on {utc_text(data.generated_utc_s)} from the record {data.mission.folder_name}, "
             "which it reads and never writes.",
             "The integrity digest is the SHA-256 of the record's manifest.json, which lists the SHA-256 of every "
             "file and the head of the hash-chained event log, and is signed (Ed25519). `hullwatch verify RECORD` "
             "checks it again at any time.",
             "Times are UTC. Positions are on the hull: side, metres forward of the stern, metres below the "
             "waterline; ± is the 1-sigma uncertainty."]
    return lines + [note + ("" if note.endswith(".") else ".") for note in data.notes]
