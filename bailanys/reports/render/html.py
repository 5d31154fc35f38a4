"""A report :class:`~bailanys.reports.document.Document` as a standalone,
printable HTML page (issue 17, "Formats": an HTML view in the console).

One file with nothing to fetch: the style is one inline ``<style>`` block,
charts are ``data:`` URIs, and there is no script at all. Every text of the
document is escaped (a topic name or a paragraph is text, never markup).
Figures are formatted for the language (:mod:`..numbers`) and never wrap;
flagged figures are marked red and bold. Printed, a table's column titles
repeat on every page (``thead``) and a row is not split across pages.

The console's pages run under a CSP that refuses inline styles; serve this
page with :data:`CSP` instead (``default-src 'none'``: no script, no fetch,
only this page's own ``<style>``, named by its SHA-256, and its ``data:``
images). :func:`body_html` is the ``<article>`` alone, for a page that
styles it itself (the classes are the ones :data:`STYLE` uses).
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from typing import Final

from bailanys.reports import document as d
from bailanys.reports.render import png_size
from bailanys.reports.render.numbers import format_cell, is_numeric

#: The page's whole style (print: A4, 15 mm margins as the PDF).
STYLE: Final = """
body{font-family:"DejaVu Sans","Noto Sans","Segoe UI",Arial,sans-serif;font-size:10pt;
color:#111;margin:1.5em;line-height:1.35}
.report h1{font-size:16pt;margin:0 0 .3em}
.report h2{font-size:12pt;margin:1.2em 0 .4em}
.report .cover p,.report .cover dl{margin:.15em 0}
.report table{border-collapse:collapse;margin:.2em 0 .4em;font-size:9pt}
.report th,.report td{border:1px solid #808080;padding:2px 6px;vertical-align:top;
text-align:left}
.report thead th{background:#d9e1f2}
.report td.num{text-align:right;white-space:nowrap}
.report .bold{font-weight:bold}
.report td.flag{background:#ffc7ce;color:#9c0006;font-weight:bold}
.report .note{font-style:italic;margin:.2em 0 .8em}
.report figure{margin:.5em 0}
.report figure img{max-width:100%;height:auto}
@page{size:A4;margin:15mm}
@media print{body{margin:0}.report thead{display:table-header-group}
.report tr{break-inside:avoid}.report h2{break-after:avoid}
.report figure{break-inside:avoid}}
"""
#: The CSP to serve the standalone page with (CSP Level 3 §2.3.1 hash-source).
CSP: Final = (
    "default-src 'none'; img-src data:; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
_LANG: Final = re.compile(r"[a-z]{2,3}")


def _text(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def _cell(cell: d.Cell, lang: str) -> str:
    classes = [c for c, on in (("num", is_numeric(cell)), ("bold", cell.bold),
                               ("flag", cell.flag)) if on]
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{attr}>{_text(format_cell(cell, lang))}</td>"


def _table(table: d.Table, lang: str) -> str:
    # every row as long as the longest one and the titles (as in the PDF)
    n = max(len(table.columns), *(len(row) for row in table.rows), 1)
    columns = (*table.columns, *[""] * (n - len(table.columns)))
    rows = [tuple(row) + (d.Cell(None),) * (n - len(row)) for row in table.rows]
    head_rows = max(0, min(table.freeze, len(rows) + 1) - 1)  # data rows frozen too
    head = ["<tr>" + "".join(f'<th scope="col">{_text(t)}</th>' for t in columns)
            + "</tr>"]
    head += ["<tr>" + "".join(_cell(c, lang) for c in row) + "</tr>"
             for row in rows[:head_rows]]
    body = ["<tr>" + "".join(_cell(c, lang) for c in row) + "</tr>" for row in rows[head_rows:]]
    note = f'<p class="note">{_text(table.note)}</p>' if table.note else ""
    return (f'<section class="table" id="{escape("t-" + table.id)}">'
            f"<h2>{_text(table.title)}</h2><table><thead>{''.join(head)}</thead>"
            f"<tbody>{''.join(body)}</tbody></table>{note}</section>")


def _chart(chart: d.Chart) -> str:
    size = png_size(chart.png)
    if size is None:  # not a PNG: its words rather than a broken image
        return (f"<figure><figcaption><h2>{_text(chart.title)}</h2></figcaption>"
                f"<p>{_text(chart.alt)}</p></figure>")
    data = base64.b64encode(chart.png).decode("ascii")
    return (f'<figure id="{escape("c-" + chart.id)}"><figcaption><h2>{_text(chart.title)}'
            f'</h2></figcaption><img src="data:image/png;base64,{data}" '
            f'alt="{escape(chart.alt)}" width="{size[0]}" height="{size[1]}"></figure>')


def body_html(doc: d.Document) -> str:
    """The report as one ``<article class="report">``: the cover, then each block."""
    lang = doc.language
    cover = [f"<h1>{_text(doc.title)}</h1>", f'<p class="period">{_text(doc.period)}</p>']
    if doc.subtitle:
        cover.append(f'<p class="subtitle">{_text(doc.subtitle)}</p>')
    parts = [f'<header class="cover">{"".join(cover)}</header>']
    for block in doc.blocks:
        if isinstance(block, d.Table):
            parts.append(_table(block, lang))
        elif isinstance(block, d.Chart):
            parts.append(_chart(block))
        elif block.heading:
            parts.append(f"<h2>{_text(block.text)}</h2>")
        else:
            parts.append(f"<p>{_text(block.text)}</p>")
    return f'<article class="report">{"".join(parts)}</article>'


def write_html(doc: d.Document) -> str:
    """The standalone page (UTF-8 text): serve it with :data:`CSP`."""
    lang = doc.language if _LANG.fullmatch(doc.language) else "kk"
    title = _text(f"{doc.title} · {doc.period}")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>{STYLE}</style></head>"
            f"<body>{body_html(doc)}</body></html>\n")
