"""Registrar for operators' phones (RFC 3261 §10.3, digest auth RFC 2617/7616).

``handle(request, source, now)`` is synchronous and returns the response;
bindings live in memory (the UAC looks them up on every agent call) and are
written through to the store by one owned writer task, and loaded back at
start-up so a restart does not log every operator out.

Steps, in the order §10.3 gives them: Require check (420), authentication
(401 challenge / 403 refusal / 400 for a malformed Authorization; the
authenticated user must own the address-of-record in To), then the Contact
list: ``*`` with ``Expires: 0`` removes all bindings, ``expires`` per contact
or the Expires header or the default, 0 removes, below the minimum is
answered 423 with Min-Expires, above the maximum is shortened.  The 200 lists
every current binding.

Wrong passwords are throttled by an :class:`~bailanys.authguard.AuthGuard`
(per source address and per account, growing bans; see that module).  Before
any challenge or digest, a REGISTER from a banned source, or for a banned
account from an address not trusted for it, is answered ``503 Service
Unavailable`` with ``Retry-After`` (RFC 3261 §21.5.4, §20.33): the refusal is
temporary, and a phone that is refused retries after the delay instead of
giving up as it would on 403 ("SHOULD NOT be repeated", §21.4.4).  No
digest is computed for it, so it tells a guesser nothing.  Nonces are tied
to the address they were sent to (:mod:`bailanys.sip.digest`), so only an
address that receives our answers can have a password checked: a spoofed
UDP source can neither guess nor get anyone banned.  A right password
trusts the address for the account; so do the bindings loaded at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate

from bailanys.authguard import AuthGuard, source_key
from bailanys.errors import SipParseError
from bailanys.sip.digest import AuthStatus, DigestChallenger, digest_username
from bailanys.sip.headers import NameAddr
from bailanys.sip.message import Request, Response, make_response
from bailanys.sip.transport import Source
from bailanys.store.events import Registrations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Binding:
    """One registered contact of an operator's phone."""

    user: str
    contact: str  # the Contact URI as registered
    expires_at: float
    source: tuple[str, int]  # where the REGISTER came from (for NAT)
    transport: str
    user_agent: str


class Registrar:
    def __init__(
        self,
        users: Mapping[str, str],
        realm: str,
        *,
        min_expires: int,
        max_expires: int,
        default_expires: int,
        nonce_ttl: float,
        store: Registrations | None = None,
        on_change: Callable[[str, str, bool], None] | None = None,
        guard: AuthGuard | None = None,
    ) -> None:
        self._users = dict(users)
        #: Throttles wrong passwords (default limits when none is given).
        self.guard = (guard if guard is not None
                      else AuthGuard("sip", known=self._users.__contains__))
        self.realm = realm
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self._auth = DigestChallenger(realm, secrets.token_bytes(32), nonce_ttl=nonce_ttl)
        self._store = store
        self._bindings: dict[str, dict[str, Binding]] = {}
        self._writes: asyncio.Queue[tuple[str, Binding | None, str]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._on_change = on_change

    # ------------------------------------------------------------ lifecycle

    async def start(self, now: float, store: Registrations | None = None) -> None:
        """Load the stored bindings (from ``store`` when given: the engine opens its
        store only when it starts) and start writing changes through."""
        if store is not None:
            self._store = store
        if self._store is not None:
            for user in self._users:
                for row in await self._store.lookup(user, now):
                    self._bindings.setdefault(user, {})[row.contact] = Binding(
                        user=user,
                        contact=row.contact,
                        expires_at=row.expires_at,
                        source=_parse_source(row.source),
                        transport=row.transport,
                        user_agent=row.user_agent,
                    )
                    # the phone's address keeps working if its account comes under attack
                    self.guard.trust(_parse_source(row.source)[0], user, now)
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def stop(self) -> None:
        if self._writer is not None:
            await self._writes.join()
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
            self._writer = None

    async def _write_loop(self) -> None:
        assert self._store is not None
        while True:
            user, binding, contact = await self._writes.get()
            try:
                if binding is None:
                    await self._store.remove(user, contact)
                else:
                    await self._store.save(
                        user,
                        binding.contact,
                        binding.expires_at,
                        f"{binding.source[0]}:{binding.source[1]}",
                        binding.transport,
                        binding.user_agent,
                    )
            except Exception:
                log.exception("could not store the registration of %s", user)
            finally:
                self._writes.task_done()

    # ------------------------------------------------------------ lookups

    def lookup(self, user: str, now: float) -> list[Binding]:
        """Unexpired bindings of ``user``, newest expiry first."""
        bindings = self._bindings.get(user, {})
        live = [b for b in bindings.values() if b.expires_at > now]
        return sorted(live, key=lambda b: -b.expires_at)

    @property
    def users(self) -> list[str]:
        return sorted(self._users)

    # ------------------------------------------------------------ REGISTER

    def handle(self, request: Request, source: Source, now: float) -> Response:
        # §10.3 step 2 / §8.2.2.3: we support no extensions, so any Require is refused.
        required = request.headers.get_all("Require")
        if required:
            return make_response(
                request, 420, to_tag=_tag(), extra=[("Unsupported", ", ".join(required))]
            )
        auth_value = request.headers.get("Authorization")
        digest = auth_value is not None and _is_digest(auth_value)
        address = source.addr[0]
        account = (digest_username(auth_value) if auth_value and digest else None) \
            or _to_user(request)
        block = self.guard.check(address, account, now)
        if block is not None:
            log.debug("REGISTER from %s for %s refused unchecked: %s banned", address,
                      account, block.scope)
            return make_response(request, 503, to_tag=_tag(),
                                 extra=[("Retry-After", str(block.retry_after(now)))])
        bind = source_key(address)  # nonces answer only from where they were sent
        if auth_value is None or not digest:
            # No credentials we understand (RFC 4475 §3.3.7 regaut01: an
            # unknown scheme is a missing credential): challenge.
            return self._challenge(request, now, bind)
        result = self._auth.verify(auth_value, request.method, self._users.get, now, bind)
        if result.stale:
            return self._challenge(request, now, bind, stale=True)
        if result.status is AuthStatus.MALFORMED:
            log.info("REGISTER from %s: bad Authorization: %s", address, result.reason)
            return make_response(request, 400, "Bad Authorization", to_tag=_tag())
        if not result.ok:
            log.info("REGISTER from %s refused: %s", address, result.reason)
            for ban in self.guard.failure(address, result.username or account, now):
                log.warning("REGISTER: %s %s banned for %.0f s (ban %d) after wrong passwords",
                            ban.scope, address if ban.scope == "source" else account,
                            ban.length, ban.strikes)
            return make_response(request, 403, "Forbidden", to_tag=_tag())
        user = result.username or ""
        self.guard.success(address, user, now)
        try:
            aor = NameAddr.parse(request.headers.get("To") or "").sip_uri
        except SipParseError:
            return make_response(request, 400, "Bad To", to_tag=_tag())
        if aor.user != user:
            log.info("REGISTER: %s may not register %s", user, aor.user)
            return make_response(request, 403, "Forbidden", to_tag=_tag())
        return self._update(request, source, user, now)

    def _challenge(self, request: Request, now: float, bind: str, *,
                   stale: bool = False) -> Response:
        return make_response(
            request,
            401,
            to_tag=_tag(),
            extra=[("WWW-Authenticate", self._auth.challenge(now, stale=stale, bind=bind))],
        )

    def _update(self, request: Request, source: Source, user: str, now: float) -> Response:
        contacts = request.headers.get_all("Contact")
        header_expires = request.headers.get("Expires")
        try:
            default = int(header_expires) if header_expires is not None else None
        except ValueError:
            return make_response(request, 400, "Bad Expires", to_tag=_tag())
        if default is None:
            default = self.default_expires
        bindings = self._bindings.setdefault(user, {})
        ua = request.headers.get("User-Agent") or ""
        if any(c.strip() == "*" for c in contacts):
            # §10.3 step 6: "*" only alone and only with Expires: 0.
            if len(contacts) != 1 or default != 0:
                return make_response(request, 400, "Invalid Wildcard", to_tag=_tag())
            for contact in list(bindings):
                self._remove(user, contact)
        else:
            parsed: list[tuple[NameAddr, int]] = []
            for value in contacts:
                try:
                    addr = NameAddr.parse(value)
                    raw = addr.params.get("expires")
                    expires = int(raw) if raw is not None else default
                except (SipParseError, ValueError):
                    return make_response(request, 400, "Bad Contact", to_tag=_tag())
                if 0 < expires < self.min_expires:
                    return make_response(
                        request,
                        423,
                        to_tag=_tag(),
                        extra=[("Min-Expires", str(self.min_expires))],
                    )
                parsed.append((addr, min(expires, self.max_expires)))
            for addr, expires in parsed:
                if expires == 0:
                    self._remove(user, addr.uri)
                    continue
                binding = Binding(
                    user=user,
                    contact=addr.uri,
                    expires_at=now + expires,
                    source=source.addr,
                    transport=source.transport,
                    user_agent=ua,
                )
                fresh = addr.uri not in bindings
                bindings[addr.uri] = binding
                self._persist(user, binding, addr.uri)
                if fresh:
                    log.info("registered %s at %s (%s)", user, addr.uri, ua or "unknown UA")
                    if self._on_change is not None:
                        self._on_change(user, addr.uri, True)
        extra = [
            ("Contact", f"<{b.contact}>;expires={max(0, int(b.expires_at - now))}")
            for b in self.lookup(user, now)
        ]
        extra.append(("Date", formatdate(now, usegmt=True)))
        return make_response(request, 200, to_tag=_tag(), extra=extra)

    def _persist(self, user: str, binding: Binding | None, contact: str) -> None:
        """Queue a write for the store's writer; without a store nobody drains the queue."""
        if self._store is not None:
            self._writes.put_nowait((user, binding, contact))

    def _remove(self, user: str, contact: str) -> None:
        if self._bindings.get(user, {}).pop(contact, None) is not None:
            log.info("unregistered %s at %s", user, contact)
            self._persist(user, None, contact)
            if self._on_change is not None:
                self._on_change(user, contact, False)


def _is_digest(authorization: str) -> bool:
    return authorization.lstrip().split(" ", 1)[0].lower() == "digest"


def _to_user(request: Request) -> str:
    """The user part of To (the account a REGISTER without credentials is for)."""
    try:
        return NameAddr.parse(request.headers.get("To") or "").sip_uri.user or ""
    except SipParseError:
        return ""


def _tag() -> str:
    return secrets.token_hex(6)


def _parse_source(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port) if port.isdigit() else 5060
