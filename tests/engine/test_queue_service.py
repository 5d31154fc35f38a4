"""QueueService on fakes: hold -> ring -> bridge, a hang-up while ringing, a callback, the survey.

The service takes ports (events, prompts, media legs, a dialer): here
fakes from tests/engine/fakes.py, with the real queue core and a real
queues file, on the real loop (prompts last milliseconds).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bailanys.engine.causes import Cause
from bailanys.engine.queues import QueueService, QueueSettings
from bailanys.engine.reconcile import Break
from bailanys.ivr.runner import EnterQueue
from bailanys.voice.phrases import waiting
from tests.engine.fakes import FakeDialer, FakeEvents, FakeLeg, FakeMedia, FakePrompts, wait_until

QUEUES = """
[queues.support]
skills = ["support"]
announce_interval_s = 5
ring_timeout_s = {ring}
wrap_up_s = 1
callback = true
callback_key = "1"
survey = {survey}

[agents.1001]
skills = {{ ru = 10, kk = 10, support = 5 }}
"""


class Rig:
    def __init__(self, tmp_path: Path, *, ring_s: float = 6, survey: bool = False,
                 registered: tuple[str, ...] = ("1001",), breaks: dict[str, Break] | None = None,
                 ) -> None:
        path = tmp_path / "queues.toml"
        path.write_text(QUEUES.format(ring=ring_s, survey=str(survey).lower()), encoding="utf-8")
        self.events = FakeEvents()
        self.prompts = FakePrompts()
        self.media = FakeMedia()
        self.dialer = FakeDialer(registered)
        self.stopping = False
        self.service = QueueService(
            settings=QueueSettings(file=str(path), tick_s=0.01, record=True,
                                   record_dir=str(tmp_path / "rec"), languages=("kk", "ru")),
            events=self.events, prompts=self.prompts, media=self.media, dialer=self.dialer,
            stopping=lambda: self.stopping, breaks=lambda: breaks or {},
        )

    def said(self, leg: FakeLeg) -> list[str]:
        return [self.prompts.said.get(id(a), "?") for a in leg.played]


def enter(service: QueueService, leg: FakeLeg, language: str | None = "ru") -> asyncio.Task[bool]:
    action = EnterQueue("support", ("support",) + ((language,) if language else ()), language,
                        {}, None)
    return asyncio.get_running_loop().create_task(service.enter_queue(leg, action))


async def test_no_queue_file_takes_the_fallback(tmp_path: Path) -> None:
    service = QueueService(
        settings=QueueSettings(file=""), events=FakeEvents(), prompts=FakePrompts(),
        media=FakeMedia(), dialer=FakeDialer(), stopping=lambda: False, breaks=dict)
    await service.start()
    assert await service.enter_queue(FakeLeg(), EnterQueue("support", (), "ru", {}, None)) is False
    assert service.queue_state("support") is None
    await service.stop()


async def test_registered_agent_is_rung_and_bridged_then_agent_hangs_up(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    await rig.service.start()
    try:
        assert rig.events.of("agent.state")[-1]["state"] == "available"  # the phone is registered
        caller = FakeLeg()
        held = enter(rig.service, caller)
        await wait_until(lambda: rig.dialer.legs)
        agent = rig.dialer.legs[0]
        assert agent.target == "1001" and rig.dialer.rings == [("1001", 6.0)]
        agent.answer()
        await wait_until(lambda: ("bridge", (caller.session, agent.session)) in rig.media.log)
        assert ("record", tmp_path / "rec" / "caller-1.wav") in rig.media.log
        assert rig.events.of("call.recording")[0]["agent"] == "1001"
        assert "call.connected" in rig.events.types()
        await agent.hangup("remote_bye", Cause.AGENT)
        assert await asyncio.wait_for(held, 2) is True
        assert caller.hangups == [("agent_hangup", Cause.AGENT)]
        assert ("unbridge", caller.session) in rig.media.log
        assert ("stop_recording", caller.session) in rig.media.log
    finally:
        await rig.service.stop()


async def test_caller_hanging_up_while_the_agent_rings_cancels_the_ring(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    await rig.service.start()
    try:
        caller = FakeLeg()
        held = enter(rig.service, caller)
        await wait_until(lambda: rig.dialer.legs)
        agent = rig.dialer.legs[0]
        await caller.end("remote_bye", Cause.CALLER)
        held.cancel()  # the call's end cancels its flow task, and the queue with it
        with pytest.raises(asyncio.CancelledError):
            await held
        await wait_until(lambda: agent.hangups)
        assert agent.cancelled
        assert agent.hangups == [("ring_cancelled", Cause.CALLER)]
        assert rig.events.of("queue.abandoned")[0]["cause"] == "caller"
    finally:
        await rig.service.stop()


async def test_an_unanswered_ring_is_cancelled_after_ring_timeout(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ring_s=1)
    await rig.service.start()
    try:
        held = enter(rig.service, FakeLeg())
        await wait_until(lambda: rig.dialer.legs and rig.dialer.legs[0].ended.is_set())
        assert rig.dialer.legs[0].cancelled
        await wait_until(lambda: "agent.no_answer" in rig.events.types())
        assert rig.dialer.legs[0].hangups == []  # ended by the ring: "no_answer", no BYE
        held.cancel()
        await asyncio.gather(held, return_exceptions=True)
    finally:
        await rig.service.stop()


async def test_callback_requested_then_called_back_and_bridged(tmp_path: Path) -> None:
    rig = Rig(tmp_path, registered=())  # no agent yet: the caller waits
    await rig.service.start()
    try:
        caller = FakeLeg()
        held = enter(rig.service, caller)
        offer = f"ru:{waiting.text(waiting.CALLBACK_OFFER, 'ru')}"
        await wait_until(lambda: offer in [rig.prompts.said.get(id(a))
                                           for a in caller.session.player.played])
        caller.press("1")
        assert await asyncio.wait_for(held, 2) is True
        assert caller.hangups == [("callback_requested", None)]
        assert rig.said(caller)[-1] == f"ru:{waiting.text(waiting.CALLBACK_CONFIRMED, 'ru')}"
        rig.dialer.registered_users.add("1001")
        rig.service.registration_changed("1001", True)  # an agent is free: call back
        await wait_until(lambda: rig.dialer.legs)
        back = rig.dialer.legs[0]
        assert back.target == "sip:87011234567@192.0.2.10:5062"
        assert back.peer_role is Cause.CALLER
        back.answer()
        await wait_until(lambda: len(rig.dialer.legs) == 2)
        agent = rig.dialer.legs[1]
        assert agent.target == "1001"
        assert rig.events.of("queue.callback_answered")[0]["leg"] == back.id
        agent.answer()
        await wait_until(lambda: ("bridge", (back.session, agent.session)) in rig.media.log)
        await back.end("remote_bye", Cause.CALLER)
        await wait_until(lambda: agent.hangups)
        assert agent.hangups == [("caller_hangup", Cause.CALLER)]
    finally:
        await rig.service.stop()


async def test_callback_not_answered_is_the_callers(tmp_path: Path) -> None:
    rig = Rig(tmp_path, registered=())
    await rig.service.start()
    try:
        caller = FakeLeg()
        held = enter(rig.service, caller)
        await wait_until(lambda: caller.session.player.played)
        caller.press("1")
        await asyncio.wait_for(held, 2)
        rig.service.registration_changed("1001", True)
        await wait_until(lambda: rig.dialer.legs)
        rig.dialer.legs[0].refuse()
        await wait_until(lambda: "queue.abandoned" in rig.events.types())
        assert rig.events.of("queue.abandoned")[0]["cause"] == "caller"
        assert len(rig.dialer.legs) == 1  # the agent was not rung
    finally:
        await rig.service.stop()


async def test_survey_after_the_agent_hangs_up_runs_the_yaml_flow(tmp_path: Path) -> None:
    rig = Rig(tmp_path, survey=True)
    await rig.service.start()
    try:
        caller = FakeLeg()
        held = enter(rig.service, caller)
        await wait_until(lambda: rig.dialer.legs)
        agent = rig.dialer.legs[0]
        agent.answer()
        await wait_until(lambda: any(k == "bridge" for k, _ in rig.media.log))
        await agent.hangup("remote_bye", Cause.AGENT)
        question = f"ru:{waiting.text(waiting.SURVEY_QUESTION, 'ru')}"
        await wait_until(lambda: question in rig.said(caller))
        caller.press("5")
        assert await asyncio.wait_for(held, 2) is True
        answered = rig.events.of("survey.answered")
        assert [(a["question"], a["score"]) for a in answered] == [("satisfaction", 5)]
        assert rig.said(caller)[-1] == f"ru:{waiting.text(waiting.SURVEY_THANKS, 'ru')}"
        assert caller.hangups == [("survey_done", None)]
        assert ("ru", waiting.text(waiting.SURVEY_QUESTION, "ru")) in rig.prompts.added
    finally:
        await rig.service.stop()


async def test_breaks_open_before_a_restart_are_resumed(tmp_path: Path) -> None:
    rig = Rig(tmp_path, breaks={"1001": Break("lunch", 0.0)})
    await rig.service.start()
    try:
        states = rig.events.of("agent.state")
        assert states[-1]["state"] == "break" and states[-1]["reason"] == "lunch"
    finally:
        await rig.service.stop()


async def test_drain_drops_the_waiting_callers_with_engine_shutdown(tmp_path: Path) -> None:
    rig = Rig(tmp_path, registered=())
    await rig.service.start()
    try:
        held = enter(rig.service, FakeLeg())
        await wait_until(lambda: "queue.joined" in rig.events.types())
        rig.stopping = True
        rig.service.drain()
        assert rig.events.of("queue.abandoned")[0]["cause"] == "engine_shutdown"
        held.cancel()
        await asyncio.gather(held, return_exceptions=True)
    finally:
        await rig.service.stop()
