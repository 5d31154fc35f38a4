"""parse_message / Headers / make_response unit tests, plus a deterministic fuzz."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bailanys.errors import SipParseError
from bailanys.sip.headers import NameAddr
from bailanys.sip.message import Headers, Request, Response, make_response, parse_message
from bailanys.sip.validate import validate_request

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)

RESPONSE = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def parse_request(data: bytes) -> Request:
    msg = parse_message(data)
    assert isinstance(msg, Request)
    return msg


def test_request() -> None:
    req = parse_request(INVITE)
    assert (req.method, req.uri, req.version) == ("INVITE", "sip:bob@biloxi.example.com", "SIP/2.0")
    assert req.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert req.cseq == (314159, "INVITE")
    assert req.content_type == "application/sdp"
    assert req.body == b"v=0\n"
    validate_request(req)


def test_response() -> None:
    resp = parse_message(RESPONSE)
    assert isinstance(resp, Response)
    assert (resp.status, resp.reason) == (180, "Ringing")
    assert NameAddr.parse(resp.headers.get("To") or "").tag == "a6c85cf"


def test_compact_forms_and_case_insensitive_names() -> None:
    data = (
        b"OPTIONS sip:a@example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"t: <sip:a@example.com>\r\n"
        b"f: <sip:b@example.com>;tag=x\r\n"
        b"i: cid\r\n"
        b"cseq: 1 OPTIONS\r\n"
        b"m: <sip:b@h>\r\n"
        b"k: timer\r\n"
        b"c: text/plain\r\n"
        b"l: 2\r\n\r\nhi"
    )
    req = parse_request(data)
    h = req.headers
    assert h.get("VIA") == "SIP/2.0/UDP h;branch=z9hG4bK1"
    assert h.get("to") == "<sip:a@example.com>"
    assert h.get("Call-Id") == "cid"
    assert h.get("CSEQ") == "1 OPTIONS"
    assert h.get("Contact") == "<sip:b@h>"
    assert h.get("Supported") == "timer"
    assert req.content_type == "text/plain"
    assert req.body == b"hi"
    assert [n for n, _ in h][:3] == ["Via", "To", "From"]  # stored canonically
    assert b"Content-Length: 2" in bytes(req)


def test_multiple_values_on_one_line_and_across_lines() -> None:
    data = INVITE.replace(
        b"Max-Forwards: 70\r\n",
        b"Max-Forwards: 70\r\n"
        b"Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK2, SIP/2.0/TCP c.example.com\r\n"
        b'Contact: "A, B" <sip:x@y>, <sip:z@w;a=1,2>\r\n'
        b"Route: <sip:r1@example.com;lr>\r\nRoute: <sip:r2@example.com;lr>\r\n",
    )
    h = parse_request(data).headers
    assert [v.split()[1].split(";")[0] for v in h.get_all("Via")] == [
        "pc33.atlanta.example.com", "b.example.com", "c.example.com",
    ]
    assert h.get_all("Contact") == [
        '"A, B" <sip:x@y>', "<sip:z@w;a=1,2>", "<sip:alice@pc33.atlanta.example.com>",
    ]
    assert h.get_all("Route") == ["<sip:r1@example.com;lr>", "<sip:r2@example.com;lr>"]
    assert h.count_lines("Via") == 2


def test_folding() -> None:
    data = INVITE.replace(
        b"Max-Forwards: 70\r\n",
        b"Max-Forwards: 70\r\nSubject: lunch\r\n  tomorrow\r\n\tat noon\r\n",
    ).replace(b"CSeq: 314159 INVITE", b"CSeq: 314159\r\n INVITE")
    req = parse_request(data)
    assert req.headers.get("Subject") == "lunch tomorrow at noon"
    assert req.cseq == (314159, "INVITE")


def test_serialisation_round_trip() -> None:
    req = parse_request(INVITE)
    assert bytes(req) == INVITE
    resp = parse_message(RESPONSE)
    assert bytes(resp) == RESPONSE
    again = parse_request(bytes(req))
    assert again == req


def test_content_length_is_recomputed_on_serialisation() -> None:
    req = parse_request(INVITE)
    req.body = b"v=0\r\no=x\r\n"
    out = bytes(req)
    assert out.count(b"Content-Length") == 1
    assert b"Content-Length: 10\r\n" in out
    assert parse_request(out).body == b"v=0\r\no=x\r\n"


def test_make_response_copies_dialog_headers_and_adds_to_tag() -> None:
    data = INVITE.replace(
        b"Max-Forwards: 70\r\n",
        b"Max-Forwards: 70\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK9\r\n"
        b"Record-Route: <sip:proxy.example.com;lr>\r\nTimestamp: 54\r\n",
    )
    req = parse_request(data)
    ok = make_response(req, 200, to_tag="abc")
    assert (ok.status, ok.reason) == (200, "OK")
    for name in ("Via", "From", "Call-ID", "CSeq"):
        assert ok.headers.get_all(name) == req.headers.get_all(name)
    assert ok.headers.get("To") == "Bob <sip:bob@biloxi.example.com>;tag=abc"
    assert ok.headers.get_all("Record-Route") == ["<sip:proxy.example.com;lr>"]
    assert "Max-Forwards" not in ok.headers
    assert "Contact" not in ok.headers
    trying = make_response(req, 100)
    assert trying.reason == "Trying"
    assert NameAddr.parse(trying.headers.get("To") or "").tag is None
    assert trying.headers.get("Timestamp") == "54"
    assert "Record-Route" not in trying.headers
    reparsed = parse_message(bytes(ok))
    assert isinstance(reparsed, Response)
    assert NameAddr.parse(reparsed.headers.get("To") or "").tag == "abc"


def test_make_response_keeps_an_existing_to_tag() -> None:
    data = INVITE.replace(b"To: Bob <sip:bob@biloxi.example.com>", b"To: <sip:b@x>;tag=old")
    req = parse_request(data)
    assert make_response(req, 486, to_tag="new").headers.get("To") == "<sip:b@x>;tag=old"


def test_udp_content_length() -> None:
    extra = parse_request(INVITE + b"trailing junk")
    assert extra.body == b"v=0\n"  # extra datagram bytes discarded (§18.3)
    with pytest.raises(SipParseError) as info:
        parse_message(INVITE[:-2])  # body shorter than Content-Length
    assert info.value.status == 400
    no_cl = parse_request(INVITE.replace(b"Content-Length: 4\r\n", b""))
    assert no_cl.body == b"v=0\n"  # UDP: the rest of the datagram
    with pytest.raises(SipParseError):
        parse_message(INVITE.replace(b"Content-Length: 4\r\n", b""), stream=True)


def test_leading_crlfs_are_ignored() -> None:
    assert parse_request(b"\r\n\r\n" + INVITE) == parse_request(INVITE)
    for keepalive in (b"", b"\r\n", b"\r\n\r\n"):
        with pytest.raises(SipParseError) as info:
            parse_message(keepalive)
        assert info.value.status is None


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"\x00\x01\x02garbage", 400),
        (b"INVITE sip:a@b SIP/2.0\r\n\r\n", None),  # no Via: nowhere to answer
        (INVITE.replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1), 505),
        (INVITE.replace(b"Call-ID", b"Call ID"), 400),
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: x INVITE"), 400),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: 256"), 400),
        (RESPONSE.replace(b"180", b"99 "), None),
        (RESPONSE.replace(b"CSeq: 314159 INVITE\r\n", b""), None),
        (b"x" * 70000, 513),
        # Numbers longer than int() takes (4,300 digits) are refused by length first.
        (INVITE.replace(b"CSeq: 314159", b"CSeq: " + b"9" * 5000), 400),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: " + b"7" * 5000), 400),
        (RESPONSE.replace(b"CSeq: 314159", b"CSeq: " + b"9" * 5000), None),
    ],
)
def test_malformed_messages(data: bytes, status: int | None) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert info.value.status == status


def test_headers_api() -> None:
    h = Headers([("v", "a"), ("To", "t"), ("Via", "b, c")])
    assert h.get_all("via") == ["a", "b", "c"]
    h.prepend("Via", "z")
    assert h.get("Via") == "z"
    h.remove_first("Via")
    h.remove_first("Via")
    assert h.get_all("Via") == ["b", "c"]
    h.remove_first("Via")
    assert h.get_all("Via") == ["c"]
    h.set("Via", "only")
    assert h.get_all("Via") == ["only"]
    h.add("X-Custom", "1")
    assert "x-custom" in h and h.get("X-CUSTOM") == "1"
    h.remove("x-custom")
    assert "X-Custom" not in h
    assert h.get("Missing", "default") == "default"


# ------------------------------------------------------------------ fuzz

SEEDS = [INVITE, RESPONSE] + [
    p.read_bytes() for p in sorted((Path(__file__).parent / "torture").glob("*.sip"))
]
TOKENS = [b"\r\n", b"\r\n ", b":", b";", b",", b"<", b">", b'"', b"\\", b"%00", b"@",
          b"SIP/2.0", b"\x00", b"\xff", b"\xb2", b"9" * 30, b"=", b" ", b"\t", b"?"]


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:  # flip a byte
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:  # delete a run
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 2:  # insert a syntax-significant token
            buf[pos:pos] = rng.choice(TOKENS)
        elif op == 3:  # duplicate a run
            buf[pos:pos] = buf[pos : pos + rng.randint(1, 64)]
        else:  # truncate
            del buf[pos:]
    return bytes(buf)


def test_fuzz_only_sip_parse_error_escapes() -> None:
    rng = random.Random(4475)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(2000):
        data = mutate(rng, rng.choice(SEEDS))
        try:
            msg = parse_message(data, stream=rng.random() < 0.3)
            if isinstance(msg, Request):
                validate_request(msg)
            bytes(msg)
            outcomes["ok"] += 1
        except SipParseError as exc:
            assert exc.status in (None, 400, 505, 513)
            outcomes["error"] += 1
    assert outcomes["ok"] > 50 and outcomes["error"] > 1000  # the fuzz reaches both


def test_fuzz_random_bytes() -> None:
    rng = random.Random(5626)
    for _ in range(500):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        try:
            parse_message(data)
        except SipParseError:
            pass


def test_cseq_of_a_built_message_is_bounded() -> None:
    """``Message.cseq`` refuses a number longer than 10 digits (never a ValueError)."""
    req = Request.build("OPTIONS", "sip:a@b", [("CSeq", "9" * 5000 + " OPTIONS")])
    with pytest.raises(SipParseError):
        req.cseq  # noqa: B018 - the property parses
