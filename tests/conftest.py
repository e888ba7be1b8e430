"""Every test run keeps HullWatch's per-user files (mission records, the installation's
signing key) in its own temporary folders, never in the user's home."""
from __future__ import annotations

import os
import tempfile


def pytest_configure(config) -> None:
    base = tempfile.mkdtemp(prefix="hullwatch-tests-")
    os.environ.setdefault("HULLWATCH_RECORDS", os.path.join(base, "records"))
    os.environ.setdefault("HULLWATCH_KEY_DIR", os.path.join(base, "keys"))
