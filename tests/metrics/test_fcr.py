"""FCR (item 3.16, Appendix 1 item 4), folded incrementally and per request:
the first contact of a number on a topic opens a request, resolved at once
if its disposition says so; a repeat within 7 days takes that back and opens
nothing. ``KpiConfig(fcr_per_call=True)`` keeps the older per-call reading."""

from __future__ import annotations

import pytest

from bailanys.metrics.fold import KpiConfig, KpiFold
from bailanys.metrics.snapshot import Counts, KpiSnapshot
from bailanys.store.events import Event
from tests.metrics.mhelpers import Log

DAY = 86_400.0
NUMBER = "+77011112233"


def snap(log: Log, config: KpiConfig | None = None) -> KpiSnapshot:
    fold = KpiFold(config)
    for event in sorted(log.events, key=lambda e: e.ts):
        fold.apply(event)
    return fold.snapshot(max(e.ts for e in log.events) + 1)


def fcr(counts: Counts) -> tuple[int, int, int, int]:
    """(dispositions, resolved, fcr, repeats)."""
    return counts.dispositions, counts.resolved, counts.fcr, counts.repeats


PER_CALL = KpiConfig(fcr_per_call=True)


def contact(log: Log, day: float, call: str, *, number: str | None = NUMBER,
            topic: str | None = "passport", resolved: bool = True, lang: str = "kk",
            queue: str = "egov") -> None:
    log.login(day * DAY, f"a-{call}")
    log.answered(day * DAY, call, number=number, topic=topic, resolved=resolved, lang=lang,
                 queue=queue, agent=f"a-{call}")


def test_a_repeat_within_seven_days_makes_the_request_not_fcr_and_opens_none() -> None:
    log = Log()
    contact(log, 0, "c1")
    contact(log, 3, "c2")
    s = snap(log)
    assert fcr(s.total.counts) == (2, 2, 0, 1)
    assert s.total.counts.requests == 1
    assert s.total.kpi("fcr_pct").value == pytest.approx(0.0)
    assert s.total.kpi("fcr_pct").samples == 1


def test_per_call_option_counts_the_repeat_on_its_own_merit() -> None:
    log = Log()
    contact(log, 0, "c1")
    contact(log, 3, "c2")
    s = snap(log, PER_CALL)
    assert fcr(s.total.counts) == (2, 2, 1, 1)
    assert s.total.counts.requests == 2
    assert s.total.kpi("fcr_pct").value == pytest.approx(50.0)


def test_requests_not_calls_are_the_denominator() -> None:
    """Three callers; one calls three times about the same passport: three
    requests, two resolved at the first contact (the per-call reading would
    give 3 of 5)."""
    log = Log()
    contact(log, 0, "c1")
    contact(log, 1, "c2")
    contact(log, 2, "c3")
    contact(log, 0.5, "d1", number="+77015550001")
    contact(log, 0.6, "e1", number="+77015550002")
    s = snap(log)
    assert (s.total.counts.requests, s.total.counts.fcr) == (3, 2)
    assert s.total.kpi("fcr_pct").value == pytest.approx(200 / 3)
    assert snap(log, PER_CALL).total.kpi("fcr_pct").value == pytest.approx(60.0)


def test_an_unresolved_first_contact_is_not_fcr_even_if_the_repeat_resolves() -> None:
    log = Log()
    contact(log, 0, "c1", resolved=False)
    contact(log, 1, "c2")
    s = snap(log)
    assert (s.total.counts.requests, s.total.counts.fcr, s.total.counts.repeats) == (1, 0, 0)
    assert fcr(snap(log, PER_CALL).total.counts) == (2, 1, 1, 0)


def test_the_window_runs_from_the_requests_first_contact() -> None:
    log = Log()
    contact(log, 0, "c1")
    contact(log, 5, "c2")  # a repeat: c1 not FCR
    contact(log, 8, "c3")  # 8 days after c1: a new request, resolved
    s = snap(log)
    assert (s.total.counts.requests, s.total.counts.fcr) == (2, 1)


def test_repeat_after_the_window_keeps_it() -> None:
    log = Log()
    contact(log, 0, "c1")
    contact(log, 7.5, "c2")
    assert fcr(snap(log).total.counts) == (2, 2, 2, 0)
    assert snap(log).total.counts.requests == 2


def test_window_is_configurable() -> None:
    log = Log()
    contact(log, 0, "c1")
    contact(log, 1.5, "c2")
    assert fcr(snap(log, KpiConfig(fcr_window_s=DAY)).total.counts) == (2, 2, 2, 0)


@pytest.mark.parametrize(
    ("second", "requests"),
    [
        ({"topic": "id_card"}, 2),  # another topic: a new question
        ({"number": "+77019998877"}, 2),  # another caller
        ({"number": "87011112233"}, 1),  # the same caller, dialled nationally
        ({"topic": None, "queue": "passport"}, 1),  # no topic: the queue's name is the topic
    ],
)
def test_what_counts_as_the_same_caller_and_topic(second: dict[str, object],
                                                   requests: int) -> None:
    log = Log()
    contact(log, 0, "c1")
    contact(log, 2, "c2", **second)  # type: ignore[arg-type]
    counts = snap(log).total.counts
    assert (counts.requests, counts.fcr) == (requests, 2 if requests == 2 else 0)
    assert snap(log, PER_CALL).total.counts.fcr == (2 if requests == 2 else 1)


def test_per_call_only_the_last_resolved_contact_is_taken_back() -> None:
    log = Log()
    contact(log, 0, "c1")
    contact(log, 2, "c2")  # takes c1 back
    contact(log, 4, "c3")  # takes c2 back; c1 is already out
    contact(log, 12, "c4")  # 8 days after c3: keeps it
    assert fcr(snap(log, PER_CALL).total.counts) == (4, 4, 2, 2)
    # per request: c1 opens one (taken back once), c4 (12 days on) another
    s = snap(log)
    assert (s.total.counts.requests, s.total.counts.fcr, s.total.counts.repeats) == (2, 1, 1)


def test_unanswered_repeats_count_short_abandons_do_not() -> None:
    log = Log()
    contact(log, 0, "c1", topic=None)  # topic: the queue, egov
    log.abandoned(1 * DAY, "x1", number=NUMBER, wait=3)  # short: a misdial
    assert snap(log).total.counts.fcr == 1
    log.abandoned(2 * DAY, "x2", number=NUMBER, wait=45)  # gave up: the question is open
    assert fcr(snap(log).total.counts) == (1, 1, 0, 1)


def test_a_final_timeout_is_a_repeat_too() -> None:
    log = Log()
    contact(log, 0, "c1", topic=None)
    log.timed_out(1 * DAY, "x1", number=NUMBER, wait=300)
    assert snap(log).total.counts.fcr == 0


def test_take_back_hits_the_scopes_of_the_first_contact() -> None:
    log = Log()
    contact(log, 0, "c1", lang="kk", queue="egov")
    contact(log, 1, "c2", lang="ru", queue="general")
    s = snap(log)
    kk, ru = s.scope("language", "kk"), s.scope("language", "ru")
    egov, general = s.scope("queue", "egov"), s.scope("queue", "general")
    topic = s.scope("topic", "passport")
    assert kk and ru and egov and general and topic
    assert fcr(kk.counts) == fcr(egov.counts) == (1, 1, 0, 1)
    assert fcr(ru.counts) == fcr(general.counts) == (1, 1, 0, 0)
    assert fcr(topic.counts) == (2, 2, 0, 1)
    assert (kk.counts.requests, ru.counts.requests, topic.counts.requests) == (1, 0, 1)


def test_anonymous_callers_cannot_be_recognised() -> None:
    log = Log()
    contact(log, 0, "c1", number=None)
    contact(log, 1, "c2", number=None)
    assert fcr(snap(log).total.counts) == (2, 2, 2, 0)


def test_a_second_disposition_for_a_call_is_ignored() -> None:
    log = Log()
    log.login(0, "a1")
    log.answered(0, "c1", number=NUMBER, agent="a1", scores=(5, 5, 5))  # ends at 75 + 6
    for t, resolved in ((76, True), (77, False)):
        log.ev(t, "call.disposition", "c1", queue="egov", agent="a1", resolved=resolved,
               topic="passport")
    s = snap(log)
    assert fcr(s.total.counts) == (1, 1, 1, 0)
    assert s.scope("topic", "other") is None


def test_contacts_out_of_the_window_are_forgotten() -> None:
    log = Log()
    for i in range(50):
        contact(log, i * 0.5, f"c{i}", number=f"+7701000{i:04d}")
    fold = KpiFold()
    for event in sorted(log.events, key=lambda e: e.ts):
        fold.apply(event)
    assert fold.sizes["contacts"] == 14  # two callers a day: the last 7 days' worth
    fold.apply(Event(None, log.t0 + 40 * DAY, "tick", None, {}))
    assert fold.sizes["contacts"] == 0
