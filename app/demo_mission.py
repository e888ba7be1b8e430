"""A complete simulated inspection without a window (`hullwatch demo --headless`): plan the
sweep over the embedded world's ship (niche areas first), record, dive it in AUTO with live
detection and mapping, close and sign the record, and sum it up against the planted truth.

Every wait is bounded. The station's own classes do the work, as in the GUI: Station
(world, link, sensors, detectors, map), the planner, the mission upload, the recorder.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np

from .errors import UserError

DEMO_LIGHTS = 0.5
DISCOVER_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 30.0
VESSEL = "MV Embedded Example"  # the embedded world's ship; the IMO below is a valid-format example
IMO = "9000001"
DEMO_ORIGIN = (53.5450, 9.9660)  # a quay in the port of Hamburg: any place works, the world is local


@dataclasses.dataclass(frozen=True)
class FindingRow:
    finding_id: int
    class_name: str
    address: str
    sources: tuple
    confidence: float
    truth: str | None  # the planted object it is nearest to
    error_m: float | None  # distance to that object's centre


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    record: str
    duration_s: float
    plan_legs: int
    plan_items: int
    items_reached: int
    mission_complete: bool
    coverage_pct: float
    coverage_camera_pct: float
    coverage_sonar_pct: float
    per_niche_pct: dict
    findings: tuple[FindingRow, ...]
    planted: int  # alarm-class objects in the world
    frames: dict  # camera and sonar: decoded/received, processed, dropped
    manifest_sha256: str

    def lines(self) -> list[str]:
        out = [f"record: {self.record}", f"mission: {self.duration_s / 60:.1f} min, {self.items_reached} of "
               f"{self.plan_items} mission items reached ({'complete' if self.mission_complete else 'stopped early'}"
               f", plan of {self.plan_legs} legs, niche areas first)",
               f"coverage: {self.coverage_pct:.1f} % of the wetted hull (camera {self.coverage_camera_pct:.1f} %, "
               f"sonar {self.coverage_sonar_pct:.1f} %)"]
        seen = {k: v for k, v in self.per_niche_pct.items() if v > 0}
        if seen:
            out.append("niche areas seen: " + ", ".join(f"{k} {v:.0f} %" for k, v in seen.items()))
        out.append(f"findings: {len(self.findings)} (planted alarm-class objects in the world: {self.planted})")
        for f in self.findings:
            err = f"{f.error_m:.2f} m from {f.truth}" if f.error_m is not None else "no planted object near"
            out.append(f"  #{f.finding_id} {f.class_name} {f.confidence:.2f} ({'+'.join(f.sources)}) at "
                       f"{f.address}: {err}")
        for name, c in self.frames.items():
            out.append(f"{name}: {c['received']} received, {c['processed']} detected, {c['dropped']} dropped "
                       f"({c['dropped_pct']:.0f} %: the detector takes the newest frame and skips the rest)")
        out.append(f"manifest SHA-256: {self.manifest_sha256}")
        return out


def run_demo(duration_s: float | None, out_dir: Path, log=print) -> DemoSummary:
    from recording.mission_record import MissionInfo

    from .station import Station, StationConfig

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    station = Station(StationConfig(records_dir=out_dir), log=log)
    t0 = time.monotonic()
    try:
        station.recover_interrupted()
        station.start(progress=lambda f, text: log(f"start: {text}"))
        vehicle = station.vehicle
        vehicle.wait_discovered(DISCOVER_TIMEOUT_S)
        _ensure_origin(vehicle, log)
        plan, parts = _plan(station, out_dir, log)
        station.start_recording(MissionInfo(VESSEL, imo=IMO, berth="embedded world quay", operator="HullWatch demo",
                                            plan_path=str(out_dir / "plan.hullplan.json"),
                                            notes="simulated inspection (hullwatch demo --headless)"))
        reached, total, complete = _fly(station, parts, duration_s, log)
        station.recording.action("mission_end", reached=reached, total=total, complete=complete)
        summary_rec = station.stop_recording()
        return _summary(station, plan, summary_rec, reached, total, complete, time.monotonic() - t0)
    finally:
        station.close()


def _ensure_origin(vehicle, log) -> None:
    """AUTO needs mission items in WGS84 and the vehicle's EKF origin to place them; a
    vehicle that has none (as after a fresh boot with a DVL) gets the demo berth's."""
    from vehicle.dialect import mavlink
    from vehicle.errors import VehicleError

    if vehicle.state.ekf_origin is None:
        try:
            vehicle.request_message(mavlink.MAVLINK_MSG_ID_GPS_GLOBAL_ORIGIN, retries=1)
        except VehicleError:
            pass
    if vehicle.state.ekf_origin is None:
        log(f"the vehicle has no EKF origin: setting it to the demo berth ({DEMO_ORIGIN[0]:.4f}, {DEMO_ORIGIN[1]:.4f})")
        vehicle.set_ekf_origin(*DEMO_ORIGIN)


def _plan(station, out_dir: Path, log):
    from mission_plans.plan_file import save_plan

    from .map_actions import planner_for
    from .planner_session import mission_parts

    model, placement = station.world["model"], station.world["placement"]
    log("planning the sweep (niche areas first, predicted coverage)")
    result = planner_for(model, placement).plan()
    plan = result.plan
    save_plan(plan, out_dir / "plan.hullplan.json")
    parts = mission_parts(plan, station.vehicle.state.ekf_origin)
    cov = plan.prediction.overall_pct if plan.prediction is not None else float("nan")
    log(f"plan: {len(plan.legs)} legs, {plan.length_m:.0f} m, {plan.duration_s / 60:.0f} min predicted, coverage "
        f"{cov:.0f} %; {sum(len(p) for p in parts)} mission items in {len(parts)} part(s)")
    return plan, parts


def _fly(station, parts, duration_s: float | None, log) -> tuple[int, int, bool]:
    from vehicle.mission import MissionItem

    vehicle = station.vehicle
    deadline = time.monotonic() + duration_s if duration_s else math.inf
    total = sum(len(p) - 1 for p in parts)  # item 0 is home
    reached = 0
    # as QGC with a joystick enabled: neutral sticks at 25 Hz, or ArduSub's pilot-input
    # failsafe (FS_PILOT_INPUT) disarms it after 3 s
    vehicle.manual.keep_alive(True)
    vehicle.arm()
    station.recording.action("arm")
    vehicle.controls.set_lights(DEMO_LIGHTS)
    for n, part in enumerate(parts, 1):
        items = [MissionItem(it.seq, it.command, it.frame, it.x, it.y, it.z, it.param1, it.param2, it.param3,
                             it.param4, it.current, it.autocontinue) for it in part]
        vehicle.mission.upload(items)
        log(f"mission part {n}/{len(parts)}: {len(items)} items uploaded; AUTO")
        if vehicle.state.mode == "AUTO":
            vehicle.set_mode("POSHOLD")
        vehicle.set_mode("AUTO")
        station.recording.action("mode", mode="AUTO", part=n)
        last = len(items) - 1
        next_report = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            s = vehicle.state
            if s.mission_reached_seq is not None and s.mission_reached_seq >= last:
                break
            if not s.armed:
                raise UserError("the vehicle disarmed during the mission: " +
                                (s.status_texts[-1].text if s.status_texts else "no reason given"))
            if time.monotonic() >= next_report:
                next_report += 30.0
                log(f"  item {s.mission_current_seq} of {last}; depth {s.depth_m or 0:.1f} m; {station.station_map.status()}")
            time.sleep(0.2)
        done_here = max(0, (vehicle.state.mission_reached_seq or 0))
        reached += done_here
        if time.monotonic() >= deadline:
            log(f"stopping after {duration_s:.0f} s (--duration) at item {vehicle.state.mission_current_seq} of {last}")
            vehicle.set_mode("POSHOLD")
            station.recording.action("mode", mode="POSHOLD", reason="duration reached")
            return reached, total, False
    vehicle.set_mode("POSHOLD")
    return reached, total, True


def _summary(station, plan, rec: dict, reached: int, total: int, complete: bool, wall_s: float) -> DemoSummary:
    snap = station.station_map.worker.latest
    ew, placement = station.world["world"], station.world["placement"]
    planted = [o for o in ew.scenario.objects if o.class_name in ("parasitic_container", "niche_anomaly")]
    rows = []
    for f in snap.findings:
        near, err = None, None
        if planted:
            d = [float(np.linalg.norm(np.asarray(f.position_h) - np.asarray(o.center_h))) for o in planted]
            k = int(np.argmin(d))
            near, err = planted[k].name, d[k]
        rows.append(FindingRow(f.finding_id, f.class_name, f.address.describe(), tuple(f.sources),
                               float(f.best_confidence), near, err))
    frames = {}
    mon = station.monitor
    for name, pipe, received in (("camera", mon.pipeline, mon.video.stats().frames_decoded if mon.video else 0),
                                 ("sonar", mon.sonar_pipeline, None)):
        if pipe is None:
            continue
        st = pipe.stats()
        got = received if received is not None else st.submitted
        frames[name] = {"received": got, "processed": st.processed, "dropped": st.dropped,
                        "dropped_pct": 100.0 * st.dropped / max(1, st.submitted)}
    cov = snap.coverage
    return DemoSummary(rec.get("folder", ""), wall_s, len(plan.legs), total, reached, complete, cov.overall_pct,
                       cov.per_sensor_pct.get("camera", 0.0), cov.per_sensor_pct.get("sonar", 0.0),
                       dict(cov.per_niche_pct), tuple(rows), len(planted), frames, rec.get("manifest_sha256", ""))
