"""KPI 2 (Appendix 1 item 2) from ``qa.scored`` / ``qa.reviewed``: the counts,
corrections counted once per window, scopes, memory, targets, /metrics, and
the live windows against recomputation from the stored events."""

from __future__ import annotations

import random

import pytest

from bailanys.events.base import encode
from bailanys.events.qa import QaReviewed, QaScored
from bailanys.metrics.fold import KpiConfig, KpiFold
from bailanys.metrics.formulas import values
from bailanys.metrics.prometheus import KpiCollector, make_registry, render
from bailanys.metrics.snapshot import Counts, KpiSnapshot, Status
from bailanys.metrics.targets import ACCURACY_PCT, KpiTargets
from bailanys.metrics.windows import KpiWindows, recompute
from bailanys.store.events import Event
from tests.metrics.mhelpers import T0
from tests.metrics.sim import simulate
from tests.metrics.test_prometheus import key, parse
from tests.metrics.test_windows import feed, local, same


def scored(t: float, call: str, passed: bool, *, queue: str | None = "egov",
           language: str | None = "kk", t0: float = T0) -> Event:
    failed = () if passed else ("no_personal_data",)
    event = QaScored(call_id=call, scorecard="default", scorecard_version=1,
                     total=90.0 if passed else 40.0, passed=passed, failed=failed,
                     critical_failed=failed, results={}, agent="1001", queue=queue,
                     language=language)
    return Event(None, t0 + t, *encode(event))


def reviewed(t: float, call: str, passed: bool, *, counted: bool = True,
             previous: bool | None = None, revision: int = 1, queue: str | None = "egov",
             language: str | None = "kk", t0: float = T0) -> Event:
    failed = () if passed else ("information_accurate",)
    event = QaReviewed(call_id=call, review=revision, revision=revision, reviewer="qa1",
                       scorecard="default", scorecard_version=1, total=80.0, passed=passed,
                       critical_failed=failed, counted=counted, previous_passed=previous,
                       agent="1001", queue=queue, language=language)
    return Event(None, t0 + t, *encode(event))


def fold(events: list[Event], config: KpiConfig | None = None) -> KpiFold:
    f = KpiFold(config)
    for event in events:
        f.apply(event)
    return f


def counts(snap: KpiSnapshot | None, kind: str = "total", name: str = "") -> Counts:
    assert snap is not None
    scope = snap.scope(kind, name)
    assert scope is not None, (kind, name)
    return scope.counts


def qa(c: Counts) -> tuple[int, int, int, int]:
    return c.reviewed, c.reviewed_passed, c.scored, c.scored_passed


# --- formulas and targets -----------------------------------------------------------------


def test_formulas_are_the_shares_of_passed_contacts() -> None:
    v = values(Counts(reviewed=8, reviewed_passed=7, scored=200, scored_passed=150))
    assert v["accuracy_pct"] == (87.5, 8)
    assert v["accuracy_auto_pct"] == (75.0, 200)
    assert values(Counts())["accuracy_pct"] == (None, 0)  # no review: no data, never 0
    assert values(Counts())["accuracy_auto_pct"] == (None, 0)


def test_both_shares_carry_appendix_1_item_2() -> None:
    t = KpiTargets()
    assert t.accuracy_pct is t.accuracy_auto_pct is ACCURACY_PCT
    assert (ACCURACY_PCT.limit, ACCURACY_PCT.goal) == (80.0, 85.0)
    assert "item 2" in ACCURACY_PCT.source
    for name in ("accuracy_pct", "accuracy_auto_pct"):
        assert t.status(name, 79.9) is Status.BREACH
        assert t.status(name, 80.0) is Status.WARNING
        assert t.status(name, 88.0) is Status.WITHIN
        assert t.status(name, None) is Status.NO_DATA


# --- counting -----------------------------------------------------------------------------


def test_scored_and_reviewed_count_in_their_scopes() -> None:
    f = fold([
        scored(0, "c1", True), scored(1, "c2", False), scored(2, "c3", True, queue="pension",
                                                              language="ru"),
        scored(3, "c4", True, queue=None, language=None),
        reviewed(10, "c1", True), reviewed(11, "c2", False),
        reviewed(12, "c3", False, queue="pension", language="ru"),
        reviewed(13, "c2", True, counted=False),  # a calibration review: not KPI 2's
    ])
    snap = f.snapshot(T0 + 20)
    assert qa(counts(snap)) == (3, 1, 4, 3)
    assert qa(counts(snap, "queue", "egov")) == (2, 1, 2, 1)
    assert qa(counts(snap, "queue", "pension")) == (1, 0, 1, 1)
    assert qa(counts(snap, "language", "kk")) == (2, 1, 2, 1)
    assert qa(counts(snap, "language", "unknown")) == (0, 0, 1, 1)
    total = snap.total
    assert total.kpi("accuracy_pct").value == pytest.approx(100 / 3)
    assert total.kpi("accuracy_pct").status is Status.BREACH
    assert (total.kpi("accuracy_auto_pct").value, total.kpi("accuracy_auto_pct").samples) == (
        75.0, 4)
    assert snap.scope("topic", "egov") is None  # the QA events name no topic


def test_a_correction_counts_the_call_once_per_its_latest_review() -> None:
    f = fold([reviewed(0, "c1", True), reviewed(5, "c1", False, previous=True, revision=2),
              reviewed(9, "c1", True, previous=False, revision=3)])
    assert qa(counts(f.snapshot(T0 + 10))) == (1, 1, 0, 0)
    f.apply(reviewed(12, "c1", False, previous=True, revision=4))
    c = counts(f.snapshot(T0 + 20))
    assert qa(c) == (1, 0, 0, 0)
    assert qa(counts(f.snapshot(T0 + 20), "queue", "egov")) == (1, 0, 0, 0)
    assert f.sizes["reviews"] == 1


def test_a_correction_in_a_later_window_never_goes_negative() -> None:
    """The review at 10:05 passed; its correction at 10:20 fails it. The
    10:00 interval keeps what it counted; the 10:15 interval, which did not
    count the original, counts the call once (failed); today adjusts."""
    windows = KpiWindows()
    feed(windows, [reviewed(300, "c1", True), reviewed(1200, "c1", False, previous=True,
                                                       revision=2)])
    prev = windows.previous_interval
    assert prev is not None and qa(counts(prev)) == (1, 1, 0, 0)
    now = T0 + 1300
    assert qa(counts(windows.snapshot("interval", now))) == (1, 0, 0, 0)
    assert qa(counts(windows.snapshot("today", now))) == (1, 0, 0, 0)
    assert qa(counts(windows.snapshot("live", now))) == (1, 0, 0, 0)
    # and a correction back to passed: the 10:15 interval adjusts, still one call
    windows.apply(reviewed(1250, "c1", True, previous=False, revision=3))
    assert qa(counts(windows.snapshot("interval", now))) == (1, 1, 0, 0)
    # a stored period that saw only the correction counts it as the call's review
    period = recompute([e for e in [reviewed(1200, "c1", False, previous=True)]],
                       T0 + 900, T0 + 1800)
    assert qa(counts(period)) == (1, 0, 0, 0)


def test_a_forgotten_review_is_not_counted_twice() -> None:
    config = KpiConfig(review_memory_s=3600.0)
    windows = KpiWindows(config)
    feed(windows, [reviewed(0, "c1", True), reviewed(1800, "c2", True),
                   reviewed(7200, "c3", True)])  # 12:00: c1 and c2 forgotten
    assert windows.fold.sizes["reviews"] == 1
    windows.apply(reviewed(7300, "c1", False, previous=True, revision=2))
    now = T0 + 7400
    # live and today counted c1's original: unsure, unchanged (never twice)
    assert qa(counts(windows.snapshot("live", now))) == (3, 3, 0, 0)
    assert qa(counts(windows.snapshot("today", now))) == (3, 3, 0, 0)
    # the 12:00 interval opened after every forgotten review: it counts the correction
    assert qa(counts(windows.snapshot("interval", now))) == (2, 1, 0, 0)
    with pytest.raises(ValueError):
        KpiConfig(review_memory_s=-1)


def test_malformed_qa_events_are_read_defensively() -> None:
    f = fold([
        Event(None, T0, "qa.scored", "c1", {"passed": "yes", "queue": 7}),
        Event(None, T0 + 1, "qa.reviewed", "c1", {"counted": 1, "passed": True}),
        Event(None, T0 + 2, "qa.reviewed", None, {"counted": True, "passed": True}),
        Event(None, T0 + 3, "qa.reviewed", "c2", {"counted": True, "passed": True,
                                                   "previous_passed": "no"}),
    ])
    snap = f.snapshot(T0 + 5)
    assert qa(counts(snap)) == (1, 1, 1, 0)  # only c2's review; "yes" is not true
    assert snap.scope("queue", "7") is None


# --- /metrics -----------------------------------------------------------------------------


def test_exposition_has_kpi_2_and_its_auto_share() -> None:
    windows = KpiWindows()
    feed(windows, [scored(0, "c1", True), scored(1, "c2", False), reviewed(5, "c1", True),
                   reviewed(6, "c1", False, previous=True, revision=2)])
    samples = parse(render(make_registry(KpiCollector(lambda: windows.snapshots(T0 + 10)))))
    ratio, status = "bailanys_kpi_ratio", "bailanys_kpi_status"
    labels = {"window": "live", "scope": "total", "name": ""}
    assert samples[key(ratio, **labels, kpi="accuracy")] == 0.0
    assert samples[key(ratio, **labels, kpi="accuracy_auto")] == 0.5
    assert samples[key(status, **labels, kpi="accuracy")] == 2
    assert samples[key(ratio, window="today", scope="queue", name="egov",
                       kpi="accuracy_auto")] == 0.5
    total = "bailanys_kpi_counted_total"
    assert samples[key(total, scope="total", name="", count="reviewed")] == 1
    assert samples[key(total, scope="language", name="kk", count="scored_passed")] == 1
    assert key(total, scope="total", name="", count="reviewed_passed") not in samples
    assert samples[key("bailanys_kpi_counted", **labels, count="reviewed_passed")] == 0


# --- live against recomputation -------------------------------------------------------------


def with_qa(events: list[Event], seed: int) -> list[Event]:
    """The simulated centre's answered calls scored and reviewed as the
    pipeline and the reviewers would: scored minutes after the call,
    reviewed later (some across intervals and midnight), calibration reviews
    not counted, corrections, flip-flopping ones."""
    rng = random.Random(seed)
    extra: list[Event] = []
    for e in events:
        if e.type != "call.completed" or e.call_id is None:
            continue
        call, queue = e.call_id, str(e.data.get("queue"))
        language = rng.choice(("kk", "ru", None))
        t = e.ts + rng.uniform(30, 600)
        extra.append(scored(t, call, rng.random() < 0.8, queue=queue, language=language,
                            t0=0.0))
        if rng.random() < 0.5:
            continue
        passed = rng.random() < 0.8
        t += rng.uniform(60, 3000)
        extra.append(reviewed(t, call, passed, queue=queue, language=language, t0=0.0))
        if rng.random() < 0.2:
            extra.append(reviewed(t + rng.uniform(1, 900), call, not passed, counted=False,
                                  queue=queue, language=language, t0=0.0))
        for revision in range(2, 2 + rng.choice((0, 0, 1, 2))):
            again = rng.random() < 0.5
            t += rng.uniform(10, 2400)
            extra.append(reviewed(t, call, again, previous=passed, revision=revision,
                                  queue=queue, language=language, t0=0.0))
            passed = again
    return sorted([*events, *extra], key=lambda ev: ev.ts)


@pytest.mark.parametrize(
    ("seed", "start", "memory_s"),
    [
        (21, T0 - 600, None),
        (22, local(2025, 3, 3, 23, 20), None),  # reviews and corrections across midnight
        (23, T0 + 433.25, 1800.0),  # corrections of forgotten reviews
    ],
)
def test_live_kpi_2_equals_recomputation(seed: int, start: float, memory_s: float | None) -> None:
    config = KpiConfig() if memory_s is None else KpiConfig(review_memory_s=memory_s)
    events = with_qa(simulate(seed, start, calls=100, agents=5, minutes=60), seed)
    windows = KpiWindows(config)
    closed = feed(windows, events)
    assert len(closed) >= 4
    for snap in closed:
        assert snap.start is not None
        assert same(snap, recompute(events, snap.start, snap.now, config))
        for scope in snap.scopes:
            assert 0 <= scope.counts.reviewed_passed <= scope.counts.reviewed
            assert 0 <= scope.counts.scored_passed <= scope.counts.scored
    now = events[-1].ts + 1.0
    snaps = windows.snapshots(now)
    assert same(snaps["live"], recompute(events, events[0].ts, now, config))
    for name in ("interval", "today"):
        begin = snaps[name].start
        assert begin is not None and same(snaps[name], recompute(events, begin, now, config))
    total = snaps["live"].total.counts
    reviewed_calls = {e.call_id for e in events if e.type == "qa.reviewed"
                      and e.data["counted"]}
    if memory_s is None:  # every call once, per its latest counted review
        latest = {e.call_id: e.data["passed"] for e in events
                  if e.type == "qa.reviewed" and e.data["counted"]}
        assert total.reviewed == len(reviewed_calls)
        assert total.reviewed_passed == sum(latest.values())
    assert total.scored == sum(1 for e in events if e.type == "qa.scored") > 20
    assert any(e.type == "qa.reviewed" and "previous_passed" in e.data for e in events)


def test_kpi_2_counters_never_go_down() -> None:
    """Corrections either way and a correction the next day: the ``_total``
    families (rate() needs them monotonic) only grow."""
    windows = KpiWindows()
    stream = [scored(0, "c1", True), reviewed(60, "c1", True),
              reviewed(120, "c1", False, previous=True, revision=2),
              scored(130, "c2", False), reviewed(200, "c2", False),
              reviewed(86_400, "c2", True, previous=False, revision=2),
              reviewed(86_500, "c1", True, previous=False, revision=3)]
    before: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for event in stream:
        windows.apply(event)
        now = event.ts
        page = render(make_registry(KpiCollector(lambda now=now: windows.snapshots(now))))
        counters = {k: v for k, v in parse(page).items() if k[0].endswith("_total")}
        for k, v in before.items():
            assert counters.get(k, 0.0) >= v, k
        before = counters
    assert before[key("bailanys_kpi_counted_total", scope="total", name="",
                      count="reviewed")] == 2
