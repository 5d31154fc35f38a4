"""Transfers.transfer on the queue service with fakes (tests/engine/fakes.py):
blind to a queue and to a number (answered, and not: back to its queue),
attended (consult, complete, cancel), the refusals, a caller leaving while
the number rings. The real-peer run is tests/peers/test_transfers.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bailanys.engine.causes import Cause
from bailanys.engine.queues import QueueService, QueueSettings
from bailanys.engine.transfers import TransferError, Transfers
from bailanys.ivr.runner import EnterQueue
from bailanys.transfers.settings import TransfersConfig
from tests.engine.fakes import (
    FakeDialer,
    FakeEvents,
    FakeLeg,
    FakeMedia,
    FakeOutbound,
    FakePrompts,
    wait_until,
)

QUEUES = """
[queues.support]
skills = ["support"]
ring_timeout_s = 5
wrap_up_s = 1
[queues.second]
skills = ["second"]
ring_timeout_s = 5
wrap_up_s = 1
[agents.1001]
skills = { ru = 10, support = 5 }
[agents.1002]
skills = { ru = 10, second = 5 }
"""
NUMBER = "sip:2000@192.0.2.10:5070"


class Rig:
    def __init__(self, service: QueueService, dialer: FakeDialer, events: FakeEvents,
                 media: FakeMedia) -> None:
        self.service, self.dialer, self.events, self.media = service, dialer, events, media
        self.transfers = Transfers(
            config=TransfersConfig(targets={"second": "queue:second", "line2": NUMBER,
                                            "ghost": "queue:nope"},
                                   kk={"second": "Б", "line2": "Е", "ghost": "Г"},
                                   ru={"second": "В", "line2": "В", "ghost": "Г"}),
            queues=service, dialer=dialer, events=events, ring_s=0.3)
        self.caller = FakeLeg()
        self.held: asyncio.Task[bool] | None = None

    async def bridged(self) -> FakeOutbound:
        """The caller in ``support``, answered by 1001."""
        action = EnterQueue("support", ("support", "ru"), "ru", {}, None)
        self.held = asyncio.get_running_loop().create_task(
            self.service.enter_queue(self.caller, action))
        await wait_until(lambda: self.dialer.leg_to("1001"))
        agent = self.dialer.leg_to("1001")
        assert agent is not None
        agent.answer()
        await wait_until(lambda: self.service.transferable(self.caller.id) is not None)
        return agent

    def leg(self, target: str) -> FakeOutbound:
        leg = self.dialer.leg_to(target)
        assert leg is not None
        return leg


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    path = tmp_path / "queues.toml"
    path.write_text(QUEUES, encoding="utf-8")
    events, media, dialer = FakeEvents(), FakeMedia(), FakeDialer(("1001", "1002"))
    service = QueueService(
        settings=QueueSettings(file=str(path), tick_s=0.01, record=False,
                               record_dir=str(tmp_path / "rec"), languages=("kk", "ru")),
        events=events, prompts=FakePrompts(), media=media, dialer=dialer,
        stopping=lambda: False, breaks=dict)
    await service.start()
    r = Rig(service, dialer, events, media)
    try:
        yield r
    finally:
        if r.held is not None:
            r.held.cancel()
            await asyncio.gather(r.held, return_exceptions=True)
        await r.transfers.stop()
        await service.stop()


async def test_blind_to_a_queue(rig: Rig) -> None:
    agent = await rig.bridged()
    await rig.transfers.transfer(rig.caller.id, "1001", "second", "blind")
    await wait_until(lambda: agent.hangups)
    assert agent.hangups[0][0] == "transferred"
    assert rig.events.of("call.transferred") == [{
        "queue": "support", "agent": "1001", "mode": "blind", "target": "second",
        "target_kind": "queue", "via": "desktop"}]
    await wait_until(lambda: rig.dialer.leg_to("1002"))  # rung for the caller in "second"
    joined = rig.events.of("queue.joined")
    assert [j["queue"] for j in joined] == ["support", "second"]
    assert joined[1]["language"] == "ru"  # its language kept
    assert "wrap_up" in [s["state"] for s in rig.events.of("agent.state")
                         if s["agent"] == "1001"]
    rig.leg("1002").answer()
    await wait_until(lambda: ("bridge", (rig.caller.session, rig.leg("1002").session))
                     in rig.media.log)


async def test_blind_to_a_number_answered_then_hung_up(rig: Rig) -> None:
    agent = await rig.bridged()
    await rig.transfers.transfer(rig.caller.id, "1001", "line2", "blind")
    await wait_until(lambda: rig.dialer.leg_to(NUMBER))
    number = rig.leg(NUMBER)
    number.answer()
    await wait_until(lambda: ("bridge", (rig.caller.session, number.session)) in rig.media.log)
    assert agent.hangups and rig.events.of("call.transferred")[0]["target_kind"] == "number"
    await number.hangup("remote_bye", Cause.AGENT)
    assert rig.held is not None and await asyncio.wait_for(rig.held, 2) is True
    assert rig.caller.hangups == [("agent_hangup", Cause.AGENT)]


async def test_blind_to_a_number_not_answered_goes_back_to_its_queue(rig: Rig) -> None:
    await rig.bridged()
    await rig.transfers.transfer(rig.caller.id, "1001", "line2", "blind")
    await wait_until(lambda: rig.dialer.leg_to(NUMBER))
    await wait_until(lambda: len(rig.events.of("queue.joined")) == 2, within=3)  # ring_s 0.3
    assert [j["queue"] for j in rig.events.of("queue.joined")] == ["support", "support"]
    assert rig.leg(NUMBER).cancelled and not rig.caller.hangups  # never dropped


async def test_caller_leaving_while_the_number_rings_cancels_it(rig: Rig) -> None:
    await rig.bridged()
    rig.transfers.ring_s = 5.0
    await rig.transfers.transfer(rig.caller.id, "1001", "line2", "blind")
    await wait_until(lambda: rig.dialer.leg_to(NUMBER))
    assert rig.held is not None
    await rig.caller.end("remote_bye", Cause.CALLER)
    rig.held.cancel()
    await asyncio.gather(rig.held, return_exceptions=True)
    await wait_until(lambda: rig.leg(NUMBER).hangups)
    assert rig.leg(NUMBER).cancelled


async def test_attended_consult_then_complete(rig: Rig) -> None:
    agent = await rig.bridged()
    consult = asyncio.create_task(
        rig.transfers.transfer(rig.caller.id, "1001", "line2", "attended"))
    await wait_until(lambda: rig.dialer.leg_to(NUMBER))
    number = rig.leg(NUMBER)
    number.answer()
    await consult
    assert ("bridge", (agent.session, number.session)) in rig.media.log  # operator <-> target
    assert rig.events.of("call.transferred") == []  # not until it completes
    await rig.transfers.transfer(rig.caller.id, "1001", "", "complete")
    await wait_until(lambda: agent.hangups)
    assert ("bridge", (rig.caller.session, number.session)) in rig.media.log
    assert rig.events.of("call.transferred")[0]["mode"] == "attended"


async def test_attended_cancel_returns_the_operator_to_the_caller(rig: Rig) -> None:
    agent = await rig.bridged()
    consult = asyncio.create_task(
        rig.transfers.transfer(rig.caller.id, "1001", "line2", "attended"))
    await wait_until(lambda: rig.dialer.leg_to(NUMBER))
    rig.leg(NUMBER).answer()
    await consult
    await rig.transfers.transfer(rig.caller.id, "1001", "", "cancel")
    assert rig.leg(NUMBER).hangups[0][0] == "transfer_cancelled"
    assert rig.media.log[-1] == ("bridge", (rig.caller.session, agent.session))
    assert not agent.hangups and rig.events.of("call.transferred") == []


async def test_no_second_transfer_while_consulting(rig: Rig) -> None:
    await rig.bridged()
    consult = asyncio.create_task(
        rig.transfers.transfer(rig.caller.id, "1001", "line2", "attended"))
    await wait_until(lambda: rig.dialer.leg_to(NUMBER))
    rig.leg(NUMBER).answer()
    await consult
    with pytest.raises(TransferError, match="complete or cancel it first"):
        await rig.transfers.transfer(rig.caller.id, "1001", "second", "blind")
    with pytest.raises(TransferError, match="complete or cancel it first"):
        await rig.transfers.transfer(rig.caller.id, "1001", "line2", "attended")
    assert not rig.leg(NUMBER).hangups and rig.events.of("call.transferred") == []


async def test_agent_hanging_up_while_consulting_completes_the_transfer(rig: Rig) -> None:
    agent = await rig.bridged()
    consult = asyncio.create_task(
        rig.transfers.transfer(rig.caller.id, "1001", "line2", "attended"))
    await wait_until(lambda: rig.dialer.leg_to(NUMBER))
    number = rig.leg(NUMBER)
    number.answer()
    await consult
    await agent.hangup("remote_bye", Cause.AGENT)  # the operator hangs up, as on a PBX
    await wait_until(lambda: ("bridge", (rig.caller.session, number.session)) in rig.media.log)
    assert rig.events.of("call.transferred")[0]["mode"] == "attended"
    assert not rig.caller.hangups


async def test_attended_not_answered_is_refused_back_with_the_caller(rig: Rig) -> None:
    agent = await rig.bridged()
    with pytest.raises(TransferError, match="did not answer"):
        await rig.transfers.transfer(rig.caller.id, "1001", "line2", "attended")
    assert rig.media.log[-1] == ("bridge", (rig.caller.session, agent.session))


@pytest.mark.parametrize("agent, target, mode, words", [
    ("1002", "second", "blind", "not talking to 1002"),
    ("1001", "nope", "blind", "no transfer target"),
    ("1001", "ghost", "blind", "no queue 'nope'"),
    ("1001", "second", "attended", "transfer to a queue blind"),
    ("1001", "second", "sideways", "unknown transfer mode"),
    ("1001", "", "complete", "no consultation"),
    ("1001", "", "cancel", "no consultation"),
])
async def test_refusals(rig: Rig, agent: str, target: str, mode: str, words: str) -> None:
    await rig.bridged()
    with pytest.raises(TransferError, match=words):
        await rig.transfers.transfer(rig.caller.id, agent, target, mode)
    assert rig.service.transferable(rig.caller.id) is not None  # still talking
    assert rig.events.of("call.transferred") == []


def test_targets_for_the_desktop(tmp_path: Path) -> None:
    config = TransfersConfig(targets={"a": "queue:q"}, kk={"a": "А"}, ru={"a": "Ә"})
    t = Transfers(config=config, queues=None, dialer=None, events=None)  # type: ignore[arg-type]
    assert t.targets() == [{"name": "a", "kind": "queue", "kk": "А", "ru": "Ә"}]
