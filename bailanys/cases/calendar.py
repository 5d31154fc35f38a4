"""Kazakhstan's working days: public holidays, carry-overs and transfers (issue 19).

Issue 19, "Deadlines in working days with Kazakhstan's public holidays and
transferred working days (a calendar file per year, with its source
cited)". One file per year, ``configs/calendar/kz-YYYY.toml``, lists the
holidays of the Law "On holidays in the Republic of Kazakhstan" (2001
No. 267-II) and the government's transfers for that year. The Labour
Code's rule (2015, art. 84) that a holiday falling on a Saturday or Sunday
moves the day off to the next working day, except for the religious
holidays, is applied here, so the files list only what a decree decides.

A day is a working day when it is a Monday to Friday, not a holiday, not a
carried or transferred day off, or when a decree makes a weekend day a
working one. :func:`add_working_days` and :func:`working_days_between` are
pure; a date outside the years loaded is refused (:class:`CalendarError`)
rather than counted without its holidays. I/O only in :func:`load_dir`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from bailanys.errors import ConfigError

#: Where the calendar files are, relative to the repository (configs/calendar/).
DEFAULT_DIR: Final = Path("configs/calendar")
#: The files' names: one per year.
FILE_GLOB: Final = "kz-*.toml"
_SATURDAY: Final = 5
_ONE_DAY: Final = timedelta(days=1)


class CalendarError(ConfigError):
    """A calendar file is wrong, or a date lies outside the years loaded."""


@dataclass(frozen=True, slots=True)
class Holiday:
    day: date
    ru: str
    kk: str
    religious: bool = False  # art. 84: not moved off a weekend


@dataclass(frozen=True, slots=True)
class Year:
    """One year's file: its holidays and the government's transfers."""

    year: int
    holidays: tuple[Holiday, ...]
    days_off: frozenset[date]  # weekdays made days off by the decree
    working: frozenset[date]  # weekend days made working days by the decree
    transfers_known: bool  # False: the year's decree is not in the file yet
    source: str = ""


@dataclass(frozen=True, slots=True)
class Calendar:
    """The working days of the years loaded; build it with :func:`build`."""

    years: frozenset[int]
    off: frozenset[date]  # every non-working weekday (holidays, carried, transferred)
    working: frozenset[date]  # every working Saturday or Sunday
    unknown_transfers: frozenset[int] = frozenset()  # years whose decree is missing

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def _check(self, day: date) -> None:
        if day.year not in self.years:
            have = ", ".join(str(y) for y in sorted(self.years)) or "none"
            raise CalendarError(
                f"{day.isoformat()}: no working-day calendar for {day.year} "
                f"(have: {have}); add configs/calendar/kz-{day.year}.toml"
            )

    def is_working(self, day: date) -> bool:
        """Whether ``day`` is a working day (refuses a year not loaded)."""
        self._check(day)
        if day.weekday() >= _SATURDAY:
            return day in self.working
        return day not in self.off


def build(years: Iterable[Year]) -> Calendar:
    """The calendar of ``years``, with the art. 84 carry-overs applied."""
    ys = tuple(years)
    holidays = {h.day: h for y in ys for h in y.holidays}
    off = {d for d in holidays if d.weekday() < _SATURDAY}
    for y in ys:
        off |= y.days_off
    for day in sorted(holidays):
        h = holidays[day]
        if h.religious or day.weekday() < _SATURDAY:
            continue
        d = day + _ONE_DAY
        while d.weekday() >= _SATURDAY or d in holidays or d in off:
            d += _ONE_DAY
        off.add(d)
    return Calendar(
        years=frozenset(y.year for y in ys),
        off=frozenset(off),
        working=frozenset(d for y in ys for d in y.working),
        unknown_transfers=frozenset(y.year for y in ys if not y.transfers_known),
    )


def add_working_days(cal: Calendar, start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself is not
    counted; ``n`` = 0 gives ``start``). A request registered on Friday
    with ``n`` = 1 is due on Monday, or later across holidays."""
    if n < 0:
        raise ValueError(f"working days must be >= 0, got {n}")
    cal._check(start)
    day = start
    while n > 0:
        day += _ONE_DAY
        if cal.is_working(day):
            n -= 1
    return day


def working_days_between(cal: Calendar, start: date, end: date) -> int:
    """The working days ``d`` with ``start < d <= end`` (negative when
    ``end`` is before ``start``): the inverse of :func:`add_working_days`."""
    if end < start:
        return -working_days_between(cal, end, start)
    cal._check(start)
    cal._check(end)
    count, day = 0, start
    while day < end:
        day += _ONE_DAY
        count += cal.is_working(day)
    return count


def _date(text: object, where: str, year: int) -> date:
    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        raise CalendarError(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from None
    if day.year != year:
        raise CalendarError(f"{where}: {day.isoformat()} is not in {year}")
    return day


def _dates(value: object, where: str, year: int) -> frozenset[date]:
    if not isinstance(value, list):
        raise CalendarError(f"{where}: expected an array of dates")
    return frozenset(_date(v, f"{where}[{i}]", year) for i, v in enumerate(value))


def _holiday(key: str, value: object, where: str, year: int) -> Holiday:
    day = _date(key, where, year)
    if not isinstance(value, Mapping) or not all(
        isinstance(value.get(k), str) and value[k].strip() for k in ("ru", "kk")
    ):
        raise CalendarError(f"{where}: expected {{ ru = \"...\", kk = \"...\" }}")
    religious = value.get("religious", False)
    if not isinstance(religious, bool):
        raise CalendarError(f"{where}.religious: expected true or false")
    return Holiday(day, value["ru"], value["kk"], religious)


def parse(data: Mapping[str, Any], file: str) -> Year:
    """One year's file (already read by ``tomllib``); raises
    :class:`CalendarError` naming ``file`` and the field."""
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise CalendarError(f"{file}: year: expected a year such as 2026, got {year!r}")
    table = data.get("holidays")
    if not isinstance(table, Mapping) or not table:
        raise CalendarError(f"{file}: holidays: expected a table of date = {{ ru, kk }}")
    holidays = tuple(
        _holiday(k, v, f"{file}: holidays.{k}", year) for k, v in sorted(table.items())
    )
    tr = data.get("transfers", {})
    if not isinstance(tr, Mapping) or not isinstance(tr.get("known"), bool):
        raise CalendarError(f"{file}: transfers.known: expected true or false")
    days_off = _dates(tr.get("days_off", []), f"{file}: transfers.days_off", year)
    working = _dates(tr.get("working", []), f"{file}: transfers.working", year)
    for d in days_off:
        if d.weekday() >= _SATURDAY:
            raise CalendarError(f"{file}: transfers.days_off: {d} is a weekend day already")
    for d in working:
        if d.weekday() < _SATURDAY:
            raise CalendarError(f"{file}: transfers.working: {d} is a weekday already")
    return Year(year, holidays, days_off, working, tr["known"], str(tr.get("source", "")))


def load_file(path: Path) -> Year:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CalendarError(f"{path}: cannot read: {exc}") from exc
    return parse(data, str(path))


def load_dir(directory: Path = DEFAULT_DIR) -> Calendar:
    """Every ``kz-YYYY.toml`` of ``directory``; refuses two files of one year."""
    years: dict[int, Path] = {}
    loaded = []
    for path in sorted(directory.glob(FILE_GLOB)):
        y = load_file(path)
        if y.year in years:
            raise CalendarError(f"{path}: year {y.year} is also in {years[y.year]}")
        years[y.year] = path
        loaded.append(y)
    if not loaded:
        raise CalendarError(f"{directory}: no calendar files ({FILE_GLOB})")
    return build(loaded)
