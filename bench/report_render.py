"""How the report renderers were chosen: XlsxWriter vs openpyxl, reportlab vs
HTML printed by headless Chromium (issue 17, "Formats"; CONTRACTS17 slice
render: "measure/choose").

Each measurement runs in a fresh process, ``--runs`` times; printed: wall
time min/median/max, the peak RSS (of the process, and of its children for
Chromium), and the file's size.

* ``xlsxwriter`` / ``openpyxl``: a workbook of one sheet, ``--rows`` rows x 5
  columns (text, count, float, percentage, score) with number formats, a
  frozen title row and a SUM formula.
* ``reportlab``: ``render.write(doc, "pdf")`` of a document with a table of
  ``--rows`` rows (Kazakh names), a chart and paragraphs.
* ``chromium``: ``render.write(doc, "html")`` of the same document printed to
  PDF by ``chromium --headless --print-to-pdf``.

Run: ``.venv/bin/python bench/report_render.py [--rows 2000] [--runs 3]``.
It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("xlsxwriter", "openpyxl", "reportlab", "chromium")


def _rows(n: int) -> list[tuple[str, int, float, float, float]]:
    return [(f"Облыс әғқңөұүһі {i}", i * 37, i * 1.5, (i % 100) / 3, 4.52) for i in range(n)]


def _xlsxwriter(n: int) -> bytes:
    import xlsxwriter  # type: ignore[import-untyped]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Өңірлер бойынша")
    count, pct = book.add_format({"num_format": "#,##0"}), book.add_format(
        {"num_format": '#,##0.0" %"'})
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, ("a", "b", "c", "d", "e"))
    for r, row in enumerate(_rows(n), start=1):
        sheet.write_string(r, 0, row[0])
        sheet.write_number(r, 1, row[1], count)
        sheet.write_number(r, 2, row[2])
        sheet.write_number(r, 3, row[3], pct)
        sheet.write_number(r, 4, row[4])
    sheet.write_formula(n + 1, 1, f"=SUM(B2:B{n + 1})", count)
    book.close()
    return out.getvalue()


def _openpyxl(n: int) -> bytes:
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title, sheet.freeze_panes = "Өңірлер бойынша", "A2"
    sheet.append(["a", "b", "c", "d", "e"])
    for r, row in enumerate(_rows(n), start=2):
        sheet.append(list(row))
        sheet.cell(r, 2).number_format = "#,##0"
        sheet.cell(r, 4).number_format = '#,##0.0" %"'
    sheet.cell(n + 2, 2).value = f"=SUM(B2:B{n + 1})"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _document(n: int):  # type: ignore[no-untyped-def]
    from tests.reports.renderdocs import document
    return document("kk", rows=n)


def _reportlab(doc: object) -> bytes:
    from bailanys.reports import render
    return render.write(doc, "pdf")  # type: ignore[arg-type]


def _chromium(doc: object) -> bytes:
    from bailanys.reports import render
    with tempfile.TemporaryDirectory() as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_bytes(render.write(doc, "html"))  # type: ignore[arg-type]
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        f"--print-to-pdf={pdf}", "--no-pdf-header-footer", str(page)],
                       check=True, capture_output=True, timeout=300)
        return pdf.read_bytes()


def one(kind: str, n: int) -> None:
    """One measurement in this process; prints a JSON line."""
    if kind in ("reportlab", "chromium"):
        doc = _document(n)  # the document (its chart drawn) is not the writer's time
        pdf_writer = _reportlab if kind == "reportlab" else _chromium
        start = time.perf_counter()
        data = pdf_writer(doc)
    else:
        xlsx_writer = _xlsxwriter if kind == "xlsxwriter" else _openpyxl
        start = time.perf_counter()
        data = xlsx_writer(n)
    wall = time.perf_counter() - start
    print(json.dumps({"wall": wall, "bytes": len(data),
                      "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "child_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                      // 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.rows)
        return
    print(f"{args.rows} rows, {args.runs} fresh processes each")
    for kind in KINDS:
        runs = [json.loads(subprocess.run(
            [sys.executable, __file__, "--one", kind, "--rows", str(args.rows)],
            check=True, capture_output=True, text=True, cwd=ROOT).stdout)
            for _ in range(args.runs)]
        walls = sorted(r["wall"] for r in runs)
        print(f"{kind:>10}: {walls[0]:.2f} / {statistics.median(walls):.2f} / {walls[-1]:.2f} s"
              f" (min/median/max), peak RSS {max(r['rss'] for r in runs)} MiB"
              f" + children {max(r['child_rss'] for r in runs)} MiB,"
              f" {runs[0]['bytes'] // 1024} KiB")


if __name__ == "__main__":
    main()
