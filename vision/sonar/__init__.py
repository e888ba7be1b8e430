"""Imaging sonar: Oculus multibeam pings (binary format, network client), Ping360 scans
and the Cartesian fan view."""
from __future__ import annotations

from vision.sonar.fan import FanImage, fan_image, polar_box_to_fan
from vision.sonar.oculus import (
    OculusFormatError,
    SonarPing,
    encode_oculus_ping,
    iter_oculus_messages,
    parse_oculus_ping,
)
from vision.sonar.oculus_client import (
    OculusClient,
    OculusClientStats,
    OculusStatus,
    encode_simple_fire,
    parse_oculus_status,
)
from vision.sonar.ping360_client import Ping360Client, Ping360Error, Ping360Scan

__all__ = [
    "FanImage",
    "OculusClient",
    "OculusClientStats",
    "OculusFormatError",
    "OculusStatus",
    "Ping360Client",
    "Ping360Error",
    "Ping360Scan",
    "SonarPing",
    "encode_oculus_ping",
    "encode_simple_fire",
    "fan_image",
    "iter_oculus_messages",
    "parse_oculus_ping",
    "parse_oculus_status",
    "polar_box_to_fan",
]
