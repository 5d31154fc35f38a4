"""The anchor's side of a move (engine/callmover.py) on fakes: the INVITE's
target and headers, the bridge, and who ends what."""

from __future__ import annotations

import asyncio
from typing import Any

from bailanys.engine.callmover import SipMover
from bailanys.engine.causes import Cause
from bailanys.engine.registrar import Binding
from bailanys.ivr.runner import EnterQueue
from bailanys.ownership.route import Move

PROXY = ("10.0.0.1", 5060)
TO = Move("support", "10.0.0.12:5070", 3)
ACTION = EnterQueue(queue="support", skills=("support", "ru"), language="ru", variables={})


class Leg:
    """A call leg: the caller's, or the one to the owner."""

    def __init__(self, name: str) -> None:
        self.id = name
        self.language: str | None = "ru"
        self.session = object()
        self.ended = asyncio.Event()
        self.end_reason: str | None = None
        self.end_cause: Cause | None = None
        self.result: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.final_status: int | None = None
        self.cancelled = False
        self.playing_stopped = 0

    def stop_playback(self) -> None:
        self.playing_stopped += 1

    def cancel(self) -> None:
        self.cancelled = True

    async def end(self, reason: str, cause: Cause | None = None) -> None:
        if not self.ended.is_set():
            self.end_reason, self.end_cause = reason, cause
            self.ended.set()

    async def hangup(self, reason: str, cause: Cause | None = None) -> None:
        await self.end(reason, cause)


class Media:
    def __init__(self) -> None:
        self.bridged: list[tuple[object, object]] = []
        self.unbridged: list[object] = []

    def bridge(self, a: object, b: object) -> None:
        self.bridged.append((a, b))

    def unbridge(self, a: object) -> None:
        self.unbridged.append(a)


class Starts:
    def __init__(self) -> None:
        self.placed: list[tuple[Binding, list[tuple[str, str]]]] = []
        self.leg: Leg | None = None

    async def __call__(self, binding: Binding, headers: Any = ()) -> Any:
        self.placed.append((binding, list(headers)))
        self.leg = Leg("out")
        return self.leg


def mover() -> tuple[SipMover, Starts, Media]:
    starts, media = Starts(), Media()
    return SipMover(start=starts, media=media, proxy=PROXY, answer_s=0.5), starts, media  # type: ignore[arg-type]


async def test_the_invite_goes_to_the_queue_at_the_owner_through_the_proxy() -> None:
    m, starts, media = mover()
    caller = Leg("call-1")
    task = asyncio.create_task(m.move(caller, ACTION, TO, 12.25))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    ((binding, headers),) = starts.placed
    assert binding.contact == "sip:support@10.0.0.12:5070" and binding.source == PROXY
    assert dict(headers) == {"X-Bailanys-Call": "call-1", "X-Bailanys-Queue": "support",
                             "X-Bailanys-Waited": "12.250", "X-Bailanys-Lang": "ru",
                             "X-Bailanys-Skills": "support"}
    assert starts.leg is not None
    starts.leg.result.set_result(True)
    await asyncio.sleep(0.01)
    assert media.bridged == [(caller.session, starts.leg.session)]
    # the owner ends its leg (the conversation is over): the caller is hung up
    await starts.leg.end("remote_bye", Cause.AGENT)
    assert await task is True
    assert caller.end_reason == "remote_bye" and caller.end_cause is Cause.AGENT


async def test_the_callers_hang_up_ends_the_owners_leg() -> None:
    m, starts, _ = mover()
    caller = Leg("call-1")
    task = asyncio.create_task(m.move(caller, ACTION, TO, 1.0))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert starts.leg is not None
    starts.leg.result.set_result(True)
    await asyncio.sleep(0.01)
    await caller.end("remote_bye", Cause.CALLER)
    assert await task is True
    assert starts.leg.end_cause is Cause.CALLER


async def test_a_dead_owner_gives_the_caller_back() -> None:
    m, starts, media = mover()
    caller = Leg("call-1")
    task = asyncio.create_task(m.move(caller, ACTION, TO, 1.0))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert starts.leg is not None
    starts.leg.result.set_result(True)
    await asyncio.sleep(0.01)
    await starts.leg.end("rtp_timeout")  # no RTP from the owner: killed
    assert await task is False  # moved again by OwnedQueues
    assert not caller.ended.is_set() and media.unbridged == [caller.session]


async def test_an_owner_that_does_not_answer_leaves_the_caller_here() -> None:
    m, starts, media = mover()
    caller = Leg("call-1")
    assert await m.move(caller, ACTION, TO, 1.0) is False  # type: ignore[arg-type]
    assert starts.leg is not None and starts.leg.cancelled
    assert starts.leg.end_reason == "no_answer"
    assert media.bridged == [] and not caller.ended.is_set()
