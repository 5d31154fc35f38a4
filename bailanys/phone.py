"""The caller's number, normalised once (a leaf: pure, stdlib only).

The engine derives ``caller`` of ``call.offered`` from the From header with
:func:`caller_of_uri`; the KPI fold (repeat callers), the Asterisk
``queue_log`` export and the robot's SMS/OTP number all read that field, so
the one rule below is the only one. Rows stored before
``caller`` existed fall back to :func:`caller_of_uri` of their ``from`` URI,
which needs no SIP parser: :func:`uri_user` reads the user part of a
``sip:``/``sips:`` URI (RFC 3261 §19.1.1) or the number of a ``tel:`` URI
(RFC 3966 §3) as text.

The rule (Kazakhstan numbering, E.164 country code 7 written without "+"):

- ``+77011234567`` and ``77011234567`` -> ``77011234567``;
- the national trunk prefix ``87011234567`` (11 digits starting 8) ->
  ``77011234567``;
- RFC 3966 visual separators (``-`` ``.`` ``(`` ``)``) are dropped:
  ``tel:+7-701-123-45-67`` -> ``77011234567``;
- other digit strings (an extension ``1002``, a short number) are kept;
- a user part that is not a number (``alice``) is kept as written;
- anonymous, withheld or missing (``anonymous``, ``unknown``, ``restricted``,
  ``unavailable``, ``private``, empty, no user part, not a URI) ->
  :data:`ANONYMOUS`.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote

__all__ = ["ANONYMOUS", "caller_of_uri", "dialable", "is_number", "normalise", "uri_user"]

#: What :func:`normalise` returns for a caller who gave no number.
ANONYMOUS: Final = "anonymous"
#: User parts that mean "number withheld" (RFC 3323 §4.1.1.3 "anonymous";
#: the others are what carriers and softphones write).
WITHHELD: Final = frozenset({"anonymous", "unknown", "restricted", "unavailable", "private"})
#: RFC 3966 §3 visual-separator characters (inside a phone number).
_SEPARATORS: Final = str.maketrans("", "", "-.()")
#: A national number written with the trunk prefix: 8 + 10 digits.
_NATIONAL_LEN: Final = 11


def uri_user(uri: object) -> str:
    """The user part of a SIP URI or the number of a tel URI, as written.

    ``sip:+77011234567@host;user=phone`` -> ``+77011234567``;
    ``<sip:%2B7701@h>`` -> ``+7701`` (escapes decoded, RFC 3261 §19.1.2);
    ``tel:+77172555000;phone-context=kz`` -> ``+77172555000``;
    no user part, another scheme, not text or not a URI -> "".
    """
    if not isinstance(uri, str):
        return ""
    text = uri.strip()
    if text.startswith("<"):
        text = text[1:].partition(">")[0].strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep:
        return ""
    if scheme == "tel":
        return rest.partition(";")[0].strip()
    if scheme not in ("sip", "sips"):
        return ""
    userinfo, at, _host = rest.rpartition("@")
    if not at:
        return ""
    return unquote(userinfo.partition(":")[0])


def normalise(user: str | None) -> str:
    """The caller's number from a URI's user part (rules: module docs)."""
    if not user:
        return ANONYMOUS
    text = user.partition(";")[0].strip()
    if not text or text.lower() in WITHHELD:
        return ANONYMOUS
    digits = text.removeprefix("+").translate(_SEPARATORS)
    if not is_number(digits):
        return text
    if len(digits) == _NATIONAL_LEN and digits.startswith("8"):
        return "7" + digits[1:]
    return digits


def caller_of_uri(uri: object) -> str:
    """:func:`normalise` of :func:`uri_user`: the caller of a From URI."""
    return normalise(uri_user(uri))


def is_number(text: str) -> bool:
    """``text`` is a non-empty string of ASCII digits (a dialable number)."""
    return text.isascii() and text.isdigit()


def dialable(uri: object) -> str:
    """The caller of a From URI when it is a number one can call or text
    back (the robot's SMS and one-time codes); "" otherwise."""
    number = caller_of_uri(uri)
    return number if is_number(number) else ""
