"""The per-installation Ed25519 key that signs record manifests and addenda.

    <key_dir>/ed25519.pem   private key (PKCS#8 PEM, mode 0600, created once, atomically)
    <key_dir>/ed25519.pub   public key (base64 of the 32 raw bytes), for people to compare

key_dir: $HULLWATCH_KEY_DIR, else $XDG_DATA_HOME/hullwatch/keys, else
~/.local/share/hullwatch/keys (%LOCALAPPDATA%\\HullWatch\\keys on Windows).
A signature proves the signed bytes are unchanged since signing with that key; whether the
key is one you trust (this installation's, or a known team laptop's) is a separate question,
answered by comparing key ids.
"""
from __future__ import annotations

import base64
import hashlib
import os
import sys
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import RecordError

__all__ = ["InstallationKey", "default_key_dir", "key_id_of", "verify_signature"]

PRIVATE_NAME = "ed25519.pem"
PUBLIC_NAME = "ed25519.pub"


def default_key_dir() -> Path:
    env = os.environ.get("HULLWATCH_KEY_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "HullWatch" / "keys"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "hullwatch" / "keys"


def key_id_of(raw_public_key: bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw public key: short enough to read aloud."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_signature(public_key_b64: str, data: bytes, signature: bytes) -> bool:
    """True only for a valid Ed25519 signature of `data`; any malformed input is False."""
    try:
        raw = base64.b64decode(public_key_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


class InstallationKey:
    """This installation's signing key. Immutable after loading; safe to share."""

    def __init__(self, private_key: Ed25519PrivateKey, path: Path):
        self._private = private_key
        self.path = path
        raw = _raw_public(private_key.public_key())
        self.public_key_b64 = base64.b64encode(raw).decode("ascii")
        self.key_id = key_id_of(raw)

    @classmethod
    def load_or_create(cls, key_dir: Path | None = None) -> "InstallationKey":
        key_dir = Path(key_dir) if key_dir is not None else default_key_dir()
        pem_path = key_dir / PRIVATE_NAME
        if not pem_path.exists():
            cls._create(key_dir, pem_path)
        try:
            private = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
        except OSError as e:
            raise RecordError(f"{pem_path}: cannot read the signing key ({e}); check the file's "
                              "permissions") from e
        except (ValueError, TypeError) as e:
            raise RecordError(
                f"{pem_path}: the signing key is corrupt ({e}); move the file away (keep it: "
                "records signed with it can still be checked against its ed25519.pub) and a new "
                "key will be created; records signed with the old key will then show "
                "\"signed by an unknown key\"") from e
        if not isinstance(private, Ed25519PrivateKey):
            raise RecordError(f"{pem_path}: not an Ed25519 key; move the file away and a new "
                              "key will be created")
        key = cls(private, pem_path)
        key._write_public(key_dir / PUBLIC_NAME)
        return key

    @staticmethod
    def _create(key_dir: Path, pem_path: Path) -> None:
        """Write a new key so that no other process ever sees half a file: a 0600 temp file,
        fsync, then a hard link that fails if another process created the key first."""
        try:
            key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())
            fd, tmp = tempfile.mkstemp(dir=key_dir, prefix=".ed25519.", suffix=".tmp")
            try:
                os.chmod(tmp, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(pem)
                    f.flush()
                    os.fsync(f.fileno())
                try:
                    os.link(tmp, pem_path)
                except FileExistsError:
                    pass  # another HullWatch created it at the same moment: use theirs
            finally:
                os.unlink(tmp)
        except OSError as e:
            raise RecordError(f"{pem_path}: cannot create the signing key ({e}); check that "
                              f"{key_dir} is writable or set HULLWATCH_KEY_DIR") from e

    def _write_public(self, pub_path: Path) -> None:
        text = self.public_key_b64 + "\n"
        try:
            if pub_path.is_file() and pub_path.read_text(encoding="ascii", errors="replace") == text:
                return
            tmp = pub_path.with_name(f".{pub_path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="ascii")
            os.replace(tmp, pub_path)
        except OSError:
            pass  # the .pub is a convenience copy; the key itself is fine

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def __repr__(self) -> str:
        return f"InstallationKey(key_id={self.key_id!r}, path={str(self.path)!r})"
