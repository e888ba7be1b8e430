"""Scripted manoeuvres built from the pilot's own controls (used by `connect --dive-to`).

A dive in ALT_HOLD is flown the way a pilot flies it: throttle down until near the
target, then neutral sticks so ArduSub's depth hold takes over. In GUIDED the depth
target is sent instead.
"""
from __future__ import annotations

import time
from typing import Callable

from .ardusub import SubMode
from .errors import CommandTimeout, VehicleError

DIVE_GAIN_PER_M = 400.0  # throttle offset per metre of depth error
DIVE_MAX_OFFSET = 400  # at most 80% throttle down/up
NEUTRAL_BAND_M = 0.1  # close enough to let depth hold take over


def dive_to(vehicle, depth_m: float, *, tolerance_m: float = 0.3, settle_s: float = 3.0,
            timeout_s: float = 120.0, tick: Callable[[], None] | None = None) -> float:
    """Descend (or ascend) to depth_m and hold it within tolerance_m for settle_s seconds.

    The vehicle must be armed and in ALT_HOLD (or GUIDED). Returns the depth held.
    Raises VehicleError naming what went wrong (disarmed, mode changed, timeout).
    """
    state = vehicle.state
    if not state.armed:
        raise VehicleError("cannot dive: the vehicle is disarmed (arm it first, e.g. --arm)")
    guided = state.custom_mode == SubMode.GUIDED
    if not guided and state.custom_mode != SubMode.ALT_HOLD:
        raise VehicleError(f"cannot dive in {state.mode}: switch to ALT_HOLD (depth hold) or GUIDED first")
    deadline = time.monotonic() + timeout_s
    held_since: float | None = None
    if guided:
        vehicle.set_depth_target(depth_m)
    try:
        while True:
            now = time.monotonic()
            s = vehicle.state
            if not s.armed:
                raise VehicleError(f"the vehicle disarmed during the dive at {s.depth_m or 0:.2f} m"
                                   + (f" ({s.failsafes.last_text})" if s.failsafes.last_text else ""))
            if s.custom_mode not in (SubMode.ALT_HOLD, SubMode.GUIDED):
                raise VehicleError(f"the vehicle left depth hold (now {s.mode}) during the dive")
            if not s.link_ok:
                raise VehicleError("lost the vehicle's heartbeat during the dive")
            depth = s.depth_m
            if depth is None:
                if now > deadline:
                    raise VehicleError("the vehicle reports no depth (no VFR_HUD/GLOBAL_POSITION_INT)")
                z = 500
            else:
                error = depth_m - depth
                if abs(error) <= min(NEUTRAL_BAND_M, tolerance_m * 0.5):
                    z = 500  # neutral: ArduSub holds the depth it is at
                else:
                    offset = max(-DIVE_MAX_OFFSET, min(DIVE_MAX_OFFSET, error * DIVE_GAIN_PER_M))
                    # small errors still need enough throttle to beat the dead zone
                    if abs(offset) < 120:
                        offset = 120 if offset > 0 else -120
                    z = 500 - offset
                if abs(error) <= tolerance_m:
                    held_since = held_since or now
                    if now - held_since >= settle_s:
                        return depth
                else:
                    held_since = None
            if not guided:
                vehicle.manual.set_input(z=z)
            if now > deadline:
                raise CommandTimeout(f"dive to {depth_m:.1f} m (at {depth if depth is not None else float('nan'):.2f} m)",
                                     1, timeout_s)
            if tick is not None:
                tick()
            time.sleep(0.04)
    finally:
        if not guided and vehicle.state.armed:
            vehicle.manual.set_input()  # neutral: hold here
