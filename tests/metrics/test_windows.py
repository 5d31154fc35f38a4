"""``bailanys.metrics.windows``: Almaty intervals and days, roll-over, and the
live windows against recomputation from the stored events."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest

from bailanys.metrics.fold import KpiConfig
from bailanys.metrics.snapshot import KpiSnapshot
from bailanys.metrics.windows import (
    KpiWindows,
    day_start,
    interval_start,
    next_day_start,
    recompute,
)
from bailanys.store.events import Event
from bailanys.timezone import ALMATY
from tests.metrics.mhelpers import T0, Log
from tests.metrics.sim import simulate


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
          second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=ALMATY).timestamp()


def feed(windows: KpiWindows, events: list[Event]) -> list[KpiSnapshot]:
    """Apply every event; the previous-interval snapshots in the order they closed."""
    closed: list[KpiSnapshot] = []
    for event in events:
        before = windows.previous_interval
        windows.apply(event)
        if windows.previous_interval is not before and windows.previous_interval is not None:
            closed.append(windows.previous_interval)
    return closed


def same(a: KpiSnapshot | None, b: KpiSnapshot) -> bool:
    assert a is not None
    return a.to_json() == b.to_json()


# --- the calendar -----------------------------------------------------------------------


def test_intervals_follow_the_almaty_wall_clock() -> None:
    assert interval_start(T0) == T0  # 10:00
    assert interval_start(T0 + 899.999) == T0
    assert interval_start(T0 + 900) == T0 + 900
    assert interval_start(local(2025, 3, 3, 10, 44, 59)) == local(2025, 3, 3, 10, 30)
    # Almaty was UTC+6 before March 2024: still the local quarter hour
    assert interval_start(local(2023, 6, 1, 9, 7)) == local(2023, 6, 1, 9, 0)
    assert day_start(T0) == local(2025, 3, 3) == T0 - 10 * 3600
    assert next_day_start(T0) == local(2025, 3, 4)
    assert day_start(local(2023, 6, 1, 0, 30)) == local(2023, 6, 1)


def test_interval_must_divide_the_day() -> None:
    with pytest.raises(ValueError):
        KpiWindows(interval_s=7 * 60 + 1)


# --- roll-over -------------------------------------------------------------------------


def test_interval_rolls_over_and_keeps_the_previous() -> None:
    log = Log()
    log.login(0, "a1")
    log.abandoned(60, "c1", wait=30)  # 10:01
    log.abandoned(1000, "c2", wait=30)  # 10:16
    windows = KpiWindows()
    feed(windows, log.events)
    assert windows.interval == (T0 + 900, T0 + 1800)
    prev = windows.previous_interval
    assert prev is not None and (prev.start, prev.now) == (T0, T0 + 900)
    assert prev.total.counts.abandoned == 1
    now = T0 + 1100
    current = windows.snapshot("interval", now)
    today = windows.snapshot("today", now)
    live = windows.snapshot("live", now)
    assert current is not None and today is not None and live is not None
    assert current.total.counts.abandoned == 1 and current.start == T0 + 900
    assert today.total.counts.abandoned == 2 and today.start == T0 - 10 * 3600
    assert live.total.counts.abandoned == 2 and live.start == T0
    # the agent logged in at 10:00: staffed the whole previous interval, 200 s of this one
    assert prev.agents[0].staffed == 900.0 and current.agents[0].staffed == 200.0


def test_call_crossing_the_interval_edge() -> None:
    log = Log()
    log.login(0, "a1")
    # joins 10:14:50 (T0 + 890), answered 10:15:10 (T0 + 910), "passport" at 10:16:12
    log.answered(885, "c1", lang="ru", wait=20, talk=60, agent="a1", resolved=True,
                 topic="passport")
    windows = KpiWindows()
    feed(windows, log.events)
    prev = windows.previous_interval
    current = windows.snapshot("interval", T0 + 1200)
    assert prev is not None and current is not None
    # before the edge: offered, waiting 10 s at 10:15, topic still the queue's name
    assert prev.total.counts.offered == 1 and prev.total.counts.answered == 0
    assert (prev.waiting, prev.longest_wait) == (1, 10.0)
    assert prev.scope("topic", "egov") is not None and prev.scope("topic", "passport") is None
    # after: answered with its whole wait, in the language and topic it had
    ru = current.scope("language", "ru")
    passport = current.scope("topic", "passport")
    assert ru is not None and ru.counts.answered == 1 and ru.counts.wait_total == 20.0
    assert passport is not None and passport.counts.fcr == 1 and passport.counts.offered == 0
    assert current.scope("topic", "egov") is None
    # the whole day has it all under "passport"
    today = windows.snapshot("today", T0 + 1200)
    assert today is not None and today.scope("topic", "egov") is None
    topic = today.scope("topic", "passport")
    assert topic is not None and topic.counts.offered == topic.counts.answered == 1


def test_quiet_intervals_are_skipped_to_the_one_just_before() -> None:
    log = Log()
    log.login(0, "a1")
    log.abandoned(300, "c1", wait=30)  # 10:05
    log.abandoned(3000, "c2", wait=30)  # 10:50
    windows = KpiWindows()
    feed(windows, log.events)
    prev = windows.previous_interval
    assert prev is not None and (prev.start, prev.now) == (T0 + 1800, T0 + 2700)
    assert prev.total.counts.is_empty()
    assert prev.agents[0].staffed == 900.0  # logged in all along, no event needed
    assert same(prev, recompute(log.events, T0 + 1800, T0 + 2700))


def test_advance_rolls_over_without_events() -> None:
    log = Log()
    log.abandoned(0, "c1", wait=30)
    windows = KpiWindows()
    feed(windows, log.events)
    snaps = windows.snapshots(T0 + 960)
    assert set(snaps) == {"live", "interval", "today", "previous_interval"}
    assert snaps["previous_interval"].total.counts.abandoned == 1
    assert snaps["interval"].total.counts.abandoned == 0
    with pytest.raises(KeyError):
        windows.snapshot("yesterday", T0)


def test_day_rolls_over_at_almaty_midnight() -> None:
    start = local(2025, 3, 3, 23, 50)
    log = Log(start)
    log.abandoned(0, "c1", wait=30)
    log.abandoned(1200, "c2", wait=30)  # 00:10 on the 4th
    windows = KpiWindows()
    feed(windows, log.events)
    day = windows.previous_day
    assert day is not None and (day.start, day.now) == (local(2025, 3, 3), local(2025, 3, 4))
    assert day.total.counts.abandoned == 1
    today = windows.snapshot("today", start + 1300)
    assert today is not None and today.total.counts.abandoned == 1
    assert windows.day == (local(2025, 3, 4), local(2025, 3, 5))


# --- recompute ----------------------------------------------------------------------------


def test_recompute_with_only_the_period_loses_earlier_context() -> None:
    log = Log()
    log.login(0, "a1")
    log.answered(885, "c1", lang="kk", wait=20, talk=60, agent="a1")
    full = recompute(log.events, T0 + 900, T0 + 1800)
    period = recompute([e for e in log.events if e.ts >= T0 + 900], T0 + 900, T0 + 1800)
    assert full.scope("language", "kk") is not None
    assert period.scope("language", "kk") is None
    assert period.scope("language", "unknown") is not None
    assert full.total.counts == period.total.counts
    with pytest.raises(ValueError):
        recompute(log.events, T0, T0 - 1)


@pytest.mark.parametrize(
    ("seed", "start"),
    [
        (1, T0 - 600),
        (2, T0 + 433.25),
        (3, local(2025, 3, 3, 23, 20)),  # across midnight
        (4, T0 + 3 * 3600),
        (5, local(2024, 2, 29, 23, 40)),  # the night Almaty moved from UTC+6 to UTC+5
    ],
)
def test_live_windows_equal_recomputation(seed: int, start: float) -> None:
    events = simulate(seed, start, calls=120, agents=5, minutes=75)
    windows = KpiWindows()
    closed = feed(windows, events)
    assert len(closed) >= 4
    for snap in closed:  # every closed interval, as recomputed from the stored events
        assert snap.start is not None
        assert same(snap, recompute(events, snap.start, snap.now))
    now = events[-1].ts + 1.0
    snaps = windows.snapshots(now)
    assert same(snaps["live"], recompute(events, events[0].ts, now))
    for name in ("interval", "today"):
        assert snaps[name].start is not None
        assert same(snaps[name], recompute(events, snaps[name].start, now))  # type: ignore[arg-type]
    if "previous_day" in snaps:
        day = snaps["previous_day"]
        assert day.start is not None and same(day, recompute(events, day.start, day.now))
    total = snaps["live"].total.counts
    assert total.answered and total.abandoned and total.dispositions and total.surveys
    assert total.dropped and total.requests and total.repeats


def test_the_other_readings_are_incremental_too() -> None:
    """The options (FCR per call, KPI 1 of every caller) fold live exactly as
    a recomputation does, and differ from the defaults on the same calls."""
    events = simulate(7, T0, calls=120, agents=5, minutes=75)
    options = KpiConfig(fcr_per_call=True, wait_of_all=True)
    windows = KpiWindows(options)
    for snap in feed(windows, events):
        assert snap.start is not None
        assert same(snap, recompute(events, snap.start, snap.now, options))
    now = events[-1].ts + 1.0
    live = windows.snapshots(now)["live"]
    assert same(live, recompute(events, events[0].ts, now, options))
    default = recompute(events, events[0].ts, now).total
    assert live.total.counts.requests == live.total.counts.dispositions
    assert default.counts.requests < live.total.counts.requests
    assert default.kpi("wait_s").value != live.total.kpi("wait_s").value


def test_restart_replays_to_the_same_state() -> None:
    """The engine's restart: the old fold saw events[:k]; a fresh one is fed
    every stored event; both must equal a fold that never stopped."""
    events = simulate(11, T0, calls=100, agents=4, minutes=60)
    rng = random.Random(11)
    never_stopped = KpiWindows()
    for event in events:
        if rng.random() < 0.05:  # the console polls at odd times in between
            never_stopped.snapshots(event.ts - rng.uniform(0, 30))
        never_stopped.apply(event)
    k = len(events) // 2
    before = KpiWindows()
    feed(before, events[:k])
    restarted = KpiWindows()
    feed(restarted, events)
    now = events[-1].ts + 5
    a: dict[str, Any] = {n: s.to_json() for n, s in never_stopped.snapshots(now).items()}
    b: dict[str, Any] = {n: s.to_json() for n, s in restarted.snapshots(now).items()}
    assert a == b
    assert before.fold.applied == k and restarted.fold.applied == len(events)


def test_advance_between_roll_overs_matches_the_full_computation() -> None:
    """The fast path (issue 20: no date arithmetic while ``now`` stays inside the
    current interval and day) leaves the windows where the full computation
    puts them: random times over three days, forwards with some steps back."""
    rng = random.Random(20)
    w = KpiWindows()
    now = local(2026, 7, 1, 22, 50)
    latest = now
    for _ in range(3000):
        now += rng.choice([0.001, 0.5, 7.0, 61.0, 299.0]) * (-1 if rng.random() < 0.05 else 1)
        latest = max(latest, now)
        w.advance(now)
        start = interval_start(latest)
        assert w.interval == (start, start + 900)
        assert w.day == (day_start(latest), next_day_start(latest))


@pytest.mark.parametrize("seed", [3, 20])
def test_counts_alone_equal_a_snapshots_counts(seed: int) -> None:
    """``KpiFold.counts`` (issue 20: the contacts projector's per-call fold) is
    what a snapshot holds for the scope, at every step of a simulated hour."""
    from bailanys.metrics.fold import KpiFold

    fold = KpiFold()
    for i, event in enumerate(simulate(seed, T0, calls=60, agents=3, minutes=40)):
        fold.apply(event)
        if i % 7 == 0:
            snap = fold.snapshot(event.ts)
            assert fold.counts() == snap.total.counts
            for scope in snap.scopes:
                assert fold.counts(scope=scope.scope) == scope.counts
