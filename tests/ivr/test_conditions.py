"""Branch conditions (bailanys.ivr.conditions): time of day, weekdays, variables, queues."""

from __future__ import annotations

from datetime import datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

import pytest

from bailanys.ivr.conditions import holds, in_time_range
from bailanys.ivr.model import Condition
from bailanys.queuestate import QueueState

ALMATY = ZoneInfo("Asia/Almaty")
WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=ALMATY)
SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=ALMATY)


def t(text: str) -> dtime:
    h, m = text.split(":")
    return dtime(int(h), int(m))


@pytest.mark.parametrize(("now", "start", "end", "inside"), [
    # a day range: [09:00, 21:00)
    ("08:59", "09:00", "21:00", False),
    ("09:00", "09:00", "21:00", True),
    ("12:00", "09:00", "21:00", True),
    ("20:59", "09:00", "21:00", True),
    ("21:00", "09:00", "21:00", False),
    ("00:00", "09:00", "21:00", False),
    # the night: [21:00, 09:00) wraps past midnight
    ("20:59", "21:00", "09:00", False),
    ("21:00", "21:00", "09:00", True),
    ("23:59", "21:00", "09:00", True),
    ("00:00", "21:00", "09:00", True),
    ("03:00", "21:00", "09:00", True),
    ("08:59", "21:00", "09:00", True),
    ("09:00", "21:00", "09:00", False),
    ("12:00", "21:00", "09:00", False),
    # to midnight ("18:00-24:00" is loaded as end 00:00)
    ("17:59", "18:00", "00:00", False),
    ("18:00", "18:00", "00:00", True),
    ("23:59", "18:00", "00:00", True),
    ("00:00", "18:00", "00:00", False),
    # from midnight
    ("00:00", "00:00", "06:00", True),
    ("05:59", "00:00", "06:00", True),
    ("06:00", "00:00", "06:00", False),
    ("23:59", "00:00", "06:00", False),
])
def test_in_time_range(now: str, start: str, end: str, inside: bool) -> None:
    assert in_time_range(t(now), t(start), t(end)) is inside


def test_in_time_range_with_seconds() -> None:
    assert in_time_range(dtime(20, 59, 59, 999999), t("09:00"), t("21:00"))
    assert not in_time_range(dtime(8, 59, 59), t("09:00"), t("21:00"))


def no_queues(name: str) -> QueueState | None:
    return None


def check(cond: Condition, *, at: datetime = WEDNESDAY, variables: dict[str, str] | None = None,
          language: str | None = None,
          queues: dict[str, QueueState] | None = None) -> bool:
    states = queues or {}
    return holds(cond, at, variables or {}, language, states.get)


def test_empty_condition_holds() -> None:
    assert check(Condition())


def test_time_uses_the_local_time_given() -> None:
    night = Condition(time=(t("21:00"), t("09:00")))
    assert not check(night, at=WEDNESDAY)
    assert check(night, at=WEDNESDAY.replace(hour=22))


@pytest.mark.parametrize(("at", "weekdays", "expected"), [
    (WEDNESDAY, {0, 1, 2, 3, 4}, True),
    (SATURDAY, {0, 1, 2, 3, 4}, False),
    (SATURDAY, {5}, True),
    (SATURDAY, set(), False),
])
def test_weekdays(at: datetime, weekdays: set[int], expected: bool) -> None:
    assert check(Condition(weekdays=frozenset(weekdays)), at=at) is expected


def test_time_and_weekday_together() -> None:
    saturday_morning = Condition(time=(t("09:00"), t("13:00")), weekdays=frozenset({5}))
    assert check(saturday_morning, at=SATURDAY)
    assert not check(saturday_morning, at=SATURDAY.replace(hour=14))
    assert not check(saturday_morning, at=WEDNESDAY)


@pytest.mark.parametrize(("cond", "variables", "expected"), [
    (Condition(var="choice", equals="1"), {"choice": "1"}, True),
    (Condition(var="choice", equals="1"), {"choice": "2"}, False),
    (Condition(var="choice", equals="1"), {}, False),
    (Condition(var="choice", equals="1"), {"other": "1"}, False),
    (Condition(var="choice", one_of=frozenset({"2", "3"})), {"choice": "3"}, True),
    (Condition(var="choice", one_of=frozenset({"2", "3"})), {"choice": "4"}, False),
    (Condition(var="choice", one_of=frozenset()), {"choice": "4"}, False),
    (Condition(var="choice", equals="2", one_of=frozenset({"2", "3"})), {"choice": "2"}, True),
    (Condition(var="choice", equals="3", one_of=frozenset({"2"})), {"choice": "3"}, False),
])
def test_var(cond: Condition, variables: dict[str, str], expected: bool) -> None:
    assert check(cond, variables=variables) is expected


@pytest.mark.parametrize(("language", "expected"), [("kk", True), ("ru", False), (None, False)])
def test_language(language: str | None, expected: bool) -> None:
    assert check(Condition(language="kk"), language=language) is expected


FREE = QueueState(agents_available=1, waiting=0)
BUSY = QueueState(agents_available=0, waiting=7)


@pytest.mark.parametrize(("cond", "state", "expected"), [
    (Condition(queue="q", agents_available=True), FREE, True),
    (Condition(queue="q", agents_available=True), BUSY, False),
    (Condition(queue="q", agents_available=False), BUSY, True),
    (Condition(queue="q", agents_available=False), FREE, False),
    (Condition(queue="q", waiting_at_most=7), BUSY, True),
    (Condition(queue="q", waiting_at_most=6), BUSY, False),
    (Condition(queue="q", waiting_at_most=0), FREE, True),
    (Condition(queue="q", agents_available=False, waiting_at_most=10), BUSY, True),
    (Condition(queue="q", agents_available=True, waiting_at_most=10), BUSY, False),
])
def test_queue(cond: Condition, state: QueueState, expected: bool) -> None:
    assert check(cond, queues={"q": state}) is expected


@pytest.mark.parametrize("cond", [
    Condition(queue="q", agents_available=True),
    Condition(queue="q", agents_available=False),
    Condition(queue="q", waiting_at_most=100),
])
def test_queue_parts_do_not_hold_without_a_state(cond: Condition) -> None:
    """No queue manager (or an unknown queue): the branch takes its default."""
    assert not holds(cond, WEDNESDAY, {}, None, no_queues)
    assert not check(cond, queues={"other": FREE})


def test_every_part_must_hold() -> None:
    cond = Condition(time=(t("09:00"), t("21:00")), weekdays=frozenset({2}), var="v",
                     equals="1", language="ru", queue="q", agents_available=True)
    good = {"at": WEDNESDAY, "variables": {"v": "1"}, "language": "ru", "queues": {"q": FREE}}
    assert check(cond, **good)  # type: ignore[arg-type]
    for part, bad in [("at", WEDNESDAY.replace(hour=22)), ("at", SATURDAY),
                      ("variables", {"v": "2"}), ("language", "kk"), ("queues", {"q": BUSY})]:
        assert not check(cond, **{**good, part: bad}), part  # type: ignore[arg-type]
