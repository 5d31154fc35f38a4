"""Callers waiting in queues, and the plain snapshots the console reads.

A :class:`Line` holds one queue's callers ordered by ``(-priority,
joined, counter)``: higher priority first, first come first served within a
priority, the counter being global so that no two keys are equal (the
``(priority, counter, item)`` idiom of pipecat's queues and ``heapq``'s
docs). ``joined`` is the first join; for a call moved here from the
engine that answered it, its arrival there (issue 22: callers of a queue
are served in arrival order whichever engine answered them). A sorted
list rather than a heap: positions are announced to every caller, and a
heap cannot say who stands where.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class CallerState(StrEnum):
    #: On the line, no agent yet.
    WAITING = "waiting"
    #: On the line, an agent's phone rings.
    RINGING = "ringing"
    #: Left the line to be called back; keeps its place.
    CALLBACK = "callback"
    #: Its turn came: an agent is reserved while the engine dials it.
    CALLING_BACK = "calling_back"
    #: Talking to an agent (no longer in the line).
    CONNECTED = "connected"


@dataclass(slots=True)
class Caller:
    """One caller's place and timers. The queue core owns and mutates it."""

    call_id: str
    queue: str
    #: Skills asked for at join (the queue's own are added in ``required``).
    skills: tuple[str, ...]
    required: frozenset[str]
    language: str | None
    priority: int
    counter: int
    #: The first join: ``waited`` in events counts from here.
    joined: float
    #: When it entered the current queue (``max_wait_s`` counts from here).
    entered: float
    #: Its position when it entered the current queue.
    orig_position: int = 0
    next_announce: float = 0.0
    deadline: float | None = None
    state: CallerState = CallerState.WAITING
    #: The agent rung, reserved or talking.
    agent: str | None = None
    rang_at: float = 0.0
    connected_at: float = 0.0
    #: The number to call back, once asked for.
    number: str | None = None
    #: Agents whose ring failed for this caller -> when it last failed.
    tried: dict[str, float] = field(default_factory=dict)
    #: Skipped until then: every free agent failed it less than ``retry_s`` ago.
    retry_at: float | None = None
    #: A call moved from another engine: seconds it waited there first
    #: (``joined`` is that much before its join here).
    prior_wait: float | None = None

    def key(self) -> tuple[int, float, int]:
        return (-self.priority, self.joined, self.counter)

    def advance_announce(self, now: float, interval: float) -> None:
        """Next announcement on the grid ``join + k * interval``, after ``now``."""
        if self.next_announce <= now:
            steps = math.floor((now - self.next_announce) / interval) + 1
            self.next_announce += steps * interval


class Line:
    """One queue's callers in service order."""

    __slots__ = ("_callers",)

    def __init__(self) -> None:
        self._callers: list[Caller] = []

    def add(self, caller: Caller) -> int:
        """Insert in order; return its 1-based position."""
        insort(self._callers, caller, key=Caller.key)
        return self.position(caller)

    def remove(self, caller: Caller) -> int:
        """Take out; return the 1-based position it had."""
        position = self.position(caller)
        del self._callers[position - 1]
        return position

    def position(self, caller: Caller) -> int:
        index = bisect_left(self._callers, caller.key(), key=Caller.key)
        if index == len(self._callers) or self._callers[index] is not caller:
            raise KeyError(caller.call_id)
        return index + 1

    def head(self, count: int) -> list[Caller]:
        """The first ``count`` callers, in order."""
        return self._callers[:count]

    def __len__(self) -> int:
        return len(self._callers)

    def __iter__(self) -> Iterator[Caller]:
        return iter(list(self._callers))


# --- snapshots (plain data for the console) ---------------------------------


@dataclass(frozen=True)
class CallerSnapshot:
    call_id: str
    position: int
    waited: float
    language: str | None
    #: Asked to be called back.
    callback: bool
    #: A :class:`CallerState` value.
    state: str
    #: The agent being rung or reserved for it.
    agent: str | None


@dataclass(frozen=True)
class QueueSnapshot:
    name: str
    callers: tuple[CallerSnapshot, ...]
    #: Free agents qualified for the queue's own skills.
    agents_available: int


@dataclass(frozen=True)
class AgentSnapshot:
    user: str
    name: str
    state: str
    since: float
    reason: str
    current_call: str | None
    logout_pending: bool
    #: A break asked for during the call ("" if none).
    pause_pending: str = ""


@dataclass(frozen=True)
class Snapshot:
    queues: tuple[QueueSnapshot, ...]
    agents: tuple[AgentSnapshot, ...]
