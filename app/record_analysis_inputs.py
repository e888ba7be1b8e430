"""What re-analysis needs from a record besides its video and sonar: the hull the live map
was made on, the vehicle's poses from the tlog, and the frames' capture times, all on the
UTC clock (the tlog's UNIX times, frames.csv's and pings.csv's t_utc_s).

Live, the station put everything on its monotonic clock; a record keeps UTC beside it, so
analysis replays the same messages through the same reducers (vehicle.telemetry) and the
same pose rule (app.station_map.vehicle_pose_of) with UTC times instead.
"""
from __future__ import annotations

import bisect
import dataclasses
from pathlib import Path

import numpy as np

from recording.errors import RecordError

RTP_CLOCK_HZ = 90_000.0
RTP_RESTART_S = 1.0  # an RTP step this far off the receive-time step is a restarted sender


@dataclasses.dataclass(frozen=True, eq=False)
class HullRebuild:
    """The hull the record's live map was made on, rebuilt; model None when it cannot be
    (then `problem` says why and analysis detects without mapping)."""

    model: object | None  # hull.model.HullModel
    placement: object | None  # hull.placement.Placement (the recorded one)
    how: str  # "parametric", "mesh", "embedded world" or "" when not rebuilt
    problem: str = ""
    sonar_tilt_deg: float = 10.0  # the multibeam's mount, tilted down (the station's default)
    camera_hfov_deg: float = 80.0


def rebuild_hull(doc: dict) -> HullRebuild:
    """From mission.json's "hull" (app.station.Station._hull_identity)."""
    from hull.placement import Placement, PlacementError
    from sim.camera_render import CameraConfig

    hull = doc.get("hull")
    hfov = CameraConfig().hfov_deg
    if not isinstance(hull, dict):
        return HullRebuild(None, None, "", "the record names no hull (the live station had none loaded)",
                           camera_hfov_deg=hfov)
    try:
        placement = Placement.from_dict(hull.get("placement") or {})
    except PlacementError as exc:
        return HullRebuild(None, None, "", f"the recorded vessel placement is unusable ({exc})", camera_hfov_deg=hfov)
    try:
        if hull.get("embedded_world"):
            return _embedded(hull, placement, hfov)
        if hull.get("parametric"):
            return HullRebuild(_parametric(hull["parametric"]), placement, "parametric", camera_hfov_deg=hfov)
        return _mesh(hull, placement, hfov)
    except (OSError, TypeError, ValueError) as exc:
        return HullRebuild(None, placement, "", f"the hull cannot be rebuilt ({exc})", camera_hfov_deg=hfov)


def _parametric(dims: dict):
    from hull.model import HullModel
    from hull.parametric import HullDimensions

    return HullModel.parametric_hull(HullDimensions(**dims))


def _embedded(hull: dict, placement, hfov: float) -> HullRebuild:
    """The embedded world's ship, berth and sonar mount as the station mapped with them;
    the berth must be the recorded one. Its default ship is parametric: rebuilt from the
    recorded dimensions and berthed as sim.embedded_world berths it (1 s), instead of
    building the whole world with its scenario and renderers (8 s)."""
    import inspect

    from sim.embedded_world import DEFAULT_SEED, berth_beside_start, build_world
    from sim.world import World

    if hull.get("parametric"):
        model = _parametric(hull["parametric"])
        world_placement = berth_beside_start(model, float(hull["parametric"].get("draft_m", placement.draft_m)))
        tilt = float(inspect.signature(World).parameters["sonar_tilt_deg"].default)
    else:
        ew = build_world(seed=DEFAULT_SEED)
        model, world_placement, tilt = ew.model, ew.scenario.placement, float(ew.world.sonar_tilt_deg)
    if world_placement.to_dict() != placement.to_dict():
        return HullRebuild(None, placement, "", "the embedded world of this HullWatch is berthed differently from "
                           "the recorded one (another version or scenario)", camera_hfov_deg=hfov)
    return HullRebuild(model, placement, "embedded world", sonar_tilt_deg=tilt, camera_hfov_deg=hfov)


def _mesh(hull: dict, placement, hfov: float) -> HullRebuild:
    from hull.model import HullModel

    src = hull.get("source_path")
    if not src or not Path(src).is_file():
        return HullRebuild(None, placement, "", f"the hull file {src or '(none named)'} is not on this computer",
                           camera_hfov_deg=hfov)
    model = HullModel.load(src)
    if hull.get("sha256") and model.sha256 != hull["sha256"]:
        return HullRebuild(None, placement, "", f"{src} is not the hull file the mission mapped on "
                           "(its SHA-256 differs)", camera_hfov_deg=hfov)
    return HullRebuild(model, placement, "mesh", camera_hfov_deg=hfov)


@dataclasses.dataclass(frozen=True, eq=False)
class RecordTelemetry:
    """Vehicle poses (hull.pose.VehiclePose, t_s UTC, time order) and the camera tilt
    (deg, up +) as it changed, from the vehicle's own messages in the tlog."""

    poses: tuple
    tilt_t_s: np.ndarray
    tilt_deg: np.ndarray
    messages: int

    def tilt_at(self, t_utc_s: float) -> float:
        i = bisect.bisect_right(self.tilt_t_s, t_utc_s) - 1
        return float(self.tilt_deg[i]) if i >= 0 else 0.0

    def pose_times(self) -> list[float]:
        return [p.t_s for p in self.poses]


def read_telemetry(tlog_path: Path, placement) -> RecordTelemetry:
    """Replays the vehicle's messages (the first autopilot heartbeat names the system and component; the
    station's own messages in the tlog are skipped) through vehicle.telemetry.apply_message;
    a pose at every ATTITUDE, as the live pose feeder makes them."""
    from vehicle.state import VehicleState
    from vehicle.telemetry import apply_message
    from vehicle.tlog import TlogError, iter_tlog_messages
    from vehicle.vehicle import is_autopilot_heartbeat

    from .station_map import cam_tilt_deg, vehicle_pose_of

    if not Path(tlog_path).is_file():
        raise RecordError(f"{tlog_path} is missing: the record has no telemetry to place its frames with")
    state, system = VehicleState(), None
    poses, tilt_t, tilt = [], [], []
    messages = 0
    try:
        for t_s, msg in iter_tlog_messages(str(tlog_path)):
            hdr = msg.get_header()
            if system is None:
                if msg.get_type() != "HEARTBEAT" or not is_autopilot_heartbeat(msg):
                    continue
                system = (hdr.srcSystem, hdr.srcComponent)
            if (hdr.srcSystem, hdr.srcComponent) != system:
                continue  # a companion computer on the same system (BlueOS) sends heartbeats of its own
            messages += 1
            kind = msg.get_type()
            before = state.cam_tilt
            state = apply_message(state, msg, t_s)
            if kind == "ATTITUDE" and placement is not None:
                pose = vehicle_pose_of(state, placement)
                if pose is not None and (not poses or pose.t_s > poses[-1].t_s):
                    poses.append(pose)
            elif kind == "NAMED_VALUE_FLOAT" and state.cam_tilt != before:
                tilt_t.append(t_s)
                tilt.append(cam_tilt_deg(state.cam_tilt))
    except TlogError as exc:
        raise RecordError(f"{tlog_path}: {exc}") from None
    return RecordTelemetry(tuple(poses), np.array(tilt_t, float), np.array(tilt, float), messages)


def capture_times_utc(frames: np.ndarray) -> np.ndarray:
    """(N,) capture time (UTC s) of each recorded frame: its RTP time anchored, as the live
    video source does, on the fastest frame so far (the smallest receive-minus-RTP time),
    so network and decoder delay are not in it. A restarted sender starts a new anchor."""
    t_rx = np.asarray(frames["t_utc_s"], float)
    rtp_s = np.asarray(frames["rtp_timestamp"], float) / RTP_CLOCK_HZ
    out = np.empty(len(t_rx))
    anchor = None
    for i in range(len(t_rx)):
        if i and abs((rtp_s[i] - rtp_s[i - 1]) - (t_rx[i] - t_rx[i - 1])) > RTP_RESTART_S:
            anchor = None
        offset = t_rx[i] - rtp_s[i]
        anchor = offset if anchor is None else min(anchor, offset)
        out[i] = anchor + rtp_s[i]
    if len(out):
        out = np.maximum.accumulate(out)  # as live: a capture time never steps back
    return out
