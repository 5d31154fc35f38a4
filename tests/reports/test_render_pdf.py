"""PDF of a report Document: every page rendered (pdftoppm) and not blank,
its text (pdftotext) with the Kazakh letters intact, a long table's column
titles repeated on every page (issue 17, "Tests")."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from bailanys.reports import render
from bailanys.reports.document import Cell, CellKind, Chart, Document, Table
from tests.reports.renderdocs import KAZAKH_LETTERS, document

pytestmark = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                                reason="poppler-utils (scripts/ensure-deps.sh) not installed")

#: A rendered page with fewer dark pixels than this is blank (a footer alone
#: is ~0.5 % of an A4 page at 40 dpi; a page with a table is several %).
MIN_INK_SHARE = 0.01


def _pages_text(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    return text.split("\f")[:-1]  # a form feed ends each page


def _ink(png: Path) -> float:
    gray = Image.open(png).convert("L")
    dark = gray.point(lambda v: 255 if v < 200 else 0).histogram()[255]
    return dark / (gray.width * gray.height)


def _write(tmp_path: Path, doc: Document) -> Path:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render.write(doc, "pdf"))
    return pdf


def test_every_page_is_drawn_and_kazakh_letters_survive(tmp_path: Path) -> None:
    doc = document("kk", rows=120)  # a table longer than a page
    pdf = _write(tmp_path, doc)
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    pngs = sorted(tmp_path.glob("page-*.png"))
    pages = _pages_text(pdf)
    assert len(pngs) == len(pages) >= 3
    for png in pngs:
        assert _ink(png) > MIN_INK_SHARE, png.name
    text = "".join(pages)
    for letter in KAZAKH_LETTERS + KAZAKH_LETTERS.upper():
        assert letter in text, letter
    assert "Батыс Қазақстан облысы" in text and "шаһар" in text and "Ұлытау облысы" in text


def test_only_the_embedded_font_with_kazakh_glyphs_is_used(tmp_path: Path) -> None:
    """The letters are drawn, not only extractable: every font in the PDF is
    DejaVu, embedded, and has a glyph for each Kazakh letter."""
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]

    pdf = _write(tmp_path, document("kk", rows=3))
    listing = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                             text=True, timeout=60).stdout.splitlines()[2:]
    assert listing
    for line in listing:
        name, *_, emb, sub, uni, _obj, _gen = line.split()
        assert "DejaVuSans" in name and emb == "yes" and uni == "yes", line
    face = pdfmetrics.getFont("DejaVuSans").face
    for letter in KAZAKH_LETTERS + KAZAKH_LETTERS.upper():
        assert ord(letter) in face.charToGlyph, letter


def test_a_long_table_repeats_its_titles_on_every_page(tmp_path: Path) -> None:
    pages = _pages_text(_write(tmp_path, document("kk", rows=120)))
    with_regions = [p for p in pages if "облысы 2" in p or "облысы 10" in p]
    assert len(with_regions) >= 2
    for page in with_regions:
        assert "Өңір" in page and "Осы" in page and "Алдыңғы" in page
    # every row is there exactly once, in order, and the total row is last
    text = "".join(pages)
    assert text.count("Ақтөбе облысы 102") == 1 and text.count("Ақтөбе облысы 22\n") == 0
    assert text.index("Абай облысы 20 ") < text.index("Абай облысы 100 ")


def test_figures_are_written_for_the_language(tmp_path: Path) -> None:
    text = "".join(_pages_text(_write(tmp_path, document("kk"))))
    for shown in ("12 345", "12,5 %", "42,3", "3,8", "4,52", "15.01.2027", "—",
                  "31,8 %"):
        assert shown in text, shown
    # text is shown as written, markup and all (escaped, not interpreted)
    assert "<b>қ</b>" in text and "<script>alert('x')</script> & «тырнақша»" in text


def test_a_russian_report_and_the_cover(tmp_path: Path) -> None:
    table = Table(id="t", title="Обращения по каналам", sheet="Каналы",
                  columns=("Канал", "Количество", "Доля, %"),
                  rows=((Cell("Оператор"), Cell(12345, CellKind.COUNT),
                         Cell(80.25, CellKind.PCT)),
                        (Cell("Голосовой робот"), Cell(3086, CellKind.COUNT),
                         Cell(19.75, CellKind.PCT))))
    doc = Document(id="feedback", language="ru", title="Анализ обратной связи",
                   period="III квартал 2026 года", blocks=(table,),
                   subtitle="Единый контакт-центр 1414")
    text = "".join(_pages_text(_write(tmp_path, doc)))
    for shown in ("Анализ обратной связи", "III квартал 2026 года", "Единый контакт-центр",
                  "12 345", "80,3 %", "3 086", "19,8 %", "Голосовой робот"):
        assert shown in text, shown


def test_the_same_document_gives_the_same_bytes() -> None:
    doc = document("ru", rows=5, charts=False)
    assert render.write(doc, "pdf") == render.write(doc, "pdf")


def test_a_broken_chart_and_an_empty_table_still_make_a_report(tmp_path: Path) -> None:
    doc = dataclasses.replace(document("kk"), blocks=(
        Chart(id="x", title="Бұзылған диаграмма", png=b"\x89PNG broken", alt="Баған сипаттамасы"),
        Table(id="e", title="Бос кесте", sheet="Бос", columns=("Тақырып", "Саны"), rows=()),
        Table(id="w", title="Кең кесте", sheet="Кең", columns=tuple(f"Б{i}" for i in range(9)),
              rows=((Cell("қысқа"),),)),  # a row shorter than the titles
    ))
    text = "".join(_pages_text(_write(tmp_path, doc)))
    for shown in ("Бұзылған диаграмма", "Баған сипаттамасы", "Бос кесте", "Тақырып",
                  "Кең кесте", "Б8", "қысқа"):
        assert shown in text, shown


def test_a_chart_is_drawn_on_the_page(tmp_path: Path) -> None:
    with_chart = document("kk", rows=3)
    without = dataclasses.replace(with_chart, blocks=tuple(
        b for b in with_chart.blocks if not isinstance(b, Chart)))
    for name, doc in (("with", with_chart), ("without", without)):
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(render.write(doc, "pdf"))
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / name)],
                       check=True, timeout=60)
    ink = {n: sum(_ink(p) for p in tmp_path.glob(f"{n}-*.png")) for n in ("with", "without")}
    assert ink["with"] > ink["without"] + 0.02  # the bars are a block of ink


def test_a_cell_taller_than_a_page_and_a_wide_table_still_fit(tmp_path: Path) -> None:
    """A long free-text cell (an imported letter's topic, say) continues on the
    next page instead of failing the report; a table wider than the page is
    set smaller; a row longer than the titles keeps its cells."""
    tall = Table(id="t", title="Ұзын мәтін", sheet="t", columns=("Мәтін", "Саны"),
                 rows=((Cell("сөз " * 4000 + "соңы"), Cell(7, CellKind.COUNT)),))
    wide = Table(id="w", title="Кең", sheet="w", columns=tuple(f"Б{i}" for i in range(12)),
                 rows=(tuple(Cell(123456 + i, CellKind.COUNT) for i in range(13)),))
    doc = Document(id="x", language="kk", title="Т", period="П", blocks=(tall, wide))
    pages = _pages_text(_write(tmp_path, doc))
    assert len(pages) >= 2
    text = "".join(pages)
    assert "соңы" in text and text.count("сөз") == 4000
    for i in range(13):
        assert f"{(123456 + i) // 1000} {(123456 + i) % 1000:03d}" in text, i
    assert "Б11" in text


def test_reports_written_from_threads_equal_one_at_a_time() -> None:
    """The console writes reports in worker threads: same bytes as alone."""
    from concurrent.futures import ThreadPoolExecutor

    docs = [document("kk", rows=30, charts=False), document("ru", rows=60, charts=False)] * 2
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda doc: render.write(doc, "pdf"), docs))
    assert together == [render.write(doc, "pdf") for doc in docs]
