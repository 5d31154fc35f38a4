"""The intraday interval core (bailanys/intraday/buckets.py): Almaty's local
quarter-hours, counts by the event's interval, agents time-weighted and split
at interval edges and midnight."""

from __future__ import annotations

import datetime as dt

import pytest

from bailanys.intraday.buckets import (
    INTERVAL_S,
    QueueFact,
    StateChange,
    bucket_day,
    day_bounds,
    labels,
    slot_count,
    slot_of,
    split_span,
)
from bailanys.timezone import ALMATY

DAY = dt.date(2026, 12, 4)
START, END = day_bounds(DAY, ALMATY)


def at(h: int, m: int = 0, s: float = 0.0, day: dt.date = DAY) -> float:
    return dt.datetime.combine(day, dt.time(h, m), ALMATY).timestamp() + s


def test_a_day_is_96_quarter_hours_from_almaty_midnight_at_utc_plus_5() -> None:
    assert dt.datetime.fromtimestamp(START, dt.UTC) == dt.datetime(2026, 12, 3, 19, 0,
                                                                  tzinfo=dt.UTC)
    assert END - START == 86_400
    names = labels(START, END, ALMATY)
    assert len(names) == slot_count(START, END) == 96
    assert names[:3] == ["00:00", "00:15", "00:30"] and names[-1] == "23:45"


def test_the_day_almaty_moved_from_utc_plus_6_to_plus_5_has_25_hours() -> None:
    start, end = day_bounds(dt.date(2024, 2, 29), ALMATY)
    assert end - start == 25 * 3600 and slot_count(start, end) == 100


@pytest.mark.parametrize(("ts", "slot"), [
    (at(0), 0), (at(0, 14, 59.999), 0), (at(0, 15), 1), (at(10, 14, 59), 40),
    (at(10, 15), 41), (at(23, 59, 59.9), 95), (at(0) - 0.001, -1), (END, 96)])
def test_an_instant_falls_in_the_interval_that_holds_it(ts: float, slot: int) -> None:
    assert slot_of(ts, START) == slot


def test_a_span_is_split_at_each_interval_edge() -> None:
    parts = list(split_span(at(10, 10), at(10, 50), START, 96))
    assert parts == [(40, 300.0), (41, 900.0), (42, 900.0), (43, 300.0)]
    assert list(split_span(at(10, 15), at(10, 30), START, 96)) == [(41, 900.0)]
    assert list(split_span(at(10, 20), at(10, 20), START, 96)) == []


def test_a_span_across_midnight_counts_only_its_part_inside_the_day() -> None:
    late = list(split_span(at(23, 50), at(0, 20, day=DAY + dt.timedelta(days=1)), START, 96))
    assert late == [(95, 600.0)]
    nxt, _ = day_bounds(DAY + dt.timedelta(days=1), ALMATY)
    early = list(split_span(at(23, 50), nxt + 1200, nxt, 96))
    assert early == [(0, 900.0), (1, 300.0)]


def test_offered_answered_and_lost_count_in_their_own_events_interval() -> None:
    facts = [QueueFact(at(10, 14, 50), "offered", "support"),
             QueueFact(at(10, 15, 10), "answered", "support", 20.0),
             QueueFact(at(10, 16), "offered", "support"),
             QueueFact(at(10, 17), "answered", "support", 60.0),
             QueueFact(at(10, 20), "offered", "pension"),
             QueueFact(at(10, 21), "lost", "pension", 60.0)]
    day = bucket_day(START, END, facts, [])
    s40, s41 = day.slots[40], day.slots[41]
    assert (s40.offered, s40.answered, s40.lost) == (1, 0, 0)
    assert (s41.offered, s41.answered, s41.lost) == (2, 2, 1)
    assert s41.average_wait() == 40.0 and s40.average_wait() is None
    only = bucket_day(START, END, facts, [], queue="pension").slots[41]
    assert (only.offered, only.answered, only.lost) == (1, 0, 1)
    out = day.to_json()
    assert out["offered"][40:42] == [1, 2] and out["avg_wait"][41] == 40.0
    assert len(out["offered"]) == 96


def test_a_call_joined_before_midnight_and_answered_after_counts_on_both_days() -> None:
    nxt = DAY + dt.timedelta(days=1)
    facts = [QueueFact(at(23, 59, 50), "offered", "q"),
             QueueFact(at(0, 0, 10, day=nxt), "answered", "q", 20.0)]
    today = bucket_day(START, END, facts, [])
    tomorrow = bucket_day(*day_bounds(nxt, ALMATY), facts, [])
    assert (today.slots[95].offered, today.slots[95].answered) == (1, 0)
    assert (tomorrow.slots[0].offered, tomorrow.slots[0].answered) == (0, 1)
    assert sum(s.answered for s in today.slots) == 0


def test_agents_are_time_weighted_and_split_at_interval_edges() -> None:
    changes = [StateChange(at(10, 0), "a", "available"),
               StateChange(at(10, 0), "b", "available"),
               StateChange(at(10, 7, 30), "b", "on_call"),
               StateChange(at(10, 22, 30), "b", "logged_out"),
               StateChange(at(10, 7, 30), "c", "break")]
    day = bucket_day(START, END, [], changes)
    out = day.to_json()
    # 10:00: a and b and half of c logged in; a and half of b available
    assert out["agents_logged_in"][40] == 2.5 and out["agents_available"][40] == 1.5
    # 10:15: a, half of b, c; only a available
    assert out["agents_logged_in"][41] == 2.5 and out["agents_available"][41] == 1.0
    assert out["agents_logged_in"][39] == 0.0
    assert day.states == {"a": "available", "b": "logged_out", "c": "break"}
    # a queue's agents only (those with its skills)
    served = bucket_day(START, END, [], changes, initial={"d": "available"},
                        agents={"b", "c"}).to_json()
    assert served["agents_logged_in"][40] == 1.5 and served["agents_available"][40] == 0.5
    assert served["agents_logged_in"][0] == 0.0


def test_an_agent_logged_in_at_midnight_counts_from_the_first_interval() -> None:
    day = bucket_day(START, END, [], [StateChange(at(0, 7, 30), "a", "logged_out")],
                     initial={"a": "available"})
    out = day.to_json()
    assert out["agents_logged_in"][0] == 0.5 and out["agents_available"][0] == 0.5
    assert out["agents_logged_in"][1] == 0.0


def test_today_counts_up_to_now_and_the_running_interval_by_its_elapsed_seconds() -> None:
    now = at(10, 20)
    facts = [QueueFact(at(10, 16), "offered", "q"), QueueFact(at(10, 25), "offered", "q")]
    day = bucket_day(START, END, facts, [StateChange(at(10, 10), "a", "available")],
                     until=now)
    out = day.to_json()
    assert out["offered"][41] == 1  # the one at 10:25 has not happened
    assert out["offered"][42] is None and out["agents_logged_in"][42] is None
    assert out["agents_logged_in"][41] == 1.0  # 300 s of the 300 s elapsed
    assert out["agents_logged_in"][40] == round(300 / INTERVAL_S, 2)
    assert day.elapsed[41] == 300.0 and day.elapsed[40] == 900.0
