"""Queue-group leases on a real PostgreSQL (``bailanys/ownership/pglease.py``).

The statements by the database's clock (take, renew, refuse, expire,
release, fence), then two keepers ("engines") competing for two groups:
one owner per group; a killed owner (its task stopped, no release, its
connection dropped) is replaced within ``ttl + ttl/3`` plus a little, with
the next epoch; a clean stop hands over at the successor's next attempt;
the fence holds a take-over back until the writer's transaction ends.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest

from bailanys.ownership.lease import LeaseTiming, StartOwning, StopOwning, StopReason
from bailanys.ownership.pglease import LeaseKeeper, PgLeases, connector, incarnation

pytestmark = pytest.mark.peer


async def _conn(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def test_the_statements_by_the_databases_clock(pg_url: str) -> None:
    a, b = await _conn(pg_url), await _conn(pg_url)
    try:
        la, lb = PgLeases(a), PgLeases(b)
        await la.create()
        await la.create()  # idempotent
        assert await la.take("egov", "A", "sip:a", 0.6) == 1
        assert await lb.take("egov", "B", "sip:b", 0.6) is None  # held
        assert await la.take("egov", "A", "sip:a", 0.6) == 1  # a renewal keeps the epoch
        held = await lb.holder("egov")
        assert held is not None and (held.owner, held.owner_uri, held.epoch) == ("A", "sip:a", 1)
        assert 0 < held.expires_in <= 0.6
        await asyncio.sleep(0.7)
        assert await lb.take("egov", "B", "sip:b", 0.6) == 2  # expired: B's, next epoch
        assert await la.take("egov", "A", "sip:a", 0.6) is None
        assert not await la.release("egov", "A", 1)  # not A's any more
        assert not await lb.release("egov", "B", 1)  # not that epoch
        assert await lb.release("egov", "B", 2)
        assert await la.take("egov", "A", "sip:a", 0.6) == 3  # released: free at once
        assert await lb.holder("pensions") is None
        assert await la.take("pensions", "A", "sip:a", 0.6) == 1  # groups are independent
        assert await la.fence("A", {"egov": 3, "pensions": 1, "x": 1}) == {"egov", "pensions"}
        assert await la.fence("A", {"egov": 2}) == frozenset()  # a stale epoch is not ours
        assert await lb.fence("B", {"egov": 3}) == frozenset()
        assert await lb.fence("B", {}) == frozenset()
    finally:
        await a.close()
        await b.close()


async def test_the_fence_holds_a_take_over_back(pg_url: str) -> None:
    writer, other = await _conn(pg_url), await _conn(pg_url)
    try:
        await PgLeases(writer).create()
        assert await PgLeases(writer).take("egov", "A", "sip:a", 0.4) == 1
        async with writer.transaction():
            assert await PgLeases(writer).fence("A", {"egov": 1}) == {"egov"}
            await asyncio.sleep(0.5)  # the lease expires while the batch is written
            take = asyncio.create_task(PgLeases(other).take("egov", "B", "sip:b", 5.0))
            await asyncio.sleep(0.3)
            assert not take.done()  # waits for the writer's lock
        assert await asyncio.wait_for(take, 5) == 2
        assert await PgLeases(writer).fence("A", {"egov": 1}) == frozenset()
    finally:
        await writer.close()
        await other.close()


class Log:
    """What a keeper told, with when (monotonic)."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, str, StartOwning | StopOwning]] = []

    def __call__(self, group: str, change: StartOwning | StopOwning) -> None:
        self.changes.append((time.monotonic(), group, change))

    def starts(self, group: str) -> list[int]:
        return [c.epoch for _, g, c in self.changes if g == group and isinstance(c, StartOwning)]


async def _until(cond: Any, limit: float) -> float:
    start = time.monotonic()
    while not cond():
        assert time.monotonic() - start < limit, "condition not met in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_two_engines_compete_and_one_takes_over_a_dead_owner(pg_url: str) -> None:
    setup = await _conn(pg_url)
    await PgLeases(setup).create()
    timing = LeaseTiming(ttl_s=1.5, margin_s=0.2)
    logs = {"A": Log(), "B": Log()}
    keepers = {name: LeaseKeeper(connector(pg_url), ["egov", "pensions"],
                                 incarnation("127.0.0.1", 5060 + i), f"sip:{name}",
                                 logs[name], timing=timing)
               for i, name in enumerate(("A", "B"))}
    try:
        keepers["A"].start()
        await _until(lambda: keepers["A"].held() == {"egov": 1, "pensions": 1}, 3)
        keepers["B"].start()
        await asyncio.sleep(timing.ttl_s)  # B tries several times and gets nothing
        assert keepers["B"].held() == {} and logs["B"].changes == []
        assert keepers["A"].held() == {"egov": 1, "pensions": 1}
        holder = await PgLeases(setup).holder("egov")
        assert holder is not None and holder.owner == keepers["A"].owner

        # kill -9 A: its task stops, nothing released, its connection dies
        await keepers["A"]._tasks.cancel_all()
        conn = keepers["A"]._conn
        assert conn is not None
        await conn.close()
        killed = time.monotonic()
        took = await _until(lambda: keepers["B"].held() == {"egov": 2, "pensions": 2}, 5)
        assert took < timing.ttl_s + timing.renew_s + 0.5, took
        assert logs["B"].starts("egov") == [2] and logs["B"].starts("pensions") == [2]
        assert not keepers["A"].owns("egov")  # A's belief ended before B began
        a_end = keepers["A"].leases["egov"].deadline
        assert a_end is None or a_end <= killed + timing.ttl_s
        holder = await PgLeases(setup).holder("egov")
        assert holder is not None and (holder.owner, holder.epoch) == (keepers["B"].owner, 2)

        # a clean stop of B hands over at once to a third engine (a restarted A)
        c_log = Log()
        c = LeaseKeeper(connector(pg_url), ["egov"], incarnation("127.0.0.1", 5060), "sip:C",
                        c_log, timing=timing)
        c.start()
        await asyncio.sleep(0.2)
        assert c.held() == {}
        stopped = time.monotonic()
        await keepers["B"].stop()
        assert [type(ch) for _, g, ch in logs["B"].changes if g == "egov"] == [
            StartOwning, StopOwning]
        assert logs["B"].changes[-1][2] == StopOwning(2, StopReason.RELEASED)
        await _until(lambda: c.held() == {"egov": 3}, 3)
        assert time.monotonic() - stopped < timing.renew_s + 0.5  # not a whole ttl
        await c.stop()
    finally:
        for keeper in keepers.values():
            await keeper.stop(release=False)
        await setup.close()


class Switch:
    """A connect function whose database can be made unreachable."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.up = True

    async def __call__(self) -> psycopg.AsyncConnection[Any]:
        if not self.up:
            raise OSError("connection refused (the test took the database away)")
        return await psycopg.AsyncConnection.connect(self.url, autocommit=True,
                                                     application_name="lease-keeper")


async def test_the_database_away_the_owner_stops_in_time_and_resumes(pg_url: str) -> None:
    admin = await _conn(pg_url)
    await PgLeases(admin).create()
    timing = LeaseTiming(ttl_s=1.5, margin_s=0.2)
    log, switch = Log(), Switch(pg_url)
    keeper = LeaseKeeper(switch, ["egov", "pensions"], "A", "sip:a", log, timing=timing)
    try:
        keeper.start()
        await _until(lambda: keeper.held() == {"egov": 1, "pensions": 1}, 3)
        switch.up = False
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'lease-keeper'")
        deadline = max(lease.deadline or 0.0 for lease in keeper.leases.values())
        await _until(lambda: len([c for _, _, c in log.changes
                                  if isinstance(c, StopOwning)]) == 2, 3)
        stopped = max(t for t, _, c in log.changes if isinstance(c, StopOwning))
        assert {c for _, _, c in log.changes if isinstance(c, StopOwning)} == {
            StopOwning(1, StopReason.EXPIRED)}
        assert stopped - deadline < timing.renew_s / 2 + 0.2  # reported soon after
        assert keeper.held() == {}
        switch.up = True  # back: nobody took over, so the same epoch, resumed
        await _until(lambda: keeper.held() == {"egov": 1, "pensions": 1}, 3)
        assert [c for _, g, c in log.changes if g == "egov"][-1] == StartOwning(1, resumed=True)
    finally:
        await keeper.stop(release=False)
        await admin.close()
