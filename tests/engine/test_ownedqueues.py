"""The queue entry of an engine among several (``bailanys/engine/ownedqueues.py``):
which way a call goes for each answer of the router, the wait counted
while nobody owns the queue, music meanwhile.

Only the decisions are tested here. The mover below records what it is
asked and answers as scripted: the SIP move through Kamailio is not built
yet (issue 22's report), so nothing here says that a call really moves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from bailanys.engine.ownedqueues import OwnedQueues
from bailanys.ivr.runner import EnterQueue
from bailanys.ownership.route import Local, Move, NoOwner, Route
from bailanys.queuestate import QueueState

RETRY = 0.05


class Leg:
    def __init__(self) -> None:
        self.id = "c1"
        self.ended = asyncio.Event()
        self.played = 0
        self.stopped = 0
        self._stop = asyncio.Event()

    async def play(self, audio: Any, *, interruptible: bool = True) -> bool:
        self.played += 1
        self._stop.clear()
        await self._stop.wait()
        return False

    def stop_playback(self) -> None:
        self.stopped += 1
        self._stop.set()


class Router:
    def __init__(self, *routes: Route, owns: bool = False) -> None:
        self._routes: Iterator[Route] = iter(routes)
        self.owns = owns

    async def route(self, queue: str) -> Route:
        return next(self._routes)

    def owns_queue(self, queue: str) -> bool:
        return self.owns


class LocalQueues:
    def __init__(self) -> None:
        self.joined: list[tuple[str, float | None]] = []

    async def enter_queue(self, call: Any, action: EnterQueue, *,
                          prior_wait: float | None = None) -> bool:
        self.joined.append((action.queue, prior_wait))
        return True

    def queue_state(self, name: str) -> QueueState | None:
        return QueueState(agents_available=1, waiting=2)


class RecordingMover:
    """Records the requests; answers ``results`` in turn (no SIP)."""

    def __init__(self, *results: bool) -> None:
        self.asked: list[tuple[Move, float]] = []
        self._results = iter(results)
        self.done = asyncio.Event()

    async def move(self, call: Any, action: EnterQueue, to: Move, waited: float) -> bool:
        self.asked.append((to, waited))
        result = next(self._results)
        if result:
            self.done.set()
        return result


ACTION = EnterQueue("egov", (), "kk", {}, None)
MOVE = Move("egov", "sip:queues@b", 3)


def entry(router: Router, mover: RecordingMover, local: LocalQueues) -> OwnedQueues:
    return OwnedQueues(local, router, mover, music=object(), retry_s=RETRY)  # type: ignore[arg-type]


async def test_owned_here_joins_at_once() -> None:
    local = LocalQueues()
    queues = entry(Router(Local(), owns=True), RecordingMover(), local)
    assert await queues.enter_queue(Leg(), ACTION) is True  # type: ignore[arg-type]
    assert local.joined == [("egov", None)]
    assert queues.queue_state("egov") == QueueState(1, 2)


async def test_nobody_owns_it_music_then_joins_with_the_wait() -> None:
    local, leg = LocalQueues(), Leg()
    queues = entry(Router(NoOwner("egov"), NoOwner("egov"), Local()), RecordingMover(), local)
    assert await queues.enter_queue(leg, ACTION) is True  # type: ignore[arg-type]
    [(queue, waited)] = local.joined
    assert queue == "egov" and waited is not None and waited >= 2 * RETRY
    assert leg.played == 2 and leg.stopped == 2
    assert queues.queue_state("egov") is None  # another engine's queue: unknown here


async def test_a_failed_move_is_retried_and_a_moved_call_is_followed_to_its_end() -> None:
    leg, mover, local = Leg(), RecordingMover(False, True), LocalQueues()
    queues = entry(Router(MOVE, MOVE), mover, local)
    task = asyncio.ensure_future(queues.enter_queue(leg, ACTION))  # type: ignore[arg-type]
    await asyncio.wait_for(mover.done.wait(), 1)
    await asyncio.sleep(0.05)
    assert not task.done()  # moved: the anchor relays signalling until the end
    leg.ended.set()
    assert await asyncio.wait_for(task, 1) is True
    (first, w1), (second, w2) = mover.asked
    assert first == second == MOVE and w2 >= w1 + RETRY
    assert local.joined == []


async def test_the_caller_hangs_up_while_nobody_owns_it() -> None:
    leg, local = Leg(), LocalQueues()
    queues = OwnedQueues(local, Router(*[NoOwner("egov")] * 100), RecordingMover(),  # type: ignore[arg-type]
                         retry_s=5.0)
    task = asyncio.ensure_future(queues.enter_queue(leg, ACTION))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    leg.ended.set()
    assert await asyncio.wait_for(task, 1) is True  # at once, not after retry_s
    assert local.joined == []
