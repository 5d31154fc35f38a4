"""RFC 4475 SIP torture messages through parse_message + validate_request.

The 49 files in ``torture/`` are the RFC's messages, bit-exact (CRLF line
ends, NUL and binary octets, <allOneLine>/<hex> markup expanded); their
SHA-256 sums are pinned below so a checkout that rewrites line ends fails
loudly.  Expectations, per message:

* VALID: parse_message and validate_request accept it; its From/To/Contact/
  Via/Request-URI values parse with bailanys.sip.headers (unknown schemes as
  opaque URIs); ``bytes(msg)`` re-parses to the same message.
* (status, stage): rejected with SipParseError(status) by parse_message
  ("parse") or by validate_request ("validate").  Responses are never
  answered, so their errors carry status None.

Nothing else may ever be raised.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bailanys.errors import SipParseError
from bailanys.sip.headers import NameAddr, SipUri, Via
from bailanys.sip.message import Request, Response, parse_message
from bailanys.sip.validate import validate_request

TORTURE = Path(__file__).parent / "torture"

VALID = "valid"
PARSE = "parse"
VALIDATE = "validate"

# name: (RFC 4475 section, expectation, status)
EXPECT: dict[str, tuple[str, str, int | None]] = {
    # 3.1.1 valid messages: all must be accepted.
    "wsinv": ("3.1.1.1", VALID, None),  # folding, LWS everywhere, compact forms
    "intmeth": ("3.1.1.2", VALID, None),  # odd token chars, quoted NUL/BEL/DEL
    "esc01": ("3.1.1.3", VALID, None),  # %HEX escapes in URIs
    "escnull": ("3.1.1.4", VALID, None),  # %00 in user parts
    "esc02": ("3.1.1.5", VALID, None),  # % not an escape: method, C%6Fntact
    "lwsdisp": ("3.1.1.6", VALID, None),  # caller<sip:..> without LWS
    "longreq": ("3.1.1.7", VALID, None),  # long values, 34 Vias in 18 spellings
    "dblreq": ("3.1.1.8", VALID, None),  # UDP: extra octets after the body ignored
    "semiuri": ("3.1.1.9", VALID, None),  # ';' in the Request-URI user part
    "transports": ("3.1.1.10", VALID, None),  # SCTP, TLS, UNKNOWN transports
    "mpart01": ("3.1.1.11", VALID, None),  # multipart body with NUL octets
    "unreason": ("3.1.1.12", VALID, None),  # UTF-8 reason phrase
    "noreason": ("3.1.1.13", VALID, None),  # empty reason phrase
    # 3.1.2 invalid messages.
    "badinv01": ("3.1.2.1", VALIDATE, 400),  # ';;,;,,' in Via, ';;;;' in Contact
    "clerr": ("3.1.2.2", PARSE, 400),  # Content-Length 9999 > body (UDP)
    "ncl": ("3.1.2.3", PARSE, 400),  # Content-Length: -999
    "scalar02": ("3.1.2.4", PARSE, 400),  # CSeq >2**32-1 (also Max-Forwards, Expires)
    "scalarlg": ("3.1.2.5", PARSE, None),  # response with huge CSeq: dropped
    "quotbal": ("3.1.2.6", VALIDATE, 400),  # unterminated quote in To
    "ltgtruri": ("3.1.2.7", PARSE, 400),  # <sip:...> as Request-URI
    "lwsruri": ("3.1.2.8", PARSE, 400),  # LWS inside the Request-URI
    "lwsstart": ("3.1.2.9", PARSE, 400),  # several SP in the request line
    "trws": ("3.1.2.10", PARSE, 400),  # SP after SIP/2.0
    "escruri": ("3.1.2.11", VALIDATE, 400),  # headers (?Route=) in the Request-URI
    "baddate": ("3.1.2.12", VALIDATE, 400),  # Date in EST, not GMT
    "regbadct": ("3.1.2.13", VALIDATE, 400),  # addr-spec Contact with '?'
    "badaspec": ("3.1.2.14", VALIDATE, 400),  # '< sip:... >' spaces in angle brackets
    "baddn": ("3.1.2.15", VALIDATE, 400),  # unquoted display name with ','
    "badvers": ("3.1.2.16", PARSE, 505),  # SIP/7.0
    "mismatch01": ("3.1.2.17", PARSE, 400),  # OPTIONS vs CSeq INVITE
    "mismatch02": ("3.1.2.18", PARSE, 400),  # NEWMETHOD vs CSeq INVITE (501 also allowed)
    "bigcode": ("3.1.2.19", PARSE, None),  # status 4294967301: dropped
    # 3.2 transaction layer: bare z9hG4bK branch would collide; rejected.
    "badbranch": ("3.2.1", VALIDATE, 400),
    # 3.3 application layer: parse-level expectations only.
    "insuf": ("3.3.1", PARSE, 400),  # no From/To/Call-ID/Max-Forwards
    "unkscm": ("3.3.2", VALID, None),  # unknown R-URI scheme: opaque (app: 416)
    "novelsc": ("3.3.3", VALID, None),  # soap.beep: opaque (app: 416)
    "unksm2": ("3.3.4", VALID, None),  # isbn:/http:/name: in To/From/Contact
    "bext01": ("3.3.5", VALID, None),  # unknown Require (app: 420)
    "invut": ("3.3.6", VALID, None),  # unknown Content-Type (app: 415)
    "regaut01": ("3.3.7", VALID, None),  # unknown Authorization scheme (app: 401)
    "multi01": ("3.3.8", PARSE, 400),  # several To/From/Call-ID/CSeq/Max-Forwards
    "mcl01": ("3.3.9", PARSE, 400),  # two Content-Length values
    "bcast": ("3.3.10", VALID, None),  # response with a broadcast Via
    "zeromf": ("3.3.11", VALID, None),  # Max-Forwards: 0 (app: 483 unless OPTIONS)
    "cparam01": ("3.3.12", VALID, None),  # ;unknownparam is a Contact header param
    "cparam02": ("3.3.13", VALID, None),  # ;unknownparam is a URI param
    "regescrt": ("3.3.14", VALID, None),  # escaped Route header in a Contact URI
    "sdp01": ("3.3.15", VALID, None),  # Accept excludes SDP (app: 488/415)
    # 3.4 backward compatibility: RFC 2543 syntax (no branch, no Max-Forwards).
    "inv2543": ("3.4.1", VALID, None),
}

SHA256: dict[str, str] = {
    "wsinv": "d6f6cdee99cd0a1f8e3d9a0fdd67c877700e19ab86d8186dada06f61260e3e61",
    "intmeth": "b957a8292c1c0a9851fe94705b90f94320738f43aacde64998e401f742ef688d",
    "esc01": "be3a316d4ce5f69cad474646191e390dd4b50fc8371e44b5197fe1237781973e",
    "escnull": "263fe2ecd12a5ccbb6c67b3174e9211d11da9b600e7d69666a86d2ee42873e90",
    "esc02": "9a9c59449f00327b02071feafc8e5c2a261c98c818044167894cc17809a12199",
    "lwsdisp": "d1b36b6316c12824f6f04bf6b1fd1f021cade9b74871693b9c3474cd9fa7f4e6",
    "longreq": "185739292bc676760e5b1cca77c87705aa570240171c506ad76f8c35af0ecdaa",
    "dblreq": "a6be48426565c2a705389c4ce2ea17e57b891cb13f80490a2cb9392c797b46ef",
    "semiuri": "87bbaed6b4b354dbd3c5c7a20e66686303c63e43a0aa19b89de1ac75231611a2",
    "transports": "33b4553a3b9418121b099ff07882535151edd6a1e81898c63a916aad2cbf90bc",
    "mpart01": "92147c8e24997bac59629e1b163767697d0d6d499af87f89e325d69968bec3ba",
    "unreason": "4f939d6ebf4817eea70f011d3209e83732872ffc20ffd304b244084dc392f4d7",
    "noreason": "07e11e470a69fffa3674de805e5165d1351a9439a91045ee70c9570ea24ab4fe",
    "badinv01": "9ee2b88f2e0b5a9eeb9bf729b6177f0a0c7d0b5e6c84be593e0480d7962f3ab8",
    "clerr": "d9da629086a38df433438fb0fb19a8730f34516f049a5520dd0cac3285485290",
    "ncl": "7ea6538edc1f054fdb6cd1c821040460cffca3cb682fa2e8e2a502d92170b4c2",
    "scalar02": "53158177326568e9964bce5dcfac27a2bf8a90953bbc03f6c5e2775864a97e4b",
    "scalarlg": "0957eca31737e3592eb1418bb41e9f5219278a78ff420111620d7fb60175b551",
    "quotbal": "e61978a2ea359fc666f0336fe4dbc623447532280e3273ea98119b3d3f788c84",
    "ltgtruri": "bcacb2dc17610e8cc8f9b8b0e3d6ee65ab473f93787a03bbd33579e1cea473df",
    "lwsruri": "3e22ceeca585ad23cc180208e2dad94e0a5aa4bb877a61cac443aa927f758b9e",
    "lwsstart": "f884e5626c6c5b1210cfc4a3540b8a28bd52939cff092f3f0c5c971e032adb0e",
    "trws": "64ae20694026e28c10746b57386b7fd1276de02b6f8d42d418070e87d6f4499f",
    "escruri": "c3cf30af13a9d107829cc105effd79355f1139c6ecc683a048b4c27951f8f416",
    "baddate": "1208a6e3e0c8a8c33a06a1f3733d158413cb72e58c379d094c4ecea11e9d4c28",
    "regbadct": "575d27530275814c1c98be164808fac89a0e2b4fc899dadcd97e6ba499437bda",
    "badaspec": "f8f6e2f4247287b0be6adb5ac222a6db4759395e44d27d2ddb9b39393e94867e",
    "baddn": "9d9428e8017092f194ec11077ba6865c251308cdfd7fd9db6a993b28e5748951",
    "badvers": "037d702d19e934bfeebbd2609050d7d54928d590cf90c78f3914522771dd8e03",
    "mismatch01": "a2c285636e451e75420da0cc62ee55ca3e398827008418befbfb078726bf0793",
    "mismatch02": "01b287f9a9c492f7f57405c36c8a2af0e2393896ed2d25fb92b502f2a6722bc4",
    "bigcode": "f79450070975da54c3525c9a5cbe75bae3c9d8cb92eba609772c26f66f225c2e",
    "badbranch": "cb049c727f16b5ec49e822f9e8b7d0ee20ca2d20ffb50baecd0b411a5e64fa7d",
    "insuf": "1e3efd9f3b238c6351ba12bc7eb46d843f2761b5d4a6b82b63bffdf07f2c5aee",
    "unkscm": "81be1a6a566c7ab52fe1c58c4a75440dfd697ad04c5e09fa71340de7da7b8bbb",
    "novelsc": "9a50a7343fcf685e77c4d0f477138a28f32a41c75aa566d200f3df210b01e648",
    "unksm2": "f6914409ced613ef5eb56e264d2f096dac26ab9e397d6a638934d2027f1f6acb",
    "bext01": "57181987c02c4f5752b7aa8c2847311f6184216ce7621e40303015949e70761c",
    "invut": "9b39e824947df46f90f824cd308fb3c118f548d94637f581101e355b381a0d92",
    "regaut01": "885ba0488872cfc04a3c7622854b8381955a5ee890745d6010834e3731a73faa",
    "multi01": "d156ab12105b4bfd8a6498de6f7195087058162b8cda1606169855b722411791",
    "mcl01": "887191619bf003b7e87399200b5cf4c3b5397344dbf70288ad5e23bd157b7fe4",
    "bcast": "073637c63597199179cf5fc91b980b2d530c066a0048ea3b908772def57b4c36",
    "zeromf": "50954ef47acca4f9f5263ded06246d06dee4e2ee508a8d284191795d7fddf365",
    "cparam01": "dfa6b5cdb289adc694b9b7e103ebfa7a2167335c46e5dc9de67055021910ae1c",
    "cparam02": "e93574215bd1d804bb46cc15ca6176b567def7ea1b15f72ab2c2dcf598af465a",
    "regescrt": "dab4087c133348b06fd7b3c4c7ef15094f8754e265e4e8c2137bb3ecda2ef477",
    "sdp01": "497c5f1ced6c7b579b48075e2dca919ce9b819a735964128a6e744a3a0b9e57f",
    "inv2543": "76fac8afe22dee49ea696b511621946694897ac7030fc5d07f57c8b487ce0521",
}

VALID_NAMES = [n for n, (_, kind, _) in EXPECT.items() if kind == VALID]
INVALID_NAMES = [n for n, (_, kind, _) in EXPECT.items() if kind != VALID]


def load(name: str) -> bytes:
    return (TORTURE / f"{name}.sip").read_bytes()


def parse_and_validate(data: bytes) -> Request | Response:
    msg = parse_message(data)
    if isinstance(msg, Request):
        validate_request(msg)
    return msg


def comparable(msg: Request | Response) -> tuple[object, ...]:
    """A message minus Content-Length, which serialisation rewrites at the end."""
    head: tuple[object, ...]
    if isinstance(msg, Request):
        head = ("req", msg.method, msg.uri, msg.version)
    else:
        head = ("resp", msg.status, msg.reason, msg.version)
    headers = [(n, v) for n, v in msg.headers if n != "Content-Length"]
    return (*head, headers, msg.body)


def test_corpus_is_complete_and_bit_exact() -> None:
    files = {p.stem for p in TORTURE.glob("*.sip")}
    assert files == set(EXPECT) == set(SHA256)
    assert len(files) == 49
    for name, digest in SHA256.items():
        assert hashlib.sha256(load(name)).hexdigest() == digest, name


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_message_parses_validates_and_round_trips(name: str) -> None:
    msg = parse_and_validate(load(name))
    h = msg.headers
    for field in ("From", "To"):
        addr = NameAddr.parse(h.get(field) or "")
        uri = SipUri.parse(addr.uri)
        assert uri.scheme
    for value in h.get_all("Contact"):
        NameAddr.parse(value).sip_uri  # noqa: B018 - parsing is the assertion
    vias = [Via.parse(v) for v in h.get_all("Via")]
    assert vias
    if isinstance(msg, Request):
        SipUri.parse(msg.uri)
    again = parse_and_validate(bytes(msg))
    assert comparable(again) == comparable(msg)
    assert bytes(again) == bytes(msg)


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_message_is_rejected_with_the_expected_status(name: str) -> None:
    _, stage, status = EXPECT[name]
    data = load(name)
    if stage == PARSE:
        with pytest.raises(SipParseError) as info:
            parse_message(data)
    else:
        msg = parse_message(data)
        assert isinstance(msg, Request)
        with pytest.raises(SipParseError) as info:
            validate_request(msg)
    assert info.value.status == status


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_only_sip_parse_error_escapes_for_every_prefix(name: str) -> None:
    """Truncated anywhere, a torture message is accepted or SipParseError, never a crash."""
    data = load(name)
    for end in range(0, len(data), 7):
        try:
            parse_and_validate(data[:end])
        except SipParseError:
            pass


# ------------------------------------------------ message-specific details


def test_wsinv_details() -> None:
    msg = parse_and_validate(load("wsinv"))
    assert isinstance(msg, Request)
    h = msg.headers
    assert msg.cseq == (9, "INVITE")
    assert h.get("Max-Forwards") == "0068"
    assert h.get("Subject") == ""
    assert h.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert h.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    frm = NameAddr.parse(h.get("From") or "")
    assert frm.display_name == 'J Rosenberg \\"'
    assert frm.tag == "98asjd8"
    assert NameAddr.parse(h.get("To") or "").tag == "1918181833n"
    vias = [Via.parse(v) for v in h.get_all("Via")]
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    contact = NameAddr.parse(h.get("Contact") or "")
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert SipUri.parse(msg.uri).params == {"unknownparam": None}
    assert len(msg.body) == 150


def test_intmeth_details() -> None:
    msg = parse_and_validate(load("intmeth"))
    assert isinstance(msg, Request)
    assert msg.method == "!interesting-Method0123456789_*+`.%indeed'~"
    uri = SipUri.parse(msg.uri)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com"
    to = NameAddr.parse(msg.headers.get("To") or "")
    assert to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    frm = NameAddr.parse(msg.headers.get("From") or "")
    assert frm.display_name == "token1~` token2'+_ token3*%!.-"
    assert frm.tag == "_token~1'+`*%!-."
    assert frm.params["fromparam''~+*_!.-%"] == "работающий"
    assert msg.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"


def test_escapes() -> None:
    esc01 = parse_and_validate(load("esc01"))
    assert isinstance(esc01, Request)
    assert SipUri.parse(esc01.uri).user == "sips:user@example.com"
    assert NameAddr.parse(esc01.headers.get("To") or "").sip_uri.user == "user"
    assert NameAddr.parse(esc01.headers.get("From") or "").sip_uri.user == "I have spaces"
    escnull = parse_and_validate(load("escnull"))
    users = [NameAddr.parse(c).sip_uri.user for c in escnull.headers.get_all("Contact")]
    assert users == ["\x00", "\x00\x00"]
    esc02 = parse_and_validate(load("esc02"))
    assert isinstance(esc02, Request)
    assert esc02.method == "RE%47IST%45R"
    assert len(esc02.headers.get_all("Contact")) == 2
    assert esc02.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    semi = parse_and_validate(load("semiuri"))
    assert isinstance(semi, Request)
    assert SipUri.parse(semi.uri).user == "user;par=u@example.net"
    assert len(semi.headers.get_all("Accept")) == 6


def test_long_and_many_values() -> None:
    msg = parse_and_validate(load("longreq"))
    vias = [Via.parse(v) for v in msg.headers.get_all("Via")]
    assert len(vias) == 34
    assert [v.host for v in vias[:33]] == [f"sip{i}.example.com" for i in range(33, 0, -1)]
    assert NameAddr.parse(msg.headers.get("To") or "").sip_uri.port == 6000
    transports = parse_and_validate(load("transports"))
    assert [Via.parse(v).transport for v in transports.headers.get_all("Via")] == [
        "UDP", "SCTP", "TLS", "UNKNOWN", "TCP",
    ]


def test_udp_datagram_body_framing() -> None:
    dbl = parse_and_validate(load("dblreq"))
    assert isinstance(dbl, Request)
    assert dbl.method == "REGISTER"
    assert dbl.body == b""
    mpart = parse_and_validate(load("mpart01"))
    assert len(mpart.body) == 553
    assert b"\x00" in mpart.body
    assert mpart.body.endswith(b"--7a9cbec02ceef655--\r\n")


def test_responses() -> None:
    unreason = parse_and_validate(load("unreason"))
    assert isinstance(unreason, Response)
    assert unreason.status == 200
    assert unreason.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    noreason = parse_and_validate(load("noreason"))
    assert isinstance(noreason, Response)
    assert (noreason.status, noreason.reason) == (100, "")


def test_unknown_schemes_are_opaque() -> None:
    unkscm = parse_and_validate(load("unkscm"))
    assert isinstance(unkscm, Request)
    assert SipUri.parse(unkscm.uri) == SipUri(
        scheme="nobodyknowsthisscheme", opaque="totallyopaquecontent"
    )
    novelsc = parse_and_validate(load("novelsc"))
    assert isinstance(novelsc, Request)
    assert SipUri.parse(novelsc.uri).scheme == "soap.beep"
    unksm2 = parse_and_validate(load("unksm2"))
    h = unksm2.headers
    assert SipUri.parse(NameAddr.parse(h.get("To") or "").uri).scheme == "isbn"
    assert SipUri.parse(NameAddr.parse(h.get("From") or "").uri).scheme == "http"
    assert NameAddr.parse(h.get("Contact") or "").uri == "name:John_Smith"


def test_contact_parameter_placement() -> None:
    c1 = NameAddr.parse(parse_and_validate(load("cparam01")).headers.get("Contact") or "")
    assert c1.params == {"unknownparam": None}
    assert c1.sip_uri.params == {}
    c2 = NameAddr.parse(parse_and_validate(load("cparam02")).headers.get("Contact") or "")
    assert c2.params == {}
    assert c2.sip_uri.params == {"unknownparam": None}
    esc = NameAddr.parse(parse_and_validate(load("regescrt")).headers.get("Contact") or "")
    assert esc.sip_uri.headers == "Route=%3Csip:sip.example.com%3E"


def test_rfc2543_request() -> None:
    msg = parse_and_validate(load("inv2543"))
    assert Via.parse(msg.headers.get("Via") or "").branch is None
    assert "Max-Forwards" not in msg.headers
    assert msg.body.startswith(b"v=0\r\n")
