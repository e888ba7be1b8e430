"""The inspection report as one self-contained HTML file: the PDF's content in the same
order and words (recording.report_text), images embedded as data: URIs so the file can be
mailed or archived alone, and print styles for A4.

Each finding is a <section class="finding" id="finding-N">; each of its review entries a
row of its "decisions" table.
"""
from __future__ import annotations

import base64
from html import escape

from . import report_text as rt
from .report_data import ReportData

CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt; color: #000;
       max-width: 190mm; margin: 0 auto; padding: 8mm 4mm; }
header.page { color: #555; font-size: 8pt; border-bottom: 0.5pt solid #999; padding-bottom: 2mm; }
h1 { font-size: 18pt; margin: 4mm 0 1mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; border-bottom: 0.5pt solid #999; }
h3 { font-size: 11pt; margin: 4mm 0 2mm; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2mm; }
th, td { text-align: left; vertical-align: top; padding: 1mm 1.5mm; border-bottom: 0.5pt solid #bbb; }
th { background: #e6e6e6; }
td.label { font-weight: bold; width: 42mm; }
tr.warning td, .altered { color: #a00000; font-weight: bold; }
.columns { display: flex; gap: 6mm; } .columns > div { flex: 1; }
.finding { break-inside: avoid; page-break-inside: avoid; border-top: 1pt solid #000; margin-top: 4mm; }
.finding .body { display: flex; gap: 4mm; } .finding figure { margin: 0; width: 72mm; flex: none; }
.finding img { width: 100%; } figcaption, .small { font-size: 8pt; color: #333; }
.expansion img { width: 100%; }
.swatch { display: inline-block; width: 4mm; height: 3mm; border: 0.5pt solid #000; margin: 0 1mm 0 3mm; }
.new-page { break-before: page; page-break-before: always; }
code { font-size: 9pt; }
"""
WARN = ' class="warning"'


def _e(value) -> str:
    return escape(str(value), quote=True)


def _png(data: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _kv(rows, warn=()) -> str:
    if not rows:
        return '<p class="small">None recorded.</p>'
    body = "".join(f'<tr{WARN if k in warn else ""}><td class="label">{_e(a)}</td>'
                   f'<td>{_e(b)}</td></tr>' for k, (a, b) in enumerate(rows))
    return f"<table>{body}</table>"


def _grid(header, rows, cls: str = "", warn=()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(f'<tr{WARN if k in warn else ""}>' + "".join(f"<td>{_e(c)}</td>" for c in row)
                   + "</tr>" for k, row in enumerate(rows))
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _summary(data: ReportData) -> list[str]:
    i = data.integrity
    problems = range(4, 4 + len(i.problems)) if i.verdict != "INTACT" else ()
    verdict_cls = "" if i.verdict == "INTACT" else ' class="altered"'
    return [f"<h1>{_e(rt.TITLE)}</h1>", f'<p class="small">{_e(rt.header(data))}</p>',
            "<h2>Mission</h2>", _kv(rt.mission_rows(data)),
            '<div class="columns"><div><h2>Coverage</h2>', _kv(rt.coverage_rows(data)),
            "<h2>Findings</h2>", _kv(rt.count_rows(data)), "</div><div><h2>Coverage of the niche areas</h2>",
            _kv(rt.niche_rows(data) or [("none defined", "")]), "</div></div>",
            f"<h2{verdict_cls}>Record integrity: {_e(i.verdict)}</h2>", _kv(rt.integrity_rows(data), problems),
            "<h2>Software and models</h2>", _kv(rt.software_rows(data))]


def _expansion(data: ReportData) -> list[str]:
    out = ['<section class="expansion new-page"><h2>Hull expansion: what was seen</h2>',
           '<p class="small">The wetted hull unrolled: port side, bottom, starboard side, x forward from the stern. '
           "Findings are marked with their number.</p>"]
    if data.expansion_png is None:
        return out + ["<p>No hull expansion image in the record (map/expansion.png).</p></section>"]
    swatches = "".join(f'<span class="swatch" style="background: rgb{rgb}"></span>{_e(name)}'
                       for name, rgb in data.legend_rgb)
    return out + [_png(data.expansion_png, "hull expansion"), f'<h3>Coverage colours</h3><p class="small">{swatches}'
                  "</p><p class=\"small\">Circles mark the findings, numbered as below, in the colour of their "
                  "class.</p></section>"]


def _findings(data: ReportData) -> list[str]:
    out = [f"<h2>Findings ({len(data.findings)})</h2>"]
    if not data.findings:
        out.append("<p>No findings were recorded.</p>")
    for f in data.findings:
        snap = f.snapshot
        image = _png(snap.snapshot_png, f"snapshot of finding {f.finding_id}") if snap is not None else ""
        history = (_grid(rt.DECISION_HEADER, rt.decision_rows(f.decisions), "decisions") if f.decisions
                   else '<p class="small">No review recorded.</p>')
        out.append(f'<section class="finding" id="finding-{f.finding_id}" data-decision="{_e(f.decision)}">'
                   f"<h3>{_e(rt.finding_title(f))}</h3><div class=\"body\"><figure>{image}"
                   f"<figcaption>{_e(rt.snapshot_caption(f))}</figcaption></figure>"
                   f"<div>{_kv(rt.finding_rows(f))}</div></div><h4>Review history</h4>{history}</section>")
    if data.unlinked_alarms:
        out += ["<h3>Alarms not placed on the hull</h3>", _grid(rt.ALARM_HEADER, rt.unlinked_alarm_rows(data))]
    return out


def _rest(data: ReportData) -> list[str]:
    out = ["<h2>Coverage gaps</h2>", f"<p>{_e(rt.gap_total(data))}</p>"]
    if data.gaps:
        out.append(_grid(rt.GAP_HEADER, rt.gap_rows(data), "gaps"))
    rows = rt.timeline_rows(data)
    out += ["<h2>Event timeline</h2>",
            _grid(("UTC", "Event"), [r[:2] for r in rows], "timeline", warn={k for k, r in enumerate(rows) if r[2]}),
            "<h2>Addenda (added after the mission, each signed)</h2>"]
    if data.addenda:
        out.append(_grid(rt.ADDENDUM_HEADER, rt.addendum_rows(data), "addenda"))
        out += [f'<p class="small">{_e(line)}</p>' for line in rt.other_entry_lines(data)]
    else:
        out.append("<p>None.</p>")
    out.append("<h2>About this report</h2>")
    return out + [f'<p class="small">{_e(line)}</p>' for line in rt.about_lines(data)]


def render_html(data: ReportData) -> str:
    m = data.mission
    title = f"{rt.TITLE}: {m.vessel_name} ({rt.header(data)})"
    body = _summary(data) + _expansion(data) + _findings(data) + _rest(data)
    footer = f"Integrity digest (SHA-256 of manifest.json): {data.integrity.manifest_sha256 or 'none'}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            f'<header class="page">{_e(rt.TITLE)} · {_e(rt.header(data))}</header>'
            + "\n".join(body) + f'<footer class="small"><p>{_e(footer)}</p></footer></body></html>\n')
