"""Shared helpers for the queue core tests: configs, a fake estimator, and
readers that split a list of actions into events and commands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bailanys.queue.core import Action, Emit, QueueCore
from bailanys.queue.estimator import QueueView
from bailanys.queue.settings import AgentSettings, QueueConfig, QueueSettings


def config(*queues: QueueSettings, **agents: Mapping[str, int]) -> QueueConfig:
    """``config(QueueSettings("q"), a1={"kk": 5})``: agents in the order given."""
    return QueueConfig(
        {q.name: q for q in queues},
        {user: AgentSettings(user, user.upper(), skills) for user, skills in agents.items()},
    )


def events(actions: Iterable[Action]) -> list[tuple[str, str | None, dict[str, object]]]:
    """The Emit actions as (type, call_id, fields)."""
    return [(a.type, a.call_id, dict(a.fields)) for a in actions if isinstance(a, Emit)]


def types(actions: Iterable[Action]) -> list[str]:
    return [a.type for a in actions if isinstance(a, Emit)]


def commands(actions: Iterable[Action]) -> list[Action]:
    """Everything but the events: what the engine must do."""
    return [a for a in actions if not isinstance(a, Emit)]


def fields(actions: Iterable[Action], type_: str) -> list[dict[str, object]]:
    return [f for t, _, f in events(actions) if t == type_]


def state(agent: str, new: str, previous: str, reason: str = "") -> dict[str, object]:
    """The fields of an ``agent.state`` event."""
    return {"agent": agent, "state": new, "previous": previous, "reason": reason}


def logged_in(core: QueueCore, *users: str, now: float = 0.0) -> QueueCore:
    for user in users:
        core.login(user, now)
    return core


class FakeEstimator:
    """Records every call; estimates ``per_position * position`` seconds."""

    def __init__(self, per_position: float = 30.0) -> None:
        self.per_position = per_position
        self.calls: list[tuple[Any, ...]] = []
        self.views: list[QueueView] = []

    def on_join(self, queue: str, call_id: str, now: float) -> None:
        self.calls.append(("join", queue, call_id, now))

    def on_answer(self, queue: str, call_id: str, waited: float, now: float) -> None:
        self.calls.append(("answer", queue, call_id, waited, now))

    def on_abandon(self, queue: str, call_id: str, waited: float, now: float) -> None:
        self.calls.append(("abandon", queue, call_id, waited, now))

    def on_complete(self, queue: str, call_id: str, talk: float, wrap_up: float,
                    now: float) -> None:
        self.calls.append(("complete", queue, call_id, talk, wrap_up, now))

    def on_break(self, reason: str, duration: float, now: float) -> None:
        self.calls.append(("break", reason, duration, now))

    def on_login(self, user: str, now: float) -> None:
        self.calls.append(("login", user, now))

    def estimate(self, queue: str, view: QueueView, now: float) -> float:
        self.views.append(view)
        self.calls.append(("estimate", queue, view.position, view.staffed, view.available, now))
        return self.per_position * view.position
