"""Oculus SimplePingResult parser/encoder and stream splitter (real ping from ../shared/data)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from vision.sonar.oculus import (
    OculusFormatError,
    OculusStreamSplitter,
    SonarPing,
    encode_oculus_ping,
    iter_oculus_messages,
    parse_oculus_ping,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
RAW = DATA / "sonar_oculus" / "one_ping_8bit.raw"


@pytest.fixture(scope="module")
def raw() -> bytes:
    if not RAW.exists():
        pytest.skip(f"real Oculus ping not available ({RAW} absent: ../shared/data is beside the checkout in CI)")
    return RAW.read_bytes()


def _synthetic(dtype=np.uint8, gains=False, n_ranges=50, n_beams=32) -> SonarPing:
    rng = np.random.default_rng(1)
    hi = 255 if dtype == np.uint8 else 65535
    return SonarPing(
        ping_id=7, frequency_hz=1.2e6, range_m=5.0, range_resolution_m=0.1,
        speed_of_sound_m_s=1500.0, gain_percent=40.0,
        bearings_deg=np.linspace(-65, 65, n_beams).round(2),
        intensities=rng.integers(0, hi, (n_ranges, n_beams), endpoint=True).astype(dtype),
        ping_start_time=123456, row_gains=np.arange(n_ranges, dtype=np.uint32) * 3 if gains else None,
    )


def _same(a: SonarPing, b: SonarPing) -> None:
    for name in ("ping_id", "frequency_hz", "range_m", "range_resolution_m", "speed_of_sound_m_s",
                 "gain_percent", "ping_start_time", "src_device_id", "dst_device_id", "msg_version",
                 "master_mode", "ping_rate", "network_speed", "gamma_correction", "speed_of_sound_set_m_s",
                 "salinity_ppt", "status"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("temperature_c", "pressure"):  # may be NaN or garbage: compare the bits
        assert struct.pack("<d", getattr(a, name)) == struct.pack("<d", getattr(b, name)), name
    np.testing.assert_array_equal(a.bearings_deg, b.bearings_deg)
    np.testing.assert_array_equal(a.intensities, b.intensities)
    assert a.intensities.dtype == b.intensities.dtype
    if a.row_gains is None:
        assert b.row_gains is None
    else:
        np.testing.assert_array_equal(a.row_gains, b.row_gains)


def test_real_ping_parses(raw):
    p = parse_oculus_ping(raw)
    assert p.intensities.shape == (703, 256)
    assert p.intensities.dtype == np.uint8
    assert p.n_beams == 256 and p.n_ranges == 703
    assert p.bearings_deg.shape == (256,)
    assert -30.5 <= p.bearings_deg[0] <= -29.5 and 29.5 <= p.bearings_deg[-1] <= 30.5
    assert np.all(np.diff(p.bearings_deg) > 0)
    assert p.range_m == 2.0
    assert p.frequency_hz == pytest.approx(2.1e6, rel=0.01)
    assert 1400 < p.speed_of_sound_m_s < 1600
    assert p.ranges_m[-1] == pytest.approx(2.0, abs=0.01)
    assert p.source == "oculus" and p.msg_version == 0 and p.row_gains is None
    assert p.image_offset == 2048
    assert 0 < p.intensities.mean() < 255
    assert not p.intensities.flags.writeable and not p.bearings_deg.flags.writeable


def test_real_ping_encode_round_trip(raw):
    p = parse_oculus_ping(raw)
    enc = encode_oculus_ping(p)
    assert len(enc) == len(raw)
    # header, fire message, result fields, bearings and image are byte-identical; only the
    # unused gap between the bearings and the image (device garbage) is zeroed
    assert enc[:122 + 2 * 256] == raw[:122 + 2 * 256]
    assert enc[2048:] == raw[2048:]
    _same(p, parse_oculus_ping(enc))


@pytest.mark.parametrize("dtype,gains", [(np.uint8, False), (np.uint16, False), (np.uint8, True), (np.uint16, True)])
def test_synthetic_round_trip(dtype, gains):
    p = _synthetic(dtype, gains)
    enc = encode_oculus_ping(p)
    q = parse_oculus_ping(enc, t_s=12.5)
    _same(p, q)
    assert q.t_s == 12.5
    assert encode_oculus_ping(q) == enc


def _patch(raw: bytes, offset: int, fmt: str, value) -> bytes:
    b = bytearray(raw)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def test_bad_magic(raw):
    with pytest.raises(OculusFormatError, match=r"not an Oculus message: magic 0x4F54"):
        parse_oculus_ping(_patch(raw, 0, "<H", 0x4F54))


def test_truncated(raw):
    with pytest.raises(OculusFormatError, match=rf"truncated Oculus ping: header says {len(raw)} bytes, got 1000"):
        parse_oculus_ping(raw[:1000])
    with pytest.raises(OculusFormatError, match="truncated"):
        parse_oculus_ping(raw[:5])


def test_trailing_bytes(raw):
    with pytest.raises(OculusFormatError, match="after the Oculus message"):
        parse_oculus_ping(raw + b"SO")


def test_unknown_and_other_message_ids(raw):
    with pytest.raises(OculusFormatError, match="unknown Oculus message id 0x42"):
        parse_oculus_ping(_patch(raw, 6, "<H", 0x42))
    with pytest.raises(OculusFormatError, match=r"0x22 \(PingResult\) is not a SimplePingResult"):
        parse_oculus_ping(_patch(raw, 6, "<H", 0x22))


def test_unsupported_version(raw):
    with pytest.raises(OculusFormatError, match="unsupported SimplePingResult version 2"):
        parse_oculus_ping(_patch(raw, 8, "<H", 2))


def test_inconsistent_image(raw):
    with pytest.raises(OculusFormatError, match="image offset/size inconsistent"):
        parse_oculus_ping(_patch(raw, 110, "<I", 4000))  # image would run past the end
    with pytest.raises(OculusFormatError, match="image offset/size inconsistent"):
        parse_oculus_ping(_patch(raw, 110, "<I", 200))  # image inside the bearings table
    with pytest.raises(OculusFormatError, match="image size 179967 does not fit 703 ranges x 256 beams"):
        parse_oculus_ping(_patch(raw, 114, "<I", 179967))
    with pytest.raises(OculusFormatError, match="messageSize field says 5 bytes"):
        parse_oculus_ping(_patch(raw, 118, "<I", 5))


def test_wrong_dimensions(raw):
    with pytest.raises(OculusFormatError, match="0 beams"):
        parse_oculus_ping(_patch(raw, 108, "<H", 0))
    with pytest.raises(OculusFormatError, match="0 ranges"):
        parse_oculus_ping(_patch(raw, 106, "<H", 0))
    with pytest.raises(OculusFormatError, match="does not fit 700 ranges"):
        parse_oculus_ping(_patch(raw, 106, "<H", 700))


def test_non_finite_range_and_data_size(raw):
    with pytest.raises(OculusFormatError, match="range is not a finite positive number: nan"):
        parse_oculus_ping(_patch(raw, 21, "<d", float("nan")))
    with pytest.raises(OculusFormatError, match="range resolution"):
        parse_oculus_ping(_patch(raw, 98, "<d", float("inf")))
    with pytest.raises(OculusFormatError, match=r"unsupported Oculus data size 3 \(32-bit\)"):
        parse_oculus_ping(_patch(raw, 97, "<B", 3))


def test_stream_split_with_garbage(raw):
    other = encode_oculus_ping(_synthetic(np.uint16, True))
    # garbage includes a false magic, a magic with an unknown id, and a half-sent message at the end
    stream = (b"\x00\xffgarbage SO\x99\x00" + raw + b"noise SOSO\x01\x02" + other
              + b"SO" + b"\x00" * 4 + b"\x23\x00" + raw[8:40])
    msgs = list(iter_oculus_messages(stream))
    assert msgs == [raw, other]
    assert parse_oculus_ping(msgs[0]).n_beams == 256
    assert parse_oculus_ping(msgs[1]).intensities.dtype == np.uint16


def test_stream_split_in_small_chunks(raw):
    other = encode_oculus_ping(_synthetic())
    stream = b"junk" + raw + b"xxSxO" + other + b"S"
    chunks = [stream[i:i + 997] for i in range(0, len(stream), 997)]
    splitter = OculusStreamSplitter()
    got = []
    for c in chunks:
        got += splitter.feed(c)
    assert got == [raw, other]
    got += splitter.finish()
    assert got == [raw, other]
    assert splitter.skipped_bytes == 4 + 5 + 1
    assert list(iter_oculus_messages(chunks)) == [raw, other]


def test_sonar_ping_validation():
    with pytest.raises(OculusFormatError, match="bearings_deg has shape"):
        SonarPing(1, 1e6, 2.0, 0.01, 1500.0, 50.0, np.zeros(3), np.zeros((4, 5), np.uint8))
    with pytest.raises(OculusFormatError, match="strictly increasing"):
        SonarPing(1, 1e6, 2.0, 0.01, 1500.0, 50.0, np.array([0.0, 0.0]), np.zeros((4, 2), np.uint8))
    with pytest.raises(OculusFormatError, match="range_m must be finite"):
        SonarPing(1, 1e6, float("inf"), 0.01, 1500.0, 50.0, np.array([0.0, 1.0]), np.zeros((4, 2), np.uint8))
    with pytest.raises(OculusFormatError, match="uint8 or uint16"):
        SonarPing(1, 1e6, 2.0, 0.01, 1500.0, 50.0, np.array([0.0, 1.0]), np.zeros((4, 2), np.float32))
