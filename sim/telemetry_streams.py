"""Which messages stream at what rate: MAV_CMD_SET_MESSAGE_INTERVAL per message, and
ArduPilot's legacy REQUEST_DATA_STREAM groups. Everything starts off (SRx_* = 0)."""
from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

M = mavlink

# ArduSub's stream groups (GCS_Mavlink.cpp), restricted to what the sim produces.
STREAM_GROUPS: dict[int, tuple[int, ...]] = {
    M.MAV_DATA_STREAM_RAW_SENSORS: (
        M.MAVLINK_MSG_ID_SCALED_PRESSURE, M.MAVLINK_MSG_ID_SCALED_PRESSURE2),
    M.MAV_DATA_STREAM_EXTENDED_STATUS: (
        M.MAVLINK_MSG_ID_SYS_STATUS, M.MAVLINK_MSG_ID_MISSION_CURRENT,
        M.MAVLINK_MSG_ID_GPS_RAW_INT, M.MAVLINK_MSG_ID_NAMED_VALUE_FLOAT),
    M.MAV_DATA_STREAM_RC_CHANNELS: (
        M.MAVLINK_MSG_ID_SERVO_OUTPUT_RAW, M.MAVLINK_MSG_ID_RC_CHANNELS),
    M.MAV_DATA_STREAM_RAW_CONTROLLER: (),
    M.MAV_DATA_STREAM_POSITION: (
        M.MAVLINK_MSG_ID_GLOBAL_POSITION_INT, M.MAVLINK_MSG_ID_LOCAL_POSITION_NED),
    M.MAV_DATA_STREAM_EXTRA1: (M.MAVLINK_MSG_ID_ATTITUDE,),
    M.MAV_DATA_STREAM_EXTRA2: (M.MAVLINK_MSG_ID_VFR_HUD,),
    M.MAV_DATA_STREAM_EXTRA3: (
        M.MAVLINK_MSG_ID_SYSTEM_TIME, M.MAVLINK_MSG_ID_RANGEFINDER,
        M.MAVLINK_MSG_ID_DISTANCE_SENSOR, M.MAVLINK_MSG_ID_BATTERY_STATUS,
        M.MAVLINK_MSG_ID_EKF_STATUS_REPORT),
}

MAX_RATE_HZ = 50.0  # the scheduler runs at 50 Hz


class StreamScheduler:
    """Per-message intervals; decides which messages are due on each tick."""

    def __init__(self, streamable: frozenset[int]) -> None:
        self.streamable = streamable
        self._explicit_s: dict[int, float] = {}   # msg id -> interval; <0 = disabled
        self._group_rate_hz: dict[int, float] = {}
        self._next_due_s: dict[int, float] = {}

    def set_message_interval(self, msg_id: int, interval_us: float) -> bool:
        """MAV_CMD_SET_MESSAGE_INTERVAL semantics; False if we cannot stream it."""
        if msg_id not in self.streamable:
            return False
        if interval_us < 0:
            self._explicit_s[msg_id] = -1.0
        elif interval_us == 0:
            self._explicit_s.pop(msg_id, None)   # back to the default (group) rate
        else:
            self._explicit_s[msg_id] = max(1.0 / MAX_RATE_HZ, interval_us / 1e6)
        self._next_due_s.pop(msg_id, None)
        return True

    def request_data_stream(self, stream_id: int, rate_hz: int, start: bool) -> None:
        rate = float(rate_hz) if start else 0.0
        if not start or rate_hz > 0:
            ids = list(STREAM_GROUPS) if stream_id == M.MAV_DATA_STREAM_ALL else [stream_id]
            for sid in ids:
                if sid in STREAM_GROUPS:
                    self._group_rate_hz[sid] = min(rate, MAX_RATE_HZ)
                    for msg_id in STREAM_GROUPS[sid]:
                        self._next_due_s.pop(msg_id, None)

    def interval_s(self, msg_id: int) -> float | None:
        explicit = self._explicit_s.get(msg_id)
        if explicit is not None:
            return explicit if explicit > 0 else None
        best = 0.0
        for sid, members in STREAM_GROUPS.items():
            if msg_id in members:
                best = max(best, self._group_rate_hz.get(sid, 0.0))
        if best > 0.0:
            return 1.0 / best
        return None

    def interval_us_reported(self, msg_id: int) -> int:
        """For MESSAGE_INTERVAL: -1 disabled, else microseconds (0 = not streaming)."""
        interval = self.interval_s(msg_id)
        if interval is None:
            return -1 if self._explicit_s.get(msg_id, 0.0) < 0 else 0
        return int(interval * 1e6)

    def any_active(self) -> bool:
        if any(rate > 0 for rate in self._group_rate_hz.values()):
            return True
        return any(v > 0 for k, v in self._explicit_s.items() if k != M.MAVLINK_MSG_ID_NAMED_VALUE_FLOAT)

    def due(self, now_s: float) -> list[int]:
        out = []
        for msg_id in self.streamable:
            interval = self.interval_s(msg_id)
            if interval is None:
                continue
            next_due = self._next_due_s.get(msg_id)
            if next_due is None:
                self._next_due_s[msg_id] = now_s + interval
                out.append(msg_id)
            elif now_s + 1e-4 >= next_due:
                # keep the average rate even though ticks fall between deadlines
                self._next_due_s[msg_id] = max(next_due + interval, now_s - interval)
                out.append(msg_id)
        return out
