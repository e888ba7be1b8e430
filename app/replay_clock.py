"""The replay's one timeline: where playback is (UTC s) and how it moves. Pure arithmetic on
an injectable monotonic clock, so it is exact in tests and cheap to ask at every repaint; no
timer of its own (the window polls t_s). Not thread-safe: one thread (the GUI's) drives it."""
from __future__ import annotations

import time

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class ReplayClock:
    def __init__(self, t_start_s: float, t_end_s: float, monotonic=time.monotonic) -> None:
        if not t_end_s >= t_start_s:
            raise ValueError(f"the replay ends ({t_end_s}) before it starts ({t_start_s})")
        self.t_start_s, self.t_end_s = float(t_start_s), float(t_end_s)
        self._mono = monotonic
        self._anchor_t_s = self.t_start_s  # position when the clock was last re-anchored
        self._anchor_mono = monotonic()
        self._playing, self._speed, self._reverse = False, 1.0, False

    @property
    def playing(self) -> bool:
        self._settle()
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def reverse(self) -> bool:
        return self._reverse

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def t_s(self) -> float:
        """The position now; reaching either end while playing pauses there."""
        self._settle()
        return self._anchor_t_s if not self._playing else self._running()

    def _running(self) -> float:
        sign = -1.0 if self._reverse else 1.0
        return self._anchor_t_s + sign * self._speed * (self._mono() - self._anchor_mono)

    def _settle(self) -> None:
        if self._playing:
            t = self._running()
            if self._at_stop(t):
                self._playing = False
                self._anchor(t)

    def _at_stop(self, t_s: float) -> bool:
        """At (or past) the end that playback is heading for."""
        return t_s <= self.t_start_s if self._reverse else t_s >= self.t_end_s

    def _anchor(self, t_s: float) -> None:
        self._anchor_t_s = min(max(float(t_s), self.t_start_s), self.t_end_s)
        self._anchor_mono = self._mono()

    def play(self) -> None:
        """Play from here; at the end going forward (or the start in reverse) there is nothing
        to play, so it stays paused."""
        t = self.t_s
        if not self._playing and not self._at_stop(t):
            self._anchor(t)
            self._playing = True

    def pause(self) -> None:
        t = self.t_s
        self._playing = False
        self._anchor(t)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, x: float) -> None:
        if x not in SPEEDS:
            raise ValueError(f"replay speed {x!r} is not one of {', '.join(f'{s:g}x' for s in SPEEDS)}")
        self._anchor(self.t_s)  # the position carries on from where it is now
        self._speed = float(x)

    def faster(self) -> float:
        """The next speed up (stays at the top); returns it."""
        i = SPEEDS.index(self._speed)
        self.set_speed(SPEEDS[min(i + 1, len(SPEEDS) - 1)])
        return self._speed

    def slower(self) -> float:
        i = SPEEDS.index(self._speed)
        self.set_speed(SPEEDS[max(i - 1, 0)])
        return self._speed

    def set_reverse(self, flag: bool) -> None:
        self._anchor(self.t_s)
        self._reverse = bool(flag)
        if self._playing and self._at_stop(self._anchor_t_s):
            self._playing = False

    def seek(self, t_s: float) -> None:
        """Jump to t_s (clamped to the span); playing goes on from there."""
        self._settle()
        self._anchor(t_s)
        if self._playing and self._at_stop(self._anchor_t_s):
            self._playing = False

    def step(self, delta_s: float) -> None:
        """Pause and move by delta_s (negative: back)."""
        t = self.t_s
        self._playing = False
        self._anchor(t + float(delta_s))
