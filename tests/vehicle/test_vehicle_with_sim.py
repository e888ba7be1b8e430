"""The MAVLink client against the embedded ArduSub-compatible vehicle over real loopback sockets."""
from __future__ import annotations

import time

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.vehicle_server import SimConfig, SimVehicle
from vehicle import CommandRejected, SubMode, Vehicle, waypoint
from vehicle.events import LinkLost, LinkRestored

from .sim_fixtures import TEST_TIMEOUTS, sim_and_station


def test_discovery_over_udp_like_blueos():
    station = Vehicle("udpin:127.0.0.1:0", timeouts=TEST_TIMEOUTS)
    station.open()
    sim = SimVehicle(SimConfig(udp_target=("127.0.0.1", station.link.port), tcp_port=None))
    sim.start()
    try:
        state = station.wait_discovered()
        assert (state.vehicle_type, state.autopilot, state.mode) == ("SUBMARINE", "ARDUPILOTMEGA", "MANUAL")
        # streams are off until asked; the station asks, so attitude and depth arrive
        state = station.wait_for(lambda s: s.attitude.t_s is not None and s.depth_m is not None
                                 and s.firmware.flight_sw_version != 0, 5, "telemetry")
        assert state.firmware.version == "ArduSub V4.1.1"
    finally:
        station.close()
        sim.stop()


def test_telemetry_rates_follow_the_request():
    with sim_and_station() as (sim, v):
        v.wait_for(lambda s: s.attitude.t_s is not None, 5, "attitude")
        with v.router.waiter(["ATTITUDE", "GLOBAL_POSITION_INT"]) as q:
            t_end = time.monotonic() + 2.0
            counts = {"ATTITUDE": 0, "GLOBAL_POSITION_INT": 0}
            while (m := q.get(t_end - time.monotonic())) is not None:
                counts[m.get_type()] += 1
    assert 24 <= counts["ATTITUDE"] <= 40  # 16 Hz asked
    assert 4 <= counts["GLOBAL_POSITION_INT"] <= 9  # 3 Hz asked


def test_arm_and_disarm_confirmed_by_heartbeat():
    with sim_and_station() as (sim, v):
        v.manual.keep_alive(True)
        v.arm()
        assert v.state.armed and sim.truth().armed
        v.disarm()
        assert not v.state.armed and not sim.truth().armed


@pytest.mark.parametrize("mode", ["MANUAL", "STABILIZE", "ALT_HOLD", "POSHOLD", "GUIDED", "SURFACE", "ACRO", "CIRCLE"])
def test_every_mode_with_position_estimate(mode):
    with sim_and_station() as (sim, v):
        reached = v.set_mode(mode)
        assert v.state.mode == reached.name == mode
        assert sim.truth().mode == mode


@pytest.mark.parametrize("mode", ["AUTO", "GUIDED", "POSHOLD"])
def test_position_modes_refused_without_position_estimate(mode):
    with sim_and_station(position_estimate=False) as (sim, v):
        with pytest.raises(CommandRejected) as info:
            v.set_mode(mode)
        assert info.value.result_name == "FAILED"
        assert f"{mode} requires position" in str(info.value)
        assert v.state.mode == "MANUAL"


def test_auto_runs_an_uploaded_mission():
    with sim_and_station(origin_lat_deg=53.5, origin_lon_deg=9.9) as (sim, v):
        origin = v.wait_for(lambda s: s.ekf_origin is not None or s.global_position is not None, 5, "origin")
        lat0, lon0 = 53.5, 9.9
        items = [waypoint(0, lat0, lon0, 0), waypoint(1, lat0 + 2e-5, lon0, 1.0), waypoint(2, lat0 + 2e-5, lon0 + 3e-5, 1.0)]
        v.mission.upload(items)
        v.manual.keep_alive(True)
        v.arm()
        v.set_mode("AUTO")
        state = v.wait_for(lambda s: (s.mission_reached_seq or 0) >= 1, 40, "waypoint 1 reached")
        assert state.mode == "AUTO"
        del origin


@pytest.mark.timeout(120)
def test_dive_to_5m_in_alt_hold_and_hold_within_30cm():
    from vehicle.maneuvers import dive_to

    with sim_and_station() as (sim, v):
        v.manual.keep_alive(True)
        v.arm()
        v.set_mode("ALT_HOLD")
        dive_to(v, 5.0, tolerance_m=0.3, settle_s=2.0, timeout_s=80)
        samples = []
        t_end = time.monotonic() + 10.0
        while time.monotonic() < t_end:
            v.manual.neutral()  # the pilot's hands off the sticks
            samples.append(v.state.depth_m)
            time.sleep(0.1)
        truth_depth = sim.truth().depth_m
    assert max(abs(d - 5.0) for d in samples) <= 0.3, (min(samples), max(samples))
    assert abs(truth_depth - 5.0) <= 0.3


def test_guided_depth_target():
    with sim_and_station() as (sim, v):
        v.manual.keep_alive(True)
        v.arm()
        v.set_mode("GUIDED")
        v.set_depth_target(3.0)
        v.wait_for(lambda s: s.depth_m is not None and abs(s.depth_m - 3.0) < 0.3, 40, "guided depth 3 m")


def test_guided_target_refused_outside_guided():
    with sim_and_station() as (sim, v):
        with pytest.raises(CommandRejected, match="switch to GUIDED first"):
            v.goto_local_ned(1, 1, 1)


def _mission(n):
    return [waypoint(i, 53.5 + i * 1e-6, 9.9 - i * 1e-6, (i % 40) * 0.25, hold_s=i % 3) for i in range(n)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("loss", [0.0, 0.2])
def test_500_item_mission_round_trip(loss):
    items = _mission(500)
    with sim_and_station() as (sim, v):
        v.wait_for(lambda s: s.attitude.t_s is not None, 5, "streams")
        sim.faults.loss = loss
        t0 = time.monotonic()
        v.mission.upload(items)
        upload_s = time.monotonic() - t0
        back = v.mission.download()
        sim.faults.loss = 0.0
        stored = sim.truth().mission_items
    assert len(back) == 500 and len(stored) == 500
    # item 0 is home: ArduPilot answers with its own home position, not what was sent
    mismatched = [i for i, (a, b) in enumerate(zip(items, back)) if i > 0 and not a.same_as(b)]
    assert mismatched == []
    assert upload_s < (10 if loss == 0 else 45)


def test_mission_clear_and_set_current():
    with sim_and_station() as (sim, v):
        v.mission.upload(_mission(5))
        v.mission.set_current(3)
        assert v.wait_for(lambda s: s.mission_current_seq == 3, 3, "current").mission_current_seq == 3
        v.mission.clear()
        assert v.mission.download() == [] or len(v.mission.download()) <= 1  # ArduPilot keeps home


def test_parameters_fetch_all_and_set():
    with sim_and_station() as (sim, v):
        values = v.params.fetch_all(timeout_s=30)
        assert len(values) == v.params.count >= 150
        assert values["FS_GCS_TIMEOUT"] == pytest.approx(sim.param("FS_GCS_TIMEOUT"))
        got = v.params.set("PILOT_SPEED_UP", 75)
        assert got == 75 and sim.param("PILOT_SPEED_UP") == 75
        assert v.params.get("PILOT_SPEED_UP") == 75
        assert v.params.set("JS_GAIN_DEFAULT", 0.35) == pytest.approx(0.35, abs=1e-6)


def test_parameters_fetch_all_with_loss_fills_gaps():
    with sim_and_station() as (sim, v):
        sim.faults.loss = 0.2
        values = v.params.fetch_all(timeout_s=60)
        sim.faults.loss = 0.0
        assert len(values) == v.params.count


def test_link_loss_noticed_within_3s_and_recovered():
    with sim_and_station() as (sim, v):
        v.wait_for(lambda s: s.attitude.t_s is not None, 5, "streams")
        events = v.events.listen()
        sim.faults.link_down = True
        t0 = time.monotonic()
        v.wait_for(lambda s: not s.link_ok, 5, "link loss")
        noticed_s = time.monotonic() - t0
        sim.faults.link_down = False
        v.wait_for(lambda s: s.link_ok, 5, "link back")
        kinds = [type(e) for e in events.drain()]
    assert noticed_s < 3.0
    assert LinkLost in kinds and LinkRestored in kinds


def test_tcp_reconnects_after_the_vehicle_restarts():
    sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0))
    sim.start()
    port = sim.tcp_port
    v = Vehicle(f"tcp:127.0.0.1:{port}", timeouts=TEST_TIMEOUTS)
    v.open()
    try:
        v.wait_discovered()
        sim.stop()
        v.wait_for(lambda s: not s.link_ok, 5, "link loss")
        sim = SimVehicle(SimConfig(udp_target=None, tcp_port=port))
        sim.start()
        v.wait_for(lambda s: s.link_ok, 10, "reconnect")
        t_att = v.state.attitude.t_s or 0
        # the rebooted vehicle streams nothing until asked again: the station re-asks
        v.wait_for(lambda s: (s.attitude.t_s or 0) > t_att + 0.5, 10, "streams after reconnect")
    finally:
        v.close()
        sim.stop()


@pytest.mark.timeout(60)
def test_gcs_failsafe_disarms_when_station_goes_away():
    with sim_and_station(params={"FS_GCS_ENABLE": 2, "FS_PILOT_INPUT": 0}) as (sim, v):
        v.manual.keep_alive(True)
        v.arm()
        v.close()  # the station vanishes: no heartbeat, no MANUAL_CONTROL
        t0 = time.monotonic()
        while sim.truth().armed and time.monotonic() - t0 < 15:
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
        truth = sim.truth()
    assert not truth.armed
    assert 4.0 <= elapsed <= 8.0
    assert "gcs" in truth.failsafes


@pytest.mark.timeout(60)
def test_deadman_lets_pilot_input_failsafe_disarm():
    with sim_and_station(params={"FS_PILOT_INPUT": 2, "FS_GCS_ENABLE": 0}) as (sim, v):
        v.manual.neutral()  # a gamepad that sends once and dies
        v.arm()
        # the input source dies: frames stop after the deadman, the vehicle disarms ~3 s later
        state = v.wait_for(lambda s: not s.armed, 8, "pilot-input failsafe")
        assert state.failsafes.pilot_input or any("manual control" in t.text.lower() for t in state.status_texts)


def test_lights_and_camera_tilt_through_button_functions():
    with sim_and_station() as (sim, v):
        v.wait_for(lambda s: s.lights1 is not None and s.cam_tilt is not None, 5, "named values")
        level = v.controls.set_lights(0.5)
        assert level == pytest.approx(0.5, abs=0.07)
        assert sim.truth().lights1 == pytest.approx(level, abs=0.01)
        v.controls.set_lights(0.0)
        assert sim.truth().lights1 == pytest.approx(0.0, abs=0.07)
        before = sim.truth().cam_tilt
        v.controls.tilt_camera(+1, 0.8)
        time.sleep(0.3)
        after_up = sim.truth().cam_tilt
        v.controls.center_camera()
        time.sleep(0.5)
        centred = sim.truth().cam_tilt
    assert after_up != pytest.approx(before, abs=0.05)
    assert centred == pytest.approx(before, abs=0.05)


def test_set_ekf_origin():
    with sim_and_station() as (sim, v):
        v.set_ekf_origin(53.54, 9.98, 0.0)
        origin = v.state.ekf_origin
        assert origin.lat_deg == pytest.approx(53.54) and origin.lon_deg == pytest.approx(9.98)
        assert sim.truth().origin_lat_lon_alt[0] == pytest.approx(53.54)


def test_station_tlog_records_both_directions(tmp_path):
    from pymavlink import mavutil

    path = tmp_path / "telemetry.tlog"
    with sim_and_station(tlog_path=path) as (sim, v):
        v.wait_for(lambda s: s.attitude.t_s is not None, 5, "streams")
        time.sleep(1.5)
    mlog = mavutil.mavlink_connection(str(path))
    sources = set()
    n = 0
    while (m := mlog.recv_msg()) is not None:
        n += 1
        sources.add((m.get_srcSystem(), m.get_type() == "HEARTBEAT"))
    assert n > 50
    assert (255, True) in sources and (1, True) in sources


def test_leak_raises_a_failsafe_event_and_blocks_arming_unless_forced():
    from vehicle.events import FailsafeRaised

    with sim_and_station() as (sim, v):
        events = v.events.listen()
        sim.inject_leak()
        state = v.wait_for(lambda s: s.failsafes.leak, 5, "leak")
        assert "leak" in state.failsafes.last_text.lower()
        assert any(isinstance(e, FailsafeRaised) and e.kind == "leak" for e in events.drain())
        v.manual.keep_alive(True)
        with pytest.raises(CommandRejected) as info:
            v.arm()
        assert info.value.result_name in ("FAILED", "DENIED")
        v.arm(force=True)
        assert sim.truth().armed


def test_parameters_save_and_apply_round_trip(tmp_path):
    from vehicle.params import read_params_file

    with sim_and_station() as (sim, v):
        v.params.fetch_all(timeout_s=30)
        path = tmp_path / "rov.params"
        v.params.save(path)
        saved = read_params_file(path)
        assert len(saved) == v.params.count
        saved["PILOT_SPEED_DN"] = 35.0
        changed = v.params.apply(saved)
        assert changed == {"PILOT_SPEED_DN": 35.0}
        assert sim.param("PILOT_SPEED_DN") == 35.0


def test_mission_progress_events():
    from vehicle.events import TransferProgress

    with sim_and_station() as (sim, v):
        events = v.events.listen()
        v.mission.upload(_mission(50))
        v.mission.download()
        progress = [e for e in events.drain() if isinstance(e, TransferProgress)]
    ups = [p for p in progress if p.operation == "mission upload"]
    downs = [p for p in progress if p.operation == "mission download"]
    assert ups[-1].done == ups[-1].total == 50 and len(ups) >= 3
    assert downs[-1].done == 50 and [d.done for d in downs] == sorted(d.done for d in downs)


def test_pilot_gain_through_button_functions():
    with sim_and_station() as (sim, v):
        v.wait_for(lambda s: s.pilot_gain is not None, 5, "PilotGain")
        reached = v.controls.set_pilot_gain(1.0)
        assert reached == pytest.approx(1.0, abs=0.01)
        assert sim.truth().pilot_gain == pytest.approx(1.0, abs=0.01)
        with pytest.raises(ValueError, match="outside"):
            v.controls.set_pilot_gain(3.0)


def test_missing_button_function_is_reported():
    from vehicle import CapabilityUnavailable

    with sim_and_station(params={"BTN13_FUNCTION": 0, "BTN14_FUNCTION": 0}) as (sim, v):
        with pytest.raises(CapabilityUnavailable, match="lights1_brighter"):
            v.controls.set_lights(0.5)


def test_loss_is_measured_on_the_vehicle_sequence_numbers():
    with sim_and_station() as (sim, v):
        v.wait_for(lambda s: s.attitude.t_s is not None, 5, "streams")
        before = v.link_stats()
        sim.faults.loss = 0.25
        time.sleep(3.0)
        sim.faults.loss = 0.0
        after = v.link_stats()
    lost = after.lost - before.lost
    received = after.received - before.received
    assert 0.15 < lost / (lost + received) < 0.35
    assert v.link_loss_pct() > 5.0


def test_full_disk_stops_the_tlog_with_a_message_but_not_the_link(tmp_path):
    from vehicle.events import TlogFailed
    from vehicle.tlog import TlogWriter

    with sim_and_station() as (sim, v):
        events = v.events.listen()
        # swap in a writer on /dev/full: every write fails with ENOSPC, as on a full disk
        v.tlog = TlogWriter("/dev/full", append=True)
        v.connection.tlog = v.tlog
        v.wait_for(lambda s: s.attitude.t_s is not None, 5, "streams")
        deadline = time.monotonic() + 3
        failed = []
        while not failed and time.monotonic() < deadline:
            failed = [e for e in events.drain() if isinstance(e, TlogFailed)]
            time.sleep(0.1)
        assert failed and "disk full" in failed[0].message
        v.set_mode("STABILIZE")  # the vehicle is still fully usable
        assert v.state.link_ok
