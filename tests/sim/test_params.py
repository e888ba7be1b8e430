import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.ardusub_params import default_parameters

M = mavlink


def _name(msg):
    return msg.param_id if isinstance(msg.param_id, str) else msg.param_id.decode()


def test_table_is_large_and_has_the_ardusub_names():
    names = {n for n, _, _ in default_parameters()}
    assert len(names) >= 150
    for name in ("SYSID_THISMAV", "FRAME_CONFIG", "FS_GCS_ENABLE", "FS_PILOT_TIMEOUT", "PILOT_SPEED_UP",
                 "WPNAV_SPEED", "SURFACE_DEPTH", "JS_GAIN_STEPS", "JS_LIGHTS_STEPS", "BTN15_SFUNCTION",
                 "SERVO16_TRIM", "RC11_MAX", "MNT_TYPE", "RNGFND1_TYPE", "LEAK1_PIN", "BARO_SPEC_GRAV",
                 "ARMING_CHECK", "MIS_TOTAL", "EK3_ENABLE", "BATT_CAPACITY", "ATC_RAT_YAW_P", "PSC_POSZ_P"):
        assert name in names, name


def test_param_list_is_complete_paced_and_indexed(sim_and_gcs):
    sim, gcs = sim_and_gcs
    expected = len(default_parameters())
    start = time.monotonic()
    gcs.send(gcs.mav.param_request_list_encode(1, 1))
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and gcs.count("PARAM_VALUE", start) < expected:
        time.sleep(0.05)
    values = gcs.all("PARAM_VALUE", start)
    elapsed = time.monotonic() - start
    assert len(values) == expected
    assert {m.param_index for m in values} == set(range(expected))
    assert all(m.param_count == expected for m in values)
    assert elapsed > 0.4   # ~500/s, not one burst
    by_name = {_name(m): m for m in values}
    assert by_name["FS_GCS_ENABLE"].param_value == 2
    assert by_name["FS_GCS_ENABLE"].param_type == M.MAV_PARAM_TYPE_INT8
    assert by_name["WPNAV_SPEED"].param_type == M.MAV_PARAM_TYPE_REAL32


def test_param_read_by_name_and_index(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    gcs.send(gcs.mav.param_request_read_encode(1, 1, b"FS_PILOT_TIMEOUT", -1))
    msg = gcs.wait_for("PARAM_VALUE", since=since)
    assert _name(msg) == "FS_PILOT_TIMEOUT" and msg.param_value == pytest.approx(3.0)
    since = time.monotonic()
    gcs.send(gcs.mav.param_request_read_encode(1, 1, b"", msg.param_index))
    assert _name(gcs.wait_for("PARAM_VALUE", since=since)) == "FS_PILOT_TIMEOUT"


def test_param_set_rounds_to_type_echoes_and_drives_behaviour(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    gcs.send(gcs.mav.param_set_encode(1, 1, b"PILOT_SPEED_UP", 123.7, M.MAV_PARAM_TYPE_INT16))
    echo = gcs.wait_for("PARAM_VALUE", lambda m: _name(m) == "PILOT_SPEED_UP", since=since)
    assert echo.param_value == 124
    assert sim.param("PILOT_SPEED_UP") == 124
    since = time.monotonic()
    gcs.send(gcs.mav.param_set_encode(1, 1, b"NOT_A_PARAM", 1.0, M.MAV_PARAM_TYPE_REAL32))
    assert gcs.wait_for("PARAM_VALUE", timeout_s=0.5, since=since) is None


def test_params_overrides_and_sysid(make_sim, make_gcs):
    sim = make_sim(system_id=7, params_overrides={"FS_GCS_ENABLE": 4})
    gcs = make_gcs(sim)
    gcs.heartbeat()
    hb = gcs.wait_for("HEARTBEAT", timeout_s=2.5, since=0.0)
    assert hb.get_srcSystem() == 7
    assert sim.param("FS_GCS_ENABLE") == 4
    with pytest.raises(KeyError):
        from sim.vehicle_server import SimConfig, SimVehicle
        SimVehicle(SimConfig(params_overrides={"NOPE": 1}))
