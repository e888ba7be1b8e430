import os
import random

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from vehicle.protocol import MavlinkProtocol


def _heartbeats(n, sysid=1, compid=1):
    tx = MavlinkProtocol(sysid, compid)
    return [tx.pack(mavlink.MAVLink_heartbeat_message(12, 3, 0, 19, 3, 3)) for _ in range(n)]


def test_pack_advances_sequence_and_parse_counts_gaps():
    pkts = _heartbeats(10)
    assert [p[4] for p in pkts] == list(range(10))  # MAVLink 2 seq byte
    rx = MavlinkProtocol()
    got = []
    for i in (0, 1, 4, 5, 9):
        got += rx.parse(pkts[i])
    stats = rx.stats()
    assert len(got) == 5 and stats.received == 5
    assert stats.lost == 2 + 3
    assert dict(stats.lost_by_source) == {(1, 1): 5}
    assert 49.0 < stats.loss_pct < 51.0


def test_sequence_wraps_without_counting_loss():
    pkts = _heartbeats(300)
    rx = MavlinkProtocol()
    for p in pkts:
        rx.parse(p)
    assert rx.stats().received == 300 and rx.stats().lost == 0


def test_bad_crc_and_garbage_are_counted_not_raised():
    pkts = _heartbeats(3)
    bad = bytearray(pkts[1])
    bad[-1] ^= 0xFF
    rx = MavlinkProtocol()
    rng = random.Random(1)
    out = rx.parse(pkts[0], datagram=True)
    out += rx.parse(bytes(rng.randrange(256) for _ in range(500)), datagram=True)
    out += rx.parse(bytes(bad), datagram=True)
    out += rx.parse(b"\xfd\xff\x00", datagram=True)  # a header promising 255 bytes
    out += rx.parse(pkts[2], datagram=True)  # must not be swallowed by the half packet before
    stats = rx.stats()
    assert [m.get_seq() for m in out] == [0, 2]
    assert stats.bad_crc >= 1
    assert stats.bad_bytes > 0


def test_stream_mode_recovers_packets_split_across_reads():
    pkts = _heartbeats(20)
    blob = b"".join(pkts)
    rx = MavlinkProtocol()
    got = []
    for i in range(0, len(blob), 7):
        got += rx.parse(blob[i:i + 7])
    assert len(got) == 20


def test_random_bytes_flood_never_raises():
    rx = MavlinkProtocol()
    for _ in range(200):
        rx.parse(os.urandom(random.randrange(1, 300)), datagram=True)
    assert rx.stats().received < 5  # a valid CRC by chance is possible but rare
