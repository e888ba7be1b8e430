"""Keep the GUI thread first in line for a core.

On a laptop the station's workers (the embedded world's renderers and encoder, the
detectors, the hull map) can keep every core busy; the GUI thread then waits in the run
queue and the window stutters (bench/bench_gui.py: most of its lateness was run-queue
wait, not its own work). Workers run a few nice levels lower, so the scheduler prefers
the GUI thread whenever it is runnable; they still get every cycle the GUI leaves.

Linux: a thread's nice value is per thread (setpriority on its TID). Raising niceness
needs no privilege. Elsewhere this does nothing. New threads appear during a mission, so
the window calls favour_gui_thread() again from time to time.
"""
from __future__ import annotations

import os
import sys
import threading

WORKER_NICE = 15  # the GUI thread wins a core at once when it wakes; workers still get every cycle it leaves
SWITCH_INTERVAL_S = 0.002  # how soon a thread holding the GIL hands it over (Python's default: 5 ms)


# the pilot's controls stay at full priority: the sticks (25 Hz MANUAL_CONTROL) and the link
KEEP_PREFIXES = ("gamepad pilot", "manual control", "link ", "vehicle supervisor", "vehicle-cmd")


def favour_gui_thread(nice: int = WORKER_NICE) -> int:
    """Lower every other thread of this process to `nice` (never raises one that is
    already lower), except the pilot's controls and the link; returns how many threads
    were changed. Call on the GUI thread."""
    if sys.platform != "linux" or not hasattr(os, "setpriority"):
        return 0
    gui_tid = threading.get_native_id()
    keep = {t.native_id for t in threading.enumerate() if t.name.startswith(KEEP_PREFIXES)}
    changed = 0
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return 0
    for tid in tids:
        if tid == gui_tid or tid in keep:
            continue
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
                changed += 1
        except OSError:  # the thread ended meanwhile, or the OS refuses: nothing to do
            continue
    return changed


def prefer_gui_in_gil() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
