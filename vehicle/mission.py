"""Mission transfer (upload, download, clear, set current) as ArduSub 4.x speaks it.

ArduSub requests items with MISSION_REQUEST (not _INT) and takes MISSION_ITEM_INT in
reply; it re-requests an item after 1 s and cancels after 8 s of silence. Our side
retries on an adaptive timeout (smoothed round trip, like TCP's RTO) so a lossy link
costs little, and uses MISSION_ACK INVALID_SEQUENCE as the hint that the vehicle is
already past the item we resent.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Sequence

from .dialect import mavlink
from .errors import MissionTransferError
from .events import TransferProgress
from .telemetry import enum_name

MISSION_TYPE = mavlink.MAV_MISSION_TYPE_MISSION
DOWNLOAD_WINDOW = 8  # item requests in flight during a download
LAST_ITEM_TRIES = 2  # resends of the final item before checking whether the ACK was lost


@dataclasses.dataclass(frozen=True)
class MissionItem:
    """One MISSION_ITEM_INT. x/y are lat/lon in degE7 for global frames, z in metres
    (ArduSub: negative = depth in the relative frame)."""

    seq: int
    command: int
    frame: int = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
    x: int = 0
    y: int = 0
    z: float = 0.0
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    current: int = 0
    autocontinue: int = 1

    def to_message(self, target_system: int, target_component: int):
        return mavlink.MAVLink_mission_item_int_message(
            target_system, target_component, self.seq, self.frame, self.command, self.current,
            self.autocontinue, self.param1, self.param2, self.param3, self.param4,
            int(self.x), int(self.y), float(self.z), MISSION_TYPE)

    @classmethod
    def from_message(cls, m) -> "MissionItem":
        x, y = m.x, m.y
        if m._type == "MISSION_ITEM":  # float lat/lon
            x, y = int(round(m.x * 1e7)), int(round(m.y * 1e7))
        return cls(m.seq, m.command, m.frame, x, y, float(m.z), m.param1, m.param2, m.param3,
                   m.param4, m.current, m.autocontinue)

    def same_as(self, other: "MissionItem") -> bool:
        """Equal as the vehicle stores them (float32 params and z)."""
        def f32(a, b):
            return abs(a - b) <= 1e-5 * max(1.0, abs(a), abs(b))
        return (self.seq == other.seq and self.command == other.command and self.frame == other.frame
                and self.x == other.x and self.y == other.y and f32(self.z, other.z)
                and all(f32(getattr(self, p), getattr(other, p)) for p in ("param1", "param2", "param3", "param4"))
                and self.autocontinue == other.autocontinue)


def waypoint(seq: int, lat_deg: float, lon_deg: float, depth_m: float, hold_s: float = 0.0,
             accept_radius_m: float = 0.0) -> MissionItem:
    """A NAV_WAYPOINT at a depth (ArduSub altitude is negative depth)."""
    return MissionItem(seq, mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                       int(round(lat_deg * 1e7)), int(round(lon_deg * 1e7)), -float(depth_m),
                       hold_s, accept_radius_m)


class _Rto:
    """Retransmission timeout from smoothed round-trip samples (RFC 6298 style)."""

    def __init__(self, lo_s: float, hi_s: float):
        self.lo, self.hi = lo_s, hi_s
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.value = min(hi_s, max(lo_s, 0.5))

    def sample(self, rtt_s: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = rtt_s, rtt_s / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt_s)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt_s
        self.value = min(self.hi, max(self.lo, self.srtt + 4 * self.rttvar))

    def backoff(self) -> None:
        # gentle: loss on a tether or radio is mostly random, not congestion
        self.value = min(self.hi, self.value * 1.25)


def _result_name(result: int) -> str:
    return enum_name("MAV_MISSION_RESULT", result, "MAV_MISSION_")


class MissionTransfer:
    def __init__(self, vehicle):
        self._v = vehicle
        self.last_round_trip_s: float | None = None
        self.retransmissions = 0

    # -- upload ---------------------------------------------------------------
    def upload(self, items: Sequence[MissionItem]) -> None:
        """Replace the vehicle's mission. Item 0 is home for ArduPilot."""
        items = list(items)
        for i, item in enumerate(items):
            if item.seq != i:
                raise MissionTransferError(f"mission item {i} has seq {item.seq}; items must be numbered 0..n-1")
        v, tmo = self._v, self._v.timeouts
        sysid, compid = v.target()
        count = len(items)
        rto = _Rto(tmo.mission_rto_min_s, tmo.mission_rto_max_s)
        deadline = time.monotonic() + tmo.mission_total_s
        self.retransmissions = 0
        types = ["MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK"]
        with v.router.waiter(types, lambda m: getattr(m, "mission_type", 0) == MISSION_TYPE) as q:
            def send_count():
                v.connection.send(mavlink.MAVLink_mission_count_message(sysid, compid, count, MISSION_TYPE))

            send_count()
            sent_at = time.monotonic()
            last_sent: int | None = None  # seq of the item sent last; None = the count
            tries = 0
            resent = False  # the last item went out again after a timeout
            requested_max = -1
            done_items = 0
            heard_at = time.monotonic()  # last word from the vehicle: retries stop only after real silence
            while True:
                if time.monotonic() > deadline:
                    raise MissionTransferError(f"mission upload timed out after {tmo.mission_total_s:.0f} s "
                                               f"at item {requested_max + 1} of {count}")
                m = q.get(rto.value)
                if m is None:
                    tries += 1
                    self.retransmissions += 1
                    if last_sent == count - 1 and tries >= LAST_ITEM_TRIES and self._vehicle_has_count(count):
                        # ArduPilot ignores items once a transfer is complete, so a lost
                        # final ACK is never repeated: ask how many items it now holds
                        v.events.emit(TransferProgress("mission upload", count, count))
                        return
                    if tries > tmo.mission_retries and time.monotonic() - heard_at > tmo.mission_stall_s:
                        where = "the item count" if last_sent is None else f"item {last_sent}"
                        raise MissionTransferError(f"mission upload failed: no answer to {where} after "
                                                   f"{tries} tries; check the link")
                    rto.backoff()
                    if last_sent is None:
                        send_count()
                    else:
                        v.connection.send(items[last_sent].to_message(sysid, compid))
                        resent = True
                    sent_at = time.monotonic()
                    continue
                heard_at = time.monotonic()
                if m._type == "MISSION_ACK":
                    if m.type == mavlink.MAV_MISSION_ACCEPTED:
                        if count == 0 or requested_max == count - 1:
                            v.events.emit(TransferProgress("mission upload", count, count))
                            return
                        continue  # a stale ack from an earlier transfer
                    if m.type == mavlink.MAV_MISSION_INVALID_SEQUENCE:
                        # the vehicle already has the item we resent: its request for the
                        # next one was lost, so send that one now instead of waiting 1 s
                        if resent and last_sent is not None and last_sent + 1 < count:
                            last_sent += 1
                            resent = False
                            v.connection.send(items[last_sent].to_message(sysid, compid))
                            sent_at = time.monotonic()
                        continue
                    raise MissionTransferError(
                        f"the vehicle refused the mission: {_result_name(m.type)}"
                        + (f" at item {requested_max}" if requested_max >= 0 else ""),
                        m.type, _result_name(m.type))
                seq = m.seq
                if not 0 <= seq < count:
                    raise MissionTransferError(f"the vehicle asked for item {seq} of a {count}-item mission")
                if seq == requested_max + 1 or last_sent is None:
                    rto.sample(time.monotonic() - sent_at)
                    self.last_round_trip_s = rto.srtt
                tries = 0
                resent = False
                requested_max = max(requested_max, seq)
                last_sent = seq
                v.connection.send(items[seq].to_message(sysid, compid))
                sent_at = time.monotonic()
                if seq + 1 - done_items >= 10 or seq == count - 1:
                    done_items = seq + 1
                    v.events.emit(TransferProgress("mission upload", seq, count))

    def _vehicle_has_count(self, count: int) -> bool:
        v, tmo = self._v, self._v.timeouts
        sysid, compid = v.target()
        with v.router.waiter(["MISSION_COUNT"], lambda m: getattr(m, "mission_type", 0) == MISSION_TYPE) as q:
            for _ in range(1 + tmo.mission_retries):
                v.connection.send(mavlink.MAVLink_mission_request_list_message(sysid, compid, MISSION_TYPE))
                m = q.get(tmo.mission_rto_max_s)
                if m is not None:
                    # close the download we just opened, as a GCS must
                    v.connection.send(mavlink.MAVLink_mission_ack_message(
                        sysid, compid, mavlink.MAV_MISSION_ACCEPTED, MISSION_TYPE))
                    return m.count == count
        return False

    # -- download -------------------------------------------------------------
    def download(self) -> list[MissionItem]:
        v, tmo = self._v, self._v.timeouts
        sysid, compid = v.target()
        rto = _Rto(tmo.mission_rto_min_s, tmo.mission_rto_max_s)
        deadline = time.monotonic() + tmo.mission_total_s
        self.retransmissions = 0
        with v.router.waiter(["MISSION_COUNT", "MISSION_ACK"],
                             lambda m: getattr(m, "mission_type", 0) == MISSION_TYPE) as q:
            count = None
            for _ in range(1 + tmo.mission_retries):
                sent_at = time.monotonic()
                v.connection.send(mavlink.MAVLink_mission_request_list_message(sysid, compid, MISSION_TYPE))
                m = _count_answer(q, sent_at + rto.value)
                if m is None:
                    self.retransmissions += 1
                    rto.backoff()
                    continue
                if m._type == "MISSION_ACK":
                    raise MissionTransferError(f"the vehicle refused the mission download: {_result_name(m.type)}",
                                               m.type, _result_name(m.type))
                rto.sample(time.monotonic() - sent_at)
                count = m.count
                break
            if count is None:
                raise MissionTransferError("mission download failed: the vehicle never sent its item count")
        return self._download_items(count, rto, deadline)

    def _download_items(self, count: int, rto: "_Rto", deadline: float) -> list[MissionItem]:
        """Requests a window of items at once (the vehicle answers each MISSION_REQUEST_INT
        on its own), re-requesting any whose answer is overdue: on a lossy link this costs
        one timeout per window rather than one per lost packet."""
        v, tmo = self._v, self._v.timeouts
        sysid, compid = v.target()
        got: dict[int, MissionItem] = {}
        sent_at: dict[int, float] = {}
        tries: dict[int, int] = {}
        next_new = 0
        last_progress = -1
        heard_at = time.monotonic()
        with v.router.waiter(["MISSION_ITEM_INT", "MISSION_ITEM", "MISSION_ACK"],
                             lambda m: getattr(m, "mission_type", 0) == MISSION_TYPE) as q:
            while len(got) < count:
                now = time.monotonic()
                if now > deadline:
                    raise MissionTransferError(f"mission download timed out with {len(got)} of {count} items")
                for seq, t in list(sent_at.items()):  # overdue: ask again
                    if now - t > rto.value:
                        tries[seq] = tries.get(seq, 0) + 1
                        self.retransmissions += 1
                        if tries[seq] > tmo.mission_retries and now - heard_at > tmo.mission_stall_s:
                            raise MissionTransferError(f"mission download failed: item {seq} of {count} never "
                                                       f"arrived after {tries[seq]} tries; check the link")
                        v.connection.send(mavlink.MAVLink_mission_request_int_message(sysid, compid, seq, MISSION_TYPE))
                        sent_at[seq] = now
                while next_new < count and len(sent_at) < DOWNLOAD_WINDOW:
                    v.connection.send(mavlink.MAVLink_mission_request_int_message(sysid, compid, next_new, MISSION_TYPE))
                    sent_at[next_new] = time.monotonic()
                    next_new += 1
                wait_s = min(sent_at.values()) + rto.value - time.monotonic() if sent_at else 0.0
                m = q.get(max(0.0, wait_s))
                if m is None:
                    continue  # the overdue requests go out again at the top of the loop
                heard_at = time.monotonic()
                if m._type == "MISSION_ACK":
                    if m.type != mavlink.MAV_MISSION_ACCEPTED:
                        raise MissionTransferError(f"the vehicle aborted the download: {_result_name(m.type)}",
                                                   m.type, _result_name(m.type))
                    continue
                seq = m.seq
                if seq in got or not 0 <= seq < count:
                    continue
                t_sent = sent_at.pop(seq, None)
                if t_sent is not None and not tries.get(seq):
                    rto.sample(time.monotonic() - t_sent)
                got[seq] = MissionItem.from_message(m)
                if len(got) // 10 != last_progress:
                    last_progress = len(got) // 10
                    v.events.emit(TransferProgress("mission download", len(got), count))
        v.events.emit(TransferProgress("mission download", count, count))
        v.connection.send(mavlink.MAVLink_mission_ack_message(sysid, compid, mavlink.MAV_MISSION_ACCEPTED,
                                                              MISSION_TYPE))
        return [got[i] for i in range(count)]

    # -- other operations -----------------------------------------------------
    def clear(self) -> None:
        v, tmo = self._v, self._v.timeouts
        sysid, compid = v.target()
        with v.router.waiter(["MISSION_ACK"], lambda m: getattr(m, "mission_type", 0) == MISSION_TYPE) as q:
            for _ in range(1 + tmo.command_retries):
                v.connection.send(mavlink.MAVLink_mission_clear_all_message(sysid, compid, MISSION_TYPE))
                m = q.get(tmo.command_ack_s)
                if m is None:
                    continue
                if m.type == mavlink.MAV_MISSION_ACCEPTED:
                    return
                raise MissionTransferError(f"the vehicle refused to clear its mission: {_result_name(m.type)}",
                                           m.type, _result_name(m.type))
        raise MissionTransferError("mission clear: no answer from the vehicle; check the link")

    def set_current(self, seq: int) -> None:
        v, tmo = self._v, self._v.timeouts
        sysid, compid = v.target()
        with v.router.waiter(["MISSION_CURRENT"], lambda m: m.seq == seq) as q:
            for _ in range(1 + tmo.command_retries):
                v.connection.send(mavlink.MAVLink_mission_set_current_message(sysid, compid, seq))
                if q.get(tmo.command_ack_s) is not None:
                    return
        raise MissionTransferError(f"the vehicle did not confirm item {seq} as current (is it in the mission?)")


def _count_answer(q, until_s: float):
    """The answer to a request list by until_s (monotonic): MISSION_COUNT or a refusing ACK.
    An ACCEPTED ack is never that answer but a late repeat of the upload's last one (the
    vehicle re-acknowledges an item re-sent over a lossy link): skipped."""
    while True:
        m = q.get(max(0.0, until_s - time.monotonic()))
        if m is None or m._type != "MISSION_ACK" or m.type != mavlink.MAV_MISSION_ACCEPTED:
            return m
