"""engine/offered.py: caller, dialled and display name read once from an INVITE."""

from __future__ import annotations

import pytest

from bailanys.engine.offered import MAX_DISPLAY_NAME, Offered, dialled, offered


@pytest.mark.parametrize(
    ("from_header", "ruri", "expected"),
    [
        ('"Айгерім Нұрова" <sip:+77011234567@trunk.kz>;tag=1', "sip:1414@10.0.0.1",
         Offered("77011234567", "1414", "Айгерім Нұрова")),
        ("Alice <sip:87011234567@h>;tag=x", "sip:1414@h;user=phone",
         Offered("77011234567", "1414", "Alice")),
        ("<sip:1002@pbx>;tag=a", "sip:1499@pbx", Offered("1002", "1499", "")),
        ("sip:1002@pbx;tag=a", "sips:1414@pbx:5061", Offered("1002", "1414", "")),
        ('"Anonymous" <sip:anonymous@anonymous.invalid>;tag=z', "sip:1414@h",
         Offered("anonymous", "1414", "Anonymous")),
        ("<tel:+77172555000>;tag=1", "sip:h", Offered("77172555000", "", "")),
        (None, "sip:1414@h", Offered("anonymous", "1414", "")),
        ("", "garbage", Offered("anonymous", "", "")),
        # an unterminated '<': still a URI; a broken quote: no one
        ("<sip:1@h", "sip:1414@h", Offered("1", "1414", "")),
        ('"bad <sip:1@h>', "sip:1414@h", Offered("anonymous", "1414", "")),
    ],
)
def test_offered(from_header: str | None, ruri: str, expected: Offered) -> None:
    assert offered(from_header, ruri) == expected


def test_display_name_is_bounded_and_on_one_line() -> None:
    name = "Иван\r\n  Петров " + "x" * 500
    got = offered(f'"{name}" <sip:1@h>', "sip:1414@h").display_name
    assert len(got) == MAX_DISPLAY_NAME
    assert got.startswith("Иван Петров x")


def test_dialled() -> None:
    assert dialled("sip:1414@10.0.0.1;transport=udp") == "1414"
    assert dialled("sip:10.0.0.1") == ""
    assert dialled("") == ""
