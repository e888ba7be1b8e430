"""The simulated multibeam's pings as Blueprint Subsea Oculus "SimplePingResult" network
messages (msgId 0x23, version 0, 8-bit), byte for byte as the sonar sends them on TCP
52100, so the station reads the simulator with the same parser as a real Oculus.

Written here independently of the station's parser (as a sonar's firmware is): the test
that the station parses these bytes checks both sides.

Layout (little-endian, packed): 16-byte header (magic 0x4F53, src, dst, msgId, version,
payload size u32, spare); fire message (masterMode, pingRate, networkSpeed, gamma, flags
u8; range, gain %, speed of sound, salinity f64); result (pingId, status u32; frequency,
temperature, pressure, speed of sound used f64; ping start time u32; data size u8; range
resolution f64; nRanges, nBeams u16; image offset, image size, message size u32); beam
bearings (int16, 0.01 deg); image rows (nRanges x nBeams u8), row 0 at range 0.
"""
from __future__ import annotations

import struct

import numpy as np

OCULUS_MAGIC = 0x4F53
MSG_SIMPLE_PING_RESULT = 0x23
FLAGS_METRES_SIMPLE_GAIN_ASSIST = 0x19  # range in metres, simple return, gain assist; no row gains
SOURCE_DEVICE_ID = 7892
_HEADER = struct.Struct("<HHHHHIH")
_FIRE = struct.Struct("<BBBBBdddd")
_RESULT = struct.Struct("<IIddddIBdHHIII")


def encode_ping(intensities: np.ndarray, bearings_deg: np.ndarray, range_resolution_m: float,
                min_range_m: float, range_m: float, *, ping_id: int = 0, frequency_hz: float = 1.2e6,
                gain_percent: float = 50.0, speed_of_sound_m_s: float = 1500.0, ping_start_time: int = 0) -> bytes:
    """intensities: (range bins, beams) uint8 with row 0 at min_range_m; rows for the
    blind zone before it are added as zeros, since an Oculus image starts at range 0."""
    img = np.asarray(intensities, dtype=np.uint8)
    pad = int(round(min_range_m / range_resolution_m))
    if pad:
        img = np.vstack([np.zeros((pad, img.shape[1]), np.uint8), img])
    n_ranges, n_beams = img.shape
    bearings = np.round(np.asarray(bearings_deg, float) * 100).astype("<i2")
    image_offset = _HEADER.size + _FIRE.size + _RESULT.size + 2 * n_beams
    image_size = n_ranges * n_beams
    message_size = image_offset + image_size
    header = _HEADER.pack(OCULUS_MAGIC, SOURCE_DEVICE_ID, 0, MSG_SIMPLE_PING_RESULT, 0, message_size - _HEADER.size, 0)
    fire = _FIRE.pack(2, 0, 0, 0, FLAGS_METRES_SIMPLE_GAIN_ASSIST, float(range_m), float(gain_percent),
                      float(speed_of_sound_m_s), 0.0)
    result = _RESULT.pack(int(ping_id) & 0xFFFFFFFF, 0, float(frequency_hz), 15.0, 0.0, float(speed_of_sound_m_s),
                          int(ping_start_time) & 0xFFFFFFFF, 0, float(range_resolution_m), n_ranges, n_beams,
                          image_offset, image_size, message_size)
    return header + fire + result + bearings.tobytes() + np.ascontiguousarray(img).tobytes()


def encode_frame(frame, config, *, ping_id: int = 0) -> bytes:
    """A sim.sonar_render.SonarFrame as an Oculus message."""
    return encode_ping(frame.intensities, frame.bearings_deg, frame.range_resolution_m, frame.min_range_m,
                       config.max_range_m, ping_id=ping_id)
