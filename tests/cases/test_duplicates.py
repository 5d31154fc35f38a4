"""Duplicate requests: same citizen, same topic, within N days (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bailanys.cases.duplicates import find_duplicate, same_citizen
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Case, Citizen, Kind, iin_hash
from bailanys.errors import InputError

SALT = b"0123456789abcdef"
IIN = "991231400002"
NOW = datetime(2026, 4, 30, 12, tzinfo=UTC)


def case(cid: int, citizen: Citizen, *, topic: str = "pension", days_ago: float = 1,
         status: Status = Status.IN_PROGRESS, kind: Kind = Kind.REQUEST) -> Case:
    return Case(cid, f"2026-{cid:06d}", kind, citizen, topic, "d", status,
                NOW - timedelta(days=days_ago))


def test_same_citizen_by_iin_hash_or_by_number() -> None:
    h = iin_hash(IIN, SALT)
    assert same_citizen(Citizen("7701", h), Citizen("7702", h))
    assert not same_citizen(Citizen("7701", h), Citizen("7701", iin_hash("000101300009", SALT)))
    assert same_citizen(Citizen("7701", h), Citizen("7701"))
    assert not same_citizen(Citizen(""), Citizen(""))


def test_the_newest_open_request_within_the_window_is_found() -> None:
    me = Citizen("77011234567")
    cases = [case(1, me, days_ago=20), case(2, me, days_ago=3), case(3, me, days_ago=31),
             case(4, me, topic="tax"), case(5, me, status=Status.CLOSED, days_ago=0.5),
             case(6, me, kind=Kind.COMPLAINT), case(7, Citizen("77019999999"), days_ago=0.1)]
    got = find_duplicate(cases, me, "pension", Kind.REQUEST, NOW, 30)
    assert got is not None and got.id == 2
    assert find_duplicate(cases, me, "pension", Kind.REQUEST, NOW, 2) is None
    assert find_duplicate(cases, me, "health", Kind.REQUEST, NOW, 30) is None


def test_window_edges() -> None:
    me = Citizen("77011234567")
    assert find_duplicate([case(1, me, days_ago=30)], me, "pension", Kind.REQUEST, NOW, 30)
    assert not find_duplicate([case(1, me, days_ago=30.01)], me, "pension", Kind.REQUEST,
                              NOW, 30)


def test_the_iin_hash_is_salted_and_checked() -> None:
    h = iin_hash(IIN, SALT)
    assert IIN not in h and len(h) == 64
    assert h != iin_hash(IIN, SALT[::-1])
    with pytest.raises(InputError, match="at least 16 bytes"):
        iin_hash(IIN, b"short")
    with pytest.raises(InputError, match="not a valid IIN"):
        iin_hash("991231400003", SALT)
