"""Vehicle poses in the hull frame: telemetry (NED + roll/pitch/yaw) through the placement,
a history that interpolates between samples and refuses to invent what it does not know,
and sensor mounts that agree with the simulator's camera and multibeam."""
from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hull.placement import Placement
from hull.pose import (PoseHistory, PoseUnknown, SensorMount, VehiclePose, body_to_ned, matrix_from_quat,
                       quat_from_matrix, sensor_pose, slerp)

PLACEMENT = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=70.0, draft_m=6.0, berth_side="port",
                      quay_gap_m=3.0, water_depth_m=14.0, origin_ned_m=(12.0, -30.0), trim_deg=1.5)


def _angle_deg(r_a: np.ndarray, r_b: np.ndarray) -> float:
    """Angle of the rotation between two attitudes."""
    c = (np.trace(r_a.T @ r_b) - 1.0) / 2.0
    return math.degrees(math.acos(min(1.0, max(-1.0, c))))


# ---- rotations ---------------------------------------------------------------------------
@pytest.mark.parametrize("rpy_deg", [(0, 0, 0), (10, -5, 30), (-30, 20, 200), (5, 80, -120), (170, -40, 10)])
def test_body_to_ned_is_the_aerospace_zyx_rotation(rpy_deg):
    roll, pitch, yaw = np.radians(rpy_deg)
    expected = Rotation.from_euler("ZYX", [yaw, pitch, roll]).as_matrix()  # intrinsic yaw, pitch, roll
    assert np.allclose(body_to_ned(roll, pitch, yaw), expected, atol=1e-12)


def test_body_axes_mean_what_the_telemetry_means():
    # yaw 90: nose east; pitch +30: nose up (NED down is negative); roll +30: right side down
    assert np.allclose(body_to_ned(0, 0, math.radians(90)) @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    assert body_to_ned(0, math.radians(30), 0)[2, 0] == pytest.approx(-0.5)
    assert body_to_ned(math.radians(30), 0, 0)[2, 1] == pytest.approx(0.5)


def test_quaternions_round_trip_including_half_turns():
    rng = np.random.default_rng(3)
    mats = [Rotation.random(random_state=int(s)).as_matrix() for s in rng.integers(0, 10**6, 200)]
    mats += [Rotation.from_rotvec(np.pi * np.array(a) / np.linalg.norm(a)).as_matrix()
             for a in ([1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, -2, 3])]
    for r in mats:
        assert np.allclose(matrix_from_quat(quat_from_matrix(r)), r, atol=1e-12)


def test_slerp_takes_the_short_way_at_constant_rate():
    q0 = quat_from_matrix(Rotation.from_euler("z", 170, degrees=True).as_matrix())
    q1 = quat_from_matrix(Rotation.from_euler("z", -170, degrees=True).as_matrix())  # 20 deg on, across 180
    for u in (0.25, 0.5, 0.75):
        yaw = Rotation.from_matrix(matrix_from_quat(slerp(q0, q1, u))).as_euler("zyx", degrees=True)[0]
        assert (yaw - (170 + 20 * u) + 180) % 360 - 180 == pytest.approx(0, abs=1e-9)


# ---- poses from telemetry ----------------------------------------------------------------
def test_from_ned_puts_the_vehicle_in_the_hull_frame():
    ned = np.array([20.0, -25.0, 3.5])
    pose = VehiclePose.from_ned(1.0, PLACEMENT, ned, 0.0, 0.0, math.radians(70.0))  # nose along the bow
    assert np.allclose(pose.position_h, PLACEMENT.ned_to_h(ned))
    # the bow is trimmed 1.5 deg down, so a level vehicle heading along it points 1.5 deg above H's x
    assert np.allclose(pose.R_h_body[:, 0], [math.cos(math.radians(1.5)), 0, math.sin(math.radians(1.5))],
                       atol=1e-12)
    assert np.allclose(pose.R_h_body.T @ pose.R_h_body, np.eye(3), atol=1e-12)
    with pytest.raises(ValueError):
        pose.position_h[0] = 1.0  # immutable: it crosses threads


@pytest.mark.parametrize("rpy_deg, tilt_deg", [((0, 0, 0), 0.0), ((0, 0, 90), 45.0), ((5, -10, 250), -10.0),
                                                ((-20, 15, 33), 30.0), ((3, 60, -170), -45.0)])
def test_sensor_pose_matches_the_simulators_mounting(rpy_deg, tilt_deg):
    from sim.world import World

    world = World.__new__(World)  # the pose math needs only the placement; skip building the scene
    world.placement = PLACEMENT
    ned = np.array([4.0, -9.0, 2.5])
    rpy = tuple(math.radians(a) for a in rpy_deg)
    sim_pose = World.sensor_pose(world, ned, rpy, tilt_deg)
    ours = sensor_pose(VehiclePose.from_ned(0.0, PLACEMENT, ned, *rpy), SensorMount("camera"), tilt_deg)
    for a, b in zip(sim_pose, ours):
        assert np.allclose(a, b, atol=1e-12)
    # and independently of the sim: forward is the body x axis pitched up by the tilt
    r_h_ned = PLACEMENT.ned_to_h(np.eye(3)) - PLACEMENT.ned_to_h(np.zeros(3))
    body = Rotation.from_euler("ZYX", rpy[::-1]).as_matrix()
    t = math.radians(tilt_deg)
    expected_fwd = r_h_ned.T @ body @ [math.cos(t), 0, -math.sin(t)]
    assert np.allclose(ours.forward_h, expected_fwd, atol=1e-12)
    assert abs(float(ours.forward_h @ ours.up_h)) < 1e-12


def test_mount_offset_and_tilts_add_up():
    pose = VehiclePose.from_ned(0.0, PLACEMENT, [20.0, -25.0, 3.5], 0.0, 0.0, math.radians(70.0 - 90.0))
    mount = SensorMount("multibeam", offset_body_m=(0.3, 0.0, 0.1), tilt_up_deg=-10.0)
    p, f, up = sensor_pose(pose, mount, extra_tilt_up_deg=-20.0)
    # nose 90 deg to port of the bow: 0.3 m forward is along +y in H, 0.1 m down along -z (trim aside)
    assert np.allclose(p - pose.position_h, pose.R_h_body @ [0.3, 0, 0.1], atol=1e-12)
    assert np.allclose(p - pose.position_h, [0.0, 0.3, -0.1], atol=0.01)
    elev = math.degrees(math.asin(f[2]))
    assert elev == pytest.approx(-30.0, abs=0.1)  # 10 deg mount + 20 deg extra, down (trim is ~0 across the beam)


# ---- history -----------------------------------------------------------------------------
def _turning(t_s: float) -> VehiclePose:
    """A vehicle gliding at 0.5 m/s north-east, 0.2 m/s down, yawing at 30 deg/s, pitched
    10 deg up and rolled 5 deg: a constant-rate turn about the vertical."""
    ned = np.array([0.5 * t_s, 0.5 * t_s, 2.0 + 0.2 * t_s])
    return VehiclePose.from_ned(t_s, PLACEMENT, ned, math.radians(5), math.radians(10), math.radians(30 * t_s))


def test_history_recovers_a_turn_and_a_glide_between_samples():
    hist = PoseHistory()
    for k in range(51):  # 10 Hz for 5 s
        assert hist.append(_turning(0.1 * k))
    worst_m = worst_deg = 0.0
    for t in np.linspace(0.0, 5.0, 173):
        got, truth = hist.at(t), _turning(t)
        worst_m = max(worst_m, float(np.linalg.norm(got.position_h - truth.position_h)))
        worst_deg = max(worst_deg, _angle_deg(got.R_h_body, truth.R_h_body))
        assert got.t_s == t
    assert worst_m < 1e-9 and worst_deg < 1e-5, (worst_m, worst_deg)
    assert hist.at(0.3) is not None and hist.at(0.3).t_s == pytest.approx(0.3)


def test_history_never_invents_a_pose():
    hist = PoseHistory(max_gap_s=0.5)
    for t in (10.0, 10.1, 10.2, 11.0, 11.1):  # telemetry lost for 0.8 s after 10.2
        hist.append(_turning(t))
    assert hist.at(9.99) is None and hist.at(11.11) is None
    assert hist.at(10.15) is not None and hist.at(11.05) is not None
    assert hist.at(10.5) is None
    with pytest.raises(PoseUnknown, match="gap of 0.800 s"):
        hist.require(10.5)
    with pytest.raises(PoseUnknown, match="outside the history"):
        hist.require(12.0)
    with pytest.raises(PoseUnknown, match="empty"):
        PoseHistory().require(0.0)


def test_history_is_bounded_and_keeps_time_order():
    hist = PoseHistory(span_s=2.0, max_samples=15)
    for k in range(100):
        hist.append(_turning(0.1 * k))
    assert len(hist) == 15 and hist.time_range_s == pytest.approx((8.5, 9.9))
    short = PoseHistory(span_s=1.05)
    for k in range(30):
        short.append(_turning(0.1 * k))
    assert short.time_range_s == pytest.approx((1.9, 2.9))  # what is older than the newest minus span is gone
    assert not short.append(_turning(2.5))  # late or repeated telemetry is ignored
    assert not short.append(_turning(2.9))
    assert len(short) == 11


def test_history_reads_while_the_link_thread_writes():
    hist = PoseHistory(span_s=1000.0)
    hist.append(_turning(0.0))
    stop = threading.Event()
    errors: list[str] = []
    reads = [0]

    def writer():
        for k in range(1, 3000):
            hist.append(_turning(0.01 * k))
            if k % 30 == 0:  # let the readers in now and then, however busy the machine is
                deadline = time.monotonic() + 5.0
                while reads[0] < k // 30 and time.monotonic() < deadline:
                    time.sleep(0.0005)
        stop.set()

    def reader(seed):
        rng = np.random.default_rng(seed)
        while not stop.is_set():
            lo, hi = hist.time_range_s
            t = float(rng.uniform(lo, hi))
            pose = hist.at(t)
            reads[0] += 1
            if pose is None or np.linalg.norm(pose.position_h - _turning(t).position_h) > 1e-9:
                errors.append(f"t = {t}: {pose}")

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader, args=(s,)) for s in (1, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors, errors[:3]
    assert reads[0] > 100 and len(hist) == 3000
