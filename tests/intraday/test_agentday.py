"""One agent's period (bailanys/intraday/agentday.py): calls with masked
numbers, AHT = (talk + hold + wrap-up) / handled, occupancy over staffed
time, breaks with reasons, login; states across the period's edges."""

from __future__ import annotations

import datetime as dt

import pytest

from bailanys.intraday.agentday import aht, fold_agent, mask_number, occupancy
from bailanys.store.events import Event
from tests.intraday.helpers import answered_call, as_events, at, state


def test_the_formulas_of_docs_kpi_and_no_data_without_a_denominator() -> None:
    assert aht(200.0, 20.0, 80.0, 2) == 150.0
    assert aht(0.0, 0.0, 0.0, 0) is None
    assert occupancy({"available": 300, "on_call": 200, "wrap_up": 50, "ringing": 50,
                      "break": 1000, "logged_out": 5000}) == 50.0
    assert occupancy({"break": 100}) is None


@pytest.mark.parametrize(("number", "shown"), [
    ("77011234567", "*******4567"), ("1234", "****"), ("anonymous", "anonymous"), ("", "")])
def test_numbers_show_their_last_four_digits_only(number: str, shown: str) -> None:
    assert mask_number(number) == shown


def day_of_1001() -> list[Event]:
    timed = [(at(8, 55), state("1001", "available", "logged_out"))]
    timed += answered_call("c1", "1001", at(9, 0), 20.0, 100.0, 30.0, leg="l1",
                           hold=(10.0, 15.0))
    timed += answered_call("c2", "1001", at(9, 10), 10.0, 200.0, 50.0, queue="pension",
                           outcome="not_resolved", caller="77479876543")
    timed += [(at(11, 0), state("1001", "break", "available", "lunch")),
              (at(11, 45), state("1001", "available", "break")),
              (at(12, 0), state("1001", "break", "available", "training"))]
    timed += answered_call("other", "1002", at(9, 1), 5.0, 50.0, 10.0)
    return as_events(sorted(timed, key=lambda p: p[0]))


def test_a_day_of_calls_holds_wrap_ups_and_breaks() -> None:
    start, now = at(0), at(12, 30)
    day = fold_agent("1001", day_of_1001(), start, now)
    out = day.to_json()
    assert [c["call_id"] for c in out["calls"]] == ["c1", "c2"]
    c1, c2 = out["calls"]
    assert c1 == {"call_id": "c1", "time": at(9, 0, 20), "queue": "support", "waited": 20.0,
                  "duration": 100.0, "talk": 100.0, "hold": 15.0, "wrap_up": 30.0,
                  "outcome": "resolved", "ended_by": "caller", "caller": "*******4567"}
    assert (c2["queue"], c2["outcome"], c2["caller"]) == ("pension", "not_resolved",
                                                           "*******6543")
    assert out["handled"] == 2 and out["answered"] == 2
    assert (out["talk_s"], out["hold_s"], out["wrap_up_s"]) == (300.0, 15.0, 80.0)
    assert out["aht_s"] == round((300 + 15 + 80) / 2, 1)
    # staffed 8:55-11:00 and 11:45-12:00; busy: ringing 1 s + talk + wrap-up per call
    busy = 2 * 1 + 300 + 80
    staffed = (at(11) - at(8, 55)) + 15 * 60
    assert out["occupancy_pct"] == round(100 * busy / staffed, 1)
    assert out["breaks"] == [
        {"start": at(11), "end": at(11, 45), "reason": "lunch", "seconds": 2700.0,
         "running": False},
        {"start": at(12), "end": now, "reason": "training", "seconds": 1800.0,
         "running": True}]
    assert out["break_s"] == 4500.0
    assert out["first_login"] == at(8, 55)
    assert out["logged_in_s"] == now - at(8, 55)
    assert (out["state"], out["state_since"]) == ("break", at(12))
    assert "77011234567" not in str(out)


def test_a_queue_filter_keeps_that_queues_calls() -> None:
    day = fold_agent("1001", day_of_1001(), at(0), at(12, 30), queue="pension")
    assert [c.call_id for c in day.calls] == ["c2"]
    assert day.aht() == 250.0


def test_a_call_still_talking_counts_as_answered_not_handled() -> None:
    events = [e for e in day_of_1001() if e.ts <= at(9, 1)]
    day = fold_agent("1001", events, at(0), at(9, 1))
    (call,) = day.calls
    assert call.talk is None and day.handled == [] and day.aht() is None
    assert call.to_json(at(9, 1))["duration"] == 40.0
    assert day.state == "on_call"


def test_a_state_from_before_the_period_counts_from_its_start() -> None:
    # logged in on a break since yesterday; back at 00:10
    events = as_events([(at(0, 10), state("1001", "available", "break"))])
    day = fold_agent("1001", events, at(0), at(0, 20), initial=("break", "meeting"))
    assert day.first_login == at(0)
    assert [(b.start, b.end, b.reason) for b in day.breaks] == [(at(0), at(0, 10), "meeting")]
    assert day.seconds == {"break": 600.0, "available": 600.0}
    assert day.occupancy() == 0.0


def test_a_wrap_up_crossing_the_periods_end_counts_up_to_it() -> None:
    timed = answered_call("c9", "1001", at(23, 50), 10.0, 280.0, 600.0)
    end = at(0, 0, day=dt.date(2026, 12, 5))
    day = fold_agent("1001", as_events(timed), at(0), end)
    (call,) = day.calls
    assert call.wrap_up == end - (at(23, 50) + 290.0)
    assert day.seconds["wrap_up"] == call.wrap_up
    assert day.state == "wrap_up"


def test_other_agents_and_unknown_fields_are_ignored() -> None:
    day = fold_agent("1003", day_of_1001(), at(0), at(12, 30))
    assert day.calls == [] and day.first_login is None and day.seconds == {
        "logged_out": at(12, 30) - at(0)}
