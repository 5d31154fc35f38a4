"""Fixture calls for the contacts tests: stored-style events built from the catalogue classes."""

from __future__ import annotations

from typing import Protocol

from bailanys.events import (
    AgentState,
    AnyEvent,
    CallCompleted,
    CallConnected,
    CallDisposition,
    CallEnded,
    CallOffered,
    QueueAbandoned,
    QueueJoined,
    encode,
)
from bailanys.store.events import Event

#: 2026-07-01 10:00 in Almaty (UTC+5): 05:00 UTC.
T0 = 1_782_882_000.0


class Sink(Protocol):
    def emit_at(self, ts: float, event: AnyEvent) -> Event: ...


class Calls:
    """Events with increasing ids, as the store hands them back."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.events: list[Event] = []
        self.sink = sink

    def add(self, ts: float, event: AnyEvent) -> Event:
        if self.sink is not None:
            self.sink.emit_at(ts, event)
        type_, call_id, data = encode(event)
        stored = Event(len(self.events) + 1, ts, type_, call_id, data)
        self.events.append(stored)
        return stored

    def of(self, call_id: str) -> list[Event]:
        return [e for e in self.events if e.call_id == call_id]


def offered(c: Calls, call: str, ts: float, caller: str = "77011234567") -> None:
    c.add(ts, CallOffered(call_id=call, from_uri=f"sip:{caller}@x", to_uri="sip:1414@x",
                          codec="PCMU", transport="udp", caller=caller, dialled="1414"))


def joined(c: Calls, call: str, ts: float, queue: str = "egov", language: str = "kk") -> None:
    c.add(ts, QueueJoined(call_id=call, queue=queue, position=1, skills=(),
                          language=language, priority=0))


def answered_call(c: Calls, call: str, ts: float, *, wait: float = 12.0, talk: float = 100.0,
                  wrap: float = 20.0, agent: str = "aigul", topic: str | None = "passport",
                  resolved: bool = True) -> None:
    """Offered at ``ts``, joins at +5, answered after ``wait``, ``talk``
    seconds, then ``wrap`` seconds of wrap-up and a disposition."""
    offered(c, call, ts)
    joined(c, call, ts + 5)
    at = ts + 5 + wait
    c.add(at, CallConnected(call_id=call, queue="egov", agent=agent, waited=wait,
                            orig_position=1))
    at += talk
    c.add(at, CallCompleted(call_id=call, queue="egov", agent=agent, waited=wait, talk=talk,
                            by="caller", orig_position=1))
    c.add(at, AgentState(call_id=call, agent=agent, state="wrap_up", previous="on_call",
                         reason=""))
    c.add(at + 1, CallEnded(call_id=call, cause="caller", reason="bye", duration=talk))
    c.add(at + 2, CallDisposition(call_id=call, queue="egov", agent=agent, resolved=resolved,
                                  topic=topic))
    c.add(at + wrap, AgentState(agent=agent, state="available", previous="wrap_up", reason=""))


def lost_call(c: Calls, call: str, ts: float, *, wait: float = 40.0, short: bool = False,
              cause: str = "caller") -> None:
    offered(c, call, ts)
    joined(c, call, ts + 5)
    c.add(ts + 5 + wait, QueueAbandoned(call_id=call, queue="egov", position=1,
                                        orig_position=1, waited=wait, short=short, cause=cause))
    c.add(ts + 5 + wait, CallEnded(call_id=call, cause=cause, reason="bye", duration=0.0))
