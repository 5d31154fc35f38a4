"""When will the caller at a given place be answered?  Monte-Carlo futures.

Pure numpy, no clock, no I/O: :class:`bailanys.queue.estimator.WaitEstimator`
calls :func:`answer_times` with what the queue looks like now and what it
has learnt from history, and announces the median of the result.

The model (FIFO service, one queue's qualified agents):

* every agent who stays becomes free first at a time drawn from what it is
  doing: talking for ``e`` seconds -> the rest of a talk time longer than
  ``e`` plus a wrap-up; wrapping up -> the rest of a wrap-up longer than
  ``e``; on a break -> the rest of a break of that reason longer than ``e``;
  being rung -> a whole talk time plus a wrap-up; free -> now;
* after that it takes the next caller and becomes free again after a whole
  talk time plus wrap-up, and so on (an agent who logs out after the
  current call is not in the list at all);
* each caller ahead hangs up at the rest of a patience longer than what it
  has already waited; a release goes to the first caller still there;
* the caller announced does not hang up: the estimate is the wait *if it
  holds*, which is what the announcement promises.

Every duration is drawn from an :class:`Empirical` distribution: the last
few hundred observed values, sampled whole (no parametric family assumed:
handle times are close to log-normal, breaks are nearly fixed, wrap-up is
often a fixed timer).  Patience is observed censored (a caller who was
answered only shows that its patience was longer), so it is the
Kaplan-Meier estimate (:class:`Survival`).

Conditioning on elapsed time is what makes this better than a rate model:
an agent 20 minutes into a call is likely to be in a long one, one in
wrap-up is nearly free, one halfway through lunch is back in about 20
minutes.  bench/ewt.py measures the gain; bench/ewt_oracle.py shows how
close the same model comes when it knows the true distributions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

#: Fraction of the largest samples whose excess over their lower bound gives
#: the tail beyond the largest sample (exponential, that mean).
TAIL_FRACTION = 0.1
#: Smallest mean of that tail, seconds.
MIN_TAIL_S = 1.0


class Empirical:
    """A distribution given by samples: whole draws and residual draws."""

    __slots__ = ("values", "tail_mean")

    def __init__(self, samples: Sequence[float]) -> None:
        if not samples:
            raise ValueError("an empirical distribution needs at least one sample")
        self.values: Array = np.sort(np.asarray(samples, dtype=np.float64))
        n = len(self.values)
        top = self.values[min(n - 1, int(n * (1.0 - TAIL_FRACTION))):]
        self.tail_mean = max(MIN_TAIL_S, float(top.mean() - top[0]))

    def __len__(self) -> int:
        return len(self.values)

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
        """Independent whole values."""
        return self.values[rng.integers(0, len(self.values), size=shape)]

    def residual(self, rng: np.random.Generator, elapsed: Array) -> Array:
        """The rest of a value known to exceed ``elapsed`` (element-wise).

        A sample larger than ``elapsed`` is drawn uniformly and ``elapsed``
        subtracted; beyond the largest sample the rest is exponential with
        the mean excess of the top :data:`TAIL_FRACTION`.
        """
        n = len(self.values)
        first = np.searchsorted(self.values, elapsed, side="right")
        above = n - first
        pick = first + np.floor(rng.random(elapsed.shape) * np.maximum(above, 1)).astype(np.int64)
        inside = self.values[np.minimum(pick, n - 1)] - elapsed
        tail = rng.exponential(self.tail_mean, size=elapsed.shape)
        return np.where(above > 0, inside, tail)


class Survival:
    """Kaplan-Meier survival of patience from (waited, hung up) observations."""

    __slots__ = ("times", "surv")

    def __init__(self, waited: Sequence[float], abandoned: Sequence[bool]) -> None:
        w = np.asarray(waited, dtype=np.float64)
        a = np.asarray(abandoned, dtype=bool)
        order = np.lexsort((~a, w))  # by time; at a tie, abandons first (KM convention)
        w, a = w[order], a[order]
        at_risk = len(w) - np.arange(len(w))
        factors = np.where(a, 1.0 - 1.0 / np.maximum(at_risk, 1), 1.0)
        surv = np.cumprod(factors)
        self.times: Array = w[a]
        self.surv: Array = surv[a]

    def remaining(self, rng: np.random.Generator, waited: Array, shape: tuple[int, ...]) -> Array:
        """(draws, callers): how much longer each caller, who has waited
        ``waited``, stays before hanging up; ``inf`` past the last abandon seen."""
        if len(self.times) == 0:
            return np.full(shape, np.inf)
        idx = np.searchsorted(self.times, waited, side="right") - 1
        s_now = np.where(idx >= 0, self.surv[np.maximum(idx, 0)], 1.0)
        target = rng.random(shape) * s_now
        # First abandon time whose survival is at or below the target.
        hit = np.searchsorted(-self.surv, -target, side="left")
        ends = self.times[np.minimum(hit, len(self.times) - 1)]
        # Still there though every caller seen hung up by now: not one of them.
        stays = (hit >= len(self.times)) | (s_now <= 0.0)
        return np.where(stays, np.inf, np.maximum(ends - waited, 0.0))


def releases(
    rng: np.random.Generator,
    first: Array,
    talk: Empirical,
    wrap: Empirical,
    needed: int,
) -> Array:
    """(draws, needed): the first ``needed`` times an agent becomes free.

    ``first`` is (draws, agents): each agent's first free time; after that
    each is free again after a whole talk time plus wrap-up.
    """
    draws, agents = first.shape
    depth = max(1, math.ceil(needed / agents)) + 1
    while True:
        shape = (draws, agents, depth)
        handles = talk.draw(rng, shape) + wrap.draw(rng, shape)
        later = first[..., None] + np.cumsum(handles, axis=2)
        times = np.concatenate([first[..., None], later], axis=2).reshape(draws, -1)
        # Only the first ``needed`` matter: partition, then sort those.
        if needed < times.shape[1]:
            times = np.partition(times, needed - 1, axis=1)[:, :needed]
        times.sort(axis=1)
        # Exact when no agent could be free once more before the needed-th time.
        if (times[:, needed - 1] <= later[..., -1].min(axis=1)).all():
            return np.asarray(times[:, :needed], dtype=np.float64)
        depth *= 2


def answer_times(
    rng: np.random.Generator,
    first: Array,
    talk: Empirical,
    wrap: Empirical,
    patience: Array,
) -> Array:
    """(draws,): when the last caller of the line is answered, per future.

    ``patience`` is (draws, callers ahead): each caller's remaining time
    before hanging up, in queue order; the announced caller (last) never
    hangs up.  ``first`` as for :func:`releases`.
    """
    draws = first.shape[0]
    ahead = patience.shape[1]
    if ahead == 0:
        return np.asarray(first.min(axis=1), dtype=np.float64)
    times = releases(rng, first, talk, wrap, ahead + 1)
    rows = np.arange(draws)
    # Callers ahead served so far plus those gone: the next caller's index.
    nxt = np.zeros(draws, dtype=np.int64)
    answer = np.full(draws, np.inf)
    open_ = np.ones(draws, dtype=bool)
    deadline = np.concatenate([patience, np.full((draws, 1), np.inf)], axis=1)
    for c in range(ahead + 1):
        t = times[:, c]
        # Skip the callers ahead who hung up before this release.
        while True:
            gone = open_ & (nxt < ahead) & (deadline[rows, np.minimum(nxt, ahead)] < t)
            if not gone.any():
                break
            nxt += gone
        hit = open_ & (nxt == ahead)
        answer[hit] = t[hit]
        open_ &= ~hit
        nxt += open_
        if not open_.any():
            break
    return answer
