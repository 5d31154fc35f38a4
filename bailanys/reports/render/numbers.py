"""Figures as a Kazakh or Russian reader writes them (pure).

Kazakh and Russian write a decimal comma and group the thousands with a
space (the Unicode CLDR locale data for kk and ru: decimal ",", group a
space; the 2023 requirements' Appendix 2 form and the 2024 methodology
print figures this way): ``12 345``, ``12,5 %``, ``4,52`` (CONTRACTS17,
slice render).
English (``en``, for the console and tests) writes ``12,345``, ``12.5 %``.

The group separator is a plain space, as the contract's examples show; the
renderers keep a figure on one line themselves (``white-space: nowrap`` in
HTML; table cells are not wrapped in the PDF). A minus is the ASCII hyphen
so a figure reads the same as Excel shows it.

:data:`DECIMALS` is the number of decimals per :class:`CellKind`; the XLSX
renderer uses the same table for its number formats (:data:`EXCEL_FORMATS`),
so the three formats show the same rounding.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from bailanys.reports.document import Cell, CellKind

#: What a cell without data shows (``Cell.value is None``; a NaN or an
#: infinity, which a division by an empty period could give, too).
NO_DATA: Final = "—"

#: Decimals per kind: a count is whole; a share and a time one decimal (the
#: form's rows 15-19 are read to a tenth: "орташа күту уақыты, секунд");
#: a satisfaction score two (the 1-5 survey mean, "4,52").
DECIMALS: Final[dict[CellKind, int]] = {
    CellKind.COUNT: 0,
    CellKind.THOUSANDS: 3,
    CellKind.PCT: 1,
    CellKind.SECONDS: 1,
    CellKind.MINUTES: 1,
    CellKind.SCORE: 2,
}

#: Excel number formats per kind. Excel stores them locale-free (``,`` the
#: group and ``.`` the decimal mark) and shows them in the reader's locale,
#: so a kk-KZ or ru-RU Excel shows 12 345 and 12,5 %. A percentage's value
#: is 0-100 (not Excel's 0-1), so its sign is a literal.
EXCEL_FORMATS: Final[dict[CellKind, str]] = {
    CellKind.COUNT: "#,##0",
    CellKind.THOUSANDS: "#,##0.000",
    CellKind.PCT: '#,##0.0" %"',
    CellKind.SECONDS: "#,##0.0",
    CellKind.MINUTES: "#,##0.0",
    CellKind.SCORE: "0.00",
    CellKind.DATE: "dd.mm.yyyy",
}

#: (group separator, decimal mark) per language; any other language reads
#: as kk (the documents exist in kk and ru only).
_MARKS: Final = {"kk": (" ", ","), "ru": (" ", ","), "en": (",", ".")}


def number_value(cell: Cell) -> float | None:
    """The cell's figure when its kind is a number and its value one (not a
    bool, not NaN or infinite); else None (the cell shows as text)."""
    value = cell.value
    if cell.kind in (CellKind.TEXT, CellKind.DATE) or isinstance(value, bool):
        return None
    if not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_number(value: float, decimals: int, lang: str) -> str:
    """``value`` rounded to ``decimals`` with ``lang``'s marks: 12345.0, 0,
    "kk" -> "12 345"; 12.45, 1, "ru" -> "12,5" (half away from zero, as an
    analyst rounds by hand, not Python's half to even)."""
    group, point = _MARKS.get(lang, _MARKS["kk"])
    scaled = abs(value) * 10**decimals
    whole_units = math.floor(scaled + 0.5 + 1e-9)
    text = str(whole_units).rjust(decimals + 1, "0")
    integer, fraction = (text[:-decimals], text[-decimals:]) if decimals else (text, "")
    groups: list[str] = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    body = group.join(groups) + (point + fraction if fraction else "")
    return "-" + body if value < 0 and whole_units else body


def format_date(value: str, lang: str) -> str:
    """An ISO date (YYYY-MM-DD) as kk/ru write it: 15.01.2027; en keeps ISO.
    Text that is not an ISO date is shown as it is."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return value if lang == "en" else day.strftime("%d.%m.%Y")


def format_cell(cell: Cell, lang: str) -> str:
    """What a cell shows in PDF and HTML (and what an XLSX number cell's
    format shows in a kk-KZ/ru-RU Excel)."""
    if cell.value is None:
        return NO_DATA
    if cell.kind is CellKind.DATE:
        return format_date(str(cell.value), lang)
    figure = number_value(cell)
    if figure is None:
        if isinstance(cell.value, float) and not math.isfinite(cell.value):
            return NO_DATA
        return str(cell.value)
    text = format_number(figure, DECIMALS[cell.kind], lang)
    return text + " %" if cell.kind is CellKind.PCT else text


def is_numeric(cell: Cell) -> bool:
    """Whether the cell is a figure (right-aligned in every format)."""
    return cell.kind not in (CellKind.TEXT, CellKind.DATE) and (
        number_value(cell) is not None or cell.value is None)
