"""The standalone HTML of a report Document: escaped text, tables, charts as
data: URIs, no scripts; and real Chromium shows and prints it under its CSP."""

from __future__ import annotations

import base64
import dataclasses
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bailanys.reports import render
from bailanys.reports.document import Chart, Document
from bailanys.reports.render.html import CSP, write_html
from bailanys.reports.render.numbers import format_cell
from tests.reports.renderdocs import document, kinds_table, regions_table

CHROMIUM = Path("/usr/bin/chromium")


class _Page(HTMLParser):
    """Tags with their attributes, the text, and each table's rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = [dict(attrs).get("class") or ""]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append((self._cell[0], "".join(self._cell[1:])))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse(doc: Document) -> _Page:
    page = _Page()
    page.feed(render.write(doc, "html").decode("utf-8"))
    return page


def test_no_script_no_handler_nothing_fetched() -> None:
    page = _parse(document("kk"))
    names = {tag for tag, _ in page.tags}
    assert "script" not in names and not names & {"iframe", "object", "embed", "link", "form"}
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], tag
        for key in ("src", "href"):
            if key in attrs:
                assert (attrs[key] or "").startswith("data:image/png;base64,"), (tag, attrs)


def test_text_is_escaped_not_interpreted() -> None:
    raw = write_html(document("kk"))
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; «тырнақша»" in raw
    assert "<b>қ</b>" not in raw and "&lt;b&gt;қ&lt;/b&gt;" in raw
    page = _parse(document("kk"))
    assert "<script>alert('x')</script> & «тырнақша»" in page.text


def test_tables_cell_by_cell() -> None:
    page = _parse(document("ru"))
    for table, got in ((kinds_table(), page.tables[0]), (regions_table(), page.tables[1])):
        assert [t for _, t in got[0]] == list(table.columns)
        assert len(got) == len(table.rows) + 1
        for row, cells in zip(table.rows, got[1:], strict=True):
            assert [t for _, t in cells] == [format_cell(c, "ru") for c in row]
            for cell, (classes, _) in zip(row, cells, strict=True):
                assert ("flag" in classes.split()) == cell.flag
                assert ("bold" in classes.split()) == cell.bold
    assert [t for _, t in page.tables[0][1]] == ["Барлық өтініштер", "12 345"]
    assert page.tables[0][1][1][0] == "num"
    assert [t for _, t in page.tables[0][2]][1] == "12,5 %"


def test_the_chart_is_a_data_uri_of_the_same_png() -> None:
    doc = document("kk")
    chart = next(b for b in doc.blocks if isinstance(b, Chart))
    imgs = [a for t, a in _parse(doc).tags if t == "img"]
    assert len(imgs) == 1
    src = imgs[0]["src"] or ""
    assert base64.b64decode(src.split(",", 1)[1]) == chart.png
    assert imgs[0]["alt"] == chart.alt
    broken = dataclasses.replace(doc, blocks=(dataclasses.replace(chart, png=b"<svg/>"),))
    page = _parse(broken)
    assert not [t for t, _ in page.tags if t == "img"] and chart.alt in page.text


def test_the_language_is_declared_and_checked() -> None:
    assert '<html lang="ru">' in write_html(document("ru"))
    odd = dataclasses.replace(document("ru"), language='ru" onload="x')
    assert '<html lang="kk">' in write_html(odd)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium (scripts/ensure-deps.sh)")
def test_chromium_shows_and_prints_it_under_its_csp(tmp_path: Path) -> None:
    """Served with :data:`CSP` (no script, only its own hashed style), the
    page is styled, its chart decodes, and printed its titles repeat."""
    from playwright.sync_api import sync_playwright

    body = write_html(document("kk", rows=120))
    violations: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            page.on("console", lambda m: violations.append(m.text))
            page.route("http://report.test/", lambda route: route.fulfill(
                status=200, body=body, headers={"Content-Type": "text/html; charset=utf-8",
                                                "Content-Security-Policy": CSP}))
            page.goto("http://report.test/")
            flag = page.eval_on_selector("td.flag", "e => getComputedStyle(e).backgroundColor")
            collapse = page.eval_on_selector("table", "e => getComputedStyle(e).borderCollapse")
            width = page.eval_on_selector("img", "e => e.naturalWidth")
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert (flag, collapse, width) == ("rgb(255, 199, 206)", "collapse", 480)
    assert not [v for v in violations if "Content Security Policy" in v]
    (tmp_path / "page.pdf").write_bytes(pdf)
    pages = subprocess.run(["pdftotext", "-layout", str(tmp_path / "page.pdf"), "-"],
                           check=True, capture_output=True, text=True,
                           timeout=60).stdout.split("\f")[:-1]
    with_rows = [p for p in pages if "облысы 4" in p or "облысы 9" in p]
    assert len(with_rows) >= 2 and all("Алдыңғы" in p for p in with_rows)


def test_poppler_is_there_for_the_print_check() -> None:
    assert shutil.which("pdftotext"), "poppler-utils (scripts/ensure-deps.sh)"
