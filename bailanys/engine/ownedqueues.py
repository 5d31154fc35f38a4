"""The queue entry of an engine among several (issue 22, docs/architecture.md
"Queues across engines").

A flow's ``queue`` node hands its call to :class:`OwnedQueues` instead of
the :class:`~bailanys.engine.queues.QueueService` when the engine runs in a
cluster. It asks the router (:class:`~bailanys.ownership.route.QueueRouter`)
where the queue is served:

* :class:`~bailanys.ownership.route.Local`: this engine owns the queue's
  group (or the queue is in none): the queue service holds the caller as on
  one engine, with the seconds the caller already waited here;
* :class:`~bailanys.ownership.route.Move`: the :class:`CallMover` moves the
  call to the owner (the anchor's INVITE through Kamailio with the
  ``X-Bailanys-Call``/``-Waited``/``-Queue`` headers, then the caller's
  re-INVITE, RFC 3725); once moved, this engine only relays the call's
  signalling until it ends;
* :class:`~bailanys.ownership.route.NoOwner`, or a move that failed before
  the owner answered: the caller hears music here for ``retry_s`` and the
  router is asked again (the group is being taken over, or the database is
  away). The time spent so counts in the caller's wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from bailanys.engine.ports import CallLeg
from bailanys.ivr.runner import EnterQueue
from bailanys.media.player import EncodedAudio
from bailanys.ownership.route import Local, Move, Route
from bailanys.queuestate import QueueState

log = logging.getLogger(__name__)

#: Between two questions to the router while nobody owns the queue: a third
#: of the lease's default ttl, the keepers' own attempt interval.
DEFAULT_RETRY_S = 2.0


class LocalQueues(Protocol):
    """The queue service of this engine."""

    async def enter_queue(self, call: CallLeg, action: EnterQueue, *,
                          prior_wait: float | None = None) -> bool: ...

    def queue_state(self, name: str) -> QueueState | None: ...


class Router(Protocol):
    async def route(self, queue: str) -> Route: ...

    def owns_queue(self, queue: str) -> bool: ...


class CallMover(Protocol):
    """Moves a call to the queue's owner (docs/architecture.md, "Moving a call")."""

    async def move(self, call: CallLeg, action: EnterQueue, to: Move, waited: float) -> bool:
        """True once the caller's media is with the owner; False when the move
        failed before the owner answered (the caller is still here, unchanged)."""
        ...


class OwnedQueues:
    """A :class:`~bailanys.engine.ports.QueueEntry` over the router; module docs."""

    def __init__(
        self,
        local: LocalQueues,
        router: Router,
        mover: CallMover,
        *,
        music: EncodedAudio | None = None,
        retry_s: float = DEFAULT_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local = local
        self._router = router
        self._mover = mover
        self._music = music
        self._retry_s = retry_s
        self._clock = clock

    async def enter_queue(self, call: CallLeg, action: EnterQueue) -> bool:
        started = self._clock()
        tries = 0
        while not call.ended.is_set():
            route = await self._router.route(action.queue)
            waited = self._clock() - started
            if isinstance(route, Local):
                return await self._local.enter_queue(
                    call, action, prior_wait=waited if tries else None)
            if isinstance(route, Move) and await self._mover.move(call, action, route, waited):
                log.info("call %s: moved to %s for %s (epoch %d)", call.id, route.uri,
                         action.queue, route.epoch)
                await call.ended.wait()
                return True
            tries += 1
            await self._hold(call)
        return True

    def queue_state(self, name: str) -> QueueState | None:
        """The queue's state where this engine owns it; None elsewhere (the
        owner's state is not known here)."""
        return self._local.queue_state(name) if self._router.owns_queue(name) else None

    async def _hold(self, call: CallLeg) -> None:
        """Music (or silence) for ``retry_s``, less if the call ends."""
        ended = asyncio.ensure_future(call.ended.wait())
        play = None
        if self._music is not None:
            play = asyncio.ensure_future(call.play(self._music, interruptible=False))
        mine = [t for t in (ended, play) if t is not None]
        try:
            await asyncio.wait({ended}, timeout=self._retry_s)
        finally:
            if play is not None:
                call.stop_playback()
            for task in mine:
                task.cancel()
            await asyncio.gather(*mine, return_exceptions=True)
