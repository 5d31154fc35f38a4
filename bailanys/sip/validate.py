"""Structural checks of a parsed request's header values (RFC 3261 §20, §25).

Pure code: no I/O.  :func:`~bailanys.sip.message.parse_message` reads the
start line and keeps header values as text; some malformed requests are only
visible once those values are parsed (RFC 4475 §3.1.2: quotbal, ltgtruri,
escruri, baddate, regbadct, badaspec, baddn, scalar02, ...).  The engine calls
``parse_message`` and then :func:`validate_request`; both raise only
:class:`~bailanys.errors.SipParseError` (status 400 here), so after they pass,
``NameAddr.parse`` / ``Via.parse`` / ``SipUri.parse`` of the checked headers
cannot fail further up.

Deliberately liberal where RFC 4475 asks for it: no LWS needed between a
display name and '<' (§3.1.1.6 lwsdisp), unknown URI schemes are opaque
(§3.3.2-3.3.4), an RFC 2543 Via without a branch is accepted (§3.4.1).
"""

from __future__ import annotations

import functools
import re

from bailanys.errors import SipParseError
from bailanys.sip.headers import NameAddr, SipUri, Via, find_unquoted, quoted_end
from bailanys.sip.message import Request, is_digits

MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7 branch prefix
MAX_FORWARDS_LIMIT = 255  # §20.22: Max-Forwards is 0-255
DELTA_SECONDS_LIMIT = 2**32 - 1  # §25.1 delta-seconds; §20.19 Expires, §20.10 expires

# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_TOKEN_RE = re.compile(rf"^{_TOKEN}$")
# display-name = *(token LWS) / quoted-string (§25.1); "caller<sip:..>" is accepted.
_TOKENS_RE = re.compile(rf"^(?:{_TOKEN}(?:[ \t]+{_TOKEN})*)?$")
# word (Call-ID) = 1*(alphanum / token marks / "(" ")" "<" ">" ":" "\"
#                    / DQUOTE "/" "[" "]" "?" "{" "}")
_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID_RE = re.compile(rf"^{_WORD}(?:@{_WORD})?$")
# param value: token / host (IPv6 reference included) / quoted-string
_PARAM_VALUE_RE = re.compile(
    rf'^(?:{_TOKEN}|\[?[0-9A-Fa-f:.]+\]?|"(?:[^"\\]|\\.)*")$', re.DOTALL
)
# rfc1123-date = wkday "," SP date1 SP time SP "GMT" (§20.17, §25.1)
_DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    r"[0-9]{2}:[0-9]{2}:[0-9]{2} GMT$"
)
_QVALUE_RE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")  # §25.1 qvalue
_WS_RE = re.compile(r"\s")


def validate_request(req: Request) -> None:
    """Raise ``SipParseError(status=400)`` if a header value of ``req`` is malformed.

    Checks the Request-URI (§19.1.1: no headers in a SIP Request-URI), From
    and To (§20.20, §20.39), Contact (§20.10), Route and Record-Route
    (§20.30, §20.34), every Via (§20.42; the top one must not carry a bare
    magic-cookie branch, RFC 4475 §3.2.1), Call-ID (§20.8), Max-Forwards
    (§20.22), Expires (§20.19), Content-Length (§20.14) and Date (§20.17).
    """
    _raise_if(_uri_problem(req.uri))
    h = req.headers
    for name in ("From", "To"):
        _raise_if(_address_problem(name, h.get(name) or "", False, False))
    contacts = h.get_all("Contact")
    for value in contacts:
        _raise_if(_address_problem("Contact", value, req.method == "REGISTER", False))
    if "*" in (c.strip() for c in contacts) and len(contacts) > 1:
        raise SipParseError("Contact '*' must be the only Contact value")
    for name in ("Route", "Record-Route"):
        for value in h.get_all(name):
            _raise_if(_address_problem(name, value, False, True))
    vias = h.get_all("Via")
    for value in vias:
        _raise_if(_via_problem(value))
    if vias and Via.parse(vias[0]).branch == MAGIC_COOKIE:
        raise SipParseError("top Via branch is the bare magic cookie (no transaction id)")
    call_id = h.get("Call-ID") or ""
    if not _CALL_ID_RE.match(call_id):
        raise SipParseError(f"bad Call-ID {call_id[:60]!r}")
    _check_number(h.get("Max-Forwards"), "Max-Forwards", MAX_FORWARDS_LIMIT)
    _check_number(h.get("Expires"), "Expires", DELTA_SECONDS_LIMIT)
    cl = h.get("Content-Length")
    if cl is not None and not is_digits(cl):
        raise SipParseError(f"bad Content-Length {cl[:20]!r}")
    date = h.get("Date")
    if date is not None and not _DATE_RE.match(date):
        raise SipParseError(f"bad Date {date[:60]!r} (RFC 1123 in GMT required)")


VALUE_CACHE = 1024
"""Header values whose verdict each check remembers (least recently used out;
issue 20): a call's Request-URI, From, To and Contact come back in its ACK
and BYE, and every call to one number has the same Request-URI and To."""


def _raise_if(problem: str | None) -> None:
    if problem is not None:
        raise SipParseError(problem)  # status 400, as every check here raises


@functools.lru_cache(maxsize=VALUE_CACHE)
def _uri_problem(uri: str) -> str | None:
    try:
        _check_request_uri(uri)
    except SipParseError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=VALUE_CACHE)
def _address_problem(where: str, value: str, wildcard: bool,
                     name_addr_only: bool) -> str | None:
    try:
        _check_address(where, value, wildcard=wildcard, name_addr_only=name_addr_only)
    except SipParseError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=VALUE_CACHE)
def _via_problem(value: str) -> str | None:
    try:
        _check_via(value)
    except SipParseError as exc:
        return str(exc)
    return None


def _check_request_uri(uri: str) -> None:
    if _WS_RE.search(uri) or "<" in uri or ">" in uri:
        raise SipParseError(f"bad Request-URI {uri[:60]!r}")
    parsed = SipUri.parse(uri)
    if parsed.scheme in ("sip", "sips") and parsed.headers:
        raise SipParseError("headers are not allowed in a SIP Request-URI")


def _check_number(value: str | None, name: str, limit: int) -> None:
    if value is None:
        return
    if not is_digits(value) or len(value) > 20 or int(value) > limit:
        raise SipParseError(f"bad {name} {value[:30]!r}")


def _check_params(text: str, where: str) -> None:
    """``*( SEMI generic-param )``: no empty parameter, token names (§25.1)."""
    if not text.strip():
        return
    if not text.lstrip().startswith(";"):
        raise SipParseError(f"junk before the parameters of {where}: {text[:40]!r}")
    parts = _split_semicolons(text.lstrip()[1:])
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip()
        if not _TOKEN_RE.match(name):
            raise SipParseError(f"bad parameter {part.strip()[:40]!r} in {where}")
        if sep and not _PARAM_VALUE_RE.match(value.strip()):
            raise SipParseError(f"bad value of parameter {name!r} in {where}")


def _split_semicolons(text: str) -> list[str]:
    parts: list[str] = []
    while True:
        i = find_unquoted(text, ";")
        if i < 0:
            parts.append(text)
            return parts
        parts.append(text[:i])
        text = text[i + 1 :]


def _check_uri(uri: str, where: str) -> None:
    if not uri or _WS_RE.search(uri) or "<" in uri or ">" in uri:
        raise SipParseError(f"bad URI {uri[:60]!r} in {where}")
    SipUri.parse(uri)  # sip/sips structurally; other schemes stay opaque


def _check_address(
    where: str, value: str, *, wildcard: bool, name_addr_only: bool = False
) -> None:
    """name-addr / addr-spec with header parameters (§20.10, §25.1)."""
    text = value.strip()
    if not text:
        raise SipParseError(f"empty {where}")
    if text == "*":
        if wildcard:
            return
        raise SipParseError(f"'*' is not allowed in {where}")
    lt = find_unquoted(text, "<")
    if lt >= 0:
        display = text[:lt].strip()
        if display.startswith('"'):
            if quoted_end(display, 0) != len(display) - 1:
                raise SipParseError(f"bad quoted display name in {where}")
        elif not _TOKENS_RE.match(display):
            raise SipParseError(f"display name of {where} must be tokens or quoted")
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError(f"unterminated '<' in {where}")
        _check_uri(text[lt + 1 : gt], where)
        ptext = text[gt + 1 :]
    else:
        if name_addr_only or text.startswith('"'):
            raise SipParseError(f"{where} must be <name-addr>: {text[:60]!r}")
        uri, sep, rest = text.partition(";")
        ptext = sep + rest
        # §20.10: a URI holding ',', '?' or ';' must be enclosed in '<>'.
        if "?" in uri or "," in uri:
            raise SipParseError(f"URI with '?' or ',' must be in '<>' in {where}")
        _check_uri(uri.strip(), where)
    _check_params(ptext, where)
    params = NameAddr.parse(text).params
    expires = params.get("expires")
    if expires is not None:
        _check_number(expires, f"{where} expires", DELTA_SECONDS_LIMIT)
    q = params.get("q")
    if q is not None and not _QVALUE_RE.match(q):
        raise SipParseError(f"bad q value {q[:20]!r} in {where}")


def _check_via(value: str) -> None:
    via = Via.parse(value)
    if not _TOKEN_RE.match(via.transport):
        raise SipParseError(f"bad Via transport {via.transport!r}")
    semi = find_unquoted(value, ";")
    if semi >= 0:
        _check_params(value[semi:], "Via")
    for key, limit in (("ttl", 255), ("rport", 65535)):  # §20.42, RFC 3581
        v = via.params.get(key)
        if v is not None and not (is_digits(v) and len(v) <= 5 and int(v) <= limit):
            raise SipParseError(f"bad Via {key} {v[:20]!r}")
