"""Figures as kk/ru readers write them: 12 345, 12,5 %, 4,52 (CONTRACTS17)."""

from __future__ import annotations

import pytest

from bailanys.reports.document import Cell, CellKind
from bailanys.reports.render.numbers import format_cell, format_number, is_numeric

K = CellKind


@pytest.mark.parametrize(("value", "kind", "lang", "shown"), [
    (12345, K.COUNT, "kk", "12 345"),
    (12345, K.COUNT, "ru", "12 345"),
    (12345, K.COUNT, "en", "12,345"),
    (0, K.COUNT, "kk", "0"),
    (999, K.COUNT, "kk", "999"),
    (1000, K.COUNT, "ru", "1 000"),
    (4550000, K.COUNT, "kk", "4 550 000"),
    (4550.123, K.THOUSANDS, "kk", "4 550,123"),  # Appendix 2 rows 13-14, in thousands
    (0.007, K.THOUSANDS, "ru", "0,007"),
    (12.45, K.PCT, "ru", "12,5 %"),  # half away from zero, not to even
    (12.5, K.PCT, "kk", "12,5 %"),
    (100, K.PCT, "kk", "100,0 %"),
    (1250.04, K.PCT, "ru", "1 250,0 %"),
    (-12.46, K.PCT, "kk", "-12,5 %"),
    (-0.04, K.PCT, "kk", "0,0 %"),  # no "-0,0"
    (12.5, K.PCT, "en", "12.5 %"),
    (4.524, K.SCORE, "kk", "4,52"),
    (4.525, K.SCORE, "ru", "4,53"),
    (5, K.SCORE, "ru", "5,00"),
    (42.25, K.SECONDS, "kk", "42,3"),
    (3.84, K.MINUTES, "ru", "3,8"),
    (12345.6, K.COUNT, "kk", "12 346"),
    ("2027-01-15", K.DATE, "kk", "15.01.2027"),
    ("2027-01-15", K.DATE, "ru", "15.01.2027"),
    ("2027-01-15", K.DATE, "en", "2027-01-15"),
    ("қаңтар", K.DATE, "kk", "қаңтар"),
    (None, K.COUNT, "kk", "—"),
    (None, K.TEXT, "ru", "—"),
    (float("nan"), K.PCT, "kk", "—"),
    (float("inf"), K.COUNT, "kk", "—"),
    ("деректер жоқ", K.COUNT, "kk", "деректер жоқ"),
    (True, K.COUNT, "kk", "True"),
    (12345, K.TEXT, "kk", "12345"),  # a year or a code in a text cell is not grouped
    ("Ақтөбе", K.TEXT, "xx", "Ақтөбе"),
    (12345, K.COUNT, "xx", "12 345"),  # another language reads as kk
])
def test_format_cell(value: str | float | None, kind: CellKind, lang: str, shown: str) -> None:
    assert format_cell(Cell(value, kind), lang) == shown


def test_rounding_is_exhaustive_for_tenths() -> None:
    for whole in range(0, 2000):
        for tenth in range(10):
            value = whole + tenth / 10
            want = f"{whole:,}".replace(",", " ") + f",{tenth}"
            assert format_number(value, 1, "kk") == want, value


def test_numeric_cells() -> None:
    assert is_numeric(Cell(1, K.COUNT)) and is_numeric(Cell(None, K.PCT))
    assert not is_numeric(Cell("1", K.TEXT)) and not is_numeric(Cell("x", K.COUNT))
    assert not is_numeric(Cell("2027-01-15", K.DATE))
