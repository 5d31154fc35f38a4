"""The pure lease machine (``bailanys/ownership/lease.py``).

The table's rows one by one, then a simulation driven by hypothesis:
several engines, each with its own clock offset, run the machine against a
model of the take-or-renew statement (the row decides by the database's
clock), with random latencies, lost requests, lost answers, pauses and a
killed owner. At every instant at most one engine may believe it owns
the group; epochs never go back; a dead owner's group is taken over
within ``ttl + ttl/3`` plus the latencies. The real statement on a real
PostgreSQL is ``tests/ownership/test_pglease.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bailanys.ownership.lease import (
    Attempt,
    Lease,
    LeaseState,
    LeaseTiming,
    Output,
    Release,
    StartOwning,
    StopOwning,
    StopReason,
)

TIMING = LeaseTiming(ttl_s=6.0, margin_s=0.5)


def attempt(out: list[Output]) -> float:
    sends = [o for o in out if isinstance(o, Attempt)]
    assert len(sends) == 1, out
    return sends[0].sent


def test_the_first_tick_tries_and_an_epoch_makes_an_owner() -> None:
    lease = Lease("egov", TIMING)
    assert lease.wakeup() == float("-inf")
    sent = attempt(lease.tick(100.0))
    assert lease.tick(100.1) == []  # one request in flight at a time
    assert lease.answered(sent, 1, 100.2) == [StartOwning(1, resumed=False)]
    assert lease.owns(100.2) and lease.state is LeaseState.OWNER
    assert lease.deadline == pytest.approx(100.0 + 6.0 - 0.5)  # from when it was sent
    assert lease.wakeup() == pytest.approx(102.0)  # the next renewal: ttl/3 after sending


def test_renewals_move_the_deadline_and_an_unanswered_owner_expires() -> None:
    lease = Lease("egov", TIMING)
    lease.answered(attempt(lease.tick(0.0)), 4, 0.1)
    assert lease.tick(1.9) == []
    sent = attempt(lease.tick(2.0))
    assert lease.answered(sent, 4, 2.05) == []  # a renewal: nothing to do
    assert lease.deadline == pytest.approx(7.5)
    sent = attempt(lease.tick(4.0))  # this one never comes back
    assert lease.owns(7.49) and not lease.owns(7.5)
    assert lease.tick(7.5) == [StopOwning(4, StopReason.EXPIRED)]
    assert lease.state is LeaseState.FOLLOWER
    # its answer after all, too late to act on: retried at once, then resumed
    assert lease.answered(sent, 4, 9.6) == []
    sent = attempt(lease.tick(9.6))
    assert lease.answered(sent, 4, 9.7) == [StartOwning(4, resumed=True)]


def test_taken_by_another_and_replaced_epochs() -> None:
    lease = Lease("egov", TIMING)
    lease.answered(attempt(lease.tick(0.0)), 1, 0.0)
    assert lease.answered(attempt(lease.tick(2.0)), None, 2.0) == [
        StopOwning(1, StopReason.TAKEN)]
    assert lease.answered(attempt(lease.tick(4.0)), None, 4.0) == []  # still held by another
    assert lease.answered(attempt(lease.tick(6.0)), 3, 6.0) == [StartOwning(3)]
    assert lease.answered(attempt(lease.tick(8.0)), 5, 8.0) == [
        StopOwning(3, StopReason.REPLACED), StartOwning(5)]
    # an epoch lower than one seen is stale: ignored, we stay the owner of 5
    assert lease.answered(attempt(lease.tick(10.0)), 2, 10.0) == []
    assert lease.owner and lease.epoch == 5


def test_stale_answers_and_failures() -> None:
    lease = Lease("egov", TIMING)
    sent = attempt(lease.tick(0.0))
    assert lease.answered(sent + 1, 1, 0.1) == []  # not the request in flight
    assert lease.failed(sent + 1, 0.1) == []
    assert lease.failed(sent, 0.2) == []
    assert lease.tick(0.5) == []  # waits retry_s (renew/2 = 1 s) after a failure
    sent = attempt(lease.tick(1.2))
    assert lease.answered(sent, 1, 1.3) == [StartOwning(1)]
    sent = attempt(lease.tick(3.2))
    # a failure after the deadline stops the owner (no tick came in between)
    assert lease.failed(sent, 6.8) == [StopOwning(1, StopReason.EXPIRED)]


def test_release_stops_for_good() -> None:
    lease = Lease("egov", TIMING)
    lease.answered(attempt(lease.tick(0.0)), 2, 0.0)
    assert lease.release() == [StopOwning(2, StopReason.RELEASED), Release(2)]
    assert lease.state is LeaseState.STOPPED and lease.wakeup() is None
    assert lease.tick(10.0) == [] and lease.answered(0.0, 2, 10.0) == []
    follower = Lease("egov", TIMING)
    assert follower.release() == []


def test_timing_is_checked() -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        LeaseTiming(ttl_s=0)
    with pytest.raises(ValueError, match="margin_s"):
        LeaseTiming(ttl_s=3, margin_s=1.0)
    with pytest.raises(ValueError, match="retry_s"):
        LeaseTiming(retry_s=0)


# --- the simulation ------------------------------------------------------------


@dataclass
class Row:
    owner: str
    epoch: int
    expires: float


@dataclass
class Request:
    engine: str
    sent: float  # the engine's clock
    executes: float | None  # true time at the database; None: lost on the way
    returns: float | None  # true time back at the engine; None: answer lost
    epoch: int | None = None
    done: bool = False


@dataclass
class Engine:
    name: str
    offset: float  # its monotonic clock = true time + offset
    lease: Lease
    paused: list[tuple[float, float]] = field(default_factory=list)
    killed_at: float | None = None

    def up(self, t: float) -> bool:
        return (self.killed_at is None or t < self.killed_at) and not any(
            a <= t < b for a, b in self.paused)


def take(row: Row | None, me: str, t: float, ttl: float) -> tuple[Row | None, int | None]:
    """The statement of pglease.py, by the database's clock ``t``."""
    if row is None:
        return Row(me, 1, t + ttl), 1
    if row.expires < t or row.owner == me:
        epoch = row.epoch if row.owner == me else row.epoch + 1
        return Row(me, epoch, t + ttl), epoch
    return row, None


STEP = 0.05
LATENCY = st.floats(0.0, 1.2)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), engines=st.integers(2, 3), kill=st.booleans())
def test_one_owner_at_a_time_epochs_grow_and_a_dead_owner_is_replaced(
    data: st.DataObject, engines: int, kill: bool
) -> None:
    ttl = TIMING.ttl_s
    end = 40.0
    calm = 20.0  # after this: no loss, no pause, short latencies (liveness is checked there)
    pool = [Engine(f"e{i}", data.draw(st.floats(-1e4, 1e4), label="offset"),
                   Lease("egov", TIMING)) for i in range(engines)]
    for engine in pool:
        for _ in range(data.draw(st.integers(0, 2), label="pauses")):
            start = data.draw(st.floats(0, calm - 1), label="pause")
            length = data.draw(st.floats(0.1, 9.0), label="length")
            engine.paused.append((start, min(calm, start + length)))
    row: Row | None = None
    requests: list[Request] = []
    starts: list[tuple[float, str, int]] = []
    last_exec: dict[str, float] = {}
    victim: Engine | None = None
    t = 0.0
    while t < end:
        if kill and victim is None and t >= calm:
            victim = next((e for e in pool if e.lease.owns(t + e.offset)), None)
            if victim is not None:
                victim.killed_at = t
        for req in sorted(requests, key=lambda r: r.executes or 0.0):
            if not req.done and req.executes is not None and req.executes <= t:
                req.done = True
                row, req.epoch = take(row, req.engine, req.executes, ttl)
                if req.epoch is not None:
                    last_exec[req.engine] = req.executes
        for engine in pool:
            if not engine.up(t):
                continue
            now = t + engine.offset
            out: list[Output] = []
            for req in [r for r in requests if r.engine == engine.name]:
                arrived = req.returns is not None and req.returns <= t and (
                    req.done or req.executes is None)
                lost = req.returns is None and t >= req.sent - engine.offset + 2.5
                if arrived:
                    out += engine.lease.answered(req.sent, req.epoch, now)
                elif lost:  # the adapter's statement timeout
                    out += engine.lease.failed(req.sent, now)
                if arrived or lost:
                    requests.remove(req)
            out += engine.lease.tick(now)
            for o in out:
                if isinstance(o, Attempt):
                    quiet = t >= calm
                    go = 0.0 if quiet else data.draw(LATENCY, label="go")
                    back = 0.0 if quiet else data.draw(LATENCY, label="back")
                    fate = "ok" if quiet else data.draw(
                        st.sampled_from(["ok", "ok", "lost", "no_answer"]), label="fate")
                    executes = None if fate == "lost" else t + go
                    returns = None if fate != "ok" else t + go + back
                    requests.append(Request(engine.name, o.sent, executes, returns))
                elif isinstance(o, StartOwning):
                    starts.append((t, engine.name, o.epoch))
        # a paused engine's belief counts too: it may act the moment it wakes
        owners = [e.name for e in pool if (e.killed_at is None or t < e.killed_at)
                  and e.lease.owns(t + e.offset)]
        assert len(owners) <= 1, f"two owners at {t:.2f}: {owners}"
        if victim is not None and victim.killed_at is not None:
            expired = last_exec[victim.name] + ttl
            # a request lost just before the calm times out 2.5 s later, retried 1 s after
            if t > max(expired, calm + 3.5) + TIMING.renew_s + 3 * STEP:
                assert owners and owners[0] != victim.name, (
                    f"no owner {t - expired:.2f} s after the dead owner's lease expired")
        t += STEP
    for (_, a, ea), (_, b, eb) in zip(starts, starts[1:], strict=False):
        assert eb > ea or (eb == ea and a == b), starts
    assert starts, "nobody ever owned the group"
