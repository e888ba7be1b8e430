"""events.sqlite: append, read back, crash and disk-full safety, and every tampering named."""
from __future__ import annotations

import hashlib
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from recording.errors import RecordDiskFull, RecordError
from recording.event_log import EventLog, check_chain, event_hash, read_events

REPO = Path(__file__).resolve().parents[2]
RECORD_ID = "5b0c3c1e-7d1a-4f57-9a43-2f1f6f0d2a11"


def _make_log(path: Path, n: int) -> tuple[int, str]:
    with EventLog.create(path, RECORD_ID) as log:
        for i in range(n):
            log.append("detection", {"track": i, "cls": "bag", "conf": 0.5 + i / 1000},
                       t_utc_s=1_700_000_000.0 + i * 0.1)
        head = log.head()
    return head


@pytest.fixture
def log300(tmp_path):
    path = tmp_path / "events.sqlite"
    return path, _make_log(path, 300)


def _rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT seq, t_utc_s, kind, payload, prev_hash, hash FROM events "
                            "ORDER BY seq").fetchall()


def _sql(path, *statements):
    conn = sqlite3.connect(path)
    with conn:
        for statement, *args in statements:
            conn.execute(statement, *args)
    conn.close()


def _renumber(path, from_seq, delta):
    """Shift seq of every event >= from_seq by delta (via negatives: no key clashes)."""
    _sql(path, ("UPDATE events SET seq = -(seq + ?) WHERE seq >= ?", (delta, from_seq)),
         ("UPDATE events SET seq = -seq WHERE seq < 0",))


# ---- writing and reading --------------------------------------------------------------------
def test_10000_events_read_back_intact(tmp_path):
    path = tmp_path / "events.sqlite"
    with EventLog.create(path, RECORD_ID) as log:
        for i in range(10_000):
            log.append("pose", {"i": i, "depth_m": i * 0.001, "note": "ä≈"}, t_utc_s=1e9 + i / 7)
            if i % 100 == 99:
                log.commit()
        head = log.head()
    events = read_events(path)
    assert [e.seq for e in events] == list(range(1, 10_001))
    assert all(e.payload == {"i": i, "depth_m": i * 0.001, "note": "ä≈"} for i, e in enumerate(events))
    assert all(e.t_utc_s == 1e9 + i / 7 for i, e in enumerate(events))
    assert head == (10_000, events[-1].hash)
    assert check_chain(path, RECORD_ID, head) == []


def test_hash_is_the_documented_formula(tmp_path):
    path = tmp_path / "events.sqlite"
    payload = {"z": [1, 2.5, None], "a": "Kiel ö", "n": {"b": True}}
    with EventLog.create(path, RECORD_ID) as log:
        log.append("note", payload, t_utc_s=1712345678.123456)
        log.append("alarm", {}, t_utc_s=1712345679.0)
    first, second = read_events(path)
    genesis = hashlib.sha256(RECORD_ID.encode()).hexdigest()
    canon = json.dumps([1, repr(1712345678.123456), "note", payload], sort_keys=True,
                       separators=(",", ":"), ensure_ascii=False)
    assert first.prev_hash == genesis
    assert first.hash == hashlib.sha256((genesis + "\n" + canon).encode()).hexdigest()
    assert second.prev_hash == first.hash
    assert _rows(path)[0][3] == json.dumps(payload, sort_keys=True, separators=(",", ":"),
                                           ensure_ascii=False)


def test_bad_payload_is_refused_naming_the_kind_and_the_log_goes_on(tmp_path):
    with EventLog.create(tmp_path / "events.sqlite", RECORD_ID) as log:
        log.append("ok", {"a": 1})
        for bad in ({"x": object()}, {"x": math.nan}, ["not", "a", "dict"]):
            with pytest.raises(RecordError, match="'track_update'"):
                log.append("track_update", bad)
        assert log.append("ok", {"a": 2}) == 2
        head = log.head()
    assert check_chain(tmp_path / "events.sqlite", RECORD_ID, head) == []


def test_reader_sees_committed_events_while_the_writer_is_open(tmp_path):
    path = tmp_path / "events.sqlite"
    log = EventLog.create(path, RECORD_ID)
    try:
        log.append("a", {"i": 1}, commit=True)
        log.append("b", {"i": 2})  # not committed yet
        assert [e.kind for e in read_events(path)] == ["a"]
        log.commit()
        log.append("a", {"i": 3}, commit=True)
        assert [e.seq for e in read_events(path, kinds=["a"])] == [1, 3]
        assert check_chain(path, RECORD_ID, log.head()) == []
    finally:
        log.close()


def test_create_twice_is_refused(log300):
    path, _ = log300
    with pytest.raises(RecordError, match="already exists"):
        EventLog.create(path, RECORD_ID)


def test_killed_writer_keeps_committed_events_and_open_append_continues(tmp_path):
    path = tmp_path / "events.sqlite"
    child = textwrap.dedent(f"""
        import os, signal, sys
        from recording.event_log import EventLog
        log = EventLog.create(sys.argv[1], {RECORD_ID!r})
        for i in range(50):
            log.append("pose", {{"i": i}})
        log.commit()
        log.append("pose", {{"i": "lost"}})  # in memory only when the process dies
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", child, str(path)], cwd=REPO, timeout=60)
    assert proc.returncode != 0
    assert [e.payload["i"] for e in read_events(path)] == list(range(50))
    log = EventLog.open_append(path)
    assert log.head() == (50, read_events(path)[-1].hash)
    log.append("recovered", {"after_crash": True})
    log.close()
    assert check_chain(path, RECORD_ID, (51, read_events(path)[-1].hash)) == []


def test_open_append_refuses_an_altered_log(log300):
    path, _ = log300
    _sql(path, ("UPDATE events SET payload = '{\"track\":999}' WHERE seq = 40",))
    with pytest.raises(RecordError, match="event 40 altered"):
        EventLog.open_append(path)


def test_disk_full_keeps_committed_events(tmp_path):
    """sqlite's max_page_count gives SQLITE_FULL: the same error path as a full disk."""
    path = tmp_path / "events.sqlite"
    log = EventLog.create(path, RECORD_ID, max_db_pages=12)
    with pytest.raises(RecordDiskFull, match="disk full"):
        for i in range(100_000):
            log.append("pose", {"i": i, "pad": "x" * 200})
            if i % 20 == 19:
                log.commit()
    committed = log.head()
    assert committed[0] > 0 and committed[0] % 20 == 0
    with pytest.raises(RecordDiskFull):
        log.append("pose", {"pad": "y" * 5000}, commit=True)
    assert log.head() == committed
    log.close()
    events = read_events(path)
    assert len(events) == committed[0] and events[-1].hash == committed[1]
    assert check_chain(path, RECORD_ID, committed) == []


def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, timeout=20)
    return probe.returncode == 0


def test_real_full_disk_keeps_committed_events(tmp_path):
    """A 192 KiB tmpfs in a private mount namespace fills up for real (ENOSPC)."""
    if not _can_mount_tmpfs():
        pytest.skip("cannot mount a small tmpfs here (needs unshare -rm)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    child = textwrap.dedent(f"""
        import json, sys
        from recording.errors import RecordDiskFull
        from recording.event_log import EventLog, check_chain, read_events
        path = sys.argv[1] + "/events.sqlite"
        log = EventLog.create(path, {RECORD_ID!r})
        try:
            for i in range(100_000):
                log.append("pose", {{"i": i, "pad": "x" * 300}})
                if i % 25 == 24:
                    log.commit()
            result = {{"full": False}}
        except RecordDiskFull as e:
            result = {{"full": True, "message": str(e)}}
        head = log.head()
        try:
            log.close()
        except RecordDiskFull:
            pass
        events = read_events(path)
        result.update(committed=head[0], read_back=len(events), last_hash=events[-1].hash == head[1],
                      problems=check_chain(path, {RECORD_ID!r}, head))
        print(json.dumps(result))
    """)
    child_path = tmp_path / "fill_disk.py"
    child_path.write_text(child, encoding="utf-8")
    script = f"mount -t tmpfs -o size=192k tmpfs {mnt} && {sys.executable} {child_path} {mnt}"
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["full"] and "disk full" in result["message"]
    assert result["committed"] > 0 and result["read_back"] == result["committed"]
    assert result["last_hash"] and result["problems"] == []


# ---- check_chain: every kind of tampering, named ------------------------------------------------
def test_intact_log_has_no_problems(log300):
    path, head = log300
    assert check_chain(path, RECORD_ID, head) == []
    assert check_chain(path, RECORD_ID, None) == []


def test_edited_payload(log300):
    path, head = log300
    _sql(path, ("UPDATE events SET payload = '{\"cls\":\"nothing\"}' WHERE seq = 17",))
    assert check_chain(path, RECORD_ID, head) == ["event 17 altered (its hash does not match its content)"]


def test_edited_payload_with_its_own_hash_recomputed(log300):
    path, head = log300
    seq, t, kind, _, prev, _ = _rows(path)[16]
    payload = '{"cls":"nothing"}'
    _sql(path, ("UPDATE events SET payload = ?, hash = ? WHERE seq = 17",
                (payload, event_hash(prev, seq, t, kind, payload))))
    assert check_chain(path, RECORD_ID, head) == [
        "event 17 altered (its hash was recomputed; event 18 links to a different event 17)"]


def test_edited_last_event_with_its_hash_recomputed(log300):
    path, head = log300
    seq, t, kind, _, prev, _ = _rows(path)[-1]
    _sql(path, ("UPDATE events SET payload = '{}', hash = ? WHERE seq = 300",
                (event_hash(prev, seq, t, kind, "{}"),)))
    assert check_chain(path, RECORD_ID, None) == []  # only the manifest's head can tell
    [problem] = check_chain(path, RECORD_ID, head)
    assert problem.startswith("event 300 altered or the chain rewritten up to it")


def test_deleted_event(log300):
    path, head = log300
    _sql(path, ("DELETE FROM events WHERE seq = 18",))
    assert check_chain(path, RECORD_ID, head) == ["event 18 removed (seq 17 -> 19)"]


def test_deleted_events_hidden_by_renumbering(log300):
    path, head = log300
    _sql(path, ("DELETE FROM events WHERE seq IN (18, 19)",))
    _renumber(path, 20, -2)
    assert check_chain(path, RECORD_ID, head) == [
        "events 18-298 moved (they were recorded as events 20-300)",
        "events 18-19 removed (seq 17 -> 20)"]


def test_deleted_first_events(log300):
    path, head = log300
    _sql(path, ("DELETE FROM events WHERE seq <= 3",))
    assert check_chain(path, RECORD_ID, head) == ["events 1-3 removed (the log starts at event 4)"]


def test_deleted_last_events(log300):
    path, head = log300
    _sql(path, ("DELETE FROM events WHERE seq > 290",))
    [problem] = check_chain(path, RECORD_ID, head)
    assert problem.startswith("events after 290 removed (the manifest records 300 events, head ")
    assert check_chain(path, RECORD_ID, None) == []  # a removed tail needs the manifest


def test_inserted_event(log300):
    path, head = log300
    rows = _rows(path)
    _renumber(path, 12, +1)
    t, prev = rows[10][1] + 0.05, rows[10][5]  # between events 11 and 12, linked to 11
    payload = '{"cls":"planted"}'
    _sql(path, ("INSERT INTO events VALUES (12, ?, 'detection', ?, ?, ?)",
                (t, payload, prev, event_hash(prev, 12, t, "detection", payload))))
    assert check_chain(path, RECORD_ID, head) == [
        "events 13-301 moved (they were recorded as events 12-300)",
        "event 12 inserted (event 13 links to event 11)"]


def test_inserted_event_with_a_foreign_prev_hash(log300):
    path, head = log300
    _renumber(path, 12, +1)
    prev = "0" * 64
    _sql(path, ("INSERT INTO events VALUES (12, 5.0, 'note', '{}', ?, ?)",
                (prev, event_hash(prev, 12, 5.0, "note", "{}"))))
    problems = check_chain(path, RECORD_ID, head)
    assert "event 12 inserted or re-linked (prev_hash does not match event 11)" in problems
    assert "events 13-301 moved (they were recorded as events 12-300)" in problems


def test_event_appended_after_close(log300):
    path, head = log300
    t, payload = 1_800_000_000.0, '{"cls":"late"}'
    _sql(path, ("INSERT INTO events VALUES (301, ?, 'detection', ?, ?, ?)",
                (t, payload, head[1], event_hash(head[1], 301, t, "detection", payload))))
    assert check_chain(path, RECORD_ID, head) == ["event 301 added after the record was closed"]


def test_reordered_events(log300):
    path, head = log300
    _sql(path, ("UPDATE events SET seq = -1 WHERE seq = 20",),
         ("UPDATE events SET seq = 20 WHERE seq = 21",),
         ("UPDATE events SET seq = 21 WHERE seq = -1",))
    assert check_chain(path, RECORD_ID, head) == [
        "event 20 moved (it was recorded as event 21)", "event 21 moved (it was recorded as event 20)"]


def test_chain_rewritten_from_scratch_is_caught_by_the_manifest_head(log300):
    path, head = log300
    rows, prev = _rows(path), hashlib.sha256(RECORD_ID.encode()).hexdigest()
    statements = []
    for seq, t, kind, payload, _, _ in rows:
        payload = '{"cls":"nothing"}' if seq == 150 else payload
        h = event_hash(prev, seq, t, kind, payload)
        statements.append(("UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                           (payload, prev, h, seq)))
        prev = h
    _sql(path, *statements)
    assert check_chain(path, RECORD_ID, None) == []
    [problem] = check_chain(path, RECORD_ID, head)
    assert "event 300 altered or the chain rewritten up to it" in problem


def test_log_of_another_record(log300):
    path, head = log300
    problems = check_chain(path, "another-mission", (300, head[1]))
    assert problems[0] == "events.sqlite belongs to record " + repr(RECORD_ID) + ", not 'another-mission'"
    assert any(p.startswith("event 1 re-linked") for p in problems)


def test_garbage_file_is_one_problem_not_a_traceback(tmp_path):
    path = tmp_path / "events.sqlite"
    path.write_bytes(bytes(range(256)) * 64)
    [problem] = check_chain(path, RECORD_ID, (3, "ab" * 32))
    assert problem.startswith("events.sqlite unreadable:") and "verify" in problem
    with pytest.raises(RecordError, match="events.sqlite"):
        read_events(path)
    with pytest.raises(RecordError):
        EventLog.open_append(path)
