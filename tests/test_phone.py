"""bailanys.phone: the caller's number, normalised once (issue 14 item 1)."""

from __future__ import annotations

import pytest

from bailanys.phone import ANONYMOUS, caller_of_uri, dialable, is_number, normalise, uri_user


@pytest.mark.parametrize(
    ("uri", "user"),
    [
        ("sip:+77011234567@10.0.0.5;user=phone", "+77011234567"),
        ("sips:1001@pbx.example.kz:5061", "1001"),
        ("SIP:1001@pbx", "1001"),  # the scheme is case-insensitive (RFC 3261 §19.1.4)
        ("<sip:77011234567@trunk.kz>", "77011234567"),
        ("  <sip:77011234567@trunk.kz;transport=tcp>  ", "77011234567"),
        ("sip:alice:secret@example.com", "alice"),  # a password is not the user
        ("sip:%2B7701@h", "+7701"),  # escaped (RFC 3261 §19.1.2)
        ("sip:a%40b@h", "a@b"),  # an escaped '@' in the user part
        ("tel:+77172555000;phone-context=kz", "+77172555000"),
        ("tel:+7-701-123-45-67", "+7-701-123-45-67"),
        ("sip:pbx.example.kz", ""),  # no user part
        ("mailto:a@b", ""),  # another scheme
        ("not a uri", ""),
        ("", ""),
        ("<", ""),
        ("sip:", ""),
        (None, ""),
        (42, ""),
        (b"sip:1@h", ""),
    ],
)
def test_uri_user(uri: object, user: str) -> None:
    assert uri_user(uri) == user


@pytest.mark.parametrize(
    ("user", "number"),
    [
        ("+77011234567", "77011234567"),
        ("77011234567", "77011234567"),
        ("87011234567", "77011234567"),  # the national trunk prefix
        ("+87011234567", "77011234567"),
        ("8701123456", "8701123456"),  # not 11 digits: not a trunk-prefixed number
        ("7011234567", "7011234567"),  # 10 digits are kept as written (no guess)
        ("+7-701-123-45-67", "77011234567"),  # RFC 3966 visual separators
        ("+7(701)123.45.67", "77011234567"),
        ("1002", "1002"),
        ("1414", "1414"),
        ("alice", "alice"),
        ("77011234567;isub=12", "77011234567"),  # user parameters dropped
        ("anonymous", ANONYMOUS),
        ("Anonymous", ANONYMOUS),
        ("unknown", ANONYMOUS),
        ("restricted", ANONYMOUS),
        ("unavailable", ANONYMOUS),
        ("private", ANONYMOUS),
        ("", ANONYMOUS),
        ("   ", ANONYMOUS),
        (";x=1", ANONYMOUS),
        (None, ANONYMOUS),
        ("+", "+"),  # not a number: kept as written
        ("٣٤٥", "٣٤٥"),  # non-ASCII digits are not a number
    ],
)
def test_normalise(user: str | None, number: str) -> None:
    assert normalise(user) == number


@pytest.mark.parametrize(
    ("uri", "caller", "dial"),
    [
        ("sip:+77011234567@trunk.kz", "77011234567", "77011234567"),
        ("sip:87011234567@10.0.0.1:5060;transport=udp", "77011234567", "77011234567"),
        ("tel:+7-701-123-45-67", "77011234567", "77011234567"),
        ("sip:1002@pbx", "1002", "1002"),
        ("sip:alice@example.com", "alice", ""),
        ("sip:anonymous@anonymous.invalid", ANONYMOUS, ""),
        ("sip:trunk.kz", ANONYMOUS, ""),
        ("garbage", ANONYMOUS, ""),
        (None, ANONYMOUS, ""),
    ],
)
def test_caller_of_uri_and_dialable(uri: object, caller: str, dial: str) -> None:
    assert caller_of_uri(uri) == caller
    assert dialable(uri) == dial


def test_is_number() -> None:
    assert is_number("0123")
    assert not is_number("")
    assert not is_number("+7")
    assert not is_number("١")
