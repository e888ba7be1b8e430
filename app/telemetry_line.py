"""Telemetry as text: one line per second for the headless station, and the video overlay's
line (the live window and the replay show the same)."""
from __future__ import annotations


def _f(value, fmt: str, missing: str = "-") -> str:
    return missing if value is None else format(value, fmt)


def telemetry_line(state, loss_pct: float, now_s: float) -> str:
    age = state.heartbeat_age_s(now_s)
    parts = [
        f"{state.mode or '?':<9}",
        "ARMED  " if state.armed else "disarmd",
        f"depth {_f(state.depth_m, '6.2f')} m",
        f"hdg {_f(state.heading_deg, '5.1f')}°",
        f"roll {state.attitude.roll_deg:5.1f}° pitch {state.attitude.pitch_deg:5.1f}°",
        f"batt {_f(state.battery.voltage_v, '5.2f')} V {_f(state.battery.remaining_pct, '3.0f')}%",
        f"dist {_f(state.distance.distance_m if state.distance else None, '5.2f')} m",
        f"link {'OK' if state.link_ok else 'LOST'} hb {_f(age, '4.1f')} s loss {loss_pct:4.1f}%",
    ]
    lights = state.lights1
    if lights is not None:
        parts.append(f"lights {lights * 100:3.0f}%")
    if state.failsafes.any:
        active = [k for k in ("leak", "gcs", "pilot_input", "battery", "ekf") if getattr(state.failsafes, k)]
        parts.append("FAILSAFE " + ",".join(active).upper())
    return " | ".join(parts)


def forward_standoff_m(state) -> float | None:
    """The forward distance sensor's reading when it is within its range, else None."""
    d = state.distance
    return d.distance_m if d is not None and d.orientation == 0 and d.min_m < d.distance_m < d.max_m else None


def overlay_line(state, standoff_m: float | None) -> str:
    """The video overlay's telemetry line."""
    off = f"{standoff_m:.1f} m" if standoff_m is not None else "—"
    return (f"depth {_f(state.depth_m, '.2f', '—')}{' m' if state.depth_m is not None else ''}  "
            f"hdg {_f(state.heading_deg, '03.0f', '—')}  standoff {off}  "
            f"{state.mode or ''}{' ARMED' if state.armed else ''}")
