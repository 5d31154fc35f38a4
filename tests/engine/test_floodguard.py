"""Flood guard: a token bucket per source address, time as an argument."""

from __future__ import annotations

from bailanys.engine.floodguard import FloodGuard


def take(guard: FloodGuard, source: str, now: float, n: int) -> list[bool]:
    return [guard.allow(source, now) for _ in range(n)]


def test_burst_up_to_capacity_then_refused() -> None:
    guard = FloodGuard(5)
    assert take(guard, "192.0.2.1", 100.0, 7) == [True] * 5 + [False] * 2
    assert guard.refused == 2


def test_refill_over_time() -> None:
    guard = FloodGuard(5)
    take(guard, "192.0.2.1", 100.0, 5)
    assert not guard.allow("192.0.2.1", 100.0)
    assert not guard.allow("192.0.2.1", 100.1)  # 0.5 token
    assert guard.allow("192.0.2.1", 100.2)  # 1 token after 0.2 s at 5/s
    assert not guard.allow("192.0.2.1", 100.2)
    # a long pause refills to capacity, not beyond
    assert take(guard, "192.0.2.1", 200.0, 6) == [True] * 5 + [False]


def test_steady_rate_at_the_limit_is_allowed() -> None:
    guard = FloodGuard(10)
    assert all(guard.allow("192.0.2.1", 100.0 + i * 0.1) for i in range(100))
    assert guard.refused == 0


def test_sources_are_independent() -> None:
    guard = FloodGuard(2)
    assert take(guard, "192.0.2.1", 100.0, 3) == [True, True, False]
    assert take(guard, "192.0.2.2", 100.0, 3) == [True, True, False]
    assert guard.refused == 2


def test_zero_rate_disables_the_guard() -> None:
    guard = FloodGuard(0)
    assert all(take(guard, "192.0.2.1", 100.0, 1000))
    assert guard.refused == 0


def test_table_is_bounded_and_forgets_the_least_recently_seen() -> None:
    guard = FloodGuard(1, max_sources=3)
    for i in range(1, 4):
        assert guard.allow(f"192.0.2.{i}", 100.0)
    assert not guard.allow("192.0.2.1", 100.0)  # .1 is now the most recent
    assert guard.allow("192.0.2.4", 100.0)  # evicts .2, the least recently seen
    assert len(guard._buckets) == 3
    assert guard.allow("192.0.2.2", 100.0)  # forgotten: a fresh bucket (evicts .3)
    assert not guard.allow("192.0.2.1", 100.0)  # still remembered, still empty
    assert len(guard._buckets) == 3


def test_many_sources_never_grow_the_table_past_its_bound() -> None:
    guard = FloodGuard(3, max_sources=100)
    for i in range(10_000):
        guard.allow(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 100.0)
    assert len(guard._buckets) == 100


def test_time_going_backwards_does_not_drain_the_bucket() -> None:
    guard = FloodGuard(5)
    take(guard, "192.0.2.1", 100.0, 3)  # 2 tokens left
    assert take(guard, "192.0.2.1", 99.0, 3) == [True, True, False]
