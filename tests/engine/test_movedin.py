"""A call moved to its queue's owner, on the owner's side (engine/movedin.py and
the UAS's reading of X-Bailanys-*), on fakes: a real endpoint, no sockets."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bailanys.engine.call import CallState
from bailanys.engine.movedin import MovedCallRouter
from bailanys.engine.ports import CallLeg
from bailanys.ivr.runner import EnterQueue
from bailanys.ownership.rebuild import Place
from bailanys.sip.headers import NameAddr
from tests.engine.corefakes import HOST, OFFER, Rig, in_dialog, sip


class Queues:
    """The queue service: records what joined, lets it go at once."""

    def __init__(self) -> None:
        self.joined: list[tuple[str, EnterQueue, float | None]] = []

    async def enter_queue(self, call: CallLeg, action: EnterQueue, *,
                          prior_wait: float | None = None) -> bool:
        self.joined.append((call.id, action, prior_wait))
        return True


def moved_invite(headers: str, number: str = "support") -> bytes:
    return sip(f"""
        INVITE sip:{number}@{HOST} SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKmove1
        Max-Forwards: 70
        From: "Bailanys" <sip:bailanys@192.0.2.20:5060>;tag=a1
        To: <sip:support@{HOST}>
        Call-ID: c1@192.0.2.10
        CSeq: 1 INVITE
        Contact: <sip:bailanys@192.0.2.20:5060>
        {headers}
        Content-Type: application/sdp
        """, OFFER)


MOVE = ("X-Bailanys-Call: anchor-call-1\nX-Bailanys-Queue: support\n"
        "X-Bailanys-Waited: 4.500\nX-Bailanys-Lang: ru\nX-Bailanys-Skills: support")


def rig_with(queues: Queues, *, moves: bool = True, place: Place | None = None,
             answer_delay_s: float = 2.0, owns: bool = True) -> Rig:
    rig = Rig(answer_delay_s=answer_delay_s)  # a moved call is answered at once all the same
    rig.uas.settings = dataclasses.replace(rig.uas.settings, moves=moves)
    rig.uas._owns_queue = lambda queue: owns  # noqa: SLF001 - the wiring's job, on fakes
    rig.uas._router = MovedCallRouter(  # noqa: SLF001 - the wiring's job, on fakes
        rig.router, queues, lambda: frozenset({"support"}),
        attach=lambda call_id, queue: place, wall=lambda: 1000.0)
    return rig


@pytest.fixture
async def queues() -> AsyncIterator[Queues]:
    yield Queues()


async def _answer_and_ack(rig: Rig) -> None:
    rig.feed(moved_invite(MOVE))
    await rig.settle()
    ok = rig.wire.responses()[-1]
    assert ok.status == 200, rig.wire.statuses()
    tag = NameAddr.parse(ok.headers.get("To") or "").tag
    assert tag
    rig.feed(in_dialog("ACK", tag, cseq=1, branch="z9hG4bKack1"))
    await rig.settle(10)


async def test_a_moved_call_joins_its_queue_under_the_anchors_id(queues: Queues) -> None:
    rig = rig_with(queues)
    try:
        await _answer_and_ack(rig)
        ((call_id, action, prior),) = queues.joined
        assert call_id == "anchor-call-1" and prior == 4.5
        assert action.queue == "support" and action.language == "ru"
        assert action.skills == ("support", "ru")
        # the queue let it go: this leg is hung up; the anchor writes the call's events
        assert rig.wire.requests("BYE")
        assert rig.events.types() == []
        assert not rig.table.by_dialog
    finally:
        await rig.close()


async def test_a_rebuilt_place_keeps_its_first_arrival(queues: Queues) -> None:
    place = Place("anchor-call-1", "support", arrived=990.0, priority=0, language="ru",
                  skills=(), orig_position=1)
    rig = rig_with(queues, place=place)
    try:
        await _answer_and_ack(rig)
        ((_, _, prior),) = queues.joined
        assert prior == 10.0  # wall 1000 - arrived 990, more than the header's 4.5
    finally:
        await rig.close()


@pytest.mark.parametrize("bad", [
    "X-Bailanys-Call: a1\nX-Bailanys-Queue: support\nX-Bailanys-Waited: -3",
    "X-Bailanys-Call: a1\nX-Bailanys-Waited: 1",
    "X-Bailanys-Call: a b\nX-Bailanys-Queue: support\nX-Bailanys-Waited: 1",
])
async def test_broken_move_headers_get_400(queues: Queues, bad: str) -> None:
    rig = rig_with(queues)
    try:
        rig.feed(moved_invite(bad))
        await rig.settle()
        assert rig.wire.statuses()[-1] == 400
        assert "Bad Move" in (rig.wire.responses()[-1].reason or "")
        assert rig.events.types() == [] and rig.legs.open_now == []
    finally:
        await rig.close()


async def test_without_moves_the_headers_are_ignored(queues: Queues) -> None:
    rig = rig_with(queues, moves=False, answer_delay_s=0.0)
    try:
        rig.feed(moved_invite(MOVE, number="1414"))
        await rig.settle()
        (call,) = rig.table.by_dialog.values()
        assert call.id != "anchor-call-1" and call.moved is None
        assert rig.events.types() == ["call.offered", "call.answered"]
        assert call.state is CallState.ANSWERED
    finally:
        await rig.close()


async def test_a_queue_dialled_without_a_move_is_hung_up(queues: Queues) -> None:
    rig = rig_with(queues, answer_delay_s=0.0)
    try:
        rig.feed(moved_invite("", number="support"))
        await rig.settle()
        ok = rig.wire.responses()[-1]
        tag = NameAddr.parse(ok.headers.get("To") or "").tag
        assert ok.status == 200 and tag
        rig.feed(in_dialog("ACK", tag, cseq=1, branch="z9hG4bKack1"))
        await rig.settle(10)
        assert queues.joined == []
        assert rig.events.of("call.ended")["reason"] == "not_a_move"
    finally:
        await rig.close()


class Holding(Queues):
    """Keeps the caller until its leg ends (the queue service reads the leg's
    ``end_cause`` for its ``queue.abandoned``)."""

    async def enter_queue(self, call: CallLeg, action: EnterQueue, *,
                          prior_wait: float | None = None) -> bool:
        self.joined.append((call.id, action, prior_wait))
        await call.ended.wait()
        return True


async def test_a_moved_call_whose_anchor_falls_silent_ends_as_engine_failure() -> None:
    queues = Holding()
    rig = rig_with(queues)
    try:
        await _answer_and_ack(rig)
        (call,) = rig.table.by_dialog.values()
        assert call.session.on_timeout is not None
        call.session.on_timeout()  # the hub: no RTP from the anchor any more
        await rig.settle(10)
        assert call.end_cause is not None and call.end_cause.value == "engine_failure"
        assert rig.events.types() == []  # the call's end is not this engine's to write
    finally:
        await rig.close()


async def test_a_move_to_a_queue_not_owned_here_is_refused_503(queues: Queues) -> None:
    """The anchor read a stale lease: 503, and it tries again (music meanwhile)."""
    rig = rig_with(queues, owns=False)
    try:
        rig.feed(moved_invite(MOVE))
        await rig.settle()
        assert rig.wire.statuses()[-1] == 503
        assert rig.events.types() == [] and rig.legs.open_now == [] and queues.joined == []
    finally:
        await rig.close()
