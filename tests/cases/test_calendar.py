"""Kazakhstan's working days (issue 19): the shipped years, carry-overs,
transfers, and the arithmetic exhaustively over 2025-2027."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bailanys.cases import calendar as c

ROOT = Path(__file__).resolve().parents[2]
CAL = c.load_dir(ROOT / "configs" / "calendar")


def weekdays_off(year: int) -> set[date]:
    d, out = date(year, 1, 1), set()
    while d.year == year:
        if d.weekday() < 5 and not CAL.is_working(d):
            out.add(d)
        d += timedelta(days=1)
    return out


def test_2026_days_off_are_the_holidays_and_the_art_84_carry_overs() -> None:
    assert weekdays_off(2026) == {
        date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 7),
        date(2026, 3, 9),  # 8 March is a Sunday
        date(2026, 3, 23), date(2026, 3, 24), date(2026, 3, 25),  # Nauryz 21-22 on the weekend
        date(2026, 5, 1), date(2026, 5, 7), date(2026, 5, 11),  # 9 May is a Saturday
        date(2026, 5, 27),  # Kurban ait
        date(2026, 7, 6), date(2026, 8, 31), date(2026, 10, 26), date(2026, 12, 16),
    }


def test_2025_has_the_decree_s_3_january_and_its_carry_overs() -> None:
    assert weekdays_off(2025) == {
        date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 7),
        date(2025, 3, 10), date(2025, 3, 21), date(2025, 3, 24), date(2025, 3, 25),
        date(2025, 5, 1), date(2025, 5, 7), date(2025, 5, 9), date(2025, 6, 6),
        date(2025, 7, 7), date(2025, 9, 1), date(2025, 10, 27), date(2025, 12, 16),
    }


def test_2025_s_working_sunday() -> None:
    assert CAL.is_working(date(2025, 1, 5)) and not CAL.is_working(date(2025, 1, 4))
    assert c.add_working_days(CAL, date(2025, 1, 2), 1) == date(2025, 1, 5)
    assert c.working_days_between(CAL, date(2025, 1, 1), date(2025, 1, 12)) == 5


def test_a_religious_holiday_on_a_weekend_is_not_carried() -> None:
    assert date(2027, 5, 16).weekday() == 6  # Kurban ait 2027 on a Sunday
    assert CAL.is_working(date(2027, 5, 17))
    assert not CAL.is_working(date(2027, 1, 4))  # 2 January 2027 (Saturday) carried


def test_the_year_whose_decree_is_missing_is_marked() -> None:
    assert CAL.unknown_transfers == frozenset({2027})
    assert CAL.years == frozenset({2025, 2026, 2027})


def test_a_transferred_working_saturday_and_day_off() -> None:
    # The 2024 decree: Saturday 4 May worked, Wednesday 8 May off.
    year = c.Year(2024, (c.Holiday(date(2024, 5, 7), "-", "-"),
                         c.Holiday(date(2024, 5, 9), "-", "-")),
                  frozenset({date(2024, 5, 8)}), frozenset({date(2024, 5, 4)}), True)
    cal = c.build([year])
    assert cal.is_working(date(2024, 5, 4)) and not cal.is_working(date(2024, 5, 5))
    assert not cal.is_working(date(2024, 5, 8))
    assert c.add_working_days(cal, date(2024, 5, 3), 1) == date(2024, 5, 4)
    assert c.add_working_days(cal, date(2024, 5, 6), 1) == date(2024, 5, 10)
    assert c.working_days_between(cal, date(2024, 5, 3), date(2024, 5, 10)) == 3


@pytest.mark.parametrize(("start", "n", "expected"), [
    (date(2026, 3, 20), 1, date(2026, 3, 26)),  # across Nauryz and its carry-overs
    (date(2026, 3, 20), 0, date(2026, 3, 20)),
    (date(2026, 3, 21), 1, date(2026, 3, 26)),  # registered on a holiday
    (date(2025, 12, 31), 1, date(2026, 1, 5)),  # across the new year
    (date(2026, 5, 6), 3, date(2026, 5, 13)),  # 7 May, weekend, 11 May carried
    (date(2026, 5, 26), 1, date(2026, 5, 28)),  # Kurban ait
    (date(2026, 12, 1), 15, date(2026, 12, 23)),  # 16 December
])
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert c.add_working_days(CAL, start, n) == expected
    assert c.working_days_between(CAL, start, expected) == n
    assert c.working_days_between(CAL, expected, start) == -n


def test_the_arithmetic_is_consistent_on_every_day_of_three_years() -> None:
    day, last = date(2025, 1, 1), date(2027, 11, 30)
    while day <= last:
        prev = day
        for n in range(1, 23):
            got = c.add_working_days(CAL, day, n)
            assert CAL.is_working(got)
            assert c.working_days_between(CAL, day, got) == n
            # nothing working was skipped between the previous answer and this one
            between = [prev + timedelta(days=i) for i in range(1, (got - prev).days)]
            assert not any(CAL.is_working(d) for d in between), (day, n)
            prev = got
        day += timedelta(days=1)


def test_outside_the_years_loaded_is_refused() -> None:
    with pytest.raises(c.CalendarError, match="no working-day calendar for 2028"):
        c.add_working_days(CAL, date(2027, 12, 30), 5)
    with pytest.raises(c.CalendarError, match="kz-2024.toml"):
        CAL.is_working(date(2024, 6, 3))
    with pytest.raises(ValueError, match=">= 0"):
        c.add_working_days(CAL, date(2026, 1, 5), -1)


HEAD = 'year = 2026\n[holidays]\n"2026-01-01" = { ru = "Н", kk = "Ж" }\n'


@pytest.mark.parametrize(("text", "message"), [
    ("year = 1\n", "year: expected a year"),
    ("year = 2026\n", "holidays: expected a table"),
    ('year = 2026\n[holidays]\n"2026-02-30" = { ru = "a", kk = "b" }\n', "not a date"),
    ('year = 2026\n[holidays]\n"2025-01-01" = { ru = "a", kk = "b" }\n', "not in 2026"),
    ('year = 2026\n[holidays]\n"2026-01-01" = { ru = "a" }\n', "expected { ru"),
    (HEAD, "transfers.known"),
    (HEAD + '[transfers]\nknown = true\ndays_off = ["2026-01-03"]\n', "weekend day already"),
    (HEAD + '[transfers]\nknown = true\nworking = ["2026-01-05"]\n', "weekday already"),
    (HEAD + "[transfers]\nknown = true\nworking = 3\n", "expected an array"),
    ("year = [", "cannot read"),
])
def test_a_wrong_file_is_named_with_its_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "kz-2026.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(c.CalendarError, match=message) as info:
        c.load_dir(tmp_path)
    assert str(path) in str(info.value)


def test_two_files_of_one_year_and_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(c.CalendarError, match="no calendar files"):
        c.load_dir(tmp_path)
    text = (ROOT / "configs" / "calendar" / "kz-2026.toml").read_text(encoding="utf-8")
    (tmp_path / "kz-2026.toml").write_text(text, encoding="utf-8")
    (tmp_path / "kz-2026b.toml").write_text(text, encoding="utf-8")
    with pytest.raises(c.CalendarError, match="year 2026 is also in"):
        c.load_dir(tmp_path)
