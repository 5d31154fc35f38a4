"""Agents' login habits and the wait estimate's use of them: a shift that
starts in five minutes shortens the wait announced now."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bailanys.queue.agents import AgentState
from bailanys.queue.estimator import AgentView, QueueView, WaitEstimator, WaitEstimatorConfig
from bailanys.queue.logins import DAYS, PER_DAY, LoginHabits

Q = "1414-ru"
S = AgentState
DAY = 86_400.0
H = 3600.0


def test_next_login_is_the_first_after_now_on_each_past_day() -> None:
    habits = LoginHabits()
    for day in (1, 2, 3):
        habits.record("1001", day, 9 * H)
        if day == 2:
            habits.record("1002", day, 13 * H)  # came once in three days
        habits.record("1001", day, 14 * H)  # back after a lunch logout
    habits.record("1003", 4, 13 * H)  # today only: not a habit yet
    got = habits.next_logins(["1001", "1002", "1003", "9999"], 4, 12.5 * H, 4 * H)
    assert got.shape == (3, 4)  # days 1, 2, 3 x the users asked about
    assert got[:, 0].tolist() == [1.5 * H] * 3
    assert got[:, 1].tolist() == [math.inf, 0.5 * H, math.inf]
    assert np.isinf(got[:, 2:]).all()
    # Past every usual login, or beyond the horizon: not expected.
    assert np.isinf(habits.next_logins(["1001"], 4, 15 * H, 4 * H)).all()
    assert np.isinf(habits.next_logins(["1001"], 4, 8 * H, 0.5 * H)).all()


def test_no_past_day_no_rows() -> None:
    habits = LoginHabits()
    assert habits.next_logins(["1001"], 1, 0.0, H).shape == (0, 1)
    habits.record("1001", 1, 9 * H)
    assert habits.next_logins(["1001"], 1, 0.0, H).shape == (0, 1)  # today is not the past
    assert habits.next_logins(["1001"], 2, 8.5 * H, H).tolist() == [[0.5 * H]]


def test_memory_is_bounded_and_old_days_are_forgotten() -> None:
    habits = LoginHabits()
    for day in range(1, 3 * DAYS):
        for k in range(5 * PER_DAY):  # a phone re-registering all day
            habits.record("1001", day, float(k))
    assert len(habits.past_days(10_000)) == DAYS
    assert habits.next_logins(["1001"], 10_000, -1.0, DAY).shape == (DAYS, 1)
    assert max(len(v) for v in habits._logins["1001"].values()) == PER_DAY
    assert min(habits._logins["1001"]) == 2 * DAYS  # days before the window dropped


def test_a_clock_that_goes_back_or_a_bad_time_loses_nothing() -> None:
    habits = LoginHabits()
    habits.record("1001", 5, 9 * H)
    habits.record("1001", 4, 9 * H)  # ignored, not a crash
    assert habits.past_days(6) == [5]
    with pytest.raises(ValueError):
        habits.record("1001", 5, -1.0)
    with pytest.raises(ValueError):
        LoginHabits(days=0)
    assert habits.next_logins(["1001"], 6, 8 * H, H).tolist() == [[H]]


def test_a_late_record_for_a_past_day_is_seen() -> None:
    habits = LoginHabits()
    habits.record("1001", 1, 9 * H)
    habits.record("1002", 2, 9 * H)
    assert habits.next_logins(["1003"], 3, 8 * H, H).tolist() == [[math.inf], [math.inf]]
    habits.record("1003", 2, 8.5 * H)  # e.g. replayed from the event log
    assert habits.next_logins(["1003"], 3, 8 * H, H).tolist() == [[math.inf], [0.5 * H]]


# -- the estimate ---------------------------------------------------------------------


def calendar(now: float) -> tuple[int, float]:
    return int(now // DAY), now % DAY


def trained(days: int = 3) -> WaitEstimator:
    """An estimator that saw ``days`` days on which 1002 logged in at 13:00."""
    est = WaitEstimator(WaitEstimatorConfig(draws=64), calendar=calendar)
    for i in range(40):
        est.on_complete(Q, f"c{i}", 1000.0, 0.0, float(i))
    for day in range(days):
        est.on_login("1001", day * DAY + 9 * H)
        est.on_login("1002", day * DAY + 13 * H)
    return est


def busy_and_away(now: float) -> QueueView:
    # 1001 is 100 s into a 1000 s call; 1002 is logged out.
    return QueueView(1, (30.0,), (
        AgentView(S.ON_CALL, 100.0, user="1001"), AgentView(S.LOGGED_OUT, user="1002")))


def test_an_agent_due_to_log_in_shortens_the_wait() -> None:
    est = trained()
    today = 3 * DAY
    # 12:55: 1002 comes at 13:00, before 1001 is free (900 s left).
    assert est.estimate(Q, busy_and_away(today + 13 * H - 300), today + 13 * H - 300) == 300.0
    # 14:00: 1002 did not come today; only 1001's call counts.
    assert est.estimate(Q, busy_and_away(today + 14 * H), today + 14 * H) == 900.0
    # No calendar: logins are not learnt.
    plain = WaitEstimator(WaitEstimatorConfig(draws=64))
    for i in range(40):
        plain.on_complete(Q, f"c{i}", 1000.0, 0.0, float(i))
    plain.on_login("1002", 13 * H)
    assert plain.estimate(Q, busy_and_away(DAY + 12 * H), DAY + 12 * H) == 900.0


def test_an_agent_who_comes_one_day_in_four_is_counted_one_future_in_four() -> None:
    est = WaitEstimator(WaitEstimatorConfig(draws=400), calendar=calendar)
    for i in range(40):
        est.on_complete(Q, f"c{i}", 1000.0, 0.0, float(i))
    for day in range(4):
        est.on_login("1001", day * DAY + 9 * H)
    est.on_login("1002", 2 * DAY + 13 * H)
    now = 4 * DAY + 13 * H - 300
    # 1002 arrives in 300 s in a quarter of the futures: the median stays 900 s.
    assert est.estimate(Q, busy_and_away(now), now) == 900.0
    assert est.estimate(Q, busy_and_away(now), now) == 900.0


def test_only_logged_out_agents_are_expected_and_not_counted_as_staffed() -> None:
    view = busy_and_away(0.0)
    assert view.staffed == 1 and view.available == 0
    est = trained()
    # Nobody logged in, the shift due in 10 minutes: that is the wait.
    due = QueueView(1, (), (AgentView(S.LOGGED_OUT, user="1002"),))
    now = 3 * DAY + 13 * H - 600
    assert est.estimate(Q, due, now) == 600.0
    # Nobody logged in and nobody due: the "long time" answer.
    assert est.estimate(Q, due, 3 * DAY + 20 * H) == WaitEstimatorConfig().no_agent_wait_s
