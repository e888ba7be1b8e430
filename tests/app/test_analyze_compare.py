"""Re-analysis and comparison of mission records (issue 8, section 3), on a real record: the
station on the embedded world (its own child process, as `hullwatch` runs it) flies to the
container planted on the starboard bilge keel and holds there until its live map has a
camera finding; then the record is closed and signed, and re-analysed offline.
"""
from __future__ import annotations

import argparse
import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.record_analysis import analyze_record, write_analysis
from app.record_analysis_findings import MATCH_MAX_M
from app.record_compare import SEEN_SHARE, NotSameVessel, compare_records
from recording.errors import RecordError
from recording.keys import InstallationKey
from recording.manifest import read_addenda
from recording.verify import verify_record

FINDING_TIMEOUT_S = 240.0  # the machine is shared: the sim renders slowly under load
HOLD_AFTER_FINDING_S = 5.0


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return InstallationKey.load_or_create(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def record(tmp_path_factory, key):
    from app.fly_to import fly_to, target_for
    from app.station import Station, StationConfig
    from recording.mission_record import MissionInfo

    root = tmp_path_factory.mktemp("records")
    station = Station(StationConfig(records_dir=root), log=lambda text: None)
    try:
        station.start()
        vehicle = station.vehicle
        vehicle.wait_discovered(60.0)
        vehicle.manual.keep_alive(True)
        vehicle.arm()
        vehicle.controls.set_lights(0.5)
        ew, placement = station.world["world"], station.world["placement"]
        # on the bilge keel: the camera sees it straight ahead (one under the keel needs the camera tilted up)
        obj = next(o for o in ew.scenario.objects
                   if o.class_name == "parasitic_container" and o.attached_to.startswith("bilge keel"))
        station.start_recording(MissionInfo("MV Embedded Example", imo="9000001", operator="test"), key=key)
        fly_to(vehicle, target_for(ew.model.queries, placement, obj.center_h), timeout_s=240.0)
        deadline = time.monotonic() + FINDING_TIMEOUT_S
        # a camera finding: the sonar reaches metres ahead and can find the container before the
        # camera has looked at the hull around it, which the comparison's coverage needs
        while time.monotonic() < deadline and not any(
                f.observations >= 3 and "camera" in f.sources for f in station.station_map.worker.latest.findings):
            time.sleep(0.5)
        time.sleep(HOLD_AFTER_FINDING_S)
        summary = station.stop_recording()
    finally:
        station.close()
    folder = Path(summary["folder"])
    final = json.loads((folder / "map" / "final.json").read_text())
    assert final["findings"], "the live station found nothing: the record cannot show reproduction"
    return folder


@pytest.fixture(scope="module")
def analysis(record):
    # one detector worker here; the CLI run below uses the default two (the result must not change)
    return analyze_record(record, detect_workers=1)


@pytest.mark.timeout(900)
def test_analyze_reproduces_the_live_findings_and_adds_them_as_an_addendum(record, analysis, key):
    a = analysis
    print(f"\nlive findings: {[(f.finding_id, f.class_name, f.observations, f.position_h) for f in a.original_findings]}"
          f"\nre-analysis:   {[(f.finding_id, f.class_name, f.observations, f.position_h) for f in a.findings]}"
          f"\nmatched {a.differences.matched}, new {len(a.differences.only_b)}, missing {len(a.differences.only_a)}; "
          f"{a.frames} frames + {a.pings} pings over {a.media_s:.1f} s in {a.wall_s:.1f} s "
          f"({a.x_real_time:.2f}x real time)")
    assert a.mapped and a.hull == "embedded world", a.notes
    assert not [n for n in a.notes if "no mapping" in n or "no vehicle poses" in n], a.notes
    assert a.same_models_as_live and {m.source for m in a.models} == {"camera", "sonar"}
    frames = len((record / "video" / "frames.csv").read_text().splitlines()) - 1
    assert a.frames == frames > 0 and a.pings > 0  # every recorded frame, none dropped
    # live drops frames when the detector falls behind, offline sees every one: offline may find
    # more, never fewer, so every live finding must come back within MATCH_MAX_M (same class)
    assert a.original_source == "map/final.json" and a.original_findings
    assert not a.differences.only_a, f"live findings not reproduced: {a.differences.only_a}"
    assert len(a.differences.matched) == len(a.original_findings)
    assert all(m.distance_m <= MATCH_MAX_M for m in a.differences.matched)
    # on UTC both ways (live: the monotonic clock moved by the record's clock pairs), a finding is
    # first seen within a few frames of the same moment (live may have dropped the very first ones)
    live = {f.finding_id: f for f in a.original_findings}
    new = {f.finding_id: f for f in a.findings}
    for m in a.differences.matched:
        assert abs(live[m.a_id].first_utc_s - new[m.b_id].first_utc_s) < 5.0
    assert any(x.class_name == "parasitic_container" for x in a.alarms)

    before = {p.relative_to(record): p.read_bytes() for p in record.rglob("*") if p.is_file()}
    path = write_analysis(record, a, key)
    assert path.parent == record / "addenda" and path.name == "0001_analysis.json"
    after = {p.relative_to(record): p.read_bytes() for p in record.rglob("*") if p.is_file()}
    assert {k: v for k, v in after.items() if k.parts[0] != "addenda"} == before  # nothing written over
    report = verify_record(record)
    assert report.ok, report.problems
    assert report.addenda_checked == 1
    (doc,) = read_addenda(record)
    assert doc["kind"] == "analysis" and doc["author"].startswith("hullwatch analyze ")
    kinds = [e["entry"] for e in doc["entries"]]
    assert kinds.count("finding") == len(a.findings) and kinds.count("matched") == len(a.original_findings)
    assert [e["same_as_live"] for e in doc["entries"] if e["entry"] == "model"] == [True, True]


@pytest.mark.timeout(900)
def test_the_cli_analysis_on_two_workers_gives_the_same_findings(record, analysis, tmp_path, capsys, monkeypatch):
    from app.cmd_analyze import run_analyze_command

    copy = tmp_path / record.name
    shutil.copytree(record, copy, ignore=shutil.ignore_patterns("addenda"))
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(tmp_path / "keys"))
    assert run_analyze_command(argparse.Namespace(record=str(copy), model=None, sonar_model=None, json=True,
                                                  engine="fastest")) == 0
    out = json.loads(capsys.readouterr().out)
    from vision.detect.backends import fastest_backend

    assert {m["engine"] for m in out["models"]} == {fastest_backend()}  # the addendum names the arithmetic
    assert out["findings"] == [json.loads(json.dumps(f.to_dict())) for f in analysis.findings]
    assert [x["alarm_id"] for x in out["alarms"]] == [x.alarm_id for x in analysis.alarms]
    assert (copy / "addenda" / "0001_analysis.json").is_file() and out["addendum"].endswith("0001_analysis.json")
    print(f"\nCLI run: {out['frames']} frames, {out['pings']} pings, {out['x_real_time']:.2f}x real time, "
          f"timings {({k: round(v, 2) for k, v in out['timings_s'].items()})}")


@pytest.mark.timeout(900)
def test_an_analysis_stopped_early_ends_its_threads(record):
    class Stop(Exception):
        pass

    def progress(fraction: float, text: str) -> None:
        raise Stop(text)  # as an error halfway through the record would

    with pytest.raises(Stop):
        analyze_record(record, progress=progress)
    left = [t.name for t in threading.enumerate() if t.name in ("decode video", "read sonar")
            or t.name.startswith("detect_")]
    assert not left, f"threads still running after the analysis stopped: {left}"


def _copy_without_findings(record, dest):
    shutil.copytree(record, dest)
    final = dest / "map" / "final.json"
    doc = json.loads(final.read_text())
    gone = doc["findings"]
    doc["findings"] = []
    final.write_text(json.dumps(doc))  # the copy no longer verifies; compare does not need it to
    return gone


@pytest.mark.timeout(900)
def test_compare_finds_nothing_new_in_itself_and_the_vanished_container(record, tmp_path, capsys):
    same = compare_records(record, record)
    assert same.same_by == "IMO 9000001" and not same.appeared and not same.vanished
    assert len(same.matched) == len(same.findings_a) > 0 and all(m.distance_m == 0 for m in same.matched)

    later = tmp_path / "later"
    gone = _copy_without_findings(record, later)
    c = compare_records(record, later)
    assert not c.matched and not c.appeared
    assert [u.finding.finding_id for u in c.vanished] == [f["finding_id"] for f in gone]
    # B's own map saw the place the camera found the container at (the copy keeps the record's
    # coverage): it vanished, not "not seen"; a sonar finding metres off, at the edge of what
    # the short mission covered, may be "not seen in B", and each status follows its coverage
    shown = [(u.finding.class_name, u.finding.sources, u.finding.address, u.status, u.other_seen_share)
             for u in c.vanished]
    assert any(u.status == "vanished" and "camera" in u.finding.sources for u in c.vanished), shown
    assert all((u.status == "vanished") == (u.other_seen_share >= SEEN_SHARE) for u in c.vanished), shown

    from app.cmd_compare import run_compare_command

    assert run_compare_command(argparse.Namespace(record_a=str(record), record_b=str(later), json=False)) == 0
    text = capsys.readouterr().out
    print(text)
    assert f"only in A: {len(gone)}" in text and ": vanished (B's coverage within 1 m:" in text


@pytest.mark.timeout(900)
def test_a_container_where_b_never_looked_is_not_seen_not_vanished(record, tmp_path):
    from app.record_analysis_inputs import rebuild_hull
    from recording.mission_record import read_mission
    from vision.hullmap.export import export_map

    later = tmp_path / "later"
    _copy_without_findings(record, later)
    hull = rebuild_hull(read_mission(record))
    wet = hull.model.wetted(hull.placement.draft_m).mesh
    # B's map as the real exporter writes it when nothing was seen
    export_map(later / "map", wet, np.zeros(wet.n_vertices, np.uint8), formats=("ply",))
    c = compare_records(record, later)
    assert c.vanished and all(u.status == "not seen in B" and u.other_seen_share == 0.0 for u in c.vanished)
    (later / "map" / "hull.ply").unlink()
    c = compare_records(record, later)
    assert all(u.status == "vanished (B's coverage near it: unknown)" and u.other_seen_share is None
               for u in c.vanished)


def test_compare_refuses_two_vessels_and_folders_that_are_no_records(record, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(record, other, ignore=shutil.ignore_patterns("video", "sonar", "*.tlog"))
    doc = json.loads((other / "mission.json").read_text())
    doc["vessel"].update(name="MV Somebody Else", imo="9074729")
    (other / "mission.json").write_text(json.dumps(doc))
    with pytest.raises(NotSameVessel, match="MV Embedded Example.*MV Somebody Else"):
        compare_records(record, other)
    doc["vessel"].update(name="mv  embedded example", imo="")  # no IMO in B: the names decide
    (other / "mission.json").write_text(json.dumps(doc))
    assert compare_records(record, other).same_by == "name"
    with pytest.raises(RecordError, match="not a HullWatch record"):
        compare_records(record, tmp_path)


def test_a_hull_that_cannot_be_rebuilt_says_why(record):
    from app.record_analysis_inputs import rebuild_hull
    from recording.mission_record import read_mission

    doc = read_mission(record)
    assert rebuild_hull(doc).how == "embedded world"
    moved = json.loads(json.dumps(doc))
    moved["hull"]["placement"]["origin_ned_m"] = [20.0, -60.0]
    assert rebuild_hull(moved).model is None and "berthed differently" in rebuild_hull(moved).problem
    mesh = json.loads(json.dumps(doc))
    mesh["hull"].update(embedded_world=False, parametric=None, source_path="/nowhere/ship.stl", sha256="0" * 64)
    assert "not on this computer" in rebuild_hull(mesh).problem
    assert "names no hull" in rebuild_hull({**doc, "hull": None}).problem
