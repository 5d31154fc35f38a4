"""The operators' desktop's websocket on the real engine (issue 19).

A pyVoIP phone registers as operator 1001, who logs in to the console and
opens ``/desk/ws``; a SIPp caller with a number walks ``ivr_flows/1414.yaml``
(Russian, then 0: an operator) into the general queue. The desktop gets the
screen pop when the phone rings (the number masked to its last four digits,
the language, the IVR path with the keys pressed), then the call's phases
and the wrap-up; the operator's disposition (with its outcome and notes,
personal data masked) and "ready" go through the queue API, and
``call.disposition`` carries them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from bailanys.config import PROJECT_ROOT
from bailanys.web.auth import COOKIE_NAME, hash_password
from tests.console.helpers import cookie_token, get, login
from tests.peers.conftest import EngineFactory, events_of, free_sip_port, needs_sipp, sipp

pytest.importorskip("pyVoIP")
from tests.peers.softphone import PyVoipAgent  # noqa: E402

pytestmark = [pytest.mark.peer, needs_sipp]

MORNING = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Asia/Almaty"))  # a Monday
PASSWORD = "operator-pw-1"
QUEUES = """
[queues.general]
ring_timeout_s = 10
wrap_up_s = 60
[queues.consultation]
[queues.egov]
[queues.complaints]

[agents.1001]
name = "Айгерим"
skills = { kk = 10, ru = 10 }
"""


async def _next(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (others are skipped), within 20 s."""
    async with asyncio.timeout(20):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def _act(ws: ClientConnection, mid: int, **action: Any) -> list[dict[str, Any]]:
    """Send an action; the messages until its answer, the answer last (a state
    change the action caused arrives before its ``ack``)."""
    await ws.send(json.dumps({"id": mid, "action": action}))
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while True:
            seen.append(json.loads(await ws.recv()))
            if seen[-1]["type"] in ("ack", "error") and seen[-1]["id"] == mid:
                return seen


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_ring_pop_disposition_ready(engine_factory: EngineFactory, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(PROJECT_ROOT / "ivr_flows" / "1414.yaml", flows / "1414.yaml")
    (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
    port = free_sip_port()  # free for TCP: the console's
    hashed = hash_password(PASSWORD, n=2**10)
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(tmp_path / "queues.toml")},
        engine={"numbers": ()},
        console={"listen": f"127.0.0.1:{port}",
                 "users": {"1001": f"operator:{hashed}", "sup": f"supervisor:{hashed}"}})
    eng.ivr.clock = lambda: MORNING
    phone = PyVoipAgent("127.0.0.1", eng.transport.port, "1001", "pw1001", free_sip_port(),
                        57300, 57599, talk_s=1.0)
    await asyncio.to_thread(phone.start)
    caller: asyncio.Task[Any] | None = None
    try:
        token = cookie_token(await login(port, "1001", PASSWORD))
        cookie = {"Cookie": f"{COOKIE_NAME}={token}"}
        topics = json.loads((await get(port, "/desk/api/topics", token)).body)["topics"]
        assert {"id": "passport", "kk": "Шетелге шығу төлқұжаты", "ru": "Заграничный паспорт",
                "parent": "documents"} in topics
        sup = cookie_token(await login(port, "sup", PASSWORD))
        with pytest.raises(InvalidStatus) as refused:  # a supervisor must name an agent
            await connect(f"ws://127.0.0.1:{port}/desk/ws", open_timeout=5,
                          additional_headers={"Cookie": f"{COOKIE_NAME}={sup}"})
        assert refused.value.response.status_code == 404
        async with connect(f"ws://127.0.0.1:{port}/desk/ws", open_timeout=5,
                           additional_headers=cookie) as ws:
            hello = await _next(ws, "hello")
            assert hello["agent"]["user"] == "1001" and not hello["read_only"]
            assert (await _next(ws, "state"))["state"] == "available"  # the phone registered

            caller = asyncio.create_task(sipp(eng, "desk_1414.xml", tmp_path / "sipp",
                                              timeout_s=40))
            pop = (await _next(ws, "pop"))["pop"]
            call_id = pop["call_id"]
            assert pop["caller"] == {"number": "*******4567", "masked": True,
                                     "anonymous": False}
            assert (pop["agent"], pop["queue"], pop["language"]) == ("1001", "general", "ru")
            inputs = [(s["node"], s["input"]) for s in pop["ivr"] if s["kind"] == "input"]
            assert inputs == [("language", "2"), ("main_menu", "0")]
            assert pop["waited_s"] is not None and pop["waited_s"] >= 0
            connected = await _next(ws, "call")
            while connected["phase"] != "connected":
                connected = await _next(ws, "call")
            assert connected["call_id"] == call_id
            wrap = await _next(ws, "state")
            while wrap["state"] != "wrap_up":
                wrap = await _next(ws, "state")
            assert wrap["wrap_up_until"] > wrap["now"] + 30  # 60 s of wrap-up ahead

            answer = await _act(ws, 1, name="disposition", call_id=call_id, topic="passport",
                                outcome="request_created", case="1414-2026-000001",
                                notes="ИИН 900101300123, перезвонить")
            assert answer[-1] == {"type": "ack", "id": 1, "result": {}}
            (again,) = await _act(ws, 2, name="disposition", call_id=call_id,
                                  topic="passport", outcome="resolved")
            assert again["code"] == "refused" and "already has" in again["message"]
            ready, ack = await _act(ws, 3, name="ready")  # the wrap-up ends early
            assert (ready["type"], ready["state"], ready["wrap_up_until"]) == (
                "state", "available", None)
            assert ack["type"] == "ack"
        res = await caller
        caller = None
        assert res.ok, res.describe()
    finally:
        if caller is not None:
            caller.cancel()
        await asyncio.to_thread(phone.stop, deregister=False)

    disposition = await events_of(eng, "call.disposition")
    assert [(e.call_id, e.data["agent"], e.data["outcome"], e.data["resolved"], e.data["case"])
            for e in disposition] == [(call_id, "1001", "request_created", False,
                                       "1414-2026-000001")]
    assert "900101300123" not in disposition[0].data["notes"]
    assert "перезвонить" in disposition[0].data["notes"]
    states = [(e.data["previous"], e.data["state"]) for e in await events_of(eng, "agent.state")]
    assert ("wrap_up", "available") in states
