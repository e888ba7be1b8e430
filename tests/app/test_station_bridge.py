"""The station on the embedded world, seen through the GUI's bridge: every kind of live
data reaches the GUI thread as a signal, and closing stops every worker."""
from __future__ import annotations

import threading

import pytest

from app.qt_bridge import StationBridge
from app.station import Station, StationConfig


@pytest.mark.timeout(600)
def test_bridge_delivers_telemetry_video_detections_sonar_and_map(qtbot):
    before = {t.name for t in threading.enumerate()}
    station = Station(StationConfig(), log=lambda text: None)
    station.start()
    bridge = StationBridge(station)
    got = {"state": [], "frame": [], "det": [], "sonar": [], "map": [], "stats": [], "ping360": []}
    bridge.state_changed.connect(lambda s, now, loss: got["state"].append(s))
    bridge.frame_ready.connect(got["frame"].append)
    bridge.detection_ready.connect(got["det"].append)
    bridge.sonar_ready.connect(got["sonar"].append)
    bridge.map_changed.connect(got["map"].append)
    bridge.stats_changed.connect(got["stats"].append)
    bridge.ping360_ready.connect(got["ping360"].append)
    try:
        bridge.start()
        qtbot.waitUntil(lambda: all(got.values()) and got["state"][-1].discovered, timeout=60_000)
        assert got["state"][-1].vehicle_type == "SUBMARINE"
        frame = got["frame"][-1]
        assert frame.image.shape[2] == 3 and not frame.image.flags.writeable
        assert got["sonar"][-1].frame.meta is not None  # the fan's geometry, for range rings
        # frames arrive as the stream sends them, each once
        indices = [f.index for f in got["frame"]]
        assert indices == sorted(set(indices))
        assert got["map"][-1].coverage.wetted_area_m2 > 100
        sweep = got["ping360"][-1]  # the Ping360 swept its sector ahead: about -60..+60 deg
        bearing = (sweep.angles_deg + 180.0) % 360.0 - 180.0
        assert bearing.min() < -55 and bearing.max() > 55
    finally:
        bridge.stop()
        station.close()
    qtbot.waitUntil(lambda: not ({t.name for t in threading.enumerate() if t.is_alive()} - before
                                 - {"gui-task_0", "gui-task_1"}), timeout=15_000)
