"""The audible part of an alarm: the alert tone, repeated until someone acknowledges.

QSoundEffect plays resources/sounds/alarm.wav when the station has an audio output; a
station without one (a ruggedised laptop with its speakers off, a headless test) gets the
system beep instead, and the panel says so once rather than going silent.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtWidgets import QApplication

from resources import resource_path

log = logging.getLogger(__name__)

SOUND_FILE = resource_path("sounds", "alarm.wav")


def audio_server_present() -> bool:
    """Whether Linux has a sound server to play through. Without one, Qt Multimedia's
    probing blocks the GUI thread while its audio thread logs a warning, which deadlocks
    when a Python Qt message handler (pytest-qt's) needs the GIL the GUI thread holds;
    and there is nothing to play on anyway. Other systems always have their audio API."""
    import os
    import sys
    from pathlib import Path

    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}")
    return (runtime / "pulse" / "native").exists() or (runtime / "pipewire-0").exists()
ALERT_REPEAT_MS = 2500  # the 0.6 s tone, then a pause, until acknowledged


class AlarmSound(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.mode = "none"  # "sound" (QSoundEffect) or "beep" (no audio output), once first played
        self.reason = ""  # why there is no sound, for the panel's tooltip
        self._effect = None
        self._repeat = QTimer(self, interval=ALERT_REPEAT_MS)
        self._repeat.timeout.connect(self._play_once)
        # finding the audio output (QtMultimedia, PulseAudio) takes 60-300 ms: do it as the
        # window opens, not when the first alarm needs the GUI thread to react at once
        QTimer.singleShot(0, self._choose_output_once)

    def _choose_output_once(self) -> None:
        if self.mode == "none":
            self._choose_output()

    @property
    def active(self) -> bool:
        return self._repeat.isActive()

    def start(self) -> None:
        """Play now and every ALERT_REPEAT_MS until stop()."""
        self._play_once()
        self._repeat.start()

    def stop(self) -> None:
        self._repeat.stop()
        if self._effect is not None:
            self._effect.stop()

    def _play_once(self) -> None:
        if self.mode == "none":
            self._choose_output()
        if self.mode == "sound":
            self._effect.play()
        else:
            QApplication.beep()

    def _choose_output(self) -> None:
        if not audio_server_present():
            self.reason = "no sound server (PulseAudio/PipeWire) is running"
            self.mode = "beep"
            log.info("alarm sound: %s; using the system beep", self.reason)
            return
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

            if not QMediaDevices.audioOutputs():
                self.reason = "no audio output device"
            elif not SOUND_FILE.exists():
                self.reason = f"{SOUND_FILE} is missing"
            else:
                self._effect = QSoundEffect(self)
                self._effect.setSource(QUrl.fromLocalFile(str(SOUND_FILE)))
                self._effect.setVolume(1.0)
        except ImportError as exc:
            self.reason = f"Qt multimedia unavailable ({exc})"
        self.mode = "beep" if self.reason else "sound"
        if self.reason:
            log.info("alarm sound: %s; using the system beep", self.reason)
