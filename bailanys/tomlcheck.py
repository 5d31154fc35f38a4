"""The type check of a TOML value against what a setting expects.

Pure code: no I/O. :mod:`bailanys.config` (the engine's configuration) and
:mod:`bailanys.queue.settings` (the queues file) read TOML with ``tomllib``
and check each value here, once, at the edge, before their dataclasses
check ranges and names. A wrong type is a :class:`ValueError` whose message
(``expected an integer, got True``) the caller puts after the file and key.

TOML (v1.0.0, https://toml.io/en/v1.0.0) has distinct integers, floats and
booleans, but Python's ``bool`` is an ``int``: ``true`` is never accepted
where a number is expected. An integer is accepted where a number is, and
becomes a ``float``; an array of strings becomes a ``tuple``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final


class Kind(StrEnum):
    """What a setting holds, as far as TOML's types go."""

    STRING = "string"
    INTEGER = "integer"
    #: An integer or a float, held as a float.
    NUMBER = "number"
    BOOLEAN = "boolean"
    #: An array of strings, held as a tuple.
    STRINGS = "strings"
    #: A table (its values are checked by the setting itself).
    TABLE = "table"


#: What each kind is called in an error message.
EXPECTED: Final[Mapping[Kind, str]] = {
    Kind.STRING: "a string",
    Kind.INTEGER: "an integer",
    Kind.NUMBER: "a number",
    Kind.BOOLEAN: "true or false",
    Kind.STRINGS: "a list of strings",
    Kind.TABLE: "a table",
}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check(kind: Kind, value: Any, expected: str | None = None) -> Any:
    """``value`` as the setting holds it; ValueError ``expected <what>, got <value>`` if wrong.

    ``expected`` names the kind in the message instead of :data:`EXPECTED`
    (``"a table of strings"`` says more than ``"a table"``).
    """
    if kind is Kind.STRING:
        ok = isinstance(value, str)
    elif kind is Kind.INTEGER:
        ok = _is_int(value)
    elif kind is Kind.NUMBER:
        ok = _is_int(value) or isinstance(value, float)
        value = float(value) if ok else value
    elif kind is Kind.BOOLEAN:
        ok = isinstance(value, bool)
    elif kind is Kind.STRINGS:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:
        ok = isinstance(value, dict)
    if not ok:
        raise ValueError(f"expected {expected or EXPECTED[kind]}, got {value!r}")
    return value


def kind_of(tp: Any) -> Kind:
    """The kind of a dataclass field's type: ``int``, ``bool``, ``str``, ``float``,
    ``tuple[str, ...]``; anything else (``Mapping[str, str]``) is a table."""
    simple = {str: Kind.STRING, int: Kind.INTEGER, float: Kind.NUMBER, bool: Kind.BOOLEAN}
    if tp in simple:
        return simple[tp]
    if typing.get_origin(tp) is tuple:
        return Kind.STRINGS
    return Kind.TABLE
