"""The event writer's fence (``bailanys/ownership/fence.py`` with ``PgLeases.fence``)
on a real PostgreSQL: a paused owner's batch is held up by nothing but
loses its group's events once another engine holds the group; a take-over
waits for a batch being written. The writer here is the test's; the
PostgreSQL event log's own writer with the fence: test_writerfence.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from bailanys.ownership.fence import group_of_event, keep, needed
from bailanys.ownership.pglease import PgLeases

GROUP_OF = {"egov": "egov", "egov_ru": "egov", "pensions": "pensions"}

Batch = Sequence[tuple[str, Mapping[str, Any]]]


def test_which_events_are_fenced() -> None:
    assert group_of_event("queue.joined", {"queue": "egov_ru"}, GROUP_OF) == "egov"
    assert group_of_event("call.connected", {"queue": "pensions"}, GROUP_OF) == "pensions"
    assert group_of_event("queue.owner", {"group": "egov"}, GROUP_OF) == "egov"
    assert group_of_event("call.offered", {"queue": "egov"}, GROUP_OF) is None  # the anchor's
    assert group_of_event("queue.joined", {"queue": "solo"}, GROUP_OF) is None  # no group
    assert group_of_event("queue.joined", {}, GROUP_OF) is None
    batch: Batch = [("call.offered", {}), ("queue.joined", {"queue": "egov"}),
                    ("queue.joined", {"queue": "pensions"})]
    assert needed(batch, GROUP_OF, {"egov": 3}) == {"egov": 3, "pensions": 0}
    assert keep(batch, GROUP_OF, frozenset({"egov"})) == [0, 1]


async def write(conn: psycopg.AsyncConnection[Any], owner: str, held: Mapping[str, int],
                batch: Batch, hold_s: float = 0.0) -> list[int]:
    """A writer's batch: fence, then insert what may be written, in one transaction."""
    async with conn.transaction():
        fenced = await PgLeases(conn).fence(owner, needed(batch, GROUP_OF, held))
        kept = keep(batch, GROUP_OF, fenced)
        for i in kept:
            type_, data = batch[i]
            await conn.execute("INSERT INTO ev (type, data) VALUES (%s, %s)",
                               (type_, json.dumps(data)))
        await asyncio.sleep(hold_s)
    return kept


async def test_a_paused_owners_events_are_dropped_after_a_take_over(pg_url: str) -> None:
    a = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
    b = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
    try:
        await PgLeases(a).create()
        await a.execute("CREATE TABLE ev (id serial PRIMARY KEY, type text, data jsonb)")
        assert await PgLeases(a).take("egov", "A", "sip:a", 0.5) == 1
        batch: Batch = [("call.offered", {}), ("queue.joined", {"queue": "egov"})]
        # a batch being written when the lease runs out: the take-over waits for it
        writing = asyncio.create_task(write(a, "A", {"egov": 1}, batch, hold_s=0.8))
        await asyncio.sleep(0.6)
        take = asyncio.create_task(PgLeases(b).take("egov", "B", "sip:b", 5.0))
        await asyncio.sleep(0.1)
        assert not take.done()
        assert await writing == [0, 1]
        assert await asyncio.wait_for(take, 5) == 2
        # A wakes up and writes again: its egov events go, the others stay
        assert await write(a, "A", {"egov": 1}, batch) == [0]
        assert await write(b, "B", {"egov": 2}, batch) == [0, 1]
        cur = await a.execute("SELECT type, count(*) FROM ev GROUP BY type ORDER BY type")
        assert await cur.fetchall() == [("call.offered", 3), ("queue.joined", 2)]
    finally:
        await a.close()
        await b.close()
