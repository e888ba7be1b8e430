"""Everything an inspection report says, gathered from a closed mission record into one
immutable ReportData. No rendering: recording.report_html, recording.report_pdf and
recording.report (JSON, CSV) only draw what is here, so the four files cannot disagree.

Read from the record, never written to it: mission.json, events.sqlite, map/final.json,
map/gaps.json, map/expansion.png, snapshots/*.png, manifest.json and addenda/. The record
is verified (recording.verify.verify_record) while gathering: a report states whether the
record was INTACT or ALTERED at the time it was made, and an altered record still gets its
report, with every problem listed (a report must never hide tampering).

Findings, alarms and review decisions are linked in recording.report_findings; the event
timeline is summarised in recording.report_timeline.
"""
from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

from .errors import RecordError
from .mission_record import read_mission
from .report_findings import AddendumInfo, AlarmInfo, FindingInfo, ModelInfo, link_findings
from .report_timeline import TimelineEntry, summarise_timeline

__all__ = ["CoverageInfo", "GapRegion", "IntegrityInfo", "MissionDetails", "ModelInfo", "ReportData",
           "gather_report_data", "utc_text"]

SIDES = ("port", "starboard", "bottom")


def utc_text(t_utc_s: float | None) -> str:
    """2026-11-29 09:15:45 UTC (what a reader sees; the JSON keeps ISO 8601)."""
    if t_utc_s is None:
        return "unknown"
    return dt.datetime.fromtimestamp(t_utc_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclasses.dataclass(frozen=True)
class MissionDetails:
    record_id: str
    folder_name: str
    vessel_name: str
    imo: str
    mmsi: str
    berth: str
    operator: str
    members: tuple[str, ...]
    unit: str
    notes: str
    plan_file: str | None
    plan_sha256: str | None
    plan_copy: str | None  # the plan's copy inside the record, when it has one
    hull: str  # the hull model the map was made on: name and SHA-256, "" when not recorded
    start_utc_s: float | None
    end_utc_s: float | None
    state: str  # "closed" | "recovered"
    recovered_utc: str | None  # when the next start closed an interrupted record
    software: tuple[tuple[str, str], ...]
    models: tuple[ModelInfo, ...]
    vehicle: tuple[tuple[str, str], ...]

    @property
    def duration_s(self) -> float | None:
        if self.start_utc_s is None or self.end_utc_s is None:
            return None
        return self.end_utc_s - self.start_utc_s


@dataclasses.dataclass(frozen=True)
class CoverageInfo:
    """Percentages of the wetted area, 0..100 (None: not recorded)."""

    overall_pct: float | None
    wetted_area_m2: float | None
    seen_area_m2: float | None
    per_sensor_pct: tuple[tuple[str, float], ...]
    per_side_pct: tuple[tuple[str, float | None], ...]
    per_niche_pct: tuple[tuple[str, float], ...]
    source: str  # where the figures come from (map/final.json, else the last coverage event)


@dataclasses.dataclass(frozen=True)
class GapRegion:
    area_m2: float
    where: str
    niche: str | None


@dataclasses.dataclass(frozen=True)
class IntegrityInfo:
    verdict: str  # "INTACT" | "ALTERED" | "NOT CLOSED"
    problems: tuple[str, ...]
    manifest_sha256: str | None  # the record's integrity digest
    signer_key_id: str | None
    files_checked: int
    events_checked: int
    addenda_checked: int
    verified_utc_s: float


@dataclasses.dataclass(frozen=True)
class ReportData:
    mission: MissionDetails
    coverage: CoverageInfo
    expansion_png: bytes | None  # map/expansion.png as recorded
    legend_rgb: tuple[tuple[str, tuple[int, int, int]], ...]  # coverage colours of the expansion image
    findings: tuple[FindingInfo, ...]
    unlinked_alarms: tuple[AlarmInfo, ...]  # alarms no finding holds (never placed on the hull)
    uncovered_m2: float | None
    gaps: tuple[GapRegion, ...]
    integrity: IntegrityInfo
    addenda: tuple[AddendumInfo, ...]
    timeline: tuple[TimelineEntry, ...]
    event_counts: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]  # what could not be read, and what the figures rest on
    generated_utc_s: float

    def findings_by_class(self) -> dict[str, int]:
        return dict(sorted(Counter(f.class_name for f in self.findings).items()))

    def findings_by_decision(self) -> dict[str, int]:
        return dict(sorted(Counter(f.decision for f in self.findings).items()))


def _pairs(mapping) -> tuple:
    if not isinstance(mapping, dict):
        return ()
    return tuple((str(k), v if isinstance(v, (int, float)) or v is None else str(v)) for k, v in mapping.items())


def _mapping(value) -> dict:
    """A mapping recorded as JSON, or (records before the station's fix) as its Python repr."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = ast.literal_eval(value)  # literals only: no code runs
        except (ValueError, SyntaxError):
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _read_json(path: Path, notes: list[str]) -> dict | None:
    if not path.is_file():
        notes.append(f"The record has no {path.parent.name}/{path.name}")
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        notes.append(f"The record's {path.parent.name}/{path.name} cannot be read ({e})")
        return None
    return doc if isinstance(doc, dict) else None


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _hull(hull) -> str:
    if not isinstance(hull, dict):
        return ""
    what = str(hull.get("name") or "unnamed hull") + (" (the embedded world's)" if hull.get("embedded_world") else "")
    return what + (f", SHA-256 {hull['sha256']}" if hull.get("sha256") else "")


def _mission(doc: dict, folder: Path) -> MissionDetails:
    vessel, team, plan = doc.get("vessel") or {}, doc.get("team") or {}, doc.get("plan") or {}
    models = tuple(ModelInfo(src, str(m.get("file", "?")), str(m.get("sha256", "?")))
                   for src, m in sorted((doc.get("models") or {}).items()) if isinstance(m, dict))
    software = {k: v for k, v in (doc.get("software") or {}).items() if not isinstance(v, (dict, list))}
    vehicle = {k: v for k, v in (doc.get("vehicle") or {}).items() if not isinstance(v, (dict, list))}
    firmware = (doc.get("vehicle") or {}).get("firmware")
    if isinstance(firmware, dict) and firmware.get("version"):
        vehicle["firmware"] = firmware["version"]
    return MissionDetails(
        str(doc.get("record_id", "")), folder.name, str(vessel.get("name", "")), str(vessel.get("imo") or ""),
        str(vessel.get("mmsi") or ""), str(vessel.get("berth") or ""), str(team.get("operator") or ""),
        tuple(str(m) for m in team.get("members") or ()), str(team.get("unit") or ""), str(doc.get("notes") or ""),
        plan.get("file"), plan.get("sha256"), plan.get("copy"), _hull(doc.get("hull")), doc.get("start_utc_s"),
        doc.get("end_utc_s"), str(doc.get("state")), doc.get("recovered_utc"), _pairs(software), models,
        _pairs(vehicle))


def _coverage(final: dict | None, events) -> CoverageInfo:
    cov, source = (final or {}).get("coverage"), "map/final.json"
    if not isinstance(cov, dict):
        last = [e.payload for e in events if e.kind == "coverage"]
        cov, source = (last[-1], "the last coverage event (no final map)") if last else ({}, "not recorded")
    sides = (final or {}).get("per_side_pct") or {}
    return CoverageInfo(cov.get("overall_pct"), cov.get("wetted_area_m2"), cov.get("seen_area_m2"),
                        _pairs(_mapping(cov.get("per_sensor_pct"))), tuple((s, sides.get(s)) for s in SIDES),
                        _pairs(_mapping(cov.get("per_niche_pct"))), source)


def _gaps(doc: dict | None) -> tuple[float | None, tuple[GapRegion, ...]]:
    if doc is None:
        return None, ()
    regions = tuple(GapRegion(float(r.get("area_m2") or 0.0), str(r.get("where") or "?"), r.get("niche"))
                    for r in doc.get("regions") or () if isinstance(r, dict))
    return doc.get("uncovered_m2"), tuple(sorted(regions, key=lambda r: -r.area_m2))


def _integrity(folder: Path) -> IntegrityInfo:
    from .verify import NOT_CLOSED, verify_record

    t = time.time()
    report = verify_record(folder)
    verdict = "INTACT" if report.ok else ("NOT CLOSED" if report.problems == (NOT_CLOSED,) else "ALTERED")
    manifest = folder / "manifest.json"
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else None
    return IntegrityInfo(verdict, report.problems, digest, report.key_id, report.files_checked,
                         report.events_checked, report.addenda_checked, t)


def _legend() -> tuple:
    from vision.hullmap.expansion import COVERAGE_LEGEND_BGR, PANEL_BGR

    legend = [(name, (int(b[2]), int(b[1]), int(b[0]))) for name, b in COVERAGE_LEGEND_BGR.items()]
    legend.append(("no coverage sample", tuple(int(c) for c in PANEL_BGR[::-1])))
    return tuple(legend)


def gather_report_data(record_dir: Path) -> ReportData:
    """Read a closed (or recovered) record. Raises RecordError for a folder that is not a
    record, a record still being written, or one whose mission.json or event log cannot be
    read (`hullwatch verify` says what happened to it)."""
    from .event_log import read_events
    from .manifest import read_addenda

    folder = Path(record_dir)
    if not folder.is_dir():
        raise RecordError(f"{folder}: no such record folder; give the folder of a mission record")
    doc = read_mission(folder)
    if doc["state"] == "recording":
        raise RecordError(f"{folder.name} is still recording or was interrupted (mission.json says "
                          "\"recording\"): stop the recording, or open HullWatch so it recovers the record, "
                          "then make the report")
    integrity = _integrity(folder)
    try:
        events = read_events(folder / "events.sqlite")
    except RecordError as e:
        raise RecordError(f"{folder.name}: the event log cannot be read, so no report can be made ({e}); "
                          "run `hullwatch verify` on the record") from None
    notes: list[str] = []
    final = _read_json(folder / "map" / "final.json", notes)
    gaps_doc = _read_json(folder / "map" / "gaps.json", notes)
    try:
        addenda = read_addenda(folder)
    except RecordError as e:
        addenda = []
        notes.append(f"The addenda cannot be read ({e})")
    mission = _mission(doc, folder)
    linked = link_findings(folder, events, final, addenda, mission.models)
    notes += linked.notes
    uncovered, gaps = _gaps(gaps_doc)
    expansion = _read_bytes(folder / "map" / "expansion.png")
    if expansion is None:
        notes.append("The record has no map/expansion.png: no hull expansion image")
    return ReportData(mission, _coverage(final, events), expansion, _legend(), linked.findings,
                      linked.unlinked_alarms, uncovered, gaps, integrity, linked.addenda,
                      summarise_timeline(events), tuple(sorted(Counter(e.kind for e in events).items())),
                      tuple(notes), time.time())
