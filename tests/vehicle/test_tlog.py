"""vehicle.tlog: the writer, the fast framing reader, damage handling, real logs."""
from __future__ import annotations

import errno
import json
import os
import random
import threading
from pathlib import Path

import pytest
from pymavlink import mavutil

from vehicle import tlog
from vehicle.dialect import MAVLink, mavlink
from vehicle.tlog import (TlogError, TlogReadStats, TlogRecord, TlogWriter, iter_tlog,
                          iter_tlog_messages)

pytestmark = pytest.mark.timeout(60)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SMALL_TLOG = DATA / "mavlink" / "small.tlog"
SMALL_BIN = DATA / "mavlink" / "small.BIN"

# What small.tlog holds (a fixed file: measured once, asserted exactly).
SMALL_RECORDS = 35_916
SMALL_MESSAGES = 35_912          # 4 camera packets fail pymavlink's CRC check
SMALL_TYPES = 46                 # 47 with mavutil, which also counts BAD_DATA
SMALL_BAD_CRC_IDS = {259: 1, 260: 1, 262: 1, 269: 1}
SMALL_FIRST_US = 1_683_220_541_055_000
SMALL_LAST_US = 1_683_220_804_485_000

T0_US = 1_700_000_000_000_000    # 2023-11-14


def small_tlog() -> Path:
    if not SMALL_TLOG.is_file():
        pytest.skip(f"real data not available: {SMALL_TLOG} (needs ../shared/data)")
    return SMALL_TLOG


def make_packets(count: int, seed: int = 0) -> list[bytes]:
    """A mix of MAVLink 2, MAVLink 1 and signed MAVLink 2 packets of several sizes."""
    rng = random.Random(seed)
    plain = MAVLink(None, srcSystem=1, srcComponent=1)
    signer = MAVLink(None, srcSystem=1, srcComponent=2)
    signer.signing.secret_key = bytes(range(32))
    signer.signing.sign_outgoing = True
    out = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            msg = plain.heartbeat_encode(mavlink.MAV_TYPE_SUBMARINE,
                                         mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 19, 4, 3)
            out.append(msg.pack(plain, force_mavlink1=(i % 10 == 0)))
        elif kind == 1:
            msg = plain.attitude_encode(i, rng.random(), rng.random(), rng.random(), 0, 0, 0)
            out.append(msg.pack(plain))
        elif kind == 2:
            # msgid 253 puts an STX byte (0xFD) inside the header.
            text = f"message {i} " + "x" * rng.randrange(0, 35)
            out.append(signer.statustext_encode(6, text.encode()).pack(signer))
        elif kind == 3:
            msg = plain.param_value_encode(f"P{i}".encode(), rng.random(), 9, 900, i)
            out.append(msg.pack(plain, force_mavlink1=True))
        else:
            msg = plain.global_position_int_encode(i, 1, 2, 3, -rng.randrange(0, 50_000),
                                                   0, 0, 0, 0)
            out.append(msg.pack(plain))
        plain.seq = (plain.seq + 1) % 256
    return out


def write_tlog(path: Path, packets: list[bytes], t0_us: int = T0_US, step_us: int = 10_000
               ) -> list[tuple[int, bytes]]:
    recs = [(t0_us + i * step_us, p) for i, p in enumerate(packets)]
    with TlogWriter(path) as w:
        for t, p in recs:
            assert w.write(p, t)
    return recs


def read_all(source, **kw) -> tuple[list[tuple[int, bytes]], TlogReadStats]:
    stats = TlogReadStats()
    recs = [(r.t_unix_us, r.packet) for r in iter_tlog(source, stats=stats, **kw)]
    return recs, stats


def record_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each record of an intact tlog, by a simple reference framer."""
    spans, i = [], 0
    while i < len(data):
        stx, length = data[i + 8], data[i + 9]
        if stx == 0xFD:
            total = 12 + length + (13 if data[i + 10] & 1 else 0)
        else:
            total = 8 + length
        spans.append((i, i + 8 + total))
        i += 8 + total
    return spans


# --------------------------------------------------------------------- round trips

def test_record_is_frozen():
    rec = TlogRecord(1, b"x")
    with pytest.raises(Exception):
        rec.t_unix_us = 2  # type: ignore[misc]


def test_round_trip_writer_reader_and_mavutil(tmp_path):
    path = tmp_path / "telemetry.tlog"
    packets = make_packets(1000)
    recs = write_tlog(path, packets)
    assert path.stat().st_size == sum(8 + len(p) for p in packets)

    got, stats = read_all(path)
    assert got == recs
    assert stats.records == 1000 and stats.bytes_skipped == 0 and not stats.truncated_tail
    assert stats.first_t_unix_us == recs[0][0] and stats.last_t_unix_us == recs[-1][0]

    mstats = TlogReadStats()
    msgs = list(iter_tlog_messages(path, stats=mstats))
    assert len(msgs) == 1000 and mstats.bad_crc == 0 and mstats.decode_errors == 0
    for (t_s, msg), (t_us, packet) in zip(msgs, recs):
        assert t_s == pytest.approx(t_us * 1e-6, abs=1e-6)
        assert msg._timestamp == t_s
        assert bytes(msg.get_msgbuf()) == packet
    types = {m.get_type() for _, m in msgs}
    assert types == {"HEARTBEAT", "ATTITUDE", "STATUSTEXT", "PARAM_VALUE",
                     "GLOBAL_POSITION_INT"}

    # pymavlink's own tlog reader reads our file back, with the same times.
    conn = mavutil.mavlink_connection(str(path))
    theirs = []
    while (m := conn.recv_msg()) is not None:
        theirs.append(m)
    conn.close()
    assert len(theirs) == 1000
    assert [m.get_type() for m in theirs] == [m.get_type() for _, m in msgs]
    assert theirs[-1]._timestamp == pytest.approx(recs[-1][0] * 1e-6)


def test_bytes_source_reads_like_a_file(tmp_path):
    path = tmp_path / "t.tlog"
    recs = write_tlog(path, make_packets(50))
    got, _ = read_all(path.read_bytes())
    assert got == recs
    got_mv, _ = read_all(memoryview(path.read_bytes()))
    assert got_mv == recs


def test_writer_counts_and_default_time(tmp_path):
    path = tmp_path / "t.tlog"
    packets = make_packets(10)
    import time
    before = time.time_ns() // 1000
    with TlogWriter(path) as w:
        for p in packets:
            w.write(p)
        assert w.packets_written == 10
        assert w.bytes_written == sum(8 + len(p) for p in packets)
        assert w.write_many([(p, None) for p in packets]) == 10
    after = time.time_ns() // 1000
    got, _ = read_all(path)
    assert len(got) == 20 and all(before <= t <= after for t, _ in got)
    assert [p for _, p in got] == packets + packets
    assert w.closed and w.error is None


def test_writer_close_is_idempotent_and_later_writes_are_dropped(tmp_path):
    w = TlogWriter(tmp_path / "t.tlog")
    w.write(make_packets(1)[0], T0_US)
    w.close()
    w.close()
    assert w.write(make_packets(1)[0], T0_US) is False
    assert w.packets_written == 1 and w.packets_dropped == 1 and w.error is None


def test_writer_append_keeps_earlier_records(tmp_path):
    path = tmp_path / "t.tlog"
    packets = make_packets(6)
    write_tlog(path, packets[:3])
    with TlogWriter(path, append=True) as w:
        for i, p in enumerate(packets[3:]):
            w.write(p, T0_US + 10**6 + i)
    got, _ = read_all(path)
    assert [p for _, p in got] == packets


def test_writer_fsyncs_at_most_every_interval(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    packets = make_packets(50)
    with TlogWriter(tmp_path / "a.tlog", fsync_interval_s=3600) as w:
        for p in packets:
            w.write(p, T0_US)
        assert calls == []           # nothing yet: the interval has not passed
    assert len(calls) == 1           # close() syncs
    calls.clear()
    with TlogWriter(tmp_path / "b.tlog", fsync_interval_s=0) as w:
        for p in packets:
            w.write(p, T0_US)
    assert len(calls) == 51


@pytest.mark.timeout(30)
def test_writer_is_thread_safe(tmp_path):
    path = tmp_path / "t.tlog"
    threads_n, per_thread = 8, 1500
    packets = make_packets(threads_n * per_thread, seed=3)
    w = TlogWriter(path, fsync_interval_s=0.05)
    start = threading.Barrier(threads_n)

    def worker(k: int) -> None:
        start.wait()
        mine = packets[k * per_thread:(k + 1) * per_thread]
        for i, p in enumerate(mine):
            if i % 2:
                w.write(p)
            else:
                w.write(p, T0_US + k * 10**7 + i)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    got, stats = read_all(path)
    assert stats.bytes_skipped == 0 and stats.resyncs == 0 and not stats.truncated_tail
    assert len(got) == len(packets) == w.packets_written
    assert sorted(p for _, p in got) == sorted(packets)
    mstats = TlogReadStats()
    assert sum(1 for _ in iter_tlog_messages(path, stats=mstats)) == len(packets)
    assert mstats.bad_crc == 0


# --------------------------------------------------------------------- writer errors

def test_writer_disk_full_does_not_raise():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    w = TlogWriter("/dev/full")
    packet = make_packets(1)[0]
    assert w.write(packet, T0_US) is False        # ENOSPC, not raised
    assert w.error is not None
    assert "disk full while writing" in w.error and "free space" in w.error
    assert w.closed
    assert w.write(packet) is False
    assert w.write_many([(packet, None)] * 3) == 0
    assert w.packets_written == 0 and w.packets_dropped == 5
    w.close()


def test_writer_disk_full_midway_leaves_whole_records(tmp_path, monkeypatch):
    path = tmp_path / "telemetry.tlog"
    packets = make_packets(40)
    real_write = os.write
    budget = {"n": 25}

    def flaky_write(fd, data):
        if budget["n"] == 0:
            real_write(fd, bytes(data)[:5])     # a partial record reaches the disk
            raise OSError(errno.ENOSPC, "No space left on device")
        budget["n"] -= 1
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", flaky_write)
    w = TlogWriter(path)
    results = [w.write(p, T0_US + i) for i, p in enumerate(packets)]
    monkeypatch.setattr(os, "write", real_write)
    assert results == [True] * 25 + [False] * 15
    assert w.error.startswith("disk full while writing telemetry.tlog")
    assert w.packets_written == 25 and w.packets_dropped == 15
    w.close()
    got, stats = read_all(path)
    assert [p for _, p in got] == packets[:25]
    assert not stats.truncated_tail              # the partial record was cut off


def test_writer_missing_folder_raises_clear_error(tmp_path):
    with pytest.raises(TlogError, match="does not exist"):
        TlogWriter(tmp_path / "no" / "such" / "telemetry.tlog")


def test_writer_readonly_folder_raises_clear_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(TlogError, match="permission denied"):
            TlogWriter(ro / "telemetry.tlog")
    finally:
        ro.chmod(0o700)


# --------------------------------------------------------------------- real log

def test_small_tlog_counts():
    path = small_tlog()
    recs, stats = read_all(path)
    assert len(recs) == stats.records == SMALL_RECORDS
    assert stats.bytes_skipped == 0 and stats.resyncs == 0 and not stats.truncated_tail
    assert stats.bytes_total == path.stat().st_size
    assert recs[0][0] == SMALL_FIRST_US and recs[-1][0] == SMALL_LAST_US
    assert all(a[0] <= b[0] for a, b in zip(recs, recs[1:]))

    mstats = TlogReadStats()
    types: dict[str, int] = {}
    for _t, msg in iter_tlog_messages(path, stats=mstats):
        types[msg.get_type()] = types.get(msg.get_type(), 0) + 1
    assert mstats.messages == sum(types.values()) == SMALL_MESSAGES
    assert len(types) == SMALL_TYPES
    assert mstats.bad_crc == 4 and mstats.bad_crc_by_id == SMALL_BAD_CRC_IDS
    assert mstats.unknown_ids == 0 and mstats.decode_errors == 0
    assert types["PARAM_VALUE"] == 888 and types["HEARTBEAT"] == 1056
    assert types["NAMED_VALUE_FLOAT"] == 4224
    json.dumps(mstats.to_dict())


def test_small_tlog_matches_mavutil_message_for_message():
    path = small_tlog()
    conn = mavutil.mavlink_connection(str(path))
    theirs = []
    while (m := conn.recv_msg()) is not None:
        theirs.append(m)
    conn.close()
    assert len(theirs) == SMALL_RECORDS                   # mavutil includes BAD_DATA
    theirs = [m for m in theirs if m.get_type() != "BAD_DATA"]
    ours = list(iter_tlog_messages(path))
    assert len(ours) == len(theirs) == SMALL_MESSAGES
    for (t_s, a), b in zip(ours, theirs):
        assert a.get_type() == b.get_type()
        assert bytes(a.get_msgbuf()) == bytes(b.get_msgbuf())
        assert t_s == pytest.approx(b._timestamp, abs=1e-6)


def test_small_tlog_framing_matches_reference_framer():
    data = small_tlog().read_bytes()
    spans = record_spans(data)
    got, _ = read_all(data)
    assert [(int.from_bytes(data[s:s + 8], "big"), data[s + 8:e]) for s, e in spans] == got


# --------------------------------------------------------------------- damage

@pytest.mark.timeout(30)
def test_random_bytes_inserted_mid_file_resync():
    data = small_tlog().read_bytes()
    originals = set(read_all(data)[0])
    rng = random.Random(7)
    damaged = bytearray(data)
    inserts = 12
    for _ in range(inserts):
        i = rng.randrange(1000, len(damaged))
        damaged[i:i] = rng.randbytes(rng.randrange(1, 700))
    got, stats = read_all(bytes(damaged))
    intact = [r for r in got if r in originals]
    assert stats.resyncs >= 1 and stats.bytes_skipped > 0
    # each insertion costs at most the record it landed in and the one around it
    assert len(intact) >= SMALL_RECORDS - 2 * inserts
    assert len(got) - len(intact) <= inserts            # damaged records handed on
    mstats = TlogReadStats()
    n = sum(1 for _ in iter_tlog_messages(bytes(damaged), stats=mstats))
    assert n >= SMALL_MESSAGES - 2 * inserts
    assert mstats.bad_crc >= 4


@pytest.mark.timeout(30)
def test_flipped_crc_bytes_are_counted_not_raised():
    data = bytearray(small_tlog().read_bytes())
    spans = record_spans(bytes(data))
    for s, e in spans[100:110]:
        data[e - 1] ^= 0xFF
    stats = TlogReadStats()
    msgs = list(iter_tlog_messages(bytes(data), stats=stats))
    assert stats.records == SMALL_RECORDS and stats.resyncs == 0
    assert stats.bad_crc == 4 + 10
    assert len(msgs) == SMALL_MESSAGES - 10


@pytest.mark.timeout(30)
@pytest.mark.parametrize("cut", [1, 7, 20, 30])
def test_truncated_tail_is_reported(tmp_path, cut):
    data = small_tlog().read_bytes()
    spans = record_spans(data)
    last_len = spans[-1][1] - spans[-1][0]
    assert cut < last_len
    path = tmp_path / "cut.tlog"
    path.write_bytes(data[:-cut])
    got, stats = read_all(path)
    assert len(got) == SMALL_RECORDS - 1
    assert stats.truncated_tail and stats.tail_bytes == last_len - cut
    assert stats.bytes_skipped == 0
    mstats = TlogReadStats()
    assert sum(1 for _ in iter_tlog_messages(path, stats=mstats)) == SMALL_MESSAGES - 1


@pytest.mark.timeout(30)
def test_truncated_synthetic_log_in_the_timestamp(tmp_path):
    path = tmp_path / "t.tlog"
    recs = write_tlog(path, make_packets(20))
    data = path.read_bytes()
    path.write_bytes(data + data[:5])        # 5 bytes of a next record's timestamp
    got, stats = read_all(path)
    assert got == recs and stats.truncated_tail and stats.tail_bytes == 5


@pytest.mark.timeout(30)
def test_damage_across_chunk_boundaries_reads_the_same(tmp_path, monkeypatch):
    data = small_tlog().read_bytes()
    rng = random.Random(11)
    damaged = bytearray(data)
    for _ in range(40):
        i = rng.randrange(len(damaged))
        damaged[i:i] = rng.randbytes(rng.randrange(1, 3000))
    for _ in range(300):
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    damaged = bytes(damaged[:-17])
    path = tmp_path / "damaged.tlog"
    path.write_bytes(damaged)
    expected, expected_stats = read_all(damaged)
    for chunk in (700, 4096, 65_536):
        monkeypatch.setattr(tlog, "_CHUNK", chunk)
        got, stats = read_all(path)
        assert got == expected, chunk
        assert (stats.records, stats.bytes_skipped, stats.resyncs, stats.truncated_tail,
                stats.tail_bytes) == (expected_stats.records, expected_stats.bytes_skipped,
                                      expected_stats.resyncs, expected_stats.truncated_tail,
                                      expected_stats.tail_bytes)
        assert stats.bytes_total == len(damaged)


@pytest.mark.timeout(30)
def test_long_run_of_stx_bytes_does_not_hang(tmp_path):
    path = tmp_path / "t.tlog"
    recs = write_tlog(path, make_packets(200))
    data = path.read_bytes()
    spans = record_spans(data)
    mid = spans[100][0]
    junk = b"\xfd" * 600_000 + b"\xfe" * 400_000
    got, stats = read_all(data[:mid] + junk + data[mid:])
    assert got == recs
    assert stats.bytes_skipped == len(junk) and stats.resyncs == 1


@pytest.mark.timeout(30)
def test_leading_garbage_is_skipped_up_to_64k():
    data = small_tlog().read_bytes()
    rng = random.Random(5)
    got, stats = read_all(rng.randbytes(5000) + data)
    assert len(got) == SMALL_RECORDS and stats.bytes_skipped == 5000
    with pytest.raises(TlogError, match="not a telemetry log"):
        read_all(rng.randbytes(70_000) + data)


@pytest.mark.timeout(30)
def test_unknown_message_id_is_counted(tmp_path):
    payload = b"\x01\x02\x03"
    header = bytes([0xFD, len(payload), 0, 0, 7, 1, 1, 0x00, 0xFF, 0xFF])  # id 0xFFFF00
    odd = header + payload + b"\x00\x00"
    path = tmp_path / "t.tlog"
    packets = make_packets(3)
    with TlogWriter(path) as w:
        w.write(packets[0], T0_US)
        w.write(odd, T0_US + 1)
        w.write(packets[1], T0_US + 2)
    stats = TlogReadStats()
    msgs = list(iter_tlog_messages(path, stats=stats))
    assert len(msgs) == 2 and stats.unknown_ids == 1 and stats.records == 3


@pytest.mark.timeout(30)
@pytest.mark.parametrize("content", [b"", b"\x00", b"hello world\n" * 1000,
                                     b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40])
def test_not_a_tlog_is_refused(tmp_path, content):
    path = tmp_path / "x.tlog"
    path.write_bytes(content)
    with pytest.raises(TlogError) as e:
        iter_tlog(path)
    assert str(path) in str(e.value)
    assert ("empty" in str(e.value)) if not content else ("not a telemetry log" in str(e.value))


@pytest.mark.timeout(30)
def test_random_bytes_file_is_refused(tmp_path):
    path = tmp_path / "random.tlog"
    path.write_bytes(random.Random(1).randbytes(200_000))
    with pytest.raises(TlogError, match=r"is not a telemetry log \(tlog\)"):
        iter_tlog_messages(path)


@pytest.mark.timeout(30)
def test_dataflash_bin_is_refused():
    if not SMALL_BIN.is_file():
        pytest.skip(f"real data not available: {SMALL_BIN} (needs ../shared/data)")
    with pytest.raises(TlogError, match="not a telemetry log.*dataflash"):
        iter_tlog(SMALL_BIN)


def test_missing_and_unreadable_files_raise_tlog_error(tmp_path):
    with pytest.raises(TlogError, match="no such file"):
        iter_tlog(tmp_path / "missing.tlog")
    with pytest.raises(TlogError, match="directory"):
        iter_tlog(tmp_path)


def test_stopping_early_closes_and_updates_stats(tmp_path):
    path = tmp_path / "t.tlog"
    write_tlog(path, make_packets(100))
    stats = TlogReadStats()
    it = iter_tlog_messages(path, stats=stats)
    for i, _ in enumerate(it):
        if i == 9:
            break
    it.close()
    assert stats.messages == 10
