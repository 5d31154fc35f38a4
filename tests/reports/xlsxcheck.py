"""Every formula of a report's XLSX agrees with the figures it points at.

A builder writes ``Cell.formula`` in A1 notation against the renderer's
layout (``document.Cell``); a formula off by one column would still show
its cached value in Excel until the analyst edits a figure. This reads the
workbook twice with openpyxl (formulas, and the values XlsxWriter cached)
and recomputes each ``=SUM(X2:X9)`` and ``=X9`` from the cells it names.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

_SUM = re.compile(r"^=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)$")
_REF = re.compile(r"^=([A-Z]+)(\d+)$")


def check_formulas(data: bytes) -> int:
    """Asserts every formula agrees; returns how many were checked."""
    formulas = openpyxl.load_workbook(io.BytesIO(data))
    values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    checked = 0
    for sheet in formulas.worksheets:
        cached = values[sheet.title]
        for row in sheet.iter_rows():
            for cell in row:
                if not (isinstance(cell.value, str) and cell.value.startswith("=")):
                    continue
                want = cached[cell.coordinate].value
                if m := _SUM.match(cell.value):
                    col, col2 = m.group(1), m.group(3)
                    first, last = int(m.group(2)), int(m.group(4))
                    assert col == col2, cell.value
                    got = sum(float(cached[f"{col}{r}"].value or 0) for r in range(first, last + 1))
                elif m := _REF.match(cell.value):
                    got = float(cached[f"{m.group(1)}{m.group(2)}"].value or 0)
                else:
                    raise AssertionError(f"{sheet.title}!{cell.coordinate}: {cell.value}")
                assert float(want) == pytest.approx(got), (sheet.title, cell.coordinate,
                                                           cell.value, want, got)
                checked += 1
    return checked
