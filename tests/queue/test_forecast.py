"""The simulation model of the wait estimator: its distributions, its futures,
and the estimator's use of what each agent is doing, on hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bailanys.queue.agents import AgentState
from bailanys.queue.estimator import (
    NO_AGENT_WAIT_S,
    AgentView,
    QueueView,
    WaitEstimator,
    WaitEstimatorConfig,
)
from bailanys.queue.forecast import Empirical, Survival, answer_times

Q = "1414-ru"
S = AgentState


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# -- distributions ------------------------------------------------------------------


def test_empirical_residual_is_what_is_left_of_a_longer_value() -> None:
    dist = Empirical([10.0, 20.0, 30.0, 40.0])
    rest = dist.residual(rng(), np.full(4000, 25.0))
    assert set(np.round(rest, 9)) == {5.0, 15.0}  # 30 - 25 or 40 - 25, never 10 or 20
    assert abs((rest == 5.0).mean() - 0.5) < 0.05
    whole = dist.draw(rng(), (4000,))
    assert set(whole) == {10.0, 20.0, 30.0, 40.0}


def test_empirical_beyond_the_largest_sample_is_an_exponential_tail() -> None:
    dist = Empirical([float(v) for v in range(1, 101)])  # top tenth: 91..100, excess mean 4.5
    assert dist.tail_mean == pytest.approx(4.5)
    rest = dist.residual(rng(), np.full(20000, 500.0))
    assert (rest > 0).all()
    assert rest.mean() == pytest.approx(4.5, rel=0.05)
    with pytest.raises(ValueError):
        Empirical([])


def test_kaplan_meier_by_hand() -> None:
    # waited 10 (hung up), 20 (answered), 30 (hung up), 40 (answered)
    km = Survival([30.0, 10.0, 40.0, 20.0], [True, True, False, False])
    assert list(km.times) == [10.0, 30.0]
    # S(10) = 3/4; at 30, 2 at risk, one hangs up: 3/4 * 1/2.
    assert list(km.surv) == pytest.approx([0.75, 0.375])


def test_remaining_patience_is_conditioned_on_the_wait_so_far() -> None:
    km = Survival([60.0] * 40, [True] * 40)  # everybody hangs up at 60 s
    rest = km.remaining(rng(), np.array([0.0, 59.0]), (100, 2))
    assert (rest[:, 0] == 60.0).all() and (rest[:, 1] == pytest.approx(1.0))
    # Past the last hang-up ever seen, or with none seen, a caller stays.
    assert np.isinf(km.remaining(rng(), np.array([61.0]), (10, 1))).all()
    none = Survival([30.0, 50.0], [False, False])
    assert np.isinf(none.remaining(rng(), np.array([0.0]), (10, 1))).all()


def test_answer_times_serve_fifo_and_skip_callers_who_hung_up() -> None:
    talk, wrap = Empirical([100.0]), Empirical([10.0])
    first = np.array([[5.0, 50.0]])  # two agents, free at 5 and 50 s
    patient = np.full((1, 2), np.inf)
    # Releases at 5, 50, 115, 160: the third caller in line takes the third.
    assert answer_times(rng(), first, talk, wrap, patient).tolist() == [115.0]
    # The first caller ahead hangs up after 1 s: one release sooner.
    gone = np.array([[1.0, np.inf]])
    assert answer_times(rng(), first, talk, wrap, gone).tolist() == [50.0]
    # Nobody ahead: the first agent free.
    assert answer_times(rng(), first, talk, wrap, np.zeros((1, 0))).tolist() == [5.0]
    # Deep in the line: each agent serves many callers (6 ahead: the 7th release).
    deep = np.full((1, 6), np.inf)
    # Agent A: 5, 115, 225, 335; agent B: 50, 160, 270 -> 7th is 335.
    assert answer_times(rng(), first, talk, wrap, deep).tolist() == [335.0]


# -- the estimator's simulation ------------------------------------------------------


def trained(talk: float = 100.0, wrap: float = 20.0, calls: int = 40) -> WaitEstimator:
    """An estimator past its warm-up, every call ``talk`` + ``wrap`` seconds."""
    est = WaitEstimator(WaitEstimatorConfig(draws=64))
    for i in range(calls):
        est.on_complete(Q, f"c{i}", talk, wrap, float(i))
    return est


def view(position: int, *agents: AgentView, waited: tuple[float, ...] = ()) -> QueueView:
    return QueueView(position, waited, agents)


def test_what_each_agent_is_doing_decides_the_wait() -> None:
    est = trained()
    assert est.estimate(Q, view(1, AgentView(S.ON_CALL, 90.0)), 0.0) == 30.0  # 10 talk + 20
    assert est.estimate(Q, view(1, AgentView(S.ON_CALL, 10.0)), 0.0) == 110.0
    assert est.estimate(Q, view(1, AgentView(S.WRAP_UP, 5.0)), 0.0) == 15.0
    assert est.estimate(Q, view(1, AgentView(S.RINGING, 3.0)), 0.0) == 120.0  # its caller first
    # The rate model sees one staffed agent in each case: one answer for all.
    assert QueueView.counts(1, 1, 0).staffed == view(1, AgentView(S.WRAP_UP, 5.0)).staffed


def test_breaks_end_as_breaks_of_that_reason_did() -> None:
    est = trained()
    for i in range(5):
        est.on_break("lunch", 2700.0, float(i))
        est.on_break("tea", 900.0, float(i))
    lunch = AgentView(S.BREAK, 2400.0, reason="lunch")
    assert est.estimate(Q, view(1, lunch), 0.0) == 300.0
    assert est.estimate(Q, view(1, AgentView(S.BREAK, 600.0, reason="tea")), 0.0) == 300.0
    # A break reason never seen to end is not counted on.
    odd = AgentView(S.BREAK, 10.0, reason="meeting")
    assert est.estimate(Q, view(1, odd), 0.0) == NO_AGENT_WAIT_S
    # A break asked for during the call comes after it.
    tired = AgentView(S.ON_CALL, 90.0, pause_after="tea")
    assert est.estimate(Q, view(1, tired), 0.0) == 30.0 + 900.0
    # The nearer of the two is the one that counts.
    assert est.estimate(Q, view(1, tired, lunch), 0.0) == 300.0


def test_an_agent_leaving_after_the_call_is_not_counted_on() -> None:
    est = trained()
    leaving = AgentView(S.ON_CALL, 90.0, leaving=True)
    assert est.estimate(Q, view(1, leaving), 0.0) == NO_AGENT_WAIT_S
    staying = AgentView(S.ON_CALL, 50.0)
    assert est.estimate(Q, view(1, leaving, staying), 0.0) == 70.0


def test_callers_ahead_who_will_hang_up_shorten_the_wait() -> None:
    est = trained()
    for i in range(40):
        est.on_abandon(Q, f"a{i}", 60.0, float(i))  # everybody hangs up at 60 s
    agent = AgentView(S.ON_CALL, 70.0, )  # free at 30 + 20 = 50 s
    # Two ahead who just joined: the first is served at 50 s, the second
    # hangs up at 60 s, this caller takes the next release at 170 s.
    fresh = est.estimate(Q, view(3, agent, waited=(0.0, 0.0, 0.0)), 0.0)
    assert fresh == 170.0
    # Two ahead about to give up: this caller is served at 50 s.
    tired = est.estimate(Q, view(3, agent, waited=(59.0, 59.0, 0.0)), 0.0)
    assert tired == 50.0


def test_a_free_agent_for_this_caller_means_no_wait() -> None:
    est = trained()
    free = AgentView(S.AVAILABLE)
    assert est.estimate(Q, view(1, free, AgentView(S.ON_CALL, 1.0)), 0.0) == 0.0
    assert est.estimate(Q, view(2, free, AgentView(S.ON_CALL, 90.0)), 0.0) == 30.0


def test_cold_start_is_the_rate_model() -> None:
    est = trained(calls=29)  # one short of min_history
    counts = QueueView.counts(5, 10, 0)
    assert est.estimate(Q, counts, 0.0) == est.rate_estimate(Q, 5, 10, 0)
    est.on_complete(Q, "c29", 100.0, 20.0, 30.0)
    assert est.estimate(Q, counts, 0.0) != est.rate_estimate(Q, 5, 10, 0)


def test_the_same_events_give_the_same_estimates() -> None:
    def run() -> list[float]:
        est = WaitEstimator()
        gen = np.random.default_rng(3)
        for i in range(300):
            est.on_complete(Q, f"c{i}", float(gen.lognormal(5, 0.7)), 30.0, float(i))
        agents = tuple(AgentView(S.ON_CALL, float(e)) for e in gen.uniform(0, 300, 12))
        return [est.estimate(Q, view(p, *agents, waited=(10.0,) * p), 0.0) for p in (1, 5, 30)]

    first = run()
    assert first == run()
    assert first[0] < first[1] < first[2] < math.inf


def test_bad_views_are_refused() -> None:
    est = trained()
    with pytest.raises(ValueError, match="position"):
        est.estimate(Q, view(0, AgentView(S.ON_CALL)), 0.0)
    with pytest.raises(ValueError, match="elapsed"):
        est.estimate(Q, view(1, AgentView(S.ON_CALL, -1.0)), 0.0)
    with pytest.raises(ValueError, match="waited"):
        est.estimate(Q, view(1, AgentView(S.ON_CALL), waited=(math.nan,)), 0.0)
    with pytest.raises(ValueError, match="duration"):
        est.on_break("lunch", -5.0, 0.0)
    with pytest.raises(ValueError):
        QueueView.counts(1, -1, 0)
    with pytest.raises(ValueError, match="draws"):
        WaitEstimatorConfig(draws=0)
