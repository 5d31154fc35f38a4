"""A self-service of the voice robot on a real call: document readiness by keypad.

SIPp calls a flow whose ``robot`` node runs ``document_readiness``; it keys
in a sample IIN of the demo back end by RFC 2833 digits; the robot checks the
back end, says the result and hangs up. The IIN never appears in events.

Issue 17 on the same call: SIPp calls from an Astana landline, so the engine
writes ``call.region`` from the area code at set-up (source ``number``); at
the IIN entry the robot writes ``caller.portrait`` (the age band and sex the
IIN encodes, the back end's social status) and ``call.region`` (source
``backend``). Every stored event, every row of the store and every log
record of the engine is then searched for the IIN and the birth date in the
forms a program would write them: none holds either.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bailanys.reports.portrait import age_band, age_on
from bailanys.store.events import Event
from tests.peers.conftest import EngineFactory, events_of, needs_sipp, wait_until_idle
from tests.peers.sipp import SCENARIOS, run_sipp_async

pytestmark = [pytest.mark.peer, needs_sipp]

IIN = "850315401013"  # demo back end: an ID card ready at ALA-1
BORN = date(1985, 3, 15)  # what it encodes (digit 7 = 4: a woman born in the 20th century)
LANDLINE = "+77172555000"  # Astana's area code 7172
TRACES = (IIN, "1985-03-15", "15.03.1985", "19850315", "1985, 3, 15")
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


def _from_landline(scenario: Path) -> Path:
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(text.replace("From: sipp <sip:sipp@", f"From: sipp <sip:{LANDLINE}@"),
                        encoding="utf-8")
    return scenario


def _check_capture(events: list[Event], store_path: str, logged: str) -> None:
    """Issue 17: region and portrait at the source; no trace of the IIN anywhere."""
    assert [e.data["caller"] for e in events if e.type == "call.offered"] == ["77172555000"]
    regions = [e.data for e in events if e.type == "call.region"]
    assert regions == [{"region": "astana", "source": "number"},
                       {"region": "almaty_city", "source": "backend"}], regions
    band = age_band(age_on(BORN, date.today()))
    portraits = [e.data for e in events if e.type == "caller.portrait"]
    assert portraits == [{"age_band": band, "sex": "f", "social_status": "large_family"}]
    # at the moment of entry: right after the valid IIN, before the document's status
    order = [(e.type, e.data.get("step")) for e in events
             if e.type in ("robot.service", "caller.portrait")]
    assert order.index(("caller.portrait", None)) == order.index(("robot.service", "iin")) + 1
    assert {e.call_id for e in events if e.type in ("call.region", "caller.portrait")} == {
        events[0].call_id}
    with sqlite3.connect(store_path) as db:
        stored = "\n".join(db.iterdump())
    assert '"age_band"' in stored  # the search looks at the right database
    for trace in TRACES:
        assert all(trace not in str(e.data) for e in events), trace
        assert trace not in stored, trace
        assert trace not in logged, trace


async def test_document_readiness_by_keypad(engine_factory: EngineFactory, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bailanys")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "robot.yaml").write_text(FLOW, encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows)}, engine={"numbers": ()})
    res = await run_sipp_async(_from_landline(_scenario(tmp_path, IIN)), eng.target,
                               cwd=tmp_path / "sipp", timeout_s=90, service="1419")
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
    await eng.events.flush()
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records
                        if r.name.startswith("bailanys"))
    assert "robot" in logged  # the engine's records were captured
    _check_capture(events, eng.config.store.path, logged)


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
