"""Tasks run off the GUI thread and report on it; a finished task lets its result go."""
from __future__ import annotations

import gc
import threading
import weakref

import numpy as np

from app.qt_tasks import run_task


class _Result:
    def __init__(self):
        self.image = np.zeros((480, 640, 3), np.uint8)


def test_a_task_reports_on_the_gui_thread_and_keeps_no_result_once_done(qtbot):
    gui = threading.get_ident()
    got = []
    task = run_task("make", lambda: (threading.get_ident(), _Result()), on_done=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    worker_thread, result = got[0]
    assert worker_thread != gui
    assert task.future.done() and not task.future.cancelled()
    ref = weakref.ref(result)
    got.clear()
    del result
    gc.disable()  # freed by reference counting alone, not by a collection that may come much later
    try:
        assert ref() is None, "the finished task (or its future) still holds the result"
    finally:
        gc.enable()


def test_a_failing_task_reports_its_message(qtbot):
    def fail():
        raise ValueError("the hull file is corrupt: load another")

    errors = []
    task = run_task("load", fail, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert errors == ["load: the hull file is corrupt: load another"]
    assert task.future.done()
