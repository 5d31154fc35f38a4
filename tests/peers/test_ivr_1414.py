"""ivr_flows/1414.yaml on the engine, walked by SIPp with RFC 2833 digits.

The flow branches on the time of day (21:00-09:00 the robot alone), so the
tests set the flows' clock to a weekday morning in Almaty.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bailanys.config import PROJECT_ROOT
from bailanys.ivr.loader import load_flow
from bailanys.ivr.model import Hangup, Prompt, QueueNode, Say
from tests.peers.conftest import (
    EngineFactory,
    EngineUnderTest,
    events_of,
    needs_sipp,
    session_watch,
    sipp,
    wait_until_idle,
)
from tests.peers.sipp import ulaw_wav_bytes

pytestmark = [pytest.mark.peer, needs_sipp]

FLOW = PROJECT_ROOT / "ivr_flows" / "1414.yaml"
MORNING = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Asia/Almaty"))  # a Monday


async def _engine(engine_factory: EngineFactory, flow_dir: Path) -> EngineUnderTest:
    eng = await engine_factory(ivr={"flow_dir": str(flow_dir)}, engine={"numbers": ()})
    eng.ivr.clock = lambda: MORNING
    return eng


def _frames(eng: EngineUnderTest, prompt: Prompt | None, lang: str) -> int:
    assert prompt is not None
    return eng.ivr.audio_for(prompt, lang).frames


async def test_walk_to_the_complaints_queue(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """Language 2 (Russian), main menu 5 (complaint), until the call reaches a queue node."""
    flow_dir = tmp_path / "flows"
    flow_dir.mkdir()
    shutil.copy(FLOW, flow_dir / "1414.yaml")
    eng = await _engine(engine_factory, flow_dir)
    async with session_watch(eng) as sessions:
        res = await sipp(eng, "ivr_1414_walk.xml", tmp_path / "sipp", timeout_s=90)
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)

    events = await events_of(eng)
    call_ids = {e.call_id for e in events if e.call_id}
    assert len(call_ids) == 1
    kinds = [e.type for e in events]
    assert kinds[0] == "call.offered"
    started = [e for e in events if e.type == "ivr.started"]
    assert started and started[0].data["flow"] == "hotline-1414"

    nodes = [e.data["node"] for e in events if e.type == "ivr.node"]
    assert nodes == [
        "greeting", "language", "set_ru", "hours", "main_menu", "complaint",
        "queue_complaints", "busy",
    ], nodes
    inputs = [(e.data["node"], e.data["source"], e.data["value"])
              for e in events if e.type == "ivr.input"]
    assert inputs == [("language", "dtmf", "2"), ("main_menu", "dtmf", "5")]
    assert [e.data["digit"] for e in events if e.type == "dtmf"] == ["2", "5"]
    assert {e.data["source"] for e in events if e.type == "dtmf"} == {"rfc4733"}
    assert [e.data["language"] for e in events if e.type == "call.language"] == ["ru"]
    queued = [e for e in events if e.type == "ivr.queue"]
    assert len(queued) == 1
    assert queued[0].data["queue"] == "complaints"
    assert queued[0].data["skills"] == ["complaints", "ru"]
    fallback = [e for e in events if e.type == "ivr.fallback"]
    assert fallback and fallback[0].data["to"] == "busy"
    ended = [e for e in events if e.type == "call.ended"]
    assert len(ended) == 1 and ended[0].data["reason"] == "no_agents"
    assert ended[0].data["cause"] == "flow"

    # The prompts went out as RTP: the complaint notice and the busy message
    # play to their end, in Russian. The queue node's own prompt ("connecting
    # you") is the queue's to say once the caller joined: with no queue to
    # join, the caller is not told it is being connected and then that
    # everyone is busy.
    flow, problems = load_flow(flow_dir / "1414.yaml")
    assert flow is not None, problems
    complaint, queue, busy = (flow.nodes[n] for n in ("complaint", "queue_complaints", "busy"))
    assert isinstance(complaint, Say) and isinstance(queue, QueueNode)
    assert isinstance(busy, Hangup)
    assert queue.prompt is not None and "бесплатный" in queue.prompt.texts["ru"]
    least = sum(_frames(eng, p, "ru") for p in (complaint.prompt, busy.prompt))
    assert len(sessions) == 1
    session = sessions[0]
    assert session.player.frames_played >= least
    assert session.stats.sent >= least


#: The prompts of the silent caller's path (greeting, language, connecting, busy).
SHORTENED = (
    "      kk: Бірыңғай байланыс орталығына қош келдіңіз. Қоңырау тегін.\n"
    "      ru: Добро пожаловать в единый контакт-центр. Звонок бесплатный.\n",
    "      kk: Қазақ тілі үшін бірді басыңыз немесе «қазақша» деп айтыңыз.\n"
    "      ru: Для русского языка нажмите два или скажите «русский».\n",
    "    kk: Операторға қосамын. Қоңырау тегін. Күте тұрыңыз.\n"
    "    ru: Соединяю с оператором. Звонок бесплатный. Пожалуйста, оставайтесь на линии.\n",
    "      kk: Өкінішке орай, қазір барлық операторлар бос емес. Кейінірек қайта қоңырау "
    "шалыңыз. Қоңырау тегін.\n"
    "      ru: К сожалению, сейчас все операторы заняты. Пожалуйста, перезвоните позже. "
    "Звонок бесплатный.\n",
)


async def test_silent_caller_retries_then_fallback(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """No input at all: the language menu is asked three times, then the fallback
    (a bilingual operator queue; with no queue manager, the busy message)."""
    flow_dir = tmp_path / "flows"
    flow_dir.mkdir()
    # 1414.yaml with the no-input timeout shortened to one second (the test's
    # only change), so the three tries take seconds, not half a minute.
    text = FLOW.read_text(encoding="utf-8").replace("  timeout_s: 6\n", "  timeout_s: 1\n")
    assert "timeout_s: 1" in text
    # ... and the prompts it plays cut to a word each: what is tested is the
    # retries and the fallbacks, not the wording (that took a minute of audio).
    for kept in SHORTENED:
        assert kept in text, kept
        text = text.replace(kept, "\n".join(
            f"{line.split(':')[0]}: {'Иә' if 'kk' in line else 'Да'}."
            for line in kept.splitlines()) + "\n")
    (flow_dir / "1414.yaml").write_text(text, encoding="utf-8")
    eng = await _engine(engine_factory, flow_dir)
    sipp_dir = tmp_path / "sipp"
    sipp_dir.mkdir()
    (sipp_dir / "bailanys_silence.wav").write_bytes(ulaw_wav_bytes(b"\xff" * 8000))
    async with session_watch(eng) as sessions:
        res = await sipp(eng, "ivr_silent.xml", sipp_dir, timeout_s=120)
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)

    events = await events_of(eng)
    no_input = [(e.data["node"], e.data["attempt"]) for e in events if e.type == "ivr.no_input"]
    assert no_input == [("language", 1), ("language", 2), ("language", 3)]
    fallback = [(e.data["node"], e.data["to"]) for e in events if e.type == "ivr.fallback"]
    assert fallback == [("language", "queue_any_language"), ("queue_any_language", "busy")]
    nodes = [e.data["node"] for e in events if e.type == "ivr.node"]
    assert nodes == ["greeting", "language", "queue_any_language", "busy"]
    assert not [e for e in events if e.type in ("ivr.input", "dtmf", "call.language")]
    queued = [e for e in events if e.type == "ivr.queue"]
    assert queued[0].data["skills"] == ["bilingual"]  # no language chosen
    ended = [e for e in events if e.type == "call.ended"]
    assert ended[0].data["reason"] == "no_agents"
    assert sessions[0].stats.received > 100  # the caller's silence arrived as RTP
