"""A report :class:`~bailanys.reports.document.Document` as a PDF (reportlab).

Issue 17, "Formats": PDF with Kazakh letters intact, tables that break across
pages with their column titles repeated, charts, the analytical text.

The font is DejaVu Sans (Debian ``fonts-dejavu-core``, installed by
``scripts/ensure-deps.sh``; else the copy matplotlib ships): it has every
Kazakh letter (ә ғ қ ң ө ұ ү һ і), and reportlab embeds the subset it uses,
so the text is extractable (``pdftotext``) and prints the same anywhere.
Text is laid out as reportlab Paragraphs, escaped (they read a small markup);
a figure is a single unbroken line, right-aligned. A table is a platypus
Table with ``repeatRows`` = its ``freeze`` rows; its title keeps with it.
A4, landscape when a table has more than :data:`PORTRAIT_MAX_COLUMNS`
columns. Output is byte-for-byte the same for the same document
(``invariant``: no creation time), so a report can be compared or cached.

reportlab, not HTML printed by headless Chromium: measured
(``bench/report_render.py --rows 2000``: a 2 000-row Kazakh table, a chart
and text, ~50 pages; fresh process, 3 runs, a shared 2-core machine)
reportlab wrote it in 1,9 s median, 98 MiB peak RSS (matplotlib included),
240 KiB; Chromium printing :mod:`.html` took 5,9 s, 73 MiB plus 289 MiB in
its own processes, 2,9 MiB. Chromium would also be a browser process for
the engine to own, start and stop on a server that otherwise runs none.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import io
import threading
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    CondPageBreak,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from bailanys.reports import document as d
from bailanys.reports.render.numbers import format_cell, is_numeric

#: Where Debian puts DejaVu (fonts-dejavu-core); matplotlib's copy is the fallback.
FONT_DIRS: Final = (Path("/usr/share/fonts/truetype/dejavu"),)
FONT: Final = "DejaVuSans"
FONT_BOLD: Final = "DejaVuSans-Bold"
FONT_ITALIC: Final = "DejaVuSans-Oblique"
#: Body and table text in points (9 pt reads well in a dense statistical table).
FONT_SIZE: Final = 9.0
#: The smallest a wide table's text is set (6 pt still reads on paper).
MIN_FONT_SIZE: Final = 6.0
#: A document with a table wider than this many columns is printed landscape.
PORTRAIT_MAX_COLUMNS: Final = 5
MARGIN: Final = 15 * mm
#: Horizontal padding reportlab puts in a table cell (6 pt each side by default)
#: and 2 pt so a word measured to fit is not wrapped by rounding.
CELL_PAD: Final = 14.0
#: A text column gets at most this share of the width before it wraps.
TEXT_COLUMN_SHARE: Final = 0.6
#: A chart takes at most this share of the frame's height.
CHART_HEIGHT_SHARE: Final = 0.6
#: Room a table's title needs below it for itself and its first rows.
KEEP_WITH_TITLE: Final = 40 * mm
#: The same colours as the XLSX (Excel's "Bad" style for a flagged figure).
FLAG_FILL: Final = colors.HexColor("#FFC7CE")
FLAG_FONT: Final = colors.HexColor("#9C0006")
HEADER_FILL: Final = colors.HexColor("#D9E1F2")
GRID: Final = colors.HexColor("#808080")
#: reportlab keeps module-level state (the font registry, style and width
#: caches) and does not say it is thread-safe: one PDF is built at a time
#: (the console writes reports in a worker thread; a report takes seconds).
_BUILD_LOCK: Final = threading.Lock()


def _font_file(name: str) -> Path:
    dirs = list(FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.origin:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    for folder in dirs:
        if (folder / f"{name}.ttf").is_file():
            return folder / f"{name}.ttf"
    raise FileNotFoundError(f"{name}.ttf: not in {', '.join(map(str, dirs))} "
                            "(install fonts-dejavu-core: scripts/ensure-deps.sh)")


@functools.cache
def _register_fonts() -> None:
    for name in (FONT, FONT_BOLD, FONT_ITALIC):
        pdfmetrics.registerFont(TTFont(name, str(_font_file(name))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC,
                                  boldItalic=FONT_BOLD)


@functools.cache
def _styles(size: float = FONT_SIZE) -> dict[str, Any]:
    """Paragraph styles; a table's cells use ``size`` (smaller for a wide table)."""
    base = ParagraphStyle(f"body{size}", fontName=FONT, fontSize=size, leading=size * 1.25)
    return {
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=16, leading=20,
                                spaceAfter=6),
        "heading": ParagraphStyle("heading", base, fontName=FONT_BOLD, fontSize=12,
                                  leading=15, spaceBefore=8, spaceAfter=4),
        "para": ParagraphStyle("para", base, fontSize=10, leading=13, spaceAfter=5),
        "note": ParagraphStyle("note", base, fontName=FONT_ITALIC, spaceBefore=3),
        "header": ParagraphStyle(f"header{size}", base, fontName=FONT_BOLD),
        "cell": base,
        "cell_bold": ParagraphStyle(f"cell_bold{size}", base, fontName=FONT_BOLD),
    }


def _p(text: str, style: str, size: float = FONT_SIZE) -> Any:
    """A Paragraph of plain text (escaped: reportlab reads <b>, &amp;...)."""
    return Paragraph(escape(text).replace("\n", "<br/>"), _styles(size)[style])


def _widths(table: d.Table, lang: str, available: float, size: float) -> list[float]:
    """Column widths at font ``size``: a figure's column as wide as its widest
    figure; text columns share what is left in proportion to their natural
    width, never narrower than their longest word (a word longer than
    TEXT_COLUMN_SHARE of the page is split)."""
    n = len(table.columns)  # _padded: every row has as many cells
    cap = available * TEXT_COLUMN_SHARE
    natural, minimum, numeric = [0.0] * n, [0.0] * n, [True] * n
    for j, title in enumerate(table.columns):
        words = title.split() or [""]
        minimum[j] = min(cap, max(pdfmetrics.stringWidth(w, FONT_BOLD, size) for w in words))
    for row in table.rows:
        for j, cell in enumerate(row):
            text = format_cell(cell, lang)
            width = pdfmetrics.stringWidth(text, FONT_BOLD, size)
            natural[j] = max(natural[j], width)
            if is_numeric(cell):
                minimum[j] = max(minimum[j], width)
            else:
                numeric[j] = False
                longest = max((pdfmetrics.stringWidth(w, FONT, size)
                                for w in text.split()), default=0.0)
                minimum[j] = max(minimum[j], min(cap, longest))
    widths = [max(natural[j], minimum[j]) + CELL_PAD for j in range(n)]
    widths = [w if numeric[j] else min(w, cap) for j, w in enumerate(widths)]
    text_cols = [j for j in range(n) if not numeric[j]]
    spare = available - sum(widths)
    if text_cols and spare != 0:  # stretch or shrink the text columns to fit
        share = sum(widths[j] for j in text_cols)
        for j in text_cols:
            widths[j] = max(minimum[j] + CELL_PAD, widths[j] + spare * widths[j] / share)
    return widths


def _fit(table: d.Table, lang: str, available: float) -> tuple[list[float], float]:
    """Widths and font size: a table wider than the page is set smaller (text
    width scales with the size, the padding does not), down to MIN_FONT_SIZE."""
    widths = _widths(table, lang, available, FONT_SIZE)
    pad = CELL_PAD * len(widths)
    if sum(widths) <= available + 0.5 or sum(widths) <= pad:
        return widths, FONT_SIZE
    size = max(MIN_FONT_SIZE, FONT_SIZE * (available - pad) / (sum(widths) - pad))
    size = int(size * 4) / 4  # quarter points: the style cache stays small
    return _widths(table, lang, available, size), size


def _padded(table: d.Table) -> d.Table:
    """Every row as long as the longest one and the titles (a missing cell
    shows "—", a cell beyond the titles keeps its place under an empty one)."""
    n = max(len(table.columns), *(len(row) for row in table.rows), 1)
    return dataclasses.replace(
        table, columns=(*table.columns, *[""] * (n - len(table.columns))),
        rows=tuple((*row, *[d.Cell(None)] * (n - len(row))) for row in table.rows))


def _table(table: d.Table, lang: str, available: float) -> list[Any]:
    """The table's title, the table (titles repeated on every page), its note."""
    table = _padded(table)
    widths, size = _fit(table, lang, available)
    data: list[list[Any]] = [[_p(t, "header", size) for t in table.columns]]
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("FONT", (0, 0), (-1, -1), FONT, size), ("ALIGN", (0, 0), (-1, -1), "LEFT"),
    ]
    for i, row in enumerate(table.rows, start=1):
        cells: list[Any] = []
        for j, cell in enumerate(row):
            bold = cell.bold or cell.flag
            if is_numeric(cell):  # one unbroken line, right-aligned
                cells.append(format_cell(cell, lang))
                style.append(("ALIGN", (j, i), (j, i), "RIGHT"))
                if bold:
                    style.append(("FONT", (j, i), (j, i), FONT_BOLD, size))
            else:
                cells.append(_p(format_cell(cell, lang), "cell_bold" if bold else "cell", size))
            if cell.flag:
                style += [("BACKGROUND", (j, i), (j, i), FLAG_FILL),
                          ("TEXTCOLOR", (j, i), (j, i), FLAG_FONT)]
        data.append(cells)
    repeat = max(1, min(table.freeze, len(data)))
    # splitInRow: a cell taller than a page continues on the next one
    flowable = Table(data, colWidths=widths, repeatRows=repeat, splitInRow=1,
                     hAlign="LEFT", style=TableStyle(style))
    # a title never ends a page alone: it starts a new page unless it and
    # the first rows fit (keepWithNext would move a long table whole)
    out: list[Any] = [CondPageBreak(KEEP_WITH_TITLE), _p(table.title, "heading"), flowable]
    if table.note:
        out.append(_p(table.note, "note"))
    return out


def _chart(chart: d.Chart, width: float, height: float) -> list[Any]:
    """The chart's title and its image scaled to fit; its alt text when the
    bytes are not an image."""
    title = _p(chart.title, "heading")
    title.keepWithNext = True
    try:
        w, h = ImageReader(io.BytesIO(chart.png)).getSize()
    except Exception:  # reportlab/PIL raise many kinds for bytes that are no image
        return [title, _p(chart.alt, "para")]
    scale = min(width / w, height * CHART_HEIGHT_SHARE / h, 1.0)
    image = Image(io.BytesIO(chart.png), width=w * scale, height=h * scale, hAlign="LEFT")
    return [title, image]


def _footer(doc: d.Document) -> Any:
    def draw(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN, MARGIN / 2, f"{doc.title} · {doc.period}")
        canvas.drawRightString(template.pagesize[0] - MARGIN, MARGIN / 2,
                               str(canvas.getPageNumber()))
        canvas.restoreState()
    return draw


def write_pdf(doc: d.Document) -> bytes:
    """The PDF's bytes: the cover lines, then every block in order."""
    with _BUILD_LOCK:
        return _build(doc)


def _build(doc: d.Document) -> bytes:
    _register_fonts()
    wide = any(isinstance(b, d.Table) and len(_padded(b).columns) > PORTRAIT_MAX_COLUMNS
               for b in doc.blocks)
    size = landscape(A4) if wide else A4
    out = io.BytesIO()
    template = SimpleDocTemplate(
        out, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN, title=doc.title, subject=doc.period, author=doc.subtitle,
        creator="Bailanys", invariant=True, lang=doc.language, initialFontName=FONT)
    width, height = template.width, template.height
    story: list[Any] = [_p(doc.title, "title"), _p(doc.period, "para")]
    story += [_p(line, "para") for line in (doc.subtitle,) if line]
    for block in doc.blocks:
        if isinstance(block, d.Table):
            story += _table(block, doc.language, width)
        elif isinstance(block, d.Chart):
            story += _chart(block, width, height)
        else:
            story.append(_p(block.text, "heading" if block.heading else "para"))
    footer = _footer(doc)
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
