"""Flows reload on change without dropping calls: a call keeps its version.

Call A starts on version 1 of a flow; the file is edited while A waits in a
menu; once the engine has loaded version 2, call B starts and gets it,
while A still finishes on version 1 (its fallback hangs up with cause
"v1"). A broken edit afterwards is refused and version 2 keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tests.peers.conftest import EngineFactory, EngineUnderTest, events_of, needs_sipp, sipp
from tests.peers.sipp import ulaw_wav_bytes

pytestmark = [pytest.mark.peer, needs_sipp]

FLOW = """
flow: reload-test
numbers: ["1416"]
languages: [kk, ru]
start: menu
nodes:
  menu:
    type: menu
    timeout_s: {timeout}
    retries: 0
    prompt:
      kk: Бірді басыңыз.
      ru: {text}
    options:
      - key: "1"
        next: done
    fallback: done
  done:
    type: hangup
    cause: {cause}
"""


def _version(eng: EngineUnderTest) -> str | None:
    flow = eng.ivr.for_number("1416")
    return None if flow is None else flow.version


async def _wait_for(predicate, within: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(int(within / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_edit_serves_new_calls_and_keeps_calls_in_progress(
    engine_factory: EngineFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    path = flows / "reload.yaml"
    path.write_text(FLOW.format(timeout=6, text="Нажмите один.", cause="v1"), encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows), "reload_seconds": 1},
                               engine={"numbers": ()})
    v1 = _version(eng)
    assert v1 is not None
    sipp_dir = tmp_path / "sipp"
    for name in ("a", "b"):  # a silent caller's RTP (see ivr_silent.xml)
        (sipp_dir / name).mkdir(parents=True)
        (sipp_dir / name / "bailanys_silence.wav").write_bytes(ulaw_wav_bytes(b"\xff" * 8000))

    call_a = asyncio.create_task(
        sipp(eng, "ivr_silent.xml", sipp_dir / "a", timeout_s=60, service="1416")
    )
    assert await _wait_for(lambda: bool(eng.calls))
    path.write_text(FLOW.format(timeout=1, text="Нажмите единицу.", cause="v2"),
                    encoding="utf-8")
    assert await _wait_for(lambda: _version(eng) not in (None, v1))
    v2 = _version(eng)
    assert eng.calls, "call A must still be in progress"

    res_b = await sipp(eng, "ivr_silent.xml", sipp_dir / "b", timeout_s=60, service="1416")
    res_a = await call_a
    assert res_a.ok, res_a.describe()
    assert res_b.ok, res_b.describe()

    events = await events_of(eng)
    flows_seen = {e.call_id: e.data["version"] for e in events if e.type == "ivr.flow"}
    causes = {e.call_id: e.data["reason"] for e in events if e.type == "call.ended"}
    assert sorted(flows_seen.values()) == sorted([v1, v2])
    by_version = {v: c for c, v in flows_seen.items()}
    assert causes[by_version[v1]] == "v1"
    assert causes[by_version[v2]] == "v2"

    # A broken edit is refused: the error is logged, version 2 keeps serving.
    caplog.set_level(logging.ERROR, logger="bailanys.ivr.registry")
    path.write_text(FLOW.format(timeout=1, text="Нажмите 1.", cause="v3"), encoding="utf-8")
    assert await _wait_for(lambda: any("write numbers as words" in r.getMessage()
                                       for r in caplog.records))
    assert _version(eng) == v2
