"""Smoke tests of bench/desk_pop.py's helpers: the simulated phone, the pop pairing.

The phone talks to a registrar and an engine played by this test on
loopback UDP: its REGISTER must answer a real digest challenge
(:class:`~bailanys.sip.digest.DigestChallenger`), and an INVITE must get
180 then 200 with SDP, retransmissions its last answer, CANCEL 200 + 487.
"""

from __future__ import annotations

import asyncio
import secrets

from bailanys.sip.digest import AuthStatus, DigestChallenger
from bailanys.sip.message import Request, Response, make_response, parse_message
from bench.desk_desktops import session_cookie
from bench.desk_match import Popped, Ring, pair, percentile
from bench.desk_phones import start_phones

PASSWORD = "pw-3000"


class _Peer(asyncio.DatagramProtocol):
    """The registrar and the engine's agent leg, as far as the phone can tell."""

    def __init__(self) -> None:
        self.auth = DigestChallenger("bench", b"k" * 32)
        self.got: asyncio.Queue[Response] = asyncio.Queue()
        self.statuses: list[str] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        msg = parse_message(data)
        assert self.transport is not None
        if isinstance(msg, Response):
            self.got.put_nowait(msg)
            return
        auth = msg.headers.get("Authorization")
        if auth is None:
            extra = [("WWW-Authenticate", self.auth.challenge(0.0, bind=addr[0]))]
            self.transport.sendto(bytes(make_response(msg, 401, to_tag="r", extra=extra)), addr)
            return
        status = self.auth.verify(auth, "REGISTER", lambda u: PASSWORD if u == "3000" else None,
                                  0.0, bind=addr[0]).status
        self.statuses.append(status)
        code = 200 if status is AuthStatus.OK else 403
        self.transport.sendto(bytes(make_response(msg, code, to_tag="r")), addr)


def _request(method: str, call_id: str, to_tag: str = "", cseq: int = 1) -> Request:
    body = b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
           b"m=audio 4000 RTP/AVP 0 8\r\n" if method == "INVITE" else b""
    return Request.build(method, "sip:3000@127.0.0.1", [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{call_id}{cseq}"),
        ("From", '"Bailanys" <sip:bailanys@127.0.0.1>;tag=e'),
        ("To", "<sip:3000@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")),
        ("Call-ID", call_id), ("CSeq", f"{cseq} {method}"),
        *([("Content-Type", "application/sdp")] if body else []),
    ], body)


async def test_phone_registers_rings_answers_and_handles_cancel() -> None:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(_Peer, local_addr=("127.0.0.1", 0))
    registrar = transport.get_extra_info("sockname")[:2]
    phones, sink, outcomes = await start_phones(["3000"], PASSWORD, registrar, answer_s=0.05)
    phone = phones[0]
    try:
        assert outcomes == {200: 1} and peer.statuses == [AuthStatus.OK]
        get = peer.got.get

        invite = _request("INVITE", "c1")
        transport.sendto(bytes(invite), phone.local)
        ringing = await asyncio.wait_for(get(), 2)
        assert ringing.status == 180 and ";tag=" in (ringing.headers.get("To") or "")
        transport.sendto(bytes(invite), phone.local)  # retransmitted: the 180 again
        assert (await asyncio.wait_for(get(), 2)).status == 180
        ok = await asyncio.wait_for(get(), 2)
        assert ok.status == 200 and b"m=audio" in ok.body and b" RTP/AVP 0" in ok.body
        assert [c for c, _ in phone.rings] == ["c1"]  # one arrival, not two
        tag = (ok.headers.get("To") or "").split("tag=")[1]
        transport.sendto(bytes(_request("ACK", "c1", tag)), phone.local)
        transport.sendto(bytes(_request("BYE", "c1", tag, 2)), phone.local)
        bye_ok = await asyncio.wait_for(get(), 2)
        assert bye_ok.status == 200 and bye_ok.cseq == (2, "BYE")
        assert (phone.answered, phone.acked, phone.byes) == (1, 1, 1)
        assert phone.answered_ids == {"c1"}

        phone.answer_s = 5.0
        transport.sendto(bytes(_request("INVITE", "c2")), phone.local)
        assert (await asyncio.wait_for(get(), 2)).status == 180
        transport.sendto(bytes(_request("CANCEL", "c2")), phone.local)
        answers = {(r.status, r.cseq[1]) for r in [await asyncio.wait_for(get(), 2)
                                                   for _ in range(2)]}
        assert answers == {(200, "CANCEL"), (487, "INVITE")}
        assert phone.answered == 1 and len(phone.rings) == 2 and phone.answered_ids == {"c1"}
        transport.sendto(b"garbage " + secrets.token_bytes(8), phone.local)
        await asyncio.sleep(0.05)
        assert phone.unparsed == 1
    finally:
        phone.close()
        sink.close()
        transport.close()


def test_pairing_by_agent_and_outcome_in_either_order() -> None:
    rings = {
        "a": [Ring(10.0, True), Ring(40.0, True)],  # pop after the INVITE; a missing pop
        "b": [Ring(11.1, True)],  # pop before the INVITE: negative latency
        "c": [Ring(12.0, False), Ring(12.5, True)],  # the first ring cancelled by its caller
        "e": [Ring(30.0, True)],
    }
    pops = {
        "a": [Popped(10.2, True)],
        "b": [Popped(11.0, True)],
        "c": [Popped(11.99, False), Popped(12.45, True)],
        "d": [Popped(1.0, False)],  # a ring whose INVITE never reached the phone
        "e": [Popped(36.0, True)],  # too far from the INVITE: missing, and stray
    }
    r = pair(rings, pops, window_s=5.0)
    assert sorted(round(x, 3) for x in r.latencies) == [-0.1, -0.05, 0.2]
    assert (r.invites, r.pops, r.missing, r.stray) == (6, 6, 2, 1)
    assert (r.cancelled_invites, r.other_pops) == (1, 2)


def test_percentile_and_cookie() -> None:
    assert percentile(list(range(1, 101)), 99) == 99 and percentile([3.0], 50) == 3.0
    assert percentile([], 99) != percentile([], 99)  # NaN
    raw = b"HTTP/1.1 303 See Other\r\nSet-Cookie: bailanys_session=abc; Path=/\r\n\r\n"
    assert session_cookie(raw) == "bailanys_session=abc"
    assert session_cookie(b"HTTP/1.1 303 See Other\r\nLocation: /login?error=1\r\n\r\n") is None
