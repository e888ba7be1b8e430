"""Workers yield the CPU to the GUI thread; the pilot's controls and the link do not."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from app.thread_priority import WORKER_NICE, favour_gui_thread


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_workers_are_lowered_and_the_pilot_and_gui_are_not():
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="detect-camera", daemon=True)
    pilot = threading.Thread(target=stop.wait, name="gamepad pilot", daemon=True)
    worker.start()
    pilot.start()
    try:
        before_gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert favour_gui_thread() >= 1
        assert os.getpriority(os.PRIO_PROCESS, worker.native_id) == WORKER_NICE
        assert os.getpriority(os.PRIO_PROCESS, pilot.native_id) == before_gui
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before_gui
        assert favour_gui_thread() == 0 or os.getpriority(os.PRIO_PROCESS, worker.native_id) == WORKER_NICE
    finally:
        stop.set()
        worker.join(2)
        pilot.join(2)
