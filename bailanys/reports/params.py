"""What an analyst asks for: which report, which period, language and format (pure).

Issue 17, "Reports": the semi-annual form is asked for a half-year
(``2026-H2``: Appendix 2 is filed twice a year), the quarterly analysis for
a quarter (``2026-Q3``: the 2024 methodology compares quarters), and the
feedback analysis for any period: a half-year, a quarter, a month
(``2026-11``) or ``2026-10-01..2026-12-31`` (both days included). Reports
are written in Kazakh or Russian (the regulator reads both); formats XLSX,
PDF and HTML (the console's view).

Shared by the CLI (``commands.py``) and the analysts' page (``web.py``): a
bad value is a :class:`~bailanys.analytics.pageparams.ParamError` naming
the parameter, with a ``code`` the page translates. No I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bailanys.analytics.pageparams import ParamError


class ReportKind(StrEnum):
    SEMIANNUAL = "semiannual"  # Appendix 2 of the 2023 requirements
    QUARTERLY = "quarterly"  # the 2024 methodology of request analysis
    FEEDBACK = "feedback"  # the feedback procedure


#: The languages reports are written in (the console's English is for its own labels).
REPORT_LANGS: Final = ("kk", "ru")
#: Formats and their media types.
FORMATS: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
#: The longest feedback period: a year (as the QA and FAQ-gap reports).
MAX_PERIOD_DAYS = 366
#: Years a period may name: the engine did not exist before, and a typo
#: such as 20266 is not a period.
FIRST_YEAR, LAST_YEAR = 2020, 2100

_HALF = re.compile(r"(\d{4})-H([12])")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Period:
    """A period as asked (``text``, canonical) and its first and last local day."""

    text: str
    since: dt.date
    until: dt.date


@dataclass(frozen=True, slots=True)
class ReportRequest:
    kind: ReportKind
    period: Period
    lang: str
    fmt: str

    @property
    def filename(self) -> str:
        """``semiannual-2026-H2-kk.xlsx``: what the download is saved as (ASCII only)."""
        period = self.period.text.replace("..", "_")
        return f"{self.kind}-{period}-{self.lang}.{self.fmt}"

    @property
    def content_type(self) -> str:
        return FORMATS[self.fmt]


def _year(text: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ParamError("period", "bad_period", f"a year from {FIRST_YEAR} to {LAST_YEAR}")
    return year


def _last_day(year: int, month: int) -> dt.date:
    """The last day of ``month`` (1-12) of ``year``."""
    following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return following - dt.timedelta(days=1)


def half_year(text: str) -> Period | None:
    """``2026-H1`` (January-June) or ``2026-H2`` (July-December); None if not that form."""
    match = _HALF.fullmatch(text)
    if match is None:
        return None
    year, half = _year(match[1]), int(match[2])
    first = 1 if half == 1 else 7
    return Period(f"{year}-H{half}", dt.date(year, first, 1), _last_day(year, first + 5))


def quarter(text: str) -> Period | None:
    """``2026-Q3`` (July-September); None if not that form."""
    match = _QUARTER.fullmatch(text)
    if match is None:
        return None
    year, q = _year(match[1]), int(match[2])
    return Period(f"{year}-Q{q}", dt.date(year, 3 * q - 2, 1), _last_day(year, 3 * q))


def _month(text: str) -> Period | None:
    match = _MONTH.fullmatch(text)
    if match is None:
        return None
    year, month = _year(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ParamError("period", "bad_period", "a month from 01 to 12")
    return Period(f"{year}-{month:02d}", dt.date(year, month, 1), _last_day(year, month))


def _range(text: str) -> Period | None:
    start, sep, end = text.partition("..")
    if not sep:
        return None
    if not (_DAY.fullmatch(start) and _DAY.fullmatch(end)):
        raise ParamError("period", "bad_date", "dates as YYYY-MM-DD..YYYY-MM-DD")
    try:
        since, until = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        raise ParamError("period", "bad_date", "dates as YYYY-MM-DD..YYYY-MM-DD") from None
    _year(str(since.year))
    _year(str(until.year))
    if until < since:
        raise ParamError("period", "bad_period", "the period ends before it starts")
    if (until - since).days >= MAX_PERIOD_DAYS:
        raise ParamError("period", "bad_period", f"at most {MAX_PERIOD_DAYS} days")
    return Period(f"{since}..{until}", since, until)


#: What each report takes, and how it is written (for messages).
PERIOD_FORMS: Final = {
    ReportKind.SEMIANNUAL: "a half-year such as 2026-H2",
    ReportKind.QUARTERLY: "a quarter such as 2026-Q3",
    ReportKind.FEEDBACK: "2026-H2, 2026-Q3, 2026-11 or 2026-10-01..2026-12-31",
}


def parse_period(kind: ReportKind, text: str) -> Period:
    """The period of a ``kind`` report (see the module's docstring)."""
    text = text.strip()
    if not text:
        raise ParamError("period", "no_period", f"expected {PERIOD_FORMS[kind]}")
    if len(text) > 30:
        raise ParamError("period", "bad_period", f"expected {PERIOD_FORMS[kind]}")
    readers = {
        ReportKind.SEMIANNUAL: (half_year,),
        ReportKind.QUARTERLY: (quarter,),
        ReportKind.FEEDBACK: (half_year, quarter, _month, _range),
    }[kind]
    for read in readers:
        period = read(text)
        if period is not None:
            return period
    raise ParamError("period", "bad_period", f"expected {PERIOD_FORMS[kind]}")


def parse_kind(text: str) -> ReportKind:
    try:
        return ReportKind(text)
    except ValueError:
        raise ParamError("kind", "bad_kind", "semiannual, quarterly or feedback") from None


def parse_request(kind: str, period: str, lang: str, fmt: str) -> ReportRequest:
    """A whole request, each value checked (the first bad one is the error)."""
    report = parse_kind(kind)
    when = parse_period(report, period)
    if lang not in REPORT_LANGS:
        raise ParamError("lang", "bad_lang", "kk or ru")
    if fmt not in FORMATS:
        raise ParamError("format", "bad_format", "xlsx, pdf or html")
    return ReportRequest(report, when, lang, fmt)


def last_complete(kind: ReportKind, today: dt.date) -> str:
    """The latest period of ``kind`` that has ended by ``today`` (the page's default)."""
    if kind is ReportKind.QUARTERLY:
        q = (today.month - 1) // 3  # the current quarter's index, 0-3
        return f"{today.year - 1}-Q4" if q == 0 else f"{today.year}-Q{q}"
    return f"{today.year - 1}-H2" if today.month <= 6 else f"{today.year}-H1"
