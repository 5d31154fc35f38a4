"""The intraday CSV exports (bailanys/intraday/csvout.py): BOM, Excel's
separator and decimal sign per language, headers in that language, cells
guarded, whole numbers, and never a caller's number in the agents' file."""

from __future__ import annotations

import csv
import io

from bailanys.intraday.agentday import fold_agent
from bailanys.intraday.buckets import QueueFact, StateChange, bucket_day, day_bounds
from bailanys.intraday.csvout import AGENT_HEADERS, INTERVAL_HEADERS, agents_csv, intervals_csv
from bailanys.timezone import ALMATY
from tests.intraday.helpers import DAY, answered_call, as_events, at, state


def rows(data: bytes, sep: str) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8")[1:]), delimiter=sep))


def test_intervals_in_each_language_with_its_separator_and_decimal_sign() -> None:
    start, end = day_bounds(DAY, ALMATY)
    facts = [QueueFact(at(10, 1), "offered", "q"), QueueFact(at(10, 2), "answered", "q", 12.5),
             QueueFact(at(10, 3), "offered", "q"), QueueFact(at(10, 4), "lost", "q", 40.0)]
    series = [(DAY, bucket_day(start, end, facts, [StateChange(at(10, 0), "a", "available")],
                               until=at(10, 30)))]
    ru = rows(intervals_csv(series, None, ALMATY, "ru"), ";")
    assert ru[0] == list(INTERVAL_HEADERS["ru"])
    assert len(ru) == 1 + 42  # 00:00 .. 10:15, the running interval included
    assert ru[41] == ["2026-12-04", "10:00", "Все очереди", "2", "1", "1", "12,5", "1,00",
                      "1,00"]
    assert ru[1][3:7] == ["0", "0", "0", ""]
    en = rows(intervals_csv(series, "q", ALMATY, "en"), ",")
    assert en[0][0] == "Date" and en[41][2:7] == ["q", "2", "1", "1", "12.5"]
    kk = rows(intervals_csv(series, None, ALMATY, "kk"), ";")
    assert kk[0][3] == "Түскен" and kk[41][2] == "Барлық кезек"


def test_agent_statistics_have_no_phone_numbers_and_guard_formulas() -> None:
    events = as_events(sorted(
        [(at(9), state("1001", "available", "logged_out"))]
        + answered_call("c1", "1001", at(9, 5), 20.0, 100.0, 20.0, caller="77011234567"),
        key=lambda p: p[0]))
    period = fold_agent("1001", events, at(0), at(10))
    data = agents_csv([period], {"1001": "=Айгерим"}, DAY, DAY, None, "ru")
    assert b"4567" not in data
    table = rows(data, ";")
    assert table[0] == list(AGENT_HEADERS["ru"])
    assert table[1][:7] == ["1001", "'=Айгерим", "2026-12-04", "2026-12-04", "Все очереди",
                            "1", "1"]
    assert table[1][7:12] == ["100,0", "0,0", "20,0", "120,0",
                              f"{100 * 121 / 3600:.1f}".replace(".", ",")]
