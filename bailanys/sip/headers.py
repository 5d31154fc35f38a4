"""Structured SIP header values: URIs, Via, name-addr, parameters (RFC 3261 §19, §20, §25).

Frozen dataclasses with ``parse(str)`` and ``__str__``.  Unknown URI schemes
(tel:, urn:, ...) parse as an opaque URI instead of failing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

from bailanys.errors import SipParseError

Params = dict[str, str | None]


def parse_params(text: str) -> Params:
    """Parse ``;a=b;c`` (leading ';' optional) into an ordered dict.

    Names are lower-cased (parameter names are case-insensitive, §7.3.1);
    a parameter without a value maps to None.  Quoted values keep their
    quotes stripped.
    """
    params: Params = {}
    for part in split_unquoted(text, ";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not name:
            raise SipParseError(f"empty parameter name in {text[:60]!r}")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                value = value[1:-1]
            params[name] = value
        else:
            params[name] = None
    return params


def format_params(params: Params) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def split_unquoted(text: str, sep: str, *, angles: bool = False) -> list[str]:
    """Split ``text`` on ``sep`` outside quoted-strings, quoted-pairs skipped (§25.1).

    With ``angles``, also outside ``<...>`` (a URI in a name-addr may hold
    commas, §20.10). The parts are returned as they are, unstripped and
    empty ones kept.
    """
    if '"' not in text and not (angles and "<" in text):
        return text.split(sep)  # nothing quoted or bracketed: the same parts (issue 20)
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    start = 0
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


def quoted_end(text: str, start: int) -> int:
    """Index of the '"' closing the quoted-string opened at ``text[start]``.

    Quoted-pairs (backslash + any char) are skipped (§25.1).  Returns -1
    when the string is unterminated (RFC 4475 §3.1.2.6 quotbal).
    """
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i
        i += 1
    return -1


def find_unquoted(text: str, char: str) -> int:
    """Index of the first ``char`` outside quoted strings, or -1."""
    found = text.find(char)
    quote = text.find('"')
    if quote < 0 or 0 <= found < quote:
        return found  # before any quoted string (issue 20: the usual case)
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == char:
            return i
        if ch == '"':
            i = quoted_end(text, i)
            if i < 0:
                return -1
        i += 1
    return -1


def unquote_string(text: str) -> str:
    """The content of a quoted-string, quoted-pairs expanded (§25.1)."""
    inner = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
    return re.sub(r"\\(.)", r"\1", inner, flags=re.DOTALL)


def quote_string(text: str) -> str:
    """Quote ``text`` as a quoted-string, escaping '\\' and '"' (§25.1)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_HOSTPORT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::([0-9]{1,5}))?$")


def split_hostport(text: str) -> tuple[str, int | None]:
    """Split ``host[:port]`` (IPv6 in brackets).  Raises on a malformed host or port."""
    text = text.strip()
    m = _HOSTPORT_RE.match(text)
    if not m:
        raise SipParseError(f"bad host {text[:60]!r}")
    port = int(m.group(2)) if m.group(2) else None
    if port is not None and not 0 < port < 65536:
        raise SipParseError(f"bad port {port}")
    return m.group(1), port


@dataclass(frozen=True)
class SipUri:
    """A ``sip:`` or ``sips:`` URI (§19.1); other schemes keep ``opaque`` text."""

    scheme: str
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: Params = field(default_factory=dict)
    headers: str = ""
    opaque: str = ""

    @classmethod
    def parse(cls, text: str) -> SipUri:
        """Parse (memoised: see :data:`PARSE_CACHE`; the result is shared, never change it)."""
        return _parse_uri(text)

    @classmethod
    def _parse(cls, text: str) -> SipUri:
        text = text.strip()
        scheme, sep, rest = text.partition(":")
        if not sep or not scheme or not re.match(r"^[A-Za-z][A-Za-z0-9+\-.]*$", scheme):
            raise SipParseError(f"bad URI {text[:60]!r}")
        scheme = scheme.lower()
        if scheme not in ("sip", "sips"):
            return cls(scheme=scheme, opaque=rest)
        # The userinfo may hold '?', ';' and ':' (RFC 4475 §3.1.1.2, §3.1.1.9)
        # but never an unescaped '@', so the '@' is found before '?' is.
        userinfo, at, hostpart = rest.rpartition("@")
        if not at:
            hostpart = rest
            userinfo = ""
        hostpart, _, hdrs = hostpart.partition("?")
        user: str | None = None
        password: str | None = None
        if at:
            user, _, pw = userinfo.partition(":")
            password = pw or None
            user = unquote(user)
            if not user:
                raise SipParseError(f"empty user part in {text[:60]!r}")
        hostport, _, ptext = hostpart.partition(";")
        host, port = split_hostport(hostport)
        return cls(
            scheme=scheme,
            user=user,
            password=password,
            host=host.lower(),
            port=port,
            params=parse_params(ptext),
            headers=hdrs,
        )

    def __str__(self) -> str:
        if self.scheme not in ("sip", "sips"):
            return f"{self.scheme}:{self.opaque}"
        out = f"{self.scheme}:"
        if self.user is not None:
            out += _escape_user(self.user)
            if self.password:
                out += f":{self.password}"
            out += "@"
        out += self.host
        if self.port is not None:
            out += f":{self.port}"
        out += format_params(self.params)
        if self.headers:
            out += f"?{self.headers}"
        return out

    def with_params(self, **params: str | None) -> SipUri:
        merged = dict(self.params)
        merged.update(params)
        return replace(self, params=merged)


def _escape_user(user: str) -> str:
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/")
    return "".join(ch if ch in safe else "".join(f"%{b:02X}" for b in ch.encode()) for ch in user)


_VIA_RE = re.compile(r"^SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Via:
    """One Via header value (§20.42), e.g. ``SIP/2.0/UDP host:port;branch=z9hG4bK..``."""

    transport: str
    host: str
    port: int | None = None
    params: Params = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Via:
        """Parse (memoised: see :data:`PARSE_CACHE`; the result is shared, never change it)."""
        return _parse_via(text)

    @classmethod
    def _parse(cls, text: str) -> Via:
        text = text.strip()
        m = _VIA_RE.match(text)
        if not m:
            raise SipParseError(f"bad Via {text[:60]!r}")
        sent_by, _, ptext = m.group(2).partition(";")
        host, port = split_hostport(sent_by.replace(" ", ""))
        return cls(transport=m.group(1).upper(), host=host, port=port, params=parse_params(ptext))

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {self.host}{port}{format_params(self.params)}"

    def with_params(self, **params: str | None) -> Via:
        merged = dict(self.params)
        merged.update(params)
        return replace(self, params=merged)


@dataclass(frozen=True)
class NameAddr:
    """A From/To/Contact/Route value (§20.10, §25.1 name-addr / addr-spec).

    ``uri`` is kept as text and parsed on demand by :attr:`sip_uri` so that an
    unknown scheme never makes the whole header unreadable.
    """

    uri: str
    display_name: str = ""
    params: Params = field(default_factory=dict)
    wildcard: bool = False

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        """Parse (memoised: see :data:`PARSE_CACHE`; the result is shared, never change it)."""
        return _parse_name_addr(text)

    @classmethod
    def _parse(cls, text: str) -> NameAddr:
        text = text.strip()
        if text == "*":
            return cls(uri="*", wildcard=True)
        lt = find_unquoted(text, "<")
        if lt >= 0:
            display, rest = text[:lt], text[lt + 1 :]
            uri, close, ptext = rest.partition(">")
            if not close:
                raise SipParseError(f"unterminated '<' in {text[:60]!r}")
            display = display.strip()
            if display.startswith('"'):
                if quoted_end(display, 0) != len(display) - 1:
                    raise SipParseError(f"bad display name in {text[:60]!r}")
                display = unquote_string(display)
            if ":" not in uri:
                raise SipParseError(f"bad URI in {text[:60]!r}")
            return cls(uri=uri.strip(), display_name=display, params=parse_params(ptext))
        # addr-spec: parameters after the URI belong to the header (§20.10).
        uri, _, ptext = text.partition(";")
        if ":" not in uri or " " in uri.strip():
            raise SipParseError(f"bad address {text[:60]!r}")
        return cls(uri=uri.strip(), params=parse_params(ptext))

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    @property
    def sip_uri(self) -> SipUri:
        return SipUri.parse(self.uri)

    def __str__(self) -> str:
        if self.wildcard:
            return "*"
        name = f"{quote_string(self.display_name)} " if self.display_name else ""
        return f"{name}<{self.uri}>{format_params(self.params)}"

    def with_params(self, **params: str | None) -> NameAddr:
        merged = dict(self.params)
        merged.update(params)
        return replace(self, params=merged)


PARSE_CACHE = 1024
"""Values each of ``SipUri.parse``, ``Via.parse`` and ``NameAddr.parse``
remember (least recently used out; issue 20). A call's From, To, Contact,
Via and URIs are parsed many times over (the validator, the transaction
layer, the dialog, the engine); the parsed values are frozen and nothing
changes their ``params`` in place, so one instance serves every caller.
A value that does not parse raises every time."""

_parse_uri = functools.lru_cache(maxsize=PARSE_CACHE)(SipUri._parse)
_parse_via = functools.lru_cache(maxsize=PARSE_CACHE)(Via._parse)
_parse_name_addr = functools.lru_cache(maxsize=PARSE_CACHE)(NameAddr._parse)
