"""Expected-wait-time estimators measured on simulated 1414-like days.

    python bench/ewt.py [--days 5] [--seeds 3] [--scale 1.0] [--no-sensitivity] [--quick]

A discrete-event simulation (heapq) of one queue of the 1414 hotline
replays the same days against three estimators that all observe the same
events through the interface of :class:`bailanys.queue.estimator.WaitEstimator`
(joins, answers, abandons, completed calls with talk and wrap-up, ended
breaks with reason and length, logins with the time of day) and, at each
announcement, the same :class:`~bailanys.queue.estimator.QueueView` the
engine's queue core passes: the caller's place, the waits of the callers up
to it, and for each operator: logged out, or talking or wrapping up and for
how long, on a break ("break" under 30 minutes, else "lunch") and for how
long, leaving after the call, a break asked for during the call.  Nothing
else: not the simulation's distributions or shift plan, not when operators
will log in today (only when they did on earlier days), go on a break they
have not asked for yet, or log out:

* ``bailanys``: the engine's estimator, imported (the code under test);
* ``asterisk``: app_queue.c's announced hold time (:class:`AsteriskHoldtime`);
* ``vicidial``: agi-VDAD_ALL_inbound.agi's estimate (:class:`VicidialEstimate`).

The day (assumptions, not measurements; the 1414 documents give daily
volume, operator hours and KPI targets, not an hourly profile):

* calls offered to this queue 09:00-21:00 (operators' hours; the robot
  serves alone at night, DOMAIN.md) as a Poisson process with an hourly
  profile peaking late morning and after lunch, ~5,200 calls on an average
  weekday, Monday +12 % ... Friday -12 %;
* two 8-hour shifts, 09-17 (44 operators) and 13-21 (30 operators), each
  with a 15-minute break, a 45-minute lunch and a 15-minute break at
  staggered random times; an operator finishes the current call before a
  break or the end of the shift;
* talk time log-normal, mean 270 s, CV 0.8 (log-normal service times:
  Brown et al., "Statistical analysis of a telephone call center: a
  queueing-science perspective", JASA 100, 2005); wrap-up log-normal,
  mean 30 s, CV 0.5;
* patience Weibull, shape 0.8 (impatient callers hang up early), mean
  480 s; a caller not answered within it hangs up;
* FIFO service, a free operator takes the head of the queue at once.

Announcements: a caller who has to wait (no free operator on arrival) hears
an estimate on joining and every 60 s after, as the engine announces.  Each
announcement to a caller who is eventually answered is scored against the
actual remaining wait (answer time - announcement time).  Announcements to
callers who hang up are censored (their remaining wait is unknown) and
excluded; their count is printed.  Callers answered on arrival hear no
estimate and are not scored.  Estimators keep their state from day to day
(the engine runs for days; the nights are quiet), so ours knows on the
second day that the afternoon shift logs in at 13:00; the first day of each
seed it does not.

Printed: per day and pooled, each estimator's mean absolute error (MAE),
the 90th percentile of the absolute error and the median error (bias);
the ratio of our MAE to Asterisk's (the target is at most 0.5, judged on
the median of the days); a "floor": the MAE of the best function of
(position, staffed) fitted in-sample to the same announcements, an
optimistic bound for any estimator that sees only those two counts (as
Asterisk-style and rate-model estimators do; ours also sees what each
operator is doing, so it can and does beat the floor); and the same
figures with one assumption changed at a time.
Figures are printed, never asserted (``make bench``).
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import math
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bailanys.queue.agents import AgentState  # noqa: E402
from bailanys.queue.estimator import AgentView, QueueView, WaitEstimator  # noqa: E402

QUEUE = "1414-ru"
DAY_S = 86_400.0
OPEN_H = 9
ANNOUNCE_EVERY_S = 60.0
#: A break this long or longer is reported as "lunch", a shorter one as "break".
LUNCH_S = 30 * 60.0
#: Target of the task: our mean absolute error at most half of Asterisk's.
TARGET_RATIO = 0.5

Break = tuple[float, float, float]  # earliest start h, latest start h, minutes
Shift = tuple[float, float, int, tuple[Break, ...]]  # login h, logout h, operators, breaks


@dataclass(frozen=True)
class Scenario:
    """One simulated queue and its days; every number is an assumption (module doc)."""

    #: Calls offered per hour from 09:00 to 20:00 on an average weekday:
    #: a late-morning peak, a lunch dip, an afternoon peak, a quiet evening;
    #: scaled so that the queue is overloaded at the peaks and idle between.
    hourly_calls: tuple[float, ...] = (330, 500, 600, 560, 430, 540, 580, 500, 420, 320, 240, 170)
    #: Volume of Monday ... Friday against the average weekday.
    day_factors: tuple[float, ...] = (1.12, 1.04, 1.00, 0.96, 0.88)
    shifts: tuple[Shift, ...] = (
        (9.0, 17.0, 44, ((10.25, 11.25, 15), (12.0, 14.25, 45), (15.0, 16.0, 15))),
        (13.0, 21.0, 30, ((14.5, 15.5, 15), (16.75, 18.75, 45), (19.25, 20.25, 15))),
    )
    talk_mean_s: float = 270.0
    talk_cv: float = 0.8
    wrap_mean_s: float = 30.0
    wrap_cv: float = 0.5
    patience_mean_s: float = 480.0
    patience_shape: float = 0.8  # Weibull k: < 1, early hang-ups; 1, exponential
    #: Calls and operators multiplied by this (the queue's size).
    scale: float = 1.0


DEFAULT = Scenario()
#: What the default's result depends on: each varies one assumption.
SENSITIVITY = (
    ("queue half the size", replace(DEFAULT, scale=0.5)),
    ("queue twice the size", replace(DEFAULT, scale=2.0)),
    ("traffic +10 %", replace(DEFAULT, day_factors=tuple(f * 1.1 for f in DEFAULT.day_factors))),
    ("traffic -15 %", replace(DEFAULT, day_factors=tuple(f * 0.85 for f in DEFAULT.day_factors))),
    ("patience exponential", replace(DEFAULT, patience_shape=1.0)),
    ("patience Weibull k=1.5", replace(DEFAULT, patience_shape=1.5)),
    ("patience mean 900 s", replace(DEFAULT, patience_mean_s=900.0)),
    ("talk time CV 1.2", replace(DEFAULT, talk_cv=1.2)),
)


class Estimator(Protocol):
    """The interface the queue core calls (bailanys.queue.estimator)."""

    def on_join(self, queue: str, call_id: str, now: float) -> None: ...
    def on_answer(self, queue: str, call_id: str, waited: float, now: float) -> None: ...
    def on_abandon(self, queue: str, call_id: str, waited: float, now: float) -> None: ...
    def on_complete(
        self, queue: str, call_id: str, talk: float, wrap_up: float, now: float
    ) -> None: ...
    def on_break(self, reason: str, duration: float, now: float) -> None: ...
    def on_login(self, user: str, now: float) -> None: ...
    def estimate(self, queue: str, view: QueueView, now: float) -> float: ...


class _WaitingCallers:
    """Join times of a queue's waiting callers, oldest first (FIFO order).

    The baselines need the waited time of the caller at ``position``, which
    the interface does not pass; they rebuild it from the join events.
    """

    def __init__(self) -> None:
        self.joined: dict[str, float] = {}
        self.times: list[float] = []  # sorted: position p is times[p - 1]

    def join(self, call_id: str, now: float) -> None:
        self.joined[call_id] = now
        bisect.insort(self.times, now)

    def leave(self, call_id: str) -> None:
        t = self.joined.pop(call_id, None)
        if t is not None:
            del self.times[bisect.bisect_left(self.times, t)]

    def waited(self, position: int, now: float) -> float:
        if position <= len(self.times):
            return now - self.times[position - 1]
        return 0.0


class AsteriskHoldtime:
    """Asterisk app_queue.c: the queue's hold time, less what the caller waited.

    ``recalc_holdtime()`` runs when a caller is connected to a member and
    folds that caller's time in the queue (whole seconds) into the queue's
    hold time: ``holdtime = (3 * holdtime + newholdtime) >> 2``, "a recursive
    boxcar filter" starting at 0.  Abandoned callers never enter it; talk
    time is not used.  ``say_position()`` announces
    ``abs((holdtime + 30) - (now - qe->start)) / 60`` minutes (plus optional
    rounded seconds): the hold time minus the caller's own wait, rounded to
    the minute, absolute value included; no scaling by position (read in
    apps/app_queue.c of asterisk/asterisk and its 1.2-1.8 era copies).
    Here: ``abs(holdtime - waited)`` in seconds; rounding to minutes is left
    to the announcement, as for the other estimators.
    """

    def __init__(self) -> None:
        self.holdtime: dict[str, int] = {}
        self.waiting: dict[str, _WaitingCallers] = {}

    def _q(self, queue: str) -> _WaitingCallers:
        return self.waiting.setdefault(queue, _WaitingCallers())

    def on_join(self, queue: str, call_id: str, now: float) -> None:
        self._q(queue).join(call_id, now)

    def on_answer(self, queue: str, call_id: str, waited: float, now: float) -> None:
        self._q(queue).leave(call_id)
        old = self.holdtime.get(queue, 0)
        self.holdtime[queue] = (3 * old + int(waited)) >> 2

    def on_abandon(self, queue: str, call_id: str, waited: float, now: float) -> None:
        self._q(queue).leave(call_id)

    def on_complete(
        self, queue: str, call_id: str, talk: float, wrap_up: float, now: float
    ) -> None:
        pass

    def on_break(self, reason: str, duration: float, now: float) -> None:
        pass

    def on_login(self, user: str, now: float) -> None:
        pass

    def estimate(self, queue: str, view: QueueView, now: float) -> float:
        waited = int(self._q(queue).waited(view.position, now))
        return float(abs(self.holdtime.get(queue, 0) - waited))


class VicidialEstimate:
    """VICIdial agi-VDAD_ALL_inbound.agi (2.14): "calculate hold time estimate".

    Read in agi/agi-VDAD_ALL_inbound.agi (vicigeek/trunk mirror, 2018):

    1. ``H = int(mean(last 5 queue_seconds) + 1)`` over the in-group's last 5
       vicidial_closer_log rows whose status is not NANQUE or QUEUE, i.e. the
       last 5 callers who left the queue, answered or dropped (no rows: 1);
    2. ``L = int(mean(w) + 1)`` over the waits w of the live callers who
       joined no later than this one and have waited at least H; if there
       are any, the estimate is ``int((L + H) / 2)``, otherwise H;
    3. the caller hears ``max(10, estimate - own wait)`` seconds.

    Waits are whole seconds ("LIVE-n" stages) in VICIdial; here they are
    real numbers, truncated only where the script calls ``int``.
    """

    def __init__(self) -> None:
        self.last: dict[str, deque[float]] = {}
        self.waiting: dict[str, _WaitingCallers] = {}

    def _q(self, queue: str) -> _WaitingCallers:
        return self.waiting.setdefault(queue, _WaitingCallers())

    def _left(self, queue: str, call_id: str, waited: float) -> None:
        self._q(queue).leave(call_id)
        self.last.setdefault(queue, deque(maxlen=5)).append(waited)

    def on_join(self, queue: str, call_id: str, now: float) -> None:
        self._q(queue).join(call_id, now)

    def on_answer(self, queue: str, call_id: str, waited: float, now: float) -> None:
        self._left(queue, call_id, waited)

    def on_abandon(self, queue: str, call_id: str, waited: float, now: float) -> None:
        self._left(queue, call_id, waited)

    def on_complete(
        self, queue: str, call_id: str, talk: float, wrap_up: float, now: float
    ) -> None:
        pass

    def on_break(self, reason: str, duration: float, now: float) -> None:
        pass

    def on_login(self, user: str, now: float) -> None:
        pass

    def estimate(self, queue: str, view: QueueView, now: float) -> float:
        position = view.position
        last = self.last.get(queue)
        hold = int((sum(last) / len(last) if last else 0.0) + 1)
        waiting = self._q(queue)
        # Live callers at positions 1..position who waited >= hold: FIFO puts
        # them first, so they are a prefix of the join times.
        long_waiters = bisect.bisect_right(waiting.times, now - hold)
        count = min(long_waiters, position, len(waiting.times))
        if count > 0:
            live = int((count * now - sum(waiting.times[:count])) / count + 1)
            avg = int((live + hold) / 2)
        else:
            avg = hold
        return float(max(10, avg - waiting.waited(position, now)))


NAMES = ("bailanys", "asterisk", "vicidial")


def calendar(now: float) -> tuple[int, float]:
    """Simulated time as the engine's wall clock: (day number, seconds of the day)."""
    return int(now // DAY_S), now % DAY_S


def make_estimators() -> list[Estimator]:
    return [WaitEstimator(calendar=calendar), AsteriskHoldtime(), VicidialEstimate()]


# -- the simulation -----------------------------------------------------------


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    sigma2 = math.log1p(cv * cv)
    return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), n)


@dataclass
class DayResult:
    """One simulated day: traffic figures and every scored announcement."""

    day: int
    seed: int
    offered: int = 0
    waited: int = 0  # callers who had to queue
    abandoned: int = 0
    answered_waits: list[float] = field(default_factory=list)
    max_queue: int = 0
    actual: list[float] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # of each scored announcement
    staffed: list[int] = field(default_factory=list)
    estimates: list[list[float]] = field(default_factory=list)  # per estimator
    censored: int = 0
    #: What simulate()'s ``on_announce`` hook returned for each scored
    #: announcement, aligned with ``actual``; empty without the hook.
    notes: list[object] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    """The queue as an engine could see it at one announcement (``on_announce``).

    Parallel per-operator lists cover the busy operators who stay after their
    call (those who log out after it are only counted in ``leaving``).
    """

    call: int  # index of the announced call
    now: float
    position: int
    staffed: int
    waited: list[float]  # callers at positions 1..position, oldest first
    elapsed: list[float]  # handle time (talk + wrap-up) so far
    wrapping: list[float]  # wrap-up time so far, -1.0 while still talking
    pause: list[float]  # break owed after the current call, s (0: none)
    leaving: int


# Event kinds, in heap entries (time, seq, kind, index, value).
ARRIVE, RELEASE, ABANDON, ANNOUNCE, LOGIN, LOGOUT, BREAK, BREAK_END = range(8)
OFF, IDLE, BUSY, ON_BREAK = range(4)


def simulate(
    seed: int,
    days: int,
    scenario: Scenario = DEFAULT,
    estimators: list[Estimator] | None = None,
    on_announce: Callable[[Snapshot], object] | None = None,
) -> list[DayResult]:
    """``days`` consecutive weekdays (Monday first) of one queue; one result per day.

    ``on_announce``, if given, sees a :class:`Snapshot` at every announcement;
    what it returns lands in ``DayResult.notes`` if the caller is answered.
    It changes no result (bench/ewt_oracle.py uses it).
    """
    sc = scenario
    rng = np.random.default_rng(seed)
    ests = estimators if estimators is not None else make_estimators()
    heap: list[tuple[float, int, int, int, float]] = []
    seq = 0

    def push(t: float, kind: int, index: int, value: float = 0.0) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, index, value))

    # Calls of all days, in arrival order.
    arrivals: list[np.ndarray] = []
    call_day: list[np.ndarray] = []
    for d in range(days):
        factor = sc.day_factors[d % len(sc.day_factors)] * sc.scale
        for h, per_hour in enumerate(sc.hourly_calls):
            n = int(rng.poisson(per_hour * factor))
            start = d * DAY_S + (OPEN_H + h) * 3600.0
            arrivals.append(np.sort(start + rng.uniform(0.0, 3600.0, n)))
            call_day.append(np.full(n, d))
    arrive = np.concatenate(arrivals)
    day_of = np.concatenate(call_day)
    n_calls = len(arrive)
    talk = _lognormal(rng, sc.talk_mean_s, sc.talk_cv, n_calls)
    wrap = _lognormal(rng, sc.wrap_mean_s, sc.wrap_cv, n_calls)
    weibull_scale = sc.patience_mean_s / math.gamma(1.0 + 1.0 / sc.patience_shape)
    patience = weibull_scale * rng.weibull(sc.patience_shape, n_calls)
    arrive_l, talk_l, wrap_l, patience_l = (a.tolist() for a in (arrive, talk, wrap, patience))
    for i, t in enumerate(arrive_l):
        push(t, ARRIVE, i)

    # Operators, their shifts and breaks, every day.
    n_agents = 0
    for login_h, logout_h, count, breaks in sc.shifts:
        agents = range(n_agents, n_agents + max(1, round(count * sc.scale)))
        n_agents = agents.stop
        for d in range(days):
            base = d * DAY_S
            for a in agents:
                push(base + login_h * 3600.0, LOGIN, a)
                push(base + logout_h * 3600.0, LOGOUT, a)
                for lo, hi, minutes in breaks:
                    push(base + float(rng.uniform(lo, hi)) * 3600.0, BREAK, a, minutes * 60.0)

    state = [OFF] * n_agents
    current = [-1] * n_agents  # call index an agent handles
    answered_at = [0.0] * n_agents  # when it took that call
    break_due = [0.0] * n_agents  # seconds of break owed after the current call
    break_start = [0.0] * n_agents  # when the current break began
    break_reason = [""] * n_agents
    logout_due = [False] * n_agents
    idle: set[int] = set()
    staffed = 0
    waiting: list[int] = []  # call indices, oldest first
    queued = [False] * n_calls
    pending: dict[int, list[tuple[float, list[float], int, int, object]]] = {}
    results = [DayResult(d, seed, estimates=[[] for _ in ests]) for d in range(days)]
    ids = [f"c{i}" for i in range(n_calls)]
    users = [f"op{a}" for a in range(n_agents)]

    def serve(i: int, a: int, t: float) -> None:
        state[a] = BUSY
        current[a] = i
        answered_at[a] = t
        waited = t - arrive_l[i]
        for e in ests:
            e.on_answer(QUEUE, ids[i], waited, t)
        res = results[int(day_of[i])]
        res.answered_waits.append(waited)
        for t_ann, values, position, staffed_then, note in pending.pop(i, ()):
            if on_announce is not None:
                res.notes.append(note)
            res.actual.append(t - t_ann)
            res.positions.append(position)
            res.staffed.append(staffed_then)
            for j, v in enumerate(values):
                res.estimates[j].append(v)
        push(t + talk_l[i] + wrap_l[i], RELEASE, a)

    def start_break(a: int, t: float, length: float) -> None:
        nonlocal staffed
        state[a] = ON_BREAK
        staffed -= 1
        break_start[a] = t
        break_reason[a] = "lunch" if length >= LUNCH_S else "break"
        push(t + length, BREAK_END, a)

    def view(t: float, position: int) -> QueueView:
        """What the engine's queue core passes at an announcement."""
        agents = []
        for a in range(n_agents):
            user = users[a]
            if state[a] == OFF:
                agents.append(AgentView(AgentState.LOGGED_OUT, user=user))
            elif state[a] == IDLE:
                agents.append(AgentView(AgentState.AVAILABLE, user=user))
            elif state[a] == BUSY:
                elapsed, talked = t - answered_at[a], talk_l[current[a]]
                owed = ("lunch" if break_due[a] >= LUNCH_S else "break") if break_due[a] else ""
                agents.append(
                    AgentView(AgentState.ON_CALL, elapsed, leaving=logout_due[a],
                              pause_after=owed, user=user)
                    if elapsed < talked else
                    AgentView(AgentState.WRAP_UP, elapsed - talked, leaving=logout_due[a],
                              pause_after=owed, user=user)
                )
            elif state[a] == ON_BREAK:
                agents.append(AgentView(AgentState.BREAK, t - break_start[a], break_reason[a],
                                        leaving=logout_due[a], user=user))
        return QueueView(position, tuple(t - arrive_l[j] for j in waiting[:position]),
                         tuple(agents))

    def agent_free(a: int, t: float) -> None:
        """A staffed operator is free: leave, take a break, a caller, or wait."""
        nonlocal staffed
        if logout_due[a]:
            state[a] = OFF
            logout_due[a] = False
            staffed -= 1
        elif break_due[a] > 0:
            start_break(a, t, break_due[a])
            break_due[a] = 0.0
        elif waiting:
            i = waiting.pop(0)
            queued[i] = False
            serve(i, a, t)
        else:
            state[a] = IDLE
            idle.add(a)

    def snapshot(i: int, t: float, position: int) -> Snapshot:
        stay = [a for a in range(n_agents) if state[a] == BUSY and not logout_due[a]]
        elapsed = [t - answered_at[a] for a in stay]
        talked = [talk_l[current[a]] for a in stay]
        return Snapshot(
            i, t, position, staffed, [t - arrive_l[j] for j in waiting[:position]], elapsed,
            [e - tk if e >= tk else -1.0 for e, tk in zip(elapsed, talked, strict=True)],
            [break_due[a] for a in stay],
            sum(1 for a in range(n_agents) if state[a] == BUSY and logout_due[a]),
        )

    def announce(i: int, t: float) -> None:
        position = bisect.bisect_left(waiting, i) + 1
        seen = view(t, position)
        values = [e.estimate(QUEUE, seen, t) for e in ests]
        note = None if on_announce is None else on_announce(snapshot(i, t, position))
        pending.setdefault(i, []).append((t, values, position, staffed, note))
        push(t + ANNOUNCE_EVERY_S, ANNOUNCE, i)

    while heap:
        t, _, kind, k, value = heapq.heappop(heap)
        if kind == ARRIVE:
            res = results[int(day_of[k])]
            res.offered += 1
            for e in ests:
                e.on_join(QUEUE, ids[k], t)
            if idle:
                serve(k, idle.pop(), t)
            else:
                res.waited += 1
                waiting.append(k)
                queued[k] = True
                res.max_queue = max(res.max_queue, len(waiting))
                push(t + patience_l[k], ABANDON, k)
                announce(k, t)
        elif kind == ANNOUNCE:
            if queued[k]:
                announce(k, t)
        elif kind == ABANDON:
            if queued[k]:
                queued[k] = False
                del waiting[bisect.bisect_left(waiting, k)]
                res = results[int(day_of[k])]
                res.abandoned += 1
                res.censored += len(pending.pop(k, ()))
                for e in ests:
                    e.on_abandon(QUEUE, ids[k], t - arrive_l[k], t)
        elif kind == RELEASE:
            i = current[k]
            current[k] = -1
            for e in ests:
                e.on_complete(QUEUE, ids[i], talk_l[i], wrap_l[i], t)
            agent_free(k, t)
        elif kind == LOGIN:
            for e in ests:
                e.on_login(users[k], t)
            staffed += 1
            logout_due[k] = False
            break_due[k] = 0.0
            agent_free(k, t)
        elif kind == LOGOUT:
            if state[k] == IDLE:
                idle.discard(k)
                state[k] = OFF
                staffed -= 1
            elif state[k] != OFF:
                logout_due[k] = True
        elif kind == BREAK:
            if state[k] == IDLE:
                idle.discard(k)
                start_break(k, t, value)
            elif state[k] != OFF:
                break_due[k] += value
        elif kind == BREAK_END:
            if state[k] == ON_BREAK:
                for e in ests:
                    e.on_break(break_reason[k], t - break_start[k], t)
                if logout_due[k]:
                    state[k] = OFF
                    logout_due[k] = False
                else:
                    staffed += 1
                    agent_free(k, t)
    return results


# -- figures --------------------------------------------------------------------


@dataclass
class Score:
    n: int
    mae: float
    p90: float  # of the absolute error
    bias: float  # median of estimate - actual


def score(estimates: list[float], actual: list[float]) -> Score:
    if not actual:
        return Score(0, math.nan, math.nan, math.nan)
    err = np.asarray(estimates) - np.asarray(actual)
    abs_err = np.abs(err)
    return Score(
        len(err), float(abs_err.mean()), float(np.percentile(abs_err, 90)), float(np.median(err))
    )


def floor_mae(results: list[DayResult]) -> float:
    """MAE of the best function of (position, staffed), fitted to these very traces.

    Each (position, staffed) pair announces the median actual wait of its
    own announcements: in-sample, so optimistic.  No estimator that sees
    only the position and the staffing can beat it by much.
    """
    groups: dict[tuple[int, int], list[float]] = {}
    for r in results:
        for key, a in zip(zip(r.positions, r.staffed, strict=True), r.actual, strict=True):
            groups.setdefault(key, []).append(a)
    total = sum(float(np.abs(np.asarray(v) - np.median(v)).sum()) for v in groups.values())
    count = sum(len(v) for v in groups.values())
    return total / count if count else math.nan


@dataclass
class Evaluation:
    """Every day of every seed of one scenario, scored."""

    results: list[DayResult]
    pooled: list[Score]  # per estimator, all announcements together
    day_ratios: list[float]  # ours / Asterisk MAE, per day
    floor: float

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.day_ratios) if self.day_ratios else math.nan

    @property
    def lost(self) -> float:
        offered = sum(r.offered for r in self.results)
        return sum(r.abandoned for r in self.results) / offered if offered else math.nan

    @property
    def mean_wait(self) -> float:
        waits = [w for r in self.results for w in r.answered_waits]
        return statistics.fmean(waits) if waits else math.nan


def evaluate(scenario: Scenario, days: int, seeds: list[int]) -> Evaluation:
    results = [r for seed in seeds for r in simulate(seed, days, scenario)]
    actual = [a for r in results for a in r.actual]
    pooled = [
        score([v for r in results for v in r.estimates[j]], actual) for j in range(len(NAMES))
    ]
    ratios = []
    for r in results:
        ours, asterisk = (score(r.estimates[j], r.actual).mae for j in (0, 1))
        if math.isfinite(ours) and asterisk > 0:
            ratios.append(ours / asterisk)
    return Evaluation(results, pooled, ratios, floor_mae(results))


def _fmt(x: float, width: int) -> str:
    return f"{x:{width}.0f}" if math.isfinite(x) else f"{'-':>{width}}"


def print_days(ev: Evaluation) -> None:
    head = (f"{'seed':>4} {'day':>3} {'offered':>7} {'queued':>6} {'lost':>5} {'wait':>5} "
            f"{'p90w':>5} {'maxq':>5} {'ann.':>6} {'cens.':>5} "
            + " ".join(f"{'MAE ' + n[:4]:>9}" for n in NAMES) + f" {'ours/ast':>8}")
    print(head)
    print("-" * len(head))
    for r in ev.results:
        scores = [score(r.estimates[j], r.actual) for j in range(len(NAMES))]
        ratio = scores[0].mae / scores[1].mae if scores[1].mae > 0 else math.nan
        waits = r.answered_waits
        mean_wait = statistics.fmean(waits) if waits else math.nan
        p90_wait = float(np.percentile(waits, 90)) if waits else math.nan
        print(
            f"{r.seed:>4} {r.day + 1:>3} {r.offered:>7} "
            f"{100 * r.waited / max(1, r.offered):>5.1f}% "
            f"{100 * r.abandoned / max(1, r.offered):>4.1f}% "
            f"{_fmt(mean_wait, 5)} {_fmt(p90_wait, 5)} {r.max_queue:>5} "
            f"{len(r.actual):>6} {r.censored:>5} "
            + " ".join(_fmt(s.mae, 9) for s in scores)
            + f" {ratio:>8.2f}"
        )
    print("(queued: callers who had to wait; lost: hung up waiting; wait, p90w: answered"
          " callers' wait, s; maxq: longest queue; ann.: scored announcements; cens.: censored)")


def print_summary(ev: Evaluation) -> bool:
    n_scored = ev.pooled[0].n
    censored = sum(r.censored for r in ev.results)
    print(f"All days pooled: {n_scored} scored announcements; {censored} more went to callers"
          " who hung up (censored, excluded)")
    print(f"{'estimator':<10} {'n':>7} {'MAE s':>7} {'p90 |err| s':>12} {'median err s':>13}")
    for name, s in zip(NAMES, ev.pooled, strict=True):
        print(f"{name:<10} {s.n:>7} {s.mae:>7.1f} {s.p90:>12.1f} {s.bias:>+13.1f}")
    ours, asterisk, vicidial = (s.mae for s in ev.pooled)
    print(f"{'floor':<10} {n_scored:>7} {ev.floor:>7.1f}   best function of (position, staffed),"
          " fitted in-sample")
    print()
    ratios = ev.day_ratios
    days = f"{len(ratios)} day{'s' if len(ratios) != 1 else ''}"
    print(f"MAE ours/asterisk: median over {days} {ev.median_ratio:.3f} "
          f"(min {min(ratios, default=math.nan):.3f}, max {max(ratios, default=math.nan):.3f});"
          f" pooled {ours / asterisk:.3f}; floor/asterisk {ev.floor / asterisk:.3f}")
    print(f"MAE ours/vicidial: pooled {ours / vicidial:.3f}")
    met = math.isfinite(ev.median_ratio) and ev.median_ratio <= TARGET_RATIO
    print(f"target: ours <= {TARGET_RATIO:.0%} of Asterisk's MAE (median of days): "
          f"{'MET' if met else 'NOT MET'}")
    print(f"  (the floor, {ev.floor / asterisk:.0%} of Asterisk's MAE, bounds estimators that see"
          " only position and staffing)")
    return met


def print_sensitivity(days: int, seeds: list[int], default: Evaluation) -> None:
    print(f"Sensitivity: one assumption changed at a time, {days} days x {len(seeds)} seeds each;"
          " MAE pooled, s; ratio = median of days")
    head = (f"{'scenario':<24} {'lost':>5} {'wait':>5} "
            + " ".join(f"{n:>8}" for n in NAMES)
            + f" {'floor':>6} {'ours/ast':>8} {'floor/ast':>9}")
    print(head)
    print("-" * len(head))
    for label, scenario in (("default", None), *SENSITIVITY):
        ev = default if scenario is None else evaluate(scenario, days, seeds)
        maes = [s.mae for s in ev.pooled]
        print(f"{label:<24} {100 * ev.lost:>4.1f}% {ev.mean_wait:>5.1f} "
              + " ".join(f"{m:>8.1f}" for m in maes)
              + f" {ev.floor:>6.1f} {ev.median_ratio:>8.3f} {ev.floor / maes[1]:>9.3f}")


def run(days: int, seeds: list[int], scenario: Scenario, *, sensitivity: bool) -> int:
    started = time.perf_counter()
    staff = ", ".join(
        f"{max(1, round(n * scenario.scale))} operators {a:02.0f}-{b:02.0f} h"
        for a, b, n, _ in scenario.shifts
    )
    print(f"EWT bench: queue {QUEUE!r}, {days} weekday(s) x {len(seeds)} seed(s), "
          f"scale {scenario.scale}")
    print(f"  staff {staff}; talk {scenario.talk_mean_s:.0f} s (CV {scenario.talk_cv}), "
          f"wrap-up {scenario.wrap_mean_s:.0f} s; patience Weibull k={scenario.patience_shape}, "
          f"mean {scenario.patience_mean_s:.0f} s")
    print("  scored: announcements on joining and every 60 s to callers who were answered;"
          " error = estimate - actual remaining wait")
    print()
    ev = evaluate(scenario, days, seeds)
    print_days(ev)
    print()
    print_summary(ev)
    if sensitivity:
        print()
        print_sensitivity(days, seeds, ev)
    print()
    print(f"elapsed {time.perf_counter() - started:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Expected-wait-time estimators on simulated days.")
    parser.add_argument("--days", type=int, default=5, help="consecutive weekdays per seed")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..N")
    parser.add_argument("--scale", type=float, default=1.0, help="calls and operators x")
    parser.add_argument("--no-sensitivity", action="store_true", help="skip the variations")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke: 1 day, 1 seed, a quarter of the traffic, no variations")
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.seeds, args.scale, args.no_sensitivity = 1, 1, 0.25, True
    if args.days < 1 or args.seeds < 1 or args.scale <= 0:
        parser.error("--days and --seeds must be at least 1, --scale positive")
    scenario = replace(DEFAULT, scale=args.scale)
    seeds = list(range(1, args.seeds + 1))
    return run(args.days, seeds, scenario, sensitivity=not args.no_sensitivity)


if __name__ == "__main__":
    raise SystemExit(main())
