"""What a crash left open, closed from the stored events (``engine_restart`` causes).

After ``kill -9`` (or a power cut) the store holds calls that were offered
and never ended, callers waiting in a queue who never left it, agents
ringing or talking, callbacks nobody will place. Every fold and report
would count them open forever (a waiting caller's "longest wait" growing
for hours). At start-up, before the KPI fold replays today's events and
before the queues start, :func:`reconcile` reads the stored events of the
candidates and says what to append so that everything is closed:

* each call left open (``call.offered`` or ``call.originated``, no
  ``call.ended``) gets ``call.ended`` with cause and reason
  ``engine_restart``, at the call's last stored event time;
* a caller left on a queue's line (joined, no abandon, time-out, connect or
  callback request after it) gets ``queue.abandoned`` with cause
  ``engine_restart`` at that same time; a caller waiting for a callback
  (its call ended when it asked) gets one at the crash time (the last
  stored event): nobody will call it back;
* a call connected to an agent and not completed gets ``call.completed``
  (``by`` ``engine_restart``) so that its talk time is counted;
* each agent whose last state is not ``logged_out`` gets ``agent.state``
  ``logged_out`` with reason ``engine_restart`` at the crash time: the
  engine was down; phones still registered log their agents in again.

It also says which agents were on a break (console pause, "lunch"), with
its reason and start, so the queues put them back on it: the last state
of the agent that the engine itself did not write on a stop or a restart
(reasons :data:`ENGINE_REASONS`).

Pure: events in, events out; no I/O, no clock. The adapter that queries
the store and appends is :mod:`bailanys.engine.recovery`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bailanys.engine.causes import Cause
from bailanys.store.events import Event

#: The agent reasons the engine writes on its own stop and restart: not an
#: operator's choice, so not a state to restore.
ENGINE_REASONS = frozenset({Cause.ENGINE_RESTART.value, Cause.ENGINE_SHUTDOWN.value})
#: Events that open a call's record.
OPENING = frozenset({"call.offered", "call.originated"})


@dataclass(frozen=True)
class Closing:
    """One event to append: ``type`` for ``call_id`` at ``ts`` with ``fields``."""

    type: str
    call_id: str | None
    ts: float
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Break:
    """An agent's break to restore: its ``reason`` and since when (epoch ``since``)."""

    reason: str
    since: float


@dataclass(frozen=True)
class Reconciliation:
    """What :func:`reconcile` found: the events to append (oldest first) and breaks."""

    closings: tuple[Closing, ...] = ()
    breaks: Mapping[str, Break] = field(default_factory=dict)

    def count(self, type_: str) -> int:
        return sum(1 for c in self.closings if c.type == type_)


@dataclass
class _Line:
    """A call's place in the queues as its events tell it."""

    queue: str | None = None
    joined: float | None = None  # the first join (``waited`` counts from it)
    position: int = 0
    orig_position: int = 0
    on_line: bool = False  # in a queue's line (waiting or being rung for)
    callback: bool = False  # off the line, waiting to be called back
    connected: Event | None = None  # call.connected not yet completed


def _line_of(events: Sequence[Event]) -> _Line:
    line = _Line()
    for e in events:
        data = e.data
        if e.type == "queue.joined":
            line.queue = _text(data.get("queue")) or line.queue
            line.joined = e.ts if line.joined is None else line.joined
            line.position = line.orig_position = _int(data.get("position"))
            line.on_line, line.callback = True, False
        elif e.type == "queue.announced":
            line.position = _int(data.get("position")) or line.position
        elif e.type == "queue.callback_requested":
            line.on_line, line.callback = False, True
        elif e.type == "queue.callback_answered":
            line.on_line, line.callback = True, False
        elif e.type == "call.connected":
            line.on_line = line.callback = False
            line.connected = e
        elif e.type == "call.completed":
            line.connected = None
        elif e.type == "queue.abandoned":
            line.on_line = line.callback = False
        elif e.type == "queue.timeout" and not data.get("overflow"):
            line.on_line = line.callback = False
    return line


def _close_call(call_id: str, events: Sequence[Event], crash_ts: float) -> list[Closing]:
    out: list[Closing] = []
    last = max(e.ts for e in events)
    types = {e.type for e in events}
    line = _line_of(events)
    restart = Cause.ENGINE_RESTART.value
    if line.on_line or line.callback:
        at = last if line.on_line else max(last, crash_ts)
        joined = line.joined if line.joined is not None else at
        out.append(Closing("queue.abandoned", call_id, at, {
            "queue": line.queue, "position": line.position,
            "orig_position": line.orig_position, "waited": round(max(0.0, at - joined), 3),
            "short": False, "cause": restart,
        }))
    if line.connected is not None:
        data = line.connected.data
        out.append(Closing("call.completed", call_id, last, {
            "queue": data.get("queue"), "agent": data.get("agent"),
            "waited": data.get("waited"), "talk": round(max(0.0, last - line.connected.ts), 3),
            "by": restart, "orig_position": data.get("orig_position"),
        }))
    if types & OPENING and "call.ended" not in types:
        answered = next((e.ts for e in events if e.type == "call.answered"), None)
        duration = 0.0 if answered is None else round(max(0.0, last - answered), 3)
        out.append(Closing("call.ended", call_id, last, {
            "cause": restart, "reason": restart, "duration": duration,
        }))
    return out


def reconcile(
    calls: Mapping[str, Iterable[Event]],
    agents: Mapping[str, Event],
    agents_chosen: Mapping[str, Event],
    crash_ts: float,
) -> Reconciliation:
    """Close what the stored events leave open.

    ``calls``: every stored event of each call that may be open (the
    adapter picks them: opened with no ``call.ended``, or a callback
    requested); a call with nothing open gives nothing. ``agents``: each
    agent's last stored ``agent.state``; ``agents_chosen``: its last one
    not written by the engine's stop or restart (:data:`ENGINE_REASONS`).
    ``crash_ts``: the last stored event's time, when the engine was last
    known alive.
    """
    closings: list[Closing] = []
    for call_id, stream in calls.items():
        events = sorted(stream, key=lambda e: (e.ts, e.id or 0))
        if events:
            closings += _close_call(call_id, events, crash_ts)
    for user, last in sorted(agents.items()):
        state = _text(last.data.get("state"))
        if state and state != "logged_out":
            closings.append(Closing("agent.state", None, max(crash_ts, last.ts), {
                "agent": user, "state": "logged_out", "previous": state,
                "reason": Cause.ENGINE_RESTART.value,
            }))
    breaks: dict[str, Break] = {}
    for user, chosen in sorted(agents_chosen.items()):
        reason = _text(chosen.data.get("reason"))
        if _text(chosen.data.get("state")) == "break" and reason not in ENGINE_REASONS:
            breaks[user] = Break(reason or "break", chosen.ts)
    closings.sort(key=lambda c: c.ts)
    return Reconciliation(tuple(closings), breaks)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
