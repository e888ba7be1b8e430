"""Qt hooks for measuring the window from outside it (bench/bench_gui.py).

DESIGN keeps every Qt import in app/; the benchmark keeps its arithmetic and calls these.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget


def application() -> QApplication:
    return QApplication.instance() or QApplication(sys.argv[:1])


def ini_settings(path: Path) -> QSettings:
    """Settings in a file of their own, so a measurement never reads or writes the user's."""
    return QSettings(str(path), QSettings.IniFormat)


def precise_single_shot(slot: Callable[[], None]) -> QTimer:
    """A single-shot PreciseTimer: re-armed in its own slot it measures each tick's lateness,
    where a repeating timer would catch up after a late tick and hide half of it."""
    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.setSingleShot(True)
    timer.timeout.connect(slot)
    return timer


def repeating(interval_ms: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer()
    timer.timeout.connect(slot)
    timer.start(interval_ms)
    return timer


def single_shot(delay_ms: int, slot: Callable[[], None]) -> None:
    QTimer.singleShot(delay_ms, slot)


class PaintWatch(QObject):
    """Calls on_paint() for every paint event of the widget; a child of the widget, so it
    lives as long as the widget does."""

    def __init__(self, widget: QWidget, on_paint: Callable[[], None]):
        super().__init__(widget)
        self._on_paint = on_paint
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Paint:
            self._on_paint()
        return False


def run_for(seconds: float) -> None:
    """Run the event loop for a time (the caller's loop keeps serving the window)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
