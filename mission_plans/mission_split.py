"""A sweep longer than the vehicle's mission storage, cut into missions it can hold.

Each part starts with the same home item and the speed in force, then the next run of
waypoints; the parts join end to start, so flying them in order flies the whole plan.
"""
from __future__ import annotations

from typing import Sequence

from . import mavlink_ids as ids
from .mission_items import MissionItemSpec, renumber


def split_mission(items: Sequence[MissionItemSpec], max_items: int) -> list[list[MissionItemSpec]]:
    """Parts of at most max_items items each (item 0 of every part is the home item)."""
    items = list(items)
    if len(items) <= max_items:
        return [items]
    if max_items < 4:
        raise ValueError(f"max_items: {max_items} leaves no room for waypoints (home and speed take two)")
    home, body = items[0], items[1:]
    parts: list[list[MissionItemSpec]] = []
    speed: MissionItemSpec | None = None
    current: list[MissionItemSpec] = []
    for item in body:
        if not current and speed is not None and item.command != ids.MAV_CMD_DO_CHANGE_SPEED:
            current.append(speed)  # every part starts at the speed the last one ended with
        current.append(item)
        if item.command == ids.MAV_CMD_DO_CHANGE_SPEED:
            speed = item
        if 1 + len(current) >= max_items:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    # each part but the first repeats the previous part's last waypoint, so no stretch is skipped
    out = []
    previous_last = None
    for part in parts:
        if previous_last is not None:
            insert_at = 1 if part and part[0].command == ids.MAV_CMD_DO_CHANGE_SPEED else 0
            part = part[:insert_at] + [previous_last] + part[insert_at:]
        waypoints = [it for it in part if it.command != ids.MAV_CMD_DO_CHANGE_SPEED]
        previous_last = waypoints[-1] if waypoints else previous_last
        out.append(renumber([home] + part))
    if any(len(p) > max_items for p in out):  # the repeated waypoint can push a part over by one
        return split_mission(items, max_items - 1)
    return out
