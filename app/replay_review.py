"""A reviewer's decisions on a record's findings and alarms, added as one signed addendum.

The record itself is never rewritten: decisions go to addenda/NNNN_review.json (+ .sig) in
the entry format recording/report_findings.py reads, so the report shows them with the
reviewer's name and time. An evidence photo is a frame already in the record, named by its
frame index and the SHA-256 of the video segment holding it (for a sonar ping: its index and
the data file's SHA-256), so the photo can be proven to come from the sealed record.

Everything is checked before anything is written: a dismissal needs a reason, a review needs
the reviewer's name, an id must name an alarm or finding of this record (ValueError).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

REVIEW_DECISIONS = ("confirmed", "dismissed", "note", "measurement", "evidence_photo")
TARGETS = ("finding", "alarm")
_CORE_KEYS = ("alarm_id", "finding_id", "decision", "text", "reviewer", "t_utc")


@dataclasses.dataclass
class ReviewDecision:
    target: str  # "finding" | "alarm"
    ref_id: int
    decision: str  # one of REVIEW_DECISIONS
    text: str = ""  # the reason of a dismissal, a note, what was measured
    reviewer: str = ""  # "" : write_review's reviewer
    t_utc: dt.datetime | None = None  # when it was decided; None: now
    extra: dict = dataclasses.field(default_factory=dict)  # {"length_m": ..}, {"frame_index": i, "source": "camera"}


def _iso(t: dt.datetime | None) -> str:
    t = t or dt.datetime.now(dt.timezone.utc)
    if t.tzinfo is None:
        raise ValueError(f"review time {t} has no time zone: give it in UTC")
    return t.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _known_ids(record_dir: Path) -> dict[str, set[int]]:
    import json

    from recording.event_log import read_events

    ids: dict[str, set[int]] = {"alarm": set(), "finding": set()}
    for e in read_events(record_dir / "events.sqlite", kinds=("alarm", "finding", "finding_updated")):
        key = "alarm" if e.kind == "alarm" else "finding"
        if isinstance(e.payload.get(f"{key}_id"), int):
            ids[key].add(e.payload[f"{key}_id"])
    try:
        final = json.loads((record_dir / "map" / "final.json").read_text(encoding="utf-8"))
        ids["finding"] |= {f["finding_id"] for f in final.get("findings") or () if isinstance(f.get("finding_id"), int)}
    except (OSError, ValueError, AttributeError, TypeError):
        pass  # no final map: the event log's findings
    return ids


def linked_findings(record_dir: Path, events, mission: dict):
    """recording.report_findings.Linked of the record as the report links it, addenda re-read now."""
    import json

    from recording.manifest import read_addenda
    from recording.report_findings import ModelInfo, link_findings

    try:
        final = json.loads((Path(record_dir) / "map" / "final.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        final = None
    models = tuple(ModelInfo(src, str(m.get("file", "?")), str(m.get("sha256", "?")))
                   for src, m in sorted((mission.get("models") or {}).items()) if isinstance(m, dict))
    return link_findings(Path(record_dir), events, final if isinstance(final, dict) else None,
                         read_addenda(record_dir), models)


def _photo(record_dir: Path, extra: dict) -> dict:
    """The evidence photo's frame (or ping) named by index and the SHA-256 of the file holding it."""
    from recording.manifest import sha256_file

    source = extra.get("source", "camera")
    if source == "sonar":
        from recording.sonar_record import SonarRecordReader

        reader, index = SonarRecordReader(record_dir / "sonar"), extra.get("ping_index", extra.get("frame_index"))
        if not isinstance(index, int) or not 0 <= index < reader.ping_count:
            raise ValueError(f"evidence photo: sonar ping {index!r} is not in {record_dir / 'sonar'}")
        rel = f"sonar/{reader.pings[index][1]}"
        return {**extra, "source": "sonar", "ping_index": index, "file": rel,
                "file_sha256": sha256_file(record_dir / rel)[0], "t_frame_utc_s": reader.t_utc_s(index)}
    from recording.video_record import INDEX_FILE, segment_name
    from recording.video_replay import read_frame_index

    frames, _ = read_frame_index(record_dir / "video" / INDEX_FILE)
    index = extra.get("frame_index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(frames):
        raise ValueError(f"evidence photo: frame {index!r} is not in {record_dir / 'video' / INDEX_FILE} "
                         f"(0..{len(frames) - 1})")
    rel = f"video/{segment_name(int(frames['segment'][index]))}"
    return {**extra, "source": source, "frame_index": index, "segment": rel,
            "segment_sha256": sha256_file(record_dir / rel)[0], "t_received_utc_s": float(frames["t_utc_s"][index])}


def review_entry(record_dir: Path, d: ReviewDecision, reviewer: str, ids: dict[str, set[int]]) -> dict:
    """One addendum entry, or ValueError saying what is wrong with the decision."""
    if d.target not in TARGETS:
        raise ValueError(f"a review decision is on a 'finding' or an 'alarm', not {d.target!r}")
    if not isinstance(d.ref_id, int) or isinstance(d.ref_id, bool) or d.ref_id not in ids[d.target]:
        raise ValueError(f"{d.target} {d.ref_id!r} is not in the record {record_dir.name} "
                         f"(its {d.target}s: {sorted(ids[d.target]) or 'none'})")
    if d.decision not in REVIEW_DECISIONS:
        raise ValueError(f"review decision {d.decision!r} is not one of {', '.join(REVIEW_DECISIONS)}")
    text = (d.text or "").strip()
    if d.decision == "dismissed" and not text:
        raise ValueError(f"dismissing {d.target} {d.ref_id} needs a reason (e.g. marine growth, hull fitting)")
    if d.decision == "note" and not text:
        raise ValueError(f"the note on {d.target} {d.ref_id} is empty: write the note")
    clash = [k for k in d.extra if k in _CORE_KEYS]
    if clash:
        raise ValueError(f"extra fields {clash} would overwrite the decision's own fields")
    extra = dict(d.extra)
    if d.decision == "measurement":
        length = extra.get("length_m")
        if not isinstance(length, (int, float)) or isinstance(length, bool) or not 0 < length < 1e4 \
                or not math.isfinite(length):
            raise ValueError(f"the measurement on {d.target} {d.ref_id} needs a length_m in metres "
                             f"(> 0), got {length!r}")
    elif d.decision == "evidence_photo":
        extra = _photo(record_dir, extra)
    who = (d.reviewer or reviewer).strip()
    return {f"{d.target}_id": d.ref_id, "decision": d.decision, "text": text, "reviewer": who,
            "t_utc": _iso(d.t_utc), **extra}


def write_review(record_dir, decisions: list[ReviewDecision], key, reviewer: str) -> Path:
    """One signed addendum (recording.manifest.append_addendum, kind "review") holding every
    decision; returns its .json path. ValueError for a bad decision (nothing is written),
    recording.errors.RecordError when the record cannot take addenda (not closed, disk)."""
    from recording.manifest import append_addendum

    record_dir = Path(record_dir)
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise ValueError("a review needs the reviewer's name: who takes responsibility for these decisions")
    if not decisions:
        raise ValueError("no review decisions to write")
    ids = _known_ids(record_dir)
    entries = [review_entry(record_dir, d, reviewer, ids) for d in decisions]
    return append_addendum(record_dir, "review", entries, key, reviewer.strip())
