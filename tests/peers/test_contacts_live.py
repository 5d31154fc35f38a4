"""The engine keeps ``contacts`` current (issue 17): a real SIPp caller lost in a queue."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bailanys.desk.pop import caller_key
from tests.peers.conftest import EngineFactory, events_of, needs_sipp, sipp, wait_until_idle
from tests.peers.sipp import make_ulaw_wav

pytestmark = [pytest.mark.peer, needs_sipp]

FLOW = """
flow: contacts-test
numbers: ["1418"]
languages: [kk, ru]
start: lang
nodes:
  lang:
    type: set_language
    language: kk
    next: queue
  queue:
    type: queue
    queue: support
    prompt: {kk: Күте тұрыңыз. Қоңырау тегін., ru: Оставайтесь на линии. Звонок бесплатный.}
    fallback: bye
  bye:
    type: hangup
    prompt: {kk: Сау болыңыз., ru: До свидания.}
"""

QUEUES = """
[queues.support]
skills = ["support"]
strategy = "longest_idle"

[agents.1001]
skills = { kk = 10, support = 5 }
"""


async def test_a_lost_call_becomes_a_contact_while_the_engine_runs(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    queues = tmp_path / "queues.toml"
    queues.write_text(QUEUES, encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows)}, queue={"file": str(queues)},
                               engine={"numbers": ()})
    assert eng.contacts is not None
    sipp_dir = tmp_path / "sipp"
    make_ulaw_wav(sipp_dir / "bailanys_load.wav", 1.0, 0.0)
    res = await sipp(eng, "load_call.xml", sipp_dir, timeout_s=30, service="1418",
                     duration_ms=4000)
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)
    abandoned = [e for e in await events_of(eng) if e.type == "queue.abandoned"]
    assert len(abandoned) == 1
    call_id = abandoned[0].call_id
    row = None
    for _ in range(60):  # the projector folds it within a pass (1 s), the engine still up
        with sqlite3.connect(eng.config.store.path) as conn:
            row = conn.execute(
                "SELECT channel, language, queue, answered, abandoned, wait_s, day, caller_key "
                "FROM contacts WHERE call_id = ?", (call_id,)).fetchone()
        if row is not None and row[4] == 1:
            break
        await asyncio.sleep(0.1)
    assert row is not None, "no contacts row within 6 s"
    assert abandoned[0].data["cause"] == "caller"
    assert row[:5] == ("ivr", "kk", "support", 0, 1)
    assert row[5] == pytest.approx(abandoned[0].data["waited"])
    # issue 19: the engine keys the caller with the requests' salt (the screen pop's history)
    [offered] = [e for e in await events_of(eng) if e.type == "call.offered"]
    salt = await asyncio.to_thread(Path(eng.config.cases.salt_file).read_bytes)
    assert row[7] == caller_key(str(offered.data["caller"]), salt)
