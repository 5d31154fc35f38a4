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

from bailanys.events.base import EventBase, optional, register


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueJoined(EventBase):
    """The caller joined ``queue`` at ``position`` (1 = next), needing
    ``skills`` (sorted), speaking ``language`` (None: not chosen), with
    ``priority`` (higher first). ``prior_wait`` (issue 22, a call moved
    from the engine that answered it to the queue's owner): the seconds
    since it reached a queue node there; its arrival, by which the line is
    ordered and ``waited`` counted, is the event's time minus it."""

    type: ClassVar[str] = "queue.joined"
    writer: ClassVar[str] = "queue/waiting.py"

    queue: str
    position: int
    skills: tuple[str, ...]
    language: str | None
    priority: int
    prior_wait: float | None = optional()


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
    ``caller`` is a lost call. ``engine_failure`` (issue 22): the engine
    holding the caller died and the queue's new owner could not reach it
    (counted ``dropped``, never lost)."""

    type: ClassVar[str] = "queue.abandoned"
    writer: ClassVar[str] = "queue/waiting.py; engine/reconcile.py; ownership/rebuild.py"

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


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOwner(EventBase):
    """Engine ``owner`` (its incarnation; SIP ``owner_uri``) started owning
    the queue group ``group`` (its ``queues``, sorted) at lease ``epoch``
    (issue 22, docs/architecture.md "Queues across engines"). ``resumed``:
    the epoch it held before (nobody owned it in between); otherwise it
    rebuilt the group from the events: ``waiting`` callers in line (callbacks
    included), ``talking`` calls connected on the previous owner."""

    type: ClassVar[str] = "queue.owner"
    writer: ClassVar[str] = "ownership/route.py"

    group: str
    queues: tuple[str, ...]
    owner: str
    owner_uri: str
    epoch: int
    resumed: bool
    waiting: int
    talking: int


CLASSES = (QueueJoined, QueueAnnounced, QueueAbandoned, QueueTimeout, QueueCallbackRequested,
           QueueCallback, QueueCallbackAnswered, AgentState, AgentRinging, AgentNoAnswer,
           AgentRegistered, AgentUnregistered, QueueOwner)
register(*CLASSES)
