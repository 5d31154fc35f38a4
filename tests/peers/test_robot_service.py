"""A self-service of the voice robot on a real call: document readiness by keypad.

SIPp calls a flow whose ``robot`` node runs ``document_readiness``; it keys
in a sample IIN of the demo back end by RFC 2833 digits; the robot checks the
back end, says the result and hangs up. The IIN never appears in events.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers.conftest import EngineFactory, events_of, needs_sipp, wait_until_idle
from tests.peers.sipp import SCENARIOS, run_sipp_async

pytestmark = [pytest.mark.peer, needs_sipp]

IIN = "850315401013"  # demo back end: an ID card ready at ALA-1
FLOW = """
flow: robot-test
numbers: ["1419"]
languages: [kk, ru]
start: lang
nodes:
  lang:
    type: set_language
    language: ru
    next: robot
  robot:
    type: robot
    service: document_readiness
    fallback: bye
  bye:
    type: hangup
    cause: handed_over
"""


def _scenario(tmp: Path, digits: str) -> Path:
    """ivr_1414_walk.xml with the keys replaced by ``digits`` (0.3 s apart, after 4 s)."""
    text = (SCENARIOS / "ivr_1414_walk.xml").read_text(encoding="utf-8")
    head, _, rest = text.partition("  <!-- 1.5 s into the greeting")
    _, _, tail = rest.partition('  <recv request="BYE"')
    keys = ['  <pause milliseconds="4000"/>\n']
    for d in digits:
        keys.append(
            f'  <nop display="DTMF {d}"><action><exec play_pcap_audio='
            f'"/usr/share/sip-tester/dtmf_2833_{d}.pcap"/></action></nop>\n'
            '  <pause milliseconds="300"/>\n')
    out = tmp / "robot_keys.xml"
    out.write_text(head + "".join(keys) + '  <recv request="BYE"' + tail, encoding="utf-8")
    return out


async def test_document_readiness_by_keypad(engine_factory: EngineFactory, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "robot.yaml").write_text(FLOW, encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows)}, engine={"numbers": ()})
    res = await run_sipp_async(_scenario(tmp_path, IIN), eng.target, cwd=tmp_path / "sipp",
                               timeout_s=90, service="1419")
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)
    events = await events_of(eng)
    # The IIN's keys are counted but not logged (the call is marked while the robot reads it).
    keys = [e.data for e in events if e.type == "dtmf"]
    assert len(keys) == len(IIN) and all(k["masked"] and k["digit"] == "" for k in keys), keys
    steps = [(e.data["step"], e.data["outcome"]) for e in events if e.type == "robot.service"]
    assert steps == [("start", "started"), ("iin", "valid"), ("backend", "ready"),
                     ("done", "completed")], steps
    ended = [e.data["reason"] for e in events if e.type == "call.ended"]
    assert ended and ended[0].startswith("robot_"), ended
    assert not [e for e in events if e.type == "robot.handover"]
    assert all(IIN not in str(e.data) for e in events)


ASSISTANT_FLOW = FLOW.replace("    service: document_readiness\n", "").replace(
    "numbers: [\"1419\"]", "numbers: [\"1421\"]").replace(
    "    cause: handed_over\n",  # a goodbye: SIPp is still sending the key when it starts
    "    cause: handed_over\n    prompt: {kk: Сау болыңыз., ru: До свидания.}\n")


async def test_assistant_without_a_speech_model_hands_back_on_key_0(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    """No Vosk model: the assistant offers keys only; 0 gives the call back to the flow,
    whose fallback runs (here a goodbye and a hang-up)."""
    assert "service:" not in ASSISTANT_FLOW
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "assistant.yaml").write_text(ASSISTANT_FLOW, encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows)}, engine={"numbers": ()})
    res = await run_sipp_async(_scenario(tmp_path, "0"), eng.target, cwd=tmp_path / "sipp",
                               timeout_s=60, service="1421")
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)
    events = await events_of(eng)
    faq = [(e.data["step"], e.data["outcome"]) for e in events if e.type == "robot.faq"]
    assert faq == [("start", "started"), ("handover", "operator_key")], faq
    handover = [e.data for e in events if e.type == "robot.handover"]
    assert handover == [{"reason": "operator_key", "topic": ""}]
    fallback = [e.data for e in events if e.type == "ivr.fallback"]
    assert fallback == [{"node": "robot", "reason": "robot_operator_key", "to": "bye"}]
    ended = [e.data["reason"] for e in events if e.type == "call.ended"]
    assert ended and ended[0] == "handed_over", ended
