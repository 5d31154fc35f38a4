"""The PostgreSQL event log's writer fenced by the queue-group leases
(``ownership/writerfence.py`` as ``EventLog.fence``), on a real PostgreSQL
store: a paused owner (it still believes it holds its group's lease, which
another engine took over meanwhile) cannot write that group's events after
the take-over, while its other events land and every row names its engine;
without a fence nothing changes. ``queue_leases`` comes with the store's
migrations (version 9)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from bailanys.ownership.pglease import PgLeases
from bailanys.ownership.writerfence import LeaseFence
from bailanys.store.store import Store

GROUP_OF = {"egov": "egov", "egov_ru": "egov", "pensions": "pensions"}


class Belief:
    """A paused owner's keeper: it believes it holds what it held before the pause."""

    def __init__(self, owner: str, held: dict[str, int]) -> None:
        self.owner = owner
        self._held = held

    def held(self) -> dict[str, int]:
        return dict(self._held)


async def rows(url: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT type, call_id, data->>'queue', engine FROM events"
                                 " ORDER BY id")
        return list(await cur.fetchall())


async def test_a_paused_owner_cannot_write_its_lost_groups_events(pg_url: str) -> None:
    a = await Store.open(pg_url)
    b = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
    try:
        # the migrations made queue_leases: no create() here
        assert await PgLeases(b).take("egov", "A", "sip:a", 0.4) == 1
        assert await PgLeases(b).take("pensions", "A", "sip:a", 30.0) == 1
        fence = LeaseFence(Belief("A", {"egov": 1, "pensions": 1}), GROUP_OF)
        a.events.fence, a.events.engine = fence, "A"
        a.events.append("call.offered", "c1", caller="x")
        a.events.append("queue.joined", "c1", queue="egov_ru")
        await a.events.flush()
        # A pauses; its egov lease runs out and B takes it over (epoch 2)
        await asyncio.sleep(0.5)
        assert await PgLeases(b).take("egov", "B", "sip:b", 30.0) == 2
        # A wakes up believing it still owns egov at epoch 1
        a.events.append("queue.abandoned", "c1", queue="egov_ru", cause="caller")
        a.events.append("queue.owner", None, group="egov", owner="A", epoch=1)
        a.events.append("queue.joined", "c2", queue="pensions")  # still A's group
        a.events.append("ivr.entered", "c3", node="menu")  # not an owner's event
        a.events.append("call.ended", "c1", cause="caller")
        await a.events.flush()
        assert fence.dropped == 2 and fence.dropped_by_group == {"egov": 2}
        assert a.events.pending == 0 and a.events.write_errors == 0
        # a single engine's writer (no fence, no engine name): unchanged
        a.events.fence, a.events.engine = None, None
        a.events.append("queue.joined", "c4", queue="egov")
        await a.events.flush()
    finally:
        await a.close()
        await b.close()
    assert await rows(pg_url) == [
        ("call.offered", "c1", None, "A"),
        ("queue.joined", "c1", "egov_ru", "A"),
        ("queue.joined", "c2", "pensions", "A"),
        ("ivr.entered", "c3", None, "A"),
        ("call.ended", "c1", None, "A"),
        ("queue.joined", "c4", "egov", None),
    ]
