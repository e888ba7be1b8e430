"""The vehicle's pose in the hull frame H, a time-indexed history of it, and where a sensor
mounted on the vehicle sits and looks.

Frames (DESIGN.md): body x forward, y right (starboard), z down; local NED from the
vehicle's EKF; H joined to NED by hull.placement.Placement. A pose is (position_h,
R_h_body): the body origin in H and the rotation whose columns are the body axes
expressed in H.

PoseHistory is filled by the link thread and read by the detector thread: a pose at a
frame's time is interpolated between the two telemetry samples around it (position
linearly, attitude by quaternion slerp) and refused, never extrapolated, outside the
buffer or across a telemetry gap: a detection placed with an invented pose would be
evidence placed in the wrong spot.
"""
from __future__ import annotations

import bisect
import collections
import dataclasses
import math
import threading

import numpy as np

from .placement import Placement

__all__ = ["VehiclePose", "PoseHistory", "PoseUnknown", "SensorMount", "SensorPose", "body_to_ned",
           "sensor_pose", "rotation_h_from_ned", "quat_from_matrix", "matrix_from_quat", "slerp"]

DEFAULT_MAX_GAP_S = 0.5  # ATTITUDE arrives at 16 Hz when streams are requested; 0.5 s is ~8 lost samples
DEFAULT_SPAN_S = 60.0  # frames reach the detector well within a second; a minute covers replays' jitter
DEFAULT_MAX_SAMPLES = 8192  # a hard cap whatever the rate (60 s at 100 Hz fits)


class PoseUnknown(LookupError):
    """No pose is known at the asked time; the message says why (before, after, gap)."""


def body_to_ned(roll_rad: float, pitch_rad: float, yaw_rad: float) -> np.ndarray:
    """R_ned_body (3x3; columns = body x fwd, y right, z down in NED), aerospace ZYX
    order: yaw about down, then pitch about the new y, then roll about the new x. Radians."""
    cr, sr, cp, sp, cy, sy = (math.cos(roll_rad), math.sin(roll_rad), math.cos(pitch_rad),
                              math.sin(pitch_rad), math.cos(yaw_rad), math.sin(yaw_rad))
    return np.array([[cp * cy, sr * sp * cy - cr * sy, cr * sp * cy + sr * sy],
                     [cp * sy, sr * sp * sy + cr * cy, cr * sp * sy - sr * cy],
                     [-sp, sr * cp, cr * cp]])


def rotation_h_from_ned(placement: Placement) -> np.ndarray:
    """R_h_ned (3x3): NED directions -> H directions, from the placement's public map
    (the map is affine, so the images of the unit vectors less the image of 0 are its
    linear part)."""
    origin = placement.ned_to_h(np.zeros(3))
    return (placement.ned_to_h(np.eye(3)) - origin).T


# ---- quaternions (w, x, y, z), unit, for interpolation only ------------------------------
def quat_from_matrix(r: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z) of a rotation matrix (Shepperd's method: the largest
    diagonal term is taken first, so no division by a small number)."""
    r = np.asarray(r, dtype=np.float64)
    tr = r[0, 0] + r[1, 1] + r[2, 2]
    k = int(np.argmax([tr, r[0, 0], r[1, 1], r[2, 2]]))
    if k == 0:
        s = 2.0 * math.sqrt(1.0 + tr)
        q = [0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s]
    elif k == 1:
        s = 2.0 * math.sqrt(max(1.0 + r[0, 0] - r[1, 1] - r[2, 2], 0.0))
        q = [(r[2, 1] - r[1, 2]) / s, 0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s]
    elif k == 2:
        s = 2.0 * math.sqrt(max(1.0 + r[1, 1] - r[0, 0] - r[2, 2], 0.0))
        q = [(r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s]
    else:
        s = 2.0 * math.sqrt(max(1.0 + r[2, 2] - r[0, 0] - r[1, 1], 0.0))
        q = [(r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s]
    q = np.array(q)
    return q / np.linalg.norm(q)


def matrix_from_quat(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a quaternion (w, x, y, z); normalised first."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def slerp(q0: np.ndarray, q1: np.ndarray, u: float) -> np.ndarray:
    """Spherical interpolation from q0 (u = 0) to q1 (u = 1) along the shorter arc."""
    q0 = np.asarray(q0, dtype=np.float64)
    q1 = np.asarray(q1, dtype=np.float64)
    if float(np.dot(q0, q1)) < 0.0:  # q and -q are one rotation: take the short way round
        q1 = -q1
    # the angle between them from chord lengths: exact near 0, where acos(dot) loses half the digits
    theta = 2.0 * math.atan2(float(np.linalg.norm(q1 - q0)), float(np.linalg.norm(q1 + q0)))
    if theta < 1e-9:
        return q0.copy()
    s = math.sin(theta)
    return (math.sin((1.0 - u) * theta) / s) * q0 + (math.sin(u * theta) / s) * q1


# ---- poses -------------------------------------------------------------------------------
def _frozen(a, shape) -> np.ndarray:
    out = np.array(a, dtype=np.float64).reshape(shape)
    out.setflags(write=False)
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class VehiclePose:
    """The vehicle at time t_s (s, the telemetry clock): body origin position_h (3,) in H
    (m) and R_h_body (3x3), whose columns are body x forward, y right, z down in H.
    Immutable: it crosses from the link thread to the detector thread."""

    t_s: float
    position_h: np.ndarray
    R_h_body: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "t_s", float(self.t_s))
        object.__setattr__(self, "position_h", _frozen(self.position_h, (3,)))
        object.__setattr__(self, "R_h_body", _frozen(self.R_h_body, (3, 3)))

    @classmethod
    def from_ned(cls, t_s: float, placement: Placement, position_ned_m, roll_rad: float, pitch_rad: float,
                 yaw_rad: float) -> "VehiclePose":
        """From the vehicle's telemetry: local NED position (m) and attitude (rad, ZYX:
        yaw from north, pitch nose up, roll right wing down), through the placement."""
        pos_h = placement.ned_to_h(np.asarray(position_ned_m, dtype=np.float64))
        r = rotation_h_from_ned(placement) @ body_to_ned(roll_rad, pitch_rad, yaw_rad)
        return cls(t_s, pos_h, r)

    @property
    def quaternion(self) -> np.ndarray:
        """R_h_body as a unit quaternion (w, x, y, z)."""
        return quat_from_matrix(self.R_h_body)


@dataclasses.dataclass(frozen=True, eq=False)
class SensorPose:
    """A sensor's origin position_h (m) and unit axes forward_h, up_h in H. Unpacks as
    (position_h, forward_h, up_h)."""

    position_h: np.ndarray
    forward_h: np.ndarray
    up_h: np.ndarray

    def __iter__(self):
        return iter((self.position_h, self.forward_h, self.up_h))


@dataclasses.dataclass(frozen=True)
class SensorMount:
    """Where a forward-looking sensor sits on the vehicle: offset_body_m (3,) from the body
    origin in body axes (x fwd, y right, z down; m), pitched up about body y by
    tilt_up_deg (negative looks down, as a multibeam usually does)."""

    name: str
    offset_body_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    tilt_up_deg: float = 0.0


def sensor_pose(vehicle_pose: VehiclePose, mount: SensorMount, extra_tilt_up_deg: float = 0.0) -> SensorPose:
    """The mounted sensor's pose in H. extra_tilt_up_deg adds a moving tilt on top of the
    mount's (the camera's CamTilt servo, degrees, up positive)."""
    t = math.radians(mount.tilt_up_deg + extra_tilt_up_deg)
    # body z points down, so tilting up turns forward towards -z
    fwd_b = np.array([math.cos(t), 0.0, -math.sin(t)])
    up_b = np.array([-math.sin(t), 0.0, -math.cos(t)])
    r = vehicle_pose.R_h_body
    pos = vehicle_pose.position_h + r @ np.asarray(mount.offset_body_m, dtype=np.float64)
    return SensorPose(_frozen(pos, (3,)), _frozen(r @ fwd_b, (3,)), _frozen(r @ up_b, (3,)))


# ---- history -----------------------------------------------------------------------------
class PoseHistory:
    """Vehicle poses by time: append from one thread, look up from others.

    Bounded by span_s (samples older than the newest minus span_s are dropped) and by
    max_samples. Samples must arrive in time order; one not newer than the last is
    ignored (a duplicated or reordered telemetry message says nothing new).
    """

    def __init__(self, span_s: float = DEFAULT_SPAN_S, max_gap_s: float = DEFAULT_MAX_GAP_S,
                 max_samples: int = DEFAULT_MAX_SAMPLES):
        if not span_s > 0 or not max_gap_s > 0 or max_samples < 2:
            raise ValueError(f"PoseHistory: need span_s > 0, max_gap_s > 0, max_samples >= 2; got "
                             f"{span_s}, {max_gap_s}, {max_samples}")
        self.span_s = float(span_s)
        self.max_gap_s = float(max_gap_s)
        self._times: collections.deque[float] = collections.deque(maxlen=max_samples)
        self._poses: collections.deque[tuple[VehiclePose, np.ndarray]] = collections.deque(maxlen=max_samples)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._times)

    @property
    def time_range_s(self) -> tuple[float, float] | None:
        """(oldest, newest) sample time in s, or None when empty."""
        with self._lock:
            return (self._times[0], self._times[-1]) if self._times else None

    def append(self, pose: VehiclePose) -> bool:
        """Add a sample; False (and nothing stored) when it is not newer than the last."""
        q = pose.quaternion  # computed here, on the writer's thread, not per lookup
        with self._lock:
            if self._times and pose.t_s <= self._times[-1]:
                return False
            self._times.append(pose.t_s)
            self._poses.append((pose, q))
            while self._times[0] < pose.t_s - self.span_s:
                self._times.popleft()
                self._poses.popleft()
            return True

    def at(self, t_s: float) -> VehiclePose | None:
        """The pose at t_s (s), interpolated; None when it is not known (see require)."""
        try:
            return self.require(t_s)
        except PoseUnknown:
            return None

    def require(self, t_s: float) -> VehiclePose:
        """The pose at t_s (s), interpolated between the samples around it; raises
        PoseUnknown outside the buffer or across a gap longer than max_gap_s."""
        t = float(t_s)
        with self._lock:
            if not self._times:
                raise PoseUnknown(f"no pose at t = {t:.3f} s: the history is empty")
            if t < self._times[0] or t > self._times[-1]:
                raise PoseUnknown(f"no pose at t = {t:.3f} s: outside the history "
                                  f"[{self._times[0]:.3f}, {self._times[-1]:.3f}] s")
            i = bisect.bisect_left(self._times, t)
            if self._times[i] == t:
                return self._poses[i][0]
            (p0, q0), (p1, q1) = self._poses[i - 1], self._poses[i]
        gap = p1.t_s - p0.t_s
        if gap > self.max_gap_s:
            raise PoseUnknown(f"no pose at t = {t:.3f} s: telemetry gap of {gap:.3f} s "
                              f"({p0.t_s:.3f} to {p1.t_s:.3f} s) exceeds {self.max_gap_s:.3f} s")
        u = (t - p0.t_s) / gap
        pos = p0.position_h + u * (p1.position_h - p0.position_h)
        return VehiclePose(t, pos, matrix_from_quat(slerp(q0, q1, u)))
