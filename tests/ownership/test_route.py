"""The router of queue ownership (``bailanys/ownership/route.py``) over real leases
in PostgreSQL: where a queue's callers go from each engine, and a take-over
after the owner is killed: ``queue.owner`` with the rebuilt line, a moved
caller keeping its place, the unreached closed as ``engine_failure``.

The history is the list of stored events the shared event store would give
back (the PostgreSQL store's query is another slice); no call is moved by
SIP here: that is the engine's mover.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from bailanys import events as ev
from bailanys.ownership.lease import LeaseTiming, StartOwning, StopOwning
from bailanys.ownership.pglease import LeaseKeeper, PgLeases, connector, incarnation
from bailanys.ownership.route import Local, Move, NoOwner, QueueRouter
from bailanys.store.events import Event
from tests.metrics.mhelpers import T0, Log

GROUPS = {"egov": ("egov", "egov_ru")}


class Stored:
    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.asked: list[tuple[tuple[str, ...], float]] = []

    async def recent(self, queues: tuple[str, ...], since: float) -> list[Event]:
        self.asked.append((queues, since))
        return list(self.events)


class Sink:
    def __init__(self) -> None:
        self.events: list[ev.EventBase] = []

    def emit(self, event: ev.EventBase) -> None:
        self.events.append(event)


def history() -> list[Event]:
    log = Log()
    for t, call in ((0, "c1"), (1, "c2"), (2, "c3")):
        log.ev(t, "call.offered", call, **{"from": "sip:+77011234567@t", "to": "sip:1414@b"})
        log.ev(t + 5, "queue.joined", call, queue="egov", position=1, skills=[],
               language="kk", priority=0)
    log.ev(20, "call.connected", "c3", queue="egov", agent="a1", waited=13, orig_position=3)
    return [Event(i, e.ts, e.type, e.call_id, e.data) for i, e in enumerate(log.events, 1)]


class Engine:
    def __init__(self, url: str, name: str, port: int, events: list[Event],
                 timing: LeaseTiming) -> None:
        self.sink, self.stored = Sink(), Stored(events)
        self.stops: list[tuple[str, StopOwning]] = []
        self.keeper = LeaseKeeper(connector(url), GROUPS, incarnation("127.0.0.1", port),
                                  f"sip:queues@{name}", self._change, timing=timing)
        self.router: QueueRouter | None = None
        self.url = url

    def _change(self, group: str, change: StartOwning | StopOwning) -> None:
        assert self.router is not None
        self.router(group, change)

    async def start(self, holders: PgLeases) -> None:
        self.router = QueueRouter(GROUPS, self.keeper, holders, self.stored, self.sink,
                                  grace_s=0.6, wall=lambda: T0 + 400,
                                  on_stop=lambda g, c: self.stops.append((g, c)))
        self.keeper.start()


async def _until(cond: Any, limit: float) -> None:
    start = time.monotonic()
    while not cond():
        assert time.monotonic() - start < limit, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_routes_and_a_take_over(pg_url: str) -> None:
    conn = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
    holders = PgLeases(conn)
    await holders.create()
    timing = LeaseTiming(ttl_s=1.2, margin_s=0.1)
    a = Engine(pg_url, "a", 5070, [], timing)
    b = Engine(pg_url, "b", 5072, history(), timing)
    try:
        await a.start(holders)
        await _until(lambda: a.keeper.owns("egov"), 3)
        await b.start(holders)
        assert a.router is not None and b.router is not None
        assert await a.router.route("egov_ru") == Local()
        assert await b.router.route("egov") == Move("egov", "sip:queues@a", 1)
        assert await b.router.route("elsewhere") == Local()  # in no group: one engine's
        await _until(lambda: a.sink.events, 2)
        first = a.sink.events[0]
        assert isinstance(first, ev.QueueOwner)
        assert (first.epoch, first.resumed, first.waiting, first.queues) == (
            1, False, 0, ("egov", "egov_ru"))

        await a.keeper._tasks.cancel_all()  # kill -9: no release
        assert a.keeper._conn is not None
        await a.keeper._conn.close()
        assert isinstance(await b.router.route("egov"), Move)  # until the row expires
        await _until(lambda: b.sink.events, 4)
        owner = b.sink.events[0]
        assert isinstance(owner, ev.QueueOwner)
        assert (owner.epoch, owner.resumed, owner.waiting, owner.talking) == (2, False, 2, 1)
        assert b.stored.asked == [(("egov", "egov_ru"), T0 + 400 - 4 * 3600)]
        assert await b.router.route("egov") == Local()
        place = b.router.attach("c1", "egov")  # c1's anchor moved it again
        assert place is not None and place.arrived == T0 + 5
        assert b.router.attach("c1", "egov") is None  # once
        assert b.router.attach("new", "egov") is None
        await _until(lambda: len(b.sink.events) == 3, 3)
        closed = {(type(e).__name__, e.call_id): e for e in b.sink.events[1:]}
        assert set(closed) == {("QueueAbandoned", "c2"), ("CallCompleted", "c3")}
        c2 = closed["QueueAbandoned", "c2"]
        assert isinstance(c2, ev.QueueAbandoned) and c2.cause == "engine_failure"
        assert c2.position == 2 and c2.waited == 394.0
        c3 = closed["CallCompleted", "c3"]
        assert isinstance(c3, ev.CallCompleted) and c3.by == "engine_failure"
        assert b.router.rebuilt == {}

        await b.keeper.stop()
        assert [g for g, _ in b.stops] == ["egov"]
        assert await b.router.route("egov") == NoOwner("egov")  # released, nobody took it
    finally:
        for engine in (a, b):
            if engine.router is not None:
                await engine.router.stop()
            await engine.keeper.stop(release=False)
        await conn.close()


class Flaky(Stored):
    """The event store unreadable twice, then readable."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__(events)
        self.failures = 2

    async def recent(self, queues: tuple[str, ...], since: float) -> list[Event]:
        if self.failures:
            self.failures -= 1
            raise OSError("the store is away")
        return await super().recent(queues, since)


class Owning:
    owner, uri = "me", "sip:me"

    def __init__(self) -> None:
        self.mine = True

    def owns(self, group: str) -> bool:
        return self.mine


async def test_an_unreadable_history_is_read_again_while_we_own() -> None:
    sink, flaky, owning = Sink(), Flaky(history()), Owning()
    router = QueueRouter(GROUPS, owning, PgLeases(None), flaky, sink,  # type: ignore[arg-type]
                         grace_s=0.0, wall=lambda: T0 + 400)
    router("egov", StartOwning(7))
    await router._tasks.join()
    assert flaky.failures == 0 and len(flaky.asked) == 1
    assert [type(e).__name__ for e in sink.events] == [
        "QueueOwner", "QueueAbandoned", "QueueAbandoned", "CallCompleted"]
    # lost while the store is away: it gives up, writes nothing
    sink2, owning.mine = Sink(), False
    router2 = QueueRouter(GROUPS, owning, PgLeases(None), Flaky(history()), sink2,  # type: ignore[arg-type]
                          grace_s=0.0)
    router2("egov", StartOwning(8))
    await router2._tasks.join()
    assert sink2.events == []
