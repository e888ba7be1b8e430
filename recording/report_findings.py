"""The findings of a record with their alarms, snapshots and review history, for the report.

Sources: the final map's findings (map/final.json; the event log's finding/finding_updated
events when the final map is missing), the alarm events (snapshots/alarm_NNNN.png), the
operator's review actions logged during the mission (operator_alarm_confirmed, _dismissed,
_note, _acknowledged) and review decisions added later as signed addenda.

Linking: an alarm belongs to the finding whose tracks hold one of the alarm's (source,
track id) pairs. A finding's review decision is the latest "confirmed" or "dismissed" on
it or on any of its alarms; notes and acknowledgements are part of its history but decide
nothing. Findings the map merged into another are named on the survivor, never counted twice.

Review entries in an addendum (any addendum kind; other entries are shown as written):
    {"alarm_id": 3 | "finding_id": 1, "decision": "confirmed" | "dismissed" | "note" |
     "acknowledged" | "measurement" | "evidence_photo", "text": "reason or note", "reviewer":
     "name" (default: the addendum's author), "t_utc": "ISO 8601" (default: the addendum's
     created_utc)} + "length_m", "frame_index"... (app/replay_review.py)
("verdict" is read as "decision", "reason" as "text".)
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

REVIEW_KINDS = ("confirmed", "dismissed", "note", "acknowledged", "measurement", "evidence_photo")
DECISION_KINDS = ("confirmed", "dismissed")
NOT_REVIEWED = "not reviewed"
ENTRY_TEXT_MAX = 400  # characters of an unrecognised addendum entry shown in the report
OTHER_ENTRIES_SHOWN = 20  # per addendum (a re-analysis may add many findings: its file has them all)


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    source: str  # "camera" | "sonar"
    file: str
    sha256: str


@dataclasses.dataclass(frozen=True)
class Decision:
    kind: str  # one of REVIEW_KINDS
    reviewer: str
    t_utc_s: float | None
    text: str  # the reason of a dismissal, a note's text
    alarm_id: int | None
    finding_id: int | None
    addendum: int | None  # the addendum's seq when added after the mission; None: during it
    author: str = ""  # the addendum's author (signed), "" during the mission
    added_utc_s: float | None = None  # when the addendum was signed (its created_utc)


@dataclasses.dataclass(frozen=True)
class AlarmInfo:
    alarm_id: int
    source: str
    class_name: str
    confidence: float | None
    tracks: tuple[tuple[str, int], ...]
    t_utc_s: float  # when it was raised
    snapshot_file: str | None
    snapshot_png: bytes | None
    snapshot_status: str  # "intact", "missing", "altered: ...", "none recorded"
    decisions: tuple[Decision, ...]
    second_look: float | None = None  # the alarm verifier's score when it alarmed, and its level
    second_look_level: float | None = None


@dataclasses.dataclass(frozen=True)
class AddendumInfo:
    seq: int
    kind: str
    author: str
    created_utc: str
    key_id: str | None
    entries: int
    other_entries: tuple[str, ...]  # the first entries that are not review decisions, as JSON text
    other_count: int  # how many entries are not review decisions
    file: str  # addenda/NNNN_<kind>.json


@dataclasses.dataclass(frozen=True)
class FindingInfo:
    finding_id: int
    class_name: str
    confidence: float | None
    sources: tuple[str, ...]
    detectors: tuple[ModelInfo, ...]
    first_seen_utc_s: float | None
    last_seen_utc_s: float | None
    side: str | None
    x_from_stern_m: float | None
    depth_below_waterline_m: float | None
    niche: str | None
    uncertainty_m: float | None
    size_m: tuple[float, float] | None  # (width, height); None: not measured
    observations: int
    alarms: tuple[AlarmInfo, ...]
    decisions: tuple[Decision, ...]  # the whole review history, oldest first
    merged_from: tuple[int, ...]  # finding ids the map merged into this one
    note: str  # e.g. "not in the final map"

    @property
    def decided(self) -> Decision | None:
        calls = [d for d in self.decisions if d.kind in DECISION_KINDS]
        return calls[-1] if calls else None

    @property
    def decision(self) -> str:
        d = self.decided
        return d.kind if d is not None else NOT_REVIEWED

    @property
    def snapshot(self) -> AlarmInfo | None:
        """The alarm whose snapshot shows the finding best (highest confidence)."""
        shown = [a for a in self.alarms if a.snapshot_png is not None]
        return max(shown, key=lambda a: a.confidence or 0.0) if shown else None


@dataclasses.dataclass(frozen=True)
class Linked:
    findings: tuple[FindingInfo, ...]
    unlinked_alarms: tuple[AlarmInfo, ...]
    addenda: tuple[AddendumInfo, ...]
    notes: tuple[str, ...]


def parse_utc(text) -> float | None:
    try:
        t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tracks(pairs) -> tuple[tuple[str, int], ...]:
    return tuple((str(p[0]), int(p[1])) for p in pairs or () if isinstance(p, (list, tuple)) and len(p) == 2 and
                 _int(p[1]) is not None)


def _mission_decisions(events) -> list[Decision]:
    out = []
    for e in events:
        kind = e.kind.removeprefix("operator_alarm_")
        if e.kind.startswith("operator_alarm_") and kind in REVIEW_KINDS:
            p = e.payload
            out.append(Decision(kind, str(p.get("reviewer") or "?"), parse_utc(p.get("t_review_utc")) or e.t_utc_s,
                                str(p.get("text") or ""),
                                _int(p.get("alarm_id")), _int(p.get("finding_id")), None))
    return out


def _addendum_decisions(addenda) -> tuple[list[Decision], list[AddendumInfo]]:
    decisions, infos = [], []
    for doc in addenda:
        seq, author, created = _int(doc.get("seq")) or 0, str(doc.get("author") or "?"), doc.get("created_utc")
        entries = doc.get("entries") if isinstance(doc.get("entries"), list) else []
        other = []
        for entry in entries:
            entry = entry if isinstance(entry, dict) else {"entry": entry}
            kind = entry.get("decision", entry.get("verdict"))
            alarm_id, finding_id = _int(entry.get("alarm_id")), _int(entry.get("finding_id"))
            if kind in REVIEW_KINDS and (alarm_id is not None or finding_id is not None):
                t = parse_utc(entry.get("t_utc")) or parse_utc(created)
                decisions.append(Decision(kind, str(entry.get("reviewer") or author), t, _entry_text(kind, entry),
                                          alarm_id, finding_id, seq, author, parse_utc(created)))
            else:
                other.append(json.dumps(entry, ensure_ascii=False, sort_keys=True)[:ENTRY_TEXT_MAX])
        signer, kind = (doc.get("signer") if isinstance(doc.get("signer"), dict) else {}), str(doc.get("kind") or "?")
        infos.append(AddendumInfo(seq, kind, author, str(created or "?"), signer.get("key_id"), len(entries),
                                  tuple(other[:OTHER_ENTRIES_SHOWN]), len(other), f"addenda/{seq:04d}_{kind}.json"))
    return decisions, infos


def _entry_text(kind: str, entry: dict) -> str:
    """A measurement's length, or an evidence photo's frame and its file's SHA-256, then the words."""
    text, length, n = str(entry.get("text", entry.get("reason")) or ""), entry.get("length_m"), "frame"
    head = f"{length:.3f} m" if kind == "measurement" and isinstance(length, (int, float)) else ""
    if kind == "evidence_photo":
        n, where = ("ping" if "ping_index" in entry else n), entry.get("segment") or entry.get("file")
        head = (f"{entry.get('source', 'camera')} {n} {entry.get(n + '_index', '?')} of {where} "
                f"(SHA-256 {entry.get('segment_sha256') or entry.get('file_sha256')})")
    return f"{head}: {text}" if head and text else head or text


def _history(decisions) -> tuple[Decision, ...]:
    """Oldest first: the mission's by time, then the addenda in their signed order (a time
    written inside an addendum is the reviewer's word; the chain's order is proven)."""
    def order(d: Decision):
        return (0, d.t_utc_s if d.t_utc_s is not None else 0.0, 0) if d.addendum is None else (1, 0.0, d.addendum)
    return tuple(sorted(decisions, key=order))  # stable: entries of one addendum keep their order


def _float(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _alarms(folder: Path, events, decisions) -> list[AlarmInfo]:
    latest: dict[int, tuple[float, dict]] = {}
    for e in events:
        alarm_id = _int(e.payload.get("alarm_id")) if e.kind == "alarm" else None
        if alarm_id is not None:
            raised = latest[alarm_id][0] if alarm_id in latest else e.t_utc_s
            latest[alarm_id] = (raised, {**latest.get(alarm_id, (0, {}))[1], **e.payload})
    out = []
    for alarm_id, (raised, p) in sorted(latest.items()):
        source = str(p.get("source") or "?")
        ids = [_int(p.get("track_id"))] + [_int(t) for t in p.get("track_ids") or ()]
        tracks = tuple(dict.fromkeys((source, t) for t in ids if t is not None))
        png, status, rel = None, "none recorded", p.get("file")
        if isinstance(rel, str) and rel:
            try:
                png, recorded = (folder / rel).read_bytes(), p.get("sha256")
                status = ("intact" if not recorded or hashlib.sha256(png).hexdigest() == recorded
                          else "altered: its SHA-256 differs from the alarm event's")
            except OSError:
                status = "missing from the record"
        conf = p.get("confidence")
        mine = _history(d for d in decisions if d.alarm_id == alarm_id)
        out.append(AlarmInfo(alarm_id, source, str(p.get("class_name") or "?"),
                             float(conf) if isinstance(conf, (int, float)) else None, tracks, raised,
                             rel if isinstance(rel, str) else None, png, status, mine,
                             _float(p.get("second_look")), _float(p.get("second_look_level"))))
    return out


def _clock_offsets(events) -> dict[str, float]:
    """UTC minus the frames' clock, per source: the smallest difference over the detection
    events (each is stamped in UTC just after its frame was detected, so the smallest is
    the one with the least detector latency)."""
    best: dict[str, float] = {}
    for e in events:
        t_frame = e.payload.get("t_frame_s") if e.kind == "detections" else None
        if isinstance(t_frame, (int, float)):
            src = str(e.payload.get("source"))
            best[src] = min(best.get(src, float("inf")), e.t_utc_s - t_frame)
    return best


def _finding_payloads(events, final: dict | None, notes: list[str]):
    """[(payload, first event t, last event t, note)], merged findings folded into survivors."""
    seen: dict[int, list] = {}
    for e in events:
        fid = _int(e.payload.get("finding_id")) if e.kind in ("finding", "finding_updated") else None
        if fid is not None:
            first = seen[fid][1] if fid in seen else e.t_utc_s
            seen[fid] = [e.payload, first, e.t_utc_s]
    if final is not None and isinstance(final.get("findings"), list):
        base = [f for f in final["findings"] if isinstance(f, dict) and _int(f.get("finding_id")) is not None]
    else:
        notes.append("The findings come from the event log (the record has no readable final map)")
        base = [v[0] for fid, v in sorted(seen.items())
                if not any(o != fid and set(_tracks(v[0].get("tracks"))) <= set(_tracks(w[0].get("tracks")))
                           and w[2] >= v[2] for o, w in seen.items())]
    rows = [[f, *(seen.get(f["finding_id"], [None, None, None])[1:]), "", []] for f in base]
    for fid, (payload, first, last) in sorted(seen.items()):
        if any(r[0]["finding_id"] == fid for r in rows):
            continue
        mine = set(_tracks(payload.get("tracks")))
        holder = next((r for r in rows if mine and mine <= set(_tracks(r[0].get("tracks")))), None)
        if holder is not None:
            holder[4].append(fid)
        else:
            rows.append([payload, first, last, "seen during the mission but not in the final map", []])
    return rows


def link_findings(folder: Path, events, final: dict | None, addenda, models) -> Linked:
    notes: list[str] = []
    later, addendum_infos = _addendum_decisions(addenda)
    decisions = _mission_decisions(events) + later
    alarms = _alarms(folder, events, decisions)
    offsets = _clock_offsets(events)
    taken: set[int] = set()
    findings = []
    for payload, first_evt, last_evt, note, merged in _finding_payloads(events, final, notes):
        fid = payload["finding_id"]
        tracks = set(_tracks(payload.get("tracks")))
        mine = tuple(a for a in alarms if a.alarm_id not in taken and tracks & set(a.tracks))
        ids = {a.alarm_id for a in mine}
        taken |= ids
        history = _history(d for d in decisions if d.alarm_id in ids or (d.alarm_id is None and d.finding_id == fid))
        sources = tuple(str(s) for s in payload.get("sources") or ())
        offset = next((offsets[s] for s in sources if s in offsets), None)
        first_t, last_t = payload.get("first_t_s"), payload.get("last_t_s")
        timed = offset is not None and isinstance(first_t, (int, float)) and isinstance(last_t, (int, float))
        first_utc, last_utc = (first_t + offset, last_t + offset) if timed else (first_evt, last_evt)
        addr = payload.get("address") if isinstance(payload.get("address"), dict) else {}
        size, conf = payload.get("size_m"), payload.get("best_confidence")
        findings.append(FindingInfo(
            fid, str(payload.get("class_name") or "?"), float(conf) if isinstance(conf, (int, float)) else None,
            sources, tuple(m for m in models if m.source in sources), first_utc, last_utc, addr.get("side"),
            addr.get("x_from_stern_m"), addr.get("depth_below_waterline_m"), addr.get("niche"),
            payload.get("uncertainty_m"), (float(size[0]), float(size[1])) if isinstance(size, list) and
            len(size) == 2 else None, int(payload.get("observations") or 0), mine, history, tuple(merged), note))
    if any(f.first_seen_utc_s is not None for f in findings) and offsets:
        notes.append("First and last seen (UTC) are the frames' times, placed on UTC by the detection events "
                     "(to within the detector's latency, well under a second)")
    unlinked = tuple(a for a in alarms if a.alarm_id not in taken)
    return Linked(tuple(findings), unlinked, tuple(addendum_infos), tuple(notes))
