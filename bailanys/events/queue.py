"""Events of the queues and the agents (``queue/actions.py`` module docs).

The Asterisk ``queue_log`` export (``queue/queuelog.py``) and the KPI fold
(``metrics/``) read these types and fields, so they are fixed. Durations
(``waited``, ``talk``, ``rang``, ``estimate``) are seconds rounded to the
millisecond; ``waited`` counts from the caller's first join (an overflowed
caller's wait includes the first queue: DOMAIN.md KPI 1). ``call_id`` is
the caller's call id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, register


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueJoined(EventBase):
    """The caller joined ``queue`` at ``position`` (1 = next), needing
    ``skills`` (sorted), speaking ``language`` (None: not chosen), with
    ``priority`` (higher first)."""

    type: ClassVar[str] = "queue.joined"
    writer: ClassVar[str] = "queue/waiting.py"

    queue: str
    position: int
    skills: tuple[str, ...]
    language: str | None
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAnnounced(EventBase):
    """The caller was told its ``position`` and expected wait ``estimate``
    (seconds; None: not announced as unknown)."""

    type: ClassVar[str] = "queue.announced"
    writer: ClassVar[str] = "queue/waiting.py"

    queue: str
    position: int
    estimate: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAbandoned(EventBase):
    """The caller left ``queue`` unserved after ``waited`` seconds: a hang-up
    while waiting or ringing, a failed callback, or the engine ended the
    call. ``short``: under the short-abandon threshold (not counted lost,
    docs/kpi.md); ``cause``: who ended it (``engine/causes.py``); only
    ``caller`` is a lost call."""

    type: ClassVar[str] = "queue.abandoned"
    writer: ClassVar[str] = "queue/waiting.py; engine/reconcile.py"

    queue: str
    position: int
    orig_position: int
    waited: float
    short: bool
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueTimeout(EventBase):
    """The caller waited the queue's ``max_wait_s``: moved to ``overflow``
    (another queue) or, when None, told the operators are busy."""

    type: ClassVar[str] = "queue.timeout"
    writer: ClassVar[str] = "queue/waiting.py"

    queue: str
    position: int
    orig_position: int
    waited: float
    overflow: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallbackRequested(EventBase):
    """The caller asked to be called back at ``number`` (personal data) and
    left the line."""

    type: ClassVar[str] = "queue.callback_requested"
    writer: ClassVar[str] = "queue/core.py"

    queue: str
    position: int
    waited: float
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallback(EventBase):
    """The callback is being placed, ``agent`` reserved for it."""

    type: ClassVar[str] = "queue.callback"
    writer: ClassVar[str] = "queue/core.py"

    queue: str
    agent: str
    waited: float


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallbackAnswered(EventBase):
    """The citizen answered the callback on ``leg`` (its call id); ``agent``
    will be rung."""

    type: ClassVar[str] = "queue.callback_answered"
    writer: ClassVar[str] = "engine/queues.py"

    leg: str
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentState(EventBase):
    """Every change of an agent's state (``queue/agents.py`` table):
    ``previous`` -> ``state`` for ``reason`` (a break's reason, the engine's
    ``engine_restart``...). ``call_id``: the call that caused it, if any."""

    type: ClassVar[str] = "agent.state"
    writer: ClassVar[str] = "queue/pool.py; engine/reconcile.py"

    agent: str
    state: str
    previous: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRinging(EventBase):
    """``agent``'s phone rings for the caller, for at most ``timeout`` s."""

    type: ClassVar[str] = "agent.ringing"
    writer: ClassVar[str] = "queue/core.py"

    agent: str
    queue: str
    timeout: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentNoAnswer(EventBase):
    """``agent`` did not answer (busy, unreachable or ``rang`` s unanswered)."""

    type: ClassVar[str] = "agent.no_answer"
    writer: ClassVar[str] = "queue/core.py"

    agent: str
    queue: str
    rang: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRegistered(EventBase):
    """SIP user ``user`` registered a binding ``contact`` (RFC 3261 §10)."""

    type: ClassVar[str] = "agent.registered"
    writer: ClassVar[str] = "engine/core.py (registrar hook)"

    user: str
    contact: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentUnregistered(EventBase):
    """SIP user ``user``'s binding ``contact`` was removed or expired."""

    type: ClassVar[str] = "agent.unregistered"
    writer: ClassVar[str] = "engine/core.py (registrar hook)"

    user: str
    contact: str


CLASSES = (QueueJoined, QueueAnnounced, QueueAbandoned, QueueTimeout, QueueCallbackRequested,
           QueueCallback, QueueCallbackAnswered, AgentState, AgentRinging, AgentNoAnswer,
           AgentRegistered, AgentUnregistered)
register(*CLASSES)
