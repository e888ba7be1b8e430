"""Every wait in the vehicle layer has a named limit; tests may pass shorter ones."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Timeouts:
    discovery_s: float = 10.0
    # A vehicle heartbeat is 1 Hz: two missed beats plus slack means the link is gone,
    # which the pilot must learn within 3 s.
    heartbeat_lost_s: float = 2.5
    command_ack_s: float = 1.5
    command_retries: int = 3
    state_confirm_s: float = 3.0  # heartbeat confirming an arm/mode change after its ACK
    param_read_s: float = 1.0
    param_retries: int = 4
    param_list_idle_s: float = 1.5  # silence that ends PARAM_VALUE streaming and starts gap requests
    param_list_total_s: float = 60.0
    # Mission transfer adapts its retry time to the measured round trip (like TCP's RTO),
    # within these bounds.
    mission_rto_min_s: float = 0.02
    mission_rto_max_s: float = 1.5
    mission_retries: int = 10
    # a transfer gives up only after this much silence as well: longer than ArduPilot's 1 s
    # re-request, so a run of losses on a fast link never ends a transfer that still lives
    mission_stall_s: float = 3.0
    mission_total_s: float = 300.0
    stream_check_s: float = 3.0  # no ATTITUDE this long after asking: ask again
