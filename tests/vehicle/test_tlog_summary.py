"""vehicle.tlog_summary on the real ArduSub log and on small synthetic logs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vehicle.dialect import MAVLink, mavlink
from vehicle.tlog import TlogError, TlogWriter
from vehicle.tlog_summary import HEARTBEAT_GAP_LIMIT_S, format_summary, summarize_tlog

pytestmark = pytest.mark.timeout(60)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SMALL_TLOG = DATA / "mavlink" / "small.tlog"
SMALL_BIN = DATA / "mavlink" / "small.BIN"

T0_US = 1_700_000_000_000_000
S = 1_000_000


def small_tlog() -> Path:
    if not SMALL_TLOG.is_file():
        pytest.skip(f"real data not available: {SMALL_TLOG} (needs ../shared/data)")
    return SMALL_TLOG


class LogBuilder:
    """Writes a synthetic tlog: packets from several components at given times (s)."""

    def __init__(self, path: Path):
        self.path = path
        self.items: list[tuple[int, bytes]] = []
        self.mavs: dict[tuple[int, int], MAVLink] = {}

    def add(self, t_s: float, sysid: int, compid: int, make) -> None:
        mav = self.mavs.setdefault((sysid, compid), MAVLink(None, sysid, compid))
        self.items.append((T0_US + int(round(t_s * S)), make(mav).pack(mav)))
        mav.seq = (mav.seq + 1) % 256

    def heartbeat(self, t_s, sysid, compid, mav_type, autopilot, custom_mode=0, armed=False):
        base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
        if armed:
            base |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
        self.add(t_s, sysid, compid,
                 lambda m: m.heartbeat_encode(mav_type, autopilot, base, custom_mode, 4, 3))

    def write(self) -> Path:
        with TlogWriter(self.path) as w:
            for t, p in sorted(self.items, key=lambda it: it[0]):
                w.write(p, t)
        return self.path


SUB, APM = mavlink.MAV_TYPE_SUBMARINE, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA
INVALID = mavlink.MAV_AUTOPILOT_INVALID


def dive_log(tmp_path: Path, *, with_gpi: bool = True) -> Path:
    b = LogBuilder(tmp_path / "dive.tlog")
    # Other components first: none of them is the vehicle.
    b.heartbeat(0.0, 1, 100, mavlink.MAV_TYPE_CAMERA, INVALID)
    b.heartbeat(0.0, 1, 194, mavlink.MAV_TYPE_ONBOARD_CONTROLLER, INVALID, armed=True)
    b.heartbeat(0.0, 255, 190, mavlink.MAV_TYPE_GCS, INVALID, armed=True)
    b.add(0.1, 1, 100, lambda m: m.statustext_encode(6, b"ArduSub V9.9.9 (not me)"))
    for t in range(0, 10):
        b.heartbeat(t, 1, 1, SUB, APM, 19)                 # MANUAL, disarmed
    b.add(0.2, 1, 1, lambda m: m.statustext_encode(6, b"ArduSub V4.5.7 (abcdef12)"))
    for t in range(10, 20):
        b.heartbeat(t, 1, 1, SUB, APM, 2, armed=True)      # ALT_HOLD, armed
    for t in range(20, 25):
        b.heartbeat(t, 1, 1, SUB, APM, 19, armed=True)     # MANUAL, armed; then silence
    for t in range(55, 60):
        b.heartbeat(t, 1, 1, SUB, APM, 0)                  # STABILIZE, disarmed
    b.heartbeat(61, 255, 190, mavlink.MAV_TYPE_GCS, INVALID)
    for t, rel_mm in ((12, -1000), (15, -12_345), (18, -500)):
        if with_gpi:
            b.add(t, 1, 1, lambda m, r=rel_mm: m.global_position_int_encode(
                t * 1000, 0, 0, 0, r, 0, 0, 0, 0))
        b.add(t, 1, 1, lambda m, r=rel_mm: m.vfr_hud_encode(0, 0, 0, 0, r / 1000 - 0.05, 0))
    # a companion's position must not count as the vehicle's depth
    b.add(16, 1, 194, lambda m: m.global_position_int_encode(0, 0, 0, 0, -99_999, 0, 0, 0, 0))
    return b.write()


# ------------------------------------------------------------------ the real log

def test_small_tlog_summary():
    s = summarize_tlog(small_tlog())
    assert s.vehicle_type == "SUBMARINE"
    assert s.autopilot == "ARDUPILOTMEGA"
    assert (s.vehicle_system_id, s.vehicle_component_id) == (1, 1)
    assert s.firmware == "ArduSub V4.1.1"
    assert s.firmware_release == "beta" and s.firmware_git_hash == "66c674c1"
    assert s.modes[0].mode == "MANUAL" and s.main_mode == "MANUAL"
    assert [m.mode for m in s.modes] == ["MANUAL"]
    assert s.duration_s == pytest.approx(263.43, abs=0.01)
    assert s.start_utc == "2023-05-04T17:15:41.055+00:00"
    assert s.end_utc == "2023-05-04T17:20:04.485+00:00"
    assert s.armed_s == pytest.approx(16.0, abs=1.5)
    assert s.max_depth_m == pytest.approx(0.314, abs=0.001)   # a bench/surface log
    assert s.max_depth_source == "GLOBAL_POSITION_INT.relative_alt"
    assert s.total_messages == 35_912 and len(s.message_counts) == 46
    assert s.records == 35_916 and s.bad_crc == 4
    assert s.bad_crc_by_id == {259: 1, 260: 1, 262: 1, 269: 1}
    assert list(s.message_counts)[:2] == ["AHRS2", "ATTITUDE"]      # most frequent first
    assert s.message_counts["PARAM_VALUE"] == 888
    assert s.statustext_count == 4
    assert s.statustexts[0][2].startswith("ArduSub V4.1.1")
    assert {(c.system_id, c.component_id, c.type_name) for c in s.components} == {
        (1, 1, "SUBMARINE"), (1, 100, "CAMERA"), (1, 194, "ONBOARD_CONTROLLER"),
        (255, 190, "GCS")}
    assert s.bytes_skipped == 0 and not s.truncated_tail

    d = s.to_dict()
    assert json.loads(json.dumps(d))["firmware"] == "ArduSub V4.1.1"
    assert d["main_mode"] == "MANUAL"

    text = format_summary(s)
    for part in ("SUBMARINE", "ArduSub V4.1.1", "MANUAL", "2023-05-04T17:15:41",
                 "PARAM_VALUE", "bad CRC", "CAMERA_INFORMATION"):
        assert part in text


# ------------------------------------------------------------------ synthetic logs

def test_vehicle_modes_armed_time_and_depth(tmp_path):
    s = summarize_tlog(dive_log(tmp_path))
    assert (s.vehicle_system_id, s.vehicle_component_id) == (1, 1)
    assert s.vehicle_type == "SUBMARINE" and s.autopilot == "ARDUPILOTMEGA"
    assert s.firmware == "ArduSub V4.5.7" and s.firmware_release is None
    assert s.duration_s == pytest.approx(61.0)
    assert [(m.mode, m.start_s, m.duration_s) for m in s.modes] == [
        ("MANUAL", 0.0, 10.0),
        ("ALT_HOLD", 10.0, 10.0),
        ("MANUAL", 20.0, 4.0 + HEARTBEAT_GAP_LIMIT_S),   # the 30 s silence is capped
        ("STABILIZE", 55.0, 6.0),
    ]
    assert s.mode_totals_s == {"MANUAL": 19.0, "ALT_HOLD": 10.0, "STABILIZE": 6.0}
    assert s.main_mode == "MANUAL"
    assert s.armed_s == pytest.approx(10.0 + 4.0 + HEARTBEAT_GAP_LIMIT_S)
    assert s.max_depth_m == pytest.approx(12.345)
    assert s.max_depth_source == "GLOBAL_POSITION_INT.relative_alt"
    assert s.statustext_count == 2
    assert len(s.components) == 4
    text = format_summary(s)
    assert "ALT_HOLD" in text and "12.35 m" in text and "no damage found" in text


def test_depth_falls_back_to_vfr_hud(tmp_path):
    s = summarize_tlog(dive_log(tmp_path, with_gpi=False))
    assert s.max_depth_source == "VFR_HUD.alt"
    assert s.max_depth_m == pytest.approx(12.395, abs=1e-4)


def test_log_without_a_vehicle(tmp_path):
    b = LogBuilder(tmp_path / "gcs.tlog")
    for t in range(5):
        b.heartbeat(t, 255, 190, mavlink.MAV_TYPE_GCS, INVALID)
    s = summarize_tlog(b.write())
    assert s.vehicle_system_id is None and s.vehicle_type is None and s.firmware is None
    assert s.modes == () and s.max_depth_m is None and s.duration_s == pytest.approx(4.0)
    assert "none found" in format_summary(s)
    json.dumps(s.to_dict())


def test_firmware_from_autopilot_version(tmp_path):
    b = LogBuilder(tmp_path / "v.tlog")
    b.heartbeat(0, 1, 1, SUB, APM, 19)
    version = (4 << 24) | (5 << 16) | (7 << 8) | 255
    b.add(0.5, 1, 1, lambda m: m.autopilot_version_encode(
        0, version, 0, 0, 0, list(b"1a2b3c4d"), [0] * 8, [0] * 8, 0, 0, 0))
    b.heartbeat(1, 1, 1, SUB, APM, 19)
    s = summarize_tlog(b.write())
    assert s.firmware == "ArduSub V4.5.7"
    assert s.firmware_release == "official" and s.firmware_git_hash == "1a2b3c4d"


# ------------------------------------------------------------------ errors

def test_missing_file(tmp_path):
    with pytest.raises(TlogError, match="no such file"):
        summarize_tlog(tmp_path / "missing.tlog")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tlog"
    path.write_bytes(b"")
    with pytest.raises(TlogError, match="empty"):
        summarize_tlog(path)


def test_not_a_tlog(tmp_path):
    path = tmp_path / "notes.tlog"
    path.write_text("this is not telemetry\n" * 100)
    with pytest.raises(TlogError, match="not a telemetry log"):
        summarize_tlog(path)


def test_dataflash_bin_is_not_a_tlog():
    if not SMALL_BIN.is_file():
        pytest.skip(f"real data not available: {SMALL_BIN} (needs ../shared/data)")
    with pytest.raises(TlogError, match="not a telemetry log"):
        summarize_tlog(SMALL_BIN)


def test_tlog_with_only_bad_packets(tmp_path):
    mav = MAVLink(None, 1, 1)
    packet = bytearray(mav.heartbeat_encode(SUB, APM, 0, 19, 4, 3).pack(mav))
    packet[-1] ^= 0xFF                       # bad CRC
    path = tmp_path / "bad.tlog"
    with TlogWriter(path) as w:
        w.write(bytes(packet), T0_US)
        w.write(bytes(packet), T0_US + S)
    with pytest.raises(TlogError, match="no readable MAVLink message"):
        summarize_tlog(path)
