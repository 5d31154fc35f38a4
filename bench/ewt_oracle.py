"""How close to the EWT target could any estimator get?  A Monte-Carlo oracle.

    python bench/ewt_oracle.py [--samples 20000] [--draws 400] [--quick]

bench/ewt.py scores three wait-time estimators on simulated 1414-like days
against a target (our MAE at most half of Asterisk's).  This script measures
what knowing the true distributions and each operator's phase is worth,
with oracles that see less than the engine's estimator now does (see the
end of this note): on the same simulated days (bench/ewt.py's
default scenario, its 5 weekdays x seeds 1-3, imported and run unchanged),
it draws a fixed random sample of the scored announcements (announcements
to callers who were answered) and scores, on that very sample, ours,
Asterisk's and VICIdial's estimates (the values bench/ewt.py computed) and
two Monte-Carlo oracles.

What the oracles know at an announcement (``ewt.Snapshot``, taken through
simulate()'s ``on_announce`` hook, which changes no result):

* the time each caller at positions 1..p (this caller last) has waited;
* for each busy operator who stays after the current call: the handle
  time (talk + wrap-up) elapsed so far; operators who log out after their
  call are known and left out;
* THE SIMULATION'S TRUE DISTRIBUTIONS: talk and wrap-up log-normal, patience
  Weibull, with the scenario's exact parameters;
* ``phase`` oracle only, also: whether each operator is still talking or
  already in wrap-up (and for how long), and the break each one owes after
  the current call (its exact length).

What they do not know: future arrivals (irrelevant under FIFO), operators
who will log in or come back from a break, breaks requested later, and the
realised talk times and patiences (only their distributions).

From that state, each oracle draws ``--draws`` futures: each operator's
remaining handle time from the true distribution conditioned on the time
already elapsed, then fresh handle times; each waiting caller's remaining
patience from the Weibull conditioned on the wait so far; FIFO service by
the next operator to finish.  It announces the median of this caller's
simulated wait among the futures in which the caller is answered (only
answered callers are scored; the median minimises the expected absolute
error).  With no busy operator staying, it has nothing to go on and
announces what ours does (the count is printed).

This is an optimistic bound for any real engine seeing the same state: it
knows the true distributions exactly, which no real engine does (it must
estimate them from history, with drift and noise).  It is not a bound on
an estimator that sees more: the engine's estimator now also counts on
operators coming back from breaks (how long breaks of that reason last) and
on logged-out operators logging in at their usual time, which these oracles
do not, so it beats them.  What
the oracles measure is the value of each kind of knowledge: talk/wrap-up
phase and owed breaks (oracle -> oracle+phase), and the true
distributions (oracle+phase against ours).
The printed 95 % interval is a paired bootstrap over the sampled
announcements; announcements of one day are correlated, so it understates
the day-to-day uncertainty.  Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.special import ndtr, ndtri

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ewt  # noqa: E402  (bench/ewt.py)

DAYS, SEEDS = 5, (1, 2, 3)  # bench/ewt.py's defaults
Seeds = tuple[int, ...]
SAMPLE_SEED = 0  # which announcements are sampled
ORACLE_SEED = 1  # the oracles' Monte-Carlo draws
TINY = 1e-9
Key = tuple[int, int, float]  # (seed, call index, announcement time)


def _lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


class Oracle:
    """Median wait, conditional on being answered, over simulated futures (module doc)."""

    def __init__(self, scenario: ewt.Scenario, draws: int, seed: int, *, phase: bool) -> None:
        self.talk = _lognormal_params(scenario.talk_mean_s, scenario.talk_cv)
        self.wrap = _lognormal_params(scenario.wrap_mean_s, scenario.wrap_cv)
        self.shape = scenario.patience_shape
        self.scale = scenario.patience_mean_s / math.gamma(1.0 + 1.0 / scenario.patience_shape)
        self.draws = draws
        self.phase = phase
        self.rng = np.random.default_rng(seed)
        # Wrap-up quantiles: the grid on which the handle-only oracle splits an
        # elapsed handle time into talk and wrap-up.
        grid = (np.arange(64) + 0.5) / 64
        self.wrap_grid = np.exp(self.wrap[0] + self.wrap[1] * ndtri(grid))

    def _above(self, params: tuple[float, float], above: np.ndarray) -> np.ndarray:
        """Log-normal draws conditioned on exceeding ``above`` (<= 0: unconditioned)."""
        mu, sigma = params
        z0 = np.where(above > 0, (np.log(np.maximum(above, TINY)) - mu) / sigma, -np.inf)
        tail = ndtr(-z0) * (1.0 - self.rng.uniform(size=np.shape(above)))  # in (0, P(X > above)]
        return np.asarray(np.exp(mu - sigma * ndtri(np.maximum(tail, 1e-300))), dtype=float)

    def _handles(self, shape: tuple[int, ...]) -> np.ndarray:
        talk = self.rng.lognormal(*self.talk, size=shape)
        return talk + self.rng.lognormal(*self.wrap, size=shape)

    def _remaining(self, snap: ewt.Snapshot) -> np.ndarray:
        """(draws, operators): time until each operator finishes the current call."""
        shape = (self.draws, len(snap.elapsed))
        elapsed = np.broadcast_to(np.asarray(snap.elapsed), shape)
        if self.phase:
            wrapping = np.broadcast_to(np.asarray(snap.wrapping), shape)
            talk_left = np.where(wrapping < 0, elapsed, 0.0)  # talk so far, while talking
            in_talk = self._above(self.talk, talk_left) - talk_left
            wrap = self._above(self.wrap, np.maximum(wrapping, 0.0))
            left = np.where(wrapping < 0, in_talk + wrap, wrap - np.maximum(wrapping, 0.0))
            return np.asarray(left, dtype=float)
        # Only the handle time is known: draw the wrap-up from its posterior
        # given talk + wrap-up > elapsed (on the quantile grid), then the talk.
        need = np.asarray(snap.elapsed)[:, None] - self.wrap_grid[None, :]
        weight = np.where(
            need > 0,
            ndtr(-(np.log(np.maximum(need, TINY)) - self.talk[0]) / self.talk[1]),
            1.0,
        )
        cum = np.cumsum(weight, axis=1)
        cum /= cum[:, -1:]
        u = self.rng.uniform(size=shape)
        wrap = self.wrap_grid[np.minimum((u[..., None] > cum[None]).sum(-1), 63)]
        talk = self._above(self.talk, elapsed - wrap)
        return np.asarray(talk + wrap - elapsed, dtype=float)

    def _completions(self, snap: ewt.Snapshot, needed: int) -> np.ndarray:
        """(draws, >= needed): the first ``needed`` call completions, in time order."""
        first = self._remaining(snap)
        free = first + (np.asarray(snap.pause)[None, :] if self.phase else 0.0)
        depth = max(2, math.ceil(needed / first.shape[1]) + 2)
        while True:
            later = free[..., None] + np.cumsum(self._handles((*first.shape, depth)), axis=2)
            times = np.sort(
                np.concatenate([first[..., None], later], axis=2).reshape(self.draws, -1), axis=1
            )
            # Exact iff no operator could finish again before the needed-th completion.
            if (times[:, needed - 1] <= later[..., -1].min(axis=1)).all():
                return times[:, :needed]
            depth *= 2

    def estimate(self, snap: ewt.Snapshot) -> float | None:
        if not snap.elapsed:
            return None
        waited = np.asarray(snap.waited)
        m = len(waited)
        e = self.rng.exponential(size=(self.draws, m))
        # Weibull patience, conditioned on the wait so far: the remaining part.
        deadline = self.scale * ((waited / self.scale) ** self.shape + e) ** (1 / self.shape)
        deadline -= waited
        times = self._completions(snap, m)
        rows = np.arange(self.draws)
        ahead = np.zeros(self.draws, dtype=int)  # next caller to be served
        answer = np.full(self.draws, np.nan)
        open_ = np.ones(self.draws, dtype=bool)
        for c in range(m):  # FIFO: a completion serves the first caller still there
            t = times[:, c]
            while True:
                gone = open_ & (ahead < m - 1) & (deadline[rows, ahead] < t)
                if not gone.any():
                    break
                ahead += gone
            hit = open_ & (ahead == m - 1)
            answer[hit] = t[hit]
            open_ &= ~hit
            ahead += open_
            if not open_.any():
                break
        answered = deadline[:, -1] >= answer
        return float(np.median(answer[answered] if answered.any() else answer))


def ratio_ci(err: np.ndarray, ref: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Paired bootstrap 95 % interval of MAE(err) / MAE(ref)."""
    idx = rng.integers(0, len(err), size=(1000, len(err)))
    ratios = np.abs(err[idx]).mean(axis=1) / np.abs(ref[idx]).mean(axis=1)
    return float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="EWT estimators against a Monte-Carlo oracle.")
    parser.add_argument("--samples", type=int, default=20000,
                        help="scored announcements sampled (all: 53751)")
    parser.add_argument("--draws", type=int, default=400, help="Monte-Carlo futures each")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 day, 1 seed, a quarter of the traffic, 200 samples")
    args = parser.parse_args(argv)
    days, scenario = DAYS, ewt.DEFAULT
    seeds: Seeds = SEEDS
    if args.quick:
        days, seeds, scenario = 1, (1,), replace(ewt.DEFAULT, scale=0.25)
        args.samples, args.draws = min(args.samples, 200), min(args.draws, 100)
    if args.samples < 1 or args.draws < 1:
        parser.error("--samples and --draws must be at least 1")
    started = time.perf_counter()

    # Pass 1: the keys of all scored announcements; sample some.
    keys: list[Key] = []
    full: list[ewt.DayResult] = []
    for seed in seeds:
        def key(s: ewt.Snapshot, seed: int = seed) -> Key:
            return (seed, s.call, s.now)

        results = ewt.simulate(seed, days, scenario, on_announce=key)
        full += results
        keys += [k for r in results for k in r.notes]  # type: ignore[misc]
    pick = np.random.default_rng(SAMPLE_SEED).choice(
        len(keys), size=min(args.samples, len(keys)), replace=False
    )
    chosen = {keys[int(i)] for i in pick}

    # Pass 2: the same days again (same seeds: same events), keeping the
    # snapshots of the sampled announcements.
    rows: list[tuple[int, float, list[float], ewt.Snapshot]] = []  # day, actual, estimates, snap
    for seed in seeds:
        def hook(s: ewt.Snapshot, seed: int = seed) -> object:
            return s if (seed, s.call, s.now) in chosen else None

        for r in ewt.simulate(seed, days, scenario, on_announce=hook):
            for k, note in enumerate(r.notes):
                if isinstance(note, ewt.Snapshot):
                    rows.append((seed * 100 + r.day, r.actual[k],
                                 [est[k] for est in r.estimates], note))
    assert len(rows) == len(chosen), "the second pass did not replay the first"

    oracles = {"oracle": Oracle(scenario, args.draws, ORACLE_SEED, phase=False),
               "oracle+phase": Oracle(scenario, args.draws, ORACLE_SEED, phase=True)}
    names = [*ewt.NAMES, *oracles]
    actual = np.array([a for _, a, _, _ in rows])
    est = {n: np.array([v[j] for _, _, v, _ in rows]) for j, n in enumerate(ewt.NAMES)}
    blind = 0
    for name, oracle in oracles.items():
        values = []
        for _, _, v, snap in rows:
            x = oracle.estimate(snap)
            blind += x is None and name == "oracle"
            values.append(v[0] if x is None else x)
        est[name] = np.array(values)
    err = {n: est[n] - actual for n in names}
    day = np.array([d for d, _, _, _ in rows])

    def day_median_ratio(n: str) -> float:
        ratios = [np.abs(err[n][day == d]).mean() / np.abs(err["asterisk"][day == d]).mean()
                  for d in np.unique(day)]
        return float(statistics.median(ratios))

    n_all = sum(len(r.actual) for r in full)
    print(f"EWT oracle bench: queue {ewt.QUEUE!r}, {days} weekday(s) x {len(seeds)} seed(s), "
          f"scale {scenario.scale}; {len(rows)} of {n_all} scored announcements sampled "
          f"(seed {SAMPLE_SEED}); {args.draws} Monte-Carlo futures per oracle estimate")
    print("  oracle: knows waits, operators' elapsed handle times, pending logouts and the TRUE"
          " distributions; oracle+phase: also talk/wrap-up phase and breaks owed")
    print()
    boot = np.random.default_rng(SAMPLE_SEED)
    ast = err["asterisk"]
    interval = {n: ratio_ci(err[n], ast, boot) for n in names}
    print(f"{'estimator':<13} {'MAE s':>6} {'median err s':>13} {'/asterisk':>9} "
          f"{'95 % interval':>15} {'median of days':>14}")
    for n in names:
        lo, hi = interval[n]
        ratio = np.abs(err[n]).mean() / np.abs(ast).mean()
        print(f"{n:<13} {np.abs(err[n]).mean():>6.2f} {np.median(err[n]):>+13.1f} {ratio:>9.3f} "
              f"{f'{lo:.3f}-{hi:.3f}':>15} {day_median_ratio(n):>14.3f}")
    if blind:
        print(f"({blind} announcement(s) with no busy operator staying: the oracles announce ours)")
    all_ratios = [ewt.score(r.estimates[0], r.actual).mae / ewt.score(r.estimates[1], r.actual).mae
                  for r in full if r.actual]
    print(f"all {n_all} announcements (bench/ewt.py): ours/asterisk median of days "
          f"{statistics.median(all_ratios):.3f}")
    print()
    best = min(oracles, key=lambda n: float(np.abs(err[n]).mean()))
    best_ratio = float(np.abs(err[best]).mean() / np.abs(ast).mean())
    lo, hi = interval[best]
    print(f"best oracle: {best} at {best_ratio:.3f} of Asterisk's MAE (95 % {lo:.3f}-{hi:.3f}),"
          f" knowing the true distributions but not when breaks end; target "
          f"{ewt.TARGET_RATIO}")
    print(f"elapsed {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
