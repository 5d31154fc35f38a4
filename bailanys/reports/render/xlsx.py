"""A report :class:`~bailanys.reports.document.Document` as an XLSX workbook.

Issue 17, "Formats": XLSX with real formulas where an analyst would expect
them, frozen headers, kk/ru sheet names; numbers formatted for the language.

Layout (what ``Cell.formula`` counts on, CONTRACTS17 ``document.py``): each
:class:`Table` is a sheet of its own, its column titles in row 1 and
``rows[i][j]`` in row ``i + 2``, column ``j + 1`` (A, B, ...), so a table
whose first column holds labels has its first figure in B2 and its total
reads ``=SUM(B2:B21)``. The table's title is the printed page's header; its
note follows the table after an empty row. Figures are numbers with a
number format (``numbers.EXCEL_FORMATS``: Excel shows them in the reader's
locale, 12 345 and 12,5 % in kk-KZ and ru-RU); a formula cell carries its
value as the cached result, so a reader that does not recalculate (a
preview, openpyxl) shows the same figure. Text is always written as text
(a label starting with "=" is never a formula). Flagged cells are filled
red and bold. Charts are images on a sheet of their own, one under the
other; the title, period, subtitle and the paragraphs are on the text sheet.

XlsxWriter, not openpyxl: measured (``bench/report_render.py --rows 2000``,
fresh process, 3 runs, on a shared 2-core machine) XlsxWriter wrote the
workbook in 0,13 s median and 26 MiB peak RSS, openpyxl in 0,71 s and 44 MiB
(files within 5 %; 20 000 rows: 0,56 s / 53 MiB against 1,98 s / 83 MiB).
XlsxWriter also writes a formula with its cached value and inserts a PNG
from bytes. openpyxl stays in the tests, to read the workbook back as a
third party would.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from typing import Any, Final

import xlsxwriter  # type: ignore[import-untyped]

from bailanys.reports.document import Cell, CellKind, Chart, Document, Paragraph, Table
from bailanys.reports.render import png_size
from bailanys.reports.render.numbers import EXCEL_FORMATS, NO_DATA, format_cell, number_value

#: Excel's limit on a sheet name (ECMA-376 Part 1 §18.2.19 and Excel's UI).
SHEET_NAME_MAX: Final = 31
#: Characters Excel refuses in a sheet name.
_SHEET_FORBIDDEN: Final = re.compile(r"[\[\]:*?/\\]")
#: Names of the two sheets the renderer adds, per language.
CHARTS_SHEET: Final = {"kk": "Диаграммалар", "ru": "Диаграммы", "en": "Charts"}
TEXT_SHEET: Final = {"kk": "Мәтін", "ru": "Текст", "en": "Text"}
#: The heading of the text sheet's list of tables.
CONTENTS: Final = {"kk": "Кестелер", "ru": "Таблицы", "en": "Tables"}
#: A column's width in characters: at least the title's longest word, at most
#: this (wider text wraps); 60 characters is a comfortable line on A4 landscape.
COLUMN_WIDTH_MAX: Final = 60
#: A column title wider than this wraps onto more lines in its cell.
HEADER_WIDTH: Final = 24
#: Excel's limit on a cell's text ("Excel specifications and limits").
CELL_TEXT_MAX: Final = 32_767
#: Excel's tallest row, in points ("Excel specifications and limits").
ROW_HEIGHT_MAX: Final = 409
#: Excel's page header holds 255 characters, codes included: a longer title is cut.
HEADER_TITLE_MAX: Final = 200
#: The text sheet's one column, in characters (a paragraph wraps within it).
TEXT_WIDTH: Final = 110
#: Excel's default row height in pixels (15 points); places the charts.
ROW_PX: Final = 20
#: A chart wider than this is scaled down to fit a screen next to the rows.
CHART_MAX_PX: Final = 900
#: Excel's "Bad" cell style: a flagged figure (issue 17: topics that grew by
#: more than 30 % are flagged for an information campaign).
FLAG_FILL: Final = "#FFC7CE"
FLAG_FONT: Final = "#9C0006"
HEADER_FILL: Final = "#D9E1F2"


def sheet_name(wanted: str, taken: set[str]) -> str:
    """``wanted`` as a valid, unused sheet name: forbidden characters become
    "_", at most 31 characters, no leading/trailing apostrophe, unique
    ignoring case (Excel's rule) by a " (2)" suffix. ``taken`` is updated."""
    base = _SHEET_FORBIDDEN.sub("_", wanted).strip().strip("'").strip() or "Sheet"
    name, n = base[:SHEET_NAME_MAX], 1
    while name.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


class _Formats:
    """XlsxWriter formats by (kind, bold, flag), made once per workbook."""

    def __init__(self, book: Any) -> None:
        self._book = book
        self._made: dict[tuple[str, bool, bool], Any] = {}
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                       "bg_color": HEADER_FILL, "border": 1})
        self.note = book.add_format({"italic": True, "text_wrap": True, "valign": "top"})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.heading = book.add_format({"bold": True, "font_size": 12, "text_wrap": True})
        self.text = book.add_format({"text_wrap": True, "valign": "top"})

    def of(self, cell: Cell) -> Any:
        key = (cell.kind.value, cell.bold or cell.flag, cell.flag)
        if key not in self._made:
            spec: dict[str, Any] = {"border": 1, "valign": "top"}
            if cell.kind is CellKind.TEXT:
                spec["text_wrap"] = True
            elif cell.kind in EXCEL_FORMATS:
                spec["num_format"] = EXCEL_FORMATS[cell.kind]
            if cell.kind not in (CellKind.TEXT, CellKind.DATE) or cell.value is None:
                spec["align"] = "right"
            if key[1]:
                spec["bold"] = True
            if cell.flag:
                spec.update(bg_color=FLAG_FILL, font_color=FLAG_FONT)
            self._made[key] = self._book.add_format(spec)
        return self._made[key]


def _cut(text: str) -> str:
    """Text that fits a cell (Excel holds 32 767 characters; XlsxWriter would
    cut it silently with a warning): a longer text ends with "…"."""
    return text if len(text) <= CELL_TEXT_MAX else text[: CELL_TEXT_MAX - 1] + "…"


def _write_cell(sheet: Any, row: int, col: int, cell: Cell, fmt: Any) -> None:
    figure = number_value(cell)
    if cell.formula:
        formula = cell.formula if cell.formula.startswith("=") else "=" + cell.formula
        cached: float | str = figure if figure is not None else ""
        sheet.write_formula(row, col, formula, fmt, cached)
    elif figure is not None:
        sheet.write_number(row, col, figure, fmt)
    elif cell.value is None or (isinstance(cell.value, float) and not math.isfinite(cell.value)):
        sheet.write_string(row, col, NO_DATA, fmt)
    elif cell.kind is CellKind.DATE:
        try:
            sheet.write_datetime(row, col, dt.date.fromisoformat(str(cell.value)), fmt)
        except ValueError:
            sheet.write_string(row, col, _cut(str(cell.value)), fmt)
    else:
        sheet.write_string(row, col, _cut(str(cell.value)), fmt)


def _width(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _write_table(sheet: Any, table: Table, formats: _Formats, lang: str) -> None:
    """One table on its sheet, titles in row 1 (see the module docstring)."""
    # a title wraps in its cell (at most HEADER_WIDTH wide); figures widen a
    # column; a row longer than the titles keeps its cells (under no title)
    n = max(len(table.columns), *(len(row) for row in table.rows), 1)
    widths = [max(8, min(_width(title), HEADER_WIDTH)) for title in table.columns]
    widths += [8] * (n - len(widths))
    for col, title in enumerate(table.columns):
        sheet.write_string(0, col, _cut(title), formats.header)
    for r, row in enumerate(table.rows, start=1):
        for col, cell in enumerate(row):
            _write_cell(sheet, r, col, cell, formats.of(cell))
            shown = format_cell(cell, lang)
            widths[col] = min(max(widths[col], _width(shown) + 2), COLUMN_WIDTH_MAX)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    if table.note:
        last_col = max(len(table.columns) - 1, 0)
        note_row = len(table.rows) + 2
        if last_col:
            sheet.merge_range(note_row, 0, note_row, last_col, _cut(table.note), formats.note)
        else:
            sheet.write_string(note_row, 0, _cut(table.note), formats.note)
    freeze = max(0, min(table.freeze, len(table.rows) + 1))
    if freeze:
        sheet.freeze_panes(freeze, 0)
        sheet.repeat_rows(0, freeze - 1)
    sheet.set_header("&C" + table.title[:HEADER_TITLE_MAX].replace("&", "&&"))
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)


def _write_charts(sheet: Any, charts: list[Chart], formats: _Formats) -> None:
    """Each chart's title in a cell, its image under it, then the next."""
    sheet.set_column(0, 0, TEXT_WIDTH // 2)
    row = 0
    for chart in charts:
        sheet.write_string(row, 0, _cut(chart.title), formats.heading)
        size = png_size(chart.png)
        if size is None:  # not a PNG: say so in words rather than fail the report
            sheet.write_string(row + 1, 0, _cut(chart.alt), formats.text)
            row += 3
            continue
        scale = min(1.0, CHART_MAX_PX / size[0])
        sheet.insert_image(row + 1, 0, f"{chart.id}.png", {
            "image_data": io.BytesIO(chart.png), "x_scale": scale, "y_scale": scale,
            "description": chart.alt, "object_position": 3})
        row += 3 + math.ceil(size[1] * scale / ROW_PX)


def _text_lines(text: str, width: int) -> int:
    return sum(max(1, math.ceil(len(line) / width)) for line in text.splitlines() or [""])


def _write_text(sheet: Any, doc: Document, paragraphs: list[Paragraph],
                contents: list[tuple[str, str]], formats: _Formats) -> None:
    """The cover (title, period, subtitle), the paragraphs, one a row,
    then the tables' titles, each a link to its sheet (a sheet shows only
    its column titles: row 1 is theirs, see the module docstring)."""
    sheet.set_column(0, 0, TEXT_WIDTH)
    sheet.write_string(0, 0, _cut(doc.title), formats.title)
    row = 1
    for line in (doc.period, doc.subtitle):
        if line:
            sheet.write_string(row, 0, _cut(line), formats.text)
            row += 1
    row += 1
    for p in paragraphs:
        sheet.write_string(row, 0, _cut(p.text), formats.heading if p.heading else formats.text)
        lines = _text_lines(p.text, TEXT_WIDTH)
        if lines > 1:  # Excel does not grow a row for wrapped text it did not lay out
            sheet.set_row(row, min(15 * lines, ROW_HEIGHT_MAX))
        row += 1
    if contents:
        lang = doc.language if doc.language in CONTENTS else "kk"
        sheet.write_string(row + 1, 0, CONTENTS[lang], formats.heading)
        for i, (name, title) in enumerate(contents, start=row + 2):
            target = "internal:'" + name.replace("'", "''") + "'!A1"
            sheet.write_url(i, 0, target, string=_cut(f"{name}: {title}"))


def write_xlsx(doc: Document) -> bytes:
    """The workbook's bytes: a sheet per table, then charts, then text."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": doc.title, "subject": doc.period,
                         "comments": doc.subtitle, "keywords": doc.id})
    formats = _Formats(book)
    lang = doc.language if doc.language in TEXT_SHEET else "kk"
    taken: set[str] = set()
    charts = [b for b in doc.blocks if isinstance(b, Chart)]
    paragraphs = [b for b in doc.blocks if isinstance(b, Paragraph)]
    contents: list[tuple[str, str]] = []
    for table in (b for b in doc.blocks if isinstance(b, Table)):
        name = sheet_name(table.sheet, taken)
        _write_table(book.add_worksheet(name), table, formats, lang)
        contents.append((name, table.title))
    if charts:
        _write_charts(book.add_worksheet(sheet_name(CHARTS_SHEET[lang], taken)),
                      charts, formats)
    _write_text(book.add_worksheet(sheet_name(TEXT_SHEET[lang], taken)), doc,
                paragraphs, contents, formats)
    book.close()
    return out.getvalue()
