"""Simulated operators' phones for ``bench/desk_pop.py``: a light asyncio SIP UA over UDP.

One :class:`Phone` per operator, each on its own UDP socket (the registrar
sends the INVITE to where the REGISTER came from, so one socket is one
phone). A phone:

* registers with digest authentication (RFC 3261 §10.2, RFC 7616: the
  first REGISTER is challenged with 401, the second answers the challenge),
  resending a REGISTER that got no answer (§17.1.2.1, timer E);
* answers an INVITE with 180 Ringing at once and reports the INVITE's
  arrival (``time.monotonic()`` read first thing in ``datagram_received``)
  in ``rings``; after ``answer_s`` it sends 200 OK with an SDP
  answer (PCMU, RFC 3264 §6) and resends it until the ACK comes (§13.3.1.4,
  T1 doubling to T2);
* answers a CANCEL with 200 and the INVITE with 487 (§9.2), a BYE with 200
  (§15.1.2), any other in-dialog request with 200 (a re-INVITE gets the
  same SDP again), and a retransmitted INVITE with its last response.

The phone never hangs up: the caller (SIPp) does, as a citizen would. Its
RTP goes to one shared sink socket (nothing is measured on the media).
Messages are parsed and built with the engine's own SIP module
(:mod:`bailanys.sip.message`), whose parser is fuzzed in ``make fuzz``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import cast

from bailanys.errors import SipParseError
from bailanys.sip.digest import build_authorization
from bailanys.sip.message import Request, Response, make_response, parse_message

#: RFC 3261 §17.1.1.1: T1 = 500 ms (round-trip estimate), T2 = 4 s.
T1_S = 0.5
T2_S = 4.0
#: §17.1.1.2: a transaction gives up after 64*T1.
GIVE_UP_S = 64 * T1_S
#: Registrations last an hour (the registrar's default_expires): no refresh
#: falls inside a one-minute bench run.
REGISTER_EXPIRES_S = 3600


def sdp_answer(host: str, rtp_port: int) -> bytes:
    """A PCMU-only SDP answer (RFC 3264 §6; G.711 µ-law is in every offer of the engine)."""
    sid = secrets.randbelow(2**31)
    return (f"v=0\r\no=phone {sid} {sid} IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\n"
            f"t=0 0\r\nm=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\na=sendrecv\r\n").encode()


def register_request(registrar: tuple[str, int], local: tuple[str, int], user: str,
                     call_id: str, cseq: int, auth: str | None = None) -> Request:
    """A REGISTER binding ``user`` to this socket (RFC 3261 §10.2)."""
    host, port = registrar
    headers = [
        ("Via", f"SIP/2.0/UDP {local[0]}:{local[1]};branch=z9hG4bK{secrets.token_hex(8)};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:{user}@{host}>;tag={secrets.token_hex(4)}"),
        ("To", f"<sip:{user}@{host}>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} REGISTER"),
        ("Contact", f"<sip:{user}@{local[0]}:{local[1]}>"),
        ("Expires", str(REGISTER_EXPIRES_S)),
        ("User-Agent", "bailanys-bench-phone"),
    ]
    if auth:
        headers.append(("Authorization", auth))
    return Request.build("REGISTER", f"sip:{host}:{port}", headers)


@dataclass
class _Leg:
    """One INVITE the phone received (a call to the operator)."""

    invite: Request
    to_tag: str
    last: Response
    answered: bool = False
    acked: bool = False
    done: bool = False
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class Phone(asyncio.DatagramProtocol):
    """One operator's SIP phone on its own UDP socket."""

    def __init__(self, user: str, password: str, registrar: tuple[str, int], rtp_port: int,
                 *, answer_s: float = 1.0) -> None:
        self.user, self.password, self.registrar = user, password, registrar
        self.rtp_port, self.answer_s = rtp_port, answer_s
        self.transport: asyncio.DatagramTransport | None = None
        self.local = ("127.0.0.1", 0)
        self.registered: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.legs: dict[str, _Leg] = {}
        self.invites = 0
        #: (Call-ID, arrival) of each new INVITE; the Call-IDs whose 200 was ACKed.
        self.rings: list[tuple[str, float]] = []
        self.answered_ids: set[str] = set()
        self.answered = 0  # 200 OK sent
        self.acked = 0  # ... and its ACK received
        self.byes = 0
        self.unparsed = 0
        self._reg_call_id = f"{secrets.token_hex(8)}@bench"
        self._reg_cseq = 0
        self._reg_resend: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is no subclass
        self.local = transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        now = time.monotonic()  # first thing: the INVITE's arrival
        try:
            msg = parse_message(data)
        except SipParseError:
            self.unparsed += 1
            return
        if isinstance(msg, Response):
            self._on_response(msg)
        else:
            self._on_request(msg, addr, now)

    def _send(self, msg: Request | Response, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(bytes(msg), addr)

    def close(self) -> None:
        for leg in self.legs.values():
            if leg.timer is not None:
                leg.timer.cancel()
        if self._reg_resend is not None:
            self._reg_resend.cancel()
        if self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------ registration

    def register(self, auth: str | None = None) -> None:
        """Send a REGISTER (again every T1, doubling, until answered: timer E)."""
        self._reg_cseq += 1
        req = register_request(self.registrar, self.local, self.user, self._reg_call_id,
                               self._reg_cseq, auth)
        self._resend(req, T1_S, time.monotonic() + GIVE_UP_S)

    def _resend(self, req: Request, interval: float, give_up: float) -> None:
        if self.registered.done():
            return
        if time.monotonic() > give_up:
            self.registered.set_result(408)
            return
        self._send(req, self.registrar)
        loop = asyncio.get_running_loop()
        self._reg_resend = loop.call_later(interval, self._resend, req, min(interval * 2, T2_S),
                                           give_up)

    def _on_response(self, resp: Response) -> None:
        try:
            cseq, method = resp.cseq
        except SipParseError:
            return
        if method != "REGISTER" or cseq != self._reg_cseq or resp.status < 200:
            return
        if self._reg_resend is not None:
            self._reg_resend.cancel()
        challenge = resp.headers.get("WWW-Authenticate")
        if resp.status == 401 and challenge and self._reg_cseq == 1:
            host, port = self.registrar
            auth = build_authorization(challenge, method="REGISTER", uri=f"sip:{host}:{port}",
                                       username=self.user, password=self.password)
            self.register(auth)
        elif not self.registered.done():
            self.registered.set_result(resp.status)

    # ------------------------------------------------------------ calls

    def _on_request(self, req: Request, addr: tuple[str, int], now: float) -> None:
        leg = self.legs.get(req.call_id)
        if req.method == "INVITE" and leg is None:
            self._new_invite(req, addr, now)
        elif req.method == "INVITE" and leg is not None and req.cseq == leg.invite.cseq:
            self._send(leg.last, addr)  # a retransmission: our answer was lost (§17.2.1)
        elif req.method == "ACK":
            if leg is not None and not leg.acked:
                leg.acked = True
                self.acked += leg.answered
                if leg.answered:
                    self.answered_ids.add(req.call_id)
        elif req.method == "CANCEL":
            self._send(make_response(req, 200), addr)
            if leg is not None and not leg.answered:
                self._final(leg, make_response(leg.invite, 487, to_tag=leg.to_tag), addr)
        elif req.method == "BYE":
            self._send(make_response(req, 200), addr)
            self.byes += 1
            if leg is not None:
                leg.done = True
                del self.legs[req.call_id]
        elif req.method == "INVITE" and leg is not None:  # re-INVITE: same media
            self._send(make_response(req, 200, extra=self._contact(),
                                     body=sdp_answer(self.local[0], self.rtp_port)), addr)
        else:
            self._send(make_response(req, 200 if leg is not None or req.method == "OPTIONS"
                                     else 481), addr)

    def _contact(self) -> list[tuple[str, str]]:
        return [("Contact", f"<sip:{self.user}@{self.local[0]}:{self.local[1]}>"),
                ("Content-Type", "application/sdp")]

    def _new_invite(self, req: Request, addr: tuple[str, int], now: float) -> None:
        self.invites += 1
        self.rings.append((req.call_id, now))
        tag = secrets.token_hex(4)
        ringing = make_response(req, 180, to_tag=tag,
                                extra=[("Contact", self._contact()[0][1])])
        leg = _Leg(req, tag, ringing)
        self.legs[req.call_id] = leg
        self._send(ringing, addr)
        loop = asyncio.get_running_loop()
        leg.timer = loop.call_later(self.answer_s, self._answer, leg, addr)

    def _answer(self, leg: _Leg, addr: tuple[str, int]) -> None:
        if leg.done or leg.answered:
            return
        leg.answered = True
        self.answered += 1
        ok = make_response(leg.invite, 200, to_tag=leg.to_tag, extra=self._contact(),
                           body=sdp_answer(self.local[0], self.rtp_port))
        leg.last = ok
        self._resend_2xx(leg, addr, T1_S, time.monotonic() + GIVE_UP_S)

    def _resend_2xx(self, leg: _Leg, addr: tuple[str, int], interval: float,
                    give_up: float) -> None:
        """Send the 200 until its ACK (RFC 3261 §13.3.1.4)."""
        if leg.acked or leg.done or time.monotonic() > give_up:
            return
        self._send(leg.last, addr)
        loop = asyncio.get_running_loop()
        leg.timer = loop.call_later(interval, self._resend_2xx, leg, addr,
                                    min(interval * 2, T2_S), give_up)

    def _final(self, leg: _Leg, resp: Response, addr: tuple[str, int]) -> None:
        if leg.timer is not None:
            leg.timer.cancel()
        leg.done = True
        leg.last = resp
        self._send(resp, addr)
        # Keep the leg a while for its ACK and retransmissions, then forget it.
        asyncio.get_running_loop().call_later(GIVE_UP_S, self.legs.pop, leg.invite.call_id, None)


class RtpSink(asyncio.DatagramProtocol):
    """Where every phone's SDP points: RTP is received and dropped (counted)."""

    def __init__(self) -> None:
        self.packets = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets += 1


async def start_phones(users: list[str], password: str, registrar: tuple[str, int],
                       *, answer_s: float,
                       batch: int = 50,
                       ) -> tuple[list[Phone], asyncio.DatagramTransport, dict[int, int]]:
    """Open one socket per user and register them all, ``batch`` at a time.

    Returns the phones, the RTP sink's transport (close it) and the REGISTER
    outcomes counted by final status (200 for each phone that registered).
    """
    loop = asyncio.get_running_loop()
    sink, _ = await loop.create_datagram_endpoint(RtpSink, local_addr=("127.0.0.1", 0))
    rtp_port = int(sink.get_extra_info("sockname")[1])
    phones: list[Phone] = []
    for user in users:
        _, phone = await loop.create_datagram_endpoint(
            lambda u=user: Phone(u, password, registrar, rtp_port,  # type: ignore[misc]
                                 answer_s=answer_s),
            local_addr=("127.0.0.1", 0))
        phones.append(phone)
    outcomes: dict[int, int] = {}
    for i in range(0, len(phones), batch):
        group = phones[i:i + batch]
        for phone in group:
            phone.register()
        for status in await asyncio.gather(*(p.registered for p in group)):
            outcomes[status] = outcomes.get(status, 0) + 1
    return phones, sink, outcomes
