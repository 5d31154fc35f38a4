"""The one quote-aware splitter of header values (``bailanys.sip.headers.split_unquoted``),
used for parameters (``;``) and for list-valued headers (``,``, RFC 3261 §7.3.1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bailanys.sip.headers import find_unquoted, parse_params, quoted_end, split_unquoted
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


def _split_by_hand(text: str, sep: str, angles: bool) -> list[str]:
    """The character walk every split took before its fast path (issue 20)."""
    out, depth, quoted, escaped, start = [], 0, False, False, 0
    for i, ch in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif angles and ch == "<":
            depth += 1
        elif angles and ch == ">":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _find_by_hand(text: str, char: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == char:
            return i
        if text[i] == '"':
            i = quoted_end(text, i)
            if i < 0:
                return -1
        i += 1
    return -1


@settings(max_examples=3000, deadline=None, database=None)  # no .hypothesis/ files
@given(st.text(alphabet='ab;,<>"\\ =', max_size=24), st.sampled_from([";", ",", "<", '"']),
       st.booleans())
def test_fast_paths_split_and_find_as_the_character_walk(text: str, sep: str,
                                                         angles: bool) -> None:
    assert split_unquoted(text, sep, angles=angles) == _split_by_hand(text, sep, angles)
    assert find_unquoted(text, sep) == _find_by_hand(text, sep)
