"""QGroundControl `.plan` files: export a plan's mission, import a mission.

Schema (as QGC writes it; checked against real ArduSub, PX4 and older files):

    {"fileType": "Plan", "version": 1, "groundStation": "...",
     "mission": {"version": 2, "firmwareType": 3 (ArduPilot) | 12 (PX4),
                 "vehicleType": 12 (submarine) | 2 (quadrotor) ..., "cruiseSpeed", "hoverSpeed",
                 "globalPlanAltitudeMode": 0|1 (newer QGC only),
                 "plannedHomePosition": [lat, lon, alt AMSL],
                 "items": [SimpleItem | ComplexItem, ...]},
     "geoFence": {"circles": [], "polygons": [], "version": 2},
     "rallyPoints": {"points": [], "version": 2}}

A SimpleItem is {"type": "SimpleItem", "autoContinue": bool, "command", "doJumpId" (1-based),
"frame" (QGC writes the float frames 0/3/10, not the _INT ones), "params": [p1..p7]}; items
with a position also carry "Altitude", "AltitudeMode" (1 relative, 2 AMSL) and
"AMSLAltAboveTerrain". NaN parameters are written as null. The older schema (e.g. QGC 3.2)
has "params": [p1..p4] plus "coordinate": [lat, lon, alt], and "polygon" fences.

Home is not in "items": it is "plannedHomePosition". On import it becomes item 0 (frame
GLOBAL, command NAV_WAYPOINT), and the items follow from seq 1 — the list ArduPilot expects.
Global float frames are imported as their _INT twins (3 -> 6, 0 -> 5, 10 -> 11): same
meaning, and the vehicle layer sends MISSION_ITEM_INT. ArduSub altitude is negative depth:
MissionItemSpec.depth_m gives the depth of a relative-frame item.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Sequence

from hull.placement import Placement

from . import mavlink_ids as ids
from .mission_items import POSITION_COMMANDS, MissionItemSpec, plan_to_mission_items
from .plan_file import PlanFileError, atomic_write_bytes, read_json_document
from .plan_model import Plan

__all__ = ["ImportedMission", "load_qgc_plan", "plan_to_qgc", "qgc_to_mission", "save_qgc_plan"]

GROUND_STATION = "HullWatch"
# QGC AltitudeMode for a frame (QGroundControlQmlGlobal::AltMode)
_ALT_MODE = {ids.MAV_FRAME_GLOBAL_RELATIVE_ALT: 1, ids.MAV_FRAME_GLOBAL: 2, ids.MAV_FRAME_GLOBAL_TERRAIN_ALT: 4}
_TO_FLOAT_FRAME = {ids.MAV_FRAME_GLOBAL_INT: ids.MAV_FRAME_GLOBAL,
                   ids.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: ids.MAV_FRAME_GLOBAL_RELATIVE_ALT,
                   ids.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT: ids.MAV_FRAME_GLOBAL_TERRAIN_ALT}
_TO_INT_FRAME = {v: k for k, v in _TO_FLOAT_FRAME.items()}


@dataclasses.dataclass(frozen=True)
class ImportedMission:
    """A mission read from a file: items[0] is home; home = (lat_deg, lon_deg, alt_m)."""

    items: list[MissionItemSpec]
    home: tuple[float, float, float]
    vehicle_type: int | None
    firmware_type: int | None
    warnings: list[str]
    cruise_speed_m_s: float | None = None
    hover_speed_m_s: float | None = None

    @property
    def is_ardusub(self) -> bool:
        return self.vehicle_type == ids.MAV_TYPE_SUBMARINE


# ---- export ----------------------------------------------------------------------------------
def _param(v: float):
    return None if math.isnan(v) else v


def _item_json(it: MissionItemSpec, jump_id: int) -> dict:
    frame = _TO_FLOAT_FRAME.get(it.frame, it.frame)
    scale = ids.position_scale(it.frame)
    p5, p6 = it.x / scale, it.y / scale
    out: dict[str, Any] = {}
    positional = it.command in POSITION_COMMANDS and it.frame in ids.GLOBAL_FRAMES
    if positional:
        out["AMSLAltAboveTerrain"] = None
        out["Altitude"] = _param(it.z)
        out["AltitudeMode"] = _ALT_MODE.get(frame, 1)
    out.update({
        "autoContinue": bool(it.autocontinue),
        "command": it.command,
        "doJumpId": jump_id,
        "frame": frame,
        "params": [_param(it.param1), _param(it.param2), _param(it.param3), _param(it.param4),
                   p5, p6, _param(it.z)],
        "type": "SimpleItem",
    })
    return out


def plan_to_qgc(source: Plan | Sequence[MissionItemSpec], placement: Placement | None = None, *,
                cruise_speed_m_s: float | None = None, hover_speed_m_s: float | None = None) -> dict:
    """A QGC `.plan` document for a Plan (converted with plan_to_mission_items, global
    frame) or for mission items whose item 0 is home. placement: only used when items are
    given and item 0 is not global (then H0 at the surface becomes the planned home)."""
    if isinstance(source, Plan):
        items = plan_to_mission_items(source, frame="global")
        cruise_speed_m_s = source.cruise_speed_m_s if cruise_speed_m_s is None else cruise_speed_m_s
    else:
        items = list(source)
        if not items:
            raise ValueError("no mission items to export (item 0 must be home)")
    home_item = items[0]
    if home_item.frame in ids.GLOBAL_FRAMES:
        home = [home_item.x / 1e7, home_item.y / 1e7, home_item.z]
    elif placement is not None and placement.has_geo:
        home = [placement.origin_lat_deg, placement.origin_lon_deg, 0.0]
    else:
        raise ValueError("no WGS84 home: item 0 is not in a global frame and no placement with a position was given")
    if cruise_speed_m_s is None:
        speeds = [it.param2 for it in items if it.command == ids.MAV_CMD_DO_CHANGE_SPEED and it.param2 > 0]
        cruise_speed_m_s = speeds[0] if speeds else 1.0
    if hover_speed_m_s is None:
        hover_speed_m_s = cruise_speed_m_s
    return {
        "fileType": "Plan",
        "geoFence": {"circles": [], "polygons": [], "version": 2},
        "groundStation": GROUND_STATION,
        "mission": {
            "cruiseSpeed": cruise_speed_m_s,
            "firmwareType": ids.MAV_AUTOPILOT_ARDUPILOTMEGA,
            "globalPlanAltitudeMode": 1,
            "hoverSpeed": hover_speed_m_s,
            "items": [_item_json(it, n) for n, it in enumerate(items[1:], start=1)],
            "plannedHomePosition": home,
            "vehicleType": ids.MAV_TYPE_SUBMARINE,
            "version": 2,
        },
        "rallyPoints": {"points": [], "version": 2},
        "version": 1,
    }


def save_qgc_plan(path, source: Plan | Sequence[MissionItemSpec], placement: Placement | None = None,
                  **kwargs) -> Path:
    """Write a QGC `.plan` atomically (see plan_to_qgc); returns the path."""
    doc = plan_to_qgc(source, placement, **kwargs)
    atomic_write_bytes(path, (json.dumps(doc, indent=4, allow_nan=False) + "\n").encode("utf-8"))
    return Path(path)


# ---- import ----------------------------------------------------------------------------------
def _num(v, path: str, *, allow_null: bool = False) -> float:
    if v is None and allow_null:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise PlanFileError(f"{path}: expected a number, got {json.dumps(v)[:40]}")
    return float(v)


def _int(v, path: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise PlanFileError(f"{path}: expected an integer, got {json.dumps(v)[:40]}")
    return v


def _simple_item(d: Any, path: str) -> tuple[dict, int | None]:
    """Fields of a SimpleItem (without seq) and its doJumpId."""
    if not isinstance(d, dict):
        raise PlanFileError(f"{path}: expected an object")
    for key in ("command", "params"):
        if key not in d:
            raise PlanFileError(f"{path}.{key}: missing")
    command = _int(d["command"], f"{path}.command")
    frame = _int(d.get("frame", ids.MAV_FRAME_MISSION), f"{path}.frame")
    params = d["params"]
    if not isinstance(params, list):
        raise PlanFileError(f"{path}.params: expected an array")
    if len(params) == 7:
        p = [_num(v, f"{path}.params[{i}]", allow_null=True) for i, v in enumerate(params)]
    elif len(params) == 4 and "coordinate" in d:  # older schema
        coord = d["coordinate"]
        if not isinstance(coord, list) or len(coord) != 3:
            raise PlanFileError(f"{path}.coordinate: expected [lat, lon, alt]")
        p = [_num(v, f"{path}.params[{i}]", allow_null=True) for i, v in enumerate(params)]
        p += [_num(v, f"{path}.coordinate[{i}]", allow_null=True) for i, v in enumerate(coord)]
    else:
        raise PlanFileError(f"{path}.params: expected 7 values (or 4 with \"coordinate\"), got {len(params)}")
    auto = d.get("autoContinue", True)
    if not isinstance(auto, bool):
        raise PlanFileError(f"{path}.autoContinue: expected true or false")
    frame_int = _TO_INT_FRAME.get(frame, frame)
    scale = ids.position_scale(frame_int)
    x5, y6 = (0.0 if math.isnan(p[4]) else p[4]), (0.0 if math.isnan(p[5]) else p[5])
    fields = dict(command=command, frame=frame_int, x=int(round(x5 * scale)), y=int(round(y6 * scale)),
                  z=p[6], param1=p[0], param2=p[1], param3=p[2], param4=p[3], current=0,
                  autocontinue=int(auto))
    jump = d.get("doJumpId")
    return fields, (jump if isinstance(jump, int) and not isinstance(jump, bool) else None)


def _home(m: dict) -> tuple[float, float, float]:
    h = m.get("plannedHomePosition")
    if isinstance(h, dict):  # some older files: {"coordinate": [...]}
        h = h.get("coordinate")
    if h is None:
        raise PlanFileError("mission.plannedHomePosition: missing")
    if not isinstance(h, list) or len(h) != 3:
        raise PlanFileError("mission.plannedHomePosition: expected [lat, lon, alt]")
    lat, lon, alt = (_num(v, f"mission.plannedHomePosition[{i}]") for i, v in enumerate(h))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PlanFileError(f"mission.plannedHomePosition: ({lat}, {lon}) is not a position")
    return lat, lon, alt


def qgc_to_mission(doc: Any) -> ImportedMission:
    """Build an ImportedMission from a parsed `.plan` document."""
    if not isinstance(doc, dict):
        raise PlanFileError("not a QGC plan: the document is not a JSON object")
    if doc.get("fileType") != "Plan":
        raise PlanFileError(f"fileType: not a QGC plan (expected \"Plan\", got {json.dumps(doc.get('fileType'))})")
    m = doc.get("mission")
    if not isinstance(m, dict):
        raise PlanFileError("mission: missing" if m is None else "mission: expected an object")
    warnings: list[str] = []
    version = m.get("version")
    if version not in (1, 2):
        if version is None:
            warnings.append("mission.version missing; read as version 2")
        else:
            raise PlanFileError(f"mission.version: QGC mission version {version!r} is not supported (1 or 2)")
    firmware = m.get("firmwareType")
    vehicle = m.get("vehicleType")
    firmware = firmware if isinstance(firmware, int) and not isinstance(firmware, bool) else None
    vehicle = vehicle if isinstance(vehicle, int) and not isinstance(vehicle, bool) else None
    ardusub = vehicle == ids.MAV_TYPE_SUBMARINE
    if not ardusub or firmware != ids.MAV_AUTOPILOT_ARDUPILOTMEGA:
        warnings.append(f"written for firmwareType {firmware} / vehicleType {vehicle}, not ArduSub "
                        f"({ids.MAV_AUTOPILOT_ARDUPILOTMEGA} / {ids.MAV_TYPE_SUBMARINE}): altitudes are not depths")
    home = _home(m)
    raw_items = m.get("items")
    if not isinstance(raw_items, list):
        raise PlanFileError("mission.items: missing" if raw_items is None else "mission.items: expected an array")

    collected: list[tuple[dict, int | None]] = []
    for i, d in enumerate(raw_items):
        path = f"mission.items[{i}]"
        kind = d.get("type") if isinstance(d, dict) else None
        if kind == "SimpleItem":
            collected.append(_simple_item(d, path))
        elif kind == "ComplexItem":
            name = d.get("complexItemType", "complex item")
            inner = (d.get("TransectStyleComplexItem") or {}).get("Items")
            if isinstance(inner, list) and inner:
                for j, sub in enumerate(inner):
                    collected.append(_simple_item(sub, f"{path}.TransectStyleComplexItem.Items[{j}]"))
                warnings.append(f"{path}: {name} expanded into its {len(inner)} generated items")
            else:
                warnings.append(f"{path}: {name} skipped (a complex item HullWatch cannot expand)")
        else:
            raise PlanFileError(f"{path}.type: expected \"SimpleItem\" or \"ComplexItem\", got {json.dumps(kind)}")

    jump_to_seq = {jump: n for n, (_, jump) in enumerate(collected, start=1) if jump is not None}
    items = [MissionItemSpec(0, ids.MAV_CMD_NAV_WAYPOINT, ids.MAV_FRAME_GLOBAL,
                             int(round(home[0] * 1e7)), int(round(home[1] * 1e7)), home[2])]
    for n, (fields, _) in enumerate(collected, start=1):
        if fields["command"] == ids.MAV_CMD_DO_JUMP and not math.isnan(fields["param1"]):
            target = jump_to_seq.get(int(fields["param1"]))
            if target is None:
                warnings.append(f"item {n}: DO_JUMP to doJumpId {int(fields['param1'])}, which is not in the file")
            else:
                fields["param1"] = float(target)
        item = MissionItemSpec(n, **fields)
        if ardusub and item.command in POSITION_COMMANDS:
            if item.frame in (ids.MAV_FRAME_GLOBAL, ids.MAV_FRAME_GLOBAL_INT):
                warnings.append(f"item {n}: absolute (AMSL) altitude {item.z} m; ArduSub depths need the relative frame")
            elif item.frame in ids.RELATIVE_ALT_FRAMES and item.z > 0:
                warnings.append(f"item {n}: altitude {item.z} m is above the surface")
        items.append(item)
    cruise = m.get("cruiseSpeed")
    hover = m.get("hoverSpeed")
    return ImportedMission(items, home, vehicle, firmware, warnings,
                           float(cruise) if isinstance(cruise, (int, float)) and not isinstance(cruise, bool) else None,
                           float(hover) if isinstance(hover, (int, float)) and not isinstance(hover, bool) else None)


def load_qgc_plan(path) -> ImportedMission:
    """Read a QGC `.plan`. PlanFileError for non-JSON, a wrong fileType, no mission, bad items."""
    return qgc_to_mission(read_json_document(path))
