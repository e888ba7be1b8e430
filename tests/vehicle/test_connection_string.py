import pytest

from vehicle import ConnectionStringError, parse_connection_string


@pytest.mark.parametrize("url, kind, fields", [
    ("udpin:0.0.0.0:14550", "udpin", {"host": "0.0.0.0", "port": 14550}),
    ("udp:127.0.0.1:14551", "udpin", {"host": "127.0.0.1", "port": 14551}),
    ("udpout:192.0.2.1:14550", "udpout", {"host": "192.0.2.1", "port": 14550}),
    ("tcp:127.0.0.1:5760", "tcp", {"host": "127.0.0.1", "port": 5760}),
    ("serial:/dev/ttyACM0:115200", "serial", {"device": "/dev/ttyACM0", "baud": 115200}),
    ("serial:/dev/ttyUSB0", "serial", {"device": "/dev/ttyUSB0", "baud": 115200}),
    ("/dev/ttyACM1", "serial", {"device": "/dev/ttyACM1"}),
    ("COM3:57600", "serial", {"device": "COM3", "baud": 57600}),
    ("tlog:dive.tlog?speed=4", "tlog", {"path": "dive.tlog", "speed": 4.0}),
    ("dive.tlog", "tlog", {"path": "dive.tlog", "speed": 1.0}),
    ("udpin:[::1]:14550", "udpin", {"host": "::1", "port": 14550}),
])
def test_accepted_forms(url, kind, fields):
    cfg = parse_connection_string(url)
    assert cfg.kind == kind
    for name, value in fields.items():
        assert getattr(cfg, name) == value


@pytest.mark.parametrize("url, words", [
    ("", "empty"),
    ("http://x", "unknown transport"),
    ("tcp:localhost", "HOST:PORT"),
    ("tcp:127.0.0.1:0", "not 0"),
    ("udpin:0.0.0.0:70000", "outside 0..65535"),
    ("udpin:0.0.0.0:abc", "not a number"),
    ("udpin::14550", "host is missing"),
    ("serial:/dev/ttyACM0:fast", "baud rate"),
    ("tlog:x.tlog?speed=quick", "speed must be a number"),
    ("tlog:x.tlog?rate=2", "unknown option"),
])
def test_malformed_strings_name_the_problem(url, words):
    with pytest.raises(ConnectionStringError) as info:
        parse_connection_string(url)
    assert words in str(info.value)
    assert "Examples:" in str(info.value)
