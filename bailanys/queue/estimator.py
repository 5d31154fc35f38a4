"""Expected wait time (EWT) for a caller waiting in a queue.

Callers hear "expected waiting time about N minutes" when they join and at
least every minute (DOMAIN.md, requirements item 12).  Pure code: no
asyncio, no I/O, no clock; time is an input in seconds.  State is a few
numbers per queue, so every event and every estimate is O(1).

The model, for the caller at 1-based ``position`` in a FIFO queue:

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
   Callers answered at once carry no information and are left out.  On the
   simulation this term matters most: without it the error grows by half.
4. With m callers still ahead the next step (a release or an abandon ahead)
   comes at rate r + m * theta, so the expected wait is
   ``sum(1 / (r + m * theta) for m in range(k))``, computed in O(1) as the
   first term plus a midpoint integral of the rest:
   ``1/r + ln((r + (k - 1/2) theta) / (r + theta/2)) / theta``.
5. Callers are told the median, not the mean: the median minimises the
   mean absolute error of what they hear.  A sum of k exponential gaps is a
   gamma(k) variable whose median is about ``mean - 1/(3 r)`` (K. P. Choi,
   "On the medians of gamma distributions and an equation of Ramanujan",
   Proc. AMS 121 (1994): median ~ k - 1/3).

No agent staffed: :data:`NO_AGENT_WAIT_S`, a long value; every estimate is
capped at :data:`MAX_WAIT_S`.  The announcement layer rounds to minutes
(:func:`bailanys.voice.phrases.durations.wait_minutes`).

Measured, not guessed: ``bench/ewt.py`` replays simulated 1414-like days
against this estimator and the Asterisk and VICIdial formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

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


class _QueueStats:
    """What one queue's estimate needs: five numbers, whatever the traffic."""

    __slots__ = ("completed", "handle_s", "abandons", "exposure_s", "waited_callers")

    def __init__(self, config: WaitEstimatorConfig) -> None:
        self.completed = 0  # calls whose handle time was averaged in
        self.handle_s = config.prior_handle_s  # moving average of talk + wrap-up
        self.abandons = 0.0  # decayed count of callers who hung up waiting
        self.exposure_s = 0.0  # decayed seconds waited by callers who waited
        self.waited_callers = 0  # callers who left the queue after waiting > 0 s


def _check_duration(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and not negative, got {value!r}")


class WaitEstimator:
    """Expected wait per queue from position, staffing, handle times and abandons.

    The queue core calls ``on_*`` as callers and agents move and
    :meth:`estimate` before each announcement.  ``call_id`` is accepted for
    the interface (and logs); the model keeps no per-call state.
    """

    def __init__(self, config: WaitEstimatorConfig | None = None) -> None:
        self.config = config if config is not None else WaitEstimatorConfig()
        self._queues: dict[str, _QueueStats] = {}

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

    def estimate(
        self, queue: str, position: int, staffed: int, available: int, now: float
    ) -> float:
        """Seconds until an agent answers the caller at ``position`` (1-based).

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
