"""What a telemetry log holds, in one pass: the vehicle, firmware, time span, modes, depth.

`summarize_tlog(path)` backs `hullwatch replay FILE.tlog`; `format_summary` turns the result
into the report printed there and `TlogSummary.to_dict()` into JSON.

Choices worth knowing:

- **The vehicle** is the sender of the first HEARTBEAT with a real autopilot
  (autopilot != MAV_AUTOPILOT_INVALID) whose type is not a GCS, camera, gimbal, ADS-B or
  onboard controller (a companion computer such as BlueOS). Modes, arming, depth and
  firmware are taken from that system and component only.
- **Mode and armed time** come from the vehicle's heartbeats: the state of one heartbeat
  lasts until the next, or until the end of the log, but never more than
  `HEARTBEAT_GAP_LIMIT_S`; longer silences are not credited to any mode.
- **Max depth** is the largest depth below the home altitude, from
  GLOBAL_POSITION_INT.relative_alt (mm above home; ArduSub's altitude is negative depth).
  Home is where the dive starts, so this is depth below the surface for a dive that starts
  at the surface. VFR_HUD.alt is used only when the log has no GLOBAL_POSITION_INT: in
  ArduSub it is an MSL altitude of the EKF, which is only depth when the EKF origin sits at
  sea level. `max_depth_source` says which was used. Positive = below; a vehicle that never
  went below home gets a value <= 0.
- **Firmware**: AUTOPILOT_VERSION.flight_sw_version when present (the release type and git
  hash too), else the "ArduSub V4.1.1 ..." banner STATUSTEXT the autopilot sends on connect.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections import Counter
from pathlib import Path

from .ardusub import mode_name as _sub_mode_name
from .dialect import mavlink
from .tlog import TlogError, TlogReadStats, iter_tlog_messages

__all__ = ["TlogSummary", "ModeSpan", "Component", "summarize_tlog", "format_summary",
           "HEARTBEAT_GAP_LIMIT_S"]

# A vehicle heartbeat's state is not carried over a longer silence (ArduSub sends 1 Hz;
# QGC calls a vehicle lost after a few seconds).
HEARTBEAT_GAP_LIMIT_S = 5.0
# How many STATUSTEXT lines the summary keeps (the count covers them all).
MAX_STATUSTEXTS = 200

_NOT_A_VEHICLE = frozenset({
    mavlink.MAV_TYPE_GCS, mavlink.MAV_TYPE_CAMERA, mavlink.MAV_TYPE_GIMBAL,
    mavlink.MAV_TYPE_ADSB, mavlink.MAV_TYPE_ONBOARD_CONTROLLER,
})

# ArduPilot firmware names by vehicle type (AUTOPILOT_VERSION carries only numbers).
_ARDUPILOT_NAMES = {
    mavlink.MAV_TYPE_SUBMARINE: "ArduSub",
    mavlink.MAV_TYPE_FIXED_WING: "ArduPlane",
    mavlink.MAV_TYPE_GROUND_ROVER: "Rover",
    mavlink.MAV_TYPE_SURFACE_BOAT: "Rover",
    mavlink.MAV_TYPE_QUADROTOR: "ArduCopter",
    mavlink.MAV_TYPE_HEXAROTOR: "ArduCopter",
    mavlink.MAV_TYPE_OCTOROTOR: "ArduCopter",
    mavlink.MAV_TYPE_TRICOPTER: "ArduCopter",
    mavlink.MAV_TYPE_HELICOPTER: "ArduCopter",
    mavlink.MAV_TYPE_COAXIAL: "ArduCopter",
    mavlink.MAV_TYPE_DECAROTOR: "ArduCopter",
    mavlink.MAV_TYPE_DODECAROTOR: "ArduCopter",
    mavlink.MAV_TYPE_ANTENNA_TRACKER: "AntennaTracker",
    mavlink.MAV_TYPE_AIRSHIP: "Blimp",
}

# "ArduSub V4.1.1 BETA5 (66c674c1)", "ArduCopter V4.5.7 (...)", "APM:Copter V3.3 (...)"
_BANNER = re.compile(r"^((?:Ardu|APM:)\w+|Rover|AntennaTracker|Blimp)\s+V(\d+\.\d+(?:\.\d+)?)")

_FW_TYPES = {0: "dev", 64: "alpha", 128: "beta", 192: "rc", 255: "official"}


def _enum_name(enum: str, value: int, prefix: str) -> str:
    entry = mavlink.enums.get(enum, {}).get(value)
    if entry is None:
        return f"{prefix}{value}"
    return entry.name.removeprefix(prefix)


def _type_name(mav_type: int) -> str:
    return _enum_name("MAV_TYPE", mav_type, "MAV_TYPE_")


def _autopilot_name(autopilot: int) -> str:
    return _enum_name("MAV_AUTOPILOT", autopilot, "MAV_AUTOPILOT_")


def _iso_utc(t_s: float) -> str:
    return _dt.datetime.fromtimestamp(t_s, _dt.timezone.utc).isoformat(timespec="milliseconds")


@dataclasses.dataclass(frozen=True, slots=True)
class ModeSpan:
    """One stretch of a mode: its name, start (s from the log start) and length in s."""

    mode: str
    start_s: float
    duration_s: float


@dataclasses.dataclass(frozen=True, slots=True)
class Component:
    """A MAVLink component that sent heartbeats, with its MAV_TYPE name."""

    system_id: int
    component_id: int
    type_name: str
    heartbeats: int


@dataclasses.dataclass(frozen=True, slots=True)
class TlogSummary:
    path: str
    file_bytes: int
    # the vehicle (None when the log has no autopilot heartbeat)
    vehicle_system_id: int | None
    vehicle_component_id: int | None
    vehicle_type: str | None          # "SUBMARINE"
    autopilot: str | None             # "ARDUPILOTMEGA"
    firmware: str | None              # "ArduSub V4.1.1"
    firmware_release: str | None      # "beta", "official", ... (AUTOPILOT_VERSION only)
    firmware_git_hash: str | None     # "66c674c1" (AUTOPILOT_VERSION only)
    # time
    start_utc: str | None
    end_utc: str | None
    start_unix_s: float | None
    end_unix_s: float | None
    duration_s: float
    # what the vehicle did
    modes: tuple[ModeSpan, ...]
    armed_s: float
    max_depth_m: float | None
    max_depth_source: str | None      # "GLOBAL_POSITION_INT.relative_alt" or "VFR_HUD.alt"
    # what the log holds
    message_counts: dict[str, int]    # by type, most frequent first
    total_messages: int
    components: tuple[Component, ...]
    statustext_count: int
    statustexts: tuple[tuple[float, int, str], ...]   # (s from start, severity, text)
    # damage
    records: int
    bad_crc: int
    bad_crc_by_id: dict[int, int]     # message id -> packets with a bad CRC
    unknown_ids: int
    decode_errors: int
    bytes_skipped: int
    resyncs: int
    truncated_tail: bool

    @property
    def main_mode(self) -> str | None:
        """The mode the vehicle spent most time in."""
        totals = self.mode_totals_s
        return max(totals, key=totals.get) if totals else None

    @property
    def mode_totals_s(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for span in self.modes:
            totals[span.mode] = totals.get(span.mode, 0.0) + span.duration_s
        return totals

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["modes"] = [dataclasses.asdict(m) for m in self.modes]
        d["components"] = [dataclasses.asdict(c) for c in self.components]
        d["statustexts"] = [list(s) for s in self.statustexts]
        d["message_counts"] = dict(self.message_counts)
        d["main_mode"] = self.main_mode
        d["mode_totals_s"] = self.mode_totals_s
        return d


def summarize_tlog(path) -> TlogSummary:
    """Read a tlog once and summarise it. Raises TlogError for a missing, empty or
    non-tlog file (damage inside a tlog is counted, not raised)."""
    path = Path(path)
    stats = TlogReadStats()
    messages = iter_tlog_messages(path, stats=stats)

    counts: Counter[str] = Counter()
    heartbeats: Counter[tuple[int, int, int]] = Counter()
    # candidate vehicles' heartbeats: (sys, comp) -> [(t_s, custom_mode, armed)]
    vehicle_hb: dict[tuple[int, int], list[tuple[float, int, bool]]] = {}
    first_vehicle: tuple[int, int] | None = None
    vehicle_info: dict[tuple[int, int], tuple[int, int]] = {}   # -> (type, autopilot)
    rel_alt_min_mm: dict[tuple[int, int], int] = {}
    vfr_alt_min_m: dict[tuple[int, int], float] = {}
    versions: dict[tuple[int, int], object] = {}
    banners: dict[tuple[int, int], str] = {}
    statustexts: list[tuple[float, int, str, tuple[int, int]]] = []
    statustext_count = 0
    t_first = t_last = None

    hb_type = "HEARTBEAT"
    armed_flag = mavlink.MAV_MODE_FLAG_SAFETY_ARMED
    invalid_ap = mavlink.MAV_AUTOPILOT_INVALID
    for t_s, msg in messages:
        mtype = msg._type
        counts[mtype] += 1
        if mtype == hb_type:
            hdr = msg._header
            src = (hdr.srcSystem, hdr.srcComponent)
            heartbeats[(src[0], src[1], msg.type)] += 1
            if msg.autopilot != invalid_ap and msg.type not in _NOT_A_VEHICLE:
                if first_vehicle is None:
                    first_vehicle = src
                vehicle_info.setdefault(src, (msg.type, msg.autopilot))
                vehicle_hb.setdefault(src, []).append(
                    (t_s, msg.custom_mode, bool(msg.base_mode & armed_flag)))
        elif mtype == "GLOBAL_POSITION_INT":
            src = (msg._header.srcSystem, msg._header.srcComponent)
            old = rel_alt_min_mm.get(src)
            if old is None or msg.relative_alt < old:
                rel_alt_min_mm[src] = msg.relative_alt
        elif mtype == "VFR_HUD":
            src = (msg._header.srcSystem, msg._header.srcComponent)
            old = vfr_alt_min_m.get(src)
            if old is None or msg.alt < old:
                vfr_alt_min_m[src] = msg.alt
        elif mtype == "STATUSTEXT":
            statustext_count += 1
            src = (msg._header.srcSystem, msg._header.srcComponent)
            text = msg.text if isinstance(msg.text, str) else msg.text.decode("utf-8", "replace")
            if len(statustexts) < MAX_STATUSTEXTS:
                statustexts.append((t_s, msg.severity, text, src))
            if src not in banners and _BANNER.match(text):
                banners[src] = text
        elif mtype == "AUTOPILOT_VERSION":
            src = (msg._header.srcSystem, msg._header.srcComponent)
            versions.setdefault(src, msg)
        if t_first is None:
            t_first = t_s
        t_last = t_s

    if stats.records == 0 or t_first is None:
        raise TlogError(f"{path} holds no readable MAVLink message "
                        f"({stats.records} records, {stats.bad_crc} with a bad CRC)")

    vehicle = first_vehicle
    v_type = v_ap = None
    firmware = release = git_hash = None
    modes: tuple[ModeSpan, ...] = ()
    armed_s = 0.0
    max_depth = None
    depth_source = None
    if vehicle is not None:
        v_type, v_ap = vehicle_info[vehicle]
        is_sub = v_type == mavlink.MAV_TYPE_SUBMARINE
        firmware, release, git_hash = _firmware(vehicle, v_type, v_ap, versions, banners)
        modes, armed_s = _mode_spans(vehicle_hb[vehicle], t_first, t_last, is_sub)
        if vehicle in rel_alt_min_mm:
            max_depth = -rel_alt_min_mm[vehicle] / 1000.0
            depth_source = "GLOBAL_POSITION_INT.relative_alt"
        elif vehicle in vfr_alt_min_m:
            max_depth = -float(vfr_alt_min_m[vehicle])
            depth_source = "VFR_HUD.alt"

    components = tuple(
        Component(s, c, _type_name(t), n) for (s, c, t), n in sorted(heartbeats.items()))
    ordered_counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    texts = tuple((round(t - t_first, 3), sev, text)
                  for t, sev, text, _src in statustexts)
    try:
        file_bytes = path.stat().st_size
    except OSError:
        file_bytes = stats.bytes_total
    return TlogSummary(
        path=str(path), file_bytes=file_bytes,
        vehicle_system_id=vehicle[0] if vehicle else None,
        vehicle_component_id=vehicle[1] if vehicle else None,
        vehicle_type=_type_name(v_type) if v_type is not None else None,
        autopilot=_autopilot_name(v_ap) if v_ap is not None else None,
        firmware=firmware, firmware_release=release, firmware_git_hash=git_hash,
        start_utc=_iso_utc(t_first), end_utc=_iso_utc(t_last),
        start_unix_s=t_first, end_unix_s=t_last, duration_s=t_last - t_first,
        modes=modes, armed_s=armed_s,
        max_depth_m=max_depth, max_depth_source=depth_source,
        message_counts=ordered_counts, total_messages=sum(counts.values()),
        components=components,
        statustext_count=statustext_count, statustexts=texts,
        records=stats.records, bad_crc=stats.bad_crc,
        bad_crc_by_id=dict(sorted(stats.bad_crc_by_id.items())), unknown_ids=stats.unknown_ids,
        decode_errors=stats.decode_errors, bytes_skipped=stats.bytes_skipped,
        resyncs=stats.resyncs, truncated_tail=stats.truncated_tail,
    )


def _firmware(vehicle, v_type, v_ap, versions, banners):
    """(firmware string, release type, git hash) for the vehicle, or Nones."""
    msg = versions.get(vehicle)
    if msg is not None and msg.flight_sw_version:
        v = msg.flight_sw_version
        major, minor, patch, kind = (v >> 24) & 0xFF, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
        if v_ap == mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA:
            name = _ARDUPILOT_NAMES.get(v_type, "ArduPilot")
        else:
            name = _autopilot_name(v_ap)
        release = _FW_TYPES.get(kind, f"type {kind}")
        raw = msg.flight_custom_version
        raw = bytes(raw) if not isinstance(raw, (bytes, str)) else raw
        git = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
        git = git.strip("\x00") or None
        return f"{name} V{major}.{minor}.{patch}", release, git
    text = banners.get(vehicle)
    if text is not None:
        m = _BANNER.match(text)
        return f"{m.group(1)} V{m.group(2)}", None, None
    return None, None, None


def _mode_spans(beats, t_first: float, t_last: float, is_sub: bool
                ) -> tuple[tuple[ModeSpan, ...], float]:
    """Mode stretches and armed seconds from (t_s, custom_mode, armed) heartbeats."""
    name_of = _sub_mode_name if is_sub else (lambda m: f"MODE({m})")
    spans: list[list] = []       # [name, start_s, duration_s]
    armed_s = 0.0
    for i, (t, mode, armed) in enumerate(beats):
        t_next = beats[i + 1][0] if i + 1 < len(beats) else t_last
        held = min(max(t_next - t, 0.0), HEARTBEAT_GAP_LIMIT_S)
        name = name_of(mode)
        if armed:
            armed_s += held
        if spans and spans[-1][0] == name:
            spans[-1][2] += held
        else:
            spans.append([name, t - t_first, held])
    return tuple(ModeSpan(n, round(s, 3), round(d, 3)) for n, s, d in spans), round(armed_s, 3)


def _msg_name(msgid: int) -> str:
    cls = mavlink.mavlink_map.get(msgid)
    return f"{cls.msgname}({msgid})" if cls is not None else f"id {msgid}"


def _fmt_duration(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_summary(summary: TlogSummary, *, top_types: int = 15) -> str:
    """A readable multi-line report of a summary (for `hullwatch replay FILE.tlog`)."""
    s = summary
    lines = [f"Telemetry log  {s.path}  ({s.file_bytes / 1e6:.1f} MB)"]
    if s.vehicle_system_id is None:
        lines.append("Vehicle        none found (no autopilot heartbeat in the log)")
    else:
        fw = s.firmware or "firmware unknown"
        extra = ", ".join(x for x in (s.firmware_release,
                                      f"git {s.firmware_git_hash}" if s.firmware_git_hash
                                      else None) if x)
        if extra:
            fw = f"{fw} ({extra})"
        lines.append(f"Vehicle        {s.vehicle_type} system {s.vehicle_system_id} "
                     f"component {s.vehicle_component_id}, autopilot {s.autopilot}, {fw}")
    lines.append(f"Time (UTC)     {s.start_utc} .. {s.end_utc}  "
                 f"({_fmt_duration(s.duration_s)}, {s.duration_s:.1f} s)")
    if s.modes:
        totals = s.mode_totals_s
        lines.append("Modes          " + ", ".join(
            f"{m} {_fmt_duration(t)}" for m, t in sorted(totals.items(), key=lambda kv: -kv[1])))
        if len(s.modes) > 1:
            seq = " -> ".join(f"{span.mode}@{span.start_s:.0f}s" for span in s.modes[:12])
            more = f" (+{len(s.modes) - 12} more)" if len(s.modes) > 12 else ""
            lines.append(f"               in order: {seq}{more}")
    lines.append(f"Armed          {_fmt_duration(s.armed_s)} ({s.armed_s:.1f} s)")
    if s.max_depth_m is not None:
        lines.append(f"Max depth      {s.max_depth_m:.2f} m  (from {s.max_depth_source})")
    else:
        lines.append("Max depth      unknown (no GLOBAL_POSITION_INT or VFR_HUD)")
    lines.append(f"Components     " + "; ".join(
        f"{c.system_id}/{c.component_id} {c.type_name}" for c in s.components))
    lines.append(f"Messages       {s.total_messages} of {len(s.message_counts)} types")
    shown = list(s.message_counts.items())[:top_types]
    width = max((len(k) for k, _ in shown), default=0)
    for name, n in shown:
        lines.append(f"  {name:<{width}}  {n:>7}")
    if len(s.message_counts) > top_types:
        rest = sum(list(s.message_counts.values())[top_types:])
        lines.append(f"  ({len(s.message_counts) - top_types} more types, {rest} messages)")
    lines.append(f"Status texts   {s.statustext_count}")
    for t, sev, text in s.statustexts[:10]:
        lines.append(f"  {t:8.1f} s  [{_enum_name('MAV_SEVERITY', sev, 'MAV_SEVERITY_')}] {text}")
    problems = []
    if s.bad_crc:
        ids = ", ".join(f"{_msg_name(i)} x{n}" if n > 1 else _msg_name(i)
                        for i, n in s.bad_crc_by_id.items())
        problems.append(f"{s.bad_crc} packets with a bad CRC ({ids}; damage, or a sender "
                        f"built with other message definitions)")
    if s.unknown_ids:
        problems.append(f"{s.unknown_ids} unknown message ids")
    if s.decode_errors:
        problems.append(f"{s.decode_errors} undecodable packets")
    if s.bytes_skipped:
        problems.append(f"{s.bytes_skipped} damaged bytes skipped ({s.resyncs} resyncs)")
    if s.truncated_tail:
        problems.append("the last record is cut off")
    lines.append("Integrity      " + ("; ".join(problems) if problems else "no damage found"))
    return "\n".join(lines)
