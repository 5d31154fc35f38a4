"""XLSX of a report Document, read back with openpyxl cell by cell (issue 17,
"Tests": the XLSX is opened with openpyxl and compared cell by cell)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import openpyxl
import pytest

from bailanys.reports import render
from bailanys.reports.document import Cell, CellKind, Chart, Document, Paragraph, Table
from bailanys.reports.render import png_size
from bailanys.reports.render.xlsx import sheet_name
from tests.reports.renderdocs import document, regions_table


def _book(doc: Document, *, data_only: bool = False) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(render.write(doc, "xlsx")), data_only=data_only)


@pytest.mark.parametrize(("lang", "charts", "text"),
                         [("kk", "Диаграммалар", "Мәтін"), ("ru", "Диаграммы", "Текст")])
def test_a_sheet_per_table_then_charts_then_text(lang: str, charts: str, text: str) -> None:
    book = _book(document(lang))
    assert book.sheetnames == ["Көрсеткіштер", "Өңірлер бойынша", charts, text]


def test_every_cell_of_the_regions_table() -> None:
    table = regions_table(20)
    sheet = _book(document("ru"))["Өңірлер бойынша"]
    assert [c.value for c in sheet[1]] == list(table.columns)
    for r, row in enumerate(table.rows, start=2):
        for c, cell in enumerate(row, start=1):
            got = sheet.cell(r, c)
            if cell.formula:
                assert got.value == cell.formula
            else:
                assert got.value == cell.value, (r, c)
            if cell.kind is CellKind.COUNT:
                assert got.number_format == "#,##0"
            elif cell.kind is CellKind.PCT:
                assert got.number_format == '#,##0.0" %"'
            assert got.font.b == (cell.bold or cell.flag), (r, c)
            flagged = got.fill.fgColor.rgb.endswith("FFC7CE")
            assert flagged == cell.flag, (r, c)
    assert sum(1 for row in table.rows if row[3].flag) == 15  # 70i / (1000 + 20i) > 30 %: i = 5..19
    assert sheet.freeze_panes == "A2"
    assert sheet.cell(len(table.rows) + 3, 1).value == table.note


def test_formulas_are_real_and_carry_their_value() -> None:
    """A total is ``=SUM(...)`` an analyst can follow, and a reader that does
    not recalculate still sees the figure (the formula's cached value)."""
    book = _book(document("kk"))
    cached = _book(document("kk"), data_only=True)
    total_row = 22
    assert book["Өңірлер бойынша"]["B22"].value == "=SUM(B2:B21)"
    assert book["Өңірлер бойынша"]["D22"].value == "=(B22-C22)/C22*100"
    want = sum(1000 + 90 * i for i in range(20))
    assert cached["Өңірлер бойынша"].cell(total_row, 2).value == want
    assert cached["Өңірлер бойынша"]["C22"].value == sum(1000 + 20 * i for i in range(20))


def test_each_kind_is_a_number_with_its_format() -> None:
    sheet = _book(document("kk"))["Көрсеткіштер"]
    want = [(12345, "#,##0"), (12.45, '#,##0.0" %"'), (42.25, "#,##0.0"),
            (3.84, "#,##0.0"), (4.524, "0.00")]
    for r, (value, fmt) in enumerate(want, start=2):
        assert sheet.cell(r, 2).value == value
        assert isinstance(sheet.cell(r, 2).value, int | float)
        assert sheet.cell(r, 2).number_format == fmt
    assert sheet["B7"].value == dt.datetime(2027, 1, 15)
    assert sheet["B7"].number_format == "dd.mm.yyyy"
    assert sheet["B8"].value == "—"  # no data
    # text that looks like a formula or markup stays text
    assert sheet["A9"].value == '=HYPERLINK("http://x")' and sheet["A9"].data_type == "s"
    assert sheet["B9"].value == "<b>қ</b>"


def test_the_text_sheet_holds_the_cover_and_the_paragraphs() -> None:
    doc = document("kk")
    sheet = _book(doc)["Мәтін"]
    values = [row[0] for row in sheet.iter_rows(values_only=True) if row[0]]
    assert values[:3] == [doc.title, doc.period, doc.subtitle]  # meta is never shown
    assert values[3:] == ["Талдау бөлімі", doc.blocks[1].text,  # type: ignore[union-attr]
                          "<script>alert('x')</script> & «тырнақша»", "Кестелер",
                          "Көрсеткіштер: Негізгі көрсеткіштер",
                          "Өңірлер бойынша: Өңірлер бойынша өтініштер саны"]
    assert sheet["A5"].font.b  # the heading "Талдау бөлімі"
    links = [c.hyperlink.location for c in sheet["A"] if c.hyperlink]
    assert links == ["'Көрсеткіштер'!A1", "'Өңірлер бойынша'!A1"]


def test_the_chart_is_an_image_on_its_sheet() -> None:
    doc = document("ru")
    sheet = _book(doc)["Диаграммы"]
    assert sheet["A1"].value == "Өңірлер бойынша"
    assert len(sheet._images) == 1  # openpyxl keeps read images here
    chart = next(b for b in doc.blocks if isinstance(b, Chart))
    assert png_size(chart.png) == (480, 240)


def test_a_chart_that_is_not_a_png_is_written_as_its_alt_text() -> None:
    doc = dataclasses.replace(document("kk"), blocks=(
        Chart(id="x", title="Бұзылған", png=b"not a png", alt="Сипаттама"),))
    sheet = _book(doc)["Диаграммалар"]
    assert (sheet["A1"].value, sheet["A2"].value) == ("Бұзылған", "Сипаттама")
    assert not sheet._images


def test_sheet_names_are_made_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_name("Өңірлер: [1/2]?", taken) == "Өңірлер_ _1_2__"
    long = "Әлеуметтік портрет бойынша толық кесте"
    assert sheet_name(long, taken) == long[:31]
    assert sheet_name(long.upper(), taken) == long.upper()[:27] + " (2)"
    assert sheet_name("'  '", taken) == "Sheet"
    table = Table(id="a", title="t", sheet="Мәтін", columns=("a",), rows=((Cell(1),),))
    doc = Document(id="x", language="kk", title="t", period="p", blocks=(table, table))
    assert _book(doc).sheetnames == ["Мәтін", "Мәтін (2)", "Мәтін (3)"]


def test_an_empty_document_still_opens() -> None:
    doc = Document(id="feedback", language="ru", title="Пусто", period="2026", blocks=())
    assert _book(doc).sheetnames == ["Текст"]
    empty = Table(id="e", title="t", sheet="Пусто", columns=("Тема", "Число"), rows=())
    doc = dataclasses.replace(doc, blocks=(empty,))
    assert _book(doc)["Пусто"]["A1"].value == "Тема"


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="xlsx, pdf, html"):
        render.write(document("kk"), "docx")


def test_text_beyond_excels_limits_is_cut_visibly(recwarn: pytest.WarningsRecorder) -> None:
    """Excel holds 32 767 characters a cell: a longer text ends with "…"
    (XlsxWriter would cut it without a mark); no row is taller than Excel allows."""
    long = "сөз " * 10_000
    doc = Document(id="x", language="kk", title="T", period="P", blocks=(
        Paragraph(long),
        Table(id="t", title="T", sheet="T", columns=("A",), rows=((Cell(long),),))))
    book = _book(doc)
    for got in (book["Мәтін"]["A4"].value, book["T"]["A2"].value):
        assert len(got) == 32_767 and got.endswith("…") and got[:-1] == long[:32_766]
    assert 400 < book["Мәтін"].row_dimensions[4].height <= 409  # whole pixels
    assert not recwarn.list
