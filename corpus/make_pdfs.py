"""Generate every PDF report in the offline mirror from ``corpus/reports/*.md``.

Usage::

    python corpus/make_pdfs.py            # (re)writes all PDFs into corpus/mirror/
    python corpus/make_pdfs.py --check    # exits 1 if a PDF on disk differs from a fresh build

The output is byte-for-byte reproducible: the documents are built with reportlab's
``invariant=1`` (fixed creation date and document id) and fixed metadata taken from
the front matter of each report source.

Report source format (a small Markdown subset)::

    ---
    output: <host>/<url path of the pdf>      # where in corpus/mirror/ the PDF goes
    title: ...                                 # PDF Title + title page
    subtitle: ...                              # title page
    author: ...                                # PDF Author
    subject: ...                               # PDF Subject
    keywords: ...                              # PDF Keywords
    organisation: ...                          # title page + running header (right)
    header: ...                                # running header (left), pages 2..N
    date_text: ...                             # title page + footer (left)
    ---
    # Chapter heading
    ## Section heading
    A paragraph; consecutive lines are joined. **bold** is allowed.
    - bullet item
    > fact box (shaded paragraph)
    | table | header |
    |-------|--------|
    | cell  | cell   |
    \\newpage

Only characters in Windows-1252 may be used, since the PDFs use the standard
Helvetica fonts (WinAnsiEncoding), which cover æ, ø, å and the usual punctuation.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports"
MIRROR = HERE / "mirror"
CREATOR = "Samsøk corpus/make_pdfs.py (reportlab)"

PAGE_W, PAGE_H = A4
MARGIN_X = 22 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 22 * mm

BASE = ParagraphStyle(
    "base", fontName="Helvetica", fontSize=10, leading=14, spaceAfter=6, alignment=TA_LEFT
)
STYLES = {
    "h1": ParagraphStyle(
        "h1",
        parent=BASE,
        fontName="Helvetica-Bold",
        fontSize=15,
        leading=19,
        spaceBefore=4,
        spaceAfter=8,
        textColor=colors.HexColor("#1f3b5c"),
        keepWithNext=1,
    ),
    "h2": ParagraphStyle(
        "h2",
        parent=BASE,
        fontName="Helvetica-Bold",
        fontSize=11.5,
        leading=15,
        spaceBefore=8,
        spaceAfter=4,
        textColor=colors.HexColor("#1f3b5c"),
        keepWithNext=1,
    ),
    "p": BASE,
    "li": ParagraphStyle("li", parent=BASE, leftIndent=14, bulletIndent=4, spaceAfter=3),
    "box": ParagraphStyle(
        "box",
        parent=BASE,
        backColor=colors.HexColor("#eef2f6"),
        borderColor=colors.HexColor("#9fb3c8"),
        borderWidth=0.5,
        borderPadding=6,
        spaceBefore=6,
        spaceAfter=12,
    ),
    "caption": ParagraphStyle(
        "caption",
        parent=BASE,
        fontName="Helvetica-Oblique",
        fontSize=8.5,
        leading=11,
        spaceBefore=3,
        spaceAfter=0,
        textColor=colors.HexColor("#55657a"),
    ),
    "cell": ParagraphStyle("cell", parent=BASE, fontSize=8.5, leading=11, spaceAfter=0),
    "cellh": ParagraphStyle(
        "cellh", parent=BASE, fontName="Helvetica-Bold", fontSize=8.5, leading=11, spaceAfter=0
    ),
    "org": ParagraphStyle(
        "org", parent=BASE, fontSize=11, textColor=colors.HexColor("#55657a"), spaceAfter=30
    ),
    "title": ParagraphStyle(
        "title",
        parent=BASE,
        fontName="Helvetica-Bold",
        fontSize=26,
        leading=31,
        spaceAfter=12,
        textColor=colors.HexColor("#1f3b5c"),
    ),
    "subtitle": ParagraphStyle("subtitle", parent=BASE, fontSize=13, leading=17, spaceAfter=10),
    "datetext": ParagraphStyle(
        "datetext", parent=BASE, fontSize=10.5, textColor=colors.HexColor("#55657a"), spaceAfter=36
    ),
}


@dataclass
class Report:
    source: Path
    meta: dict[str, str]
    body: list[str] = field(default_factory=list)

    @property
    def output(self) -> Path:
        return MIRROR / self.meta["output"]


def parse_report(path: Path) -> Report:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not m:
        raise ValueError(f"{path}: missing front matter")
    meta: dict[str, str] = {}
    for line in m.group(1).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split(":", 1)
            meta[key.strip()] = value.strip()
    for key in (
        "output",
        "title",
        "author",
        "subject",
        "organisation",
        "header",
        "date",
        "date_text",
    ):
        if key not in meta:
            raise ValueError(f"{path}: front matter lacks {key!r}")
    try:
        text.encode("cp1252")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValueError(f"{path}: character {bad!r} is not in Windows-1252") from exc
    return Report(path, meta, m.group(2).splitlines())


def inline(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)


def column_widths(rows: list[list[str]], width: float) -> list[float]:
    """Give every column room for its longest word, share the rest by amount of text."""
    ncols = len(rows[0])
    pad = 8
    minimum = [0.0] * ncols
    weight = [1.0] * ncols
    for r, row in enumerate(rows):
        font = "Helvetica-Bold" if r == 0 else "Helvetica"
        for c, cell in enumerate(row):
            plain = cell.replace("**", "")
            for word in plain.split():
                minimum[c] = max(minimum[c], stringWidth(word, font, 8.5) + pad)
            weight[c] += stringWidth(plain, font, 8.5)
    spare = max(0.0, width - sum(minimum))
    total = sum(weight)
    return [m + spare * w / total for m, w in zip(minimum, weight, strict=True)]


def make_table(rows: list[list[str]]) -> Table:
    header, *data = rows
    cells = [[Paragraph(inline(c), STYLES["cellh"]) for c in header]]
    cells += [[Paragraph(inline(c), STYLES["cell"]) for c in row] for row in data]
    widths = column_widths(rows, PAGE_W - 2 * MARGIN_X)
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9e2ec")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#7b8ea3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if data and data[-1][0].strip("* ").lower().startswith(("sum", "totalt", "i alt")):
        style.append(("BACKGROUND", (0, len(data)), (-1, len(data)), colors.HexColor("#f0f3f6")))
    table.setStyle(TableStyle(style))
    return table


def flowables(report: Report) -> list:
    meta = report.meta
    story: list = [
        Spacer(1, 30 * mm),
        Paragraph(inline(meta["organisation"]), STYLES["org"]),
        Paragraph(inline(meta["title"]), STYLES["title"]),
    ]
    if meta.get("subtitle"):
        story.append(Paragraph(inline(meta["subtitle"]), STYLES["subtitle"]))
    story.append(Paragraph(inline(meta["date_text"]), STYLES["datetext"]))

    para: list[str] = []
    table: list[list[str]] = []

    def flush_para() -> None:
        if para:
            story.append(Paragraph(inline(" ".join(para)), STYLES["p"]))
            para.clear()

    def flush_table(caption: str | None = None) -> None:
        if table:
            # tables are kept on one page together with their caption, as in a word processor
            block = [Spacer(1, 2 * mm), make_table(table)]
            if caption:
                block.append(Paragraph(inline(caption), STYLES["caption"]))
            block.append(Spacer(1, 3 * mm))
            story.extend([KeepTogether(block)] if len(table) <= 20 else block)
            table.clear()

    for raw in report.body:
        line = raw.rstrip()
        if line.startswith("|"):
            flush_para()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                table.append(cells)
            continue
        if table and not line:
            continue  # blank line between a table and its caption
        if table and line.startswith("Tabell "):
            flush_table(caption=line)
            continue
        flush_table()
        if not line:
            flush_para()
        elif line == "\\newpage":
            flush_para()
            story.append(PageBreak())
        elif line.startswith("## "):
            flush_para()
            story.append(Paragraph(inline(line[3:]), STYLES["h2"]))
        elif line.startswith("# "):
            flush_para()
            story.append(Paragraph(inline(line[2:]), STYLES["h1"]))
        elif line.startswith("- "):
            flush_para()
            story.append(Paragraph(inline(line[2:]), STYLES["li"], bulletText="\u2022"))
        elif line.startswith("> "):
            flush_para()
            story.append(Paragraph(inline(line[2:]), STYLES["box"]))
        else:
            para.append(line.strip())
    flush_para()
    flush_table()
    return story


def numbered_canvas(meta: dict[str, str]) -> type[canvas.Canvas]:
    """A canvas that knows the total page count when it draws header and footer."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # reportlab API name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._chrome(total)
                super().showPage()
            super().save()

        def _chrome(self, total: int) -> None:
            page = self._pageNumber
            self.saveState()
            grey = colors.HexColor("#55657a")
            if page > 1:
                y = PAGE_H - 14 * mm
                self.setFont("Helvetica", 8)
                self.setFillColor(grey)
                self.drawString(MARGIN_X, y, meta["header"])
                self.drawRightString(PAGE_W - MARGIN_X, y, meta["organisation"])
                self.setStrokeColor(colors.HexColor("#9fb3c8"))
                self.setLineWidth(0.5)
                self.line(MARGIN_X, y - 2.5 * mm, PAGE_W - MARGIN_X, y - 2.5 * mm)
            y = 12 * mm
            self.setStrokeColor(colors.HexColor("#9fb3c8"))
            self.setLineWidth(0.5)
            self.line(MARGIN_X, y + 4 * mm, PAGE_W - MARGIN_X, y + 4 * mm)
            self.setFont("Helvetica", 8)
            self.setFillColor(grey)
            self.drawString(MARGIN_X, y, meta["date_text"])
            self.drawRightString(PAGE_W - MARGIN_X, y, f"Side {page} av {total}")
            self.restoreState()

    return NumberedCanvas


def build(report: Report) -> bytes:
    meta = report.meta
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=meta["title"],
        author=meta["author"],
        subject=meta["subject"],
        keywords=meta.get("keywords", ""),
        creator=CREATOR,
        producer=CREATOR,
        lang=meta.get("lang", "nb-NO"),
        invariant=1,
    )
    # With invariant=1 reportlab stamps SOURCE_DATE_EPOCH (reproducible-builds convention) as
    # the PDF's CreationDate: the report's own date, identical on every run.
    epoch = datetime.datetime.fromisoformat(meta["date"]).replace(tzinfo=datetime.UTC).timestamp()
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(epoch))
    try:
        doc.build(flowables(report), canvasmaker=numbered_canvas(meta))
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--check",
        action="store_true",
        help="do not write; fail if any PDF on disk differs from a fresh build",
    )
    args = ap.parse_args(argv)
    reports = [parse_report(p) for p in sorted(REPORTS.glob("*.md"))]
    if not reports:
        print(f"no reports found in {REPORTS}", file=sys.stderr)
        return 1
    stale = 0
    for report in reports:
        data = build(report)
        out = report.output
        digest = hashlib.sha256(data).hexdigest()[:16]
        rel = out.relative_to(HERE)
        if args.check:
            same = out.exists() and out.read_bytes() == data
            stale += not same
            print(f"{'ok   ' if same else 'STALE'} {rel}")
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        print(f"wrote {rel} ({len(data)} bytes, sha256 {digest}…)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
