"""The engine's wall clock for the wait estimator: monotonic ``now`` to the
local day and time of day in the centre's time zone."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from bailanys.engine.queues import wall_calendar
from bailanys.timezone import ALMATY


def test_now_is_today_in_almaty() -> None:
    day, second = wall_calendar(ALMATY)(time.monotonic())
    local = datetime.now(ALMATY)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    assert day == local.toordinal()
    assert second == pytest.approx((local - midnight).total_seconds(), abs=5.0)


def test_a_monotonic_time_earlier_by_a_day_is_yesterday() -> None:
    utc5 = timezone(timedelta(hours=5))
    at = wall_calendar(utc5)
    now = time.monotonic()
    today, second = at(now)
    yesterday, second_then = at(now - 86_400.0)
    assert yesterday == today - 1
    assert second_then == pytest.approx(second, abs=1.0)
    assert 0.0 <= second < 86_400.0
