"""A burst of deltas on the supervisor page in Debian's Chromium (issue 21).

The page connects with flow control (``/ws?flow=1``), acknowledges what it
drew, and updates its rows in place (static/keyed.js). A few hundred deltas
in about a second -- agents changing state, leaving, joining and moving,
callers joining, leaving and changing queue, a queue emptied, a queue added
-- must end with the page showing exactly the final state: every row once,
in order, none lost. The server must have coalesced (fewer deltas than were
emitted, each sent after the page acknowledged the one before).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import pytest

from bailanys.console.server import ConsoleServer
from tests.console.helpers import PASSWORDS, FakeApi
from tests.console.test_browser import page  # noqa: F401 (the Chromium fixture)

pytestmark = pytest.mark.peer

STATES = ("available", "ringing", "on_call", "wrap_up", "break")

SHOWN = """() => ({
  agents: [...document.querySelectorAll('#agents tbody tr[data-agent]')].map((r) => [
    r.dataset.agent, r.dataset.state, r.querySelector('.state').dataset.state,
    r.querySelector('[data-current-call]').dataset.currentCall,
    r.querySelectorAll('[data-monitor]').length]),
  queues: [...document.querySelectorAll('#queues article[data-queue]')].map((q) => [
    q.dataset.queue, Number(q.querySelector('.count').dataset.count),
    [...q.querySelectorAll('tr[data-call]')].map((r) => [
      r.dataset.call, r.querySelector('td.num').textContent])]),
})"""


def expected(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "agents": [[a["user"], a["state"], a["state"], a["current_call"] or "",
                    3 if a["current_call"] else 0] for a in state["agents"]],
        "queues": [[q["name"], len(q["waiting"]),
                    [[c["call_id"], str(c["position"])] for c in q["waiting"]]]
                   for q in state["queues"]],
    }


class Floor:
    """The fake engine's agents and queues, changed at random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_agent = 1100
        self.calls = 0
        self.agents = [self.agent(str(1000 + i)) for i in range(60)]
        self.queues: dict[str, list[str]] = {"general": [], "egov": [], "pension": []}
        for _ in range(30):
            self.join()

    def agent(self, user: str) -> dict[str, Any]:
        state = self.rng.choice(STATES)
        return {"user": user, "name": f"Оператор {user}", "state": state,
                "since": round(time.time() - self.rng.uniform(0, 300), 3),
                "reason": "lunch" if state == "break" else None,
                "current_call": f"call-{user}" if state == "on_call" else None}

    def join(self) -> None:
        self.calls += 1
        self.queues[self.rng.choice(list(self.queues))].append(f"c-{self.calls}")

    def parts(self) -> dict[str, Any]:
        return {"agents": [dict(a) for a in self.agents],
                "queues": [{"name": name, "agents_available": 2, "waiting": [
                    {"call_id": c, "position": i + 1, "waited": 3.0 + i, "language": "kk",
                     "callback": False, "number": "*******4567"}
                    for i, c in enumerate(callers)]} for name, callers in self.queues.items()]}

    def step(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.55:
            a = self.rng.choice(self.agents)
            a.update(self.agent(a["user"]))
            return {"agents": [dict(x) for x in self.agents]}
        if roll < 0.62:  # an agent leaves the floor, another joins somewhere
            self.agents.remove(self.rng.choice(self.agents))
            self.next_agent += 1
            self.agents.insert(self.rng.randrange(len(self.agents)),
                               self.agent(str(self.next_agent)))
            return {"agents": [dict(x) for x in self.agents]}
        if roll < 0.65:
            self.rng.shuffle(self.agents)
            return {"agents": [dict(x) for x in self.agents]}
        if roll < 0.8:
            full = [q for q in self.queues.values() if q]
            if full:
                self.rng.choice(full).pop(0)
            self.join()
        elif roll < 0.9:  # a caller moves to another queue
            full = [q for q in self.queues.values() if q]
            if full:
                source = self.rng.choice(full)
                call = source.pop(self.rng.randrange(len(source)))
                self.queues[self.rng.choice(list(self.queues))].append(call)
        elif roll < 0.95:
            self.queues[self.rng.choice(list(self.queues))] = []
        else:
            self.queues[f"extra{len(self.queues)}"] = []
            self.join()
        return {"queues": self.parts()["queues"], "kpis": {
            "wait_s": {"value": self.rng.uniform(10, 80), "samples": 5, "status": "within",
                       "limit": 60.0, "goal": 40.0}}}


async def test_a_burst_of_deltas_ends_with_the_final_state_on_the_page(
        server: ConsoleServer, api: FakeApi, page: Any) -> None:  # noqa: F811
    floor = Floor(random.Random(2114))
    api.state.update(floor.parts())
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    frames: list[dict[str, Any]] = []
    acks: list[int] = []

    def watch(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))
        ws.on("framesent", lambda payload: acks.append(json.loads(payload)["seq"])
              if '"rendered"' in payload else None)

    page.on("websocket", watch)
    base = f"http://127.0.0.1:{server.port}"
    await page.goto(f"{base}/login")
    await page.fill("input[name=user]", "aigerim")
    await page.fill("input[name=password]", PASSWORDS["aigerim"])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    assert await page.evaluate(SHOWN) == expected(api.state)

    emitted = 0
    for _ in range(400):
        api.emit(floor.step())
        emitted += 1
        await asyncio.sleep(0.002)
    # the monitor buttons of busy agents follow a change of `monitors` too
    busy = next(a for a in floor.agents if a["current_call"])
    api.emit({"monitors": [{"supervisor": "aigerim", "agent": busy["user"], "mode": "whisper",
                            "call_id": busy["current_call"], "phone": "9001",
                            "state": "joined"}]})
    want = expected(api.state)
    want["agents"] = [row[:4] + [4 if row[0] == busy["user"] else row[4]]
                      for row in want["agents"]]
    shown: Any = None
    for _ in range(100):
        shown = await page.evaluate(SHOWN)
        if shown == want:
            break
        await asyncio.sleep(0.05)
    assert shown == want
    pressed = page.locator(f'[data-agent="{busy["user"]}"] [data-monitor="whisper"]')
    assert await pressed.get_attribute("aria-pressed") == "true"

    deltas = [f for f in frames if f["type"] == "delta"]
    assert frames[0]["type"] == "snapshot" and frames[0]["seq"] == 0
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert 0 < len(deltas) < emitted  # coalesced
    assert any("patch" in d for d in deltas)
    # every delta went after the page had drawn the one before
    assert acks[0] == 0 and acks[-1] == deltas[-1]["seq"]
    assert set(range(len(deltas) + 1)) <= set(acks)
    assert problems == []
