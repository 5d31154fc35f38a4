"""HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617 §3, RFC 7616).

Pure code: time is an input (``now``, seconds), no I/O.

Server side, :class:`DigestChallenger`: nonces are stateless,
``<issued hex>.<random hex>.<HMAC-SHA256(secret, realm:issued:random:bind)>``,
so any process holding the secret can check them without a nonce table.
``bind`` is the client's address (the registrar passes its throttling key):
a nonce answers only from the address it was sent to.  A nonce that is not
ours for this address is refused as stale *before* any digest is computed:
so a guess is only ever checked from an address that can receive our
answers (a spoofed UDP source cannot get a password checked, hence cannot
get an address or account banned by the failure throttling), and a foreign
nonce is no way around the throttling.  (RFC 7616 §3.3 asks for
``stale=true`` only with a right digest; for a nonce that was never ours
for this client, not checking the password is the safer reading, and the
client just retries with the new nonce.)  A nonce of ours older than
``nonce_ttl`` is *stale*: when the digest itself is right the result says so
and the server re-challenges with ``stale=true`` (RFC 7616 §3.3) so the phone
retries silently instead of asking its user.  For
``qop=auth`` the highest nonce-count seen per nonce is kept in a bounded table
and a repeated or lower ``nc`` is refused as a replay (RFC 7616 §3.3, §5.12).
Digests are compared with :func:`hmac.compare_digest`.

Algorithms: MD5 (RFC 2617, the SIP default) and SHA-256 (RFC 7616), plain and
``-sess``; ``qop=auth`` or no qop at all (RFC 2069 clients such as pyVoIP).
``qop=auth-int`` and ``userhash`` are not supported and read as malformed.

Client side, :func:`build_authorization` answers a challenge (our UAC, tests).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bailanys.errors import SipParseError

# RFC 7616 §3.7 / §6.1: hashlib names by algorithm token (case-insensitive).
_HASHES: dict[str, str] = {"MD5": "md5", "SHA-256": "sha256"}
# A client may answer a nonce this many seconds "from the future" (clock step).
_MAX_FUTURE_S = 5
# Nonce-counts tracked for replay detection before the oldest is forgotten
# (one entry per authenticated nonce: a few hundred bytes each).
DEFAULT_MAX_TRACKED_NONCES = 10_000
# RFC 7616 §3.3 suggests nonces stay valid for a few minutes; 5 min as Asterisk.
DEFAULT_NONCE_TTL_S = 300.0

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NC_RE = re.compile(r"[0-9a-fA-F]{8}")


class AuthStatus(StrEnum):
    """Outcome of :meth:`DigestChallenger.verify` and what the server should send."""

    OK = "ok"
    BAD_CREDENTIALS = "bad-credentials"  # wrong password or realm: 401/403, new challenge
    STALE_NONCE = "stale-nonce"  # right password, old or foreign nonce: 401 stale=true
    REPLAYED = "replayed"  # nonce-count not above the last one seen: 401 stale=true
    MALFORMED = "malformed"  # unparseable or unsupported header: 400
    UNKNOWN_USER = "unknown-user"  # no such user: answer as BAD_CREDENTIALS on the wire


@dataclass(frozen=True)
class AuthResult:
    """What :meth:`DigestChallenger.verify` decided; ``username`` when one was read."""

    status: AuthStatus
    username: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is AuthStatus.OK

    @property
    def reason(self) -> str:
        """One line for the log: the status and what was wrong."""
        return f"{self.status.value}: {self.detail}" if self.detail else self.status.value

    @property
    def stale(self) -> bool:
        """Re-challenge with ``stale=true`` (RFC 7616 §3.3)."""
        return self.status in (AuthStatus.STALE_NONCE, AuthStatus.REPLAYED)


def parse_auth_header(value: str) -> tuple[str, dict[str, str]]:
    """Parse a ``WWW-Authenticate`` / ``Authorization`` value (RFC 7235 §2.1, RFC 3261 §25.1).

    Returns the scheme (as written) and the auth-params with names lower-cased
    and quoted-strings unquoted (``\\x`` -> ``x``).  Commas inside quotes are
    kept.  Raises :class:`SipParseError` (status 400) on anything malformed,
    including a repeated parameter (RFC 7616 §3.4).
    """
    text = value.strip()
    m = _TOKEN_RE.match(text)
    if not m:
        raise SipParseError(f"auth header has no scheme: {value[:60]!r}")
    scheme = m.group(0)
    pos = m.end()
    n = len(text)
    if pos < n and text[pos] not in " \t":
        raise SipParseError(f"auth header: junk after scheme: {value[:60]!r}")
    params: dict[str, str] = {}
    expect_param = True
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            break
        if text[pos] == ",":
            pos += 1
            expect_param = True
            continue
        if not expect_param:
            raise SipParseError(f"auth header: missing comma at {pos}: {value[:60]!r}")
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise SipParseError(f"auth header: bad parameter name at {pos}: {value[:60]!r}")
        name = m.group(0).lower()
        pos = m.end()
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n or text[pos] != "=":
            raise SipParseError(f"auth header: parameter {name!r} has no value")
        pos += 1
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos < n and text[pos] == '"':
            pos += 1
            out: list[str] = []
            while True:
                if pos >= n:
                    raise SipParseError(f"auth header: unterminated quote in {name!r}")
                ch = text[pos]
                if ch == "\\":
                    if pos + 1 >= n:
                        raise SipParseError(f"auth header: dangling escape in {name!r}")
                    out.append(text[pos + 1])
                    pos += 2
                elif ch == '"':
                    pos += 1
                    break
                else:
                    out.append(ch)
                    pos += 1
            val = "".join(out)
        else:
            m = _TOKEN_RE.match(text, pos)
            if not m:
                raise SipParseError(f"auth header: parameter {name!r} has a bad value")
            val = m.group(0)
            pos = m.end()
        if name in params:
            raise SipParseError(f"auth header: parameter {name!r} repeated")
        params[name] = val
        expect_param = False
    return scheme, params


def digest_username(authorization: str) -> str | None:
    """The ``username`` of a Digest ``Authorization`` value, or None (no hashing).

    What the registrar's failure throttling keys an attempt on before it
    decides whether to check the digest at all.
    """
    try:
        scheme, params = parse_auth_header(authorization)
    except SipParseError:
        return None
    return params.get("username") if scheme.lower() == "digest" else None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _hash_for(algorithm: str) -> tuple[str, bool] | None:
    """(hashlib name, is -sess) for an algorithm token, or None if unsupported."""
    alg = algorithm.upper()
    sess = alg.endswith("-SESS")
    fn = _HASHES.get(alg[:-5] if sess else alg)
    return None if fn is None else (fn, sess)


def digest_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The ``response`` value (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1), lower-case hex.

    ``qop`` None is the RFC 2069 form ``H(HA1:nonce:HA2)``.  Raises
    ``ValueError`` for an algorithm this module does not know.
    """
    found = _hash_for(algorithm)
    if found is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    name, sess = found

    def h(text: str) -> str:
        # surrogateescape: header text decoded with it hashes as the bytes sent
        return hashlib.new(name, text.encode("utf-8", "surrogateescape")).hexdigest()

    ha1 = h(f"{username}:{realm}:{password}")
    if sess:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}")
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


class DigestChallenger:
    """Issues digest challenges and checks answers for one realm (RFC 3261 §22.4).

    ``secret`` keys the nonce HMAC; give every process of one server the same
    secret so a nonce from one is accepted by another.  ``token`` supplies the
    random part of each nonce (``os.urandom``; tests pass a fixed one).
    """

    def __init__(
        self,
        realm: str,
        secret: bytes,
        nonce_ttl: float = DEFAULT_NONCE_TTL_S,
        *,
        max_tracked_nonces: int = DEFAULT_MAX_TRACKED_NONCES,
        token: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not secret:
            raise ValueError("DigestChallenger needs a non-empty secret")
        self.realm = realm
        self._secret = secret
        self.nonce_ttl = nonce_ttl
        self._max_tracked = max(1, max_tracked_nonces)
        self._token = token
        self._last_nc: OrderedDict[str, int] = OrderedDict()
        # Nonces issued at or before this second may have been forgotten by the
        # bounded nc table; they are treated as stale so no replay slips through.
        self._forgotten_upto = -1

    # -- nonces -----------------------------------------------------------

    def _mac(self, issued: int, rand: str, bind: str) -> str:
        msg = f"{self.realm}:{issued:x}:{rand}:{bind}".encode("utf-8", "surrogateescape")
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def make_nonce(self, now: float, bind: str = "") -> str:
        issued = int(now)
        rand = self._token(8).hex()
        return f"{issued:x}.{rand}.{self._mac(issued, rand, bind)}"

    def _nonce_ours(self, nonce: str, bind: str) -> int | None:
        """When ``nonce`` was issued, if we issued it to ``bind`` (fresh or not); else None."""
        parts = nonce.split(".")
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{1,12}", parts[0]):
            return None
        issued = int(parts[0], 16)
        given = parts[2].encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(self._mac(issued, parts[1], bind).encode(), given):
            return None
        return issued

    def _fresh(self, issued: int, now: float) -> bool:
        return issued - _MAX_FUTURE_S <= now < issued + self.nonce_ttl

    # -- challenge --------------------------------------------------------

    def challenge(self, now: float, stale: bool = False, algorithm: str = "MD5",
                  bind: str = "") -> str:
        """A ``WWW-Authenticate`` / ``Proxy-Authenticate`` value (RFC 3261 §22.4, RFC 7616 §3.3).

        To offer SHA-256 and MD5 send two headers, SHA-256 first (RFC 7616 §3.7).
        ``bind``: the client's address, to which the nonce is tied.
        """
        if _hash_for(algorithm) is None:
            raise ValueError(f"unsupported digest algorithm {algorithm!r}")
        nonce = self.make_nonce(now, bind)
        value = (f"Digest realm={_quote(self.realm)}, nonce={_quote(nonce)}, "
                 f'algorithm={algorithm}, qop="auth"')
        return value + ", stale=true" if stale else value

    # -- verification -----------------------------------------------------

    def verify(
        self,
        authorization: str,
        method: str,
        password_lookup: Callable[[str], str | None],
        now: float,
        bind: str = "",
    ) -> AuthResult:
        """Check an ``Authorization`` value for a request of ``method`` (RFC 7616 §3.4).

        ``password_lookup(username)`` returns the password or None.  HA2 uses
        the client's own ``uri`` parameter as sent.  ``bind``: the client's
        address, as given to :meth:`challenge`.  Never raises for bad input.
        """
        try:
            scheme, p = parse_auth_header(authorization)
        except SipParseError as exc:
            return AuthResult(AuthStatus.MALFORMED, detail=str(exc))
        if scheme.lower() != "digest":
            return AuthResult(AuthStatus.MALFORMED, detail=f"scheme {scheme!r} is not Digest")
        username = p.get("username")
        if username is None:
            return AuthResult(AuthStatus.MALFORMED, detail="no username")
        missing = [k for k in ("realm", "nonce", "uri", "response") if k not in p]
        if missing:
            return AuthResult(AuthStatus.MALFORMED, username, f"missing {', '.join(missing)}")
        if p.get("userhash", "false").lower() == "true":
            return AuthResult(AuthStatus.MALFORMED, username, "userhash is not supported")
        algorithm = p.get("algorithm", "MD5")
        if _hash_for(algorithm) is None:
            return AuthResult(AuthStatus.MALFORMED, username, f"algorithm {algorithm!r}")
        qop = p.get("qop")
        nc_value = 0
        if qop is not None:
            if qop.lower() != "auth":
                return AuthResult(AuthStatus.MALFORMED, username, f"qop {qop!r} not offered")
            nc, cnonce = p.get("nc"), p.get("cnonce")
            if nc is None or cnonce is None or not _NC_RE.fullmatch(nc):
                return AuthResult(AuthStatus.MALFORMED, username, "qop=auth needs nc and cnonce")
            nc_value = int(nc, 16)
            if nc_value == 0:
                return AuthResult(AuthStatus.MALFORMED, username, "nc must start at 1")
        elif algorithm.upper().endswith("-SESS"):
            return AuthResult(AuthStatus.MALFORMED, username, "-sess needs qop")
        nonce = p["nonce"]
        issued = self._nonce_ours(nonce, bind)
        if issued is None:  # no password is checked against a nonce we did not send here
            return AuthResult(AuthStatus.STALE_NONCE, username,
                              "nonce not ours or issued to another address")
        if p["realm"] != self.realm:
            return AuthResult(AuthStatus.BAD_CREDENTIALS, username,
                              f"realm {p['realm']!r} is not {self.realm!r}")
        password = password_lookup(username)
        if password is None:
            return AuthResult(AuthStatus.UNKNOWN_USER, username, "no such user")
        try:
            expected = digest_response(
                algorithm=algorithm, username=username, realm=self.realm, password=password,
                method=method, uri=p["uri"], nonce=p["nonce"], qop=qop,
                nc=p.get("nc", ""), cnonce=p.get("cnonce", ""),
            )
        except UnicodeError:
            return AuthResult(AuthStatus.MALFORMED, username, "undecodable characters")
        given = p["response"].lower().encode("utf-8", "replace")
        if not hmac.compare_digest(expected.encode(), given):
            return AuthResult(AuthStatus.BAD_CREDENTIALS, username, "wrong response")
        if not self._fresh(issued, now):
            return AuthResult(AuthStatus.STALE_NONCE, username, "nonce expired")
        if qop is not None:
            last = self._last_nc.get(nonce)
            if last is None and issued <= self._forgotten_upto:
                return AuthResult(AuthStatus.STALE_NONCE, username, "nonce no longer tracked")
            if last is not None and nc_value <= last:
                return AuthResult(AuthStatus.REPLAYED, username,
                                  f"nc {nc_value} not above {last}")
            self._remember(nonce, issued, nc_value)
        return AuthResult(AuthStatus.OK, username)

    def _remember(self, nonce: str, issued: int, nc: int) -> None:
        self._last_nc[nonce] = nc
        self._last_nc.move_to_end(nonce)
        while len(self._last_nc) > self._max_tracked:
            old, _ = self._last_nc.popitem(last=False)
            self._forgotten_upto = max(self._forgotten_upto, int(old.split(".")[0], 16))


def build_authorization(
    challenge_header: str,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """Answer a ``WWW-Authenticate`` / ``Proxy-Authenticate`` value (RFC 7616 §3.4).

    Uses ``qop=auth`` when the challenge offers it, else the RFC 2069 form.
    Raises :class:`SipParseError` for a malformed challenge or one we cannot
    answer (not Digest, unknown algorithm, only ``auth-int``).
    """
    scheme, p = parse_auth_header(challenge_header)
    if scheme.lower() != "digest":
        raise SipParseError(f"cannot answer a {scheme!r} challenge")
    if "realm" not in p or "nonce" not in p:
        raise SipParseError("digest challenge without realm or nonce")
    algorithm = p.get("algorithm", "MD5")
    if _hash_for(algorithm) is None:
        raise SipParseError(f"unsupported digest algorithm {algorithm!r}")
    offered = [q.strip().lower() for q in p["qop"].split(",")] if "qop" in p else []
    if offered and "auth" not in offered:
        raise SipParseError(f"digest challenge offers only qop={p['qop']!r}")
    qop = "auth" if offered else None
    if qop is None and algorithm.upper().endswith("-SESS"):
        raise SipParseError(f"{algorithm} challenge without qop")
    if cnonce is None:
        cnonce = secrets.token_hex(8)
    nc_text = f"{nc:08x}"
    response = digest_response(
        algorithm=algorithm, username=username, realm=p["realm"], password=password,
        method=method, uri=uri, nonce=p["nonce"], qop=qop, nc=nc_text, cnonce=cnonce,
    )
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(p['realm'])}",
        f"nonce={_quote(p['nonce'])}",
        f"uri={_quote(uri)}",
        f"response={_quote(response)}",
        f"algorithm={algorithm}",
    ]
    if qop is not None:
        parts += [f"cnonce={_quote(cnonce)}", f"qop={qop}", f"nc={nc_text}"]
    if "opaque" in p:
        parts.append(f"opaque={_quote(p['opaque'])}")
    return "Digest " + ", ".join(parts)
