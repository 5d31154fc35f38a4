"""``bailanys.tomlcheck``: one type check for the config and the queues file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bailanys.tomlcheck import EXPECTED, Kind, check, kind_of


@pytest.mark.parametrize(("kind", "value", "held"), [
    (Kind.STRING, "x", "x"),
    (Kind.STRING, "", ""),
    (Kind.INTEGER, 3, 3),
    (Kind.INTEGER, -1, -1),
    (Kind.NUMBER, 3, 3.0),
    (Kind.NUMBER, 2.5, 2.5),
    (Kind.BOOLEAN, False, False),
    (Kind.STRINGS, ["a", "b"], ("a", "b")),
    (Kind.STRINGS, [], ()),
    (Kind.TABLE, {"a": 1}, {"a": 1}),
])
def test_a_right_value_is_held_as_the_setting_holds_it(kind: Kind, value: Any, held: Any) -> None:
    got = check(kind, value)
    assert got == held and type(got) is type(held)


@pytest.mark.parametrize(("kind", "value"), [
    (Kind.STRING, 1),
    (Kind.INTEGER, True),  # bool is an int in Python, never in TOML
    (Kind.INTEGER, 1.5),
    (Kind.INTEGER, "1"),
    (Kind.NUMBER, True),
    (Kind.NUMBER, "60"),
    (Kind.BOOLEAN, "yes"),
    (Kind.BOOLEAN, 1),
    (Kind.STRINGS, "udp"),
    (Kind.STRINGS, ["a", 1]),
    (Kind.TABLE, "x"),
    (Kind.TABLE, ["x"]),
])
def test_a_wrong_value_names_what_was_expected(kind: Kind, value: Any) -> None:
    with pytest.raises(ValueError) as info:
        check(kind, value)
    assert str(info.value) == f"expected {EXPECTED[kind]}, got {value!r}"


def test_the_caller_may_say_more_about_what_it_expected() -> None:
    with pytest.raises(ValueError, match=r"^expected a table of strings, got 'x'$"):
        check(Kind.TABLE, "x", "a table of strings")


def test_every_kind_has_a_name_in_messages() -> None:
    assert set(EXPECTED) == set(Kind)


@pytest.mark.parametrize(("tp", "kind"), [
    (str, Kind.STRING),
    (int, Kind.INTEGER),
    (float, Kind.NUMBER),
    (bool, Kind.BOOLEAN),
    (tuple[str, ...], Kind.STRINGS),
    (Mapping[str, str], Kind.TABLE),
])
def test_kind_of_a_field_type(tp: Any, kind: Kind) -> None:
    assert kind_of(tp) is kind
