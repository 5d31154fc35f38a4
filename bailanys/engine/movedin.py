"""The owner's side of a call moved to its queue (issue 22, docs/architecture.md
"Moving a call to the owner").

An INVITE carrying ``X-Bailanys-Call`` (:mod:`bailanys.ownership.moveheaders`)
comes from another engine, the caller's anchor, through Kamailio, to
``sip:<queue>@<this engine>``. The UAS answers it as any call but under the
call id of the header (one call in the shared event log), writing neither
``call.offered`` nor ``call.answered``/``call.ended``: those are the
anchor's. When it is confirmed, :class:`MovedCallRouter` runs no IVR flow
but puts the call straight into its queue with the wait the anchor counted
(``prior_wait``), or at the place a take-over rebuilt for it (attach by
call id: its first arrival kept, never joined twice). When the queue is
done with the caller (the conversation and survey over, or the caller let
go), this leg is hung up and the anchor ends the call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from bailanys.engine.call import Call, FlowFactory
from bailanys.engine.ports import CallLeg
from bailanys.ivr.runner import EnterQueue
from bailanys.ownership.moveheaders import MoveRequest
from bailanys.ownership.rebuild import Place

log = logging.getLogger(__name__)


class NumberRoutes(Protocol):
    """The engine's router of dialled numbers (``engine/routing.py``)."""

    def answers(self, number: str) -> bool: ...

    def flow_for(self, call: Call) -> FlowFactory | None: ...


class LocalQueues(Protocol):
    async def enter_queue(self, call: CallLeg, action: EnterQueue, *,
                          prior_wait: float | None = None) -> bool: ...


Attach = Callable[[str, str], Place | None]


class MovedCallRouter:
    """The UAS's router: moved calls to their queue, the rest as ``inner``.
    ``queue_names``: the queues of the queue file (a moved call's number);
    ``attach``: the router's rebuilt places (``QueueRouter.attach``)."""

    def __init__(self, inner: NumberRoutes, queues: LocalQueues,
                 queue_names: Callable[[], frozenset[str]], *,
                 attach: Attach | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self._inner = inner
        self._queues = queues
        self._queue_names = queue_names
        self._attach = attach
        self._wall = wall

    def answers(self, number: str) -> bool:
        return self._inner.answers(number) or number in self._queue_names()

    def flow_for(self, call: Call) -> FlowFactory | None:
        moved = call.moved
        if moved is None:
            if call.direction == "inbound" and not self._inner.answers(call.number):
                return _refuse  # a queue's name dialled without a move
            return self._inner.flow_for(call)

        async def serve(leg: Call) -> None:
            await self._serve(leg, moved)

        return serve

    async def _serve(self, call: Call, move: MoveRequest) -> None:
        call.language = move.language  # the anchor wrote call.language already
        prior = move.waited
        place = self._attach(move.call_id, move.queue) if self._attach is not None else None
        if place is not None:  # a take-over rebuilt it: keep its first arrival
            prior = max(prior, self._wall() - place.arrived)
        skills = move.skills + ((move.language,) if move.language else ())
        action = EnterQueue(queue=move.queue, skills=skills, language=move.language,
                            variables={})
        log.info("call %s: moved here for %s (waited %.1f s%s)", call.id[:8], move.queue,
                 prior, ", its rebuilt place" if place is not None else "")
        served = await self._queues.enter_queue(call, action, prior_wait=prior)
        await call.hangup("queue_done" if served else "no_queue")


async def _refuse(call: Call) -> None:
    await call.hangup("not_a_move")
