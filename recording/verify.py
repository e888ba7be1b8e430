"""`hullwatch verify`: proves a closed record is as it was sealed, or names what changed.

Checked: manifest.sig against the public key in manifest.json (and, given trusted key ids,
that the key is a trusted one); every file's size and SHA-256; files added after closing;
the event chain against the manifest's (count, head hash); the addenda chain. Problems name
the file or the event ("sonar/pings.csv removed", "event 18 removed (seq 17 -> 19)").
"""
from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .event_log import audit_chain, event_hash
from .manifest import (EVENTS_NAME, MANIFEST_FORMAT, MANIFEST_NAME, SIGNATURE_NAME, VERSION,
                       check_addenda, record_entries, sha256_file)
from .keys import verify_signature

__all__ = ["VerifyReport", "diagnose_chain", "format_report", "verify_record"]

NOT_CLOSED = "not closed: no manifest.json (an interrupted record: open it with HullWatch to recover it)"
_MAX_SHIFT = 16  # how far a renumbered event is searched for (a few inserted/removed events)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    problems: tuple[str, ...]
    files_checked: int
    bytes_checked: int
    events_checked: int
    addenda_checked: int
    key_id: str | None
    key_trusted: bool | None  # None: no trusted key ids were given
    record_state: str | None  # mission.json "state", when readable


def _runs(items: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """[(seq, delta)] -> [(first seq, last seq, delta)] for consecutive seqs sharing delta."""
    runs: list[list[int]] = []
    for seq, delta in items:
        if runs and runs[-1][1] == seq - 1 and runs[-1][2] == delta:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq, delta])
    return [tuple(r) for r in runs]


def _events(first: int, last: int) -> str:
    return f"event {first}" if first == last else f"events {first}-{last}"


def _original_seqs(rows: list[tuple]) -> list[int | None]:
    """The seq each event was hashed with: its own, or a nearby one when events were
    renumbered (inserted, removed or moved); None when its content no longer matches."""
    origs: list[int | None] = []
    shift = 0
    for seq, t, kind, payload, prev, h in rows:
        found = None
        for k in dict.fromkeys([0, shift] + [k for d in range(1, _MAX_SHIFT + 1) for k in (d, -d)]):
            try:
                if seq - k >= 1 and event_hash(prev, seq - k, t, kind, payload) == h:
                    found = seq - k
                    break
            except (TypeError, ValueError):
                break  # a value of the wrong type: altered
        if found is not None:
            shift = seq - found
        origs.append(found)
    return origs


def diagnose_chain(rows: list[tuple], genesis: str,
                   expected_head: tuple[int, str] | None) -> list[str]:
    """Problems of raw event rows (seq, t_utc_s, kind, payload, prev_hash, hash), in seq order."""
    problems: list[str] = []
    origs = _original_seqs(rows)
    seqs = [r[0] for r in rows]
    ident = [o if o is not None else s for o, s in zip(origs, seqs)]
    for first, last, _ in _runs([(s, 0) for s, o in zip(seqs, origs) if o is None]):
        problems.append(f"event {first} altered (its hash does not match its content)" if first == last
                        else f"events {first}-{last} altered (their hashes do not match their content)")
    for first, last, delta in _runs([(s, o - s) for s, o in zip(seqs, origs) if o not in (None, s)]):
        problems.append(f"event {first} moved (it was recorded as event {first + delta})" if first == last
                        else f"events {first}-{last} moved (they were recorded as events "
                             f"{first + delta}-{last + delta})")
    present = set(ident)
    missing = [s for s in range(1, max(present, default=0) + 1) if s not in present]
    for first, last, _ in _runs([(s, 0) for s in missing]):
        where = (f"the log starts at event {last + 1}" if first == 1
                 else f"seq {first - 1} -> {last + 1}")
        problems.append(f"{_events(first, last)} removed ({where})")
    by_hash = {r[5]: i for i, r in enumerate(rows)}
    seen = Counter(ident)
    for i, (seq, _t, _k, _p, prev, _h) in enumerate(rows):
        if i == 0:
            if prev != genesis and ident[0] == 1 and prev not in by_hash:
                problems.append(f"event {seq} re-linked (its prev_hash is not this record's "
                                "start: copied from another record?)")
            continue
        q_seq, q_hash = rows[i - 1][0], rows[i - 1][5]
        if prev == q_hash:
            continue
        q_moved, r_moved = origs[i - 1] != q_seq, origs[i] != seq
        if prev in by_hash:
            x = by_hash[prev]
            if x == i - 2 and not q_moved:
                problems.append(f"event {q_seq} inserted (event {seq} links to event {rows[x][0]})")
            elif not (q_moved or r_moved):
                problems.append(f"event {seq} re-linked (its prev_hash matches event "
                                f"{rows[x][0]}, not event {q_seq})")
        elif ident[i] > ident[i - 1] + 1 or q_moved:
            pass  # explained: events removed between them, or the previous one is altered
        elif (r_moved or seen[ident[i]] > 1 or ident[i] != ident[i - 1] + 1
              or (expected_head is not None and q_hash == expected_head[1])):
            problems.append(f"event {seq} inserted or re-linked (prev_hash does not match event {q_seq})")
        else:
            problems.append(f"event {q_seq} altered (its hash was recomputed; event {seq} "
                            f"links to a different event {q_seq})")
    if expected_head is not None:
        problems += _head_problems(rows, ident, expected_head, bool(problems))
    return problems


def _head_problems(rows, ident, expected_head, other_problems: bool) -> list[str]:
    count, head_hash = int(expected_head[0]), str(expected_head[1])
    recorded = f"the manifest records {count} events, head {head_hash[:12]}…"
    if not rows:
        return [f"all events removed ({recorded})"] if count > 0 else []
    last = max(ident)
    if last < count:
        return [f"events after {last} removed ({recorded})"]
    problems = []
    added = [r[0] for r, o in zip(rows, ident) if o > count]
    for first, end, _ in _runs([(s, 0) for s in added]):
        problems.append(f"{_events(first, end)} added after the record was closed")
    at_count = [r for r, o in zip(rows, ident) if o == count]
    if count and (not at_count or at_count[-1][5] != head_hash) and not other_problems:
        problems.append(f"event {count} altered or the chain rewritten up to it (its hash is "
                        f"not the manifest's head: {recorded})")
    return problems


def _check_files(record_dir: Path, listed: dict) -> tuple[list[str], int, int]:
    problems, files, total_bytes = [], 0, 0
    present = record_entries(record_dir, sqlite_side_files=True)
    for rel, entry in sorted(listed.items()):
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or not isinstance(entry, dict):
            problems.append(f"manifest.json lists an unsafe or malformed entry {rel!r}")
            continue
        path = record_dir / rel
        if rel not in present:
            problems.append(f"{rel} removed")
            continue
        if path.is_symlink() or not path.is_file():
            problems.append(f"{rel} altered (replaced by a link or a non-file)")
            continue
        try:
            size = path.stat().st_size
            files += 1
            if size != entry.get("bytes"):
                problems.append(f"{rel} altered ({size} bytes, the manifest records {entry.get('bytes')})")
                continue
            digest, read = sha256_file(path)
        except OSError as e:
            problems.append(f"{rel} unreadable ({e.strerror or e})")
            continue
        total_bytes += read
        if digest != entry.get("sha256"):
            problems.append(f"{rel} altered (SHA-256 differs)")
    for rel, path in present.items():
        side_file = rel.startswith(f"{EVENTS_NAME}-")
        if rel not in listed and not (side_file and (rel.endswith("-shm") or _empty(path))):
            problems.append(f"{rel} added after closing")
    return problems, files, total_bytes


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return True


def _read_state(record_dir: Path) -> str | None:
    try:
        state = json.loads((record_dir / "mission.json").read_text(encoding="utf-8")).get("state")
    except (OSError, ValueError, AttributeError):
        return None
    return state if isinstance(state, str) else None


def verify_record(record_dir: Path, trusted_key_ids: set[str] | None = None) -> VerifyReport:
    record_dir = Path(record_dir)
    state = _read_state(record_dir)
    manifest_path = record_dir / MANIFEST_NAME
    if not record_dir.is_dir():
        return VerifyReport(False, (f"{record_dir}: no such record folder",), 0, 0, 0, 0, None, None, state)
    if not manifest_path.is_file():
        return VerifyReport(False, (NOT_CLOSED,), 0, 0, 0, 0, None, None, state)
    problems: list[str] = []
    data = manifest_path.read_bytes()
    try:
        manifest = json.loads(data)
        if manifest.get("format") != MANIFEST_FORMAT or int(manifest.get("version", 0)) > VERSION:
            raise ValueError(f"format {manifest.get('format')!r} version {manifest.get('version')!r}")
        listed, events = dict(manifest["files"]), manifest["events"]
        head = (int(events["count"]), str(events["head_hash"]))
        record_id = str(manifest["record_id"])
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return VerifyReport(False, (f"manifest.json unreadable or not a HullWatch manifest ({e})",),
                            0, 0, 0, 0, None, None, state)
    signer = manifest.get("signer") if isinstance(manifest.get("signer"), dict) else {}
    key_id, public_key_b64 = signer.get("key_id"), signer.get("public_key_b64")
    sig_path = record_dir / SIGNATURE_NAME
    if not sig_path.is_file():
        problems.append("manifest.sig removed (the manifest cannot be checked)")
    else:
        try:
            signature = base64.b64decode(sig_path.read_bytes().strip(), validate=True)
        except ValueError:
            signature = b""
        if not (isinstance(public_key_b64, str) and verify_signature(public_key_b64, data, signature)):
            problems.append("manifest.json altered (its signature does not match)")
    key_trusted = None
    if trusted_key_ids is not None:
        key_trusted = key_id in trusted_key_ids
        if not key_trusted:
            problems.append(f"signed by an unknown key {key_id} (not among the trusted keys)"
                            if key_id else "manifest.json names no signer key")
    file_problems, files, total_bytes = _check_files(record_dir, listed)
    problems += file_problems
    events_checked = 0
    if (record_dir / EVENTS_NAME).is_file():
        chain_problems, events_checked = audit_chain(record_dir / EVENTS_NAME, record_id, head)
        problems += chain_problems
    elif head[0] > 0 and EVENTS_NAME not in listed:
        problems.append(f"{EVENTS_NAME} removed")
    addenda_problems, addenda = check_addenda(record_dir, data)
    problems += addenda_problems
    return VerifyReport(not problems, tuple(problems), files, total_bytes, events_checked,
                        addenda, key_id, key_trusted, state)


def format_report(report: VerifyReport, this_key_id: str | None = None) -> str:
    """What `hullwatch verify` prints; `this_key_id`: this installation's key id."""
    integrity = [p for p in report.problems if not p.startswith("signed by an unknown key")]
    if report.ok:
        headline = "INTACT"
    elif report.problems == (NOT_CLOSED,):
        headline = "NOT CLOSED"
    elif not integrity:
        headline = "UNKNOWN SIGNER (the content matches its signature, but the key is not trusted)"
    else:
        headline = "ALTERED"
    lines = [headline,
             f"checked {report.files_checked} files ({report.bytes_checked / 1e6:.1f} MB), "
             f"{report.events_checked} events, {report.addenda_checked} addenda"]
    if report.key_id:
        if this_key_id is not None and report.key_id == this_key_id:
            whose = "this installation's key"
        else:
            whose = {True: "a trusted key", False: "an unknown key (not trusted)",
                     None: "not this installation's key" if this_key_id else "trust not checked"
                     }[report.key_trusted]
        lines.append(f"signed by key {report.key_id}: {whose}")
    if report.record_state:
        lines.append(f"record state: {report.record_state}")
    if report.problems:
        lines.append(f"{len(report.problems)} problem(s):")
        lines += [f"  {p}" for p in report.problems]
    return "\n".join(lines)
