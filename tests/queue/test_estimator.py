"""The expected-wait estimator on fixed traces, the baselines by hand, the bench's smoke run."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType

import pytest

from bailanys.queue.estimator import (
    MAX_WAIT_S,
    NO_AGENT_WAIT_S,
    PRIOR_HANDLE_S,
    PRIOR_PATIENCE_S,
    QueueView,
    WaitEstimator,
    WaitEstimatorConfig,
)

Q = "1414-ru"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "ewt.py"


def load_bench() -> ModuleType:
    """bench/ewt.py as a module (registered first: its dataclasses need it)."""
    spec = importlib.util.spec_from_file_location("bench_ewt", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ewt"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


def exact_median_wait(position: int, staffed: int, handle: float, patience: float) -> float:
    """The model's sum term by term, as the module doc writes it."""
    rate, theta = staffed / handle, 1.0 / patience
    mean = sum(1.0 / (rate + m * theta) for m in range(position))
    return mean - (1.0 / 3.0) / rate


# -- cold start ---------------------------------------------------------------


def test_cold_start_uses_the_documented_priors() -> None:
    est = WaitEstimator()
    assert est.handle_time(Q) == PRIOR_HANDLE_S == 300.0
    assert est.abandon_rate(Q) == pytest.approx(1.0 / PRIOR_PATIENCE_S)
    # One agent, first in line: the median of one exponential gap, (1 - 1/3) * 300 s.
    assert est.rate_estimate(Q, 1, 1, 0) == pytest.approx(200.0)
    # A queue that has only seen joins is still on the priors.
    est.on_join(Q, "c1", 0.0)
    assert est.rate_estimate(Q, 1, 1, 0) == pytest.approx(200.0)


@pytest.mark.parametrize("position", [1, 2, 5, 20, 80])
@pytest.mark.parametrize("staffed", [1, 10, 60])
def test_closed_form_follows_the_sum(position: int, staffed: int) -> None:
    got = WaitEstimator().rate_estimate(Q, position, staffed, 0)
    want = min(exact_median_wait(position, staffed, PRIOR_HANDLE_S, PRIOR_PATIENCE_S), MAX_WAIT_S)
    assert got == pytest.approx(want, rel=0.01)


def test_without_abandonment_the_wait_is_position_times_the_release_gap() -> None:
    config = WaitEstimatorConfig(prior_patience_s=1e12)
    est = WaitEstimator(config)
    # 20 agents, 300 s each: one release every 15 s; the 10th caller waits ~ (10 - 1/3) gaps.
    assert est.rate_estimate(Q, 10, 20, 0) == pytest.approx((10 - 1 / 3) * 15.0, rel=1e-6)


# -- shape ----------------------------------------------------------------------


def test_monotonic_in_position() -> None:
    est = WaitEstimator()
    waits = [est.rate_estimate(Q, p, 30, 0) for p in range(1, 400)]
    assert all(b > a for a, b in zip(waits, waits[1:], strict=False) if b < MAX_WAIT_S)
    assert all(b >= a for a, b in zip(waits, waits[1:], strict=False))


def test_more_staff_means_a_shorter_wait() -> None:
    est = WaitEstimator()
    waits = [est.rate_estimate(Q, 25, s, 0) for s in range(1, 200)]
    assert all(b < a for a, b in zip(waits, waits[1:], strict=False) if a < MAX_WAIT_S)


def test_a_free_agent_for_this_caller_means_no_wait() -> None:
    est = WaitEstimator()
    assert est.rate_estimate(Q, 1, 10, 1) == 0.0
    assert est.rate_estimate(Q, 3, 10, 3) == 0.0
    assert est.rate_estimate(Q, 3, 10, 5) == 0.0
    # Three free agents take the first three callers: the fourth waits one release.
    assert est.rate_estimate(Q, 4, 10, 3) == est.rate_estimate(Q, 1, 10, 0) > 0


def test_no_agent_staffed_returns_the_documented_long_value() -> None:
    est = WaitEstimator()
    assert est.rate_estimate(Q, 1, 0, 0) == NO_AGENT_WAIT_S == 3600.0
    assert est.rate_estimate(Q, 100_000, 1, 0) == MAX_WAIT_S
    short = WaitEstimator(WaitEstimatorConfig(no_agent_wait_s=900.0))
    assert short.rate_estimate(Q, 5, 0, 0) == 900.0


def _feed_waits(est: WaitEstimator, callers: int, waited: float, abandon_every: int) -> None:
    for i in range(callers):
        if abandon_every and i % abandon_every == 0:
            est.on_abandon(Q, f"c{i}", waited, float(i))
        else:
            est.on_answer(Q, f"c{i}", waited, float(i))


def test_abandonment_lowers_the_estimate_for_deep_positions() -> None:
    patient, impatient = WaitEstimator(), WaitEstimator()
    _feed_waits(patient, 500, 120.0, abandon_every=0)  # nobody hangs up
    _feed_waits(impatient, 500, 120.0, abandon_every=3)  # a third hang up after 2 min
    assert impatient.abandon_rate(Q) > 10 * patient.abandon_rate(Q)
    # Position 1 waits for one release whoever hangs up behind.
    assert impatient.rate_estimate(Q, 1, 20, 0) == pytest.approx(patient.rate_estimate(Q, 1, 20, 0))
    deep_patient = patient.rate_estimate(Q, 60, 20, 0)
    deep_impatient = impatient.rate_estimate(Q, 60, 20, 0)
    assert deep_impatient < 0.8 * deep_patient
    # The hazard is abandons over waiting exposure: 1 in 3 callers, 120 s each.
    assert impatient.abandon_rate(Q) == pytest.approx(1 / 360, rel=0.05)


def test_callers_answered_at_once_do_not_dilute_the_abandon_rate() -> None:
    est = WaitEstimator()
    _feed_waits(est, 300, 60.0, abandon_every=2)
    before = est.abandon_rate(Q)
    for i in range(5000):
        est.on_answer(Q, f"quiet{i}", 0.0, 1e5 + i)
    assert est.abandon_rate(Q) == before


# -- learning -------------------------------------------------------------------


def test_handle_time_converges_on_a_constant_stream() -> None:
    est = WaitEstimator()
    for i in range(3000):
        est.on_complete(Q, f"c{i}", 120.0, 30.0, float(i))
    assert est.handle_time(Q) == pytest.approx(150.0, rel=1e-3)
    assert est.rate_estimate(Q, 1, 1, 0) == pytest.approx(100.0, rel=1e-3)  # (1 - 1/3) * 150


def test_handle_time_learns_fast_at_first_then_follows_a_change() -> None:
    est = WaitEstimator()
    for i in range(20):
        est.on_complete(Q, f"a{i}", 100.0, 20.0, float(i))
    # After 20 calls the prior (300 s, worth 5 calls) weighs 1/5: 0.2*300 + 0.8*120.
    assert est.handle_time(Q) == pytest.approx(156.0, rel=1e-6)
    for i in range(3000):
        est.on_complete(Q, f"b{i}", 500.0, 100.0, 100.0 + i)
    assert est.handle_time(Q) == pytest.approx(600.0, rel=0.01)


def test_queues_learn_separately() -> None:
    est = WaitEstimator()
    for i in range(500):
        est.on_complete("kk", f"c{i}", 500.0, 100.0, float(i))
    assert est.handle_time("kk") == pytest.approx(600.0, rel=0.01)
    assert est.handle_time("ru") == PRIOR_HANDLE_S
    assert est.rate_estimate("kk", 10, 10, 0) > est.rate_estimate("ru", 10, 10, 0)


def test_state_is_bounded_whatever_the_traffic() -> None:
    est = WaitEstimator(WaitEstimatorConfig(history=50, draws=20))

    def traffic(start: int, calls: int) -> None:
        for i in range(start, start + calls):
            queue = ("ru", "kk", "egov")[i % 3]
            cid = f"call-{i}"
            est.on_join(queue, cid, float(i))
            if i % 7 == 0:
                est.on_abandon(queue, cid, 30.0, i + 30.0)
            else:
                est.on_answer(queue, cid, float(i % 90), i + 1.0)
                est.on_complete(queue, cid, 200.0 + i % 50, 25.0, i + 250.0)
            if i % 11 == 0:
                est.on_break(("lunch", "tea")[i % 2], 600.0 + i % 300, float(i))
            if i % 97 == 0:  # the simulation rebuilds its distributions after changes
                assert est.estimate(queue, QueueView.counts(1 + i % 40, 25, 0), i + 2.0) > 0

    traffic(0, 2000)
    tracemalloc.start()
    try:
        traffic(2000, 2000)
        base, _ = tracemalloc.get_traced_memory()
        traffic(4000, 20_000)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - base < 16_384  # bytes: nothing kept per call
    assert sorted(est._queues) == ["egov", "kk", "ru"]
    for stats in est._queues.values():
        assert not hasattr(stats, "__dict__")
        assert len(stats.talk.values) == len(stats.patience.values) == 50


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "staffed", "available"), [(0, 1, 0), (-3, 1, 0), (1, -1, 0), (1, 1, -1)]
)
def test_estimate_rejects_impossible_counts(position: int, staffed: int, available: int) -> None:
    with pytest.raises(ValueError):
        WaitEstimator().rate_estimate(Q, position, staffed, available)


def test_events_reject_impossible_durations() -> None:
    est = WaitEstimator()
    with pytest.raises(ValueError, match="waited"):
        est.on_answer(Q, "c", -1.0, 0.0)
    with pytest.raises(ValueError, match="waited"):
        est.on_abandon(Q, "c", math.inf, 0.0)
    with pytest.raises(ValueError, match="talk"):
        est.on_complete(Q, "c", math.nan, 10.0, 0.0)
    with pytest.raises(ValueError, match="wrap_up"):
        est.on_complete(Q, "c", 10.0, -5.0, 0.0)
    assert est.handle_time(Q) == PRIOR_HANDLE_S  # nothing half-learnt


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prior_handle_s": 0.0},
        {"prior_patience_s": -1.0},
        {"handle_alpha": 0.0},
        {"abandon_beta": 1.5},
        {"median_shift": 1.0},
        {"max_wait_s": math.nan},
    ],
)
def test_config_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        WaitEstimatorConfig(**kwargs)


# -- the baselines, by hand -------------------------------------------------------------


def test_asterisk_holdtime_by_hand(bench: ModuleType) -> None:
    ast = bench.AsteriskHoldtime()
    # recalc_holdtime: holdtime = (3 * holdtime + wait) >> 2, from 0, answered calls only.
    for i, wait in enumerate([100.0, 40.0, 0.0]):
        ast.on_join(Q, f"a{i}", 0.0)
        ast.on_answer(Q, f"a{i}", wait, wait)
    # (0 + 100) >> 2 = 25; (75 + 40) >> 2 = 28; (84 + 0) >> 2 = 21
    assert ast.holdtime[Q] == 21
    ast.on_join(Q, "lost", 0.0)
    ast.on_abandon(Q, "lost", 500.0, 500.0)
    ast.on_complete(Q, "a0", 900.0, 60.0, 1000.0)
    assert ast.holdtime[Q] == 21  # neither abandons nor talk time count
    ast.on_join(Q, "x", 1000.0)  # position 1
    ast.on_join(Q, "y", 1045.0)  # position 2
    # say_position: |holdtime - waited| (rounded to minutes when spoken)
    assert ast.estimate(Q, QueueView(2), 1050.0) == 16.0  # |21 - 5|
    assert ast.estimate(Q, QueueView(1), 1050.0) == 29.0  # |21 - 50|: the abs() of app_queue.c
    ast.on_answer(Q, "x", 60.0, 1060.0)
    assert ast.holdtime[Q] == (3 * 21 + 60) >> 2 == 30
    assert ast.estimate(Q, QueueView(1), 1060.0) == 15.0  # y is first now: |30 - 15|


def test_vicidial_estimate_by_hand(bench: ModuleType) -> None:
    vici = bench.VicidialEstimate()
    assert vici.estimate(Q, QueueView(1), 0.0) == 10.0  # no history: H = 1, floor of 10 s
    for i, wait in enumerate([10.0, 20.0, 30.0, 40.0, 50.0, 60.0]):
        vici.on_join(Q, f"old{i}", 0.0)
        if i % 2:
            vici.on_answer(Q, f"old{i}", wait, wait)
        else:
            vici.on_abandon(Q, f"old{i}", wait, wait)  # drops count too
    # The last five: 20..60, mean 40, H = int(40 + 1) = 41.
    for cid, joined in (("p1", 0.0), ("p2", 10.0), ("p3", 50.0), ("p4", 95.0)):
        vici.on_join(Q, cid, joined)
    now = 100.0  # waits: 100, 90, 50, 5
    # p3: live waits >= 41 at positions 1..3: 100, 90, 50 -> L = int(80 + 1) = 81,
    # (81 + 41) // 2 = 61, minus its own 50 s -> 11.
    assert vici.estimate(Q, QueueView(3), now) == 11.0
    # p1: L = int(100 + 1) = 101, (101 + 41) // 2 = 71, 71 - 100 < 10 -> 10.
    assert vici.estimate(Q, QueueView(1), now) == 10.0
    # p4: the same three long waiters (p4 waited 5 s < 41), 61 - 5 = 56.
    assert vici.estimate(Q, QueueView(4), now) == 56.0


# -- the simulation ---------------------------------------------------------------


def test_bench_quick_run_prints_finite_figures(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    rows = {}
    for name in ("bailanys", "asterisk", "vicidial"):
        match = re.search(rf"^{name}\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)$", out, re.MULTILINE)
        assert match, f"no pooled row for {name}:\n{out}"
        n, mae, p90, bias = match.groups()
        rows[name] = (int(n), float(mae), float(p90), float(bias))
        assert int(n) > 100
        assert all(math.isfinite(float(x)) for x in (mae, p90, bias))
        assert 0 < float(mae) <= float(p90)
    assert len({r[0] for r in rows.values()}) == 1  # the same announcements for all three
    ratio = re.search(r"^MAE ours/asterisk: median over 1 day (\S+) ", out, re.MULTILINE)
    assert ratio and math.isfinite(float(ratio.group(1)))
    assert re.search(r"^target: .*: (MET|NOT MET)$", out, re.MULTILINE)
    assert re.search(r"^floor\s+\d+\s+\d+\.\d", out, re.MULTILINE)


def test_simulation_is_reproducible_and_fair(bench: ModuleType) -> None:
    tiny = bench.replace(bench.DEFAULT, scale=0.1)
    first = bench.simulate(7, 1, tiny)
    again = bench.simulate(7, 1, tiny)
    assert [r.actual for r in first] == [r.actual for r in again]
    assert [r.estimates for r in first] == [r.estimates for r in again]
    day = first[0]
    assert day.offered > 0 and day.waited > 0
    assert all(len(e) == len(day.actual) for e in day.estimates)
    assert all(a >= 0 for a in day.actual)
    # The engine's estimator is the code under test, not a copy.
    assert bench.WaitEstimator is WaitEstimator
