"""Files written whole or not at all: a temp file beside the target, flushed to disk, then
renamed over it, so a crash or a full disk never leaves half a model card or report."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path, doc) -> None:
    write_bytes_atomic(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
