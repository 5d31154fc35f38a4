"""The queues of an engine among several, wired (issue 22, docs/architecture.md
"Queues across engines").

Built by ``engine/wiring.py`` only with ``[cluster] leases_url``; a single
engine (no ``[cluster]``, or no ``leases_url``) keeps its queue service as
the flows' queue entry, unchanged. :class:`ClusterQueues` is the flows'
:class:`~bailanys.engine.ports.QueueEntry` here. At start (after the queue
file is loaded and the SIP port is known) it

* creates the ``queue_leases`` table when the database has none (the
  engine creates it: the PostgreSQL store's migration 9 includes
  :data:`~bailanys.store.pg_schema.QUEUE_LEASES_DDL`, ``CREATE TABLE IF
  NOT EXISTS``, so both may run);
* computes the queue groups from the queue file (every engine reads the
  same file: the same groups);
* starts a :class:`~bailanys.ownership.pglease.LeaseKeeper` for every group
  under this engine's incarnation and SIP address, and a
  :class:`~bailanys.ownership.route.QueueRouter` over it, the lease rows
  (:class:`PgHolders`) and the event store's history;
* with the event store on PostgreSQL in the lease database (``writer``),
  fences its event writer by the leases
  (:class:`~bailanys.ownership.writerfence.LeaseFence`: a paused owner's
  events of a group taken over are left out) and names this engine (its
  incarnation) in every event row it writes;
* hands each queue node's call to
  :class:`~bailanys.engine.ownedqueues.OwnedQueues`: served here, or moved
  to the owner by the :class:`~bailanys.engine.callmover.SipMover`.

A call reaching a queue node before that (the first milliseconds) waits
for it. At stop the leases are released (expired now) so another engine
takes the groups at its next attempt; the fence is lifted first, so the
callers ended by the queue service's stop that follows are written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from bailanys.cluster.proxy import ClusterConfig
from bailanys.engine.ownedqueues import CallMover, LocalQueues, OwnedQueues
from bailanys.engine.ports import CallLeg
from bailanys.ivr.runner import EnterQueue
from bailanys.media.player import EncodedAudio
from bailanys.ownership.groups import queue_groups
from bailanys.ownership.lease import LeaseTiming, StartOwning, StopOwning
from bailanys.ownership.pglease import Holder, LeaseKeeper, PgLeases, connector, incarnation
from bailanys.ownership.rebuild import Place
from bailanys.ownership.route import History, QueueRouter, Sink
from bailanys.ownership.writerfence import LeaseFence
from bailanys.queue.settings import QueueConfig
from bailanys.queuestate import QueueState
from bailanys.store.events import EventLog
from bailanys.voice.moh import music_on_hold

log = logging.getLogger(__name__)

#: The longest wait for a lease row (the router then answers "no owner now").
HOLDER_TIMEOUT_S = 1.0
#: The grace period after a take-over, in lease ttls (docs/architecture.md:
#: 2·T for the anchors to see their legs die and move their callers again),
#: longer when the anchors' RTP timeout is (``rtp_timeout_s`` + T).
GRACE_TTLS = 2.0


class QueueService(LocalQueues, Protocol):
    """The engine's queue service, with its loaded queue file."""

    config: QueueConfig | None


class PgHolders:
    """:class:`~bailanys.ownership.route.Holders` on a connection of its own,
    opened on first use and again after a failure."""

    def __init__(self, url: str) -> None:
        self._connect = connector(url)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()

    async def holder(self, group: str) -> Holder | None:
        async with self._lock:
            try:
                async with asyncio.timeout(HOLDER_TIMEOUT_S):
                    if self._conn is None or self._conn.closed:
                        self._conn = await self._connect()
                    return await PgLeases(self._conn).holder(group)
            except (psycopg.Error, OSError, TimeoutError):
                await self.close()
                raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except (psycopg.Error, OSError):
                pass


class _Attaching:
    """The local queues, a caller first attached to the place a take-over
    rebuilt for it (an anchor here re-homing its caller: its first arrival
    kept, and it is not closed as unreached after the grace period)."""

    def __init__(self, local: LocalQueues, router: QueueRouter,
                 wall: Callable[[], float] = time.time) -> None:
        self._local = local
        self._router = router
        self._wall = wall

    async def enter_queue(self, call: CallLeg, action: EnterQueue, *,
                          prior_wait: float | None = None) -> bool:
        place = self._router.attach(call.id, action.queue)
        if place is not None:
            prior_wait = max(prior_wait or 0.0, self._wall() - place.arrived)
            log.info("call %s: back at its rebuilt place in %s (waited %.1f s)",
                     call.id[:8], action.queue, prior_wait)
        return await self._local.enter_queue(call, action, prior_wait=prior_wait)

    def queue_state(self, name: str) -> QueueState | None:
        return self._local.queue_state(name)


async def _create_table(url: str) -> None:
    """``queue_leases`` when missing. Two engines starting together may both
    run ``CREATE TABLE IF NOT EXISTS``: PostgreSQL then fails one of them on
    its catalogue's unique index, which means the table is there."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        try:
            await PgLeases(conn).create()
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
            log.info("queue_leases: created by another engine meanwhile")


class ClusterQueues:
    """See the module docs. ``address``: this engine's SIP host:port, known
    once its transport listens; ``history``: the event store's (once open)."""

    def __init__(
        self,
        settings: ClusterConfig,
        local: QueueService,
        mover: CallMover,
        sink: Sink,
        *,
        address: Callable[[], str],
        history: Callable[[], History],
        rtp_timeout_s: float = 0.0,
        writer: Callable[[], EventLog | None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._local = local
        self._mover = mover
        self._sink = sink
        self._address = address
        self._history = history
        self._rtp_timeout_s = rtp_timeout_s
        self._ready = asyncio.Event()
        self.keeper: LeaseKeeper | None = None
        self.router: QueueRouter | None = None
        self._owned: OwnedQueues | None = None
        self._holders = PgHolders(settings.leases_url)
        self._writer = writer
        #: The event writer's fence (None: the store is not the lease database).
        self.fence: LeaseFence | None = None
        self._fenced: EventLog | None = None

    async def start(self) -> None:
        url = self._settings.leases_url
        await _create_table(url)
        config = self._local.config
        groups = queue_groups(config) if config is not None else {}
        uri = self._address()
        host, _, port = uri.rpartition(":")
        keeper = LeaseKeeper(connector(url), groups, incarnation(host, int(port)), uri,
                             self._changed, timing=LeaseTiming(ttl_s=self._settings.lease_ttl_s))
        history = self._history()
        ttl = self._settings.lease_ttl_s
        # An anchor sees its leg to a dead owner die after [media] rtp_timeout_s.
        grace = max(GRACE_TTLS * ttl, self._rtp_timeout_s + ttl)
        self.router = router = QueueRouter(groups, keeper, self._holders, history, self._sink,
                                           grace_s=grace)
        self.keeper = keeper
        self._owned = OwnedQueues(_Attaching(self._local, router), router, self._mover,
                                  music=EncodedAudio.from_pcm(music_on_hold()))
        self._fence_writer(keeper, groups)
        keeper.start()
        self._ready.set()
        log.info("cluster queues: groups %s; owner %s at %s (lease ttl %.1f s)",
                 ", ".join(f"{g}={'+'.join(q)}" for g, q in groups.items()) or "none",
                 keeper.owner, uri, self._settings.lease_ttl_s)

    def _fence_writer(self, keeper: LeaseKeeper, groups: dict[str, tuple[str, ...]]) -> None:
        events = self._writer()
        if events is None:
            log.warning("cluster queues: the event store is not the lease database: its "
                        "writer is not fenced (a paused owner's late events are not left out)")
            return
        events.engine = keeper.owner
        self.fence = LeaseFence(keeper, {q: g for g, qs in groups.items() for q in qs})
        events.fence, self._fenced = self.fence, events

    def _changed(self, group: str, change: StartOwning | StopOwning) -> None:
        verb = "owns" if isinstance(change, StartOwning) else "no longer owns"
        log.info("queue group %s: this engine %s it (epoch %s)", group, verb,
                 getattr(change, "epoch", "-"))
        if self.router is not None:
            self.router(group, change)

    async def stop(self) -> None:
        if self._fenced is not None:  # the queue service's stop writes its callers' ends
            self._fenced.fence = None
            self._fenced = None
        if self.keeper is not None:
            await self.keeper.stop(release=True)
        if self.router is not None:
            await self.router.stop()
        await self._holders.close()

    # --- the flows' queue entry -----------------------------------------------

    async def enter_queue(self, call: CallLeg, action: EnterQueue) -> bool:
        if not self._ready.is_set():
            await self._ready.wait()
        assert self._owned is not None
        return await self._owned.enter_queue(call, action)

    def queue_state(self, name: str) -> QueueState | None:
        if self._owned is None:
            return None
        return self._owned.queue_state(name)

    # --- the moved calls' side (engine/movedin.py) ------------------------------

    def attach(self, call_id: str, queue: str) -> Place | None:
        return None if self.router is None else self.router.attach(call_id, queue)

    def owns_queue(self, queue: str) -> bool:
        """Whether a call moved here for ``queue`` may join it now."""
        return self.router is not None and self.router.owns_queue(queue)

    def queue_names(self) -> frozenset[str]:
        config = self._local.config
        return frozenset() if config is None else frozenset(config.queues)
