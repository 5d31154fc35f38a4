"""Events for the intraday tests, as the engine stores them: catalogue classes
(``bailanys/events``) turned into the store's rows (``event_row``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from bailanys.events import (
    AgentState,
    AnyEvent,
    CallCompleted,
    CallConnected,
    CallDisposition,
    CallHold,
    CallOffered,
    CallUnhold,
    QueueAbandoned,
    QueueJoined,
)
from bailanys.store.events import INSERT_EVENT, Event, event_row
from bailanys.store.syncdb import connect_sync
from bailanys.timezone import ALMATY
from tests.backends import ensure_partitions

DAY = dt.date(2026, 12, 4)


def at(h: int, m: int = 0, s: float = 0.0, day: dt.date = DAY) -> float:
    """A wall-clock time in Almaty as epoch seconds."""
    return dt.datetime.combine(day, dt.time(h, m), ALMATY).timestamp() + s


def as_events(timed: Iterable[tuple[float, AnyEvent]]) -> list[Event]:
    """Stored ``Event`` objects (ids in order), as the store reads them back."""
    out = []
    for i, (ts, event) in enumerate(timed, 1):
        ts, kind, call_id, data = event_row(ts, event)
        out.append(Event(i, ts, kind, call_id, json.loads(data)))
    return out


def write(db: Path | str, timed: Iterable[tuple[float, AnyEvent]]) -> None:
    """Append events to the store (a file or a PostgreSQL URL) as the engine's writer does."""
    rows = [event_row(ts, e) for ts, e in timed]
    with closing(connect_sync(db)) as conn, conn:
        ensure_partitions(conn, [r[0] for r in rows])
        conn.executemany(INSERT_EVENT, rows)


def state(agent: str, new: str, previous: str, reason: str = "",
          call_id: str | None = None) -> AgentState:
    return AgentState(call_id=call_id, agent=agent, state=new, previous=previous, reason=reason)


def answered_call(call_id: str, agent: str, joined: float, wait: float, talk: float,
                  wrap: float, *, queue: str = "support", caller: str = "77011234567",
                  hold: tuple[float, float] | None = None, leg: str = "",
                  outcome: str | None = "resolved") -> list[tuple[float, AnyEvent]]:
    """A caller offered, joined, answered by ``agent`` after ``wait``, ``talk``
    seconds (an optional hold from ``hold[0]`` s after the answer for
    ``hold[1]`` s on the agent's leg), a wrap-up of ``wrap`` s, a disposition."""
    up = joined + wait
    down = up + talk
    out: list[tuple[float, AnyEvent]] = [
        (joined - 5, CallOffered(call_id=call_id, from_uri=f"sip:{caller}@x", to_uri="sip:1414@x",
                                 codec="PCMU", transport="udp", caller=caller, dialled="1414")),
        (joined, QueueJoined(call_id=call_id, queue=queue, position=1, skills=(),
                             language="kk", priority=0)),
        (up - 1, state(agent, "ringing", "available", call_id=call_id)),
        (up, CallConnected(call_id=call_id, queue=queue, agent=agent, waited=wait,
                           orig_position=1, leg=leg or None)),
        (up, state(agent, "on_call", "ringing", call_id=call_id)),
    ]
    if hold is not None:
        on = leg or call_id
        out += [(up + hold[0], CallHold(call_id=on)),
                (up + hold[0] + hold[1], CallUnhold(call_id=on))]
    out += [
        (down, CallCompleted(call_id=call_id, queue=queue, agent=agent, waited=wait, talk=talk,
                             by="caller", orig_position=1)),
        (down, state(agent, "wrap_up", "on_call", call_id=call_id)),
    ]
    if outcome is not None:
        out.append((down + 1, CallDisposition(call_id=call_id, queue=queue, agent=agent,
                                              resolved=outcome == "resolved", topic=None,
                                              outcome=outcome)))
    out.append((down + wrap, state(agent, "available", "wrap_up")))
    return out


def lost_call(call_id: str, joined: float, wait: float, *, queue: str = "support",
              short: bool = False, cause: str = "caller") -> list[tuple[float, AnyEvent]]:
    return [(joined, QueueJoined(call_id=call_id, queue=queue, position=1, skills=(),
                                 language="ru", priority=0)),
            (joined + wait, QueueAbandoned(call_id=call_id, queue=queue, position=1,
                                           orig_position=1, waited=wait, short=short,
                                           cause=cause))]
