"""Where the vehicle may be: outside the hull at the standoff, clear of the quay wall,
above the seabed, below the minimum depth. Each rule names the reason a pose fails, which
is also the reason given for the patches the plan cannot see."""
from __future__ import annotations

import dataclasses

import numpy as np

STANDOFF_SLACK_M = 0.2  # waypoints must be within this of the standoff


@dataclasses.dataclass(frozen=True)
class SafetyLimits:
    draft_m: float
    seabed_z_h: float
    min_depth_m: float
    keel_clearance_m: float
    quay_y_h: float | None  # y of the quay wall in H (None: open water both sides)
    vehicle_half_width_m: float
    quay_margin_m: float

    def reasons(self, points_h: np.ndarray) -> np.ndarray:
        """'' where a pose is allowed, else the first rule it breaks."""
        pts = np.atleast_2d(points_h)
        out = np.full(len(pts), "", dtype=object)
        depth = self.draft_m - pts[:, 2]
        out[depth < self.min_depth_m - 1e-6] = "too shallow"
        out[(out == "") & (pts[:, 2] < self.seabed_z_h + self.keel_clearance_m)] = "seabed"
        if self.quay_y_h is not None:
            room = self.vehicle_half_width_m + self.quay_margin_m
            if self.quay_y_h > 0:
                bad = pts[:, 1] > self.quay_y_h - room
            else:
                bad = pts[:, 1] < self.quay_y_h + room
            out[(out == "") & bad] = "quay gap"
        return out

    def allowed(self, points_h: np.ndarray) -> np.ndarray:
        return self.reasons(points_h) == ""
