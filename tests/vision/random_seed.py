"""The seed a randomised test draws per run, so that each run checks another world; set
HULLWATCH_TEST_SEED to replay a failing run (the failure message names its seed)."""
from __future__ import annotations

import os
import secrets


def random_test_seed() -> int:
    return int(os.environ.get("HULLWATCH_TEST_SEED") or secrets.randbelow(10_000))
