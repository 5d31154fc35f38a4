"""The one quote-aware splitter of header values (``bailanys.sip.headers.split_unquoted``),
used for parameters (``;``) and for list-valued headers (``,``, RFC 3261 §7.3.1)."""

from __future__ import annotations

import pytest

from bailanys.sip.headers import parse_params, split_unquoted
from bailanys.sip.message import split_list


@pytest.mark.parametrize(("text", "sep", "angles", "parts"), [
    ("a;b;c", ";", False, ["a", "b", "c"]),
    (";a", ";", False, ["", "a"]),
    ('a="x;y";b', ";", False, ['a="x;y"', "b"]),
    (r'a="x\";y";b', ";", False, [r'a="x\";y"', "b"]),  # quoted-pair: \" does not close
    (r'a="x\\";b', ";", False, [r'a="x\\"', "b"]),  # \\ then the closing quote
    ('a="unterminated;b', ";", False, ['a="unterminated;b']),
    ("<sip:a;x=1>;b", ";", False, ["<sip:a", "x=1>", "b"]),  # params: no angle tracking
    ("<sip:a,b@h>, <sip:c@h>", ",", True, ["<sip:a,b@h>", " <sip:c@h>"]),
    ('"Doe, J" <sip:j@h>,sip:k@h', ",", True, ['"Doe, J" <sip:j@h>', "sip:k@h"]),
    ("a>,b", ",", True, ["a>", "b"]),  # a stray '>' does not go below zero
    ("", ",", True, [""]),
])
def test_split_unquoted(text: str, sep: str, angles: bool, parts: list[str]) -> None:
    assert split_unquoted(text, sep, angles=angles) == parts


def test_list_headers_are_split_into_stripped_non_empty_elements() -> None:
    assert split_list(' <sip:a@h;lr>, ,"x, y" <sip:b@h> ,') == ["<sip:a@h;lr>",
                                                                 '"x, y" <sip:b@h>']


def test_parameters_keep_semicolons_inside_quotes() -> None:
    assert parse_params(';tag=1;q="a;b";lr') == {"tag": "1", "q": "a;b", "lr": None}
