"""Blocking work (vehicle commands, exports, plans) off the GUI thread, with the result
delivered back on the GUI thread as a Qt signal.

A widget never waits: it calls run_task(fn, ...), which runs fn on a worker (the vehicle's
own executor for vehicle commands, otherwise a small shared pool), and gets finished(value)
or failed(message) later. Signals emitted from a worker thread reach a receiver living on
the GUI thread through Qt's queued connection, so slots always run on the GUI thread.
"""
from __future__ import annotations

import concurrent.futures
import threading

from PySide6.QtCore import QObject, Signal

_POOL_WORKERS = 2
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _shared_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=_POOL_WORKERS, thread_name_prefix="gui-task")
        return _pool


class Task(QObject):
    """One piece of work. finished(object) carries fn's return value, failed(str) the
    error's message (a user-facing one: our errors name the cause and what to do).
    progress(float, str) is for work that reports it (fn gets the task as `task=`
    when report_progress=True); cancel() sets `cancelled`, which such work checks."""

    finished = Signal(object)
    failed = Signal(str)
    progress = Signal(float, str)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.cancelled = threading.Event()
        self.future: concurrent.futures.Future | None = None

    def cancel(self) -> None:
        self.cancelled.set()
        if self.future is not None:
            self.future.cancel()

    def report(self, fraction: float, text: str = "") -> None:
        """Called by the work, from its thread."""
        self.progress.emit(float(fraction), text)

    def _done(self, future: concurrent.futures.Future) -> None:
        try:
            if future.cancelled():
                self.failed.emit(f"{self.name}: cancelled")
                return
            exc = future.exception()
            if exc is None:
                self.finished.emit(future.result())
            else:
                text = str(exc) or type(exc).__name__
                self.failed.emit(f"{self.name}: {text}")
        except RuntimeError:
            pass  # the widget that owned the task was closed meanwhile: nobody is left to tell
        finally:
            self.future = _settled(future)


def _settled(future: concurrent.futures.Future) -> concurrent.futures.Future:
    """A done future without the result. The real one holds this task's _done callback, so
    task -> future -> callback -> task is a cycle that only a full garbage collection frees,
    rare in a large process: every finished task kept its result (e.g. a 2 MB image per hull
    expansion drawing, bench_gui --tracemalloc) until then."""
    placeholder: concurrent.futures.Future = concurrent.futures.Future()
    if future.cancelled():
        placeholder.cancel()
    else:
        placeholder.set_result(None)
    return placeholder


def run_task(name: str, fn, *args, executor=None, report_progress: bool = False, parent: QObject | None = None,
             on_done=None, on_error=None, **kwargs) -> Task:
    """Start fn(*args, **kwargs) on `executor` (a concurrent.futures executor, or an
    object with submit(), such as vehicle.Vehicle) or the shared pool; returns the Task
    whose signals report the outcome. on_done/on_error are connected before the start."""
    task = Task(name, parent)
    if on_done is not None:
        task.finished.connect(on_done)
    if on_error is not None:
        task.failed.connect(on_error)
    if report_progress:
        kwargs["task"] = task
    submit = (executor or _shared_pool()).submit
    task.future = submit(fn, *args, **kwargs)
    task.future.add_done_callback(task._done)
    return task
