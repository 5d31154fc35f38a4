"""Builders for hand-written event streams, in the order the engine and the
queue core emit them (bailanys/queue/actions.py lists the fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bailanys.store.events import Event
from bailanys.timezone import ALMATY

#: Monday 3 March 2025, 10:00 in Almaty (UTC+5): an interval edge.
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=ALMATY).timestamp()


class Log:
    """``log.ev(t, type, call_id, **fields)`` appends an event at ``T0 + t``."""

    def __init__(self, t0: float = T0) -> None:
        self.t0 = t0
        self.events: list[Event] = []
        self._agent_state: dict[str, str] = {}

    def ev(self, t: float, type_: str, call_id: str | None = None, **data: Any) -> Event:
        event = Event(None, self.t0 + t, type_, call_id, data)
        self.events.append(event)
        return event

    def agent(self, t: float, agent: str, state: str, call_id: str | None = None,
              reason: str = "") -> None:
        previous = self._agent_state.get(agent, "logged_out")
        self._agent_state[agent] = state
        self.ev(t, "agent.state", call_id, agent=agent, state=state, previous=previous,
                reason=reason)

    def login(self, t: float, *agents: str) -> None:
        for agent in agents:
            self.agent(t, agent, "available")

    def arrive(self, t: float, call: str, number: str | None, queue: str, lang: str | None,
               ivr_s: float = 5.0) -> float:
        """call.offered, the IVR, call.language and queue.joined; returns the join time."""
        sender = f"sip:{number}@trunk.example.kz" if number else "sip:anonymous@anonymous.invalid"
        self.ev(t, "call.offered", call, **{"from": sender, "to": "sip:1414@bailanys",
                                            "codec": "PCMA", "transport": "UDP"})
        self.ev(t + 0.1, "call.answered", call)
        self.ev(t + 1, "ivr.node", call, node="lang", kind="menu")
        if lang:
            self.ev(t + 2, "call.language", call, language=lang)
        joined = t + ivr_s
        self.ev(joined, "queue.joined", call, queue=queue, position=1, skills=[],
                language=lang, priority=0)
        return joined

    def answered(
        self, t: float, call: str, *, number: str | None = "+77011234567", queue: str = "egov",
        lang: str | None = "kk", wait: float = 10.0, talk: float = 60.0, agent: str = "a1",
        wrap: float = 10.0, by: str = "agent", resolved: bool | None = None,
        topic: str | None = None, scores: tuple[int, ...] = (), dispose_at: float = 2.0,
    ) -> float:
        """A whole answered call; returns when the agent is available again."""
        joined = self.arrive(t, call, number, queue, lang)
        ring = joined + wait - 2
        self.agent(ring, agent, "ringing", call)
        self.ev(ring, "agent.ringing", call, agent=agent, queue=queue, timeout=15.0)
        connected = joined + wait
        self.agent(connected, agent, "on_call", call)
        self.ev(connected, "call.connected", call, queue=queue, agent=agent, waited=wait,
                orig_position=1)
        end = connected + talk
        if by == "caller":
            self.ev(end, "call.ended", call, cause="bye", duration=wait + talk)
        self.ev(end, "call.completed", call, queue=queue, agent=agent, waited=wait, talk=talk,
                by=by, orig_position=1)
        self.agent(end, agent, "wrap_up", call)
        for i, score in enumerate(scores):
            self.ev(end + 3 + i, "survey.answered", call, node="survey",
                    question="satisfaction", score=score)
        if by == "agent":
            self.ev(end + 3 + len(scores), "call.ended", call, cause="survey_done",
                    duration=wait + talk)
        if resolved is not None:
            self.ev(end + dispose_at, "call.disposition", call, queue=queue, agent=agent,
                    resolved=resolved, topic=topic)
        self.agent(end + wrap, agent, "available", call)
        return end + wrap

    def abandoned(self, t: float, call: str, *, number: str | None = "+77017654321",
                  queue: str = "egov", lang: str | None = "kk", wait: float = 30.0,
                  short_s: float = 5.0) -> None:
        joined = self.arrive(t, call, number, queue, lang)
        self.ev(joined + wait, "call.ended", call, cause="bye", duration=wait)
        self.ev(joined + wait, "queue.abandoned", call, queue=queue, position=1,
                orig_position=1, waited=wait, short=wait < short_s)

    def timed_out(self, t: float, call: str, *, number: str | None = "+77019990000",
                  queue: str = "egov", lang: str | None = "kk", wait: float = 120.0,
                  overflow: str | None = None) -> float:
        joined = self.arrive(t, call, number, queue, lang)
        self.ev(joined + wait, "queue.timeout", call, queue=queue, position=1,
                orig_position=1, waited=wait, overflow=overflow)
        if overflow is None:
            self.ev(joined + wait + 4, "call.ended", call, cause="queue_timeout",
                    duration=wait + 4)
        return joined + wait
