"""The KPI fold's records: one window's counters and the context it keeps.

The fold (``fold.py``) keeps per call, per agent, per (caller number,
topic) and per reviewed call only what later events need (docs/kpi.md,
"Memory"); these are
those records, plus the helpers that read event fields defensively (the
event log is our own, but stored rows may come from older versions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from bailanys.metrics.snapshot import Scope
from bailanys.phone import ANONYMOUS, caller_of_uri

#: Additions to a scope's counters: Counts field name -> amount.
Delta = Mapping[str, float]


def caller_number(uri: object) -> str:
    """The caller's number of a From URI (``bailanys.phone``: ``+7 701...``
    and the national ``8 701...`` both become ``7701...`` so a repeat caller
    is recognised whichever way the network wrote it); anonymous callers
    give "" (they are not one repeat caller)."""
    number = caller_of_uri(uri)
    return "" if number == ANONYMOUS else number


def offered_number(data: Mapping[str, object]) -> str:
    """The caller's number of a ``call.offered``: its ``caller`` field (the
    engine's one normalisation), or for rows stored before it existed,
    :func:`caller_number` of its ``from`` URI; "" when anonymous."""
    caller = data.get("caller")
    if isinstance(caller, str) and caller:
        return "" if caller == ANONYMOUS else caller
    return caller_number(data.get("from"))


def num(value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return 0.0


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


class Period:
    """One window's counters: what a roll-over starts afresh."""

    __slots__ = ("agent_seconds", "pid", "scopes", "start")

    def __init__(self, pid: int, start: float | None) -> None:
        self.pid = pid
        self.start = start
        self.scopes: dict[Scope, dict[str, float]] = {}
        self.agent_seconds: dict[str, dict[str, float]] = {}

    def add(self, scope: Scope, delta: Delta, sign: int = 1) -> None:
        acc = self.scopes.get(scope)
        if acc is None:
            acc = self.scopes[scope] = {}
        for name, value in delta.items():
            acc[name] = acc.get(name, 0) + sign * value


@dataclass(slots=True, eq=False)
class CallContext:
    """Context of one caller's call (keyed by the caller's call id)."""

    call_id: str
    touched: float  # ts of its last event
    number: str = ""
    language: str | None = None
    queue: str | None = None  # current (or last) queue; None: never queued
    topic: str | None = None  # disposition's topic, else the queue's name
    joined_at: float | None = None  # first queue.joined
    waiting: bool = False  # on the line in a queue
    callback: bool = False  # asked for a callback, not yet answered or dropped
    connected: bool = False
    ended: bool = False  # the caller's leg ended
    disposed: bool = False  # its topic is final
    transferred: bool = False  # call.transferred: never first-contact resolved (FCR)
    completed: bool = False  # a call.completed counted (a transfer brings a second)
    #: What it counted in each open window (by period id) while its topic may move.
    pending: dict[int, dict[str, float]] = field(default_factory=dict)


@dataclass(slots=True)
class AgentContext:
    state: str
    since: float | None  # None: before the first event seen
    wrap_call: CallContext | None = None
    wrap_start: float | None = None


@dataclass(slots=True)
class Contact:
    """The open request of a (number, topic): when it opened, and what a
    repeat takes back (per call: the last resolved contact)."""

    ts: float
    scopes: tuple[Scope, ...]
    counted: tuple[int, ...]  # period ids that counted it
    fcr: bool = True  # still counted as resolved at the first contact
    call_id: str | None = None  # the call that opened it (a later transfer takes it back)


@dataclass(slots=True)
class Review:
    """A call's counted QA review (``qa.reviewed``): what a later review of
    the call (a correction) adjusts instead of counting the call again."""

    ts: float
    scopes: tuple[Scope, ...]
    counted: tuple[int, ...]  # period ids that counted the call for it
    passed: bool
