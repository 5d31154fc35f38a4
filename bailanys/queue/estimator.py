"""Expected wait time (EWT) for a caller waiting in a queue.

Callers hear "expected waiting time about N minutes" when they join and at
least every minute (DOMAIN.md, requirements item 12).  Pure code: no
asyncio, no I/O, no clock; time is an input in seconds.

The queue core passes a :class:`QueueView` at each announcement: the
caller's place, how long each caller up to it has waited, and what each
qualified agent is doing and since when (talking, wrapping up, on a break
and why, being rung, free, logged out; leaving after the call).  Two models
use it:

**Simulation** (once the queue has :attr:`WaitEstimatorConfig.min_history`
completed calls).  :func:`bailanys.queue.forecast.answer_times` draws
:attr:`~WaitEstimatorConfig.draws` futures of the queue from now: each
agent's next free moment from the rest of what it is doing, conditioned on
how long it has been doing it; then whole talk times and wrap-ups; callers
ahead hanging up by the Kaplan-Meier patience, conditioned on what they
have waited; logged-out agents logging in as they did on a past day drawn
for that future (:class:`bailanys.queue.logins.LoginHabits`, given a
:data:`Calendar`: the shift that starts at 13:00 is not a surprise at
12:55).  The announced value is the median answer time of the
futures: the median minimises the mean absolute error of what callers hear.
Every distribution is the last :attr:`~WaitEstimatorConfig.history`
observations (talk, wrap-up, patience per queue; breaks per reason across
queues): what this call centre does now, with no family assumed.  The
futures come from a generator seeded once, so a replay of the same events
gives the same announcements.

**Rate model** (cold start, and :meth:`WaitEstimator.rate_estimate`), for the
caller at 1-based ``position`` in a FIFO queue:

1. The caller is connected at the k-th agent release, k = position -
   available: the first ``available`` callers take the agents free now.
   k <= 0 means an agent is free for this caller: the estimate is 0.
2. Agents become free at rate r = staffed / h, where h is the mean handle
   time (talk + wrap-up) of the queue's recent calls, an exponentially
   weighted average over completed calls (:attr:`WaitEstimatorConfig.handle_alpha`).
   With tens of agents the superposed releases are close to a Poisson
   process whatever the handle-time distribution, so the gaps between
   releases are ~ exponential with mean 1 / r.
3. A caller ahead leaves early at hazard theta (exponential patience).
   theta = abandons / waiting exposure, the censored maximum-likelihood
   estimate: every caller who waited contributes the seconds waited, those
   who hung up also one abandon.  Both sums decay per caller
   (:attr:`WaitEstimatorConfig.abandon_beta`); a prior of
   :data:`PRIOR_PATIENCE_S` worth one abandon keeps an empty history sane.
   Callers answered at once carry no information and are left out.
4. With m callers still ahead the next step (a release or an abandon ahead)
   comes at rate r + m * theta, so the expected wait is
   ``sum(1 / (r + m * theta) for m in range(k))``, computed in O(1) as the
   first term plus a midpoint integral of the rest:
   ``1/r + ln((r + (k - 1/2) theta) / (r + theta/2)) / theta``.
5. Callers are told the median, not the mean.  A sum of k exponential gaps
   is a gamma(k) variable whose median is about ``mean - 1/(3 r)`` (K. P.
   Choi, "On the medians of gamma distributions and an equation of
   Ramanujan", Proc. AMS 121 (1994): median ~ k - 1/3).

The rate model sees only counts; an agent 20 minutes into a call, one a
few seconds from the end of wrap-up and one halfway through lunch count
the same.  The simulation tells them apart, which is where its gain comes
from (bench/ewt.py; bench/ewt_oracle.py bounds what any model could do).

No agent staffed and none on a break: :data:`NO_AGENT_WAIT_S`, a long
value; every estimate is capped at :data:`MAX_WAIT_S`.  The announcement
layer rounds to minutes (:func:`bailanys.voice.phrases.durations.wait_minutes`).

Measured, not guessed: ``bench/ewt.py`` replays simulated 1414-like days
against this estimator and the Asterisk and VICIdial formulas.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from bailanys.queue.agents import AgentState
from bailanys.queue.forecast import Empirical, Survival, answer_times
from bailanys.queue.logins import LoginHabits

#: Maps the ``now`` the queue core passes to (local day number, seconds
#: since local midnight): the engine's wall clock in the centre's time zone.
Calendar = Callable[[float], tuple[int, float]]

#: Cold-start handle time (talk + wrap-up), seconds: 4.5 min talk + 30 s
#: wrap-up.  A guess: the 1414 profile (domain/kz-1414-contact-center-
#: profile.ru.txt) tracks average talk time but publishes no figure.  It is
#: replaced by measurement after a few dozen completed calls.
PRIOR_HANDLE_S: Final = 300.0
#: Weight of :data:`PRIOR_HANDLE_S`, in completed calls.
PRIOR_HANDLE_WEIGHT: Final = 5.0
#: Per-call weight of a new handle time once past the warm-up: about the last
#: 200 calls (10-30 minutes of a busy 1414 queue); the standard error of 200
#: log-normal handle times (CV 0.8) is ~5 % of the mean.  On the simulation
#: (bench/ewt.py) the error is flat from 0.002 to 0.01 and worse from 0.03.
HANDLE_ALPHA: Final = 0.005

#: Prior mean patience, seconds.  From the 1414 profile: a planned average
#: wait of 30 s with at most 5 % of calls lost after the menu; under
#: exponential patience P(abandon) ~ E[wait] / patience, so ~600 s.  An
#: order of magnitude, replaced by measurement as callers abandon.
PRIOR_PATIENCE_S: Final = 600.0
#: Per-caller decay of the abandon and exposure sums (callers who waited):
#: about the last 100 such callers.
ABANDON_BETA: Final = 0.01

#: Median of a gamma(k) wait: k - 1/3 release gaps (Choi 1994).
MEDIAN_SHIFT: Final = 1.0 / 3.0

#: Futures drawn per estimate: the median of 200 draws is within ~5 % of
#: the true median for the spreads seen on the bench, at ~1 ms per estimate.
DRAWS: Final = 200
#: Beyond this place the futures drawn shrink in proportion (the estimate's
#: cost is linear in the callers ahead), down to :data:`MIN_DRAWS`.
DEEP: Final = 40
MIN_DRAWS: Final = 50
#: Observations kept per distribution (talk, wrap-up, patience per queue;
#: breaks per reason): a few hours of a busy 1414 queue.  Abandons are a
#: tenth of waiting callers, so the patience curve needs that many to see a
#: few hundred; on bench/ewt.py 400 was worse by ~0.02 of Asterisk's error,
#: 5000 no better.
HISTORY: Final = 2000
#: Completed calls of a queue before the simulation replaces the rate model.
MIN_HISTORY: Final = 30

#: Announced when no agent is staffed: an hour, i.e. "a long time".  The
#: queue's own rules (overflow, callback offer) should act before that.
NO_AGENT_WAIT_S: Final = 3600.0
#: No estimate is longer than this.
MAX_WAIT_S: Final = 3600.0


@dataclass(frozen=True, slots=True)
class WaitEstimatorConfig:
    """Tuning of :class:`WaitEstimator`; the defaults are explained above."""

    #: Handle time assumed before any call of the queue completed, seconds.
    prior_handle_s: float = PRIOR_HANDLE_S
    #: How many completed calls the prior is worth.
    prior_handle_weight: float = PRIOR_HANDLE_WEIGHT
    #: Weight of each new handle time in the moving average (0 < a <= 1).
    handle_alpha: float = HANDLE_ALPHA
    #: Mean patience assumed before any caller abandoned, seconds.
    prior_patience_s: float = PRIOR_PATIENCE_S
    #: Decay per waiting caller of the abandonment statistics (0 < b <= 1).
    abandon_beta: float = ABANDON_BETA
    #: Release gaps subtracted from the mean to announce the median.
    median_shift: float = MEDIAN_SHIFT
    #: Estimate when nobody is staffed, seconds.
    no_agent_wait_s: float = NO_AGENT_WAIT_S
    #: Upper bound of every estimate, seconds.
    max_wait_s: float = MAX_WAIT_S
    #: Futures drawn per estimate by the simulation.
    draws: int = DRAWS
    #: Observations kept per learnt distribution.
    history: int = HISTORY
    #: Completed calls of a queue before the simulation is used.
    min_history: int = MIN_HISTORY
    #: Seed of the futures' generator (the same events give the same estimates).
    seed: int = 0

    def __post_init__(self) -> None:
        positive = {
            "prior_handle_s": self.prior_handle_s,
            "prior_handle_weight": self.prior_handle_weight,
            "prior_patience_s": self.prior_patience_s,
            "no_agent_wait_s": self.no_agent_wait_s,
            "max_wait_s": self.max_wait_s,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        for name, value in (
            ("handle_alpha", self.handle_alpha),
            ("abandon_beta", self.abandon_beta),
        ):
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        if not (math.isfinite(self.median_shift) and 0 <= self.median_shift < 1):
            raise ValueError(f"median_shift must be in [0, 1), got {self.median_shift!r}")
        for name, count in (
            ("draws", self.draws), ("history", self.history), ("min_history", self.min_history)
        ):
            if not (isinstance(count, int) and count >= 1):
                raise ValueError(f"{name} must be a whole number of at least 1, got {count!r}")


_NOT_STAFFED: Final = frozenset({AgentState.BREAK, AgentState.LOGGED_OUT})


@dataclass(frozen=True, slots=True)
class AgentView:
    """One qualified agent at an announcement: what the estimate needs."""

    #: ``logged_out`` agents are listed too, with ``user``: their usual login
    #: time may be near (:class:`bailanys.queue.logins.LoginHabits`).
    state: AgentState
    #: Seconds since the agent entered ``state`` (talk so far, wrap-up so
    #: far, break so far).
    elapsed: float = 0.0
    #: The break reason while on a break ("lunch", "auto_pause", ...).
    reason: str = ""
    #: Logs out when the current call ends: no further call from this agent.
    leaving: bool = False
    #: A break asked for during the call, taken when it ends: its reason.
    pause_after: str = ""
    #: The agent's SIP user (what :meth:`WaitEstimator.on_login` was given).
    user: str = ""


@dataclass(frozen=True, slots=True)
class QueueView:
    """The queue as one waiting caller sees it: the estimator's input."""

    #: The caller's 1-based place in the queue.
    position: int
    #: Seconds waited by the callers at positions 1..``position``, in queue
    #: order (the caller's own wait last); shorter when unknown.
    waited: tuple[float, ...] = ()
    #: Every agent qualified for the caller (logged out ones too).
    agents: tuple[AgentView, ...] = ()

    @property
    def staffed(self) -> int:
        """Agents logged in and not on a break."""
        return sum(1 for a in self.agents if a.state not in _NOT_STAFFED)

    @property
    def available(self) -> int:
        """Agents free now."""
        return sum(1 for a in self.agents if a.state is AgentState.AVAILABLE)

    @classmethod
    def counts(cls, position: int, staffed: int, available: int) -> QueueView:
        """A view of counts only: ``available`` free agents, the rest just
        answered a call (what a caller of :meth:`WaitEstimator.rate_estimate`
        knows)."""
        if staffed < 0 or available < 0:
            raise ValueError(f"agent counts must not be negative: {staffed!r}, {available!r}")
        free = min(available, staffed)
        agents = (AgentView(AgentState.AVAILABLE),) * free + (
            AgentView(AgentState.ON_CALL),) * (staffed - free)
        return cls(position, (), agents)


class _History:
    """The last ``size`` observations and their distribution, rebuilt only
    when asked for after a change."""

    __slots__ = ("values", "flags", "_dist")

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.flags: deque[bool] = deque(maxlen=size)
        self._dist: Empirical | Survival | None = None

    def add(self, value: float, flag: bool = False) -> None:
        self.values.append(value)
        self.flags.append(flag)
        self._dist = None

    def empirical(self) -> Empirical | None:
        if not self.values:
            return None
        if not isinstance(self._dist, Empirical):
            self._dist = Empirical(self.values)
        return self._dist

    def survival(self) -> Survival:
        if not isinstance(self._dist, Survival):
            self._dist = Survival(self.values, self.flags)
        return self._dist


class _QueueStats:
    """What one queue's estimate needs: bounded, whatever the traffic."""

    __slots__ = ("completed", "handle_s", "abandons", "exposure_s", "waited_callers",
                 "talk", "wrap", "patience")

    def __init__(self, config: WaitEstimatorConfig) -> None:
        self.completed = 0  # calls whose handle time was averaged in
        self.handle_s = config.prior_handle_s  # moving average of talk + wrap-up
        self.abandons = 0.0  # decayed count of callers who hung up waiting
        self.exposure_s = 0.0  # decayed seconds waited by callers who waited
        self.waited_callers = 0  # callers who left the queue after waiting > 0 s
        self.talk = _History(config.history)  # talk times
        self.wrap = _History(config.history)  # wrap-up times
        self.patience = _History(config.history)  # (waited, hung up) of callers who waited


def _check_duration(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and not negative, got {value!r}")


class WaitEstimator:
    """Expected wait per queue from position, staffing, handle times and abandons.

    The queue core calls ``on_*`` as callers and agents move and
    :meth:`estimate` before each announcement.  ``call_id`` is accepted for
    the interface (and logs); the model keeps no per-call state.
    """

    def __init__(
        self,
        config: WaitEstimatorConfig | None = None,
        calendar: Calendar | None = None,
    ) -> None:
        self.config = config if config is not None else WaitEstimatorConfig()
        #: ``now`` -> (local day number, seconds since local midnight); without
        #: it logins are not learnt and logged-out agents are not expected.
        self.calendar = calendar
        self._logins = LoginHabits()
        self._queues: dict[str, _QueueStats] = {}
        self._breaks: dict[str, _History] = {}  # break lengths by reason
        self._all_breaks = _History(self.config.history)
        self._rng = np.random.default_rng(self.config.seed)

    def _stats(self, queue: str) -> _QueueStats:
        stats = self._queues.get(queue)
        if stats is None:
            stats = self._queues[queue] = _QueueStats(self.config)
        return stats

    # -- events ------------------------------------------------------------

    def on_join(self, queue: str, call_id: str, now: float) -> None:
        """A caller joined ``queue``: nothing to learn yet (no per-call state)."""
        self._stats(queue)

    def on_answer(self, queue: str, call_id: str, waited: float, now: float) -> None:
        """An agent answered after ``waited`` seconds: waiting exposure, no abandon."""
        _check_duration("waited", waited)
        if waited > 0:
            self._leave(self._stats(queue), waited, abandoned=False)

    def on_abandon(self, queue: str, call_id: str, waited: float, now: float) -> None:
        """The caller hung up after ``waited`` seconds in the queue."""
        _check_duration("waited", waited)
        self._leave(self._stats(queue), waited, abandoned=True)

    def _leave(self, stats: _QueueStats, waited: float, *, abandoned: bool) -> None:
        keep = 1.0 - self.config.abandon_beta
        stats.abandons = stats.abandons * keep + (1.0 if abandoned else 0.0)
        stats.exposure_s = stats.exposure_s * keep + waited
        stats.waited_callers += 1
        if waited > 0:
            stats.patience.add(waited, abandoned)

    def on_complete(
        self, queue: str, call_id: str, talk: float, wrap_up: float, now: float
    ) -> None:
        """An agent finished a call of ``queue`` (talk and wrap-up, seconds)."""
        _check_duration("talk", talk)
        _check_duration("wrap_up", wrap_up)
        stats = self._stats(queue)
        config = self.config
        stats.completed += 1
        # A running mean weighted with the prior at first, then an EWMA.
        weight = max(config.handle_alpha, 1.0 / (stats.completed + config.prior_handle_weight))
        stats.handle_s += weight * (talk + wrap_up - stats.handle_s)
        stats.talk.add(talk)
        stats.wrap.add(wrap_up)

    def on_break(self, reason: str, duration: float, now: float) -> None:
        """An agent came back from a break of ``reason`` after ``duration`` s
        (breaks are the agent's, not a queue's: learnt across queues)."""
        _check_duration("duration", duration)
        history = self._breaks.get(reason)
        if history is None:
            history = self._breaks[reason] = _History(self.config.history)
        history.add(duration)
        self._all_breaks.add(duration)

    def on_login(self, user: str, now: float) -> None:
        """``user`` logged in: learnt as a habit of that time of day."""
        if self.calendar is not None:
            day, second = self.calendar(now)
            self._logins.record(user, day, second)

    @property
    def logins(self) -> LoginHabits:
        """The agents' login habits (the engine replays stored logins into
        it at start, oldest first, so a restart does not forget them)."""
        return self._logins

    # -- the estimate --------------------------------------------------------

    def handle_time(self, queue: str) -> float:
        """The queue's current mean handle time (talk + wrap-up), seconds."""
        stats = self._queues.get(queue)
        return stats.handle_s if stats is not None else self.config.prior_handle_s

    def abandon_rate(self, queue: str) -> float:
        """Abandons per second per waiting caller (the patience hazard)."""
        stats = self._queues.get(queue)
        prior = self.config.prior_patience_s
        if stats is None:
            return 1.0 / prior
        return (stats.abandons + 1.0) / (stats.exposure_s + prior)

    def estimate(self, queue: str, view: QueueView, now: float) -> float:
        """Seconds until an agent answers the caller of ``view`` if it holds.

        0 when an agent is free for this caller;
        :attr:`~WaitEstimatorConfig.no_agent_wait_s` when nobody is staffed
        and no break is expected to end.  Raises ``ValueError`` for a
        position below 1 or a negative duration.
        """
        if view.position < 1:
            raise ValueError(f"position is 1-based, got {view.position!r}")
        for wait in view.waited:
            _check_duration("waited", wait)
        for agent in view.agents:
            _check_duration("elapsed", agent.elapsed)
        if view.position <= view.available:
            return 0.0
        stats = self._queues.get(queue)
        if stats is None or stats.completed < self.config.min_history:
            return self.rate_estimate(queue, view.position, view.staffed, view.available)
        # The futures' cost grows with the callers ahead; a deep place's wait
        # is a sum of many gaps, so fewer futures give as steady a median.
        most = self.config.draws
        draws = min(most, max(MIN_DRAWS, most * DEEP // view.position))
        first = self._first_free(stats, view.agents, draws, now)
        if first is None:
            return self.config.no_agent_wait_s
        talk, wrap = stats.talk.empirical(), stats.wrap.empirical()
        assert talk is not None and wrap is not None  # completed >= min_history >= 1
        ahead = np.asarray(view.waited[: view.position - 1], dtype=np.float64)
        if len(ahead) < view.position - 1:  # waits not given: count them as just joined
            ahead = np.concatenate([np.zeros(view.position - 1 - len(ahead)), ahead])
        patience = stats.patience.survival().remaining(self._rng, ahead, (draws, len(ahead)))
        answers = answer_times(self._rng, first, talk, wrap, patience)
        wait = float(np.median(answers))
        return min(max(wait, 0.0), self.config.max_wait_s)

    def _first_free(
        self, stats: _QueueStats, agents: Sequence[AgentView], draws: int, now: float
    ) -> np.ndarray | None:
        """(draws, agents): when each agent who stays, or is expected to log
        in, is first free (``inf``: not in that future); None if none will be.

        Agents are drawn in blocks of the same state (and break reason), so
        the cost is a few numpy calls whatever the number of agents."""
        rng = self._rng
        talk, wrap = stats.talk.empirical(), stats.wrap.empirical()
        assert talk is not None and wrap is not None
        groups: dict[tuple[AgentState, str], list[AgentView]] = {}
        blocks: list[np.ndarray] = []
        away = [a.user for a in agents if a.state is AgentState.LOGGED_OUT and a.user]
        if away:
            arriving = self._arrivals(away, draws, now)
            if arriving is not None:
                blocks.append(arriving)
        for agent in agents:
            if agent.state is not AgentState.LOGGED_OUT and not agent.leaving:
                key = (agent.state, agent.reason if agent.state is AgentState.BREAK else "")
                groups.setdefault(key, []).append(agent)
        for (state, reason), members in groups.items():
            shape = (draws, len(members))
            elapsed = np.broadcast_to(np.array([a.elapsed for a in members]), shape)
            if state is AgentState.AVAILABLE:
                free = np.zeros(shape)
            elif state is AgentState.RINGING:
                free = talk.draw(rng, shape) + wrap.draw(rng, shape)
            elif state is AgentState.ON_CALL:
                free = talk.residual(rng, elapsed) + wrap.draw(rng, shape)
            elif state is AgentState.WRAP_UP:
                free = wrap.residual(rng, elapsed)
            else:  # a break: a reason never seen to end is not counted on
                history = self._breaks.get(reason)
                breaks = history.empirical() if history is not None else None
                if breaks is None:
                    continue
                blocks.append(breaks.residual(rng, elapsed))
                continue
            keep = np.ones(len(members), dtype=bool)
            for after in {a.pause_after for a in members if a.pause_after}:
                column = np.array([a.pause_after == after for a in members])
                lengths = self._break_lengths(after)
                if lengths is None:  # no break seen yet: not counted on
                    keep &= ~column
                else:
                    free = free + np.where(column, lengths.draw(rng, shape), 0.0)
            blocks.append(free[:, keep])
        columns = np.concatenate(blocks, axis=1) if blocks else np.zeros((draws, 0))
        return columns if columns.shape[1] else None

    def _arrivals(self, users: Sequence[str], draws: int, now: float) -> np.ndarray | None:
        """(draws, users expected): when each logged-out agent who may log in
        within :attr:`~WaitEstimatorConfig.max_wait_s` does so, by the day
        drawn for each future (``inf``: not that day); None if nobody."""
        if self.calendar is None:
            return None
        day, second = self.calendar(now)
        days = self._logins.next_logins(users, day, second, self.config.max_wait_s)
        days = days[:, np.isfinite(days).any(axis=0)]
        if days.size == 0:
            return None
        return np.asarray(days[self._rng.integers(0, len(days), size=draws)], dtype=np.float64)

    def _break_lengths(self, reason: str) -> Empirical | None:
        """Lengths of breaks of ``reason``, else of any break; None before any
        (for a break still to begin: some break is better than none)."""
        history = self._breaks.get(reason)
        found = history.empirical() if history is not None else None
        return found if found is not None else self._all_breaks.empirical()

    def rate_estimate(
        self, queue: str, position: int, staffed: int, available: int
    ) -> float:
        """The rate model (module doc) from counts alone, seconds.

        ``staffed``: logged-in qualified agents not on break; ``available``:
        those free now.  Returns 0 when an agent is free for this caller,
        :attr:`~WaitEstimatorConfig.no_agent_wait_s` when nobody is staffed.
        """
        if position < 1:
            raise ValueError(f"position is 1-based, got {position!r}")
        if staffed < 0 or available < 0:
            raise ValueError(f"agent counts must not be negative: {staffed!r}, {available!r}")
        config = self.config
        releases = position - available  # k: agent releases this caller waits for
        if releases <= 0:
            return 0.0
        if staffed == 0:
            return config.no_agent_wait_s
        rate = staffed / self.handle_time(queue)  # r: releases per second
        theta = self.abandon_rate(queue)
        mean = 1.0 / rate  # the last gap, at the head of the queue
        if releases > 1:
            mean += math.log1p((releases - 1) * theta / (rate + 0.5 * theta)) / theta
        wait = mean - config.median_shift / rate
        return min(max(wait, 0.0), config.max_wait_s)
