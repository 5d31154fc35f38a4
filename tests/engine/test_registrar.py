"""Registrar: REGISTER with digest authentication (RFC 3261 §10.3, RFC 2617/7616).

Requests are written as SIP text; time is an argument (``now``), so expiry
and nonce staleness are tested without waiting.  The Registrar builds an
asyncio.Queue, so every test runs inside a loop.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from bailanys.engine.registrar import Registrar
from bailanys.sip.digest import build_authorization, parse_auth_header
from bailanys.sip.headers import NameAddr
from bailanys.sip.message import Request, Response, parse_message
from bailanys.sip.transport import Source
from bailanys.store import Store

REALM = "bailanys.test"
USERS = {"101": "secret101", "102": "secret102"}
PHONE = Source("UDP", ("192.0.2.10", 40000))
T0 = 1_700_000_000.0
RURI = "sip:198.51.100.1"


def wire(text: str) -> bytes:
    return ("\r\n".join(textwrap.dedent(text).strip().splitlines()) + "\r\n\r\n").encode()


def register(
    user: str = "101",
    contacts: tuple[str, ...] = ("<sip:101@10.0.0.5:5062>",),
    *,
    expires: int | None = 3600,
    auth: str | None = None,
    cseq: int = 1,
    aor: str | None = None,
    extra: tuple[str, ...] = (),
) -> Request:
    lines = [
        f"REGISTER {RURI} SIP/2.0",
        f"Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKreg{cseq};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@198.51.100.1>;tag=r1",
        f"To: <sip:{aor or user}@198.51.100.1>",
        f"Call-ID: reg-{user}@10.0.0.5",
        f"CSeq: {cseq} REGISTER",
        *(f"Contact: {c}" for c in contacts),
        *([f"Expires: {expires}"] if expires is not None else []),
        "User-Agent: TestPhone/1.0",
        *([f"Authorization: {auth}"] if auth is not None else []),
        *extra,
    ]
    msg = parse_message(wire("\n".join(lines)))
    assert isinstance(msg, Request)
    return msg


def make(**kw: object) -> Registrar:
    options: dict[str, object] = dict(
        min_expires=60, max_expires=3600, default_expires=600, nonce_ttl=300.0
    )
    options.update(kw)
    return Registrar(USERS, REALM, **options)  # type: ignore[arg-type]


def challenge_of(response: Response) -> str:
    assert response.status == 401
    value = response.headers.get("WWW-Authenticate")
    assert value is not None
    return value


def answer(
    registrar: Registrar,
    now: float,
    *,
    user: str = "101",
    password: str | None = None,
    uri: str = RURI,
) -> str:
    """Ask for a challenge and answer it as a phone would (qop=auth, nc=1)."""
    first = registrar.handle(register(user), PHONE, now)
    return build_authorization(
        challenge_of(first),
        method="REGISTER",
        uri=uri,
        username=user,
        password=USERS.get(user, "x") if password is None else password,
    )


def contacts_of(response: Response) -> dict[str, int]:
    """Contact URI -> expires of a 200 to REGISTER."""
    out: dict[str, int] = {}
    for value in response.headers.get_all("Contact"):
        addr = NameAddr.parse(value)
        out[addr.uri] = int(addr.params["expires"] or "-1")
    return out


def do_register(
    registrar: Registrar, now: float, user: str = "101", **kw: object
) -> Response:
    auth = answer(registrar, now, user=user)
    return registrar.handle(register(user, auth=auth, cseq=2, **kw), PHONE, now)  # type: ignore[arg-type]


# ------------------------------------------------------------ authentication


async def test_first_register_is_challenged() -> None:
    registrar = make()
    response = registrar.handle(register(), PHONE, T0)
    scheme, params = parse_auth_header(challenge_of(response))
    assert scheme == "Digest"
    assert params["realm"] == REALM
    assert params["nonce"]
    assert params["qop"] == "auth"
    assert params["algorithm"] == "MD5"
    assert "stale" not in params
    assert response.cseq == (1, "REGISTER")
    assert NameAddr.parse(response.headers.get("To") or "").tag  # §8.2.6.2
    assert registrar.lookup("101", T0) == []


async def test_answered_challenge_registers_the_contact() -> None:
    changes: list[tuple[str, str, bool]] = []
    registrar = make(on_change=lambda *a: changes.append(a))
    response = do_register(registrar, T0)
    assert response.status == 200
    assert contacts_of(response) == {"sip:101@10.0.0.5:5062": 3600}
    assert response.headers.get("Date") == "Tue, 14 Nov 2023 22:13:20 GMT"
    [binding] = registrar.lookup("101", T0)
    assert binding.contact == "sip:101@10.0.0.5:5062"
    assert binding.expires_at == T0 + 3600
    assert binding.source == ("192.0.2.10", 40000)
    assert binding.transport == "UDP"
    assert binding.user_agent == "TestPhone/1.0"
    assert changes == [("101", "sip:101@10.0.0.5:5062", True)]
    # a refresh is not a change
    do_register(registrar, T0 + 10)
    assert changes == [("101", "sip:101@10.0.0.5:5062", True)]
    assert registrar.lookup("101", T0 + 10)[0].expires_at == T0 + 3610


async def test_wrong_password_is_forbidden() -> None:
    registrar = make()
    auth = answer(registrar, T0, password="guess")
    response = registrar.handle(register(auth=auth, cseq=2), PHONE, T0)
    assert response.status == 403
    assert registrar.lookup("101", T0) == []


async def test_unknown_user_is_forbidden() -> None:
    registrar = make()
    auth = answer(registrar, T0, user="999", password="whatever")
    response = registrar.handle(register("999", auth=auth, cseq=2), PHONE, T0)
    assert response.status == 403
    assert registrar.lookup("999", T0) == []


async def test_user_may_not_register_someone_elses_aor() -> None:
    registrar = make()
    auth = answer(registrar, T0)  # authenticates as 101 ...
    response = registrar.handle(register(auth=auth, cseq=2, aor="102"), PHONE, T0)  # ... for 102
    assert response.status == 403
    assert registrar.lookup("102", T0) == []
    assert registrar.lookup("101", T0) == []


async def test_stale_nonce_is_rechallenged_with_stale_true() -> None:
    registrar = make(nonce_ttl=300.0)
    auth = answer(registrar, T0)
    response = registrar.handle(register(auth=auth, cseq=2), PHONE, T0 + 301)
    _, params = parse_auth_header(challenge_of(response))
    assert params["stale"] == "true"
    assert registrar.lookup("101", T0 + 301) == []
    # within the TTL the same answer is fine
    assert registrar.handle(register(auth=auth, cseq=3), PHONE, T0 + 299).status == 200


async def test_replayed_authorization_is_rechallenged() -> None:
    registrar = make()
    auth = answer(registrar, T0)
    assert registrar.handle(register(auth=auth, cseq=2), PHONE, T0).status == 200
    again = registrar.handle(register(auth=auth, cseq=3), PHONE, T0 + 1)  # same nc=1
    _, params = parse_auth_header(challenge_of(again))
    assert params["stale"] == "true"


async def test_pyvoip_style_md5_without_qop_is_accepted() -> None:
    """pyVoIP 1.6.8 answers in the RFC 2069 form with uri ``sip:host;transport=UDP``."""
    registrar = make()
    _, params = parse_auth_header(challenge_of(registrar.handle(register(), PHONE, T0)))
    uri = "sip:198.51.100.1;transport=UDP"

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"101:{REALM}:secret101")
    ha2 = md5(f"REGISTER:{uri}")
    digest = md5(f"{ha1}:{params['nonce']}:{ha2}")
    auth = (f'Digest username="101",realm="{REALM}",nonce="{params["nonce"]}",'
            f'uri="{uri}",response="{digest}",algorithm=MD5')
    response = registrar.handle(register(auth=auth, cseq=2), PHONE, T0)
    assert response.status == 200
    assert contacts_of(response) == {"sip:101@10.0.0.5:5062": 3600}


async def test_malformed_authorization_is_a_bad_request() -> None:
    registrar = make()
    response = registrar.handle(register(auth='Digest username="101", realm='), PHONE, T0)
    assert response.status == 400
    assert registrar.lookup("101", T0) == []


async def test_unsupported_require_gets_420_before_authentication() -> None:
    registrar = make()
    response = registrar.handle(register(extra=("Require: gruu, path",)), PHONE, T0)
    assert response.status == 420
    assert response.headers.get_all("Unsupported") == ["gruu", "path"]


# ------------------------------------------------------------ bindings


async def test_expires_zero_removes_the_binding() -> None:
    changes: list[tuple[str, str, bool]] = []
    registrar = make(on_change=lambda *a: changes.append(a))
    do_register(registrar, T0)
    response = do_register(registrar, T0 + 5, expires=0)
    assert response.status == 200
    assert contacts_of(response) == {}
    assert registrar.lookup("101", T0 + 5) == []
    assert changes[-1] == ("101", "sip:101@10.0.0.5:5062", False)


async def test_contact_expires_zero_removes_only_that_contact() -> None:
    registrar = make()
    both = ("<sip:101@10.0.0.5:5062>", "<sip:101@10.0.0.6:5062>;expires=120")
    response = do_register(registrar, T0, contacts=both)
    assert contacts_of(response) == {"sip:101@10.0.0.5:5062": 3600, "sip:101@10.0.0.6:5062": 120}
    # newest expiry first
    assert [b.contact for b in registrar.lookup("101", T0)] == [
        "sip:101@10.0.0.5:5062", "sip:101@10.0.0.6:5062"]
    response = do_register(registrar, T0 + 1, contacts=("<sip:101@10.0.0.6:5062>;expires=0",))
    assert contacts_of(response) == {"sip:101@10.0.0.5:5062": 3599}


async def test_wildcard_with_expires_zero_removes_all() -> None:
    registrar = make()
    do_register(registrar, T0, contacts=("<sip:101@10.0.0.5:5062>", "<sip:101@10.0.0.6:5062>"))
    assert len(registrar.lookup("101", T0)) == 2
    response = do_register(registrar, T0 + 1, contacts=("*",), expires=0)
    assert response.status == 200
    assert contacts_of(response) == {}
    assert registrar.lookup("101", T0 + 1) == []


@pytest.mark.parametrize("expires", [3600, None])
async def test_wildcard_without_expires_zero_is_a_bad_request(expires: int | None) -> None:
    registrar = make()
    do_register(registrar, T0)
    response = do_register(registrar, T0 + 1, contacts=("*",), expires=expires)
    assert response.status == 400
    assert len(registrar.lookup("101", T0 + 1)) == 1


async def test_expiry_below_minimum_gets_423_with_min_expires() -> None:
    registrar = make(min_expires=60)
    response = do_register(registrar, T0, expires=59)
    assert response.status == 423
    assert response.headers.get("Min-Expires") == "60"
    assert registrar.lookup("101", T0) == []
    assert do_register(registrar, T0, expires=60).status == 200


async def test_one_too_brief_contact_refuses_the_whole_request() -> None:
    registrar = make(min_expires=60)
    contacts = ("<sip:101@10.0.0.5:5062>", "<sip:101@10.0.0.6:5062>;expires=30")
    assert do_register(registrar, T0, contacts=contacts).status == 423
    assert registrar.lookup("101", T0) == []


async def test_expiry_above_maximum_is_shortened() -> None:
    registrar = make(max_expires=3600)
    response = do_register(registrar, T0, expires=86400)
    assert contacts_of(response) == {"sip:101@10.0.0.5:5062": 3600}
    assert registrar.lookup("101", T0)[0].expires_at == T0 + 3600


async def test_no_expires_uses_the_default() -> None:
    registrar = make(default_expires=600)
    response = do_register(registrar, T0, expires=None)
    assert contacts_of(response) == {"sip:101@10.0.0.5:5062": 600}


async def test_register_without_contact_lists_the_bindings() -> None:
    registrar = make()
    do_register(registrar, T0)
    response = do_register(registrar, T0 + 100, contacts=(), expires=None)
    assert response.status == 200
    assert contacts_of(response) == {"sip:101@10.0.0.5:5062": 3500}


async def test_lookup_filters_expired_bindings() -> None:
    registrar = make()
    do_register(registrar, T0, expires=60)
    assert len(registrar.lookup("101", T0 + 59.9)) == 1
    assert registrar.lookup("101", T0 + 60) == []
    assert registrar.lookup("102", T0) == []
    assert registrar.users == ["101", "102"]


async def test_without_a_store_nothing_is_queued() -> None:
    registrar = make()
    await registrar.start(T0)
    for i in range(5):
        do_register(registrar, T0 + i)
    do_register(registrar, T0 + 9, expires=0)
    assert registrar._writes.qsize() == 0
    await registrar.stop()


# ------------------------------------------------------------ persistence


async def test_bindings_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "bailanys.db"
    store = await Store.open(db)
    first = make(store=store.registrations)
    await first.start(T0)
    do_register(first, T0, contacts=("<sip:101@10.0.0.5:5062>", "<sip:101@10.0.0.6:5062>"))
    do_register(first, T0, user="102", contacts=("<sip:102@10.0.0.7>",), expires=120)
    do_register(first, T0 + 1, contacts=("<sip:101@10.0.0.6:5062>",), expires=0)
    await first.stop()  # waits for the writer
    await store.close()

    store = await Store.open(db)
    try:
        second = make(store=store.registrations)
        await second.start(T0 + 10)
        [b101] = second.lookup("101", T0 + 10)
        assert b101.contact == "sip:101@10.0.0.5:5062"
        assert b101.expires_at == T0 + 3600
        assert b101.source == ("192.0.2.10", 40000)
        assert b101.transport == "UDP"
        assert b101.user_agent == "TestPhone/1.0"
        [b102] = second.lookup("102", T0 + 10)
        assert b102.expires_at == T0 + 120
        await second.stop()
        # expired bindings are not loaded
        third = make(store=store.registrations)
        await third.start(T0 + 200)
        assert third.lookup("102", T0) == []
        await third.stop()
    finally:
        await store.close()


async def test_in_memory_store_receives_writes_and_removals() -> None:
    store = await Store.open(":memory:")
    try:
        registrar = make(store=store.registrations)
        await registrar.start(T0)
        do_register(registrar, T0)
        await registrar._writes.join()
        rows = await store.registrations.lookup("101", T0)
        assert [(r.contact, r.expires_at, r.source) for r in rows] == [
            ("sip:101@10.0.0.5:5062", T0 + 3600, "192.0.2.10:40000")]
        do_register(registrar, T0 + 1, contacts=("*",), expires=0)
        await registrar.stop()
        assert await store.registrations.lookup("101", T0) == []
    finally:
        await store.close()


async def test_unknown_authorization_scheme_is_challenged() -> None:
    """RFC 4475 §3.3.7 (regaut01): an unknown scheme gets a 401 challenge, not 400."""
    registrar = make()
    response = registrar.handle(
        register(auth="NoOneKnowsThisScheme opaque-data=here"), PHONE, T0
    )
    assert response.status == 401
    assert "WWW-Authenticate" in response.headers
    assert registrar.lookup("101", T0) == []
