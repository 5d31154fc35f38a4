"""DeskService with fakes for its ports and the real queue core, journal and pop:
events in, pushes out, actions through the queue API. Time is an input."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from bailanys.desk import service as service_mod
from bailanys.desk.hub import DeskClient
from bailanys.desk.pop import CallJournal, screen_pop
from bailanys.desk.protocol import Disposition, Logout, Pause, Ready, Transfer
from bailanys.desk.service import DISPOSITION_FIRST, ActionRefused, DeskService
from bailanys.desk.settings import DeskConfig
from bailanys.errors import BailanysError, ConfigError
from bailanys.queue.agents import AgentEvent
from bailanys.queue.core import QueueCore
from bailanys.queue.outcome import Outcome
from bailanys.queue.settings import QueueSettings
from bailanys.store.events import Event
from tests.queue.qhelpers import config

CALL = "call-1"


class Feed:
    """The event log: subscribers, and the stored rows ``query`` finds."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[Event], None]] = []
        self.rows: list[Event] = []

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def emit(self, ts: float, type_: str, call_id: str | None, **data: Any) -> None:
        event = Event(len(self.rows) + 1, ts, type_, call_id, data)
        self.rows.append(event)
        for callback in list(self.callbacks):
            callback(event)

    async def query(self, *, call_id: str | None = None, type: str | None = None,
                    since: float | None = None, until: float | None = None,
                    limit: int | None = None,
                    fields: Mapping[str, str] | None = None) -> list[Event]:
        return [e for e in self.rows if e.call_id == call_id and e.type == type][:limit]


@dataclass
class Queues:
    """QueueService's desktop API over a real QueueCore, on a clock the test moves."""

    core: QueueCore = field(default_factory=lambda: QueueCore(
        config(QueueSettings("general", wrap_up_s=30.0), **{"1001": {}, "1002": {}}),
        now=time.monotonic()))
    done: list[tuple[Any, ...]] = field(default_factory=list)

    def _run(self, name: str, *args: Any, **kw: Any) -> None:
        self.done.append((name, *args))
        getattr(self.core, name)(*args, time.monotonic(), **kw)

    def ready(self, user: str) -> None:
        self._run("ready", user)

    def pause(self, user: str, reason: str) -> None:
        self._run("pause", user, reason)

    def logout(self, user: str) -> None:
        self._run("logout", user)

    def disposition(self, call_id: str, agent: str, resolved: bool, topic: str | None,
                    outcome: str | None = None, notes: str | None = None,
                    case: str | None = None) -> None:
        self.done.append(("disposition", call_id, agent, resolved, topic, outcome, notes, case))

    def wrap_up_until(self, user: str) -> float | None:
        return 1030.0 if self.core.agent(user).state == "wrap_up" else None

    def max_wrap_up_s(self) -> float:
        return 30.0

    def undisposed(self, user: str) -> str | None:
        return self.core.pool.undisposed(user)


class History:
    """A history reader that may be held (the disk is slow)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, int, str | None]] = []
        self.gate = threading.Event()
        self.gate.set()

    def read(self, caller: str, now: float, days: int = 90, *,
             exclude_call: str | None = None) -> Any:
        self.calls.append((caller, now, days, exclude_call))
        self.gate.wait(5)
        return _History(contacts=(), cases=(_Case(),))


@dataclass(frozen=True)
class _Case:
    number: str = "1414-2026-000007"
    status: str = "in_progress"
    topic: str = "passport"
    kind: str = "request"
    deadline: str | None = "2026-12-10"
    overdue: bool = False


@dataclass(frozen=True)
class _History:
    contacts: tuple[Any, ...]
    cases: tuple[Any, ...]


class Transfers:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.done: list[tuple[str, str, str, str]] = []

    def targets(self) -> list[dict[str, str]]:
        return [{"name": "second_line", "kind": "number", "kk": "Екінші желі",
                 "ru": "Вторая линия"}]

    async def transfer(self, call_id: str, agent: str, target: str, mode: str) -> None:
        if self.fail:
            raise BailanysError("no call to transfer")
        self.done.append((call_id, agent, target, mode))


def make(history: History | None = None, transfers: Transfers | None = None,
         **settings: Any) -> tuple[DeskService, Feed, Queues]:
    feed, queues = Feed(), Queues()

    async def open_history() -> History | None:
        return history

    desk = DeskService(settings=DeskConfig(**settings), events=feed, queues=queues,
                       journal=CallJournal, screen_pop=screen_pop,
                       history=open_history, transfers=lambda: transfers,
                       clock=lambda: 1000.0)
    return desk, feed, queues


def open_desk(desk: DeskService, agent: str = "1001", read_only: bool = False) -> DeskClient:
    client = DeskClient(agent, viewer="sup" if read_only else agent, read_only=read_only)
    for message in desk.greet(client):
        client.push(message)
    desk.hub.add(client)
    return client


def walk_to_the_queue(feed: Feed, caller: str = "77011234567") -> None:
    feed.emit(990.0, "call.offered", CALL, caller=caller, dialled="1414", display_name="",
              **{"from": f"sip:{caller}@pbx"})
    feed.emit(991.0, "ivr.node", CALL, node="language", kind="menu")
    feed.emit(992.0, "ivr.input", CALL, node="language", source="dtmf", value="2",
              confidence=1.0, next="set_ru")
    feed.emit(992.5, "call.language", CALL, language="ru")
    feed.emit(995.0, "queue.joined", CALL, queue="general", position=1, skills=[],
              language="ru", priority=0)


async def test_ring_pushes_the_pop_with_the_history_read_while_waiting() -> None:
    history = History()
    desk, feed, queues = make(history)
    await desk.start()
    client = open_desk(desk)
    hello, state = client.take()
    assert hello["agent"] == {"user": "1001", "name": "1001", "viewer": "1001"}
    assert (hello["read_only"], hello["wrap_up_s"], hello["show_number"]) == (False, 30.0, False)
    assert [r["id"] for r in hello["break_reasons"]] == ["lunch", "training", "technical",
                                                         "personal"]
    assert state["state"] == "logged_out" and state["wrap_up_until"] is None
    watcher = open_desk(desk, read_only=True)
    assert watcher.take()[0]["show_number"] is True
    walk_to_the_queue(feed)
    await asyncio.sleep(0.05)  # the read runs in a thread meanwhile
    assert history.calls == [("77011234567", 1000.0, 90, CALL)]
    feed.emit(996.0, "agent.ringing", CALL, agent="1001", queue="general", timeout=15.0)
    ring, pop = client.take()
    assert ring == {"type": "call", "call_id": CALL, "phase": "ringing", "at": 996.0}
    body = pop["pop"]
    assert body["caller"] == {"number": "*******4567", "masked": True, "anonymous": False}
    (watched,) = [m for m in watcher.take() if m["type"] == "pop"]  # a supervisor: whole
    assert watched["pop"]["caller"] == {"number": "77011234567", "masked": False,
                                        "anonymous": False}
    assert (body["language"], body["queue"], body["waited_s"]) == ("ru", "general", 1.0)
    assert [(s["node"], s["kind"], s["input"]) for s in body["ivr"]] == [
        ("language", "node", None), ("language", "input", "2")]
    assert body["open_cases"][0]["number"] == "1414-2026-000007"
    feed.emit(997.0, "call.connected", CALL, agent="1001", queue="general", waited=2.0,
              orig_position=1)
    feed.emit(999.0, "agent.state", CALL, agent="1001", state="wrap_up", previous="on_call",
              reason="")
    feed.emit(999.0, "call.completed", CALL, agent="1001", queue="general", waited=2.0,
              talk=2.0, by="caller", orig_position=1)
    phases = client.take()
    assert [m.get("phase") or m["type"] for m in phases] == ["connected", "state", "ended"]
    assert phases[1]["state"] == "wrap_up" and phases[1]["since"] == 999.0
    feed.emit(999.5, "call.ended", CALL, cause="caller", reason="bye", duration=9.0)
    assert CALL not in desk.journals and desk.hub.watched("1001")
    # A reload in the wrap-up: the new page gets the pop and the call's phase again ...
    again = open_desk(desk).take()
    assert [m["type"] for m in again] == ["hello", "state", "pop", "call"]
    assert again[2]["pop"]["call_id"] == CALL and again[3]["phase"] == "ended"
    assert again[2]["pop"]["caller"]["masked"] is True
    # ... until the agent is available again.
    feed.emit(999.8, "agent.state", None, agent="1001", state="available",
              previous="wrap_up", reason="")
    assert [m["type"] for m in open_desk(desk).take()] == ["hello", "state"]
    assert await desk.caller_of(CALL) == "77011234567"  # after the end: the request's phone
    await desk.stop()
    assert client.close_reason == "the engine stops" and not feed.callbacks


async def test_a_slow_history_does_not_hold_the_pop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod, "POP_WAIT_S", 0.05)
    history = History()
    history.gate.clear()  # the disk does not answer
    desk, feed, _ = make(history, show_number=True)
    await desk.start()
    client = open_desk(desk)
    client.take()
    walk_to_the_queue(feed)
    feed.emit(996.0, "agent.ringing", CALL, agent="1001", queue="general", timeout=15.0)
    assert [m["type"] for m in client.take()] == ["call"]  # the pop waits, in a task
    await asyncio.sleep(0.2)
    (pop,) = client.take()
    assert pop["pop"]["open_cases"] == [] and pop["pop"]["caller"]["number"] == "77011234567"
    history.gate.set()
    await desk.stop()


async def test_nothing_is_built_for_an_agent_without_a_desktop() -> None:
    built: list[str] = []
    feed, queues = Feed(), Queues()

    def pop(journal: Any, history: Any, **kw: Any) -> dict[str, Any]:
        built.append(journal.call_id)
        return {}

    desk = DeskService(settings=DeskConfig(), events=feed, queues=queues, journal=CallJournal,
                       screen_pop=pop)
    await desk.start()
    walk_to_the_queue(feed)
    feed.emit(996.0, "agent.ringing", CALL, agent="1001", queue="general", timeout=15.0)
    feed.emit(996.0, "agent.ringing", "callback-leg", agent="1001", queue="general",
              timeout=15.0)
    assert built == []
    client = open_desk(desk)
    feed.emit(997.0, "agent.no_answer", CALL, agent="1001", queue="general", rang=1.0)
    feed.emit(998.0, "agent.ringing", "callback-leg", agent="1001", queue="general",
              timeout=15.0)  # not a call the desk follows: a phase, no pop
    assert [m.get("phase") for m in client.take()[2:]] == ["missed", "ringing"]
    assert built == []
    await desk.stop()


async def test_journals_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod, "MAX_JOURNALS", 2)
    desk, feed, _ = make()
    await desk.start()
    for n in range(3):
        feed.emit(1.0, "call.offered", f"c{n}", caller="anonymous", dialled="1414",
                  display_name="")
    assert list(desk.journals) == ["c1", "c2"]
    assert await desk.caller_of("c2") is None  # anonymous
    assert await desk.caller_of("nowhere") is None
    await desk.stop()


async def test_actions_go_through_the_queue_api() -> None:
    transfers = Transfers()
    desk, feed, queues = make(transfers=transfers)
    await desk.start()
    client = open_desk(desk)
    assert client.take()[0]["transfer_targets"][0]["name"] == "second_line"
    assert await desk.act(client, Ready()) == {}
    assert queues.core.agent("1001").state == "available"
    await desk.act(client, Pause("lunch"))
    assert queues.core.agent("1001").reason == "lunch"
    await desk.act(client, Ready())
    await desk.act(client, Disposition("c9", "egov", Outcome.REQUEST_CREATED, "n", "1414-1"))
    await desk.act(client, Transfer("c9", "second_line", "blind"))
    await desk.act(client, Logout())
    assert queues.core.agent("1001").state == "logged_out"
    assert queues.done == [("ready", "1001"), ("pause", "1001", "lunch"), ("ready", "1001"),
                           ("disposition", "c9", "1001", False, "egov", "request_created", "n",
                            "1414-1"), ("logout", "1001")]
    assert transfers.done == [("c9", "1001", "second_line", "blind")]
    with pytest.raises(ActionRefused, match="'pause' is not allowed in state 'logged_out'"):
        await desk.act(client, Pause("lunch"))
    watcher = open_desk(desk, read_only=True)
    with pytest.raises(ActionRefused, match="read only") as info:
        await desk.act(watcher, Ready())
    assert info.value.code == "forbidden"
    await desk.stop()


async def test_refusals_of_topics_and_transfers(tmp_path: Any) -> None:
    topics = tmp_path / "topics.yaml"
    topics.write_text("groups:\n  - id: docs\n    kk: Құжаттар\n    ru: Документы\n"
                      "    topics:\n      - {id: passport, kk: Төлқұжат, ru: Паспорт}\n",
                      encoding="utf-8")
    feed, queues = Feed(), Queues()
    desk = DeskService(settings=DeskConfig(), events=feed, queues=queues, journal=CallJournal,
                       screen_pop=screen_pop, topics_file=str(topics))
    await desk.start()
    assert desk.topics is not None and desk.topics.ids == {"passport"}
    client = open_desk(desk)
    with pytest.raises(ActionRefused, match="unknown topic 'egov'") as info:
        await desk.act(client, Disposition("c9", "egov", Outcome.RESOLVED))
    assert info.value.code == "bad_field"
    with pytest.raises(ActionRefused, match=r"no transfers are configured"):
        await desk.act(client, Transfer("c9", "x", "blind"))
    desk2, _, _ = make(transfers=Transfers(fail=True))
    with pytest.raises(ActionRefused, match="no call to transfer"):
        await desk2.act(open_desk(desk2), Transfer("c9", "x", "blind"))
    await desk.stop()


async def test_an_operator_who_is_no_agent_stops_the_start() -> None:
    feed, queues = Feed(), Queues()
    users = {"1001": "operator:scrypt$x", "9999": "operator:scrypt$x", "sup": "supervisor:s"}
    desk = DeskService(settings=DeskConfig(), events=feed, queues=queues, journal=CallJournal,
                       screen_pop=screen_pop, operators=users, source="bailanys.toml")
    with pytest.raises(ConfigError, match=r"bailanys.toml: console.users.9999: an operator's "
                       r"login must be the SIP user of an agent \(\[agents.9999\]"):
        await desk.start()
    assert not feed.callbacks


async def test_ready_waits_for_the_disposition_in_a_wrap_up() -> None:
    """[desk] require_disposition: every contact gets a topic and outcome."""
    desk, feed, queues = make()
    await desk.start()
    client = open_desk(desk)
    core, now = queues.core, time.monotonic()
    core.login("1001", now)
    agent, out = core.pool.get("1001"), []
    core.pool.change(out, agent, AgentEvent.RING, now, call_id="c7")
    core.pool.change(out, agent, AgentEvent.ANSWER, now, call_id="c7")
    core.pool.connected(agent, "c7", "general")
    core.pool.change(out, agent, AgentEvent.HANG_UP, now, call_id="c7")
    core.pool.wrap_up(out, agent, 30.0, "c7", now)
    assert agent.state == "wrap_up" and queues.undisposed("1001") == "c7"
    with pytest.raises(ActionRefused) as info:
        await desk.act(client, Ready())
    assert info.value.code == DISPOSITION_FIRST and agent.state == "wrap_up"
    core.disposition("c7", "1001", True, "egov", now)  # as the queue API does
    assert queues.undisposed("1001") is None
    await desk.act(client, Ready())
    assert agent.state == "available"
    await desk.stop()
    lenient, _, queues = make(require_disposition=False)
    await lenient.start()
    q = queues.core
    q.login("1001", now)
    agent = q.pool.get("1001")
    q.pool.change(out, agent, AgentEvent.RING, now, call_id="c8")
    q.pool.change(out, agent, AgentEvent.ANSWER, now, call_id="c8")
    q.pool.connected(agent, "c8", "general")
    q.pool.change(out, agent, AgentEvent.HANG_UP, now, call_id="c8")
    q.pool.wrap_up(out, agent, 30.0, "c8", now)
    await lenient.act(open_desk(lenient), Ready())
    assert agent.state == "available"
    await lenient.stop()
