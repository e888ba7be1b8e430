"""Mission storage, the MAVLink mission protocol (as ArduPilot's MissionItemProtocol
serves it to a GCS), and AUTO-mode execution of the stored items."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.modes import NavTarget

MAX_MISSION_ITEMS = 700
ITEM_RETRY_S = 1.0        # re-request the awaited item after this long
UPLOAD_TIMEOUT_S = 8.0    # give up on an upload after this long without an item
EARTH_RADIUS_M = 6378137.0
REACHED_DEPTH_TOLERANCE_M = 0.3

M = mavlink
GLOBAL_FRAMES = frozenset({
    M.MAV_FRAME_GLOBAL, M.MAV_FRAME_GLOBAL_RELATIVE_ALT, M.MAV_FRAME_GLOBAL_INT,
    M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, M.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    M.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT,
})
NAV_COMMANDS = frozenset({
    M.MAV_CMD_NAV_WAYPOINT, M.MAV_CMD_NAV_LOITER_UNLIM, M.MAV_CMD_NAV_LOITER_TURNS,
    M.MAV_CMD_NAV_LOITER_TIME, M.MAV_CMD_NAV_RETURN_TO_LAUNCH, M.MAV_CMD_NAV_LAND,
    M.MAV_CMD_NAV_SPLINE_WAYPOINT, M.MAV_CMD_NAV_GUIDED_ENABLE, M.MAV_CMD_NAV_DELAY,
})
OTHER_COMMANDS = frozenset({
    M.MAV_CMD_CONDITION_DELAY, M.MAV_CMD_CONDITION_DISTANCE, M.MAV_CMD_CONDITION_YAW,
    M.MAV_CMD_DO_JUMP, M.MAV_CMD_DO_CHANGE_SPEED, M.MAV_CMD_DO_SET_HOME,
    M.MAV_CMD_DO_SET_RELAY, M.MAV_CMD_DO_REPEAT_RELAY, M.MAV_CMD_DO_SET_SERVO,
    M.MAV_CMD_DO_REPEAT_SERVO, M.MAV_CMD_DO_SET_ROI, M.MAV_CMD_DO_DIGICAM_CONTROL,
    M.MAV_CMD_DO_MOUNT_CONTROL, M.MAV_CMD_DO_SET_CAM_TRIGG_DIST, M.MAV_CMD_DO_GRIPPER,
    M.MAV_CMD_DO_GUIDED_LIMITS, M.MAV_CMD_DO_SET_RESUME_REPEAT_DIST,
    M.MAV_CMD_IMAGE_START_CAPTURE, M.MAV_CMD_IMAGE_STOP_CAPTURE,
    M.MAV_CMD_VIDEO_START_CAPTURE, M.MAV_CMD_VIDEO_STOP_CAPTURE,
})
NON_NAV_FRAMES = GLOBAL_FRAMES | {M.MAV_FRAME_MISSION}


@dataclass(frozen=True)
class MissionItem:
    """One stored item; x/y are degE7 for global frames, z is metres (neg = depth)."""

    seq: int
    frame: int
    command: int
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0
    autocontinue: int = 1

    @classmethod
    def from_message(cls, msg: object) -> "MissionItem":
        if msg.get_type() == "MISSION_ITEM":
            # the float message carries degrees; store the same degE7 as _INT would
            x, y = int(round(msg.x * 1e7)), int(round(msg.y * 1e7))
            if msg.frame not in GLOBAL_FRAMES:
                x, y = int(msg.x), int(msg.y)
        else:
            x, y = int(msg.x), int(msg.y)
        return cls(msg.seq, msg.frame, msg.command, msg.param1, msg.param2, msg.param3,
                   msg.param4, x, y, float(msg.z), msg.autocontinue)

    def to_item_int(self, target: tuple[int, int], current: bool) -> object:
        return M.MAVLink_mission_item_int_message(
            target[0], target[1], self.seq, self._int_frame(), self.command, int(current),
            self.autocontinue, self.param1, self.param2, self.param3, self.param4,
            self.x, self.y, self.z, M.MAV_MISSION_TYPE_MISSION)

    def to_item_float(self, target: tuple[int, int], current: bool) -> object:
        scale = 1e-7 if self.frame in GLOBAL_FRAMES else 1.0
        return M.MAVLink_mission_item_message(
            target[0], target[1], self.seq, self._float_frame(), self.command, int(current),
            self.autocontinue, self.param1, self.param2, self.param3, self.param4,
            self.x * scale, self.y * scale, self.z, M.MAV_MISSION_TYPE_MISSION)

    def _int_frame(self) -> int:
        return {M.MAV_FRAME_GLOBAL: M.MAV_FRAME_GLOBAL_INT,
                M.MAV_FRAME_GLOBAL_RELATIVE_ALT: M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                M.MAV_FRAME_GLOBAL_TERRAIN_ALT: M.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT}.get(self.frame, self.frame)

    def _float_frame(self) -> int:
        return {M.MAV_FRAME_GLOBAL_INT: M.MAV_FRAME_GLOBAL,
                M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: M.MAV_FRAME_GLOBAL_RELATIVE_ALT,
                M.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT: M.MAV_FRAME_GLOBAL_TERRAIN_ALT}.get(self.frame, self.frame)


def validate_item(item: MissionItem) -> int:
    """MAV_MISSION_RESULT for an incoming item, as ArduPilot's conversion would give."""
    if item.command in NAV_COMMANDS:
        if item.frame not in GLOBAL_FRAMES and item.frame != M.MAV_FRAME_MISSION:
            return M.MAV_MISSION_UNSUPPORTED_FRAME
        return M.MAV_MISSION_ACCEPTED
    if item.command in OTHER_COMMANDS:
        if item.frame not in NON_NAV_FRAMES:
            return M.MAV_MISSION_UNSUPPORTED_FRAME
        return M.MAV_MISSION_ACCEPTED
    return M.MAV_MISSION_UNSUPPORTED


def latlon_to_ne_m(lat_e7: int, lon_e7: int, origin_lat_deg: float, origin_lon_deg: float) -> np.ndarray:
    lat = lat_e7 * 1e-7
    lon = lon_e7 * 1e-7
    north = math.radians(lat - origin_lat_deg) * EARTH_RADIUS_M
    east = math.radians(lon - origin_lon_deg) * EARTH_RADIUS_M * math.cos(math.radians(origin_lat_deg))
    return np.array([north, east])


def ne_m_to_latlon(ne_m: np.ndarray, origin_lat_deg: float, origin_lon_deg: float) -> tuple[float, float]:
    lat = origin_lat_deg + math.degrees(ne_m[0] / EARTH_RADIUS_M)
    coslat = max(1e-9, math.cos(math.radians(origin_lat_deg)))
    lon = origin_lon_deg + math.degrees(ne_m[1] / (EARTH_RADIUS_M * coslat))
    return lat, lon


SendFn = Callable[[object, object | None], None]
TextFn = Callable[[int, str], None]


class MissionServer:
    """Owns the stored mission and the upload/download transactions."""

    def __init__(self, send: SendFn, text: TextFn, on_committed: Callable[[int], None]) -> None:
        self._send = send
        self._text = text
        self._on_committed = on_committed
        self.items: list[MissionItem] = [self.home_item(0, 0)]
        self.current_seq = 0
        self._warned_float_items = False
        # upload state
        self._up_peer: object | None = None
        self._up_target = (0, 0)
        self._up_count = 0
        self._up_next = 0
        self._up_items: list[MissionItem] = []
        self._up_last_rx_s = 0.0
        self._up_last_req_s = 0.0
        self._last_done: tuple[object, int] | None = None

    @staticmethod
    def home_item(lat_e7: int, lon_e7: int) -> MissionItem:
        return MissionItem(0, M.MAV_FRAME_GLOBAL, M.MAV_CMD_NAV_WAYPOINT, x=lat_e7, y=lon_e7, z=0.0)

    @property
    def uploading(self) -> bool:
        return self._up_peer is not None

    def _ack(self, peer: object, target: tuple[int, int], result: int,
             mission_type: int = M.MAV_MISSION_TYPE_MISSION) -> None:
        self._send(M.MAVLink_mission_ack_message(target[0], target[1], result, mission_type), peer)

    def _request(self, now_s: float) -> None:
        self._send(M.MAVLink_mission_request_message(
            self._up_target[0], self._up_target[1], self._up_next, M.MAV_MISSION_TYPE_MISSION), self._up_peer)
        self._up_last_req_s = now_s

    def _end_upload(self) -> None:
        self._up_peer = None
        self._up_items = []

    def handle(self, msg: object, peer: object, sysid: int, now_s: float) -> bool:
        kind = msg.get_type()
        handler = {
            "MISSION_COUNT": self._on_count,
            "MISSION_ITEM_INT": self._on_item,
            "MISSION_ITEM": self._on_item,
            "MISSION_REQUEST_LIST": self._on_request_list,
            "MISSION_REQUEST_INT": self._on_request,
            "MISSION_REQUEST": self._on_request,
            "MISSION_CLEAR_ALL": self._on_clear,
            "MISSION_SET_CURRENT": self._on_set_current,
            "MISSION_ACK": lambda *_: None,
        }.get(kind)
        if handler is None:
            return False
        if getattr(msg, "target_system", 0) not in (0, sysid):
            return True
        handler(msg, peer, now_s)
        return True

    def _on_count(self, msg: object, peer: object, now_s: float) -> None:
        target = (msg.get_srcSystem(), msg.get_srcComponent())
        if msg.mission_type != M.MAV_MISSION_TYPE_MISSION:
            self._ack(peer, target, M.MAV_MISSION_UNSUPPORTED, msg.mission_type)
            return
        if self.uploading and peer is not self._up_peer:
            self._ack(peer, target, M.MAV_MISSION_DENIED)
            return
        if msg.count > MAX_MISSION_ITEMS:
            self._end_upload()
            self._ack(peer, target, M.MAV_MISSION_NO_SPACE)
            return
        if msg.count == 0:
            self._end_upload()
            self._commit([self.items[0]])
            self._ack(peer, target, M.MAV_MISSION_ACCEPTED)
            return
        self._up_peer = peer
        self._up_target = target
        self._up_count = msg.count
        self._up_next = 0
        self._up_items = []
        self._up_last_rx_s = now_s
        self._last_done = None
        self._request(now_s)

    def _on_item(self, msg: object, peer: object, now_s: float) -> None:
        target = (msg.get_srcSystem(), msg.get_srcComponent())
        if msg.mission_type != M.MAV_MISSION_TYPE_MISSION:
            self._ack(peer, target, M.MAV_MISSION_UNSUPPORTED, msg.mission_type)
            return
        if not self.uploading or peer is not self._up_peer:
            if self._last_done == (peer, msg.seq):
                # our final ACK was lost and the GCS resent the last item
                self._ack(peer, target, M.MAV_MISSION_ACCEPTED)
            else:
                self._ack(peer, target, M.MAV_MISSION_ERROR)
            return
        if msg.get_type() == "MISSION_ITEM" and not self._warned_float_items:
            self._warned_float_items = True
            self._text(M.MAV_SEVERITY_WARNING, "got MISSION_ITEM; GCS should send MISSION_ITEM_INT")
        if msg.seq != self._up_next:
            self._ack(peer, target, M.MAV_MISSION_INVALID_SEQUENCE)
            return
        item = MissionItem.from_message(msg)
        result = validate_item(item) if item.seq > 0 else M.MAV_MISSION_ACCEPTED
        if result != M.MAV_MISSION_ACCEPTED:
            self._end_upload()
            self._ack(peer, target, result)
            return
        self._up_items.append(item)
        self._up_next += 1
        self._up_last_rx_s = now_s
        if self._up_next >= self._up_count:
            items = self._up_items
            self._end_upload()
            self._last_done = (peer, msg.seq)
            # item 0 is always home: the uploaded one is kept only for download symmetry
            self._commit([self.items[0], *items[1:]])
            self._ack(peer, target, M.MAV_MISSION_ACCEPTED)
        else:
            self._request(now_s)

    def _commit(self, items: list[MissionItem]) -> None:
        self.items = items
        if self.current_seq >= len(items):
            self.current_seq = 0
        self._on_committed(len(items))

    def _on_request_list(self, msg: object, peer: object, now_s: float) -> None:
        target = (msg.get_srcSystem(), msg.get_srcComponent())
        count = len(self.items) if msg.mission_type == M.MAV_MISSION_TYPE_MISSION else 0
        self._send(M.MAVLink_mission_count_message(target[0], target[1], count, msg.mission_type), peer)

    def _on_request(self, msg: object, peer: object, now_s: float) -> None:
        target = (msg.get_srcSystem(), msg.get_srcComponent())
        if msg.mission_type != M.MAV_MISSION_TYPE_MISSION:
            self._ack(peer, target, M.MAV_MISSION_UNSUPPORTED, msg.mission_type)
            return
        if not 0 <= msg.seq < len(self.items):
            self._ack(peer, target, M.MAV_MISSION_INVALID_SEQUENCE)
            return
        item = self.items[msg.seq]
        current = msg.seq == self.current_seq
        if msg.get_type() == "MISSION_REQUEST_INT":
            self._send(item.to_item_int(target, current), peer)
        else:
            self._send(item.to_item_float(target, current), peer)

    def _on_clear(self, msg: object, peer: object, now_s: float) -> None:
        target = (msg.get_srcSystem(), msg.get_srcComponent())
        if msg.mission_type != M.MAV_MISSION_TYPE_MISSION:
            self._ack(peer, target, M.MAV_MISSION_ACCEPTED, msg.mission_type)
            return
        self._end_upload()
        self._commit([self.items[0]])
        self.current_seq = 0
        self._ack(peer, target, M.MAV_MISSION_ACCEPTED)

    def _on_set_current(self, msg: object, peer: object, now_s: float) -> None:
        if 0 <= msg.seq < len(self.items):
            self.current_seq = msg.seq
            self._send(M.MAVLink_mission_current_message(msg.seq), None)

    def tick(self, now_s: float) -> None:
        if not self.uploading:
            return
        if now_s - self._up_last_rx_s > UPLOAD_TIMEOUT_S:
            peer, target = self._up_peer, self._up_target
            self._end_upload()
            self._ack(peer, target, M.MAV_MISSION_OPERATION_CANCELLED)
        elif now_s - self._up_last_req_s > ITEM_RETRY_S:
            self._request(now_s)


class MissionRunner:
    """Executes the stored mission in AUTO: turns items into navigation targets."""

    def __init__(self, server: MissionServer, send: SendFn, text: TextFn) -> None:
        self._server = server
        self._send = send
        self._text = text
        self.speed_m_s: float | None = None
        self._item_started_s: float | None = None
        self._arrived_s: float | None = None
        self._jump_counts: dict[int, int] = {}
        self.complete = False
        self._hold: NavTarget | None = None

    def start(self, now_s: float) -> None:
        if self._server.current_seq == 0:
            self._set_current(1 if len(self._server.items) > 1 else 0)
        self._item_started_s = now_s
        self._arrived_s = None
        self._jump_counts.clear()
        self.complete = False
        self._hold = None

    def _set_current(self, seq: int) -> None:
        self._server.current_seq = seq
        self._send(M.MAVLink_mission_current_message(seq), None)

    def _advance(self, now_s: float, reached: bool) -> None:
        seq = self._server.current_seq
        if reached:
            self._send(M.MAVLink_mission_item_reached_message(seq), None)
            self._text(M.MAV_SEVERITY_INFO, f"Reached command #{seq}")
        self._item_started_s = now_s
        self._arrived_s = None
        if seq + 1 >= len(self._server.items):
            self.complete = True
            self._text(M.MAV_SEVERITY_INFO, "Mission complete")
            return
        self._set_current(seq + 1)

    def target(self, now_s: float, est_ned_m: np.ndarray, depth_m: float, origin: tuple[float, float],
               default_speed_m_s: float, radius_m: float) -> NavTarget:
        """Navigation target for this step; advances through non-nav items at once."""
        speed = self.speed_m_s or default_speed_m_s
        for _ in range(len(self._server.items) + 1):
            if self.complete or self._server.current_seq >= len(self._server.items):
                self.complete = True
                if self._hold is None:
                    self._hold = NavTarget(np.array(est_ned_m[:2]), depth_m, speed_m_s=speed)
                return self._hold
            item = self._server.items[self._server.current_seq]
            if self._item_started_s is None:
                self._item_started_s = now_s
            cmd = item.command
            if cmd == M.MAV_CMD_DO_CHANGE_SPEED:
                if item.param2 > 0:
                    self.speed_m_s = item.param2
                self._advance(now_s, reached=False)
                continue
            if cmd == M.MAV_CMD_DO_JUMP:
                done = self._jump_counts.get(item.seq, 0)
                if item.param2 < 0 or done < item.param2:
                    self._jump_counts[item.seq] = done + 1
                    self._set_current(max(1, int(item.param1)))
                    self._item_started_s = now_s
                else:
                    self._advance(now_s, reached=False)
                continue
            if cmd in (M.MAV_CMD_NAV_DELAY, M.MAV_CMD_CONDITION_DELAY):
                if self._hold is None:
                    self._hold = NavTarget(np.array(est_ned_m[:2]), depth_m, speed_m_s=speed)
                if now_s - self._item_started_s >= max(0.0, item.param1):
                    self._hold = None
                    self._advance(now_s, reached=True)
                    continue
                return self._hold
            if cmd not in NAV_COMMANDS or item.frame not in GLOBAL_FRAMES:
                self._advance(now_s, reached=False)
                continue
            self._hold = None
            goal_ne = latlon_to_ne_m(item.x, item.y, *origin)
            if item.x == 0 and item.y == 0:
                goal_ne = np.array(est_ned_m[:2])  # 0,0 means "here" in QGC plans
            goal_depth = max(0.0, -item.z)
            dist = float(np.linalg.norm(goal_ne - est_ned_m[:2]))
            arrived = dist <= radius_m and abs(goal_depth - depth_m) <= REACHED_DEPTH_TOLERANCE_M
            if arrived and self._arrived_s is None:
                self._arrived_s = now_s
            hold_s = item.param1 if cmd in (M.MAV_CMD_NAV_WAYPOINT, M.MAV_CMD_NAV_LOITER_TIME) else 0.0
            if cmd == M.MAV_CMD_NAV_LOITER_UNLIM:
                hold_s = math.inf
            if self._arrived_s is not None and now_s - self._arrived_s >= hold_s:
                self._advance(now_s, reached=True)
                continue
            yaw = None
            if dist > 2.0:
                yaw = math.atan2(goal_ne[1] - est_ned_m[1], goal_ne[0] - est_ned_m[0])
            return NavTarget(goal_ne, goal_depth, yaw_rad=yaw, speed_m_s=speed)
        return NavTarget(np.array(est_ned_m[:2]), depth_m, speed_m_s=speed)
