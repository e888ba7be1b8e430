"""Operator audio notes: the action says why it cannot be used (no microphone here), and a
finished note file goes into a real open mission record through the recorder: byte for
byte, with its event, listed in the signed manifest, verified, and in the report's timeline."""
from __future__ import annotations

import math
import struct
import time
import wave
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtMultimedia import QMediaDevices, QMediaFormat

from app.qt_audio_note import (MAX_NOTE_S, NO_MICROPHONE, NO_RECORD, QtAudioNote, availability, indicator_text,
                               offered_formats, pick_format)
from app.station import Station, StationConfig
from recording.event_log import read_events
from recording.mission_record import MissionInfo
from recording.report_data import gather_report_data
from recording.verify import verify_record

TONE_HZ, RATE_HZ, TONE_S = 440.0, 16_000, 2.0


def _tone_wav(path: Path, seconds: float = TONE_S) -> bytes:
    """A real WAV: mono 16-bit PCM, a 440 Hz tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * RATE_HZ)
    samples = b"".join(struct.pack("<h", int(12_000 * math.sin(2 * math.pi * TONE_HZ * i / RATE_HZ)))
                       for i in range(n))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(samples)
    return path.read_bytes()


@pytest.fixture
def station(tmp_path, monkeypatch):
    """A real station (no vehicle, no world: none is needed to hold a record) recording to tmp_path."""
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(tmp_path / "keys"))
    st = Station(StationConfig(records_dir=tmp_path / "records"), log=lambda text: None)
    yield st
    st.close()


@pytest.fixture
def note(qtbot, station, tmp_path):
    holder = QtAudioNote(lambda: station.recording, lambda: "P. Diver", spool_dir=tmp_path / "spool")
    qtbot.addWidget(holder.indicator)
    yield holder
    holder.close()


def test_the_action_says_why_it_cannot_record(qtbot, note, station, tmp_path):
    station.start_recording(MissionInfo("MV Audio Test", operator="P. Diver"))
    note.refresh()
    if QMediaDevices.audioInputs():  # a machine with a microphone: usable while a record is open
        assert note.action.isEnabled() and NO_MICROPHONE not in note.action.toolTip()
        return
    assert not note.action.isEnabled()
    assert note.action.toolTip() == NO_MICROPHONE
    assert note.action.shortcut().toString() == "Ctrl+Shift+N"
    with qtbot.waitSignal(note.message, timeout=2000) as said:
        note.toggle()  # the shortcut's path even if the action were enabled: nothing starts
    assert "no microphone" in said.args[0]
    assert note.state == "idle" and note.indicator.isHidden()
    assert not (tmp_path / "spool").exists(), "no temporary file was started"


def test_availability_names_the_reason():
    assert availability(False, True, "idle") == (False, NO_MICROPHONE)
    assert availability(False, False, "idle") == (False, NO_MICROPHONE)
    assert availability(True, False, "idle") == (False, NO_RECORD)
    enabled, tip = availability(True, True, "idle")
    assert enabled and "Ctrl+Shift+N" in tip
    assert availability(True, True, "recording")[0]  # a second press stops it
    assert availability(True, False, "recording")[0]
    assert not availability(True, True, "finishing")[0]


def test_the_format_is_wav_when_the_backend_offers_it():
    offered = offered_formats()
    chosen = pick_format(offered)
    if QMediaFormat.AudioCodec.Wave in offered.get(QMediaFormat.FileFormat.Wave, ()):
        assert chosen[2] == ".wav"
    else:
        assert chosen is None or chosen[2] in (".flac", ".m4a")
    no_pcm = {QMediaFormat.FileFormat.Wave: [], QMediaFormat.FileFormat.FLAC: [QMediaFormat.AudioCodec.FLAC],
              QMediaFormat.FileFormat.Mpeg4Audio: [QMediaFormat.AudioCodec.AAC]}
    assert pick_format(no_pcm)[2] == ".flac"
    assert pick_format({QMediaFormat.FileFormat.Mpeg4Audio: [QMediaFormat.AudioCodec.AAC]})[2] == ".m4a"
    assert pick_format({}) is None


def test_the_indicator_reads_minutes_and_seconds():
    assert indicator_text(7.4) == "● NOTE 0:07"
    assert indicator_text(MAX_NOTE_S) == "● NOTE 2:00"


@pytest.mark.timeout(120)
def test_a_note_lands_in_the_record_hashed_verified_and_in_the_timeline(qtbot, note, station, tmp_path):
    rec = station.start_recording(MissionInfo("MV Audio Test", imo="9876543", operator="P. Diver"))
    note.refresh()
    first = tmp_path / "spool" / "first.wav"
    data = _tone_wav(first)
    second = tmp_path / "spool" / "second.wav"
    _tone_wav(second, 0.5)
    t_end = time.time()
    with qtbot.waitSignal(note.note_saved, timeout=20_000) as saved:
        assert note.hand_over(first, t_end - 2.3, t_end) is not None
    assert saved.args[0]["file"] == "notes/audio_0001.wav" and saved.args[0]["number"] == 1
    assert not first.exists(), "the temporary file goes once the record holds the note"
    with qtbot.waitSignal(note.note_saved, timeout=20_000) as saved:
        note.hand_over(second, t_end, t_end + 0.6)
    assert saved.args[0]["file"] == "notes/audio_0002.wav"
    folder = Path(rec.folder)
    summary = station.stop_recording()
    assert Path(summary["folder"]) == folder
    assert (folder / "notes" / "audio_0001.wav").read_bytes() == data
    with wave.open(str(folder / "notes" / "audio_0001.wav"), "rb") as w:
        assert w.getnframes() == int(TONE_S * RATE_HZ)
    events = [e for e in read_events(folder / "events.sqlite") if e.kind == "operator_audio_note"]
    assert [e.payload["file"] for e in events] == ["notes/audio_0001.wav", "notes/audio_0002.wav"]
    first_event = events[0].payload
    assert first_event["duration_s"] == pytest.approx(TONE_S, abs=1e-3), "the file's length, not the clock's"
    assert first_event["operator"] == "P. Diver"
    assert first_event["t_start_utc"].endswith("Z") and first_event["t_end_utc"] > first_event["t_start_utc"]
    import hashlib
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["notes/audio_0001.wav"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert first_event["sha256"] == hashlib.sha256(data).hexdigest()
    report = verify_record(folder)
    assert report.ok, report.problems
    timeline = [entry.text for entry in gather_report_data(folder).timeline]
    assert any(t.startswith("audio note 1 (2.0 s)") for t in timeline), timeline
    assert any(t.startswith("audio note 2 (0.5 s)") for t in timeline), timeline
    # a changed note is caught
    (folder / "notes" / "audio_0001.wav").write_bytes(data[:-2] + b"\0\0")
    problems = verify_record(folder).problems
    assert any("notes/audio_0001.wav" in p for p in problems), problems


@pytest.mark.timeout(120)
def test_a_note_that_cannot_go_into_the_record_is_kept_and_named(qtbot, note, station, tmp_path):
    spool = tmp_path / "spool" / "late.wav"
    _tone_wav(spool, 0.5)
    with qtbot.waitSignal(note.message, timeout=2000) as said:
        assert note.hand_over(spool, time.time() - 1, time.time()) is None  # no record open
    assert str(spool) in said.args[0] and spool.exists()
    # the record closes while the note is on its way: the task fails, the file stays
    rec = station.start_recording(MissionInfo("MV Audio Test"))
    station.stop_recording()
    with qtbot.waitSignal(note.message, timeout=20_000) as said:
        task = _hand_to(note, rec, spool)
    assert task is not None
    assert "kept at" in said.args[0] and str(spool) in said.args[0], said.args[0]
    assert spool.exists()
    assert not (Path(rec.folder) / "notes").exists()


@pytest.mark.timeout(60)
def test_a_backend_failure_says_so_and_names_the_kept_file(qtbot, note, station, tmp_path, monkeypatch):
    """The real Qt Multimedia backend asked to record with no device at all (as when the
    microphone vanishes): it refuses, and the message names the temporary file."""
    if QMediaDevices.audioInputs():
        pytest.skip("a microphone exists here: the backend would record instead of failing")
    rec = station.start_recording(MissionInfo("MV Audio Test"))
    (tmp_path / "spool").mkdir()
    monkeypatch.setattr(QtAudioNote, "has_microphone", staticmethod(lambda: True))
    note.refresh()
    changes: list = []
    note.recording_changed.connect(changes.append)
    with qtbot.waitSignal(note.message, timeout=10_000) as said:
        note.toggle()
    assert said.args[0].startswith("audio note failed") and str(tmp_path / "spool") in said.args[0], said.args[0]
    assert "kept at" in said.args[0]
    qtbot.waitUntil(lambda: note.state == "idle", timeout=10_000)
    assert changes[0] is True and changes[-1] is False and note.indicator.isHidden()
    assert not (Path(rec.folder) / "notes").exists()


def _hand_to(note: QtAudioNote, rec, path: Path):
    """hand_over with the record a racing close left behind (the getter still returns it)."""
    note._record = lambda: rec
    return note.hand_over(path, time.time() - 1, time.time())


def test_the_main_window_offers_the_note_in_the_mission_menu(qtbot, tmp_path):
    from app.main_window import MainWindow

    window = MainWindow(Station(StationConfig(records_dir=tmp_path / "records")),
                        QSettings(str(tmp_path / "hullwatch.ini"), QSettings.IniFormat))
    window.show()
    try:
        mission = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Mission")
        assert window.audio_note.action in mission.actions()
        assert window.audio_note.indicator in window.statusBar().findChildren(type(window.audio_note.indicator))
        assert window.audio_note.indicator.isHidden()
        expected = NO_MICROPHONE if not QMediaDevices.audioInputs() else NO_RECORD
        assert window.audio_note.action.toolTip() == expected and not window.audio_note.action.isEnabled()
    finally:
        window.close()
        qtbot.waitUntil(lambda: window._closed_down, timeout=60_000)
