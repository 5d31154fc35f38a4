"""After a restart the wait estimator still knows when agents log in: the
engine replays the stored ``agent.state`` logins of the last days."""

from __future__ import annotations

import math
from datetime import datetime

from bailanys.engine.queues import replay_logins, wall_calendar
from bailanys.queue.estimator import WaitEstimator
from bailanys.store import Store
from bailanys.timezone import ALMATY

H = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def almaty(day: int, hour: float) -> float:
    """Epoch seconds of ``hour`` on 2026-11-(``day``) in Almaty."""
    return datetime(2026, 11, day, tzinfo=ALMATY).timestamp() + hour * H


async def test_stored_logins_of_the_last_days_are_habits_again() -> None:
    clock = Clock()
    store = await Store.open(":memory:", clock=clock)
    try:
        def state(at: float, agent: str, new: str, previous: str) -> None:
            clock.now = at
            store.events.append("agent.state", None, agent=agent, state=new,
                                previous=previous, reason="")

        state(almaty(1, 13), "1003", "available", "logged_out")  # weeks ago: too old
        for day in (20, 21, 22):
            state(almaty(day, 13), "1002", "available", "logged_out")
            state(almaty(day, 13.5), "1002", "ringing", "available")  # not a login
            state(almaty(day, 14), "1002", "available", "break")  # back from a break
        est = WaitEstimator(calendar=wall_calendar(ALMATY))
        count = await replay_logins(store.events, est, ALMATY, almaty(23, 12))
        assert count == 3
        today = datetime(2026, 11, 23).toordinal()
        assert est.logins.past_days(today) == [today - 3, today - 2, today - 1]
        due = est.logins.next_logins(["1002", "1003"], today, 12.5 * H, H)
        assert due[:, 0].tolist() == [0.5 * H] * 3
        assert all(math.isinf(v) for v in due[:, 1])
    finally:
        await store.close()


async def test_an_empty_log_replays_nothing() -> None:
    store = await Store.open(":memory:")
    try:
        est = WaitEstimator()
        assert await replay_logins(store.events, est, ALMATY, almaty(23, 12)) == 0
        assert est.logins.past_days(10**6) == []
    finally:
        await store.close()
