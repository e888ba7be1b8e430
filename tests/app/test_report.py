"""The inspection report of a real mission: `hullwatch demo` dives the embedded world (its
own processes, as a user runs it), a reviewer later confirms its alarms in a signed
addendum, and `hullwatch report` writes the PDF, HTML, JSON and CSV beside the record."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recording.event_log import read_events
from recording.keys import InstallationKey
from recording.manifest import append_addendum
from recording.verify import verify_record

REPO = Path(__file__).resolve().parents[2]
DEMO_S = 45  # the demo's first alarm comes about 25 s into the dive


def _env(keys: Path) -> dict:
    return {**os.environ, "HULLWATCH_KEY_DIR": str(keys), "QT_QPA_PLATFORM": "offscreen"}


@pytest.fixture(scope="module")
def demo_record(tmp_path_factory):
    """(record folder, key dir): a demo mission with every alarm reviewed twice afterwards."""
    root = tmp_path_factory.mktemp("report")
    keys = root / "keys"
    done = subprocess.run([sys.executable, "-m", "app.cli", "demo", "--headless", "--duration", str(DEMO_S),
                           "-o", str(root / "demo")], cwd=str(REPO), capture_output=True, text=True,
                          timeout=800, env=_env(keys))
    assert done.returncode == 0, done.stderr[-3000:]
    record = Path(next(line for line in done.stdout.splitlines() if line.startswith("record: ")).split(": ", 1)[1])
    alarms = [e.payload["alarm_id"] for e in read_events(record / "events.sqlite", ["alarm"])]
    assert alarms, "the demo raised no alarm: " + done.stderr[-2000:]
    key = InstallationKey.load_or_create(keys)  # the key the demo's record was signed with
    append_addendum(record, "review", [{"alarm_id": a, "decision": "dismissed", "text": "marine growth"}
                                       for a in alarms], key, "K. Olsen")
    append_addendum(record, "review", [{"alarm_id": a, "decision": "confirmed", "reviewer": "Insp. A. Berg",
                                        "text": f"diver confirmed alarm {a}"} for a in alarms], key, "Insp. A. Berg")
    return record, keys


def _report(record: Path, keys: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", "report", str(record), "-o", str(out)], cwd=str(REPO),
                          capture_output=True, text=True, timeout=300, env=_env(keys))


@pytest.mark.timeout(900)
def test_the_report_holds_every_finding_with_its_decision(demo_record, tmp_path):
    record, keys = demo_record
    done = _report(record, keys, tmp_path / "out" / "inspection.pdf")
    assert done.returncode == 0, done.stderr
    written = done.stdout.splitlines()
    assert written[:4] == [str(tmp_path / "out" / f"inspection.{ext}") for ext in ("pdf", "html", "json", "csv")]
    assert written[4].startswith("report written in ")
    final = json.loads((record / "map" / "final.json").read_text())["findings"]
    assert final, "the demo placed no finding on the hull"
    html = (tmp_path / "out" / "inspection.html").read_text(encoding="utf-8")
    assert html.count('<section class="finding"') == len(final)
    for f in final:
        assert f'id="finding-{f["finding_id"]}"' in html
    rows = (tmp_path / "out" / "inspection.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(int(r.split(",")[0]) for r in rows) == sorted(f["finding_id"] for f in final)
    doc = json.loads((tmp_path / "out" / "inspection.json").read_text(encoding="utf-8"))
    assert doc["integrity"]["verdict"] == "INTACT" and doc["integrity"]["addenda_checked"] == 2
    reviewed = [f for f in doc["findings"] if f["alarms"]]
    assert reviewed, "no finding holds an alarm"
    for f in reviewed:
        assert f["decision"] == "confirmed" and f["decided_by"] == "Insp. A. Berg"
        assert [d["kind"] for d in f["decisions"]][-2:] == ["dismissed", "confirmed"]
        assert all(d["recorded"] == "addendum" for d in f["decisions"][-2:])
        assert f"diver confirmed alarm {f['alarms'][0]['alarm_id']}" in html
    camera = [f for f in doc["findings"] if "camera" in f["sources"] and f["alarms"]]
    assert all(a["snapshot"]["status"] == "intact" for f in camera for a in f["alarms"] if a["source"] == "camera")
    assert verify_record(record).ok, "making a report must leave the record as sealed"


@pytest.mark.timeout(900)
def test_the_pdf_renders_and_its_first_page_names_the_vessel(demo_record, tmp_path):
    import pypdfium2

    record, keys = demo_record
    assert _report(record, keys, tmp_path / "r.pdf").returncode == 0
    pdf = pypdfium2.PdfDocument(str(tmp_path / "r.pdf"))
    try:
        page = pdf[0]
        text = page.get_textpage().get_text_range()
        image = np.asarray(page.render(scale=1.0).to_pil().convert("L"))
        pages = len(pdf)
    finally:
        pdf.close()
    mission = json.loads((record / "mission.json").read_text())
    assert mission["vessel"]["name"] in text and "Hull inspection report" in text
    # the total is drawn once the page count is known (a form every page shows): its own text run
    assert re.search(rf"Page 1 of\s+{pages}\b", text) and "Record integrity: INTACT" in text
    import hashlib

    assert hashlib.sha256((record / "manifest.json").read_bytes()).hexdigest() in text
    ink = image < 128
    assert 0.005 < ink.mean() < 0.5, f"page 1 looks blank or black ({ink.mean():.3f} dark)"
    assert ink[: image.shape[0] // 2].any() and ink[image.shape[0] // 2:].any(), "text on both halves of the page"


@pytest.mark.timeout(900)
def test_the_cli_refuses_a_record_still_recording_and_says_what_to_do(demo_record, tmp_path):
    record, keys = demo_record
    copy = tmp_path / record.name
    shutil.copytree(record, copy)
    doc = json.loads((copy / "mission.json").read_text())
    (copy / "mission.json").write_text(json.dumps({**doc, "state": "recording"}))
    done = _report(copy, keys, tmp_path / "r.pdf")
    assert done.returncode == 1 and "open HullWatch so it recovers the record" in done.stderr
    assert not (tmp_path / "r.pdf").exists()
