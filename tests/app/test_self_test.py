"""`hullwatch --self-test` in process (the bundle runs the same in tests/installer)."""
from __future__ import annotations

import time

STEPS = ("models", "vehicle", "libraries", "qt")


def test_self_test_passes_in_process():
    from PySide6.QtWidgets import QApplication

    from app.self_test import run_self_test

    before = QApplication.instance()
    lines: list[str] = []
    t0 = time.monotonic()
    code = run_self_test(log=lines.append)
    elapsed_s = time.monotonic() - t0
    text = "\n".join(lines)
    assert code == 0, text
    for step in STEPS:
        assert any(line.startswith(f"self-test: {step}: ok (") for line in lines), text
    assert "camera model boxed container" in text and "parasitic_container" in text
    assert "SUBMARINE ARDUPILOTMEGA discovered" in text and "link OK" in text
    assert lines[-1].startswith("self-test: passed")
    assert elapsed_s < 60.0
    # the Qt check leaves the process as it found it: a window can still be opened afterwards
    assert QApplication.instance() is before
