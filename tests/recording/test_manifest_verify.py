"""A real sealed record folder, verified intact, then each tampering detected and named."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import stat

import pytest

from recording.errors import RecordError
from recording.event_log import EventLog, event_hash
from recording.keys import InstallationKey, verify_signature
from recording.manifest import (append_addendum, build_manifest, checkpoint_events, read_addenda,
                                write_signed_manifest)
from recording.verify import format_report, verify_record

RECORD_ID = "0f6c2a7e-3b55-4c1d-8e0a-5d9b7c4e1f20"
N_EVENTS = 300


def _seal(folder, key, record_id=RECORD_ID, head=None):
    manifest = build_manifest(folder, head or (N_EVENTS, _head_hash(folder)), record_id)
    write_signed_manifest(folder, manifest, key)
    return manifest


def _head_hash(folder):
    with sqlite3.connect(folder / "events.sqlite") as conn:
        return conn.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()[0]


@pytest.fixture
def key(tmp_path):
    return InstallationKey.load_or_create(tmp_path / "keys")


@pytest.fixture
def record(tmp_path, key):
    """A closed record: files of various sizes (one of 5 MB), 300 events, signed manifest."""
    folder = tmp_path / "mission_2024-05-01"
    for sub in ("video", "sonar", "map"):
        (folder / sub).mkdir(parents=True)
    (folder / "mission.json").write_text(json.dumps({"record_id": RECORD_ID, "state": "closed"}))
    (folder / "telemetry.tlog").write_bytes(os.urandom(10_000))
    (folder / "video" / "segment_0001.ts").write_bytes(os.urandom(5 * 1024 * 1024 + 17))
    (folder / "video" / "segment_0002.ts").write_bytes(os.urandom(188 * 1000))
    (folder / "video" / "frames.csv").write_text("frame,t_utc_s\n" + "".join(
        f"{i},{1.7e9 + i / 25}\n" for i in range(500)))
    (folder / "sonar" / "pings.csv").write_text("ping,t_utc_s,range_m\n1,1.7e9,30\n2,1.7e9,30\n")
    (folder / "map" / "hullmap.ply").write_bytes(b"ply\nformat ascii 1.0\nend_header\n")
    (folder / "map" / "empty.txt").write_bytes(b"")
    with EventLog.create(folder / "events.sqlite", RECORD_ID) as log:
        for i in range(N_EVENTS):
            log.append("detection", {"track": i, "cls": "bag"}, t_utc_s=1.7e9 + i)
            if i % 50 == 49:
                log.commit()
        head = log.head()
    checkpoint_events(folder / "events.sqlite")
    _seal(folder, key, head=head)
    return folder


def _problems(folder, **kw):
    report = verify_record(folder, **kw)
    assert report.ok == (not report.problems)
    return list(report.problems)


def _sql(folder, statement, args=()):
    conn = sqlite3.connect(folder / "events.sqlite")
    with conn:
        conn.execute(statement, args)
    conn.close()


# ---- intact ---------------------------------------------------------------------------------
def test_intact_record(record, key):
    before = {p: p.stat().st_mtime_ns for p in record.rglob("*")}
    report = verify_record(record, trusted_key_ids={key.key_id})
    assert {p: p.stat().st_mtime_ns for p in record.rglob("*")} == before  # verify only reads
    assert report.ok and report.problems == ()
    files = [p for p in record.rglob("*") if p.is_file() and not p.name.startswith("manifest.")]
    assert report.files_checked == len(files) == 9
    assert report.bytes_checked == sum(p.stat().st_size for p in files)
    assert report.events_checked == N_EVENTS and report.addenda_checked == 0
    assert report.key_id == key.key_id and report.key_trusted is True
    assert report.record_state == "closed"
    text = format_report(report, this_key_id=key.key_id)
    assert text.splitlines()[0] == "INTACT"
    assert f"signed by key {key.key_id}: this installation's key" in text
    assert f"signed by key {key.key_id}: trust not checked" in format_report(verify_record(record))


def test_closed_event_log_is_one_self_contained_file(record):
    assert not (record / "events.sqlite-wal").exists()
    assert not (record / "events.sqlite-shm").exists()
    with sqlite3.connect(f"{(record / 'events.sqlite').as_uri()}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    manifest = json.loads((record / "manifest.json").read_text())
    assert manifest["events"]["count"] == N_EVENTS
    assert manifest["created_utc"].endswith("Z")
    assert set(manifest["files"]) >= {"events.sqlite", "video/segment_0001.ts", "map/empty.txt"}


def test_manifest_signature_covers_the_exact_bytes(record, key):
    data = (record / "manifest.json").read_bytes()
    signature = base64.b64decode((record / "manifest.sig").read_bytes())
    assert verify_signature(key.public_key_b64, data, signature)
    assert not verify_signature(key.public_key_b64, data + b" ", signature)
    assert not verify_signature("not base64!", data, signature)


def test_build_refuses_an_unclosed_event_log(tmp_path):
    log = EventLog.create(tmp_path / "events.sqlite", RECORD_ID)
    log.append("a", {}, commit=True)
    try:
        with pytest.raises(RecordError, match="checkpoint_events"):
            build_manifest(tmp_path, log.head(), RECORD_ID)
    finally:
        log.close()


def test_not_closed_record(tmp_path):
    (tmp_path / "mission.json").write_text('{"state": "recording"}')
    report = verify_record(tmp_path)
    assert report.problems == ("not closed: no manifest.json (an interrupted record: "
                               "open it with HullWatch to recover it)",)
    assert format_report(report).startswith("NOT CLOSED")
    assert report.record_state == "recording"


# ---- files ----------------------------------------------------------------------------------
def test_one_byte_edited(record):
    path = record / "video" / "segment_0002.ts"
    data = bytearray(path.read_bytes())
    data[1234] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_record(record)
    assert report.problems == ("video/segment_0002.ts altered (SHA-256 differs)",)
    assert format_report(report).splitlines()[0] == "ALTERED"


def test_truncated_file(record):
    path = record / "sonar" / "pings.csv"
    size = path.stat().st_size
    os.truncate(path, size - 5)
    assert _problems(record) == [f"sonar/pings.csv altered ({size - 5} bytes, the manifest records {size})"]


def test_deleted_file(record):
    (record / "sonar" / "pings.csv").unlink()
    assert _problems(record) == ["sonar/pings.csv removed"]


def test_added_file(record):
    (record / "map" / "extra.ply").write_bytes(b"ply\n")
    assert _problems(record) == ["map/extra.ply added after closing"]


# ---- events ---------------------------------------------------------------------------------
def test_deleted_event(record):
    _sql(record, "DELETE FROM events WHERE seq = 18")
    problems = _problems(record)
    assert problems[0].startswith("events.sqlite altered")
    assert problems[1:] == ["event 18 removed (seq 17 -> 19)"]


def test_edited_event_payload(record):
    _sql(record, "UPDATE events SET payload = '{\"cls\":\"none\",\"track\":16}' WHERE seq = 17")
    assert _problems(record)[1:] == ["event 17 altered (its hash does not match its content)"]


def test_edited_event_payload_with_its_hash_recomputed(record):
    with sqlite3.connect(record / "events.sqlite") as conn:
        seq, t, kind, prev = conn.execute(
            "SELECT seq, t_utc_s, kind, prev_hash FROM events WHERE seq = 17").fetchone()
    payload = '{"cls":"none","track":16}'
    _sql(record, "UPDATE events SET payload = ?, hash = ? WHERE seq = 17",
         (payload, event_hash(prev, seq, t, kind, payload)))
    assert _problems(record)[1:] == [
        "event 17 altered (its hash was recomputed; event 18 links to a different event 17)"]


def test_deleted_last_events(record):
    _sql(record, "DELETE FROM events WHERE seq > 280")
    problems = _problems(record)
    assert len(problems) == 2 and problems[0].startswith("events.sqlite altered")
    assert problems[1].startswith("events after 280 removed (the manifest records 300 events, head ")


def test_event_appended_after_close(record):
    head = _head_hash(record)
    payload = '{"cls":"late"}'
    _sql(record, "INSERT INTO events VALUES (301, 1.8e9, 'detection', ?, ?, ?)",
         (payload, head, event_hash(head, 301, 1.8e9, "detection", payload)))
    assert _problems(record)[1:] == ["event 301 added after the record was closed"]


def test_corrupt_event_log_is_a_problem_not_a_traceback(record):
    (record / "events.sqlite").write_bytes(b"\x00garbage" * 5000)
    problems = _problems(record)
    assert problems[0].startswith("events.sqlite altered")
    assert problems[1].startswith("events.sqlite unreadable:")


# ---- manifest and keys ----------------------------------------------------------------------
def test_edited_manifest_fails_its_signature(record):
    path = record / "video" / "segment_0002.ts"
    path.write_bytes(b"planted")
    manifest = json.loads((record / "manifest.json").read_text())
    manifest["files"]["video/segment_0002.ts"] = {"sha256": hashlib.sha256(
        b"planted").hexdigest(), "bytes": 7}
    (record / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    assert _problems(record) == ["manifest.json altered (its signature does not match)"]


def test_missing_signature(record):
    (record / "manifest.sig").unlink()
    assert _problems(record) == ["manifest.sig removed (the manifest cannot be checked)"]


def test_resigned_with_another_key(record, key, tmp_path):
    (record / "sonar" / "pings.csv").write_text("ping,t_utc_s,range_m\n")
    other = InstallationKey.load_or_create(tmp_path / "other_keys")
    _seal(record, other)
    assert _problems(record) == []  # internally consistent: only trust can tell
    report = verify_record(record, trusted_key_ids={key.key_id})
    assert not report.ok and report.key_id == other.key_id and report.key_trusted is False
    assert report.problems == (f"signed by an unknown key {other.key_id} (not among the trusted keys)",)
    text = format_report(report, this_key_id=key.key_id)
    assert text.startswith("UNKNOWN SIGNER") and "an unknown key (not trusted)" in text


def test_key_is_created_once_private_and_reloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(tmp_path / "k"))
    first = InstallationKey.load_or_create()
    pem = tmp_path / "k" / "ed25519.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert (tmp_path / "k" / "ed25519.pub").read_text().strip() == first.public_key_b64
    again = InstallationKey.load_or_create()
    assert again.key_id == first.key_id and len(first.key_id) == 16
    assert verify_signature(first.public_key_b64, b"x", again.sign(b"x"))
    assert [p.name for p in (tmp_path / "k").iterdir() if p.name.startswith(".")] == []


def test_key_dir_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.delenv("HULLWATCH_KEY_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    key = InstallationKey.load_or_create()
    assert key.path == tmp_path / "xdg" / "hullwatch" / "keys" / "ed25519.pem"


def test_corrupt_key_file_names_the_file_and_what_to_do(tmp_path):
    (tmp_path / "ed25519.pem").write_text("-----BEGIN PRIVATE KEY-----\nbroken\n")
    with pytest.raises(RecordError) as excinfo:
        InstallationKey.load_or_create(tmp_path)
    message = str(excinfo.value)
    assert str(tmp_path / "ed25519.pem") in message and "move the file away" in message
    assert "signed by an unknown key" in message


# ---- addenda --------------------------------------------------------------------------------
def _three_addenda(record, key):
    paths = [append_addendum(record, "review", [{"track": 3, "verdict": "confirmed"}], key, "K. Olsen"),
             append_addendum(record, "note", [{"text": "diver checked sea chest"}], key, "A. Berg"),
             append_addendum(record, "review", [{"track": 9, "verdict": "dismissed"}], key, "K. Olsen")]
    assert [p.name for p in paths] == ["0001_review.json", "0002_note.json", "0003_review.json"]
    return paths


def test_addenda_are_chained_and_verified(record, key):
    _three_addenda(record, key)
    documents = read_addenda(record)
    assert [d["seq"] for d in documents] == [1, 2, 3]
    assert documents[1]["author"] == "A. Berg" and documents[1]["kind"] == "note"
    report = verify_record(record, trusted_key_ids={key.key_id})
    assert report.ok and report.addenda_checked == 3


def test_altered_addendum(record, key):
    paths = _three_addenda(record, key)
    paths[2].write_text(paths[2].read_text().replace("dismissed", "confirmed"))
    assert _problems(record) == ["addendum 3 altered (its signature does not match)"]


def test_removed_addendum(record, key):
    paths = _three_addenda(record, key)
    paths[1].unlink()
    paths[1].with_suffix(".sig").unlink()
    assert _problems(record) == ["addendum 2 removed"]


def test_addenda_follow_the_manifest(record, key, tmp_path):
    _three_addenda(record, key)
    _seal(record, key)  # a new manifest (same files): addendum 1 was written after the old one
    assert _problems(record) == ["addendum 1 does not follow manifest.json (its previous_sha256 differs)"]


def test_addendum_needs_a_closed_record_and_a_plain_kind(tmp_path, record, key):
    with pytest.raises(RecordError, match="closed records only"):
        append_addendum(tmp_path, "review", [], key, "K. Olsen")
    with pytest.raises(RecordError, match="kind"):
        append_addendum(record, "../evil", [], key, "K. Olsen")
    assert not (record / "addenda").exists() or not any((record / "addenda").iterdir())
