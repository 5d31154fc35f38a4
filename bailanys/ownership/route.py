"""Where a queue's callers go, and what an engine does when it takes a group over.

:class:`QueueRouter` is the engine's view of queue ownership
(docs/architecture.md, "Queues across engines"). It is the ``on_change``
callback of the :class:`~bailanys.ownership.pglease.LeaseKeeper` and
answers three questions:

* :meth:`QueueRouter.route`: a flow reached a queue node: serve it here
  (:class:`Local`, this engine owns the queue's group, or the queue is in
  no group: a single engine), or move the call to the owner
  (:class:`Move`, its SIP URI from the lease row), or nobody owns it right
  now (:class:`NoOwner`: keep the caller, try again);
* on taking a group over (a new epoch): read the group's recent events
  (:class:`History`), :func:`~bailanys.ownership.rebuild.rebuild` it,
  write ``queue.owner``; after the grace period, write the closings of the
  callers no anchor re-homed (``engine_failure``);
* :meth:`QueueRouter.attach`: a moved call arrives for a rebuilt place:
  it keeps that place (its arrival), once.

The SIP move itself (the anchor's INVITE through Kamailio and the
re-INVITE of the caller, RFC 3725) is the engine's mover, not here.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import psycopg

from bailanys import events as ev
from bailanys.ownership.lease import StartOwning, StopOwning
from bailanys.ownership.pglease import Holder
from bailanys.ownership.rebuild import (
    Place,
    Rebuilt,
    close_dead_anchor,
    close_unreached,
    rebuild,
)
from bailanys.store.events import Event
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)

#: How long after a take-over the anchors have to re-home their callers
#: before the unreached are closed: 2 × the default lease ttl, time for an
#: anchor to see its leg die (Kamailio's failover) and move the call again.
DEFAULT_GRACE_S = 12.0
#: The longest pause between two tries to read a group's history.
READ_RETRY_MAX_S = 4.0
#: How far back the history of a group is read: the longest call the
#: engine allows (``[engine] max_call_seconds``' default, 4 h).
DEFAULT_LOOKBACK_S = 4 * 3600.0


class Ownership(Protocol):
    """The keeper as the router reads it."""

    owner: str
    uri: str

    def owns(self, group: str) -> bool: ...


class Holders(Protocol):
    """Who holds a group (the lease row, :meth:`PgLeases.holder`)."""

    async def holder(self, group: str) -> Holder | None: ...


class History(Protocol):
    """The stored events of the calls that joined ``queues`` since ``since``
    (epoch s), every event of those calls (the shared event store)."""

    async def recent(self, queues: tuple[str, ...], since: float) -> list[Event]: ...


class Sink(Protocol):
    def emit(self, event: ev.EventBase) -> object: ...


@dataclass(frozen=True, slots=True)
class Local:
    """Serve the caller here."""


@dataclass(frozen=True, slots=True)
class Move:
    """Move the caller to ``uri``, the owner of ``group`` at ``epoch``."""

    group: str
    uri: str
    epoch: int


@dataclass(frozen=True, slots=True)
class NoOwner:
    """Nobody holds ``group`` now (its owner died, not yet taken over)."""

    group: str


Route = Local | Move | NoOwner


class QueueRouter:
    """See the module docs. ``groups``: group -> its queues."""

    def __init__(
        self,
        groups: Mapping[str, tuple[str, ...]],
        ownership: Ownership,
        holders: Holders,
        history: History,
        sink: Sink,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        lookback_s: float = DEFAULT_LOOKBACK_S,
        wall: Callable[[], float] = time.time,
        on_stop: Callable[[str, StopOwning], None] | None = None,
    ) -> None:
        self.groups = dict(groups)
        self.group_of = {q: g for g, queues in groups.items() for q in queues}
        self._ownership = ownership
        self._holders = holders
        self._history = history
        self._sink = sink
        self._grace_s = grace_s
        self._lookback_s = lookback_s
        self._wall = wall
        self._on_stop = on_stop
        #: group -> what its take-over rebuilt, until the grace period ends.
        self.rebuilt: dict[str, Rebuilt] = {}
        self._attached: dict[str, set[str]] = {}
        self._tasks = TaskSet()

    async def route(self, queue: str) -> Route:
        if self.owns_queue(queue):
            return Local()
        group = self.group_of[queue]
        try:
            holder = await self._holders.holder(group)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("queue %s: who owns %s unknown: %s", queue, group, exc)
            return NoOwner(group)
        if holder is None or holder.expires_in <= 0 or holder.owner == self._ownership.owner:
            return NoOwner(group)
        return Move(group, holder.owner_uri, holder.epoch)

    def owns_queue(self, queue: str) -> bool:
        """Whether this engine serves ``queue`` now (it owns its group, or
        the queue is in no group)."""
        group = self.group_of.get(queue)
        return group is None or self._ownership.owns(group)

    def attach(self, call_id: str, queue: str) -> Place | None:
        """A moved call arrives: its rebuilt place (keep its arrival), or None
        (a new caller, or its place was closed already)."""
        group = self.group_of.get(queue)
        rebuilt = self.rebuilt.get(group) if group is not None else None
        attached = self._attached.get(group) if group is not None else None
        if rebuilt is None or attached is None or call_id in attached:
            return None
        place = rebuilt.place(call_id)
        if place is not None:
            attached.add(call_id)
        return place

    # --- the keeper's news -----------------------------------------------------

    def __call__(self, group: str, change: StartOwning | StopOwning) -> None:
        if isinstance(change, StopOwning):
            self.rebuilt.pop(group, None)
            self._attached.pop(group, None)
            if self._on_stop is not None:
                self._on_stop(group, change)
        elif change.resumed:
            self._emit_owner(group, change.epoch, True, Rebuilt())
        else:
            self._tasks.spawn(self._take_over(group, change.epoch), name=f"take-over {group}")

    async def _take_over(self, group: str, epoch: int) -> None:
        queues = self.groups[group]
        now = self._wall()
        history = await self._read(group, queues, now - self._lookback_s)
        if history is None:
            return
        found = rebuild(history, queues)
        if not self._ownership.owns(group):
            return  # lost it again while reading
        self.rebuilt[group], self._attached[group] = found, set()
        self._emit_owner(group, epoch, False, found)
        await asyncio.sleep(self._grace_s)
        if self.rebuilt.get(group) is not found or not self._ownership.owns(group):
            return
        died = max((e.ts for e in history), default=now)
        # their wait ended when the owner died: counted up to the take-over
        closings = close_unreached(found, self._attached[group], now, died)
        # the calls anchored on the dead owner itself: nobody else ends them
        closings += close_dead_anchor(
            found, {c.call_id for c in closings if c.call_id is not None}, died)
        for event in closings:
            self._sink.emit(event)
        log.info("take-over %s (epoch %d): %d re-homed, %d closed", group, epoch,
                 len(self._attached[group]), len(closings))
        self.rebuilt.pop(group, None)
        self._attached.pop(group, None)

    async def _read(self, group: str, queues: tuple[str, ...], since: float) -> list[Event] | None:
        """The group's history, retried with backoff while we own it (None: lost it)."""
        for attempt in itertools.count():
            try:
                return await self._history.recent(queues, since)
            except (psycopg.Error, sqlite3.Error, OSError) as exc:
                log.warning("take-over %s: history unreadable (%s), retrying", group, exc)
            if not self._ownership.owns(group):
                return None
            await asyncio.sleep(min(READ_RETRY_MAX_S, 0.25 * 2 ** attempt))
        return None  # not reached: count() never ends

    def _emit_owner(self, group: str, epoch: int, resumed: bool, found: Rebuilt) -> None:
        self._sink.emit(ev.QueueOwner(
            group=group, queues=self.groups[group], owner=self._ownership.owner,
            owner_uri=self._ownership.uri, epoch=epoch, resumed=resumed,
            waiting=found.waiting, talking=len(found.talking)))

    async def stop(self) -> None:
        await self._tasks.cancel_all()
