"""Queue-group leases in PostgreSQL: the table, the statements, and the keeper.

psycopg 3 async (the project's PostgreSQL driver, pyproject.toml). Every
time is the database's ``now()``, never an engine's wall clock
(docs/architecture.md, "Queues across engines"): one statement takes or
renews a lease (:data:`TAKE_SQL`), and a row comes back only when the lease
was free, expired, or already ours. ``owner`` is the engine's incarnation
(:func:`incarnation`), so a restarted engine is a new owner and bumps the
epoch, the fencing token.

:class:`LeaseKeeper` runs one :class:`~bailanys.ownership.lease.Lease`
machine per group on a connection of its own (a renewal must never wait
behind the event writer's batches in a pool) and tells its ``on_change``
callback when the engine starts or stops owning a group.

:data:`QUEUE_LEASES_DDL` is the table; the store's migrations include it
(``store/pg_schema.py`` of the PostgreSQL store); :meth:`PgLeases.create`
runs it for a database that has no migrations yet (the tests).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from bailanys.ownership.lease import (
    Attempt,
    Lease,
    LeaseTiming,
    Output,
    Release,
    StartOwning,
    StopOwning,
)
from bailanys.store.pg_schema import QUEUE_LEASES_DDL
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)

#: The table of the queue-group leases (one row per group); its DDL,
#: :data:`QUEUE_LEASES_DDL`, is the PostgreSQL store's (migration 9).
QUEUE_LEASES_TABLE = "queue_leases"


#: Take or renew: a row back (the epoch) only when free, expired or ours.
TAKE_SQL = """
INSERT INTO queue_leases AS l (name, owner, owner_uri, epoch, expires_at, acquired_at)
VALUES (%(name)s, %(owner)s, %(uri)s, 1, now() + make_interval(secs => %(ttl)s), now())
ON CONFLICT (name) DO UPDATE
   SET owner = excluded.owner,
       owner_uri = excluded.owner_uri,
       epoch = CASE WHEN l.owner = excluded.owner THEN l.epoch ELSE l.epoch + 1 END,
       acquired_at = CASE WHEN l.owner = excluded.owner THEN l.acquired_at ELSE now() END,
       expires_at = excluded.expires_at
 WHERE l.expires_at < now() OR l.owner = excluded.owner
RETURNING epoch
"""

#: A clean stop: expire our row now, fenced by owner and epoch.
RELEASE_SQL = """
UPDATE queue_leases SET expires_at = now()
 WHERE name = %(name)s AND owner = %(owner)s AND epoch = %(epoch)s AND expires_at > now()
"""

HOLDER_SQL = """
SELECT owner, owner_uri, epoch, extract(epoch FROM expires_at - now())::float8
  FROM queue_leases WHERE name = %(name)s
"""

#: Inside a writer's transaction: lock the rows of the groups it writes for.
#: A take-over's UPDATE waits for the lock, so no event of epoch e commits
#: after epoch e + 1 began (docs/architecture.md, "Split brain").
FENCE_SQL = """
SELECT name, owner, epoch FROM queue_leases
 WHERE name = ANY(%(names)s) AND expires_at > now()
   FOR SHARE
"""


def incarnation(host: str | None = None, port: int | None = None) -> str:
    """This engine process's owner name: host, SIP port, pid and a random id.
    A restart is a new incarnation (a new owner: the epoch moves on)."""
    where = host or socket.gethostname()
    tail = f":{port}" if port is not None else ""
    return f"{where}{tail}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a group's row: ``expires_in`` seconds by the database's clock
    (negative: expired, free to take)."""

    owner: str
    owner_uri: str
    epoch: int
    expires_in: float


class PgLeases:
    """The lease statements on one async connection (autocommit, or inside
    the caller's transaction for :meth:`fence`)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def create(self) -> None:
        await self.conn.execute(QUEUE_LEASES_DDL)

    async def take(self, group: str, owner: str, uri: str, ttl_s: float) -> int | None:
        """Take or renew ``group`` for ``ttl_s`` seconds; its epoch, or None
        when another owner holds an unexpired lease."""
        cur = await self.conn.execute(
            TAKE_SQL, {"name": group, "owner": owner, "uri": uri, "ttl": float(ttl_s)})
        row = await cur.fetchone()
        return None if row is None else int(row[0])

    async def release(self, group: str, owner: str, epoch: int) -> bool:
        """Expire our lease now; False when it was not ours (any more)."""
        cur = await self.conn.execute(
            RELEASE_SQL, {"name": group, "owner": owner, "epoch": epoch})
        return cur.rowcount == 1

    async def holder(self, group: str) -> Holder | None:
        cur = await self.conn.execute(HOLDER_SQL, {"name": group})
        row = await cur.fetchone()
        if row is None:
            return None
        return Holder(str(row[0]), str(row[1]), int(row[2]), float(row[3]))

    async def fence(self, owner: str, held: Mapping[str, int]) -> frozenset[str]:
        """Of the groups ``held`` (group -> our epoch), those still ours at
        that epoch, their rows locked FOR SHARE until the caller's
        transaction ends. Call it first in the writer's transaction and drop
        the events of the groups it leaves out."""
        if not held:
            return frozenset()
        cur = await self.conn.execute(FENCE_SQL, {"names": sorted(held)})
        rows = await cur.fetchall()
        return frozenset(str(name) for name, who, epoch in rows
                         if who == owner and held.get(str(name)) == int(epoch))


#: What the keeper tells: (group, StartOwning or StopOwning).
OnChange = Callable[[str, StartOwning | StopOwning], None]
Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]


class LeaseKeeper:
    """Keeps this engine's leases of ``groups``: tries, renews, reports.

    A statement waits at most half an attempt interval; when one fails (the
    database away, a stall), the other groups skip this round, so a round
    never blocks for longer than that and an owner's stop is reported at
    most ``ttl/6`` after its deadline (``owns`` itself is exact)."""

    def __init__(
        self,
        connect: Connect,
        groups: Iterable[str],
        owner: str,
        uri: str,
        on_change: OnChange,
        *,
        timing: LeaseTiming | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timing = timing if timing is not None else LeaseTiming()
        self.owner = owner
        self.uri = uri
        self.leases = {g: Lease(g, self.timing) for g in sorted(set(groups))}
        self._connect = connect
        self._on_change = on_change
        self._clock = clock
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._tasks = TaskSet()
        #: A statement failed in this round: the other groups' wait for the next.
        self._down = False

    def owns(self, group: str) -> bool:
        """Whether this engine may decide for ``group`` now."""
        lease = self.leases.get(group)
        return lease is not None and lease.owns(self._clock())

    def epoch(self, group: str) -> int | None:
        lease = self.leases.get(group)
        return lease.epoch if lease is not None and lease.owns(self._clock()) else None

    def held(self) -> dict[str, int]:
        """group -> epoch of every group owned now (what the event writer fences)."""
        now = self._clock()
        return {g: lease.epoch for g, lease in self.leases.items()
                if lease.owns(now) and lease.epoch is not None}

    def start(self) -> None:
        self._tasks.spawn(self._run(), name="lease-keeper")

    async def stop(self, *, release: bool = True) -> None:
        """Stop trying; with ``release`` expire the leases we hold so a
        successor takes them at once (after the groups were drained)."""
        await self._tasks.cancel_all()
        for group, lease in self.leases.items():
            for out in lease.release():
                if isinstance(out, Release) and release:
                    await self._release(group, out.epoch)
                elif isinstance(out, StopOwning):
                    self._on_change(group, out)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _run(self) -> None:
        while True:
            self._down = False
            for group, lease in self.leases.items():
                outs = lease.tick(self._clock())
                await self._apply(group, lease, outs)
            await self._sleep()

    async def _sleep(self) -> None:
        times = [w for lease in self.leases.values() if (w := lease.wakeup()) is not None]
        delay = min(times) - self._clock() if times else self.timing.renew_s
        await asyncio.sleep(min(max(delay, 0.0), self.timing.renew_s))

    async def _apply(self, group: str, lease: Lease, outs: list[Output]) -> None:
        for out in outs:
            if isinstance(out, Attempt):
                await self._apply(group, lease, await self._attempt(group, lease, out.sent))
            elif isinstance(out, StartOwning | StopOwning):
                self._on_change(group, out)

    async def _attempt(self, group: str, lease: Lease, sent: float) -> list[Output]:
        if self._down:  # the database failed for another group this round: not again now
            return lease.failed(sent, self._clock())
        try:
            async with asyncio.timeout(self.timing.renew_s / 2):
                conn = await self._connection()
                epoch = await PgLeases(conn).take(group, self.owner, self.uri, self.timing.ttl_s)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("lease %s: take/renew failed: %s", group, exc)
            self._down = True
            await self._drop_connection()
            return lease.failed(sent, self._clock())
        return lease.answered(sent, epoch, self._clock())

    async def _release(self, group: str, epoch: int) -> None:
        try:
            async with asyncio.timeout(self.timing.renew_s):
                await PgLeases(await self._connection()).release(group, self.owner, epoch)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("lease %s: release failed (it will expire): %s", group, exc)

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await self._connect()
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except (psycopg.Error, OSError):
                pass


def connector(url: str) -> Connect:
    """A :data:`Connect` for ``url``: an autocommit connection."""

    async def connect() -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(url, autocommit=True)

    return connect
