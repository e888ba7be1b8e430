"""The replay's 3D map: the record's hull rebuilt in a task (Open3D, disk), its final
findings, and the vehicle's trail up to the replay time, re-rendered at most twice a second
while playing (each is a whole-hull render) and at once on a seek."""
from __future__ import annotations

import json
import time
import types
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from .qt_tasks import run_task

PERIOD_S = 0.5


def rebuild_hull(session):
    """(HullRebuild, surface samples or None, final findings) of a record (runs in a task)."""
    hull = session.hull_rebuilt()
    if hull is None or hull.model is None:
        return hull, None, []
    from hull.surface_samples import sample_surface

    samples = sample_surface(hull.model.wetted(hull.placement.draft_m).mesh)
    findings = []
    final = Path(session.path) / "map" / "final.json"
    if final.is_file():
        for f in json.loads(final.read_text()).get("findings", []):
            findings.append(types.SimpleNamespace(finding_id=int(f["finding_id"]), class_name=f["class_name"],
                                                  position_h=tuple(f["position_h"])))
    return hull, samples, findings


class ReplayHull(QObject):
    """Feeds a QtHullView (actions and niche placing hidden: a record is not changed)."""

    message = Signal(str)

    def __init__(self, view, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        view.actions.hide()
        view.place_button.hide()
        self.session = None
        self.ready = False
        self.task = None
        self._at = 0.0
        self._last = None  # (t_s, state) last asked for: shown once the hull is ready

    def load(self, session) -> None:
        self.session, self.ready = session, False
        self.task = run_task("rebuild the hull", rebuild_hull, session, parent=self, on_done=self._built,
                             on_error=self.message.emit)

    def _built(self, out) -> None:
        self.task = None
        hull, samples, findings = out
        if samples is None:
            self.view.message.setText(f"no 3D hull: {getattr(hull, 'problem', '') or 'the record names none'}")
            return
        self.view.set_station_map(types.SimpleNamespace(samples=samples, placement=hull.placement, model=hull.model,
                                                        worker=None))
        self.view.set_findings(findings)
        plural = "" if len(findings) == 1 else "s"
        self.view.coverage_label.setText(f"{hull.how} hull, {len(findings)} finding{plural}; the trail to the replay time")
        self.ready = True
        if self._last is not None:
            self.show(*self._last, playing=False)

    def show(self, t_s: float, state, playing: bool) -> None:
        """The trail up to t_s and the vehicle there (throttled while playing)."""
        self._last = (t_s, state)
        if not self.ready or (playing and time.monotonic() - self._at < PERIOD_S):
            return
        self._at = time.monotonic()
        trail = self.session.trail_h(t_s)
        self.view.set_trail(trail)
        if trail is not None and len(trail) and state is not None and state.heading_deg is not None:
            self.view.set_vehicle_pose(trail[-1], state.heading_deg)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
