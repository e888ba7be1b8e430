"""One line of telemetry per second for the headless station."""
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
