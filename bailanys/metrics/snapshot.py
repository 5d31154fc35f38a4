"""What the KPI core hands out: plain frozen dataclasses that serialise to JSON.

A :class:`KpiSnapshot` is one window (live, the current 15-minute interval,
today, a stored period) at one instant ``now``: per scope (total, each
queue, each language, each topic) the counted quantities (:class:`Counts`),
the KPIs computed from them (:class:`Kpi`, with their status against the
standard's targets), the callers waiting now, and the agents' states and
occupancy. ``to_json()`` gives the object the console and the reports
read. Every formula and every counted quantity is defined in ``docs/kpi.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

#: (kind, name): ("total", ""), ("queue", "egov"), ("language", "kk"), ("topic", "egov").
Scope = tuple[str, str]

TOTAL: Scope = ("total", "")
#: Kinds of scope, in the order snapshots list them.
SCOPE_KINDS = ("total", "queue", "language", "topic")
#: The language scope of a call whose language the events never named.
UNKNOWN_LANGUAGE = "unknown"

#: Agent states as ``agent.state`` names them (bailanys.queue.agents.AgentState).
AGENT_STATES = ("logged_out", "available", "ringing", "on_call", "wrap_up", "break")
#: Occupancy's numerator: the agent is busy with a call.
BUSY_STATES = frozenset({"ringing", "on_call", "wrap_up"})
#: Occupancy's denominator: logged in and not on a break.
STAFFED_STATES = frozenset({"available", "ringing", "on_call", "wrap_up"})


class Status(StrEnum):
    """A KPI against its target (``targets.py``)."""

    WITHIN = "within"
    WARNING = "warning"  # compliant, but within the warning band of the limit
    BREACH = "breach"
    NO_DATA = "no_data"  # no sample in the window
    NO_TARGET = "no_target"  # the standard sets none (ASA, service level, AHT, ...)


@dataclass(frozen=True)
class Counts:
    """The counted quantities of one scope in one window (docs/kpi.md, "Counts").

    Per-call scopes (total, language, topic) count each call once; the
    queue scope counts each visit of a queue (an overflowed caller is
    offered to two queues, times out of the first).
    """

    received: int = 0  # call.offered (total scope only)
    offered: int = 0  # queue.joined (per call: the first join)
    answered: int = 0  # call.connected
    answered_in_sl: int = 0  # ... with waited <= the service-level time T
    abandoned: int = 0  # queue.abandoned by the caller (cause "caller"), short ones included
    abandoned_short: int = 0  # ... with short = true (under the queue's short_abandon_s)
    abandoned_in_sl: int = 0  # ... with waited <= T (Asterisk SL2)
    abandoned_within_30s: int = 0  # ... with waited <= 30 s (the 1414 plan's reading)
    dropped: int = 0  # queue.abandoned with another cause: the engine's doing, not lost
    timed_out: int = 0  # queue.timeout (per call: only those not overflowed)
    overflowed: int = 0  # queue.timeout with an overflow queue
    callbacks: int = 0  # queue.callback_requested
    left: int = 0  # callers who left the queue: answered + abandoned + dropped + timed out
    handled: int = 0  # call.completed
    dispositions: int = 0  # call.disposition
    resolved: int = 0  # ... with resolved = true
    requests: int = 0  # dispositions that opened a request (FCR's denominator)
    fcr: int = 0  # requests resolved at their first contact, not (yet) repeated
    repeats: int = 0  # first-contact resolutions taken back by a repeat contact
    surveys: int = 0  # survey.answered scores 1-5 counted
    score_total: int = 0  # their sum
    satisfied: int = 0  # scores 4-5 (CSI)
    dissatisfied: int = 0  # scores 1-2 (CDI)
    reviewed: int = 0  # calls with a counted QA review (qa.reviewed), each once (KPI 2)
    reviewed_passed: int = 0  # ... whose latest counted review failed no critical criterion
    scored: int = 0  # calls scored automatically (qa.scored)
    scored_passed: int = 0  # ... with no automatic critical criterion failed
    wait_total: float = 0.0  # sum of ``waited`` of the callers who left
    answered_wait_total: float = 0.0  # sum of ``waited`` of the answered
    abandoned_wait_total: float = 0.0  # sum of ``waited`` of the callers who hung up
    talk_total: float = 0.0  # sum of ``talk`` (call.completed)
    hold_total: float = 0.0  # sum of hold time (0: the events report no holds yet)
    wrap_up_total: float = 0.0  # sum of wrap-up time after handled calls

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Counts:
        """From the fold's accumulator (missing names are 0)."""
        kwargs: dict[str, Any] = {}
        for name in COUNT_FIELDS:
            value = values.get(name, 0)
            kwargs[name] = round(value) if name in INT_COUNT_FIELDS else float(value)
        return cls(**kwargs)

    def is_empty(self) -> bool:
        """No event counted (float sums left by moves between topics ignored)."""
        return not any(getattr(self, name) for name in INT_COUNT_FIELDS)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Names of the counted quantities, and which of them are whole numbers.
COUNT_FIELDS = tuple(f.name for f in fields(Counts))
INT_COUNT_FIELDS = frozenset(f.name for f in fields(Counts) if f.type in ("int", int))


@dataclass(frozen=True)
class Kpi:
    """One indicator: ``value`` None when ``samples`` is 0 (status no_data)."""

    name: str
    value: float | None
    samples: int
    status: Status
    #: The standard's limit and goal (None: no target), for display.
    limit: float | None = None
    goal: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "samples": self.samples,
            "status": self.status.value,
            "limit": self.limit,
            "goal": self.goal,
        }


@dataclass(frozen=True)
class ScopeSnapshot:
    scope: Scope
    counts: Counts
    kpis: tuple[Kpi, ...]
    #: Callers on the line now (in a queue, not yet answered; callbacks excluded).
    waiting: int = 0
    #: Seconds the longest of them has waited since its first join; None: none waiting.
    longest_wait: float | None = None

    def kpi(self, name: str) -> Kpi:
        for k in self.kpis:
            if k.name == name:
                return k
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.scope[0],
            "name": self.scope[1],
            "counts": self.counts.to_json(),
            "kpis": {k.name: k.to_json() for k in self.kpis},
            "waiting": self.waiting,
            "longest_wait_s": self.longest_wait,
        }


@dataclass(frozen=True)
class AgentSnapshot:
    """One agent: current state and, within the window, seconds per state."""

    agent: str
    state: str
    #: When the current state began; None: before the first event the fold saw.
    since: float | None
    seconds: Mapping[str, float] = field(default_factory=dict)
    occupancy: Kpi | None = None

    @property
    def busy(self) -> float:
        return sum(self.seconds.get(s, 0.0) for s in BUSY_STATES)

    @property
    def staffed(self) -> float:
        return sum(self.seconds.get(s, 0.0) for s in STAFFED_STATES)

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "state": self.state,
            "since": self.since,
            "seconds": dict(self.seconds),
            "occupancy": None if self.occupancy is None else self.occupancy.to_json(),
        }


@dataclass(frozen=True)
class KpiSnapshot:
    """One window at ``now``: scopes, agents and the live queue."""

    #: Start of the window (epoch seconds); None: the fold has seen no event.
    start: float | None
    now: float
    scopes: tuple[ScopeSnapshot, ...]
    agents: tuple[AgentSnapshot, ...] = ()
    #: All agents together: busy seconds over staffed seconds.
    occupancy: Kpi | None = None
    #: Callers waiting for a callback (off the line, still queued).
    callbacks_pending: int = 0

    def scope(self, kind: str, name: str = "") -> ScopeSnapshot | None:
        for s in self.scopes:
            if s.scope == (kind, name):
                return s
        return None

    @property
    def total(self) -> ScopeSnapshot:
        found = self.scope(*TOTAL)
        if found is None:  # snapshots always list the total; keep mypy honest
            raise KeyError("total")
        return found

    @property
    def agents_by_state(self) -> dict[str, int]:
        out = dict.fromkeys(AGENT_STATES, 0)
        for a in self.agents:
            out[a.state] = out.get(a.state, 0) + 1
        return out

    @property
    def waiting(self) -> int:
        return self.total.waiting

    @property
    def longest_wait(self) -> float | None:
        return self.total.longest_wait

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "now": self.now,
            "waiting": self.waiting,
            "longest_wait_s": self.longest_wait,
            "callbacks_pending": self.callbacks_pending,
            "agents_by_state": self.agents_by_state,
            "occupancy": None if self.occupancy is None else self.occupancy.to_json(),
            "scopes": [s.to_json() for s in self.scopes],
            "agents": [a.to_json() for a in self.agents],
        }
