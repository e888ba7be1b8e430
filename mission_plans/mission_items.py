"""A plan as MAVLink mission items for ArduSub, and a check of what ArduSub would refuse.

`MissionItemSpec` mirrors one MISSION_ITEM_INT (and, field for field, vehicle/mission.py's
MissionItem, which the app builds from it): x/y are degE7 in global frames (metres * 1e4 in
local frames, as MAVLink defines MISSION_ITEM_INT), z in metres.

Layout of `plan_to_mission_items(plan)`:
  seq 0  home: the hull origin H0 at the surface (placement origin lat/lon, z = 0,
         MAV_FRAME_GLOBAL). ArduPilot treats item 0 as home and replaces it with its own
         home (set at arming / from the EKF origin), so this item is informational.
  seq 1  DO_CHANGE_SPEED to the plan's cruise speed (speed_item=True)
  then   one NAV_WAYPOINT per plan waypoint, in order: MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
         x/y = lat/lon degE7, z = -depth (ArduSub altitude is negative depth);
         param1 = hold_s, param2 = acceptance radius, param4 = the waypoint's facing
         direction as a compass heading (via the placement). A waypoint with its own
         speed_m_s gets a DO_CHANGE_SPEED just before it (AP_Mission starts the DO items
         that precede a NAV item when it moves on to that NAV item), and the cruise speed
         is restored before the next waypoint without one.

Yaw: ArduSub 4.x (like Copter) does not use NAV_WAYPOINT param4; in AUTO it points the
vehicle along the track per WP_YAW_BEHAVIOR. param4 still carries the planned heading (QGC
shows it, and it documents intent), but a sweep that needs the camera facing the hull must
set WP_YAW_BEHAVIOR or add MAV_CMD_CONDITION_YAW items — not generated here (untested).

frame="local" writes MAV_FRAME_LOCAL_NED items (x/y = north/east metres * 1e4, z = down,
i.e. depth, positive). ArduPilot's AP_Mission accepts only global frames (GLOBAL, GLOBAL_INT,
GLOBAL_RELATIVE_ALT(_INT), GLOBAL_TERRAIN_ALT(_INT)) for commands that carry a position and
answers MAV_MISSION_UNSUPPORTED_FRAME to anything else, so ArduSub 4.x refuses such a
mission at upload; `validate_for_ardusub` says so. Local items exist for simulators and
other autopilots only — use frame="global" (the default) for a real ArduSub.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Sequence

import numpy as np

from . import mavlink_ids as ids
from .plan_model import Plan

__all__ = ["ARDUSUB_COMMANDS", "DEFAULT_ACCEPT_RADIUS_M", "MissionItemSpec", "MissionItemsError",
           "command_name", "frame_name", "plan_to_mission_items", "validate_for_ardusub"]

DEFAULT_ACCEPT_RADIUS_M = 0.5
SPEED_TYPE_GROUND = 1.0  # DO_CHANGE_SPEED param1
THROTTLE_UNCHANGED = -1.0  # DO_CHANGE_SPEED param3

# Commands ArduSub's AUTO mode implements (ArduSub commands_logic.cpp plus the ones
# AP_Mission handles itself). Anything else is stored but skipped when AUTO reaches it.
ARDUSUB_COMMANDS = frozenset({
    ids.MAV_CMD_NAV_WAYPOINT, ids.MAV_CMD_NAV_LOITER_UNLIM, ids.MAV_CMD_NAV_LOITER_TURNS,
    ids.MAV_CMD_NAV_LOITER_TIME, ids.MAV_CMD_NAV_RETURN_TO_LAUNCH, ids.MAV_CMD_NAV_LAND,
    ids.MAV_CMD_NAV_SPLINE_WAYPOINT, ids.MAV_CMD_NAV_GUIDED_ENABLE, ids.MAV_CMD_NAV_DELAY,
    ids.MAV_CMD_CONDITION_DELAY, ids.MAV_CMD_CONDITION_DISTANCE, ids.MAV_CMD_CONDITION_YAW,
    ids.MAV_CMD_DO_JUMP, ids.MAV_CMD_DO_CHANGE_SPEED, ids.MAV_CMD_DO_SET_HOME,
    ids.MAV_CMD_DO_SET_RELAY, ids.MAV_CMD_DO_REPEAT_RELAY, ids.MAV_CMD_DO_SET_SERVO,
    ids.MAV_CMD_DO_REPEAT_SERVO, ids.MAV_CMD_DO_SET_ROI_LOCATION, ids.MAV_CMD_DO_SET_ROI,
    ids.MAV_CMD_DO_DIGICAM_CONFIGURE, ids.MAV_CMD_DO_DIGICAM_CONTROL, ids.MAV_CMD_DO_MOUNT_CONTROL,
    ids.MAV_CMD_DO_SET_CAM_TRIGG_DIST, ids.MAV_CMD_DO_GRIPPER, ids.MAV_CMD_DO_GUIDED_LIMITS,
    ids.MAV_CMD_JUMP_TAG, ids.MAV_CMD_DO_JUMP_TAG,
})
# Commands whose x/y/z are a position: AP_Mission needs a global frame for them.
POSITION_COMMANDS = frozenset({
    ids.MAV_CMD_NAV_WAYPOINT, ids.MAV_CMD_NAV_LOITER_UNLIM, ids.MAV_CMD_NAV_LOITER_TURNS,
    ids.MAV_CMD_NAV_LOITER_TIME, ids.MAV_CMD_NAV_LAND, ids.MAV_CMD_NAV_TAKEOFF,
    ids.MAV_CMD_NAV_SPLINE_WAYPOINT, ids.MAV_CMD_DO_SET_ROI_LOCATION, ids.MAV_CMD_DO_SET_ROI,
})
# Global frames AP_Mission accepts for position commands (MISSION is not one of them here:
# it would be read as an absolute altitude, which is never what a sub plan means).
ARDUSUB_POSITION_FRAMES = frozenset({
    ids.MAV_FRAME_GLOBAL, ids.MAV_FRAME_GLOBAL_INT, ids.MAV_FRAME_GLOBAL_RELATIVE_ALT,
    ids.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, ids.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    ids.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT,
})


# Commands whose param4 is a yaw where MAVLink defines NaN as "unchanged".
_NAN_YAW_COMMANDS = frozenset({ids.MAV_CMD_NAV_WAYPOINT, ids.MAV_CMD_NAV_LOITER_UNLIM, ids.MAV_CMD_NAV_LAND,
                               ids.MAV_CMD_NAV_TAKEOFF})


class MissionItemsError(ValueError):
    """A plan cannot be turned into mission items (e.g. no WGS84 position for the ship)."""


def _names(prefix: str) -> dict[int, str]:
    return {v: k[len(prefix):] for k, v in vars(ids).items() if k.startswith(prefix) and isinstance(v, int)}


_CMD_NAMES = _names("MAV_CMD_")
_FRAME_NAMES = _names("MAV_FRAME_")


def command_name(command: int) -> str:
    return _CMD_NAMES.get(command, f"command {command}")


def frame_name(frame: int) -> str:
    return _FRAME_NAMES.get(frame, f"frame {frame}")


@dataclasses.dataclass(frozen=True)
class MissionItemSpec:
    """One MISSION_ITEM_INT. x/y: degE7 (global frames) or metres * 1e4 (local frames);
    z: metres (ArduSub, relative frame: negative = depth). NaN is allowed here (MAVLink uses
    it for "unchanged"); validate_for_ardusub reports where ArduSub would not accept it."""

    seq: int
    command: int
    frame: int
    x: int = 0
    y: int = 0
    z: float = 0.0
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    current: int = 0
    autocontinue: int = 1

    def __post_init__(self):
        for name in ("seq", "command", "frame", "x", "y", "current", "autocontinue"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"{name}: expected an integer, got {v!r}")
            object.__setattr__(self, name, int(v))
        for name in ("z", "param1", "param2", "param3", "param4"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise ValueError(f"{name}: expected a number, got {v!r}")
            object.__setattr__(self, name, float(v))

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.param1, self.param2, self.param3, self.param4)

    @property
    def is_global(self) -> bool:
        return self.frame in ids.GLOBAL_FRAMES

    @property
    def lat_deg(self) -> float:
        return self.x / 1e7

    @property
    def lon_deg(self) -> float:
        return self.y / 1e7

    @property
    def depth_m(self) -> float | None:
        """Depth below the surface for a position item in a relative-altitude frame (ArduSub:
        -z) or in LOCAL_NED (z is down); None otherwise."""
        if self.command not in POSITION_COMMANDS:
            return None
        if self.frame in ids.RELATIVE_ALT_FRAMES:
            return 0.0 - self.z
        if self.frame == ids.MAV_FRAME_LOCAL_NED:
            return self.z
        return None


def _speed_item(seq: int, speed_m_s: float) -> MissionItemSpec:
    return MissionItemSpec(seq, ids.MAV_CMD_DO_CHANGE_SPEED, ids.MAV_FRAME_MISSION,
                           param1=SPEED_TYPE_GROUND, param2=float(speed_m_s), param3=THROTTLE_UNCHANGED)


def plan_to_mission_items(plan: Plan, *, frame: str = "global", speed_item: bool = True,
                          accept_radius_m: float = DEFAULT_ACCEPT_RADIUS_M) -> list[MissionItemSpec]:
    """The plan as mission items, item 0 = home (see the module docstring for the layout)."""
    if frame not in ("global", "local"):
        raise MissionItemsError(f"frame: expected 'global' or 'local', got {frame!r}")
    placement = plan.placement
    wps = plan.waypoints()
    if not wps:
        raise MissionItemsError("the plan has no waypoints")
    if frame == "global" and not placement.has_geo:
        raise MissionItemsError("placement.origin_lat_deg: the ship's WGS84 position is unknown; "
                                "set it, or export in the local frame")
    pts_h = np.array([w.position_h for w in wps], dtype=np.float64)
    ned = placement.h_to_ned(pts_h)
    headings = placement.heading_h_to_ned(np.array([w.yaw_deg for w in wps]))

    items: list[MissionItemSpec] = []
    if placement.has_geo:
        items.append(MissionItemSpec(0, ids.MAV_CMD_NAV_WAYPOINT, ids.MAV_FRAME_GLOBAL,
                                     int(round(placement.origin_lat_deg * 1e7)),
                                     int(round(placement.origin_lon_deg * 1e7)), 0.0))
    else:
        items.append(MissionItemSpec(0, ids.MAV_CMD_NAV_WAYPOINT, ids.MAV_FRAME_LOCAL_NED))
    cruise = plan.cruise_speed_m_s
    speed = None
    if speed_item:
        items.append(_speed_item(len(items), cruise))
        speed = cruise
    if frame == "global":
        lat, lon, depth = placement.ned_to_wgs84(ned)
    for i, w in enumerate(wps):
        want = w.speed_m_s if w.speed_m_s is not None else cruise
        if speed_item and want != speed:
            items.append(_speed_item(len(items), want))
            speed = want
        if frame == "global":
            fr, x, y, z = (ids.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, int(round(lat[i] * 1e7)),
                           int(round(lon[i] * 1e7)), -float(depth[i]) + 0.0)
        else:
            fr, x, y, z = (ids.MAV_FRAME_LOCAL_NED, int(round(ned[i, 0] * 1e4)),
                           int(round(ned[i, 1] * 1e4)), float(ned[i, 2]))
        items.append(MissionItemSpec(len(items), ids.MAV_CMD_NAV_WAYPOINT, fr, x, y, z,
                                     param1=w.hold_s, param2=float(accept_radius_m), param3=0.0,
                                     param4=float(headings[i])))
    return items


def _finite(v: float) -> bool:
    return math.isfinite(v)


def validate_for_ardusub(items: Sequence[MissionItemSpec], *, max_items: int = 700) -> list[str]:
    """What a real ArduSub 4.x would refuse (at upload, or by skipping it in AUTO).
    Empty list = OK. max_items: the vehicle's capacity (read MIS_TOTAL from the vehicle)."""
    problems: list[str] = []
    items = list(items)
    if not items:
        return ["the mission is empty: item 0 must be home"]
    if len(items) > max_items:
        problems.append(f"{len(items)} items: more than the vehicle holds ({max_items}, MIS_TOTAL)")
    if len(items) > 65535:
        problems.append(f"{len(items)} items: MAVLink sequence numbers stop at 65535")
    first = items[0]
    if first.command != ids.MAV_CMD_NAV_WAYPOINT or first.frame not in ARDUSUB_POSITION_FRAMES:
        problems.append(f"item 0 must be home (NAV_WAYPOINT in a global frame), got "
                        f"{command_name(first.command)} in {frame_name(first.frame)}")
    for i, it in enumerate(items):
        where = f"item {i}"
        if it.seq != i:
            problems.append(f"{where}: seq {it.seq}, expected {i} (sequence numbers must run 0..n-1 without gaps)")
        if i > 0 and it.command not in ARDUSUB_COMMANDS:
            problems.append(f"{where}: {command_name(it.command)} is not implemented by ArduSub (AUTO would skip it)")
        if it.command in POSITION_COMMANDS and it.frame not in ARDUSUB_POSITION_FRAMES:
            problems.append(f"{where}: {frame_name(it.frame)} is not supported for {command_name(it.command)} "
                            f"(ArduPilot answers MAV_MISSION_UNSUPPORTED_FRAME; use GLOBAL_RELATIVE_ALT_INT)")
        for name in ("z", "param1", "param2", "param3", "param4"):
            v = getattr(it, name)
            if name == "param4" and it.command in _NAN_YAW_COMMANDS and math.isnan(v):
                continue  # MAVLink: NaN yaw = keep the current yaw behaviour (QGC writes it)
            if not _finite(v):
                problems.append(f"{where}: {name} is {v} (not a finite number)")
        if it.command in POSITION_COMMANDS and it.frame in ids.GLOBAL_FRAMES:
            if not -900_000_000 <= it.x <= 900_000_000:
                problems.append(f"{where}: latitude {it.x / 1e7} deg is outside [-90, 90]")
            if not -1_800_000_000 <= it.y <= 1_800_000_000:
                problems.append(f"{where}: longitude {it.y / 1e7} deg is outside [-180, 180]")
        if it.current not in (0, 1):
            problems.append(f"{where}: current must be 0 or 1, got {it.current}")
        if it.autocontinue not in (0, 1):
            problems.append(f"{where}: autocontinue must be 0 or 1, got {it.autocontinue}")
        if not 0 <= it.frame <= 255 or not 0 <= it.command <= 65535:
            problems.append(f"{where}: frame or command out of MAVLink range")
    return problems


def renumber(items: Iterable[MissionItemSpec]) -> list[MissionItemSpec]:
    """The same items with seq 0..n-1."""
    return [dataclasses.replace(it, seq=i) for i, it in enumerate(items)]
