"""One agent's period (a day for the drill-down, any period for the export): pure.

Folds the agent's stored events, in the log's order, into its calls, its
states' seconds and its breaks. The formulas are docs/kpi.md's:

* AHT = (talk + hold + wrap-up) / handled: *handled* are the calls whose
  conversation ended (``call.completed``), *talk* their
  ``talk``, *hold* the seconds between ``call.hold`` and ``call.unhold``
  (or the conversation's end) on the caller's call or the agent's leg,
  *wrap-up* the agent's ``wrap_up`` spans that followed a call (the span
  ends at the agent's next ``agent.state``), of the calls answered in the
  period (``call.connected``) whose conversation has ended;
* occupancy = (ringing + on a call + wrap-up) / (available + ringing + on
  a call + wrap-up) × 100, seconds in each state within the period; breaks
  and logged-out time are not staffed time.

A state still running at ``until`` (now, for today) counts up to it; a
state that began before the period counts from its start (``initial``).
A ratio with nothing to divide by is None ("no data"), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bailanys.metrics.snapshot import BUSY_STATES, STAFFED_STATES
from bailanys.store.events import Event

LOGGED_OUT: Final = "logged_out"
BREAK: Final = "break"
WRAP_UP: Final = "wrap_up"
#: The event types :func:`fold_agent` reads.
TYPES: Final = ("agent.state", "call.connected", "call.completed", "call.disposition",
                "call.hold", "call.unhold", "call.offered")


def aht(talk: float, hold: float, wrap_up: float, handled: int) -> float | None:
    """Average handling time in seconds (docs/kpi.md ``aht_s``)."""
    return (talk + hold + wrap_up) / handled if handled > 0 else None


def occupancy(seconds: Mapping[str, float]) -> float | None:
    """Busy over staffed time in % (docs/kpi.md ``occupancy_pct``)."""
    busy = sum(seconds.get(s, 0.0) for s in BUSY_STATES)
    staffed = sum(seconds.get(s, 0.0) for s in STAFFED_STATES)
    return 100.0 * busy / staffed if staffed > 0 else None


def mask_number(number: str) -> str:
    """The caller's number as the drill-down shows it: the last four digits."""
    digits = [c for c in number if c.isdigit()]
    if not digits:
        return number if number == "anonymous" else ""
    shown = "".join(digits[-4:]) if len(digits) > 4 else ""
    return "*" * (len(digits) - len(shown)) + shown


@dataclass(slots=True)
class AgentCall:
    """One call the agent answered."""

    call_id: str
    connected: float
    queue: str
    waited: float
    leg: str = ""
    #: ``call.completed``'s talk; None while the conversation goes on.
    talk: float | None = None
    ended_by: str = ""
    hold: float = 0.0
    wrap_up: float = 0.0
    outcome: str = ""
    #: The masked number ("" when unknown).
    caller: str = ""
    hold_since: float | None = None

    def to_json(self, until: float) -> dict[str, Any]:
        hold = self.hold + (until - self.hold_since if self.hold_since is not None else 0.0)
        duration = self.talk if self.talk is not None else max(0.0, until - self.connected)
        return {"call_id": self.call_id, "time": self.connected, "queue": self.queue,
                "waited": round(self.waited, 1), "duration": round(duration, 1),
                "talk": None if self.talk is None else round(self.talk, 1),
                "hold": round(hold, 1), "wrap_up": round(self.wrap_up, 1),
                "outcome": self.outcome, "ended_by": self.ended_by, "caller": self.caller}


@dataclass(frozen=True, slots=True)
class BreakSpan:
    start: float
    end: float
    reason: str
    #: Still on this break at ``until``.
    running: bool

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class AgentPeriod:
    """What :func:`fold_agent` returns."""

    agent: str
    start: float
    until: float
    calls: list[AgentCall] = field(default_factory=list)
    breaks: list[BreakSpan] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    #: When the agent was first logged in in the period (``start`` when it already was).
    first_login: float | None = None
    state: str = LOGGED_OUT
    state_since: float | None = None

    @property
    def handled(self) -> list[AgentCall]:
        return [c for c in self.calls if c.talk is not None]

    def totals(self) -> dict[str, float]:
        done = self.handled
        return {"talk": sum(c.talk or 0.0 for c in done), "hold": sum(c.hold for c in done),
                "wrap_up": sum(c.wrap_up for c in done)}

    def aht(self) -> float | None:
        t = self.totals()
        return aht(t["talk"], t["hold"], t["wrap_up"], len(self.handled))

    def occupancy(self) -> float | None:
        return occupancy(self.seconds)

    @property
    def logged_in_s(self) -> float:
        return sum(s for state, s in self.seconds.items() if state != LOGGED_OUT)

    def to_json(self) -> dict[str, Any]:
        t = self.totals()
        return {
            "agent": self.agent, "start": self.start, "until": self.until,
            "state": self.state, "state_since": self.state_since,
            "first_login": self.first_login, "logged_in_s": round(self.logged_in_s, 1),
            "handled": len(self.handled), "answered": len(self.calls),
            "talk_s": round(t["talk"], 1), "hold_s": round(t["hold"], 1),
            "wrap_up_s": round(t["wrap_up"], 1),
            "aht_s": _round(self.aht()), "occupancy_pct": _round(self.occupancy()),
            "seconds": {k: round(v, 1) for k, v in sorted(self.seconds.items())},
            "breaks": [{"start": b.start, "end": b.end, "reason": b.reason,
                        "seconds": round(b.seconds, 1), "running": b.running}
                       for b in self.breaks],
            "break_s": round(sum(b.seconds for b in self.breaks), 1),
            "calls": [c.to_json(self.until) for c in self.calls],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class _Fold:
    def __init__(self, agent: str, start: float, until: float, queue: str | None,
                 initial: tuple[str, str] | None) -> None:
        self.out = AgentPeriod(agent, start, until)
        self.queue = queue
        self.callers: dict[str, str] = {}
        self.by_call: dict[str, AgentCall] = {}
        self.by_leg: dict[str, AgentCall] = {}
        self.state, self.reason = initial if initial is not None else (LOGGED_OUT, "")
        self.since = start
        self.wrap_call: AgentCall | None = None
        if self.state != LOGGED_OUT:
            self.out.first_login = start

    def close_state(self, ts: float) -> None:
        ts = min(max(ts, self.since), self.out.until)
        span = ts - self.since
        if span > 0:
            self.out.seconds[self.state] = self.out.seconds.get(self.state, 0.0) + span
        if self.state == WRAP_UP and self.wrap_call is not None:
            self.wrap_call.wrap_up += max(0.0, span)
        if self.state == BREAK:
            self.out.breaks.append(BreakSpan(self.since, ts, self.reason,
                                             ts >= self.out.until))

    def on_state(self, event: Event) -> None:
        ts = max(event.ts, self.out.start)
        self.close_state(ts)
        self.state = _text(event.data.get("state")) or LOGGED_OUT
        self.reason = _text(event.data.get("reason"))
        self.since = ts
        if self.state != LOGGED_OUT and self.out.first_login is None:
            self.out.first_login = ts
        self.wrap_call = (self.by_call.get(event.call_id or "")
                          if self.state == WRAP_UP else None)

    def call_of(self, event: Event) -> AgentCall | None:
        key = event.call_id or ""
        return self.by_call.get(key) or self.by_leg.get(key)

    def apply(self, event: Event) -> None:
        data, agent = event.data, self.out.agent
        if event.type == "agent.state":
            if data.get("agent") == agent:
                self.on_state(event)
        elif event.type == "call.offered":
            caller = _text(data.get("caller"))
            if event.call_id and caller:
                self.callers[event.call_id] = mask_number(caller)
        elif event.type == "call.connected":
            queue = _text(data.get("queue"))
            if data.get("agent") != agent or not event.call_id or event.ts < self.out.start:
                return
            if self.queue is not None and queue != self.queue:
                return
            call = AgentCall(event.call_id, event.ts, queue, _number(data.get("waited")),
                             _text(data.get("leg")),
                             caller=self.callers.get(event.call_id, ""))
            self.out.calls.append(call)
            self.by_call[call.call_id] = call
            if call.leg:
                self.by_leg[call.leg] = call
        elif event.type in ("call.hold", "call.unhold"):
            self.on_hold(event)
        elif event.type == "call.completed" and data.get("agent") == agent:
            done = self.by_call.get(event.call_id or "")
            if done is not None and done.talk is None:
                done.talk = _number(data.get("talk"))
                done.ended_by = _text(data.get("by"))
                self.end_hold(done, event.ts)
        elif event.type == "call.disposition" and data.get("agent") == agent:
            told = self.by_call.get(event.call_id or "")
            if told is not None and not told.outcome:
                outcome = _text(data.get("outcome"))
                told.outcome = outcome or ("resolved" if data.get("resolved") is True
                                           else "not_resolved")

    def on_hold(self, event: Event) -> None:
        call = self.call_of(event)
        if call is None or call.talk is not None:
            return
        if event.type == "call.hold":
            if call.hold_since is None:
                call.hold_since = event.ts
        else:
            self.end_hold(call, event.ts)

    @staticmethod
    def end_hold(call: AgentCall, ts: float) -> None:
        if call.hold_since is not None:
            call.hold += max(0.0, ts - call.hold_since)
            call.hold_since = None

    def finish(self) -> AgentPeriod:
        self.close_state(self.out.until)
        self.out.state, self.out.state_since = self.state, self.since
        return self.out


def fold_agent(agent: str, events: Iterable[Event], start: float, until: float, *,
               initial: tuple[str, str] | None = None, queue: str | None = None) -> AgentPeriod:
    """``agent``'s period [start, until) from its events in the log's order.

    ``events`` may hold other agents' events (skipped) and the callers'
    ``call.offered`` (for the masked numbers; read before their calls).
    ``initial``: the agent's (state, reason) at ``start``. ``queue``: only
    the calls of that queue (state times stay the agent's whole time).
    Events at or after ``until`` are skipped.
    """
    fold = _Fold(agent, start, until, queue, initial)
    for event in events:
        if event.ts < until:
            fold.apply(event)
    return fold.finish()
