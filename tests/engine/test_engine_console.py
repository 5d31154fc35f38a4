"""EngineConsole on fakes: KPI replay and deltas, actions through the queue port, gauges.

The adapter takes ports: the event log (query, subscribe, lag), the queue
service's console API, and views for the gauges and the registrar's guard.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bailanys.authguard import AuthGuard
from bailanys.config import AuthConfig, ConsoleConfig
from bailanys.console.api import ActionError
from bailanys.console.auth import ConsoleUser
from bailanys.engine.console import EngineConsole
from bailanys.queue.agents import QueueError
from bailanys.store.events import Event
from tests.engine.fakes import FakeEvents, wait_until

SUPERVISOR = ConsoleUser("aigerim", "supervisor", "scrypt$x")


class Queues:
    """The queue service's console API: records calls; ``refuse`` makes them fail."""

    def __init__(self, core: Any = None) -> None:
        self.core = core
        self.calls: list[tuple[Any, ...]] = []
        self.refuse = False

    def _do(self, *call: Any) -> None:
        if self.refuse:
            raise QueueError(f"agent {call[1]} is on a call")
        self.calls.append(call)

    def login(self, user: str) -> None:
        self._do("login", user)

    def logout(self, user: str) -> None:
        self._do("logout", user)

    def pause(self, user: str, reason: str) -> None:
        self._do("pause", user, reason)

    def unpause(self, user: str) -> None:
        self._do("unpause", user)

    def disposition(self, call_id: str, agent: str, resolved: bool, topic: str | None) -> None:
        self._do("disposition", agent, call_id, resolved, topic)


def _console(events: FakeEvents, queues: Queues, guard: AuthGuard | None = None,
             ) -> EngineConsole:
    return EngineConsole(
        settings=ConsoleConfig(listen=""), auth_limits=AuthConfig().limits, events=events,
        queues=queues, calls_in_progress=lambda: 7, late_frames=lambda: 3,
        sip_guard=lambda: guard)


async def test_actions_go_to_the_queue_service_and_are_logged() -> None:
    events, queues = FakeEvents(), Queues(core=object())
    console = _console(events, queues)
    await console.act(SUPERVISOR, {"name": "agent_pause", "agent": "1001", "reason": "lunch"})
    await console.act(SUPERVISOR, {"name": "disposition", "agent": "1001", "call_id": "c1",
                                   "resolved": True, "topic": "egov"})
    assert queues.calls == [("pause", "1001", "lunch"), ("disposition", "1001", "c1", True,
                                                        "egov")]
    assert events.of("console.action") == [
        {"user": "aigerim", "action": "agent_pause", "agent": "1001"},
        {"user": "aigerim", "action": "disposition", "agent": "1001"}]
    queues.refuse = True
    with pytest.raises(ActionError, match="on a call"):
        await console.act(SUPERVISOR, {"name": "agent_login", "agent": "1001"})
    with pytest.raises(ActionError) as bad:
        await console.act(SUPERVISOR, {"name": "reboot"})
    assert bad.value.code == "bad_request"


async def test_no_queues_refuses_actions_and_shows_empty_lists() -> None:
    console = _console(FakeEvents(), Queues(core=None))
    with pytest.raises(ActionError, match="no queues"):
        await console.act(SUPERVISOR, {"name": "agent_login", "agent": "1001"})
    snap = console.snapshot()
    assert snap["queues"] == [] and snap["agents"] == [] and snap["history"] == []


async def test_todays_events_are_replayed_and_new_ones_reach_subscribers() -> None:
    now = time.time()
    stored = [Event(1, now, "call.offered", "c1", {"from": "sip:1@x", "to": "sip:1414@y"})]
    events = FakeEvents(stored)
    console = _console(events, Queues())
    await console.start()
    try:
        deltas: list[dict[str, Any]] = []
        unsubscribe = console.subscribe(deltas.append)
        events.append("queue.joined", "c2", queue="support")
        await wait_until(lambda: any("queues" in d for d in deltas))
        unsubscribe()
        assert events.listeners  # the KPI fold still listens
    finally:
        await console.stop()
    assert events.listeners == [] and len(console._tasks) == 0


async def test_metrics_read_the_gauges_and_guards() -> None:
    guard = AuthGuard("sip", AuthConfig().limits)
    console = _console(FakeEvents(), Queues(), guard=guard)
    text = console.metrics_text().decode()
    assert "bailanys_calls_in_progress 7.0" in text
    assert "bailanys_rtp_late_frames_total 3.0" in text
    assert console._auth_guards() == [guard]
    await asyncio.sleep(0)


async def test_a_disposition_topic_outside_the_classifier_is_refused(tmp_path: Any) -> None:
    """Issue 17: with a topic classifier configured, the disposition's topic is one of its
    ids or the action is refused as a bad field; without one, any topic passes."""
    tree = tmp_path / "topics.yaml"
    tree.write_text("groups:\n  - {id: g, kk: Топ, ru: Группа, topics: "
                    "[{id: egov, kk: eGov порталы, ru: Портал eGov}]}\n", encoding="utf-8")
    events, queues = FakeEvents(), Queues(core=object())
    console = EngineConsole(
        settings=ConsoleConfig(listen=""), auth_limits=AuthConfig().limits, events=events,
        queues=queues, calls_in_progress=lambda: 0, late_frames=lambda: 0,
        sip_guard=lambda: None, topics_file=str(tree))
    await console.start()
    try:
        act = {"name": "disposition", "agent": "1001", "call_id": "c1", "resolved": True}
        await console.act(SUPERVISOR, {**act, "topic": "egov"})
        await console.act(SUPERVISOR, {**act, "topic": None})  # no topic: fine
        with pytest.raises(ActionError) as bad:
            await console.act(SUPERVISOR, {**act, "topic": "ЭЦП"})
        assert bad.value.code == "bad_field"
        assert str(bad.value) == f"unknown topic 'ЭЦП': not in the topic classifier ({tree})"
        assert [c[4] for c in queues.calls] == ["egov", None]
        assert len(events.of("console.action")) == 2  # the refused one is not logged
        # the page's disposition form offers the classifier's topics
        queues.core = None  # (the fake core has no snapshot)
        assert console.snapshot()["topics"] == [{"id": "egov", "kk": "eGov порталы",
                                                 "ru": "Портал eGov"}]
    finally:
        await console.stop()
    free = _console(FakeEvents(), Queues(core=object()))  # no classifier: not checked
    await free.act(SUPERVISOR, {"name": "disposition", "agent": "1001", "call_id": "c1",
                                "resolved": True, "topic": "ЭЦП"})
    free.queues.core = None
    assert free.snapshot()["topics"] == []


def test_a_missing_or_broken_classifier_checks_nothing(tmp_path: Any) -> None:
    from bailanys.reports.topics import topic_tree

    assert topic_tree(tmp_path / "none.yaml") is None
    broken = tmp_path / "broken.yaml"
    broken.write_text("groups: 3\n", encoding="utf-8")
    assert topic_tree(broken) is None
    shipped = topic_tree(Path(__file__).resolve().parents[2] / "configs" / "topics.yaml")
    assert shipped is not None and "complaint" in shipped.ids
