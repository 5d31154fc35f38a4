"""A deterministic mutation fuzzer for the wire parsers (issue 13, defect 2).

The SIP port and the RTP ports face the whole network, so each parser may
raise its documented error (``bailanys/errors.py``: ``SipParseError``,
``SdpError``, ``RtpParseError``) and nothing else.  :func:`fuzz` mutates seed
inputs (real messages and packets from the tests) and feeds them to a
:class:`Target`; an exception of any other type is an *escape*.  A target
also checks what must never raise at all (the stream framer, the stateless
400 of :meth:`Endpoint.bad_message`, the endpoint taking a parsed request)
and what a parse promises (an SDP written back parses to the same thing).

Mutations are both blind (bytes flipped, inserted, deleted, spliced) and
aimed at numbers, the class of bug issue 13 found: every run of digits may
become ``inf``, ``1e999``, ``NaN``, ``-1``, ``2**64``, 5,000 digits, Arabic
or full-width digits, ``1_000``... (``int()`` refuses over 4,300 digits,
``round(float("inf"))`` raises ``OverflowError``).

Deterministic: ``random.Random(seed)``; the same seed and count give the same
inputs.  ``make test`` runs a few thousand inputs per parser
(``tests/sip/test_fuzz_*.py``, ``tests/media/test_fuzz_media.py``);
``make fuzz`` runs ``bench/hostile.py --parsers-only`` for minutes.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bailanys.engine.call import _is_ip
from bailanys.errors import RtpParseError, SdpError, SipParseError
from bailanys.media.dtmf4733 import DIGITS, Rfc4733Receiver, Rfc4733Sender, TelephoneEvent
from bailanys.media.rtcp import RtcpState
from bailanys.media.rtp import (
    RtcpByePacket,
    RtcpPacket,
    RtcpReportBlock,
    RtcpSdesPacket,
    RtpPacket,
    build_compound,
    build_rr,
    build_sr,
    is_rtcp,
    parse_rtp_header,
)
from bailanys.sip.dialog import Dialog, dialog_id_of
from bailanys.sip.digest import DigestChallenger, parse_auth_header
from bailanys.sip.endpoint import Endpoint, ServerHandle
from bailanys.sip.framing import StreamFramer
from bailanys.sip.headers import NameAddr, SipUri, Via
from bailanys.sip.matching import client_key, server_key
from bailanys.sip.message import Request, Response, make_response, parse_message
from bailanys.sip.sdp import SessionDescription, make_offer, negotiate, parse_answer
from bailanys.sip.transport import Source
from bailanys.sip.validate import validate_request

TESTS = Path(__file__).resolve().parent

#: Replacements for a run of digits: what broke or could break a number parser.
NUMBERS: tuple[bytes, ...] = (
    b"0", b"00", b"-0", b"-1", b"+1", b" 1", b"1 ", b"", b"1.5", b"20.", b".5",
    b"255", b"256", b"65535", b"65536", b"2147483647", b"2147483648", b"4294967295",
    b"4294967296", b"18446744073709551615", b"18446744073709551616", b"9" * 21,
    b"9" * 400, b"9" * 4301, b"9" * 5000, b"0" * 5000 + b"1",
    b"inf", b"-inf", b"+inf", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"1e308",
    b"1E5", b"NaN", b"nan", b"-nan", b"0x10", b"0b1", b"1_000", b"1__0",
    "١٢٣".encode(), "５０６０".encode(), "²".encode(), b"1\x00", b"1\r\n2",
)
#: Bytes that mean something to a text grammar.
SPECIAL = b" \t\r\n:;=,/<>\"\\@?&%[]()*#+-.0\x00\x7f\x80\xff"
#: Word values for binary packets (RTP lengths, counts, SSRCs).
WORDS = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF)
MAX_INPUT = 64 * 1024  # a UDP datagram (RFC 768); a stream frame is bounded the same
_NUMBER_RE = re.compile(rb"[0-9]+(?:\.[0-9]+)?")
_LINE_RE = re.compile(rb"[^\n]*\n|[^\n]+")


class MustNotRaise(Exception):
    """Raised by a target when a step that must never raise did (always an escape)."""


def never(fn: Callable[[], object], what: str) -> None:
    """Run ``fn``; any exception becomes a :class:`MustNotRaise` naming ``what``."""
    try:
        fn()
    except Exception as exc:
        raise MustNotRaise(f"{what}: {type(exc).__name__}: {exc}"[:300]) from exc


@dataclass
class Target:
    """One parser under fuzzing: seeds, the function fed, the errors it may raise."""

    name: str
    seeds: Sequence[bytes]
    run: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    binary: bool = False


@dataclass
class FuzzReport:
    """What one fuzz run did: inputs tried, how many escaped, the first few escapes."""

    name: str
    tried: int = 0
    escapes: int = 0
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.tried / self.seconds if self.seconds else 0.0
        return (f"{self.name:<10} {self.tried:>9,} inputs tried, {self.escapes} escaped "
                f"({rate:,.0f}/s)")


# ---------------------------------------------------------------- mutations


def _mutate_text(data: bytearray, rng: random.Random, seeds: Sequence[bytes]) -> None:
    op = rng.randrange(10)
    n = len(data)
    pos = rng.randrange(n + 1)
    if op <= 2:  # a number becomes a poisonous one (3 in 10: the class of issue 13)
        spans = [m.span() for m in _NUMBER_RE.finditer(data)]
        if spans:
            a, b = rng.choice(spans)
            data[a:b] = rng.choice(NUMBERS)
            return
        data[pos:pos] = rng.choice(NUMBERS)
    elif op == 3 and n:
        data[min(pos, n - 1)] = rng.choice(SPECIAL) if rng.random() < 0.7 else rng.randrange(256)
    elif op == 4:
        data[pos:pos] = bytes(rng.choice(SPECIAL) for _ in range(rng.randint(1, 6)))
    elif op == 5 and n:
        del data[pos:pos + rng.randint(1, 16)]
    elif op == 6:  # a line from any seed, inserted at a line start
        lines = _LINE_RE.findall(rng.choice(seeds))
        if lines:
            starts = [0, *(m.end() for m in re.finditer(rb"\n", data))]
            at = rng.choice(starts)
            data[at:at] = rng.choice(lines)
    elif op == 7:  # a line deleted or repeated
        lines = _LINE_RE.findall(bytes(data))
        if lines:
            i = rng.randrange(len(lines))
            if rng.random() < 0.5:
                del lines[i]
            else:
                lines[i:i] = [lines[i]] * rng.randint(1, 20)
            data[:] = b"".join(lines)
    elif op == 8 and n:  # a chunk repeated (long values)
        a = rng.randrange(n)
        chunk = data[a:a + rng.randint(1, 40)]
        data[a:a] = chunk * rng.randint(2, 200)
    else:
        del data[pos:]


def _mutate_binary(data: bytearray, rng: random.Random, seeds: Sequence[bytes]) -> None:
    op = rng.randrange(8)
    n = len(data)
    pos = rng.randrange(n) if n else 0
    if op == 0 and n:
        data[pos] ^= 1 << rng.randrange(8)
    elif op == 1 and n:
        data[pos] = rng.choice((0, 1, 0x0F, 0x10, 0x20, 0x3F, 0x7F, 0x80, 0xBF, 0xC0, 0xFF))
    elif op == 2 and n >= 2:
        size = rng.choice((2, 4)) if n >= 4 else 2
        at = rng.randrange(n - size + 1)
        data[at:at + size] = (rng.choice(WORDS) & ((1 << 8 * size) - 1)).to_bytes(size, "big")
    elif op == 3:
        del data[rng.randrange(n + 1):]
    elif op == 4:
        data.extend(rng.randbytes(rng.randint(1, 64)))
    elif op == 5:
        data.extend(rng.choice(seeds))  # compound / concatenated packets
    elif op == 6 and n:
        del data[pos:pos + rng.randint(1, 8)]
    else:
        data[pos:pos] = rng.randbytes(rng.randint(1, 8))


def mutate(seed: bytes, rng: random.Random, seeds: Sequence[bytes], binary: bool) -> bytes:
    """1 to 5 mutations of ``seed`` (or of random bytes, now and then)."""
    if rng.random() < 0.02:
        return rng.randbytes(rng.randint(0, 300))
    data = bytearray(seed)
    step = _mutate_binary if binary else _mutate_text
    for _ in range(rng.choice((1, 1, 2, 2, 3, 5))):
        step(data, rng, seeds)
    return bytes(data[:MAX_INPUT])


def fuzz(
    target: Target,
    *,
    inputs: int | None = None,
    seconds: float | None = None,
    seed: int = 13,
    keep: int = 5,
) -> FuzzReport:
    """Feed mutated seeds to ``target`` until ``inputs`` are tried or ``seconds`` pass.

    The seeds themselves go first.  Runs inside an asyncio loop (the SIP
    endpoint schedules its timers on it); returns the :class:`FuzzReport`.
    """
    if inputs is None and seconds is None:
        raise ValueError("give inputs or seconds")
    return asyncio.run(_fuzz(target, inputs, seconds, seed, keep))


async def _fuzz(
    target: Target, inputs: int | None, seconds: float | None, seed: int, keep: int
) -> FuzzReport:
    rng = random.Random(f"{target.name}:{seed}")
    report = FuzzReport(target.name)
    t0 = time.monotonic()
    deadline = None if seconds is None else t0 + seconds
    while True:
        if inputs is not None and report.tried >= inputs:
            break
        if deadline is not None and report.tried % 64 == 0 and time.monotonic() >= deadline:
            break
        if report.tried < len(target.seeds):
            data = target.seeds[report.tried]
        else:
            data = mutate(rng.choice(target.seeds), rng, target.seeds, target.binary)
        report.tried += 1
        try:
            target.run(data)
        except target.allowed:
            pass
        except Exception as exc:
            report.escapes += 1
            if len(report.examples) < keep:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                report.examples.append(
                    f"{type(exc).__name__}: {str(exc)[:200]} at {Path(where.filename).name}:"
                    f"{where.lineno} on {data[:300]!r}{'...' if len(data) > 300 else ''}"
                )
        if report.tried % 256 == 0:
            await asyncio.sleep(0)  # let cancelled endpoint timers go
    report.seconds = time.monotonic() - t0
    return report


# ---------------------------------------------------------------- SDP


def sdp_seeds() -> list[bytes]:
    """The real-peer SDP bodies of tests/sip/test_sdp.py and the torture messages' bodies."""
    from tests.sip import test_sdp as t

    seeds = [t.SIPP_UAC, t.SIPP_UAC_PCAP, t.PYVOIP_INVITE, t.LINPHONE, t.ASTERISK_HOLD,
             t.WEBRTC, *t.ROUND_TRIP]
    for path in sorted((TESTS / "sip" / "torture").glob("*.sip")):
        head, sep, body = path.read_bytes().partition(b"\r\n\r\n")
        if sep and body.lstrip().startswith(b"v=0"):
            seeds.append(body)
    return seeds


_OUR_OFFER = make_offer("192.0.2.1", 30000, 1)


def run_sdp(data: bytes) -> None:
    """Everything the engine does with an SDP body: parse, read, answer, write back."""
    sd = SessionDescription.parse(data)
    for i, md in enumerate(sd.media):
        _ = (md.ptime, md.rtpmaps, md.direction, md.fmtp(101), md.attribute("rtcp"))
        _ = (sd.media_direction(i), sd.media_connection(i))
    written = bytes(sd)
    if SessionDescription.parse(written) != sd:
        raise MustNotRaise(f"written back differently: {written[:200]!r}")
    try:
        answer = negotiate(sd, local_ip="192.0.2.1", local_port=30000, session_id=1)
    except SdpError:
        pass
    else:
        never(lambda: parse_answer(sd, SessionDescription.parse(bytes(answer.sdp))),
              "our answer to a parsed offer")
    if len(sd.media) == len(_OUR_OFFER.media):
        parse_answer(_OUR_OFFER, sd)  # the UAC reading a peer's answer (engine/uac.py)


SDP = Target("SDP", sdp_seeds(), run_sdp, (SdpError,))


# ---------------------------------------------------------------- SIP


def sip_seeds() -> list[bytes]:
    """RFC 4475 torture messages (tests/sip/torture) plus common requests and responses."""
    seeds = [p.read_bytes() for p in sorted((TESTS / "sip" / "torture").glob("*.sip"))]
    base = (
        "Via: SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bK776asdhds;rport\r\n"
        "From: \"Alice\" <sip:1001@192.0.2.5>;tag=1928301774\r\n"
        "To: <sip:1414@192.0.2.1>{to_tag}\r\n"
        "Call-ID: a84b4c76e66710@192.0.2.5\r\n"
        "CSeq: 314159 {method}\r\n"
        "Contact: <sip:1001@192.0.2.5:5060>;expires=3600;q=0.7\r\n"
        "Max-Forwards: 70\r\n"
        "Expires: 3600\r\n"
        "Record-Route: <sip:p1.example.com;lr>\r\n"
        "{extra}"
        "Content-Length: {length}\r\n\r\n{body}"
    )
    sdp = sdp_seeds()[0].decode()
    auth = ('Authorization: Digest username="1001", realm="bailanys", nonce="1a.2b.3c", '
            'uri="sip:192.0.2.1", response="6629fae49393a05397450978507c4ef1", '
            'algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b"\r\n')
    for start, method, extra, body in (
        ("INVITE sip:1414@192.0.2.1:5060 SIP/2.0", "INVITE",
         "Content-Type: application/sdp\r\n", sdp),
        ("REGISTER sip:192.0.2.1 SIP/2.0", "REGISTER", auth, ""),
        ("BYE sip:1414@192.0.2.1 SIP/2.0", "BYE", "", ""),
        ("OPTIONS sip:192.0.2.1 SIP/2.0", "OPTIONS", "Accept: application/sdp\r\n", ""),
        ("SIP/2.0 200 OK", "INVITE", "Content-Type: application/sdp\r\n", sdp),
        ("SIP/2.0 401 Unauthorized", "REGISTER",
         'WWW-Authenticate: Digest realm="x", nonce="y", qop="auth"\r\n', ""),
        ("SIP/2.0 503 Service Unavailable", "INVITE", "Retry-After: 5\r\n", ""),
    ):
        to_tag = ";tag=as6151ad25" if start.startswith("SIP/") or method == "BYE" else ""
        text = start + "\r\n" + base.format(to_tag=to_tag, method=method, extra=extra,
                                            length=len(body.encode()), body=body)
        seeds.append(text.encode())
    return seeds


class _Nowhere:
    """A :class:`~bailanys.sip.endpoint.Sender` that drops what it is given."""

    def send(self, data: bytes, addr: tuple[str, int], transport: str = "UDP") -> None:
        pass


class _Answering:
    """A transaction user answering every request at once, as the engine's refusals do."""

    def on_request(self, handle: ServerHandle) -> None:
        handle.reply(486 if handle.request.method == "INVITE" else 200, to_tag="fz1")

    def on_ack(self, ack: Request, source: Source) -> None:
        pass

    def on_cancel(self, invite: ServerHandle) -> None:
        invite.reply(487, to_tag="fz1")

    def on_stray_response(self, response: Response, source: Source) -> None:
        pass


_SOURCE = Source("UDP", ("192.0.2.5", 5060))
_CHALLENGER = DigestChallenger("bailanys", b"k" * 32)


class _SipTarget:
    """Parse, validate, read every header the engine reads, and hand it to an endpoint."""

    def __init__(self) -> None:
        self._endpoint: Endpoint | None = None
        self._fed = 0

    def endpoint(self) -> Endpoint:
        # A fresh endpoint now and then: transactions and their timers pile up.
        if self._endpoint is None or self._fed >= 200:
            if self._endpoint is not None:
                self._endpoint.close()
            self._endpoint = Endpoint(_Nowhere(), "192.0.2.1", 5060)
            self._endpoint.user = _Answering()
            self._fed = 0
        self._fed += 1
        return self._endpoint

    def __call__(self, data: bytes) -> None:
        cut = len(data) // 3
        framer = StreamFramer()
        never(lambda: (framer.feed(data[:cut]), framer.feed(data[cut:]), framer.eof()),
              "stream framer")
        endpoint = self.endpoint()
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            never(functools.partial(endpoint.bad_message, data, _SOURCE, exc), "stateless answer")
            raise
        never(lambda: endpoint.receive(msg, _SOURCE), "endpoint")
        if isinstance(msg, Response):
            _ = (msg.status, msg.call_id, msg.content_type)
            dialog_id_of(msg, uas=False)
            client_key(msg)
            msg.cseq  # noqa: B018 - the property parses
            return
        validate_request(msg)
        never(lambda: _read_request(msg), "a request that passed validate_request")


def _read_request(req: Request) -> None:
    """What the engine reads from a validated request (each must parse now)."""
    _ = (req.cseq, req.call_id, req.content_type, server_key(req), dialog_id_of(req, uas=True))
    for name in ("From", "To"):
        NameAddr.parse(req.headers.get(name) or "")
    for via in req.headers.get_all("Via"):
        Via.parse(via)
    SipUri.parse(req.uri)
    response = make_response(req, 488, "Bad SDP (x)", to_tag="fz1")
    parsed = parse_message(bytes(response))
    if not isinstance(parsed, Response) or parsed.status != 488:
        raise AssertionError("our response does not parse back")
    if req.method == "INVITE":
        try:
            dialog = Dialog.uas(req, "fz1", "<sip:bailanys@192.0.2.1>")
        except SipParseError as exc:
            if "Contact" not in str(exc):
                raise
        else:  # our BYE in that dialog (§12.2.1.1), and where it would go
            bye = dialog.create_request("BYE", via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfz")
            if not isinstance(parse_message(bytes(bye)), Request):
                raise AssertionError("our BYE does not parse back")
            _is_ip(SipUri.parse(dialog.remote_target).host)
    for value in req.headers.get_all("Authorization"):
        try:
            parse_auth_header(value)
        except SipParseError:
            pass
        _CHALLENGER.verify(value, req.method, lambda user: "pw", 1.0)


SIP = Target("SIP", sip_seeds(), _SipTarget(), (SipParseError,))


# ---------------------------------------------------------------- RTP and RTCP


def rtp_seeds() -> list[bytes]:
    """RTP as callers send it: PCMU, CSRCs, a header extension, padding, RFC 4733."""
    te = bytes(TelephoneEvent(5, True, 10, 800))
    return [
        bytes(RtpPacket(0, True, 1, 160, 0x1234, b"\xff" * 160)),
        bytes(RtpPacket(8, False, 65535, 2**32 - 160, 1, b"\xd5" * 160, csrc=[1, 2, 3])),
        bytes(RtpPacket(0, False, 7, 1120, 9, b"\x7f" * 20,
                        extension=b"\xbe\xde\x00\x01\x10\xff\x00\x00")),
        bytes(RtpPacket(0, False, 8, 1280, 9, b"\x00" * 20, padding=4)),
        bytes(RtpPacket(101, True, 9, 1440, 9, te)),
    ]


def run_rtp(data: bytes) -> None:
    """The receive path of an RTP datagram: header, packet, RFC 4733 payload."""
    if is_rtcp(data):
        run_rtcp(data)
        return
    header = parse_rtp_header(data)
    pkt = RtpPacket.parse(data)
    if header != (pkt.payload_type, pkt.marker, pkt.sequence_number, pkt.timestamp, pkt.ssrc):
        raise MustNotRaise("the fast header parse disagrees with the packet parse")
    if RtpPacket.parse(bytes(pkt)) != pkt:
        raise MustNotRaise("an RTP packet written back parses differently")
    if pkt.payload_type == 101:
        TelephoneEvent.parse(pkt.payload)


def rtcp_seeds() -> list[bytes]:
    block = RtcpReportBlock(0x1234, 12, -3, 70000, 44, 0x11223344, 65536)
    return [
        build_sr(0x5678, ntp_timestamp=2**63 + 5, rtp_timestamp=160, packet_count=10,
                 octet_count=1600, reports=[block], cname="bailanys@192.0.2.1"),
        build_rr(0x5678, [block, block], cname="x"),
        build_compound([RtcpByePacket([1, 2], b"bye")]),
        build_compound([RtcpSdesPacket.cname(7, "a" * 255)]),
        bytes.fromhex("81cc0006") + b"\x00\x00\x00\x01name" + b"\x00" * 16,  # APP, skipped
    ]


def run_rtcp(data: bytes) -> None:
    """A compound RTCP datagram, parsed and read into a leg's RTCP state (RFC 3550 §6)."""
    packets = RtcpPacket.parse_compound(data)
    state = RtcpState(0x1234, "bailanys")
    state.receive(data, 1_000_000.0)
    never(lambda: state.summary(10), "RTCP summary")
    for pkt in packets:
        never(functools.partial(bytes, pkt), "an RTCP packet written back")


RTP = Target("RTP", rtp_seeds(), run_rtp, (RtpParseError,), binary=True)
RTCP = Target("RTCP", rtcp_seeds(), run_rtcp, (RtpParseError,), binary=True)


# ---------------------------------------------------------------- RFC 4733

_RECORD = 9  # a fuzz input is a run of packets: timestamp (4), marker (1), payload (4)


def dtmf_seeds() -> list[bytes]:
    """Whole key presses (and a long one, split into 0xFFFF segments, RFC 4733 §2.5.1.3)."""
    sender = Rfc4733Sender()
    seeds = []
    for digits, ms in (("5", 100), ("1#", 60), ("*0", 40), ("9", 9000)):
        out = bytearray()
        ts = 1000
        for d in digits:
            for payload, marker, stamp in sender.packets(d, start_timestamp=ts, duration_ms=ms):
                out += stamp.to_bytes(4, "big") + bytes([marker]) + payload
            ts += 8 * ms + 800
        seeds.append(bytes(out))
    return seeds


def run_dtmf(data: bytes) -> None:
    """Packets fed to a receiver (bad ones dropped, as the session does); digits valid."""
    rx = Rfc4733Receiver()
    digits: list[str | None] = []
    ts = 0
    for at in range(0, len(data), _RECORD):
        record = data[at:at + _RECORD]
        ts = int.from_bytes(record[:4], "big")
        try:
            digits.append(rx.feed(ts, record[5:], bool(record[4:5] != b"\x00")))
        except RtpParseError:
            continue
        digits.append(rx.tick(ts))
    digits.append(rx.tick(ts + 100_000))
    bad = [d for d in digits if d is not None and (len(d) != 1 or d not in DIGITS)]
    if bad:
        raise MustNotRaise(f"not DTMF digits: {bad}")
    TelephoneEvent.parse(data)


DTMF = Target("RFC 4733", dtmf_seeds(), run_dtmf, (RtpParseError,), binary=True)

TARGETS: tuple[Target, ...] = (SIP, SDP, RTP, RTCP, DTMF)
