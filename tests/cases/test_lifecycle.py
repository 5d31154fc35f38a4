"""The status table of a request (issue 19): every transition allowed or refused."""

from __future__ import annotations

import pytest

from bailanys.cases.lifecycle import ALLOWED, OPEN, Status, decide

R, P, A, C, E = (Status.REGISTERED, Status.IN_PROGRESS, Status.ANSWERED, Status.CLOSED,
                 Status.ESCALATED)

#: The whole 5 x 5 table: True = allowed; otherwise a word of the reason.
TABLE: dict[Status, dict[Status, bool | str]] = {
    R: {R: "already", P: True, A: True, C: "only after it is answered", E: True},
    P: {R: "only the first", P: "already", A: True, C: "only after it is answered", E: True},
    A: {R: "only the first", P: True, A: "already", C: True, E: "no deadline left"},
    C: {R: "final", P: "final", A: "final", C: "already", E: "final"},
    E: {R: "only the first", P: True, A: True, C: "only after it is answered", E: "already"},
}


def test_the_table_covers_every_pair() -> None:
    assert set(TABLE) == set(Status)
    assert all(set(row) == set(Status) for row in TABLE.values())
    allowed = {(f, t) for f, row in TABLE.items() for t, v in row.items() if v is True}
    assert allowed == set(ALLOWED)


@pytest.mark.parametrize(("frm", "to"), [(f, t) for f in Status for t in Status])
def test_each_transition(frm: Status, to: Status) -> None:
    expected = TABLE[frm][to]
    got = decide(frm, to)
    assert got.reason
    if expected is True:
        assert got.allowed and got.reason == ALLOWED[(frm, to)]
    else:
        assert not got.allowed
        assert isinstance(expected, str) and expected in got.reason


@pytest.mark.parametrize("frm", [R, P, E])
def test_answered_needs_every_question_answered(frm: Status) -> None:
    got = decide(frm, A, unanswered=2)
    assert not got.allowed and "2 question(s) are not answered" in got.reason
    assert decide(frm, A, unanswered=0).allowed


def test_open_statuses() -> None:
    assert OPEN == {R, P, E}
