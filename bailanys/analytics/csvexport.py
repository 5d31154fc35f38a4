"""The analysts' search results as CSV for Excel: pure, no I/O.

``GET /api/analytics/export.csv`` writes one row per matched call (its best
utterance), with the page's columns. Choices:

* UTF-8 with a byte-order mark: Excel opens a BOM-less CSV as the ANSI code
  page and shows Cyrillic and Kazakh letters as mojibake;
* the separator Excel expects in the user's language: ``;`` for Kazakh and
  Russian (the list separator of the kk-KZ and ru-RU locales, where the
  comma is the decimal sign), ``,`` for English; RFC 4180 quoting;
* CSV injection (formula injection, OWASP): a cell starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return would be run as a formula
  by a spreadsheet, so it is written with a leading apostrophe, which
  spreadsheets show as text;
* hits (the matched words) in the snippet between « and », since a CSV
  cell has no highlighting.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from bailanys.analytics.pageparams import offset_text
from bailanys.analytics.searchtypes import Fragment, Hit

BOM = "\ufeff"
#: Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's list separator per page language (kk-KZ and ru-RU: ';').
SEPARATORS = {"kk": ";", "ru": ";", "en": ","}
HEADERS = {
    "kk": ("Қоңырау", "Басталуы", "Кезек", "Оператор", "Тіл", "Кім айтты", "Уақыты",
           "Үзінді"),
    "ru": ("Звонок", "Начало", "Очередь", "Оператор", "Язык", "Кто сказал", "Момент",
           "Фрагмент"),
    "en": ("Call", "Started", "Queue", "Agent", "Language", "Said by", "Offset", "Snippet"),
}
CHANNELS = {
    "kk": {"caller": "Қоңырау шалушы", "agent": "Оператор"},
    "ru": {"caller": "Абонент", "agent": "Оператор"},
    "en": {"caller": "Caller", "agent": "Agent"},
}


def guard(cell: str) -> str:
    """``cell`` made safe from formula injection (a leading apostrophe when needed)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def snippet_text(fragments: Iterable[Fragment]) -> str:
    """A snippet as plain text, hits between « and »."""
    return "".join(f"«{f.text}»" if f.hit else f.text for f in fragments)


def local_text(ts: float, tz: ZoneInfo) -> str:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SS`` in ``tz`` (what Excel reads as a date)."""
    return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S")


def hit_row(hit: Hit, tz: ZoneInfo, lang: str) -> list[str]:
    """One call's cells, in :data:`HEADERS`' order, guarded."""
    cells = [hit.call_id, local_text(hit.started, tz), hit.queue or "", hit.agent or "",
             hit.language, CHANNELS[lang].get(str(hit.channel), str(hit.channel)),
             offset_text(hit.offset), snippet_text(hit.snippet)]
    return [guard(cell) for cell in cells]


def export_csv(hits: Iterable[Hit], tz: ZoneInfo, lang: str = "kk") -> bytes:
    """The CSV file (BOM, header row, one row per hit) in ``lang`` (kk, ru, en)."""
    lang = lang if lang in HEADERS else "kk"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATORS[lang], lineterminator="\r\n")
    writer.writerow(HEADERS[lang])
    for hit in hits:
        writer.writerow(hit_row(hit, tz, lang))
    return (BOM + out.getvalue()).encode("utf-8")
