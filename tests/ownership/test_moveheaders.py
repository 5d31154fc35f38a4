"""The headers of a moved call and of a fenced ring (``bailanys/ownership/moveheaders.py``):
written and read back, and every malformed value refused with the header's name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bailanys.errors import InputError
from bailanys.ownership.moveheaders import (
    CALL,
    LEASE,
    PRIO,
    QUEUE,
    WAITED,
    MoveHeaderError,
    MoveRequest,
    lease_header,
    read_lease,
    read_move,
)

NAMES = st.from_regex(r"[A-Za-z0-9_\-]{1,20}", fullmatch=True)


def getter(pairs: list[tuple[str, str]]) -> object:
    table = {name.lower(): value for name, value in pairs}
    return lambda name: table.get(name.lower())


@given(
    call_id=st.from_regex(r"[A-Za-z0-9._~@:+\-]{1,60}", fullmatch=True),
    queue=NAMES,
    waited=st.floats(0, 86_400),
    language=st.none() | st.sampled_from(["kk", "ru"]),
    skills=st.lists(NAMES, max_size=3).map(tuple),
    priority=st.integers(-1000, 1000),
)
def test_a_move_reads_back(call_id: str, queue: str, waited: float, language: str | None,
                           skills: tuple[str, ...], priority: int) -> None:
    request = MoveRequest(call_id, queue, round(waited, 3), language, skills, priority)
    assert read_move(getter(request.headers())) == request  # type: ignore[arg-type]


def test_no_call_header_is_no_move() -> None:
    assert read_move(lambda name: None) is None


@pytest.mark.parametrize(("pairs", "named"), [
    ([(CALL, "c 1"), (QUEUE, "egov"), (WAITED, "1")], CALL),
    ([(CALL, "c1"), (WAITED, "1")], QUEUE),
    ([(CALL, "c1"), (QUEUE, "eg;ov"), (WAITED, "1")], QUEUE),
    ([(CALL, "c1"), (QUEUE, "egov")], WAITED),
    ([(CALL, "c1"), (QUEUE, "egov"), (WAITED, "nan")], WAITED),
    ([(CALL, "c1"), (QUEUE, "egov"), (WAITED, "-1")], WAITED),
    ([(CALL, "c1"), (QUEUE, "egov"), (WAITED, "1e9")], WAITED),
    ([(CALL, "c1"), (QUEUE, "egov"), (WAITED, "1"), ("X-Bailanys-Lang", "en")], "Lang"),
    ([(CALL, "c1"), (QUEUE, "egov"), (WAITED, "1"), ("X-Bailanys-Skills", "a,,b")], "Skills"),
    ([(CALL, "c1"), (QUEUE, "egov"), (WAITED, "1"), (PRIO, "high")], PRIO),
    ([(CALL, "c1"), (QUEUE, "egov"), (WAITED, "1"), (PRIO, "99999")], PRIO),
])
def test_malformed_moves_are_refused_naming_the_header(
    pairs: list[tuple[str, str]], named: str
) -> None:
    with pytest.raises(MoveHeaderError, match=named) as info:
        read_move(getter(pairs))  # type: ignore[arg-type]
    assert isinstance(info.value, InputError)


@given(group=NAMES, epoch=st.integers(1, 10**17))
def test_the_lease_header_reads_back(group: str, epoch: int) -> None:
    name, value = lease_header(group, epoch)
    assert name == LEASE and read_lease(value) == (group, epoch)


@pytest.mark.parametrize("value", ["egov", "egov;epoch=0", "egov;epoch=1x", ";epoch=1",
                                   "egov;epoch=-1", "egov;epoch=1;more"])
def test_malformed_lease_headers_are_refused(value: str) -> None:
    with pytest.raises(MoveHeaderError, match=LEASE):
        read_lease(value)
