"""A telemetry log another ground station recorded (../shared/data/mavlink/small.tlog) with a
camera video recorded apart from it: real MP4 and MKV files from libx264 (10 fps, 30 s, GOP 25;
each frame's index coded in its pixels by tests/app/replay_record_fixture.py) whose start is
set 20 s into the log, by the container's creation time or by a QGC-style file name."""
from __future__ import annotations

import datetime as dt
import math
import os
import random
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from app.replay_external_video import ExternalVideo, beside_videos, name_time_utc_s
from app.replay_session import ReplaySession
from app.replay_telemetry import TelemetryTimeline
from recording.errors import RecordError
from tests.app.replay_record_fixture import decode_frame_index, frame_image

SMALL_TLOG = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mavlink" / "small.tlog"
FPS, SECONDS, GOP, SIZE = 10, 30, 25, (320, 240)
N = FPS * SECONDS
LEAD_S = 20.0  # the video starts this long after the log
OPEN_MS = 60_000


def write_video(path: Path, creation_utc_s: float | None, *, bframes: int = 0) -> Path:
    """A real H.264 file (the container from the suffix); frame i carries i in its pixels."""
    import av

    with av.open(str(path), "w") as c:
        if creation_utc_s is not None:
            c.metadata["creation_time"] = dt.datetime.fromtimestamp(creation_utc_s, dt.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ")
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = *SIZE, "yuv420p"
        s.time_base = Fraction(1, FPS)
        s.codec_context.gop_size = GOP
        s.options = {"preset": "superfast", "bf": str(bframes), "sc_threshold": "0"}
        for i in range(N):
            frame = av.VideoFrame.from_ndarray(frame_image(i, SIZE), format="bgr24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return path


def qgc_name(t_utc_s: float, suffix: str) -> str:
    return dt.datetime.fromtimestamp(t_utc_s, dt.timezone.utc).strftime("%Y-%m-%d_%H.%M.%S") + suffix


@pytest.fixture(scope="module")
def tel():
    return TelemetryTimeline.from_tlog(SMALL_TLOG)


@pytest.fixture(scope="module")
def videos(tel, tmp_path_factory):
    """{"mp4": (path, true start), "mkv": ...}: an MP4 keeps whole seconds of its creation
    time, an MKV microseconds (the MKV also has B-frames: presentation order != decode order)."""
    folder = tmp_path_factory.mktemp("external_video")
    start = tel.t_start_s + LEAD_S
    return {"mp4": (write_video(folder / "dive.mp4", start), math.floor(start)),
            "mkv": (write_video(folder / "dive.mkv", start, bframes=2), round(start, 6))}


def expected_frame(start: float, t: float) -> int:
    k = math.floor(round((t - start) * FPS, 6))
    return k if 0 <= k < N else -1


def shown(image) -> int:
    return decode_frame_index(np.asarray(image))


# ---- ExternalVideo and the session, no window ------------------------------------------------
@pytest.mark.parametrize("kind", ["mp4", "mkv"])
def test_seeks_land_on_the_frame_of_that_time_with_its_telemetry(qtbot, tel, videos, kind):
    from app.qt_replay_worker import ReplayWorker

    path, start = videos[kind]
    video = ExternalVideo.open(path)
    assert (video.start_source, video.frame_count, video.codec) == ("metadata", N, "h264")
    assert video.start_utc_s == pytest.approx(start, abs=1e-5) and video.duration_s == pytest.approx(SECONDS)
    s = ReplaySession.open(SMALL_TLOG).with_video(video)
    assert s.has_video and not s.is_record and s.t_start_s == tel.t_start_s and s.t_end_s == tel.t_end_s
    worker = ReplayWorker(s)
    worker.start()
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    try:
        for _ in range(25):
            t = rng.uniform(start - 2.0, start + SECONDS + 2.0)
            k = expected_frame(start, t)
            assert s.video_frame_at(t) == k, f"seed {seed}: t {t - start:.3f} s into the video"
            with qtbot.waitSignal(worker.decoded, timeout=10_000, check_params_cb=lambda f, t=t: f.t_s == t) as got:
                worker.request(t)
            frame = got.args[0]
            if k < 0:
                assert frame.video is None, f"seed {seed}: a picture outside the video at {t - start:.3f} s"
                continue
            assert frame.video.index == k and shown(frame.video.image) == k, f"seed {seed}: t {t - start:.3f} s"
            assert frame.video.t_capture_s == pytest.approx(start + k / FPS, abs=1e-5)
            state = tel.state_at(t)
            line = frame.overlay[1]
            assert f"depth {state.depth_m:.2f} m" in line and f"hdg {state.heading_deg:03.0f}" in line, seed
            assert state.mode in line and dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime(
                "%H:%M:%S") in frame.overlay[0]
    finally:
        assert worker.stop()
    reader = s.open_video_reader()  # stepping forward goes on decoding: no seek per frame
    assert shown(reader.decode(137)) == 137
    seeks = reader.seeks
    assert [shown(reader.decode(i)) for i in range(138, 160)] == list(range(138, 160))
    assert reader.seeks == seeks + 1  # once: into the GOP that starts at frame 150
    reader.close()


def test_qgc_file_name_aligns_a_video_without_metadata(tel, tmp_path, videos):
    start = math.floor(tel.t_start_s + LEAD_S)
    path = write_video(tmp_path / qgc_name(start, ".mkv"), None)
    os.utime(path, (start + 3600, start + 3600))  # the file time says otherwise: the name wins
    v = ExternalVideo.open(path)
    assert (v.start_source, v.start_utc_s) == ("file name", start)
    t = start + 12.34
    assert v.frame_at(t) == 123 and shown(v.decode(v.frame_at(t))) == 123
    plain = shutil.copy(path, tmp_path / "camera.mkv")
    os.utime(plain, (start + 100.0, start + 100.0))
    v = ExternalVideo.open(plain)
    assert (v.start_source, v.start_utc_s) == ("file time", pytest.approx(start + 100.0 - SECONDS))
    assert ExternalVideo.open(videos["mp4"][0], start_utc_s=start + 5.0).start_source == "given"
    for name, text in (("20230504_171541.webm", "2023-05-04 17:15:41"), ("cam 2023-05-04T17-15-41.mp4",
                                                                         "2023-05-04 17:15:41")):
        want = dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()
        assert name_time_utc_s(name) == want, name
    assert name_time_utc_s("dive 7.mp4") is None


def test_offset_moves_the_frame_shown(videos):
    path, start = videos["mkv"]
    v = ExternalVideo.open(path)
    t = start + 15.05
    assert shown(v.decode(v.frame_at(t))) == 150
    v.set_offset_s(2.0)  # the video really started 2 s later: at t it had shown 2 s less
    assert v.frame_at(t) == 130 and shown(v.decode(v.frame_at(t))) == 130
    assert v.t_utc_s(130) == pytest.approx(start + 15.0)
    v.set_offset_s(-0.3)
    assert shown(v.decode(v.frame_at(t))) == 153
    v.set_offset_s(-20.0)
    assert v.frame_at(t) == -1  # the video had ended by then


def test_bad_files_are_refused_naming_them(tmp_path, videos):
    whole = videos["mp4"][0].read_bytes()
    cut = tmp_path / "2023-05-04_17.16.01.mp4"
    cut.write_bytes(whole[: len(whole) // 2])  # the recording stopped by a crash: no moov index
    text = tmp_path / "notes.mp4"
    text.write_text("dive notes: hull clean, no findings\n" * 50)
    empty = tmp_path / "empty.mkv"
    empty.write_bytes(b"")
    for bad in (cut, text, empty, tmp_path / "missing.mkv"):
        with pytest.raises(RecordError) as err:
            ExternalVideo.open(bad)
        assert bad.name in str(err.value) and "Traceback" not in str(err.value)
    s = ReplaySession.open(SMALL_TLOG)
    assert not s.has_video and s.video_frame_at(s.t_start_s + 30) == -1


def test_videos_beside_a_log_that_overlap_it(tel, tmp_path, videos):
    log = Path(shutil.copy(SMALL_TLOG, tmp_path / "dive.tlog"))
    named = write_video(tmp_path / qgc_name(tel.t_start_s + 100.0, ".mkv"), None)
    shutil.copy(videos["mp4"][0], tmp_path / "with_metadata.mp4")
    shutil.copy(videos["mkv"][0], tmp_path / qgc_name(tel.t_start_s - 86_400, ".mkv"))  # metadata over name
    write_video(tmp_path / qgc_name(tel.t_start_s - 3600.0, ".mp4"), None)  # an earlier dive
    (tmp_path / "readme.webm").write_text("not a video")
    found = beside_videos(log, tel.t_start_s, tel.t_end_s)
    assert {p.name for p, _, _ in found} == {named.name, "with_metadata.mp4",
                                             qgc_name(tel.t_start_s - 86_400, ".mkv")}
    assert dict((p.name, src) for p, _, src in found)[named.name] == "file name"


# ---- the window ---------------------------------------------------------------------------------
@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "hullwatch.ini"), QSettings.IniFormat)


def widget_index(w) -> int:
    """The frame index read from the video panel's pixels (the overlay hidden: it covers the code)."""
    w.video.set_overlay_visible(False)
    img = w.video.grab().toImage()
    w.video.set_overlay_visible(True)
    img = img.copy(w.video.image_rect().toRect()).scaled(*SIZE, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
    img = img.convertToFormat(img.Format.Format_BGR888)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, :img.width() * 3]
    return decode_frame_index(a.reshape(img.height(), img.width(), 3))


def test_window_opens_log_with_video_seeks_and_aligns(qtbot, settings, tel, videos):
    from app.qt_replay_window import QtReplayWindow

    path, start = videos["mkv"]
    w = QtReplayWindow(settings)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    with qtbot.waitSignal(w.opened, timeout=OPEN_MS):
        w.open_path(SMALL_TLOG, video=path)
    s = w.session
    assert s.external_video is not None and w.center.currentWidget() is w.video and w.video.isVisible()
    assert w.align_bar.isVisible() and "creation time" in w.align.source.text() and w.worker is not None
    assert w.docks["track"].isVisible() and not w.docks["findings"].isVisible()
    t = start + 12.34
    w.seek(t)
    qtbot.waitUntil(lambda: w.shown is not None and w.shown.t_s == t, timeout=10_000)
    qtbot.waitUntil(lambda: widget_index(w) == 123, timeout=5000)
    assert list(w.video._overlay) == s.overlay_lines(t) and f"{tel.state_at(t).depth_m:.2f} m" in w.video._overlay[1]
    assert w.instruments.depth.text() == f"{tel.state_at(t).depth_m:.2f} m"
    for _ in range(5):  # +0.5 s: the video is later against the log, so at t it shows 5 frames less
        qtbot.mouseClick(w.align.later, Qt.LeftButton)
    assert s.external_video.offset_s == pytest.approx(0.5) and w.clock.t_s == t
    qtbot.waitUntil(lambda: widget_index(w) == 118, timeout=5000)
    assert "corrected +0.50 s" in w.align.source.text()
    w.align.offset.setValue(-2.0)
    qtbot.waitUntil(lambda: widget_index(w) == 143, timeout=5000)
    qtbot.mouseClick(w.timeline.step_button, Qt.LeftButton)  # one frame on
    qtbot.waitUntil(lambda: widget_index(w) == 144, timeout=5000)
    w.seek(start + SECONDS + 10.0)  # the log goes on after the video has ended
    qtbot.waitUntil(lambda: w.video.status_text().startswith("no video at this time"), timeout=5000)
    assert "ended" in w.video.status_text()


def test_window_offers_the_video_beside_a_log(qtbot, settings, tel, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from app.qt_replay_window import QtReplayWindow

    log = shutil.copy(SMALL_TLOG, tmp_path / "2023-05-04_17.15.41.tlog")
    start = math.floor(tel.t_start_s + LEAD_S)
    video = write_video(tmp_path / qgc_name(start, ".mkv"), None)
    w = QtReplayWindow(settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.opened, timeout=OPEN_MS):
        w.open_path(log)
    assert not w.session.has_video and not w.align_bar.isVisible()
    qtbot.waitUntil(lambda: w.offer_box is not None and w.offer_box.isVisible(), timeout=5000)
    assert video.name in w.offer_box.text()
    with qtbot.waitSignal(w.opened, timeout=OPEN_MS) as opened:
        qtbot.mouseClick(w.offer_box.button(QMessageBox.Yes), Qt.LeftButton)
    assert opened.args[0].external_video.path == video and w.align_bar.isVisible()
    assert "file name" in w.align.source.text()
    w.seek(start + 3.05)
    qtbot.waitUntil(lambda: widget_index(w) == 30, timeout=10_000)


def test_main_window_menu_opens_a_log_with_its_video(qtbot, settings, videos):
    from app.main_window import MainWindow
    from app.station import Station, StationConfig

    main = MainWindow(Station(StationConfig(video_url="udp://127.0.0.1:0"), log=lambda text: None), settings)
    main.show()
    titles = [a.text() for a in main.menuBar().actions()[0].menu().actions()]
    assert "Open telemetry log with video…" in titles
    replay = main.open_replay(record=False, path=SMALL_TLOG, video=videos["mp4"][0], with_video=True)
    qtbot.waitUntil(lambda: replay.session is not None, timeout=OPEN_MS)
    assert replay.session.external_video.path == videos["mp4"][0] and replay.video.isVisible()
    main.close()
    qtbot.waitUntil(lambda: main._closed_down and not main.replay_windows, timeout=60_000)
