"""QGC WPL 110 waypoint files (Mission Planner's `.waypoints` / `.txt`).

    QGC WPL 110
    <index> <current> <frame> <command> <p1> <p2> <p3> <p4> <x> <y> <z> <autocontinue>

Line 1 after the header is home (index 0). x/y are latitude/longitude in degrees for
global frames (metres for local frames), z metres. Reading tolerates CRLF or LF, blank
lines, `#` comments, and any mix of tabs and spaces; a bad line raises PlanFileError
naming its line number. Writing uses tabs, CRLF (as Mission Planner does) and shortest
round-trip floats, so a save/load cycle returns the same items.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Sequence

from . import mavlink_ids as ids
from .mission_items import MissionItemSpec
from .plan_file import PlanFileError, atomic_write_bytes

__all__ = ["HEADER", "load_wpl", "save_wpl", "wpl_text", "parse_wpl"]

HEADER = "QGC WPL 110"
_HEADER_RE = re.compile(r"^QGC\s+WPL\s+(\d+)$")


def _int_field(s: str, what: str, lineno: int) -> int:
    try:
        f = float(s)
    except ValueError:
        raise PlanFileError(f"line {lineno}: {what} {s!r} is not a number") from None
    if not f.is_integer():
        raise PlanFileError(f"line {lineno}: {what} {s!r} is not an integer")
    return int(f)


def _float_field(s: str, what: str, lineno: int) -> float:
    try:
        return float(s)
    except ValueError:
        raise PlanFileError(f"line {lineno}: {what} {s!r} is not a number") from None


def parse_wpl(text: str) -> list[MissionItemSpec]:
    """Items of a WPL text (see the module docstring)."""
    items: list[MissionItemSpec] = []
    header_seen = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if not header_seen:
            m = _HEADER_RE.match(line)
            if not m:
                raise PlanFileError(f"line {lineno}: expected the header \"{HEADER}\", got {line[:40]!r}")
            if m.group(1) != "110":
                raise PlanFileError(f"line {lineno}: WPL version {m.group(1)} is not supported (110)")
            header_seen = True
            continue
        fields = line.split()
        if len(fields) != 12:
            raise PlanFileError(f"line {lineno}: expected 12 fields, got {len(fields)}")
        seq = _int_field(fields[0], "index", lineno)
        current = _int_field(fields[1], "current", lineno)
        frame = _int_field(fields[2], "frame", lineno)
        command = _int_field(fields[3], "command", lineno)
        p = [_float_field(v, f"field {i + 5}", lineno) for i, v in enumerate(fields[4:11])]
        auto = _int_field(fields[11], "autocontinue", lineno)
        if seq != len(items):
            raise PlanFileError(f"line {lineno}: index {seq}, expected {len(items)}")
        scale = ids.position_scale(frame)
        for name, v in (("x", p[4]), ("y", p[5])):
            if not math.isfinite(v):
                raise PlanFileError(f"line {lineno}: {name} {v} is not a finite number")
        try:
            items.append(MissionItemSpec(seq, command, frame, int(round(p[4] * scale)), int(round(p[5] * scale)),
                                         p[6], p[0], p[1], p[2], p[3], current, auto))
        except ValueError as e:
            raise PlanFileError(f"line {lineno}: {e}") from None
    if not header_seen:
        raise PlanFileError(f"not a waypoint file: the header \"{HEADER}\" is missing")
    return items


def load_wpl(path) -> list[MissionItemSpec]:
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PlanFileError(f"{path}: not a text file ({e.reason})") from None
    return parse_wpl(text)


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    return repr(float(v))


def wpl_text(items: Sequence[MissionItemSpec]) -> str:
    lines = [HEADER]
    for it in items:
        scale = ids.position_scale(it.frame)
        lines.append("\t".join([
            str(it.seq), str(it.current), str(it.frame), str(it.command),
            _fmt(it.param1), _fmt(it.param2), _fmt(it.param3), _fmt(it.param4),
            _fmt(it.x / scale), _fmt(it.y / scale), _fmt(it.z), str(it.autocontinue)]))
    return "\r\n".join(lines) + "\r\n"


def save_wpl(path, items: Sequence[MissionItemSpec]) -> Path:
    """Write items (item 0 = home) as QGC WPL 110, atomically."""
    atomic_write_bytes(path, wpl_text(items).encode("ascii"))
    return Path(path)
