"""Tests for bailanys.sip.digest (RFC 2617, RFC 7616, RFC 3261 §22)."""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable

import pytest

from bailanys.errors import SipParseError
from bailanys.sip.digest import (
    AuthResult,
    AuthStatus,
    DigestChallenger,
    build_authorization,
    digest_response,
    parse_auth_header,
)

USERS = {"alice": "wonderland", "bob": 'p"a\\ss,word'}
REALM = "bailanys.example"
URI = "sip:bailanys.example"


def lookup(user: str) -> str | None:
    return USERS.get(user)


def counter_token() -> Callable[[int], bytes]:
    counter = itertools.count()
    return lambda n: next(counter).to_bytes(n, "big")


@pytest.fixture
def server() -> DigestChallenger:
    return DigestChallenger(REALM, b"s3cret", nonce_ttl=300.0, token=counter_token())


def answer(challenge: str, user: str = "alice", password: str | None = None, *,
           method: str = "REGISTER", nc: int = 1, cnonce: str = "c0ffee") -> str:
    return build_authorization(challenge, method=method, uri=URI, username=user,
                               password=USERS[user] if password is None else password,
                               cnonce=cnonce, nc=nc)


# ------------------------------------------------------------ RFC test vectors

RFC2617_AUTH = (
    'Digest username="Mufasa", realm="testrealm@host.com", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
    'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
    'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def test_rfc2617_section_3_5_example() -> None:
    assert digest_response(
        algorithm="MD5", username="Mufasa", realm="testrealm@host.com",
        password="Circle Of Life", method="GET", uri="/dir/index.html",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc="00000001",
        cnonce="0a4f113b",
    ) == "6629fae49393a05397450978507c4ef1"
    got = build_authorization(RFC2617_CHALLENGE, method="GET", uri="/dir/index.html",
                              username="Mufasa", password="Circle Of Life", cnonce="0a4f113b")
    assert parse_auth_header(got) == parse_auth_header(RFC2617_AUTH + ", algorithm=MD5")


def test_rfc2617_example_checked_by_server_is_stale_not_bad() -> None:
    """Right password with a nonce that is not ours: stale (RFC 7616 §3.3), not a failure."""
    srv = DigestChallenger("testrealm@host.com", b"k")
    res = srv.verify(RFC2617_AUTH, "GET", {"Mufasa": "Circle Of Life"}.get, now=0.0)
    assert res == AuthResult(AuthStatus.STALE_NONCE, "Mufasa", res.detail)
    assert res.stale and not res.ok
    # a nonce that was never ours is not checked at all: stale whatever the password
    # (no uncounted guess through a foreign nonce; bailanys.authguard)
    res = srv.verify(RFC2617_AUTH, "GET", {"Mufasa": "Circle of Life"}.get, now=0.0)
    assert res.status is AuthStatus.STALE_NONCE


RFC7616 = {
    "username": "Mufasa", "realm": "http-auth@example.org", "password": "Circle of Life",
    "method": "GET", "uri": "/dir/index.html",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "qop": "auth", "nc": "00000001",
}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ("sha-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1_example(algorithm: str, expected: str) -> None:
    assert digest_response(algorithm=algorithm, **RFC7616) == expected
    challenge = (f'Digest realm="http-auth@example.org", qop="auth, auth-int", '
                 f'algorithm={algorithm}, nonce="{RFC7616["nonce"]}", '
                 'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
    got = build_authorization(challenge, method="GET", uri="/dir/index.html",
                              username="Mufasa", password="Circle of Life",
                              cnonce=RFC7616["cnonce"])
    _, params = parse_auth_header(got)
    assert params["response"] == expected
    assert params["opaque"] == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    assert (params["qop"], params["nc"], params["algorithm"]) == ("auth", "00000001", algorithm)


def test_rfc2069_form_and_sess_variants() -> None:
    base = {k: v for k, v in RFC7616.items() if k not in ("qop", "nc", "cnonce")}

    def md5(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()

    ha1 = md5("Mufasa:http-auth@example.org:Circle of Life")
    ha2 = md5("GET:/dir/index.html")
    assert digest_response(algorithm="MD5", **base) == md5(f"{ha1}:{base['nonce']}:{ha2}")
    sess_ha1 = md5(f"{ha1}:{base['nonce']}:abc")
    expected = md5(f"{sess_ha1}:{base['nonce']}:00000001:abc:auth:{ha2}")
    assert digest_response(algorithm="MD5-sess", **base, qop="auth", nc="00000001",
                           cnonce="abc") == expected
    with pytest.raises(ValueError):
        digest_response(algorithm="SHA-1", **base)


# ---------------------------------------------------------------- server side


def test_challenge_format(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    scheme, p = parse_auth_header(ch)
    assert scheme == "Digest"
    assert p["realm"] == REALM
    assert p["algorithm"] == "MD5"
    assert p["qop"] == "auth"
    assert "stale" not in p
    assert p["nonce"].startswith("3e8.")  # issue time in hex, then random, then MAC
    assert parse_auth_header(server.challenge(1000.0, stale=True))[1]["stale"] == "true"
    assert parse_auth_header(server.challenge(1000.0, algorithm="SHA-256"))[1]["algorithm"] \
        == "SHA-256"
    assert server.challenge(1000.0) != server.challenge(1000.0)  # random part differs
    with pytest.raises(ValueError):
        server.challenge(1.0, algorithm="SHA-1")
    with pytest.raises(ValueError):
        DigestChallenger(REALM, b"")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
@pytest.mark.parametrize("user", ["alice", "bob"])
def test_round_trip(server: DigestChallenger, algorithm: str, user: str) -> None:
    ch = server.challenge(1000.0, algorithm=algorithm)
    res = server.verify(answer(ch, user), "REGISTER", lookup, now=1010.0)
    assert res == AuthResult(AuthStatus.OK, user)
    assert res.ok and not res.stale


def test_sess_round_trip(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0).replace("algorithm=MD5", "algorithm=MD5-sess")
    assert server.verify(answer(ch), "REGISTER", lookup, 1000.0).ok


def test_method_is_part_of_the_digest(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    res = server.verify(answer(ch, method="REGISTER"), "INVITE", lookup, 1000.0)
    assert res.status is AuthStatus.BAD_CREDENTIALS


def test_uri_taken_as_given(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    auth = build_authorization(ch, method="INVITE", uri="sip:7001@10.0.0.1;transport=UDP",
                               username="alice", password="wonderland")
    assert server.verify(auth, "INVITE", lookup, 1000.0).ok


def test_wrong_password(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    res = server.verify(answer(ch, password="nope"), "REGISTER", lookup, 1000.0)
    assert res == AuthResult(AuthStatus.BAD_CREDENTIALS, "alice", "wrong response")
    assert res.reason == "bad-credentials: wrong response"
    assert AuthResult(AuthStatus.OK).reason == "ok"
    assert not res.stale


def test_unknown_user(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    auth = build_authorization(ch, method="REGISTER", uri=URI, username="mallory",
                               password="x")
    assert server.verify(auth, "REGISTER", lookup, 1000.0).status is AuthStatus.UNKNOWN_USER


def test_wrong_realm(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0).replace(REALM, "other.example")
    res = server.verify(answer(ch), "REGISTER", lookup, 1000.0)
    assert res.status is AuthStatus.BAD_CREDENTIALS


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (-6.0, AuthStatus.STALE_NONCE),  # from the future beyond the allowed clock step
        (-5.0, AuthStatus.OK),
        (0.0, AuthStatus.OK),
        (299.0, AuthStatus.OK),
        (300.0, AuthStatus.STALE_NONCE),  # the ttl boundary: expired
        (3600.0, AuthStatus.STALE_NONCE),
    ],
)
def test_stale_nonce_after_ttl(server: DigestChallenger, age: float,
                               status: AuthStatus) -> None:
    ch = server.challenge(1000.0)
    res = server.verify(answer(ch), "REGISTER", lookup, now=1000.0 + age)
    assert res.status is status
    assert res.stale is (status is AuthStatus.STALE_NONCE)


def test_stale_requires_right_password(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    res = server.verify(answer(ch, password="nope"), "REGISTER", lookup, now=5000.0)
    assert res.status is AuthStatus.BAD_CREDENTIALS


def test_forged_or_foreign_nonce(server: DigestChallenger) -> None:
    other = DigestChallenger(REALM, b"another secret")
    ch = other.challenge(1000.0)
    assert server.verify(answer(ch), "REGISTER", lookup, 1000.0).status \
        is AuthStatus.STALE_NONCE
    good = parse_auth_header(server.challenge(1000.0))[1]["nonce"]
    issued, rand, mac = good.split(".")
    for nonce in (f"{issued}.{rand}.{'0' * 32}", f"{int(issued, 16) + 100:x}.{rand}.{mac}",
                  "garbage", "", "zz.yy.xx", f"{issued}.{rand}"):
        ch = f'Digest realm="{REALM}", nonce="{nonce}", qop="auth"'
        assert server.verify(answer(ch), "REGISTER", lookup, 1000.0).status \
            is AuthStatus.STALE_NONCE, nonce


def test_a_nonce_answers_only_from_the_address_it_was_sent_to(
        server: DigestChallenger) -> None:
    """Nonces are tied to the client's address: from elsewhere no password is checked."""
    ch = server.challenge(1000.0, bind="192.0.2.10")
    assert server.verify(answer(ch), "REGISTER", lookup, 1000.0, bind="192.0.2.10").ok
    for password in ("right", "wrong"):
        ch = server.challenge(1000.0, bind="192.0.2.10")
        auth = answer(ch, password="nope") if password == "wrong" else answer(ch)
        res = server.verify(auth, "REGISTER", lookup, 1000.0, bind="198.51.100.7")
        assert res.status is AuthStatus.STALE_NONCE and res.stale, password
    # an expired nonce of ours, from its address: checked (stale only with the right one)
    ch = server.challenge(1000.0, bind="192.0.2.10")
    assert server.verify(answer(ch, password="nope"), "REGISTER", lookup, 2000.0,
                         bind="192.0.2.10").status is AuthStatus.BAD_CREDENTIALS


def test_same_secret_other_process_accepts(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    twin = DigestChallenger(REALM, b"s3cret")
    assert twin.verify(answer(ch), "REGISTER", lookup, 1001.0).ok


def test_replayed_nc_refused(server: DigestChallenger) -> None:
    ch = server.challenge(1000.0)
    first = answer(ch, nc=1)
    assert server.verify(first, "REGISTER", lookup, 1000.0).ok
    res = server.verify(first, "REGISTER", lookup, 1001.0)
    assert res.status is AuthStatus.REPLAYED and res.stale
    assert server.verify(answer(ch, nc=3), "REGISTER", lookup, 1002.0).ok
    assert server.verify(answer(ch, nc=2), "REGISTER", lookup, 1003.0).status \
        is AuthStatus.REPLAYED
    assert server.verify(answer(ch, nc=3, cnonce="new"), "REGISTER", lookup, 1003.0).status \
        is AuthStatus.REPLAYED
    assert server.verify(answer(ch, nc=4), "REGISTER", lookup, 1004.0).ok
    # a failed attempt does not advance the counter
    assert not server.verify(answer(ch, password="x", nc=9), "REGISTER", lookup, 1005.0).ok
    assert server.verify(answer(ch, nc=5), "REGISTER", lookup, 1006.0).ok


def test_replay_table_is_bounded_and_forgotten_nonces_are_stale() -> None:
    srv = DigestChallenger(REALM, b"k", max_tracked_nonces=3, token=counter_token())
    chs = [srv.challenge(1000.0 + i) for i in range(5)]
    for i, ch in enumerate(chs):
        assert srv.verify(answer(ch), "REGISTER", lookup, 1010.0 + i).ok
    assert len(srv._last_nc) == 3
    # the two oldest were forgotten: their replay is stale, never accepted
    for ch in chs[:2]:
        assert srv.verify(answer(ch, nc=1), "REGISTER", lookup, 1020.0).status \
            is AuthStatus.STALE_NONCE
        assert srv.verify(answer(ch, nc=2), "REGISTER", lookup, 1020.0).status \
            is AuthStatus.STALE_NONCE
    for ch in chs[2:]:
        assert srv.verify(answer(ch, nc=1), "REGISTER", lookup, 1020.0).status \
            is AuthStatus.REPLAYED
    # a fresh nonce still works
    assert srv.verify(answer(srv.challenge(1030.0)), "REGISTER", lookup, 1030.0).ok


def test_no_qop_client_pyvoip_style(server: DigestChallenger) -> None:
    """pyVoIP 1.6.8 ignores qop and sends the RFC 2069 form (SIP.py gen_authorization)."""
    ch = server.challenge(1000.0)
    _, p = parse_auth_header(ch)
    uri = "sip:bailanys.example;transport=UDP"
    response = digest_response(algorithm="MD5", username="alice", realm=REALM,
                               password="wonderland", method="REGISTER", uri=uri,
                               nonce=p["nonce"])
    auth = (f'Digest username="alice",realm="{REALM}",nonce="{p["nonce"]}",'
            f'uri="{uri}",response="{response}",algorithm=MD5')
    assert server.verify(auth, "REGISTER", lookup, 1000.0).ok


def test_real_pyvoip_client_answers_our_challenge(server: DigestChallenger) -> None:
    pytest.importorskip("pyVoIP")
    import pyVoIP.VoIP  # noqa: F401  (pyVoIP 1.6.8 needs this import order)
    from pyVoIP.SIP import SIPClient, SIPMessage

    client = SIPClient(REALM, 5060, "alice", "wonderland", None,  # type: ignore[arg-type]
                       myIP="127.0.0.1", myPort=5070)
    msg = SIPMessage((
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
        "From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>;tag=2\r\n"
        f"Call-ID: x\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: {server.challenge(1000.0)}\r\n"
        "Content-Length: 0\r\n\r\n").encode())
    response = client.gen_authorization(msg).decode()
    nonce, realm = msg.authentication["nonce"], msg.authentication["realm"]
    # the header exactly as pyVoIP's SIPClient.gen_register writes it
    auth = (f'Digest username="alice",realm="{realm}",nonce="{nonce}",'
            f'uri="sip:{REALM};transport=UDP",response="{response}",algorithm=MD5')
    assert server.verify(auth, "REGISTER", lookup, 1000.0).ok


MALFORMED_AUTH = {
    "empty": "",
    "scheme only": "Digest",
    "basic": "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
    "no username": 'Digest realm="r", nonce="n", uri="u", response="x"',
    "no response": 'Digest username="alice", realm="r", nonce="n", uri="u"',
    "no uri": 'Digest username="alice", realm="r", nonce="n", response="x"',
    "unterminated quote": 'Digest username="alice, realm="r"',
    "dangling escape": 'Digest username="alice\\',
    "missing comma": 'Digest username="alice" realm="r"',
    "no equals": "Digest username",
    "empty value": "Digest username=, realm=r",
    "repeated param": 'Digest username="a", username="b", realm="r", nonce="n", uri="u", '
                      'response="x"',
    "bad name": 'Digest =x',
    "junk after scheme": 'Digest,username="a"',
    "unknown algorithm": 'Digest username="alice", realm="r", nonce="n", uri="u", '
                         'response="x", algorithm=SHA-1',
    "auth-int": 'Digest username="alice", realm="r", nonce="n", uri="u", response="x", '
                'qop=auth-int, nc=00000001, cnonce="c"',
    "qop without nc": 'Digest username="alice", realm="r", nonce="n", uri="u", '
                      'response="x", qop=auth, cnonce="c"',
    "qop without cnonce": 'Digest username="alice", realm="r", nonce="n", uri="u", '
                          'response="x", qop=auth, nc=00000001',
    "short nc": 'Digest username="alice", realm="r", nonce="n", uri="u", response="x", '
                'qop=auth, nc=1, cnonce="c"',
    "nc zero": 'Digest username="alice", realm="r", nonce="n", uri="u", response="x", '
               'qop=auth, nc=00000000, cnonce="c"',
    "sess without qop": 'Digest username="alice", realm="r", nonce="n", uri="u", '
                        'response="x", algorithm=MD5-sess',
    "userhash": 'Digest username="abc", realm="r", nonce="n", uri="u", response="x", '
                'userhash=true',
    "utf-8 garbage": "Digest usérname=\udcff",
}


@pytest.mark.parametrize("header", MALFORMED_AUTH.values(), ids=MALFORMED_AUTH.keys())
def test_malformed_headers(server: DigestChallenger, header: str) -> None:
    res = server.verify(header, "REGISTER", lookup, 1000.0)
    assert res.status is AuthStatus.MALFORMED
    assert res.detail


PARSE_TABLE = [
    ('Digest realm="a, b", nonce="x"', ("Digest", {"realm": "a, b", "nonce": "x"})),
    ('Digest realm="say \\"hi\\"\\\\"', ("Digest", {"realm": 'say "hi"\\'})),
    ("digest  REALM = tok ,, nonce=\"n\" ,", ("digest", {"realm": "tok", "nonce": "n"})),
    ('Digest realm=""', ("Digest", {"realm": ""})),
    ("Digest", ("Digest", {})),
    ('Digest qop="auth,auth-int",\r\n algorithm=MD5', ("Digest",
                                                       {"qop": "auth,auth-int",
                                                        "algorithm": "MD5"})),
]


@pytest.mark.parametrize(("value", "expected"), PARSE_TABLE)
def test_parse_auth_header(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_auth_header(value) == expected


PARSE_ERRORS = [
    "", "  ", ",", '"Digest"', "Digest,", 'Digest username="alice, realm="r"',
    'Digest username="alice\\', 'Digest username="alice" realm="r"', "Digest username",
    "Digest username=", "Digest username=, realm=r", "Digest =x", 'Digest a="1", A="2"',
    "Digest a=b c=d", "Digest a=\"x\"y", "Digest usérname=x", "Digest a=é",
]


@pytest.mark.parametrize("value", PARSE_ERRORS)
def test_parse_auth_header_errors(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_auth_header(value)


def test_quoting_round_trip(server: DigestChallenger) -> None:
    """A password and realm with quotes, backslashes and commas survive both directions."""
    srv = DigestChallenger('we\\ird "realm", yes', b"k")
    ch = srv.challenge(1000.0)
    assert parse_auth_header(ch)[1]["realm"] == 'we\\ird "realm", yes'
    auth = build_authorization(ch, method="INVITE", uri=URI, username='bo"b',
                               password='p"a\\ss,word')
    assert srv.verify(auth, "INVITE", {'bo"b': 'p"a\\ss,word'}.get, 1000.0).ok


def test_build_authorization_forms() -> None:
    no_qop = build_authorization('Digest realm="r", nonce="n"', method="REGISTER", uri="sip:r",
                                 username="u", password="p")
    _, p = parse_auth_header(no_qop)
    assert "qop" not in p and "nc" not in p and "cnonce" not in p
    assert p["response"] == digest_response(algorithm="MD5", username="u", realm="r",
                                            password="p", method="REGISTER", uri="sip:r",
                                            nonce="n")
    _, p = parse_auth_header(build_authorization('Digest realm="r", nonce="n", qop="auth"',
                                                 method="INVITE", uri="sip:r", username="u",
                                                 password="p", nc=26))
    assert p["nc"] == "0000001a"
    assert len(p["cnonce"]) == 16
    for bad in ('Basic realm="r"', 'Digest realm="r"', 'Digest nonce="n"',
                'Digest realm="r", nonce="n", algorithm=SHA-1',
                'Digest realm="r", nonce="n", qop="auth-int"',
                'Digest realm="r", nonce="n", algorithm=MD5-sess', 'Digest realm="r'):
        with pytest.raises(SipParseError):
            build_authorization(bad, method="INVITE", uri="sip:r", username="u", password="p")


def test_surrogates_in_header(server: DigestChallenger) -> None:
    """Header text decoded with surrogateescape (raw bytes) never raises."""
    ch = server.challenge(1000.0)
    for user in ("al\udcffice", "\ud800"):
        auth = answer(ch).replace('username="alice"', f'username="{user}"')
        res = server.verify(auth, "REGISTER", {user: "pw"}.get, 1000.0)
        assert res.status in (AuthStatus.BAD_CREDENTIALS, AuthStatus.MALFORMED)
    res = server.verify(answer(ch).replace('response="', 'response="\ud800'), "REGISTER",
                        lookup, 1000.0)
    assert res.status is AuthStatus.BAD_CREDENTIALS


def test_fuzz_verify_never_raises(server: DigestChallenger) -> None:
    rng = random.Random(7616)
    good = answer(server.challenge(1000.0))
    seeds = [good, RFC2617_AUTH, *MALFORMED_AUTH.values()]
    alphabet = '",=\\ \t\r\nauthqopncMD5-Digest'
    for _ in range(5000):
        s = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 5)):
            pos = rng.randrange(len(s) + 1)
            if rng.random() < 0.5 and s:
                del s[pos:pos + rng.randint(1, 5)]
            else:
                s[pos:pos] = rng.choice(alphabet) if rng.random() < 0.8 else chr(rng.randrange(
                    0x10000))
        res = server.verify("".join(s), "REGISTER", lookup, 1000.0)
        assert isinstance(res.status, AuthStatus)
