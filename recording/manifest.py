"""manifest.json + manifest.sig (the sealed record) and addenda/ (signed later additions).

    manifest.json  {"format": "hullwatch-manifest", "version": 1, "record_id", "created_utc",
                    "files": {relpath: {"sha256", "bytes"}}, "events": {"count", "head_hash"},
                    "signer": {"key_id", "public_key_b64"}}
    manifest.sig   base64 Ed25519 signature of manifest.json's exact bytes
    addenda/NNNN_<kind>.json + .sig   {"format": "hullwatch-addendum", "version": 1, "seq",
                    "kind", "author", "created_utc", "entries", "previous_sha256", "signer"}

Each addendum names the SHA-256 of manifest.json (addendum 1) or of the addendum before it,
so addenda form a chain hung off the manifest: none can be altered or removed from the
middle unnoticed. Addenda are only ever added, never rewritten (hard-link creation fails
rather than overwrite). Removing the LAST addendum cannot be seen without an outside copy.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import sqlite3
import tempfile
from pathlib import Path

from .errors import RecordDiskFull, RecordError
from .keys import InstallationKey, verify_signature

__all__ = ["MANIFEST_FORMAT", "ADDENDUM_FORMAT", "VERSION", "append_addendum", "build_manifest",
           "check_addenda", "checkpoint_events", "manifest_bytes", "read_addenda",
           "record_entries", "sha256_file", "write_signed_manifest"]

MANIFEST_FORMAT = "hullwatch-manifest"
ADDENDUM_FORMAT = "hullwatch-addendum"
VERSION = 1
MANIFEST_NAME, SIGNATURE_NAME, ADDENDA_DIR = "manifest.json", "manifest.sig", "addenda"
EVENTS_NAME = "events.sqlite"
_BLOCK_BYTES = 1 << 20
_ADDENDUM_RE = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_-]{0,39})\.(json|sig)$")
_KIND_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_APPEND_ATTEMPTS = 5


def utc_now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex digest, bytes read), streamed in 1 MiB blocks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(_BLOCK_BYTES):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def record_entries(record_dir: Path, *, sqlite_side_files: bool = False) -> dict[str, Path]:
    """Every non-directory entry under record_dir by posix relpath, without manifest.json,
    manifest.sig and addenda/ (and without events.sqlite-wal/-shm/-journal unless asked)."""
    skip = {MANIFEST_NAME, SIGNATURE_NAME}
    if not sqlite_side_files:
        skip |= {f"{EVENTS_NAME}-wal", f"{EVENTS_NAME}-shm", f"{EVENTS_NAME}-journal"}
    found = {}
    for root, dirs, files in os.walk(record_dir):
        rel_root = Path(root).relative_to(record_dir)
        if rel_root == Path("."):
            dirs[:] = [d for d in dirs if d != ADDENDA_DIR]
        # a symlinked folder is an entry, not something to walk into
        for name in [d for d in dirs if (Path(root) / d).is_symlink()] + files:
            rel = (rel_root / name).as_posix()
            if rel not in skip:
                found[rel] = Path(root) / name
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
    return dict(sorted(found.items()))


def checkpoint_events(path) -> None:
    """Fold events.sqlite-wal into events.sqlite and leave WAL mode, so the closed log is one
    self-contained file. Every EventLog and reader must be closed first."""
    path = Path(path)
    try:
        conn = sqlite3.connect(str(path), timeout=5.0, isolation_level=None)
    except sqlite3.Error as e:
        raise RecordError(f"{path}: cannot open the event log to close it ({e})") from e
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if busy or str(mode).lower() != "delete":
            raise RecordError(f"{path}: still open elsewhere, cannot be closed; close every "
                              "reader of the record and try again")
    except sqlite3.Error as e:
        if "disk is full" in str(e):
            raise RecordDiskFull(f"{path}: disk full while closing the event log; free disk "
                                 "space and close the record again") from e
        raise RecordError(f"{path}: cannot close the event log ({e}); close every reader of "
                          "the record and try again") from e
    finally:
        conn.close()


def build_manifest(record_dir: Path, events_head: tuple[int, str], record_id: str,
                   key: InstallationKey | None = None) -> dict:
    """The manifest of a finished record folder (events already checkpointed)."""
    record_dir = Path(record_dir)
    wal = record_dir / f"{EVENTS_NAME}-wal"
    if wal.exists() and wal.stat().st_size > 0:
        raise RecordError(f"{wal}: still holds events; close the EventLog and call "
                          "checkpoint_events before building the manifest")
    files = {}
    for rel, path in record_entries(record_dir).items():
        if path.is_symlink() or not path.is_file():
            raise RecordError(f"{path}: not a regular file; a record holds copies, not links "
                              "or devices: replace it with a copy of the data")
        try:
            digest, size = sha256_file(path)
        except OSError as e:
            raise RecordError(f"{path}: cannot be read to seal the record ({e})") from e
        files[rel] = {"sha256": digest, "bytes": size}
    manifest = {"format": MANIFEST_FORMAT, "version": VERSION, "record_id": record_id,
                "created_utc": utc_now_iso(), "files": files,
                "events": {"count": int(events_head[0]), "head_hash": str(events_head[1])}}
    if key is not None:
        manifest["signer"] = {"key_id": key.key_id, "public_key_b64": key.public_key_b64}
    return manifest


def manifest_bytes(document: dict) -> bytes:
    """The exact bytes written (and signed) for a manifest or addendum."""
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False,
                       allow_nan=False) + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """tmp + fsync + rename (or, with `exclusive`, a hard link that never overwrites)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        if exclusive:
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:  # make the rename durable too
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _sign_and_write(json_path: Path, document: dict, key: InstallationKey,
                    exclusive: bool = False) -> None:
    data = manifest_bytes(document)
    signature = base64.b64encode(key.sign(data)) + b"\n"
    _write_atomic(json_path, data, exclusive=exclusive)
    _write_atomic(json_path.with_suffix(".sig"), signature, exclusive=exclusive)


def write_signed_manifest(record_dir: Path, manifest: dict, key: InstallationKey) -> None:
    """Write manifest.json (signer set to `key`) and manifest.sig, each atomically."""
    document = dict(manifest, signer={"key_id": key.key_id, "public_key_b64": key.public_key_b64})
    path = Path(record_dir) / MANIFEST_NAME
    try:
        _sign_and_write(path, document, key)
    except OSError as e:
        raise RecordError(f"{path}: cannot write the manifest ({e}); free disk space or check "
                          "permissions, then close the record again") from e


def _addendum_files(record_dir: Path) -> dict[int, dict[str, Path]]:
    """{seq: {"json": path, "sig": path, "extra": ...}} of addenda/ by file name."""
    found: dict[int, dict[str, Path]] = {}
    folder = Path(record_dir) / ADDENDA_DIR
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            m = _ADDENDUM_RE.match(path.name)
            if m:
                slot = found.setdefault(int(m.group(1)), {})
                slot[m.group(3) if m.group(3) not in slot else f"dup:{path.name}"] = path
    return found


def append_addendum(record_dir: Path, kind: str, entries: list[dict], key: InstallationKey,
                    author: str) -> Path:
    """Add addenda/NNNN_<kind>.json + .sig after the last addendum; returns the .json path."""
    record_dir = Path(record_dir)
    manifest_path = record_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        raise RecordError(f"{manifest_path}: missing; addenda are added to closed records only "
                          "(open the record with HullWatch to recover it first)")
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise RecordError(f"addendum kind {kind!r}: use lowercase letters, digits, '_' or '-'")
    if not isinstance(author, str) or not author.strip():
        raise RecordError("addendum author: give the name of the person adding it")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RecordError(f"addendum '{kind}': entries must be a list of dicts")
    folder = record_dir / ADDENDA_DIR
    for _ in range(_APPEND_ATTEMPTS):  # another process may take the same number first
        existing = _addendum_files(record_dir)
        seq = max(existing, default=0) + 1
        previous = manifest_path if seq == 1 else existing[seq - 1].get("json")
        if previous is None:
            raise RecordError(f"{folder}: addendum {seq - 1} has no .json; the addenda are "
                              "damaged: check the record with `hullwatch verify`")
        document = {"format": ADDENDUM_FORMAT, "version": VERSION, "seq": seq, "kind": kind,
                    "author": author, "created_utc": utc_now_iso(), "entries": entries,
                    "previous_sha256": sha256_file(previous)[0],
                    "signer": {"key_id": key.key_id, "public_key_b64": key.public_key_b64}}
        path = folder / f"{seq:04d}_{kind}.json"
        try:
            folder.mkdir(exist_ok=True)
            _sign_and_write(path, document, key, exclusive=True)
            return path
        except FileExistsError:
            continue
        except (TypeError, ValueError) as e:
            raise RecordError(f"addendum '{kind}': entries are not JSON-serialisable ({e})") from e
        except OSError as e:
            raise RecordError(f"{path}: cannot write the addendum ({e}); free disk space or "
                              "check permissions") from e
    raise RecordError(f"{folder}: other programs keep adding addenda; try again")


def read_addenda(record_dir: Path) -> list[dict]:
    """Every addendum document in order (not verified: use verify_record for that)."""
    documents = []
    for seq, slot in sorted(_addendum_files(record_dir).items()):
        if "json" not in slot:
            continue
        try:
            documents.append(json.loads(slot["json"].read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise RecordError(f"{slot['json']}: unreadable addendum ({e}); check the record "
                              "with `hullwatch verify`") from e
    return documents


def check_addenda(record_dir: Path, manifest_data: bytes) -> tuple[list[str], int]:
    """(problems, addenda checked): signatures, numbering and the previous_sha256 chain."""
    record_dir = Path(record_dir)
    folder = record_dir / ADDENDA_DIR
    problems: list[str] = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if not _ADDENDUM_RE.match(path.name):
            problems.append(f"{ADDENDA_DIR}/{path.name} is not an addendum (unexpected file)")
    found = _addendum_files(record_dir)
    previous_sha = hashlib.sha256(manifest_data).hexdigest()
    previous_ok, checked = True, 0
    for seq in range(1, max(found, default=0) + 1):
        slot = found.get(seq, {})
        for dup in (name for name in slot if name.startswith("dup:")):
            problems.append(f"addendum {seq} appears twice ({ADDENDA_DIR}/{dup[4:]} added)")
        if "json" not in slot:
            problems.append(f"addendum {seq} removed")
            previous_ok = False
            continue
        checked += 1
        try:
            data = slot["json"].read_bytes()
        except OSError as e:
            problems.append(f"addendum {seq} unreadable ({e.strerror or e})")
            previous_ok = False
            continue
        altered = _addendum_problem(seq, slot, data)
        if altered:
            problems.append(altered)
        elif previous_ok and json.loads(data).get("previous_sha256") != previous_sha:
            what = "manifest.json" if seq == 1 else f"addendum {seq - 1}"
            problems.append(f"addendum {seq} does not follow {what} (its previous_sha256 differs)")
        previous_sha, previous_ok = hashlib.sha256(data).hexdigest(), not altered
    return problems, checked


def _addendum_problem(seq: int, slot: dict[str, Path], data: bytes) -> str | None:
    if "sig" not in slot:
        return f"addendum {seq} unsigned ({ADDENDA_DIR}/{slot['json'].with_suffix('.sig').name} missing)"
    try:
        document = json.loads(data)
        signature = base64.b64decode(slot["sig"].read_bytes().strip(), validate=True)
        public_key_b64 = document["signer"]["public_key_b64"]
    except (ValueError, KeyError, TypeError):
        return f"addendum {seq} altered (unreadable or unsigned content)"
    if not verify_signature(public_key_b64, data, signature):
        return f"addendum {seq} altered (its signature does not match)"
    if document.get("seq") != seq or f"_{document.get('kind')}." not in slot["json"].name:
        return f"addendum {seq} renamed (it was signed as addendum {document.get('seq')})"
    return None
