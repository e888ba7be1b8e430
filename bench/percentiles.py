"""Shared by the benchmark scripts: the summary of a list of timings or errors."""
from __future__ import annotations

import numpy as np


def pct(values) -> dict:
    """n, p50, p95 and max of the values (None for each when there are none)."""
    v = np.asarray(values, float)
    if not len(v):
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {"n": int(len(v)), "p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95)),
            "max": float(v.max())}
