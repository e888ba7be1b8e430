import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from vehicle import ParameterError
from vehicle.params import read_params_file, write_params_file


def test_qgc_format_round_trip_keeps_types_and_values(tmp_path):
    path = tmp_path / "vehicle.params"
    items = [("FS_GCS_ENABLE", 2.0), ("PILOT_SPEED_UP", 50.0), ("JS_GAIN_DEFAULT", 0.5)]
    types = {"FS_GCS_ENABLE": mavlink.MAV_PARAM_TYPE_INT8, "PILOT_SPEED_UP": mavlink.MAV_PARAM_TYPE_INT16}
    write_params_file(path, items, types, sysid=1, compid=1)
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    assert lines[0] == f"1\t1\tFS_GCS_ENABLE\t2\t{mavlink.MAV_PARAM_TYPE_INT8}"
    assert lines[2].split("\t")[4] == str(mavlink.MAV_PARAM_TYPE_REAL32)
    assert read_params_file(path) == dict(items)
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves nothing behind


def test_mission_planner_and_mavproxy_formats(tmp_path):
    mp = tmp_path / "mp.param"
    mp.write_text("FS_GCS_ENABLE,2\r\nPILOT_SPEED_UP,50.5\r\n")
    assert read_params_file(mp) == {"FS_GCS_ENABLE": 2.0, "PILOT_SPEED_UP": 50.5}
    mavproxy = tmp_path / "mavproxy.parm"
    mavproxy.write_text("# comment\nFS_GCS_ENABLE     2.000000\n")
    assert read_params_file(mavproxy) == {"FS_GCS_ENABLE": 2.0}


@pytest.mark.parametrize("content, words", [
    ("FS_GCS_ENABLE\n", ":1: expected NAME and VALUE"),
    ("FS_GCS_ENABLE,two\n", "value 'two' of FS_GCS_ENABLE is not a number"),
    ("THIS_NAME_IS_FAR_TOO_LONG,1\n", "is not a parameter name"),
    ("# only comments\n", "holds no parameters"),
    ("X,nan\n", "not finite"),
])
def test_bad_files_name_file_and_line(tmp_path, content, words):
    path = tmp_path / "bad.params"
    path.write_text(content)
    with pytest.raises(ParameterError, match=words.replace("(", r"\(")):
        read_params_file(path)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        read_params_file(tmp_path / "nope.params")
    binary = tmp_path / "x.params"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ParameterError, match="not a text parameter file"):
        read_params_file(binary)
