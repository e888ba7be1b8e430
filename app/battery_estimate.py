"""Time left on the battery, from how fast it has been draining over the last minutes.

ArduSub reports remaining % in whole percent, a staircase: a straight line fitted through
the stairs is off by up to a step, which early on is tens of percent of the drop seen. The
moments the percentage changes are exact, though (the value crosses a half percent there),
so the estimator fits lines through those steps only. Consumed mAh (BATTERY_STATUS) is
fine-grained, so when it is there the drain rate is its slope over the last minutes and
the steps only supply the scale (% per mAh, fitted over the whole history: no assumption
that the pack was full at boot). Without consumed mAh the estimator integrates the current
itself; with neither it fits the steps against time.

Pure Python, no Qt: the instruments panel feeds it and asks time_left_s() about once a
second.
"""
from __future__ import annotations

import collections
import math

SAMPLE_INTERVAL_S = 1.0  # one rate sample a second: telemetry comes faster, the drain is slow
RATE_WINDOW_S = 180.0  # the drain rate over the last 3 minutes rides out thruster bursts
PCT_WINDOW_S = 600.0  # percent alone needs a longer look to see several 1 % steps
HISTORY_S = 3600.0  # the % per mAh scale is fitted over this much history
MIN_SPAN_S = 30.0  # no rate from less history than this
MIN_SAMPLES = 5
MIN_STEP_SPAN_PCT = 1.0  # the steps fitted must span at least this many percent
RESET_PCT_RISE = 5.0  # a jump up this large is a fresh pack (or a reboot): start over
RESET_MAH_DROP = 10.0  # consumed mAh only grows; falling this much is a reboot (smaller is jitter)
MAX_STEPS = 4000  # a percentage bouncing on a noisy voltage must not grow the fit without bound
MAX_TIME_LEFT_S = 48 * 3600.0  # beyond this the drain is too small to mean anything


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) of ys against xs; None when xs do not vary."""
    n = len(xs)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0.0:
        return None
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return k, my - k * mx


class BatteryEstimator:
    """add() telemetry samples in time order; time_left_s() is None until there is enough
    history to say, and otherwise a finite, non-negative number of seconds."""

    def __init__(self) -> None:
        self._rate: collections.deque[tuple[float, float]] = collections.deque()  # (t_s, mAh)
        # (t_s, mAh, %) where the percentage changed
        self._steps: collections.deque[tuple[float, float | None, float]] = collections.deque(maxlen=MAX_STEPS)
        self._last: tuple[float, float | None, float | None] | None = None  # (t_s, %, mAh) of the last add
        self._own_mah: float | None = None  # integrated from the current when no mAh comes
        self._last_current: tuple[float, float] | None = None  # (t_s, A)
        self._vehicle_mah = False  # the vehicle has sent consumed mAh

    def reset(self) -> None:
        self._rate.clear()
        self._steps.clear()
        self._last = None
        self._own_mah = None
        self._last_current = None
        self._vehicle_mah = False

    def add(self, t_s: float, remaining_pct: float | None, consumed_mah: float | None,
            current_a: float | None) -> None:
        if not _finite(t_s):
            return
        pct = float(remaining_pct) if _finite(remaining_pct) else None
        consumed = float(consumed_mah) if _finite(consumed_mah) else None
        current = float(current_a) if _finite(current_a) else None
        if self._last is not None and t_s < self._last[0]:
            self.reset()  # the clock went back: a replay was restarted
        mah = self._mah(consumed, t_s, current)
        last = self._last
        if last is not None and ((pct is not None and last[1] is not None and pct - last[1] >= RESET_PCT_RISE)
                                 or (mah is not None and last[2] is not None and mah < last[2] - RESET_MAH_DROP)):
            self.reset()  # a fresh pack or an autopilot reboot: the old history says nothing
            mah = self._mah(consumed, t_s, current)
            last = None
        if last is not None and pct is not None and last[1] is not None and pct != last[1]:
            # the true value crossed the middle between the two readings somewhere in between
            mid_mah = None if mah is None or last[2] is None else (mah + last[2]) / 2.0
            self._steps.append(((t_s + last[0]) / 2.0, mid_mah, (pct + last[1]) / 2.0))
            while t_s - self._steps[0][0] > HISTORY_S:
                self._steps.popleft()
        self._last = (t_s, pct if pct is not None else (last[1] if last else None), mah)
        if mah is not None and (not self._rate or t_s - self._rate[-1][0] >= SAMPLE_INTERVAL_S):
            self._rate.append((t_s, mah))
            while t_s - self._rate[0][0] > RATE_WINDOW_S:
                self._rate.popleft()

    def _mah(self, consumed: float | None, t_s: float, current: float | None) -> float | None:
        if consumed is not None:
            self._vehicle_mah = True
        if self._vehicle_mah:
            return consumed  # a gap in the vehicle's count is a gap, not a switch to our own
        return self._integrate(t_s, current)

    def _integrate(self, t_s: float, current_a: float | None) -> float | None:
        if current_a is None:
            return None
        if self._own_mah is None or self._last_current is None:
            self._own_mah = 0.0
        else:
            t0, i0 = self._last_current
            self._own_mah += max(0.0, (i0 + current_a) / 2.0) * max(0.0, t_s - t0) / 3.6  # A*s -> mAh
        self._last_current = (t_s, current_a)
        return self._own_mah

    def time_left_s(self) -> float | None:
        if self._last is None:
            return None
        left = self._from_mah()
        if left is None:
            left = self._from_pct()
        if left is None or not _finite(left) or left > MAX_TIME_LEFT_S:
            return None
        return max(0.0, left)

    def _from_mah(self) -> float | None:
        t_now, _, mah_now = self._last
        rate = list(self._rate)
        steps = [(m, p) for _, m, p in self._steps if m is not None]
        if mah_now is None or len(rate) < MIN_SAMPLES or rate[-1][0] - rate[0][0] < MIN_SPAN_S or not _spans(steps):
            return None
        drain = _fit([t for t, _ in rate], [m for _, m in rate])  # mAh per second
        scale = _fit([m for m, _ in steps], [p for _, p in steps])  # % per mAh, negative while draining
        if drain is None or scale is None or drain[0] <= 0.0 or scale[0] >= 0.0:
            return None
        pct_now = min(100.0, max(0.0, scale[1] + scale[0] * mah_now))
        return pct_now / (-scale[0] * drain[0])

    def _from_pct(self) -> float | None:
        t_now = self._last[0]
        steps = [(t, p) for t, _, p in self._steps if t_now - t <= PCT_WINDOW_S]
        if not _spans(steps) or steps[-1][0] - steps[0][0] < MIN_SPAN_S:
            return None
        fit = _fit([t for t, _ in steps], [p for _, p in steps])  # % per second
        if fit is None or fit[0] >= 0.0:
            return None
        pct_now = min(100.0, max(0.0, fit[1] + fit[0] * t_now))
        return pct_now / -fit[0]


def _spans(steps) -> bool:
    return len(steps) >= 2 and max(p for _, p in steps) - min(p for _, p in steps) >= MIN_STEP_SPAN_PCT


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)
