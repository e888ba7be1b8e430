"""Writes resources/sounds/alarm.wav: the alert the alarms panel plays on a new finding.

Two alternating tones (high/low, like a marine alarm, easier to notice over pump noise
than one pitch), 0.6 s, 16-bit mono 22.05 kHz. Run once; the result is committed.
Usage: python scripts/make_alarm_sound.py [OUTPUT.wav]
"""
from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np

RATE_HZ = 22050
DURATION_S = 0.6
TONES_HZ = (880.0, 660.0)  # alternating every SEGMENT_S
SEGMENT_S = 0.15
FADE_S = 0.005  # ramps at each tone change: no clicks
LEVEL = 0.6  # of full scale: loud, with headroom


def alert_samples() -> np.ndarray:
    n = int(RATE_HZ * DURATION_S)
    t = np.arange(n) / RATE_HZ
    segment = (t // SEGMENT_S).astype(int)
    freq = np.where(segment % 2 == 0, TONES_HZ[0], TONES_HZ[1])
    # integrate the frequency so the phase stays continuous across tone changes
    phase = 2 * np.pi * np.cumsum(freq) / RATE_HZ
    signal = np.sin(phase)
    pos_in_seg = t - segment * SEGMENT_S
    ramp = np.minimum(1.0, np.minimum(pos_in_seg, SEGMENT_S - pos_in_seg) / FADE_S)
    return (np.clip(signal * np.clip(ramp, 0.0, 1.0) * LEVEL, -1, 1) * 32767).astype("<i2")


def write_wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(alert_samples().tobytes())


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "resources" / "sounds" / "alarm.wav"
    write_wav(out)
    print(f"wrote {out}")
