"""Transports. Only `create_link` builds them, from a parsed connection string."""
from __future__ import annotations

from ..connection_string import LinkConfig, parse_connection_string
from .base import Link, LinkClosed
from .serial_link import SerialLink
from .tcp import TcpLink
from .tlog_replay import TlogReplayLink
from .udp import UdpInLink, UdpOutLink


def create_link(config: LinkConfig | str) -> Link:
    """A closed link for a config or URL; call open() on the reader thread's owner."""
    if isinstance(config, str):
        config = parse_connection_string(config)
    if config.kind == "udpin":
        return UdpInLink(config.host, config.port)
    if config.kind == "udpout":
        return UdpOutLink(config.host, config.port)
    if config.kind == "tcp":
        return TcpLink(config.host, config.port)
    if config.kind == "serial":
        return SerialLink(config.device, config.baud)
    if config.kind == "tlog":
        return TlogReplayLink(config.path, config.speed)
    raise ValueError(f"unknown link kind {config.kind!r}")


__all__ = ["Link", "LinkClosed", "create_link", "UdpInLink", "UdpOutLink", "TcpLink",
           "SerialLink", "TlogReplayLink"]
