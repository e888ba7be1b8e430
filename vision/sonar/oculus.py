"""Blueprint Subsea Oculus multibeam sonar: SimplePingResult messages, parse and encode.

An Oculus sends its pings on TCP port 52100 as a stream of messages. Each message is a
16-byte header followed by ``payloadSize`` bytes. Everything is little-endian and packed
(no alignment padding). Offsets below are from the start of the message and were checked
against a real 2.1 MHz, 8-bit ping (liboculus test data, ``one_ping_8bit.raw``).

Header (``OculusMessageHeader``, 16 bytes)::

    0  uint16 oculusId       0x4F53 (the bytes "SO")
    2  uint16 srcDeviceId
    4  uint16 dstDeviceId
    6  uint16 msgId          0x23 = SimplePingResult (0x15 SimpleFire, 0x22 PingResult,
                             0x55 UserConfig, 0xFF Dummy are known but not parsed here)
    8  uint16 msgVersion     0 in the file; version 2 (SimplePingResult2) is refused
   10  uint32 payloadSize    bytes after the header (message = 16 + payloadSize)
   14  uint16 spare2

Fire message echoed back (``OculusSimpleFireMessage``, after the header, 37 bytes)::

   16  uint8  masterMode      (1 = low frequency, 2 = high frequency)
   17  uint8  pingRate
   18  uint8  networkSpeed
   19  uint8  gammaCorrection
   20  uint8  flags           0x01 range in metres, 0x02 16-bit data, 0x04 send gain,
                              0x08 simple return, 0x10 gain assist (the file: 0x19)
   21  double range           m (flags & 0x01) -- 2.0 in the file
   29  double gainPercent
   37  double speedOfSound    m/s requested (0 = derive from salinity)
   45  double salinity        ppt

Result (``OculusSimplePingResult`` v0/v1, 69 bytes)::

   53  uint32 pingId
   57  uint32 status
   61  double frequency       Hz (2,098,880.6 in the file)
   69  double temperature     (garbage in the file: kept raw)
   77  double pressure        (garbage in the file: kept raw)
   85  double speedOfSoundUsed m/s
   93  uint32 pingStartTime   raw device counter (unit not documented)
   97  uint8  dataSize        0 = 8-bit, 1 = 16-bit, 2 = 24-bit, 3 = 32-bit
   98  double rangeResolution m per range row
  106  uint16 nRanges
  108  uint16 nBeams
  110  uint32 imageOffset     from the start of the message (2048 in the file)
  114  uint32 imageSize       bytes
  118  uint32 messageSize     whole message, = 16 + payloadSize
  122  int16  bearings[nBeams] in 0.01 degree, increasing (-3000 .. 3000 in the file)

The bytes between the bearings and ``imageOffset`` are unused (uninitialised memory in the
real file; they are not kept, and the encoder writes zeros). The image is ``nRanges`` rows
(row i at range ``i * rangeResolution``, nearest first) of ``nBeams`` samples. The row
stride is ``imageSize / nRanges``: either ``nBeams * bytesPerSample`` or that plus 4, in
which case each row starts with a uint32 gain (the "send gain" flag); the layout is taken
from the sizes, not from the flags.

Supported: SimplePingResult, msgVersion 0 and 1, 8- and 16-bit data, with or without row
gains. Refused with ``OculusFormatError``: other message ids, msgVersion >= 2, 24/32-bit data.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

__all__ = [
    "MAGIC",
    "MSG_SIMPLE_PING_RESULT",
    "OCULUS_TCP_PORT",
    "OculusFormatError",
    "OculusStreamSplitter",
    "SonarPing",
    "encode_oculus_ping",
    "iter_oculus_messages",
    "parse_oculus_ping",
]

OCULUS_TCP_PORT = 52100
MAGIC = 0x4F53
MAGIC_BYTES = struct.pack("<H", MAGIC)  # b"SO"
MSG_SIMPLE_FIRE = 0x15
MSG_PING_RESULT = 0x22
MSG_SIMPLE_PING_RESULT = 0x23
MSG_USER_CONFIG = 0x55
MSG_DUMMY = 0xFF
KNOWN_MESSAGE_IDS = {
    MSG_SIMPLE_FIRE: "SimpleFire",
    MSG_PING_RESULT: "PingResult",
    MSG_SIMPLE_PING_RESULT: "SimplePingResult",
    MSG_USER_CONFIG: "UserConfig",
    MSG_DUMMY: "Dummy",
}
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024  # a sanity bound used when resyncing a stream

FLAG_RANGE_AS_METRES = 0x01
FLAG_DATA_16BIT = 0x02
FLAG_SEND_GAIN = 0x04
FLAG_SIMPLE_RETURN = 0x08
FLAG_GAIN_ASSIST = 0x10

_HEADER = struct.Struct("<HHHHHIH")  # 16 bytes
# header + OculusSimpleFireMessage + OculusSimplePingResult (v0/v1), packed
_PING = struct.Struct("<HHHHHIH" "BBBBBdddd" "IIddddIBdHHIII")
HEADER_SIZE = _HEADER.size
PING_FIXED_SIZE = _PING.size  # 122: the bearings start here
_DATA_SIZE_NAMES = {0: "8-bit", 1: "16-bit", 2: "24-bit", 3: "32-bit"}
_DTYPES = {0: np.dtype("<u1"), 1: np.dtype("<u2")}


class OculusFormatError(ValueError):
    """The bytes are not a (supported, consistent) Oculus SimplePingResult message."""


def _readonly(a: np.ndarray, dtype) -> np.ndarray:
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class SonarPing:
    """One multibeam ping in polar form: ``intensities[range_row, beam]``.

    ``bearings_deg`` are + to starboard, increasing; ``ranges_m[i] = i * range_resolution_m``.
    Arrays are read-only copies. ``t_s`` is the host time the ping was received (set by the
    caller; the device's own ``ping_start_time`` counter is kept raw). The remaining fields
    are the raw message fields, with defaults suited to a simulated ping.
    """

    ping_id: int
    frequency_hz: float
    range_m: float
    range_resolution_m: float
    speed_of_sound_m_s: float
    gain_percent: float
    bearings_deg: np.ndarray
    intensities: np.ndarray
    t_s: float | None = None
    ping_start_time: int = 0
    source: str = "oculus"
    # raw header / fire-message / result fields
    src_device_id: int = 0
    dst_device_id: int = 0
    msg_version: int = 0
    master_mode: int = 2
    ping_rate: int = 0
    network_speed: int = 0xFF
    gamma_correction: int = 127
    flags: int | None = None  # None: derived from the data when encoding
    speed_of_sound_set_m_s: float = 0.0
    salinity_ppt: float = 0.0
    status: int = 0
    temperature_c: float = float("nan")
    pressure: float = float("nan")
    row_gains: np.ndarray | None = None  # (nRanges,) uint32 when the device sent gains
    image_offset: int | None = None  # None: the image follows the bearings
    ranges_m: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        inten = np.asarray(self.intensities)
        if inten.ndim != 2:
            raise OculusFormatError(f"intensities must be 2-D (ranges, beams), got shape {inten.shape}")
        if inten.dtype not in (np.uint8, np.uint16):
            raise OculusFormatError(f"intensities must be uint8 or uint16, got {inten.dtype}")
        n_ranges, n_beams = inten.shape
        if n_ranges == 0 or n_beams == 0:
            raise OculusFormatError(f"ping has {n_beams} beams and {n_ranges} ranges: both must be > 0")
        bearings = np.asarray(self.bearings_deg, dtype=np.float64)
        if bearings.shape != (n_beams,):
            raise OculusFormatError(f"bearings_deg has shape {bearings.shape}, expected ({n_beams},)")
        if not np.all(np.isfinite(bearings)):
            raise OculusFormatError("bearings_deg contains non-finite values")
        if n_beams > 1 and not np.all(np.diff(bearings) > 0):
            raise OculusFormatError("bearings_deg must be strictly increasing")
        for name in ("range_m", "range_resolution_m"):
            v = float(getattr(self, name))
            if not math.isfinite(v) or v <= 0:
                raise OculusFormatError(f"{name} must be finite and > 0, got {v!r}")
        object.__setattr__(self, "intensities", _readonly(inten, inten.dtype))
        object.__setattr__(self, "bearings_deg", _readonly(bearings, np.float64))
        if self.row_gains is not None:
            gains = np.asarray(self.row_gains)
            if gains.shape != (n_ranges,):
                raise OculusFormatError(f"row_gains has shape {gains.shape}, expected ({n_ranges},)")
            object.__setattr__(self, "row_gains", _readonly(gains, np.uint32))
        ranges = np.arange(n_ranges, dtype=np.float64) * float(self.range_resolution_m)
        ranges.setflags(write=False)
        object.__setattr__(self, "ranges_m", ranges)

    @property
    def n_beams(self) -> int:
        return int(self.intensities.shape[1])

    @property
    def n_ranges(self) -> int:
        return int(self.intensities.shape[0])


def _check_header(data, offset: int = 0) -> tuple[int, int, int, int]:
    """(msg_id, msg_version, payload_size, total) of the message at offset; raises on bad magic."""
    magic, _src, _dst, msg_id, version, payload, _spare = _HEADER.unpack_from(data, offset)
    if magic != MAGIC:
        raise OculusFormatError(
            f"not an Oculus message: magic 0x{magic:04X}, expected 0x{MAGIC:04X} ('SO')"
        )
    return msg_id, version, payload, HEADER_SIZE + payload


def parse_oculus_ping(data: bytes | bytearray | memoryview, *, t_s: float | None = None) -> SonarPing:
    """Parse one whole SimplePingResult message (exactly one message: no trailing bytes)."""
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise OculusFormatError(f"truncated Oculus message: {len(data)} bytes, a header needs {HEADER_SIZE}")
    msg_id, version, payload, total = _check_header(data)
    if msg_id != MSG_SIMPLE_PING_RESULT:
        name = KNOWN_MESSAGE_IDS.get(msg_id)
        if name is None:
            raise OculusFormatError(f"unknown Oculus message id 0x{msg_id:02X}")
        raise OculusFormatError(
            f"Oculus message id 0x{msg_id:02X} ({name}) is not a SimplePingResult (0x23)"
        )
    if version >= 2:
        raise OculusFormatError(
            f"unsupported SimplePingResult version {version} (supported: 0 and 1)"
        )
    if total > len(data):
        raise OculusFormatError(f"truncated Oculus ping: header says {total} bytes, got {len(data)}")
    if total < len(data):
        raise OculusFormatError(
            f"{len(data) - total} bytes after the Oculus message (header says {total} bytes); "
            "use iter_oculus_messages() to split a stream"
        )
    if total < PING_FIXED_SIZE:
        raise OculusFormatError(
            f"Oculus ping too short: payload size {payload} leaves {total} bytes, "
            f"the fixed fields need {PING_FIXED_SIZE}"
        )
    (_magic, src, dst, _msg_id, _version, _payload, _spare,
     master_mode, ping_rate, network_speed, gamma, flags, range_m, gain_pct, sos_set, salinity,
     ping_id, status, frequency, temperature, pressure, sos_used, ping_start, data_size,
     range_res, n_ranges, n_beams, image_offset, image_size, message_size) = _PING.unpack_from(data, 0)

    if n_beams == 0 or n_ranges == 0:
        raise OculusFormatError(f"Oculus ping has {n_beams} beams and {n_ranges} ranges: both must be > 0")
    if not math.isfinite(range_m) or range_m <= 0:
        raise OculusFormatError(f"Oculus ping range is not a finite positive number: {range_m!r}")
    if not math.isfinite(range_res) or range_res <= 0:
        raise OculusFormatError(f"Oculus ping range resolution is not a finite positive number: {range_res!r}")
    if message_size != total:
        raise OculusFormatError(
            f"Oculus ping messageSize field says {message_size} bytes, the header says {total}"
        )
    if data_size not in _DTYPES:
        raise OculusFormatError(
            f"unsupported Oculus data size {data_size} ({_DATA_SIZE_NAMES.get(data_size, 'unknown')}); "
            "supported: 0 (8-bit), 1 (16-bit)"
        )
    dtype = _DTYPES[data_size]
    bearings_end = PING_FIXED_SIZE + 2 * n_beams
    if bearings_end > total:
        raise OculusFormatError(
            f"Oculus ping bearings table ({n_beams} beams) ends at byte {bearings_end}, "
            f"past the message end {total}"
        )
    if image_offset < bearings_end or image_offset + image_size > total:
        raise OculusFormatError(
            f"Oculus image offset/size inconsistent: image at {image_offset}..{image_offset + image_size}, "
            f"must lie within {bearings_end}..{total} (after {n_beams} bearings, inside the message)"
        )
    row_bytes = n_beams * dtype.itemsize
    if image_size == n_ranges * row_bytes:
        stride, has_gain = row_bytes, False
    elif image_size == n_ranges * (row_bytes + 4):
        stride, has_gain = row_bytes + 4, True
    else:
        raise OculusFormatError(
            f"Oculus image size {image_size} does not fit {n_ranges} ranges x {n_beams} beams "
            f"x {dtype.itemsize} bytes ({n_ranges * row_bytes}, or {n_ranges * (row_bytes + 4)} with row gains)"
        )

    bearings = np.frombuffer(data, dtype="<i2", count=n_beams, offset=PING_FIXED_SIZE).astype(np.float64) / 100.0
    rows = np.frombuffer(data, dtype=np.uint8, count=image_size, offset=image_offset).reshape(n_ranges, stride)
    row_gains = None
    if has_gain:
        row_gains = rows[:, :4].copy().view("<u4").reshape(n_ranges)
        rows = rows[:, 4:]
    intensities = np.ascontiguousarray(rows).view(dtype).reshape(n_ranges, n_beams)
    return SonarPing(
        ping_id=ping_id,
        frequency_hz=frequency,
        range_m=range_m,
        range_resolution_m=range_res,
        speed_of_sound_m_s=sos_used,
        gain_percent=gain_pct,
        bearings_deg=bearings,
        intensities=intensities.astype(dtype.newbyteorder("=")),
        t_s=t_s,
        ping_start_time=ping_start,
        src_device_id=src,
        dst_device_id=dst,
        msg_version=version,
        master_mode=master_mode,
        ping_rate=ping_rate,
        network_speed=network_speed,
        gamma_correction=gamma,
        flags=flags,
        speed_of_sound_set_m_s=sos_set,
        salinity_ppt=salinity,
        status=status,
        temperature_c=temperature,
        pressure=pressure,
        row_gains=row_gains,
        image_offset=image_offset,
    )


def encode_oculus_ping(ping: SonarPing) -> bytes:
    """The SimplePingResult message for ``ping`` (inverse of :func:`parse_oculus_ping`).

    Bearings are written in 0.01 degree units (rounded); the gap between the bearings and
    ``ping.image_offset``, if any, is zero-filled.
    """
    n_ranges, n_beams = ping.intensities.shape
    if n_beams > 0xFFFF or n_ranges > 0xFFFF:
        raise OculusFormatError(f"ping too large for the Oculus format: {n_beams} beams x {n_ranges} ranges")
    if ping.intensities.dtype == np.uint8:
        data_size, sample = 0, np.dtype("<u1")
    else:
        data_size, sample = 1, np.dtype("<u2")
    centi = np.round(ping.bearings_deg * 100.0)
    if np.any(np.abs(centi) > 32767):
        raise OculusFormatError("bearings beyond +-327.67 degrees cannot be encoded")
    bearings_end = PING_FIXED_SIZE + 2 * n_beams
    image_offset = bearings_end if ping.image_offset is None else int(ping.image_offset)
    if image_offset < bearings_end:
        raise OculusFormatError(f"image_offset {image_offset} overlaps the bearings (which end at {bearings_end})")
    body = np.ascontiguousarray(ping.intensities, dtype=sample).view(np.uint8).reshape(n_ranges, -1)
    if ping.row_gains is not None:
        gains = np.ascontiguousarray(ping.row_gains, dtype="<u4").view(np.uint8).reshape(n_ranges, 4)
        body = np.concatenate([gains, body], axis=1)
    image = body.tobytes()
    total = image_offset + len(image)
    flags = ping.flags
    if flags is None:
        flags = FLAG_RANGE_AS_METRES | FLAG_SIMPLE_RETURN
        flags |= FLAG_DATA_16BIT if data_size == 1 else 0
        flags |= FLAG_SEND_GAIN if ping.row_gains is not None else 0
    fixed = _PING.pack(
        MAGIC, ping.src_device_id, ping.dst_device_id, MSG_SIMPLE_PING_RESULT, ping.msg_version,
        total - HEADER_SIZE, 0,
        ping.master_mode, ping.ping_rate, ping.network_speed, ping.gamma_correction, flags,
        ping.range_m, ping.gain_percent, ping.speed_of_sound_set_m_s, ping.salinity_ppt,
        ping.ping_id, ping.status, ping.frequency_hz, ping.temperature_c, ping.pressure,
        ping.speed_of_sound_m_s, ping.ping_start_time, data_size, ping.range_resolution_m,
        n_ranges, n_beams, image_offset, len(image), total,
    )
    out = bytearray(total)
    out[:PING_FIXED_SIZE] = fixed
    out[PING_FIXED_SIZE:bearings_end] = centi.astype("<i2").tobytes()
    out[image_offset:] = image
    return bytes(out)


class OculusStreamSplitter:
    """Split a byte stream (e.g. the TCP stream from port 52100) into whole Oculus messages.

    ``feed(chunk)`` returns the messages completed by the chunk. Bytes that are not part of a
    plausible message (magic "SO", a known message id, a payload under 64 MiB) are skipped
    and counted in ``skipped_bytes``; the splitter resyncs on the next magic.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped_bytes = 0

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[bytes]:
        self._buf += chunk
        return self._drain(final=False)

    def finish(self) -> list[bytes]:
        """End of stream: also resync past candidates that can no longer complete."""
        out = self._drain(final=True)
        self.skipped_bytes += len(self._buf)
        self._buf.clear()
        return out

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)

    def _drain(self, *, final: bool) -> list[bytes]:
        buf = self._buf
        out: list[bytes] = []
        pos = 0  # where to search for the next magic
        mark = 0  # end of the last message taken (bytes before a message are skipped)
        keep_from = None
        while True:
            i = buf.find(MAGIC_BYTES, pos)
            if i < 0:
                # keep a trailing 'S' that may be the first half of the magic
                keep_from = len(buf) - 1 if (buf and buf[-1:] == MAGIC_BYTES[:1] and not final) else len(buf)
                break
            if len(buf) - i < HEADER_SIZE:
                keep_from = i if not final else len(buf)
                break
            _m, _s, _d, msg_id, _v, payload, _sp = _HEADER.unpack_from(buf, i)
            if msg_id not in KNOWN_MESSAGE_IDS or payload > MAX_PAYLOAD_BYTES:
                pos = i + 1
                continue
            total = HEADER_SIZE + payload
            if len(buf) - i < total:
                if final:
                    pos = i + 1
                    continue
                keep_from = i
                break
            self.skipped_bytes += i - mark
            out.append(bytes(buf[i:i + total]))
            pos = mark = i + total
        self.skipped_bytes += max(0, keep_from - mark)
        del buf[:keep_from]
        return out


def iter_oculus_messages(stream_bytes: bytes | bytearray | memoryview | Iterable[bytes]) -> Iterator[bytes]:
    """Yield each whole Oculus message (header included) in a byte stream, skipping garbage.

    ``stream_bytes`` is one bytes-like object or an iterable of chunks (e.g. socket reads).
    A truncated message at the very end is dropped. Parse pings with :func:`parse_oculus_ping`.
    """
    splitter = OculusStreamSplitter()
    chunks = [stream_bytes] if isinstance(stream_bytes, (bytes, bytearray, memoryview)) else stream_bytes
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.finish()
