"""The KPI fold: the regulator's KPIs folded live from the event stream.

:class:`KpiFold` is pure (no I/O, no clock): ``apply(event)`` updates it in
O(1) (dictionary look-ups and a constant number of additions), and
``snapshot(now)`` reads it out as a :class:`~bailanys.metrics.snapshot.KpiSnapshot`.
Formulas, counted quantities and their sources: ``docs/kpi.md``.

It keeps two kinds of state:

* **context**, shared by every window: what later events of a call need
  from its earlier ones (the caller's number from ``call.offered``, the
  language, the current queue and topic), the callers on the line, each
  agent's state and since when, and for FCR the last resolved contact per
  (caller number, topic). Context is bounded by what is live, not by the
  number of events: a call's record goes when the call can get no more
  events that need it (or after ``call_memory_s`` without any), a contact
  when the FCR window has passed or a repeat took it back.
* **windows** (``open_window``): counters per scope, counting the events
  whose ``ts`` is at or after the window's start. Re-opening a window under
  the same name is the interval roll-over: counters start afresh, context
  stays, so a call crossing the edge keeps its language, number and topic.
  Events before a window's start only build context, which is how
  :func:`~bailanys.metrics.windows.recompute` folds a stored period.

Scopes: ``("total", "")``; ``("queue", name)``, counting each visit of a
queue; ``("language", code)`` and ``("topic", name)``, counting each call
once. A call's topic is its disposition's topic, or its queue's name until
(or unless) a disposition names another; when the disposition (or an
overflow to another queue) changes it, what the call counted so far in the
open windows moves to the new topic.

FCR (requirements item 3.16, Appendix 1 item 4: the share of *requests*
resolved at the first contact) is folded incrementally, per request: a
disposition from a caller number on a topic with no request of that
(number, topic) opened within ``fcr_window_s`` opens one (``requests + 1``),
first-contact resolved at once if the disposition says resolved. A later
contact on it within the window (another disposition, or a caller's
non-short abandon or final timeout, whose topic is the queue's name) is a
repeat: it takes that resolution back, once, and opens nothing.  Only the
request per (number, topic) is kept, so memory is bounded by the callers
of the last ``fcr_window_s``, not by the events. A window's FCR is
therefore provisional until ``fcr_window_s`` after it ends.
A transferred contact (a ``call.transferred`` for the call, or a
disposition whose ``outcome`` is ``transferred``) opens its request like
any other but is never first-contact resolved: the 1414 profile's FCR
counts calls solved "without a transfer to another specialist" (docs/kpi.md).
After a transfer the call joins, is answered and completes again: the
second ``call.connected`` and ``call.completed`` count in the new queue's
scope only, so the call is answered and handled once (its wait, KPI 1,
is the first queue's).
``KpiConfig.fcr_per_call`` gives the older reading: every disposition is
its own request and a repeat takes back only the last resolved contact.

An abandon counts as lost only when its ``cause`` is "caller" (no cause,
as in events stored before causes existed, reads as "caller"); another
cause (engine_shutdown, engine_restart, engine_failure, rtp_timeout, max_duration,
error) is counted as ``dropped``: the engine's doing, not the caller's.

KPI 2 (Appendix 1 item 2) comes from the QA events ``qa.scored`` and
``qa.reviewed``, folded by :class:`~bailanys.metrics.accuracy.AccuracyFold`
(a corrected review counts the call once per window).
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bailanys.metrics import formulas
from bailanys.metrics.accuracy import DEFAULT_REVIEW_MEMORY_S, AccuracyFold
from bailanys.metrics.context import (
    AgentContext,
    CallContext,
    Contact,
    Delta,
    Period,
    num,
    offered_number,
    text,
)
from bailanys.metrics.formulas import PLAN_LOST_AFTER_S
from bailanys.metrics.snapshot import (
    SCOPE_KINDS,
    TOTAL,
    UNKNOWN_LANGUAGE,
    AgentSnapshot,
    Counts,
    KpiSnapshot,
    Scope,
    ScopeSnapshot,
)
from bailanys.metrics.targets import KpiTargets
from bailanys.queue.outcome import Outcome
from bailanys.store.events import Event

#: Service-level time T: the industry's "80 % in 20 s" convention (the
#: standard sets none; Asterisk's ``servicelevel`` has no default).
DEFAULT_SERVICE_LEVEL_S = 20.0
#: FCR: a repeat within 7 days takes a resolved contact back (docs/kpi.md).
DEFAULT_FCR_WINDOW_S = 7 * 86_400.0
#: A call record not touched by any event for this long is dropped (a
#: disposition that never came, a callback waiting all night).
DEFAULT_CALL_MEMORY_S = 6 * 3_600.0
#: The window every fold has: from ``start`` (None: the first event) on.
MAIN = "main"

_TAKE_BACK: Delta = {"fcr": -1, "repeats": 1}
#: ``queue.abandoned``'s cause when the caller hung up (CONTRACTS item 2).
CALLER = "caller"
#: ``call.disposition``'s outcome of a transferred contact (``bailanys.queue.outcome``).
TRANSFERRED = Outcome.TRANSFERRED.value


@dataclass(frozen=True)
class KpiConfig:
    #: Service-level time T in seconds (SL and SL2 count waits <= T).
    service_level_s: float = DEFAULT_SERVICE_LEVEL_S
    #: A repeat contact within this many seconds takes an FCR back.
    fcr_window_s: float = DEFAULT_FCR_WINDOW_S
    #: Survey questions that are satisfaction scores; None: every question.
    survey_questions: frozenset[str] | None = None
    #: Seconds without events after which a call's record is dropped.
    call_memory_s: float = DEFAULT_CALL_MEMORY_S
    #: KPI 1 averages every caller who left the queue, not the answered only
    #: (docs/kpi.md: the requirement's reading is the default, False).
    wait_of_all: bool = False
    #: FCR per call with a disposition (a repeat counts on its own merit)
    #: instead of per request (the requirement's reading, False).
    fcr_per_call: bool = False
    #: Seconds a call's counted QA review is remembered for a correction (KPI 2).
    review_memory_s: float = DEFAULT_REVIEW_MEMORY_S
    targets: KpiTargets = field(default_factory=KpiTargets)

    def __post_init__(self) -> None:
        for name in ("service_level_s", "fcr_window_s", "call_memory_s", "review_memory_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")


class KpiFold:
    """The KPIs of the events applied so far; see the module docs."""

    def __init__(self, config: KpiConfig | None = None, *, start: float | None = None) -> None:
        self.config = config if config is not None else KpiConfig()
        self._pid = itertools.count(1)
        self._periods: dict[str, Period] = {MAIN: Period(next(self._pid), start)}
        self._calls: OrderedDict[str, CallContext] = OrderedDict()  # least recently touched first
        self._waiting: dict[str, CallContext] = {}
        self._agents: dict[str, AgentContext] = {}
        self._contacts: OrderedDict[tuple[str, str], Contact] = OrderedDict()
        self._accuracy = AccuracyFold(self.config.review_memory_s)
        #: Events applied so far.
        self.applied = 0

    # --- windows -------------------------------------------------------------------

    def open_window(self, name: str, start: float | None) -> None:
        """Count from ``start`` on under ``name`` (replacing a window of that name)."""
        self._periods[name] = Period(next(self._pid), start)

    def close_window(self, name: str) -> None:
        if name != MAIN:
            self._periods.pop(name, None)

    @property
    def windows(self) -> tuple[str, ...]:
        return tuple(self._periods)

    def window_start(self, name: str = MAIN) -> float | None:
        return self._periods[name].start

    @property
    def sizes(self) -> dict[str, int]:
        """How much context is held (bounded by live calls, agents and callers)."""
        return {"calls": len(self._calls), "waiting": len(self._waiting),
                "agents": len(self._agents), "contacts": len(self._contacts),
                "reviews": len(self._accuracy)}

    # --- folding -------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event: O(1), whatever has been folded before."""
        ts = event.ts
        for period in self._periods.values():
            if period.start is None:
                period.start = ts
        self._expire(ts)
        if event.call_id is not None and event.call_id in self._calls:
            self._touch(event.call_id, ts)
        handler = _HANDLERS.get(event.type)
        if handler is not None and (event.call_id or event.type in _NO_CALL_ID):
            handler(self, event)
        self.applied += 1

    def _expire(self, ts: float) -> None:
        """Drop call records idle too long and contacts past the FCR window
        (both kept in order of age: amortised O(1))."""
        idle = ts - self.config.call_memory_s
        while self._calls:
            rec = next(iter(self._calls.values()))
            if rec.touched >= idle:
                break
            self._forget(rec)
        old = ts - self.config.fcr_window_s
        while self._contacts:
            key, contact = next(iter(self._contacts.items()))
            if contact.ts >= old:
                break
            del self._contacts[key]
        self._accuracy.expire(ts)

    def _touch(self, call_id: str, ts: float) -> CallContext:
        rec = self._calls.get(call_id)
        if rec is None:
            rec = self._calls[call_id] = CallContext(call_id, ts)
        else:
            rec.touched = max(rec.touched, ts)
            self._calls.move_to_end(call_id)
        return rec

    def _forget(self, rec: CallContext) -> None:
        self._calls.pop(rec.call_id, None)
        self._waiting.pop(rec.call_id, None)

    def _maybe_forget(self, rec: CallContext) -> None:
        """Drop a call that can get no more events needing its context."""
        if rec.ended and not rec.waiting and not rec.callback and (
            rec.disposed or not rec.connected
        ):
            self._forget(rec)

    def _counting(self, ts: float) -> list[Period]:
        return [p for p in self._periods.values() if p.start is not None and ts >= p.start]

    def _count_call(self, ts: float, rec: CallContext | None, delta: Delta) -> None:
        """Count ``delta`` once for the call: total, its language, its topic."""
        periods = self._counting(ts)
        if rec is None or rec.queue is None:
            for p in periods:
                p.add(TOTAL, delta)
            return
        language: Scope = ("language", rec.language or UNKNOWN_LANGUAGE)
        topic: Scope = ("topic", rec.topic or rec.queue)
        for p in periods:
            p.add(TOTAL, delta)
            p.add(language, delta)
            p.add(topic, delta)
            if not rec.disposed:
                self._pend(rec, p, delta)

    def _count_queue(self, ts: float, queue: str | None, delta: Delta) -> None:
        if queue:
            for p in self._counting(ts):
                p.add(("queue", queue), delta)

    def _pend(self, rec: CallContext, period: Period, delta: Delta) -> None:
        bundle = rec.pending.get(period.pid)
        if bundle is None:
            live = {p.pid for p in self._periods.values()}
            rec.pending = {pid: b for pid, b in rec.pending.items() if pid in live}
            bundle = rec.pending[period.pid] = {}
        for name, value in delta.items():
            bundle[name] = bundle.get(name, 0) + value

    def _retopic(self, rec: CallContext, topic: str) -> None:
        """Move what the call counted under its old topic to ``topic``."""
        if rec.disposed:
            return
        old = rec.topic or rec.queue
        if old is not None and old != topic:
            for p in self._periods.values():
                bundle = rec.pending.get(p.pid)
                if bundle:
                    p.add(("topic", old), bundle, -1)
                    p.add(("topic", topic), bundle)
        rec.topic = topic

    def _scopes(self, rec: CallContext, queue: str | None) -> tuple[Scope, ...]:
        out: list[Scope] = [TOTAL]
        if rec.queue is not None:
            out.append(("language", rec.language or UNKNOWN_LANGUAGE))
            out.append(("topic", rec.topic or rec.queue))
        if queue:
            out.append(("queue", queue))
        return tuple(out)

    def _repeat(self, rec: CallContext, ts: float) -> bool:
        """A contact from ``rec``'s number on its topic. Per request: True if
        it falls within an open request (taking its first-contact resolution
        back, once). Per call: take back the last resolved contact within
        the window; always False (the contact counts on its own)."""
        if not rec.number or rec.queue is None:
            return False
        key = (rec.number, rec.topic or rec.queue)
        previous = self._contacts.get(key)
        if previous is None:
            return False
        if ts - previous.ts > self.config.fcr_window_s:
            del self._contacts[key]
            return False
        if self.config.fcr_per_call:
            del self._contacts[key]
        if previous.fcr:
            previous.fcr = False
            for p in self._periods.values():
                if p.pid in previous.counted:
                    for scope in previous.scopes:
                        p.add(scope, _TAKE_BACK)
        return not self.config.fcr_per_call

    def _wait_delta(self, waited: float) -> dict[str, float]:
        return {"left": 1, "wait_total": waited}

    def _in_sl(self, waited: float) -> int:
        return int(waited <= self.config.service_level_s)

    def _queued(self, event: Event) -> tuple[CallContext, str | None]:
        """The call of a queue event, adopting the event's queue if it had none."""
        rec = self._touch(str(event.call_id), event.ts)
        queue = text(event.data.get("queue")) or rec.queue
        if rec.queue is None and queue:
            rec.queue = rec.topic = queue
        return rec, queue

    # --- the events (each O(1)) --------------------------------------------------------

    def _on_offered(self, event: Event) -> None:
        rec = self._touch(str(event.call_id), event.ts)
        rec.number = offered_number(event.data)
        self._count_call(event.ts, None, {"received": 1})

    def _on_language(self, event: Event) -> None:
        rec = self._touch(str(event.call_id), event.ts)
        if rec.queue is None:  # the language counted is the one known at the first join
            rec.language = text(event.data.get("language")) or rec.language

    def _on_joined(self, event: Event) -> None:
        rec = self._touch(str(event.call_id), event.ts)
        queue = text(event.data.get("queue"))
        if not queue:
            return
        if rec.waiting and rec.queue == queue:
            return  # the same wait, re-joined on another engine (issue 22: a re-home)
        if rec.queue is None:
            rec.language = text(event.data.get("language")) or rec.language
            rec.queue = rec.topic = queue
            rec.joined_at = event.ts
            self._count_call(event.ts, rec, {"offered": 1})
        else:  # an overflow: same call, next queue
            self._retopic(rec, queue)
            rec.queue = queue
        if rec.joined_at is None:
            rec.joined_at = event.ts
        self._count_queue(event.ts, queue, {"offered": 1})
        rec.waiting = True
        self._waiting[rec.call_id] = rec

    def _left_line(self, rec: CallContext) -> None:
        rec.waiting = rec.callback = False
        self._waiting.pop(rec.call_id, None)

    def _on_abandoned(self, event: Event) -> None:
        rec, queue = self._queued(event)
        waited = num(event.data.get("waited"))
        short = bool(event.data.get("short"))
        by_caller = (text(event.data.get("cause")) or CALLER) == CALLER
        delta: dict[str, float]
        if by_caller:
            delta = {"abandoned": 1, "abandoned_short": int(short),
                     "abandoned_in_sl": self._in_sl(waited),
                     "abandoned_within_30s": int(waited <= PLAN_LOST_AFTER_S),
                     "abandoned_wait_total": waited, **self._wait_delta(waited)}
        else:  # the engine ended the call: not a lost call, not a contact
            delta = {"dropped": 1, **self._wait_delta(waited)}
        self._count_call(event.ts, rec, delta)
        self._count_queue(event.ts, queue, delta)
        if by_caller and not short:
            self._repeat(rec, event.ts)
        self._left_line(rec)
        self._maybe_forget(rec)

    def _on_timeout(self, event: Event) -> None:
        rec, queue = self._queued(event)
        waited = num(event.data.get("waited"))
        overflow = bool(event.data.get("overflow"))
        here = {"timed_out": 1, "overflowed": int(overflow), **self._wait_delta(waited)}
        self._count_queue(event.ts, queue, here)
        if overflow:  # the caller waits on in the next queue (queue.joined follows)
            self._count_call(event.ts, rec, {"overflowed": 1})
            return
        self._count_call(event.ts, rec, {"timed_out": 1, **self._wait_delta(waited)})
        self._repeat(rec, event.ts)
        self._left_line(rec)
        self._maybe_forget(rec)

    def _on_callback_requested(self, event: Event) -> None:
        rec, queue = self._queued(event)
        self._count_call(event.ts, rec, {"callbacks": 1})
        self._count_queue(event.ts, queue, {"callbacks": 1})
        self._left_line(rec)
        rec.callback = True

    def _on_callback_answered(self, event: Event) -> None:
        rec, _ = self._queued(event)
        rec.waiting = True  # back on the line (on the callback leg) until connected
        self._waiting[rec.call_id] = rec

    def _on_connected(self, event: Event) -> None:
        rec, queue = self._queued(event)
        waited = num(event.data.get("waited"))
        delta = {"answered": 1, "answered_in_sl": self._in_sl(waited),
                 "answered_wait_total": waited, **self._wait_delta(waited)}
        if not rec.connected:  # after a transfer: the new queue's answer only
            self._count_call(event.ts, rec, delta)
        self._count_queue(event.ts, queue, delta)
        self._left_line(rec)
        rec.connected = True

    def _on_completed(self, event: Event) -> None:
        rec, queue = self._queued(event)
        delta = {"handled": 1, "talk_total": num(event.data.get("talk"))}
        if not rec.completed:
            self._count_call(event.ts, rec, delta)
        else:  # after a transfer: the second agent's talk adds to the call's, not a call
            self._count_call(event.ts, rec, {"talk_total": delta["talk_total"]})
        self._count_queue(event.ts, queue, delta)
        rec.completed = True

    def _on_transferred(self, event: Event) -> None:
        """A transferred contact is not first-contact resolved (docs/kpi.md, FCR)."""
        rec = self._touch(str(event.call_id), event.ts)
        rec.transferred = True
        if not rec.disposed or not rec.number or rec.queue is None:
            return
        contact = self._contacts.get((rec.number, rec.topic or rec.queue))
        if contact is not None and contact.call_id == rec.call_id and contact.fcr:
            contact.fcr = False  # disposed before the transfer: its resolution goes back
            for p in self._periods.values():
                if p.pid in contact.counted:
                    for scope in contact.scopes:
                        p.add(scope, {"fcr": -1})

    def _on_disposition(self, event: Event) -> None:
        rec, queue = self._queued(event)
        if rec.disposed:
            return  # one disposition per call; a second one is ignored
        topic = text(event.data.get("topic")) or queue
        if topic and rec.queue is not None:
            self._retopic(rec, topic)
        rec.disposed = True
        rec.pending = {}
        first = not self._repeat(rec, event.ts)
        resolved = int(bool(event.data.get("resolved")))
        transferred = rec.transferred or event.data.get("outcome") == TRANSFERRED
        rec.transferred = bool(transferred)
        fcr = resolved if first and not transferred else 0
        delta = {"dispositions": 1, "resolved": resolved, "requests": int(first), "fcr": fcr}
        self._count_call(event.ts, rec, delta)
        self._count_queue(event.ts, queue, delta)
        counted = tuple(p.pid for p in self._counting(event.ts))
        # Per request every opened request is kept (a repeat of an unresolved
        # one opens nothing); per call only a counted resolution.
        keep = first if not self.config.fcr_per_call else bool(resolved and counted)
        if keep and rec.number and rec.queue is not None:
            key = (rec.number, rec.topic or rec.queue)
            self._contacts.pop(key, None)
            self._contacts[key] = Contact(event.ts, self._scopes(rec, queue), counted,
                                          bool(fcr), rec.call_id)
        self._maybe_forget(rec)

    def _on_survey(self, event: Event) -> None:
        questions = self.config.survey_questions
        if questions is not None and text(event.data.get("question")) not in questions:
            return
        score = event.data.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            return
        rec = self._touch(event.call_id, event.ts) if event.call_id else None
        delta = {"surveys": 1, "score_total": score,
                 "satisfied": int(score >= 4), "dissatisfied": int(score <= 2)}
        self._count_call(event.ts, rec, delta)
        self._count_queue(event.ts, rec.queue if rec else None, delta)

    def _on_qa_scored(self, event: Event) -> None:
        self._accuracy.scored(event, self._periods.values())

    def _on_qa_reviewed(self, event: Event) -> None:
        self._accuracy.reviewed(event, self._periods.values())

    def _on_ended(self, event: Event) -> None:
        rec = self._calls.get(str(event.call_id))
        if rec is not None:
            rec.ended = True
            self._maybe_forget(rec)

    def _on_agent_state(self, event: Event) -> None:
        user = text(event.data.get("agent"))
        new = text(event.data.get("state"))
        if not user or not new:
            return
        ts = event.ts
        agent = self._agents.get(user)
        if agent is None:
            agent = self._agents[user] = AgentContext(text(event.data.get("previous")), None)
        if agent.state:
            for p in self._periods.values():
                if p.start is None:
                    continue
                begin = p.start if agent.since is None else max(agent.since, p.start)
                if ts > begin:
                    acc = p.agent_seconds.setdefault(user, {})
                    acc[agent.state] = acc.get(agent.state, 0.0) + (ts - begin)
        if agent.state == "wrap_up" and agent.wrap_start is not None:
            rec = agent.wrap_call
            delta = {"wrap_up_total": max(0.0, ts - agent.wrap_start)}
            self._count_call(ts, rec, delta)
            self._count_queue(ts, rec.queue if rec else None, delta)
        agent.state, agent.since = new, ts
        if new == "wrap_up":
            agent.wrap_call = self._calls.get(event.call_id) if event.call_id else None
            agent.wrap_start = ts
        else:
            agent.wrap_call = agent.wrap_start = None

    # --- reading -------------------------------------------------------------------

    def number_of(self, call_id: str) -> str:
        """The caller's number of a call the fold remembers ("" when
        anonymous or unknown): the wallboard masks it (issue 21)."""
        rec = self._calls.get(call_id)
        return rec.number if rec is not None else ""

    def counts(self, window: str = MAIN, scope: Scope = TOTAL) -> Counts:
        """The counters of one scope of ``window``: what ``snapshot(now, window)``
        holds for it, without the KPIs, targets and agents a snapshot computes
        (the contacts projector folds every call for these alone, issue 20)."""
        return Counts.from_mapping(self._periods[window].scopes.get(scope, {}))

    def snapshot(self, now: float, window: str = MAIN) -> KpiSnapshot:
        """The window ``window`` as of ``now`` (epoch seconds)."""
        period = self._periods[window]
        targets = self.config.targets
        start = period.start
        waiting: dict[Scope, list[float]] = {}
        for rec in self._waiting.values():
            waited = max(0.0, now - (rec.joined_at if rec.joined_at is not None else rec.touched))
            for scope in self._scopes(rec, rec.queue):
                waiting.setdefault(scope, []).append(waited)
        scopes: list[ScopeSnapshot] = []
        wait_of_all = self.config.wait_of_all
        for scope in sorted(set(period.scopes) | set(waiting) | {TOTAL}, key=_scope_order):
            counts = Counts.from_mapping(period.scopes.get(scope, {}))
            waits = waiting.get(scope, [])
            if scope != TOTAL and not waits and counts.is_empty():
                continue  # e.g. a topic whose calls all moved to another
            scopes.append(ScopeSnapshot(
                scope, counts, formulas.kpis(counts, targets, wait_of_all=wait_of_all),
                len(waits), max(waits) if waits else None,
            ))
        agents: list[AgentSnapshot] = []
        together: dict[str, float] = {}
        for user in sorted(self._agents):
            agent = self._agents[user]
            seconds = dict(period.agent_seconds.get(user, {}))
            if start is not None and agent.state:
                begin = start if agent.since is None else max(agent.since, start)
                if now > begin:
                    seconds[agent.state] = seconds.get(agent.state, 0.0) + (now - begin)
            for state, value in seconds.items():
                together[state] = together.get(state, 0.0) + value
            agents.append(AgentSnapshot(user, agent.state, agent.since, seconds,
                                        formulas.occupancy(seconds, targets)))
        callbacks = sum(1 for rec in self._calls.values() if rec.callback and not rec.waiting)
        return KpiSnapshot(start, now, tuple(scopes), tuple(agents),
                           formulas.occupancy(together, targets), callbacks)


def _scope_order(scope: Scope) -> tuple[int, str]:
    kind, name = scope
    rank = SCOPE_KINDS.index(kind) if kind in SCOPE_KINDS else len(SCOPE_KINDS)
    return rank, name


#: Events handled without a call id; the others need the caller's call id.
_NO_CALL_ID = frozenset({"agent.state", "survey.answered"})

_HANDLERS: dict[str, Callable[[KpiFold, Event], None]] = {
    "call.offered": KpiFold._on_offered,
    "call.language": KpiFold._on_language,
    "queue.joined": KpiFold._on_joined,
    "queue.abandoned": KpiFold._on_abandoned,
    "queue.timeout": KpiFold._on_timeout,
    "queue.callback_requested": KpiFold._on_callback_requested,
    "queue.callback_answered": KpiFold._on_callback_answered,
    "call.connected": KpiFold._on_connected,
    "call.completed": KpiFold._on_completed,
    "call.disposition": KpiFold._on_disposition,
    "call.transferred": KpiFold._on_transferred,
    "survey.answered": KpiFold._on_survey,
    "call.ended": KpiFold._on_ended,
    "agent.state": KpiFold._on_agent_state,
    "qa.scored": KpiFold._on_qa_scored,
    "qa.reviewed": KpiFold._on_qa_reviewed,
}
