"""Imaging sonar: Oculus multibeam pings (binary format) and the Cartesian fan view."""
from __future__ import annotations

from vision.sonar.fan import FanImage, fan_image, polar_box_to_fan
from vision.sonar.oculus import (
    OculusFormatError,
    SonarPing,
    encode_oculus_ping,
    iter_oculus_messages,
    parse_oculus_ping,
)

__all__ = [
    "FanImage",
    "OculusFormatError",
    "SonarPing",
    "encode_oculus_ping",
    "fan_image",
    "iter_oculus_messages",
    "parse_oculus_ping",
    "polar_box_to_fan",
]
