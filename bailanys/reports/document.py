"""A report as data: what the report builders produce and the renderers write.

The semi-annual form, the quarterly analysis and the feedback analysis each
build a :class:`Document` (pure: figures in, document out) in one language;
``render/xlsx.py``, ``render/pdf.py`` and ``render/html.py`` write it. So a
figure is computed once, and the three formats show the same numbers.

Cells are typed (:class:`Cell`): a number keeps its value (the XLSX cell is
a number an analyst can sum; ``formula`` when the analyst would expect one,
e.g. a total or a change in %), with its ``kind`` deciding the display
(``count`` 12 345, ``pct`` 12,5 %, ``seconds``, ``minutes``, ``score``
4,52) in the document's language (decimal comma and a space between
thousands for kk and ru).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CellKind(StrEnum):
    TEXT = "text"
    COUNT = "count"  # an integer
    #: a count in thousands (Appendix 2 rows 13-14: "мың"), three decimals so
    #: that a small centre's 123 contacts read 0,123
    THOUSANDS = "thousands"
    PCT = "pct"  # a percentage, value 0-100
    SECONDS = "seconds"
    MINUTES = "minutes"
    SCORE = "score"  # 1-5, two decimals
    DATE = "date"  # value: YYYY-MM-DD text


@dataclass(frozen=True, slots=True)
class Cell:
    value: str | float | int | None  # None: no data (shown as "—")
    kind: CellKind = CellKind.TEXT
    #: an XLSX formula over the same table's cells in A1 notation: the
    #: table's sheet has the column titles in row 1 and ``rows[i][j]`` at row
    #: i + 2, column j + 1 (A, B, ...), so the second column's first figure
    #: is B2 ("=SUM(B2:B21)"); renderers other than XLSX show ``value``
    formula: str | None = None
    bold: bool = False
    #: a flag the reader must see (a topic that grew by more than 30 %)
    flag: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """One table: a sheet of its own in XLSX (``sheet``, at most 31
    characters, unique in the document), a table in PDF and HTML."""

    id: str
    title: str
    sheet: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    #: header rows to freeze in XLSX (the column titles: 1)
    freeze: int = 1


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart already drawn (matplotlib, PNG bytes), with its alt text."""

    id: str
    title: str
    png: bytes
    alt: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Text of the analytical part (numbers already filled in)."""

    text: str
    heading: bool = False


Block = Table | Chart | Paragraph


@dataclass(frozen=True, slots=True)
class Document:
    """One report in one language (kk or ru)."""

    id: str  # semiannual, quarterly, feedback
    language: str
    title: str
    period: str  # as the reader writes it: "2026 жылғы II жартыжылдық"
    blocks: tuple[Block, ...]
    #: the organisation's name: the cover's line under the period
    subtitle: str = ""
    #: machine data about the report (the period's code, the form's index):
    #: for programs and file names, never shown to the reader (the keys are
    #: not in the reader's language)
    meta: dict[str, str] = field(default_factory=dict)
