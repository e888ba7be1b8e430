"""The inspection report as PDF (A4, ReportLab: pure Python, so the desktop bundle needs no
system libraries). Sober on purpose: a header naming vessel, date and record on every
page, "page X of Y" and the integrity digest in the footer, tables, no decoration.

Order: summary page (mission, coverage, findings count, integrity, software and models),
the hull expansion with its legend, one block per finding (snapshot, facts, review
history), alarms never placed on the hull, the gaps, the event timeline, the addenda,
and how to read the report. The wording is recording.report_text's, shared with the HTML.
"""
from __future__ import annotations

import functools
import importlib.util
import io
from pathlib import Path
from xml.sax.saxutils import escape

from . import report_text as rt
from .report_data import ReportData

MARGIN_MM = 15
BODY_PT, SMALL_PT = 8.5, 7.5
SNAPSHOT_MM = 72
LABEL_MM = 42  # the label column of the summary's tables
FRAME_PADDING_MM = 4.3  # the platypus frame's own padding (6 pt each side)
INK_GREY = "#555555"
GRID_GREY = "#b0b0b0"
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/Library/Fonts", "C:/Windows/Fonts")
_TOTAL_FORM = "hullwatch_page_total"


@functools.lru_cache(maxsize=4)
def _fonts(first_dirs: tuple = ()) -> tuple[str, str, bool]:
    """(regular, bold, unicode): DejaVu Sans when it can be found (names in any script),
    first in `first_dirs` (the installer's bundled copy), else the PDF's built-in
    Helvetica (Latin-1 only)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    dirs = [str(d) for d in first_dirs] + list(_FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")  # only its font files, not the package
    if spec is not None and spec.submodule_search_locations:
        dirs.append(str(Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"))
    for folder in dirs:
        regular, bold = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            try:
                pdfmetrics.registerFont(TTFont("HW-Sans", str(regular)))
                pdfmetrics.registerFont(TTFont("HW-Sans-Bold", str(bold)))
            except Exception:  # noqa: BLE001 - a damaged font file: try the next, else Helvetica
                continue
            return "HW-Sans", "HW-Sans-Bold", True
    return "Helvetica", "Helvetica-Bold", False


class _Styles:
    def __init__(self, font_dirs: tuple = ()):
        from reportlab.lib.styles import ParagraphStyle

        self.regular, self.bold, self.unicode = _fonts(tuple(font_dirs))
        base = ParagraphStyle("body", fontName=self.regular, fontSize=BODY_PT, leading=BODY_PT * 1.25)
        self.body = base
        self.small = ParagraphStyle("small", base, fontSize=SMALL_PT, leading=SMALL_PT * 1.25)
        self.label = ParagraphStyle("label", base, fontName=self.bold)
        self.title = ParagraphStyle("title", base, fontName=self.bold, fontSize=16, leading=20, spaceAfter=2)
        self.h1 = ParagraphStyle("h1", base, fontName=self.bold, fontSize=12, leading=15, spaceBefore=8,
                                 spaceAfter=4)
        self.h2 = ParagraphStyle("h2", base, fontName=self.bold, fontSize=10, leading=13, spaceBefore=6,
                                 spaceAfter=3)

    def plain(self, value) -> str:
        value = str(value)
        if not self.unicode:  # Helvetica draws Latin-1 only: say "?" rather than draw a wrong glyph
            value = value.replace("²", "2").replace("×", "x").replace("…", "...")
            value = value.encode("latin-1", "replace").decode("latin-1")
        return value

    def text(self, value) -> str:
        """For a Paragraph, which reads its text as markup."""
        return escape(self.plain(value))

    def p(self, value, style=None):
        from reportlab.platypus import Paragraph

        return Paragraph(self.text(value), style or self.body)


def _table(st: _Styles, rows, widths_mm, header=None, bold_first: bool = False, red_rows=()):
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    if not rows and not header:
        return st.p("None recorded.", st.small)
    cells = [[st.p(c, st.label if header is not None else st.small) for c in header]] if header else []
    for row in rows:
        cells.append([st.p(c, st.label if (bold_first and i == 0) else st.body) for i, c in enumerate(row)])
    table = Table(cells, colWidths=[w * mm for w in widths_mm], repeatRows=1 if header else 0)
    style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor(GRID_GREY)),
             ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
             ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")))
    offset = 1 if header else 0
    style += [("TEXTCOLOR", (0, r + offset), (-1, r + offset), colors.HexColor("#a00000")) for r in red_rows]
    table.setStyle(TableStyle(style))
    return table


def _image(png: bytes, max_w_mm: float, max_h_mm: float):
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    w_px, h_px = ImageReader(io.BytesIO(png)).getSize()
    scale = min(max_w_mm * mm / w_px, max_h_mm * mm / h_px)
    return Image(io.BytesIO(png), width=w_px * scale, height=h_px * scale)


def _summary(data: ReportData, st: _Styles, width_mm: float) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table

    i = data.integrity
    out = [st.p(rt.TITLE, st.title), st.p(rt.header(data), st.small), Spacer(1, 6),
           st.p("Mission", st.h1), _table(st, rt.mission_rows(data), [LABEL_MM, width_mm - LABEL_MM], bold_first=True)]
    half = (width_mm - 4) / 2
    left = [st.p("Coverage", st.h1), _table(st, rt.coverage_rows(data), [32, half - 32], bold_first=True),
            st.p("Findings", st.h1), _table(st, rt.count_rows(data), [half - 20, 20], bold_first=False)]
    right = [st.p("Coverage of the niche areas", st.h1),
             _table(st, rt.niche_rows(data) or [("none defined", "")], [half - 24, 24])]
    columns = Table([[left, right]], colWidths=[(half + 4) * mm, half * mm])
    columns.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                      ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
    verdict = st.p(f"Record integrity: {i.verdict}", st.h1)
    problems = range(4, 4 + len(i.problems))
    out += [columns, verdict,
            _table(st, rt.integrity_rows(data), [LABEL_MM, width_mm - LABEL_MM], bold_first=True,
                   red_rows=problems if i.verdict != "INTACT" else ()),
            st.p("Software and models", st.h1),
            _table(st, rt.software_rows(data), [LABEL_MM, width_mm - LABEL_MM], bold_first=True)]
    return out


def _expansion(data: ReportData, st: _Styles, width_mm: float) -> list:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table

    out = [st.p("Hull expansion: what was seen", st.h1),
           st.p("The wetted hull unrolled: port side, bottom, starboard side, x forward from the stern. "
                "Findings are marked with their number.", st.small)]
    if data.expansion_png is None:
        return out + [st.p("No hull expansion image in the record (map/expansion.png).")]
    out.append(_image(data.expansion_png, width_mm, 120))
    cells, style = [], [("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    for k, (name, rgb) in enumerate(data.legend_rgb):
        cells += ["", st.p(name, st.small)]
        style += [("BACKGROUND", (2 * k, 0), (2 * k, 0), colors.Color(*(c / 255 for c in rgb))),
                  ("BOX", (2 * k, 0), (2 * k, 0), 0.25, colors.black)]
    label_w = (width_mm * mm - len(data.legend_rgb) * 10) / len(data.legend_rgb)
    swatches = Table([cells], colWidths=[10, label_w] * len(data.legend_rgb), rowHeights=[11], hAlign="LEFT")
    swatches.setStyle(style)
    return out + [st.p("Coverage colours", st.h2), swatches,
                  st.p("Circles mark the findings, numbered as below, in the colour of their class.", st.small)]


def _findings(data: ReportData, st: _Styles, width_mm: float) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Table

    out = [st.p(f"Findings ({len(data.findings)})", st.h1)]
    if not data.findings:
        out.append(st.p("No findings were recorded."))
    detail_w = width_mm - SNAPSHOT_MM - 4
    for f in data.findings:
        snap = f.snapshot
        left = ([_image(snap.snapshot_png, SNAPSHOT_MM, 60)] if snap is not None else []) + \
               [st.p(rt.snapshot_caption(f), st.small)]
        facts = _table(st, rt.finding_rows(f), [30, detail_w - 30], bold_first=True)
        block = Table([[left, facts]], colWidths=[(SNAPSHOT_MM + 4) * mm, detail_w * mm])
        block.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
        history = (_table(st, rt.decision_rows(f.decisions), [27, 26, 30, width_mm - 133, 50],
                          header=rt.DECISION_HEADER) if f.decisions else st.p("No review recorded.", st.small))
        out.append(KeepTogether([st.p(rt.finding_title(f), st.h2), block, st.p("Review history", st.label),
                                 history]))
    if data.unlinked_alarms:
        out += [st.p("Alarms not placed on the hull", st.h2),
                _table(st, rt.unlinked_alarm_rows(data), [14, 34, 16, 22, 38, width_mm - 124],
                       header=rt.ALARM_HEADER)]
    return out


def _rest(data: ReportData, st: _Styles, width_mm: float) -> list:
    out = [st.p("Coverage gaps", st.h1), st.p(rt.gap_total(data))]
    if data.gaps:
        out.append(_table(st, rt.gap_rows(data), [24, width_mm - 64, 40], header=rt.GAP_HEADER))
    rows = rt.timeline_rows(data)
    out += [st.p("Event timeline", st.h1),
            _table(st, [r[:2] for r in rows], [18, width_mm - 18], header=("UTC", "Event"),
                   red_rows=[k for k, r in enumerate(rows) if r[2]])]
    out.append(st.p("Addenda (added after the mission, each signed)", st.h1))
    if data.addenda:
        out.append(_table(st, rt.addendum_rows(data), [10, 24, 34, 42, 34, width_mm - 144], header=rt.ADDENDUM_HEADER))
        out += [st.p(line, st.small) for line in rt.other_entry_lines(data)]
    else:
        out.append(st.p("None."))
    out.append(st.p("About this report", st.h1))
    return out + [st.p(line, st.small) for line in rt.about_lines(data)]


def render_pdf(data: ReportData, font_dirs=()) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    st = _Styles(font_dirs)
    page_w, page_h = A4
    width_mm = page_w / mm - 2 * MARGIN_MM - FRAME_PADDING_MM
    head, digest = st.plain(f"{rt.TITLE} · {rt.header(data)}"), data.integrity.manifest_sha256 or "none"

    class TotalCanvas(Canvas):
        """Writes the page count, known only at the end, into every page's footer."""

        def save(self):
            self.beginForm(_TOTAL_FORM)
            self.setFont(st.regular, SMALL_PT)
            self.drawString(0, 0, str(self.getPageNumber() - 1))
            self.endForm()
            super().save()

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont(st.regular, SMALL_PT)
        canvas.setFillColorRGB(0.33, 0.33, 0.33)
        top, bottom = page_h - 9 * mm, 8 * mm
        canvas.drawString(MARGIN_MM * mm, top, head)
        canvas.drawString(MARGIN_MM * mm, bottom, f"Integrity digest: {digest}")
        label = f"Page {doc.page} of "
        x = page_w - MARGIN_MM * mm - canvas.stringWidth(label + "000", st.regular, SMALL_PT)
        canvas.drawString(x, bottom, label)
        canvas.translate(x + canvas.stringWidth(label, st.regular, SMALL_PT), bottom)
        canvas.doForm(_TOTAL_FORM)
        canvas.restoreState()

    out = io.BytesIO()
    m = data.mission
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN_MM * mm, rightMargin=MARGIN_MM * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm, title=f"{rt.TITLE}: {m.vessel_name}",
                            author=m.unit or m.operator or "HullWatch", subject=f"record {m.record_id}",
                            creator="HullWatch")
    story = (_summary(data, st, width_mm) + [PageBreak()] + _expansion(data, st, width_mm)
             + _findings(data, st, width_mm) + _rest(data, st, width_mm))
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate, canvasmaker=TotalCanvas)
    return out.getvalue()
