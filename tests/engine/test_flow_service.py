"""FlowService on fakes: flows by number, prompts rendered at start, hand-overs to the ports.

The service takes ports: the prompt book, the event log, and the queue and
robot services as :class:`~bailanys.engine.ports.QueueEntry` /
:class:`~bailanys.engine.ports.RobotEntry`; the hand-overs receive the
call's own leg (no downcast of the IVR's narrower view).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bailanys.engine.flowfiles import LINE_TEST_FLOW, SURVEY_FLOW, load_builtin, with_waits
from bailanys.engine.flows import FlowService, FlowSettings
from bailanys.ivr.conditions import QueueState
from bailanys.ivr.model import Collect, Menu, Prompt
from bailanys.ivr.runner import EnterQueue, HandedBack, StartRobot
from bailanys.voice import phrases
from bailanys.voice.phrases import waiting
from tests.engine.fakes import FakeEvents, FakeLeg, FakePrompts

FLOW = """
flow: test
numbers: ["7001"]
languages: [kk, ru]
start: choose
nodes:
  choose:
    type: menu
    prompt: {kk: Бірді немесе екіні басыңыз., ru: Нажмите один или два.}
    options:
      - {key: "1", next: queue}
      - {key: "2", next: robot}
    fallback: bye
  queue:
    type: queue
    queue: support
    fallback: bye
  robot:
    type: robot
    fallback: bye
  bye:
    type: hangup
    prompt: {kk: Сау болыңыз., ru: До свидания.}
"""


class Services:
    """QueueEntry and RobotEntry: what they were handed; ``take`` says if they take it."""

    def __init__(self, take: bool) -> None:
        self.take = take
        self.handed: list[tuple[str, Any, Any]] = []

    async def enter_queue(self, call: Any, action: EnterQueue) -> bool:
        self.handed.append(("queue", call, action))
        return self.take

    def queue_state(self, name: str) -> QueueState | None:
        return None

    async def run(self, call: Any, action: StartRobot) -> bool | HandedBack:
        self.handed.append(("robot", call, action))
        return self.take


async def _service(tmp_path: Path, take: bool) -> tuple[FlowService, Services, FakeEvents,
                                                       FakePrompts]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "test.yaml").write_text(FLOW, encoding="utf-8")
    services, events, prompts = Services(take), FakeEvents(), FakePrompts()
    service = FlowService(
        settings=FlowSettings(flow_dir=str(flows), reload_seconds=0,
                              asr_model_dir=str(tmp_path / "no-models")),
        prompts=prompts, events=events, queues=services, robot=services)
    await service.start()
    return service, services, events, prompts


async def test_numbers_prompts_and_a_queue_hand_over_get_the_leg(tmp_path: Path) -> None:
    service, services, events, prompts = await _service(tmp_path, take=True)
    try:
        assert service.numbers() == ["7001"]
        assert service.for_number("1414") is None
        flow = service.for_number("7001")
        assert flow is not None
        assert ("ru", "Нажмите один или два.") in prompts.added  # rendered before any call
        call = FakeLeg(number="7001")
        call.press("1")
        await asyncio.wait_for(service.factory(flow)(call), 2)
        assert [(kind, who) for kind, who, _ in services.handed] == [("queue", call)]
        assert services.handed[0][2].queue == "support"
        assert events.of("ivr.flow")[0] == {"flow": "test", "version": flow.version,
                                             "number": "7001"}
        assert call.hangups == []  # the queue took it
    finally:
        await service.stop()


async def test_robot_refusing_runs_the_fallback(tmp_path: Path) -> None:
    service, services, events, _ = await _service(tmp_path, take=False)
    try:
        flow = service.for_number("7001")
        assert flow is not None
        call = FakeLeg(number="7001")
        call.press("2")
        await asyncio.wait_for(service.factory(flow)(call), 2)
        assert [(kind, who) for kind, who, _ in services.handed] == [("robot", call)]
        assert call.hangups == [("normal", None)]
        assert events.of("ivr.fallback")[0]["to"] == "bye"
    finally:
        await service.stop()


def test_audio_for_prefers_the_recorded_file(tmp_path: Path) -> None:
    prompts = FakePrompts()
    service = FlowService(settings=FlowSettings(flow_dir=str(tmp_path)), prompts=prompts,
                          events=FakeEvents(), queues=Services(True), robot=Services(True))
    prompt = Prompt(texts={"kk": "Сәлем.", "ru": "Привет."}, files={"kk": "/p/kk.wav"})
    assert prompts.said[id(service.audio_for(prompt, "kk"))] == "file:/p/kk.wav"
    assert prompts.said[id(service.audio_for(prompt, "ru"))] == "ru:Привет."


def test_the_survey_flow_says_the_waiting_phrases() -> None:
    """ivr_flows/survey.yaml keeps the texts of voice/phrases/waiting.py."""
    flow = load_builtin(SURVEY_FLOW)
    texts = [p.texts for p in flow.prompts()]
    assert dict(waiting.SURVEY_QUESTION) in texts
    assert dict(waiting.SURVEY_THANKS) in texts
    assert flow.numbers == ()


def test_the_line_test_says_the_demo_phrases() -> None:
    """ivr_flows/linetest.yaml keeps the texts of voice/phrases (the prompts pre-rendered)."""
    flow = load_builtin(LINE_TEST_FLOW)
    texts = [dict(p.texts) for p in flow.prompts()]
    for prompt_id in phrases.DEMO_PROMPTS:
        assert {lang: phrases.demo_prompt(prompt_id, lang) for lang in ("kk", "ru")} in texts
    assert flow.numbers == ()


def test_with_waits_sets_every_wait_for_the_caller() -> None:
    flow = with_waits(load_builtin(LINE_TEST_FLOW), 3.0)
    menu, keys = flow.node("language"), flow.node("keys")
    assert isinstance(menu, Menu) and isinstance(keys, Collect)
    assert (menu.retry.timeout_s, keys.retry.timeout_s, keys.interdigit_s) == (3.0, 3.0, 3.0)


async def test_engine_numbers_get_the_line_test_unless_a_flow_claims_them(
        tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "test.yaml").write_text(FLOW, encoding="utf-8")
    prompts = FakePrompts()
    service = FlowService(
        settings=FlowSettings(flow_dir=str(flows), reload_seconds=0, no_input_s=3.0,
                              line_test_numbers=("1499", "7001"),
                              asr_model_dir=str(tmp_path / "no-models")),
        prompts=prompts, events=FakeEvents(), queues=Services(True), robot=Services(True))
    await service.start()
    try:
        line_test = service.for_number("1499")
        assert line_test is not None and line_test.name == "linetest"
        assert isinstance(menu := line_test.node("language"), Menu)
        assert menu.retry.timeout_s == 3.0  # engine.no_input_seconds
        flow = service.for_number("7001")
        assert flow is not None and flow.name == "test"  # the flow file's number wins
        assert service.for_number("1414") is None
        assert service.numbers() == ["1499", "7001"]
        assert ("ru", phrases.demo_prompt("goodbye", "ru")) in prompts.added
        call = FakeLeg(number="1499", silence_s=0.01)
        call.press("2#")
        await asyncio.wait_for(service.factory(line_test)(call), 3)
        assert call.language == "ru" and call.hangups == [("normal", None)]
        assert prompts.said[id(call.played[-2])] == "ru:readback "
    finally:
        await service.stop()
