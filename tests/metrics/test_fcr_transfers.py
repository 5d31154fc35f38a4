"""FCR leaves transferred contacts unresolved (issue 19; the 1414 profile:
FCR counts calls solved "without a transfer to another specialist"), and a
transferred call is answered and handled once in the totals."""

from __future__ import annotations

import pytest

from bailanys.metrics.fold import KpiFold
from bailanys.metrics.snapshot import KpiSnapshot
from tests.metrics.mhelpers import Log

NUMBER = "+77011112233"


def snap(log: Log) -> KpiSnapshot:
    fold = KpiFold()
    for event in sorted(log.events, key=lambda e: e.ts):
        fold.apply(event)
    return fold.snapshot(max(e.ts for e in log.events) + 1)


def test_resolved_untransferred_contact_counts() -> None:
    log = Log()
    log.login(0, "a1")
    log.answered(0, "c1", number=NUMBER, resolved=True, topic="passport")
    c = snap(log).total.counts
    assert (c.requests, c.fcr) == (1, 1)


@pytest.mark.parametrize("how", ["event_before", "event_after", "outcome"])
def test_transferred_contact_is_a_request_never_first_contact_resolved(how: str) -> None:
    log = Log()
    log.login(0, "a1")
    if how == "event_before":
        log.ev(30, "call.transferred", "c1", queue="egov", agent="a1", mode="blind",
               target="second", target_kind="queue", via="phone")
    log.answered(0, "c1", number=NUMBER, resolved=True, topic="passport")
    if how == "event_after":  # disposed (t=77) before the transfer, the call still up
        log.ev(77.5, "call.transferred", "c1", queue="egov", agent="a1", mode="blind",
               target="second", target_kind="number", via="desktop")
    if how == "outcome":
        log.ev(400, "call.disposition", "c2", queue="egov", agent="a1", resolved=True,
               topic="x", outcome="transferred")
    s = snap(log)
    c = s.total.counts
    if how == "outcome":
        assert (c.requests, c.fcr, c.dispositions) == (2, 1, 2)  # c2's transfer not resolved
    else:
        assert (c.requests, c.fcr, c.resolved) == (1, 0, 1)
        assert s.total.kpi("fcr_pct").value == pytest.approx(0.0)
        egov = s.scope("queue", "egov")
        assert egov is not None and egov.counts.fcr == 0


def test_transferred_call_is_answered_and_handled_once() -> None:
    log = Log()
    log.login(0, "a1", "a2")
    log.arrive(0, "c1", NUMBER, "egov", "kk")
    log.ev(5, "call.connected", "c1", queue="egov", agent="a1", waited=5.0, orig_position=1)
    log.ev(40, "call.transferred", "c1", queue="egov", agent="a1", mode="blind",
           target="second", target_kind="queue", via="desktop")
    log.ev(40, "call.completed", "c1", queue="egov", agent="a1", waited=5.0, talk=35.0,
           by="agent", orig_position=1)
    log.ev(40, "queue.joined", "c1", queue="second", language="kk", position=1)
    log.ev(52, "call.connected", "c1", queue="second", agent="a2", waited=12.0,
           orig_position=1)
    log.ev(100, "call.completed", "c1", queue="second", agent="a2", waited=12.0, talk=48.0,
           by="agent", orig_position=1)
    s = snap(log)
    total = s.total.counts
    assert (total.offered, total.answered, total.handled) == (1, 1, 1)
    assert total.answered_wait_total == pytest.approx(5.0)  # KPI 1: the first queue's wait
    assert total.talk_total == pytest.approx(83.0)
    scope = s.scope("queue", "second")
    assert scope is not None
    second = scope.counts
    assert (second.offered, second.answered, second.handled) == (1, 1, 1)
