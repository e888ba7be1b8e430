"""events.sqlite: the record's append-only, hash-chained event log (DESIGN.md "Files").

    meta(key, value): format "hullwatch-events", version 1, record_id
    events(seq INTEGER PRIMARY KEY, t_utc_s REAL, kind TEXT, payload TEXT, prev_hash TEXT, hash TEXT)

`payload` is canonical JSON (sorted keys, no spaces, UTF-8 kept). Each event's hash is
sha256(prev_hash + "\\n" + canonical JSON of [seq, repr(t_utc_s), kind, payload]), built from
the stored payload text so a verifier hashes exactly the bytes on disk. The first prev_hash
is sha256(record_id): two records' chains cannot be swapped. Changing, removing, inserting
or reordering an event breaks the chain; the manifest's (count, head hash) catches a
removed tail, an appended event and a chain rewritten from scratch.

WAL mode with synchronous=NORMAL: a killed process keeps every committed event. The writer
commits in batches (the recorder calls `commit()` at least every 0.5 s).
"""
from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import RecordDiskFull, RecordError

__all__ = ["FORMAT", "VERSION", "Event", "EventLog", "audit_chain", "canonical_json",
           "check_chain", "event_hash", "genesis_hash", "read_events"]

FORMAT = "hullwatch-events"
VERSION = 1
BUSY_TIMEOUT_S = 5.0
_SCHEMA = ("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
           "CREATE TABLE events(seq INTEGER PRIMARY KEY, t_utc_s REAL NOT NULL, kind TEXT NOT NULL,"
           " payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)")
_KEEP = "keep the file as it is (it is evidence) and check the record with `hullwatch verify`"


def canonical_json(obj) -> str:
    """The one JSON text of `obj` that is hashed and stored. Raises TypeError/ValueError."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def genesis_hash(record_id: str) -> str:
    return hashlib.sha256(record_id.encode("utf-8")).hexdigest()


def event_hash(prev_hash: str, seq: int, t_utc_s: float, kind: str, payload_json: str) -> str:
    """Equal to hashing canonical_json([seq, repr(t_utc_s), kind, payload]) when
    `payload_json` is canonical; built from the text so stored bytes are what is hashed."""
    body = (f"{prev_hash}\n[{int(seq)},{json.dumps(repr(float(t_utc_s)))},"
            f"{json.dumps(str(kind), ensure_ascii=False)},{payload_json}]")
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Event:
    seq: int
    t_utc_s: float
    kind: str
    payload: dict  # a fresh dict per read; do not share it between threads to mutate
    prev_hash: str
    hash: str


def _is_disk_full(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "disk is full" in str(exc))


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        return sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error as e:
        raise RecordError(f"{path}: cannot open the event log ({e}); check that the file "
                          f"{'exists and can be read' if readonly else 'and its folder can be written'}") from e


def _read_meta(conn: sqlite3.Connection, path: Path) -> str:
    """The record id, after checking format and version."""
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error as e:
        raise RecordError(f"{path}: not a readable HullWatch event log ({e}); {_KEEP}") from e
    if meta.get("format") != FORMAT:
        raise RecordError(f"{path}: not a HullWatch event log (format {meta.get('format')!r}); "
                          "open the events.sqlite of a HullWatch record")
    version = str(meta.get("version", ""))
    if not version.isdigit() or int(version) > VERSION:
        raise RecordError(f"{path}: event log version {version!r} is not one this HullWatch "
                          f"reads (up to {VERSION}); update HullWatch")
    return str(meta.get("record_id", ""))


class EventLog:
    """The writer of one record's events.sqlite.

    Single owner: one thread (the recorder's writer thread) creates it and makes every call;
    the connection is opened with check_same_thread=False only so that thread may differ
    from the one that built the recorder. Readers use `read_events`, from any thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection, record_id: str, head: tuple[int, str]):
        self.path, self.record_id = path, record_id  # read-only by convention
        self._path, self._conn = path, conn
        self._head = self._committed_head = head

    @classmethod
    def create(cls, path, record_id: str, *, max_db_pages: int | None = None) -> "EventLog":
        """A new, empty log. `max_db_pages` caps the file (sqlite's max_page_count);
        reaching it behaves exactly like a full disk."""
        path = Path(path)
        if not record_id:
            raise RecordError(f"{path}: a record id is needed to start the event chain")
        if path.exists():
            raise RecordError(f"{path}: already exists; an event log is created once "
                              "(use EventLog.open_append to continue it)")
        conn = _connect(path, readonly=False)
        try:
            cls._configure(conn, max_db_pages)
            conn.execute("BEGIN")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)",
                             [("format", FORMAT), ("version", str(VERSION)),
                              ("record_id", record_id)])
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            conn.close()
            if _is_disk_full(e):
                raise RecordDiskFull(f"{path}: disk full while creating the event log; "
                                     "free space and start the record again") from e
            raise RecordError(f"{path}: cannot create the event log ({e})") from e
        return cls(path, conn, record_id, (0, genesis_hash(record_id)))

    @classmethod
    def open_append(cls, path, *, check: bool = True,
                    max_db_pages: int | None = None) -> "EventLog":
        """Continue an existing log (crash recovery). With `check`, the chain so far must be
        intact: recovery never seals an altered log."""
        path = Path(path)
        if not path.is_file():
            raise RecordError(f"{path}: no event log to continue")
        conn = _connect(path, readonly=False)
        try:
            cls._configure(conn, max_db_pages)
            record_id = _read_meta(conn, path)
            row = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        except (sqlite3.Error, RecordError) as e:
            conn.close()
            if isinstance(e, RecordError):
                raise
            raise RecordError(f"{path}: cannot read the event log ({e}); {_KEEP}") from e
        if check:
            problems, _ = audit_chain(path, record_id, None)
            if problems:
                conn.close()
                raise RecordError(f"{path}: the event chain is broken ({'; '.join(problems[:3])}); "
                                  f"{_KEEP}")
        head = (int(row[0]), str(row[1])) if row else (0, genesis_hash(record_id))
        return cls(path, conn, record_id, head)

    @staticmethod
    def _configure(conn: sqlite3.Connection, max_db_pages: int | None) -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if max_db_pages is not None:
            conn.execute(f"PRAGMA max_page_count={int(max_db_pages)}")

    def append(self, kind: str, payload: dict, t_utc_s: float | None = None, *,
               commit: bool = False) -> int:
        """Add one event; returns its seq. Not committed until `commit()` (or commit=True)."""
        if not isinstance(kind, str) or not kind:
            raise RecordError(f"{self._path}: event kind must be a non-empty string, got {kind!r}")
        if not isinstance(payload, dict):
            raise RecordError(f"{self._path}: event '{kind}': payload must be a dict, "
                              f"got {type(payload).__name__}")
        try:
            payload_json = canonical_json(payload)
        except (TypeError, ValueError) as e:
            raise RecordError(f"{self._path}: event '{kind}': payload is not JSON-serialisable "
                              f"({e}); pass plain numbers, strings, lists and dicts") from e
        t = float(time.time() if t_utc_s is None else t_utc_s)
        if not math.isfinite(t):
            raise RecordError(f"{self._path}: event '{kind}': t_utc_s must be a finite time, got {t}")
        prev_seq, prev_hash = self._head
        seq = prev_seq + 1
        h = event_hash(prev_hash, seq, t, kind, payload_json)
        try:
            if not self._conn.in_transaction:
                self._conn.execute("BEGIN")
            self._conn.execute("INSERT INTO events(seq, t_utc_s, kind, payload, prev_hash, hash) "
                               "VALUES (?, ?, ?, ?, ?, ?)", (seq, t, kind, payload_json, prev_hash, h))
        except sqlite3.Error as e:
            self._fail(e, f"adding event '{kind}'", pending=1)
        self._head = (seq, h)
        if commit:
            self.commit()
        return seq

    def commit(self) -> None:
        if not self._conn.in_transaction:
            return
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as e:
            self._fail(e, "committing events")
        self._committed_head = self._head

    def _fail(self, exc: sqlite3.Error, doing: str, pending: int = 0):
        """Drop the uncommitted batch (committed events stay intact) and raise."""
        lost = self._head[0] - self._committed_head[0] + pending
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # sqlite may have rolled back already; the committed part is unaffected
        self._head = self._committed_head
        if _is_disk_full(exc):
            raise RecordDiskFull(f"{self._path}: disk full while {doing}; {lost} uncommitted "
                                 f"event(s) dropped, the {self._head[0]} committed ones are "
                                 "intact; free disk space") from exc
        raise RecordError(f"{self._path}: error while {doing} ({exc}); {lost} uncommitted "
                          "event(s) dropped, the committed ones are intact") from exc

    def head(self) -> tuple[int, str]:
        """(last seq, last hash), including uncommitted events; (0, genesis) when empty."""
        return self._head

    def close(self) -> None:
        """Commit and close. Raises RecordDiskFull if the final commit does not fit."""
        try:
            self.commit()
        finally:
            self._conn.close()

    def __enter__(self) -> "EventLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read_rows(path, kinds=None) -> tuple[str, list[tuple]]:
    path = Path(path)
    if not path.is_file():
        raise RecordError(f"{path}: no such event log; check the record folder")
    conn = _connect(path, readonly=True)
    try:
        record_id = _read_meta(conn, path)
        sql = "SELECT seq, t_utc_s, kind, payload, prev_hash, hash FROM events"
        args: tuple = ()
        if kinds is not None:
            kinds = tuple(kinds)
            sql += f" WHERE kind IN ({','.join('?' * len(kinds))})"
            args = kinds
        return record_id, conn.execute(sql + " ORDER BY seq", args).fetchall()
    except sqlite3.Error as e:
        raise RecordError(f"{path}: cannot read the events ({e}); {_KEEP}") from e
    finally:
        conn.close()


def read_events(path, kinds=None) -> list[Event]:
    """Every event (or those of `kinds`) in seq order, read-only; safe while a writer is open."""
    _, rows = _read_rows(path, kinds)
    events = []
    for seq, t, kind, payload, prev_hash, h in rows:
        try:
            data = json.loads(payload)
        except (TypeError, ValueError) as e:
            raise RecordError(f"{path}: event {seq} has an unreadable payload ({e}); {_KEEP}") from e
        events.append(Event(int(seq), float(t), str(kind), data, str(prev_hash), str(h)))
    return events


def check_chain(path, record_id: str, expected_head: tuple[int, str] | None) -> list[str]:
    """Problems with the chain, each naming the event; [] when intact."""
    return audit_chain(path, record_id, expected_head)[0]


def audit_chain(path, record_id: str,
                expected_head: tuple[int, str] | None) -> tuple[list[str], int]:
    """(problems, events read). An unreadable file is one problem, not an exception."""
    from .verify import diagnose_chain  # lazily: verify imports this module
    try:
        stored_id, rows = _read_rows(path)
    except RecordError as e:
        return [f"{Path(path).name} unreadable: {e}"], 0
    problems = []
    if stored_id != record_id:
        problems.append(f"{Path(path).name} belongs to record {stored_id!r}, not {record_id!r}")
    problems += diagnose_chain(rows, genesis_hash(record_id), expected_head)
    return problems, len(rows)
