"""Lost 200s (RFC 3261 §13.3.1.4, §17.2.1): retransmitted INVITEs and re-INVITEs.

A plain UDP socket plays a caller whose network loses messages: it repeats
its INVITE after the engine's 200 and withholds ACKs.  The engine must resend
its 200 (never start a second call) and keep retransmitting a re-INVITE's 200
until the ACK comes.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from bailanys.sip.message import Request, parse_message
from bailanys.sip.transaction import TransactionState
from tests.peers.conftest import EngineFactory, EngineUnderTest, events_of, wait_until_idle

pytestmark = pytest.mark.peer

SDP = (
    "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n"
)


class Phone:
    def __init__(self, engine: EngineUnderTest) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.target = (engine.config.sip.host, engine.transport.port)
        self.to_tag = ""

    def request(self, method: str, cseq: int, branch: str, *, body: str = "",
                to_tag: str = "") -> bytes:
        tag = f";tag={to_tag}" if to_tag else ""
        head = [
            f"{method} sip:1414@127.0.0.1 SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:caller@127.0.0.1:{self.port}>;tag=caller1",
            f"To: <sip:1414@127.0.0.1>{tag}",
            "Call-ID: retrans-test@127.0.0.1",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:caller@127.0.0.1:{self.port}>",
        ]
        if body:
            head.append("Content-Type: application/sdp")
        head.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(head) + "\r\n\r\n" + body).encode()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    async def responses(self, seconds: float) -> list[str]:
        """Every response received within ``seconds``, as text."""
        loop = asyncio.get_running_loop()
        out: list[str] = []
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), left)
            except TimeoutError:
                break
            out.append(data.decode())
        return out


def pending_invites(engine: EngineUnderTest) -> list[object]:
    """INVITE server transactions still waiting for a final answer (a leak if any stay)."""
    return [
        h for h in engine.endpoint._servers.values()
        if h.request.method == "INVITE" and h.state is TransactionState.PROCEEDING
    ]


def to_tag_of(responses: list[str]) -> str:
    ok = next(r for r in responses if r.startswith("SIP/2.0 200"))
    to = next(line for line in ok.split("\r\n") if line.startswith("To:"))
    return to.split("tag=")[1]


def status_lines(responses: list[str], cseq_method: str) -> list[int]:
    return [int(r.split(" ", 2)[1]) for r in responses if f" {cseq_method}\r\n" in r]


async def test_repeated_invite_after_200_gets_the_200_again_not_a_second_call(
    engine: EngineUnderTest,
) -> None:
    phone = Phone(engine)
    invite = phone.request("INVITE", 1, "inv1", body=SDP.format(port=41000,
                                                                  direction="sendrecv"))
    phone.send(invite)
    first = await phone.responses(0.3)
    assert 200 in status_lines(first, "1 INVITE")
    phone.send(invite)  # as if the 200 was lost
    again = await phone.responses(0.3)
    assert 200 in status_lines(again, "1 INVITE")
    assert len(engine.calls) == 1
    assert len(await events_of(engine, "call.offered")) == 1
    assert not pending_invites(engine)  # the repeat's own transaction got the 200 too
    to_tag = to_tag_of(first)
    phone.send(phone.request("ACK", 1, "ack1", to_tag=to_tag))
    phone.send(phone.request("BYE", 2, "bye1", to_tag=to_tag))
    assert 200 in status_lines(await phone.responses(0.5), "2 BYE")
    assert await wait_until_idle(engine)


async def test_reinvite_200_is_retransmitted_until_acked(engine: EngineUnderTest) -> None:
    phone = Phone(engine)
    phone.send(phone.request("INVITE", 1, "inv2", body=SDP.format(port=41002,
                                                                   direction="sendrecv")))
    first = await phone.responses(0.3)
    to_tag = to_tag_of(first)
    phone.send(phone.request("ACK", 1, "ack2", to_tag=to_tag))
    hold = phone.request("INVITE", 2, "reinv2", to_tag=to_tag,
                         body=SDP.format(port=41002, direction="sendonly"))
    phone.send(hold)
    # No ACK: the 200 comes at once, then again after T1 (0.5 s) and 2*T1.
    unacked = status_lines(await phone.responses(1.7), "2 INVITE")
    assert unacked.count(200) >= 3, unacked
    phone.send(hold)  # the re-INVITE repeated: answered with the same 200
    repeated = [r for r in await phone.responses(0.2) if r.startswith("SIP/2.0 200")]
    assert repeated and "a=recvonly" in repeated[0]
    assert not pending_invites(engine)
    assert len(await events_of(engine, "call.hold")) == 1  # processed once
    phone.send(phone.request("ACK", 2, "ack2b", to_tag=to_tag))
    await asyncio.sleep(0.05)
    assert status_lines(await phone.responses(1.2), "2 INVITE") == []  # stopped
    phone.send(phone.request("BYE", 3, "bye2", to_tag=to_tag))
    assert 200 in status_lines(await phone.responses(0.5), "3 BYE")
    assert await wait_until_idle(engine)


async def test_a_silent_peer_is_hung_up_after_the_rtp_timeout(
    engine_factory: EngineFactory,
) -> None:
    """A caller that vanished without BYE (no RTP at all) gets a BYE after media.rtp_timeout_s."""
    engine = await engine_factory(media={"rtp_timeout_s": 1})
    phone = Phone(engine)
    phone.send(phone.request("INVITE", 1, "inv3", body=SDP.format(port=41004,
                                                                   direction="sendrecv")))
    to_tag = to_tag_of(await phone.responses(0.3))
    phone.send(phone.request("ACK", 1, "ack3", to_tag=to_tag))
    got = await phone.responses(3.5)
    byes = [r for r in got if r.startswith("BYE ")]
    assert byes, got
    (ended,) = await events_of(engine, "call.ended")
    assert (ended.data["cause"], ended.data["reason"]) == ("rtp_timeout", "rtp_timeout")
    assert await wait_until_idle(engine)


async def test_a_call_on_hold_is_not_timed_out(engine_factory: EngineFactory) -> None:
    engine = await engine_factory(media={"rtp_timeout_s": 1})
    phone = Phone(engine)
    phone.send(phone.request("INVITE", 1, "inv4", body=SDP.format(port=41006,
                                                                   direction="inactive")))
    to_tag = to_tag_of(await phone.responses(0.3))
    phone.send(phone.request("ACK", 1, "ack4", to_tag=to_tag))
    got = await phone.responses(2.5)
    assert not [r for r in got if r.startswith("BYE ")]
    assert len(engine.calls) == 1
    phone.send(phone.request("BYE", 2, "bye4", to_tag=to_tag))
    assert 200 in status_lines(await phone.responses(0.5), "2 BYE")


async def test_ack_with_a_foreign_to_tag_confirms_the_call(engine: EngineUnderTest) -> None:
    """pyVoIP 1.6.8 puts a fresh To tag in its ACK; same Call-ID, From tag and CSeq:
    the call is confirmed (its flow starts) instead of timing out with no ACK."""
    phone = Phone(engine)
    phone.send(phone.request("INVITE", 1, "inv1", body=SDP.format(port=40000,
                                                                 direction="sendrecv")))
    got = await phone.responses(1.0)
    assert any(r.startswith("SIP/2.0 200") for r in got), got
    phone.send(phone.request("ACK", 1, "ack1", to_tag="not-the-engines-tag"))
    for _ in range(50):
        if await events_of(engine, "call.language") or any(
            c.state.value == "confirmed" for c in engine.calls.values()
        ):
            break
        await asyncio.sleep(0.05)
    assert [c.state.value for c in engine.calls.values()] == ["confirmed"]
    # Once confirmed, or with another CSeq, a foreign tag is not taken.
    other = parse_message(phone.request("ACK", 7, "ack2", to_tag="x"))
    assert isinstance(other, Request)
    assert engine.uas._ack_with_wrong_to_tag(other) is None
