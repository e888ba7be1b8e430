"""Replay and review without Qt: the clock's arithmetic, a real ArduSub tlog as a timeline,
seeks in a real record landing on the right frame (read back from its pixels), telemetry
and ping, marks, and review decisions signed into an addendum the report shows."""
from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.replay_clock import SPEEDS, ReplayClock
from app.replay_review import ReviewDecision, write_review
from app.replay_session import ReplaySession
from app.replay_telemetry import TelemetryTimeline
from recording.errors import RecordError
from recording.keys import InstallationKey
from recording.manifest import read_addenda
from recording.report_text import decision_rows
from recording.verify import verify_record
from tests.app.replay_record_fixture import build_record, decode_frame_index
from vehicle.state import VehicleState
from vehicle.telemetry import apply_message
from vehicle.tlog import iter_tlog_messages

SMALL_TLOG = Path(__file__).resolve().parents[3] / "shared" / "data" / "mavlink" / "small.tlog"


class Mono:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_clock_plays_at_every_speed_both_ways_and_stops_at_the_ends():
    mono = Mono()
    c = ReplayClock(100.0, 200.0, monotonic=mono)
    assert (c.t_s, c.playing, c.speed, c.reverse) == (100.0, False, 1.0, False)
    for speed in SPEEDS:
        c.seek(150.0)
        c.set_speed(speed)
        c.play()
        mono.t += 2.0
        assert c.t_s == pytest.approx(150.0 + 2.0 * speed)
        c.set_reverse(True)
        mono.t += 2.0
        assert c.t_s == pytest.approx(150.0)
        c.set_reverse(False)
        c.pause()
    c.set_speed(16.0)
    c.play()
    mono.t += 100.0
    assert c.t_s == 200.0 and not c.playing  # the end pauses there
    c.play()
    assert not c.playing  # nothing left to play forward
    c.set_reverse(True)
    c.play()
    mono.t += 1.0
    assert c.t_s == pytest.approx(184.0) and c.playing
    mono.t += 50.0
    assert c.t_s == 100.0 and not c.playing
    with pytest.raises(ValueError, match="0.25x"):
        c.set_speed(3.0)


def test_clock_is_continuous_over_speed_changes_and_steps_and_seeks_clamp():
    mono = Mono()
    c = ReplayClock(0.0, 60.0, monotonic=mono)
    c.play()
    mono.t += 4.0
    c.set_speed(4.0)
    assert c.t_s == pytest.approx(4.0)
    mono.t += 1.0
    c.set_speed(0.25)
    assert c.t_s == pytest.approx(8.0)
    mono.t += 4.0
    assert c.t_s == pytest.approx(9.0) and c.playing
    c.step(0.1)
    assert c.t_s == pytest.approx(9.1) and not c.playing
    mono.t += 10.0
    assert c.t_s == pytest.approx(9.1)
    c.step(-20.0)
    assert c.t_s == 0.0
    c.seek(1e9)
    assert c.t_s == 60.0
    c.seek(-5.0)
    c.toggle()
    mono.t += 0.5
    assert c.playing and c.t_s == pytest.approx(0.125)


@pytest.fixture(scope="module")
def small():
    return TelemetryTimeline.from_tlog(SMALL_TLOG)


def test_a_real_ardusub_tlog_as_a_timeline(small):
    assert small.t_end_s - small.t_start_s == pytest.approx(263.43, abs=0.01)
    assert [m.mode for m in small.modes] == ["MANUAL"]
    kinds = [e.kind for e in small.events]
    assert kinds.count("statustext") == 4 and kinds.count("armed") == 1 and kinds.count("disarmed") == 1
    armed = next(e.t_utc_s for e in small.events if e.kind == "armed")
    disarmed = next(e.t_utc_s for e in small.events if e.kind == "disarmed")
    assert disarmed - armed == pytest.approx(16.0, abs=1.0)
    assert "SUBMARINE" in small.summary_text and "V4.1.1" in small.summary_text
    assert small.track_source == "LOCAL_POSITION_NED" and len(small.track) > 700
    for arr in (small.track, small.depth, small.heading):
        assert np.all(np.diff(arr[:, 0]) >= 0) and np.all(np.isfinite(arr))
        assert small.t_start_s <= arr[0, 0] and arr[-1, 0] <= small.t_end_s
    assert np.abs(small.depth[:, 1]).max() < 5.0 and np.abs(small.track[:, 1:]).max() < 100.0
    assert np.all((small.heading[:, 1] >= 0) & (small.heading[:, 1] < 360))
    assert small.state_at(small.t_start_s - 1.0) is None


def test_state_at_equals_folding_the_vehicles_messages(small):
    armed = next(e.t_utc_s for e in small.events if e.kind == "armed")  # at a change, to the microsecond
    checks = sorted([small.t_start_s + f * (small.t_end_s - small.t_start_s) for f in (0.01, 0.2, 0.5, 0.999)]
                    + [armed - 1e-6, armed, armed + 0.05])
    state, seen, i = VehicleState(), 0, 0
    for t, msg in iter_tlog_messages(str(SMALL_TLOG)):
        while i < len(checks) and t > checks[i]:
            assert small.state_at(checks[i]) == state, f"at {checks[i]}"
            i += 1
        hdr = msg.get_header()
        if (hdr.srcSystem, hdr.srcComponent) == (1, 1):  # the autopilot, not BlueOS (1/194) nor the camera
            state = apply_message(state, msg, t)
            seen += 1
    assert i == len(checks)
    assert small.state_at(small.t_end_s) == state
    assert state.armed is False and small.state_at(armed).armed and not small.state_at(armed - 1e-6).armed


@pytest.mark.parametrize("make", ["missing", "empty", "png", "truncated", "garbage"])
def test_a_file_that_is_no_vehicle_tlog_is_refused_naming_it(tmp_path, make):
    path = tmp_path / f"{make}.tlog"
    data = SMALL_TLOG.read_bytes()
    if make != "missing":
        path.write_bytes({"empty": b"", "png": b"\x89PNG\r\n\x1a\n" + bytes(500), "truncated": data[:3000],
                          "garbage": bytes(random.Random(1).randbytes(70_000)) + data[70_000:80_000]}[make])
    with pytest.raises(RecordError, match=str(path).replace(".", r"\.")):
        TelemetryTimeline.from_tlog(path)
    with pytest.raises(RecordError):
        ReplaySession.open(path)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return InstallationKey.load_or_create(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def truth(tmp_path_factory, keys):
    return build_record(tmp_path_factory.mktemp("records"), keys, seconds=20.0, fps=10.0)


def test_seeks_land_on_the_right_frame_telemetry_and_ping(truth):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    s = ReplaySession.open(truth.folder)
    reader = s.open_video_reader()
    assert s.is_record and s.has_video and s.has_sonar and not s.notes
    assert s.frame_count == len(truth.frame_t_s) and s.t_start_s == pytest.approx(truth.t0_s)
    for n in range(30):
        t = rng.uniform(s.t_start_s - 0.5, s.t_end_s)
        why = f"seek {n} to t0 + {t - truth.t0_s:.3f} s (seed {seed})"
        frame = s.video_frame_at(t)
        assert frame == truth.frame_at(t), why
        if frame >= 0:
            assert decode_frame_index(reader.decode(frame)) == frame, why
            assert s.frame_t_s(frame) == pytest.approx(truth.frame_t_s[frame], abs=1e-5), why
        assert s.sonar_ping_at(t) == truth.ping_at(t), why
        state = s.telemetry.state_at(t)
        lp = state.local_position if state is not None else None
        if t >= truth.t0_s + 0.02:  # the first position
            assert lp is not None and lp.t_s <= t, why
            # the fixture logs each position 10 ms after its time
            assert (lp.north_m, lp.east_m, lp.down_m) == pytest.approx(truth.position_at(lp.t_s - 0.01), abs=1e-4), why
            last = s.telemetry.track[-1, 0]  # after the last position it stays there
            assert s.telemetry.position_at(t) == pytest.approx(truth.position_at(min(t, last) - 0.01), abs=1e-3), why
            assert state.depth_m == pytest.approx(truth.position_at(t)[2], abs=0.05), why
    for frame in range(41, 47):  # stepping on, then back over a keyframe
        assert decode_frame_index(reader.decode(frame)) == frame
    assert decode_frame_index(reader.decode(38)) == 38


def test_marks_modes_overlay_detections_and_trail(truth):
    s = ReplaySession.open(truth.folder)
    forward, t = [], s.t_start_s
    while (m := s.next_mark(t)) is not None:
        forward.append((m.kind, m.ref_id))
        t = m.t_utc_s
    assert forward == [("alarm", 1), ("finding", 1)]
    assert s.next_mark(truth.alarm_t_s, -1) is None and s.next_mark(s.t_end_s, -1).kind == "finding"
    assert s.next_mark(truth.finding_t_s, -1).t_utc_s == pytest.approx(truth.alarm_t_s)
    warning = s.next_mark(s.t_start_s, kinds=("warning",))
    assert warning.source == "telemetry" and "EKF variance" in warning.label  # an ekf failsafe text
    assert s.next_mark(warning.t_utc_s, kinds=("warning",)).t_utc_s == pytest.approx(truth.warning_t_s)
    modes = [(m.mode, m.t0_s - t0) for m, (t0, _) in zip(s.telemetry.modes, truth.modes)]
    assert [m for m, _ in modes] == [m for _, m in truth.modes] and all(0 <= dt < 1.1 for _, dt in modes)
    lines = s.overlay_lines(truth.armed_t_s + 0.5)
    assert "MANUAL ARMED" in lines[1] and "depth 1.1" in lines[1] and "MV Replay Tester" in lines[0]
    t_det, frame = truth.detections[5]
    boxes = s.detections_at("camera", t_det + 0.05)
    assert [(b["frame_index"], b["track_id"], b["class_name"]) for b in boxes] == [(frame, 1, "parasitic_container")]
    assert s.detections_at("camera", truth.t0_s + 1.0) == [] and s.detections_at("sonar", t_det) == []
    trail = s.trail_h(truth.t0_s + 10.0)
    assert trail.shape[1] == 3 and 40 <= len(trail) <= 52 and len(s.trail_h(truth.t0_s - 1)) == 0
    assert np.linalg.norm(trail[-1] - trail[0]) == pytest.approx(np.linalg.norm([0.5, 0.2, 0.05]) * 9.8, abs=0.2)
    assert len(s.events_between(truth.alarm_t_s, truth.finding_t_s)) > 10


def test_a_review_is_signed_into_an_addendum_and_shown_in_the_report(tmp_path, keys):
    truth = build_record(tmp_path, keys, seconds=6.0)
    decisions = [ReviewDecision("alarm", 1, "confirmed", "seen by the diver", "K. Olsen"),
                 ReviewDecision("finding", 1, "measurement", "across", extra={"length_m": 0.31}),
                 ReviewDecision("finding", 1, "evidence_photo", "best view", extra={"frame_index": 42,
                                                                                   "source": "camera"}),
                 ReviewDecision("finding", 1, "note", "report to the harbour master")]
    path = write_review(truth.folder, decisions, keys, "Insp. M. Berg")
    assert path.name == "0001_review.json"
    report = verify_record(truth.folder)
    assert report.ok and report.addenda_checked == 1, report.problems
    finding = ReplaySession.open(truth.folder).findings()[0]
    history = [(d.kind, d.reviewer, d.addendum) for d in finding.decisions]
    assert history == [("confirmed", "K. Olsen", 1), ("measurement", "Insp. M. Berg", 1),
                       ("evidence_photo", "Insp. M. Berg", 1), ("note", "Insp. M. Berg", 1)]
    assert finding.decision == "confirmed" and all(d.t_utc_s is not None for d in finding.decisions)
    segment = truth.folder / read_addenda(truth.folder)[0]["entries"][2]["segment"]
    rows = decision_rows(finding.decisions)
    assert rows[1][3] == "0.310 m: across" and rows[1][1] == "Insp. M. Berg"
    assert "camera frame 42 of video/segment_" in rows[2][3]
    assert hashlib.sha256(segment.read_bytes()).hexdigest() in rows[2][3]


@pytest.mark.parametrize("bad, match", [
    (ReviewDecision("alarm", 1, "dismissed", "  "), "needs a reason"),
    (ReviewDecision("alarm", 7, "confirmed"), "alarm 7 is not in the record"),
    (ReviewDecision("finding", 1, "measurement", extra={"length_m": -1}), "length_m"),
    (ReviewDecision("finding", 1, "evidence_photo", extra={"frame_index": 10_000}), "frame 10000"),
    (ReviewDecision("finding", 1, "verdict"), "not one of"),
])
def test_bad_decisions_are_refused_and_nothing_is_written(truth, keys, bad, match):
    good = ReviewDecision("alarm", 1, "confirmed", reviewer="K. Olsen")
    with pytest.raises(ValueError, match=match):
        write_review(truth.folder, [good, bad], keys, "K. Olsen")
    with pytest.raises(ValueError, match="reviewer's name"):
        write_review(truth.folder, [good], keys, " ")
    assert not (truth.folder / "addenda").exists()


def test_what_cannot_be_replayed_is_refused_clearly_and_a_record_without_video_opens(tmp_path, keys):
    with pytest.raises(RecordError, match="not a HullWatch mission record"):
        (tmp_path / "photos").mkdir()
        ReplaySession.open(tmp_path / "photos")
    with pytest.raises(RecordError, match="does not exist"):
        ReplaySession.open(tmp_path / "nowhere")
    truth = build_record(tmp_path / "records", keys, seconds=10.0)
    cut = shutil.copytree(truth.folder, tmp_path / "cut")
    (cut / "video" / "segment_0002.ts").unlink()
    with pytest.raises(RecordError, match=r"segment_0002\.ts is missing .*deleted or moved"):
        ReplaySession.open(cut)
    shutil.rmtree(truth.folder / "video")
    s = ReplaySession.open(truth.folder)
    assert not s.has_video and s.open_video_reader() is None and s.video_frame_at(truth.t0_s + 5) == -1
    assert any("no video" in n for n in s.notes) and s.has_sonar and s.telemetry is not None


def test_a_bare_tlog_opens_with_track_modes_and_events():
    s = ReplaySession.open(SMALL_TLOG)
    assert not s.is_record and not s.has_video and not s.has_sonar and s.findings() == [] and s.alarms() == []
    assert s.trail_h(s.t_end_s) is None and s.hull_rebuilt().model is None
    assert [m.label for m in s.marks] == ["mode MANUAL", "armed", "disarmed"]
    assert s.next_mark(s.t_start_s, kinds=("event",)).label == "mode MANUAL"
    assert "small.tlog" in s.title and s.overlay_lines(s.t_end_s)[1].startswith("depth ")
