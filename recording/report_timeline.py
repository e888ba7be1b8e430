"""The event timeline of a report: what happened during the mission, in words, oldest first.

Kept: the record opening and closing, the vehicle's events (link, arming, modes, failsafes,
status texts), the operator's actions, reviews and audio notes, alarms, first placements of findings,
the final map, and every warning (media_stopped, disk_warning, record_recovered,
map_export_failed, a lost link, a failsafe: in court these explain gaps in the evidence).
Left out, because other sections or the data files hold them: per-frame detections,
coverage snapshots and finding updates. A run of transfer-progress events keeps its last.
"""
from __future__ import annotations

import dataclasses

SKIPPED = frozenset({"detections", "coverage", "finding_updated"})
WARNING_KINDS = frozenset({"media_stopped", "disk_warning", "record_recovered", "map_export_failed",
                           "vehicle_LinkLost", "vehicle_LinkProblem", "vehicle_FailsafeRaised", "vehicle_TlogFailed"})
DETAIL_MAX = 240  # characters of an event's details in one timeline line


@dataclasses.dataclass(frozen=True)
class TimelineEntry:
    t_utc_s: float
    kind: str  # the event kind as recorded
    text: str
    warning: bool


def _flat(payload: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for key, value in sorted(payload.items()):
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}.")
        elif not isinstance(value, list) or len(value) <= 4:
            out.append((prefix + key, value))
    return out


def _details(payload: dict, skip=()) -> str:
    parts = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in _flat(payload)
             if k not in skip and v not in (None, "", [])]
    text = ", ".join(parts)
    return text if len(text) <= DETAIL_MAX else text[:DETAIL_MAX - 1] + "…"


def _words(kind: str) -> str:
    return kind.replace("_", " ")


def _text(kind: str, p: dict) -> str:
    if kind == "record_started":
        free = p.get("disk_free_bytes")
        return "record opened" + (f" ({free / 1e9:.1f} GB free)" if isinstance(free, (int, float)) else "")
    if kind == "record_closed":
        return "record closed: " + _details(p)
    if kind == "record_recovered":
        return "record recovered after an interruption (the station stopped while recording): " + _details(p)
    if kind == "alarm":
        conf = p.get("confidence")
        conf_text = f" {conf:.2f}" if isinstance(conf, (int, float)) else ""
        return (f"alarm {p.get('alarm_id')}: {p.get('class_name')}{conf_text} ({p.get('source')} track "
                f"{p.get('track_id')})" + (f", snapshot {p['file']}" if p.get("file") else ""))
    if kind == "finding":
        a = p.get("address") if isinstance(p.get("address"), dict) else {}
        return (f"finding {p.get('finding_id')} placed: {p.get('class_name')} on the {a.get('side', '?')} side"
                + (f" in {a['niche']}" if a.get("niche") else ""))
    if kind == "map_snapshot":
        return f"final map written ({p.get('findings', '?')} findings)"
    if kind == "operator_audio_note":
        dur = p.get("duration_s")
        text = f"audio note {p.get('number', '?')}" + (f" ({dur:.1f} s)" if isinstance(dur, (int, float)) else "")
        text += f" by {p['operator']}" if p.get("operator") else ""
        return text + (f": {p['file']}" if p.get("file") else "")
    if kind.startswith("operator_alarm_"):
        what = _words(kind.removeprefix("operator_alarm_"))
        text = f"operator: alarm {p.get('alarm_id')} {what} by {p.get('reviewer')}"
        return text + (f": {p['text']}" if p.get("text") else "")
    if kind.startswith("operator_"):
        details = _details(p)
        return f"operator: {_words(kind.removeprefix('operator_'))}" + (f" ({details})" if details else "")
    if kind.startswith("vehicle_"):
        details = _details(p)
        return f"vehicle: {kind.removeprefix('vehicle_')}" + (f" ({details})" if details else "")
    details = _details(p)
    return _words(kind) + (f": {details}" if details else "")


def _warning(kind: str, p: dict) -> bool:
    return kind in WARNING_KINDS or (kind == "record_closed" and bool(p.get("warning") or p.get("dropped")))


def summarise_timeline(events) -> tuple[TimelineEntry, ...]:
    out: list[TimelineEntry] = []
    last_transfer = None
    for e in events:
        if e.kind in SKIPPED:
            continue
        entry = TimelineEntry(e.t_utc_s, e.kind, _text(e.kind, e.payload), _warning(e.kind, e.payload))
        transfer = e.payload.get("operation") if e.kind == "vehicle_TransferProgress" else None
        if transfer is not None and out and last_transfer == transfer:
            out[-1] = entry  # the run's progress so far: its last step says how far it got
        else:
            out.append(entry)
        last_transfer = transfer
    return tuple(out)
