"""The transaction layer's asyncio adapter (RFC 3261 §17, §18; RFC 3581).

A fake sender records what goes out, a fake transaction user records what
comes up.  Protocol timers are shrunk (``Timers(t1=0.001)``: 64*T1 = 64 ms),
so the few tests that need a timer to fire wait tens of milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bailanys.errors import SipParseError
from bailanys.sip.endpoint import Endpoint, ServerHandle
from bailanys.sip.headers import Via
from bailanys.sip.message import Request, Response, parse_message
from bailanys.sip.timers import Timers
from bailanys.sip.transaction import TransactionState
from bailanys.sip.transport import Addr, Source
from tests.siptext import req, resp, wire

FAST = Timers(t1=0.001, t2=0.004, t4=0.005, d=0.005)
PHONE = Source("UDP", ("192.0.2.10", 40000))



def timer_names(endpoint: Endpoint) -> set[str]:
    """The names of the SIP timers running now, of every transaction."""
    q = endpoint.timer_queue
    return {name for key in q.keys() for name in q.running(key)}

def invite(via: str = "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKinv1", cseq: int = 1) -> Request:
    return req(f"""
        INVITE sip:1414@198.51.100.1 SIP/2.0
        Via: {via}
        Max-Forwards: 70
        From: <sip:alice@example.com>;tag=a1
        To: <sip:1414@198.51.100.1>
        Call-ID: call-1@10.0.0.1
        CSeq: {cseq} INVITE
        Contact: <sip:alice@10.0.0.1:5062>
    """)


def cancel(branch: str = "z9hG4bKinv1") -> Request:
    return req(f"""
        CANCEL sip:1414@198.51.100.1 SIP/2.0
        Via: SIP/2.0/UDP 10.0.0.1:5062;branch={branch}
        Max-Forwards: 70
        From: <sip:alice@example.com>;tag=a1
        To: <sip:1414@198.51.100.1>
        Call-ID: call-1@10.0.0.1
        CSeq: 1 CANCEL
    """)


def ack(branch: str = "z9hG4bKinv1", to_tag: str = "b1") -> Request:
    return req(f"""
        ACK sip:1414@198.51.100.1 SIP/2.0
        Via: SIP/2.0/UDP 10.0.0.1:5062;branch={branch}
        Max-Forwards: 70
        From: <sip:alice@example.com>;tag=a1
        To: <sip:1414@198.51.100.1>;tag={to_tag}
        Call-ID: call-1@10.0.0.1
        CSeq: 1 ACK
    """)


def options(via: str = "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKopt1") -> Request:
    return req(f"""
        OPTIONS sip:1414@198.51.100.1 SIP/2.0
        Via: {via}
        Max-Forwards: 70
        From: <sip:alice@example.com>;tag=a1
        To: <sip:1414@198.51.100.1>
        Call-ID: opt-1@10.0.0.1
        CSeq: 7 OPTIONS
    """)


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, Addr, str]] = []

    def send(self, data: bytes, addr: Addr, transport: str = "UDP") -> None:
        self.sent.append((data, addr, transport))

    def messages(self) -> list[Request | Response]:
        return [parse_message(data) for data, _, _ in self.sent]

    def statuses(self) -> list[int]:
        return [m.status for m in self.messages() if isinstance(m, Response)]

    def last(self) -> Response:
        msg = parse_message(self.sent[-1][0])
        assert isinstance(msg, Response)
        return msg


class FakeUser:
    """Records every call; ``answer`` (if set) runs inside on_request."""

    def __init__(self, answer: Callable[[ServerHandle], None] | None = None) -> None:
        self.answer = answer
        self.requests: list[ServerHandle] = []
        self.acks: list[tuple[Request, Source]] = []
        self.cancels: list[ServerHandle] = []
        self.strays: list[tuple[Response, Source]] = []

    def on_request(self, handle: ServerHandle) -> None:
        self.requests.append(handle)
        if self.answer is not None:
            self.answer(handle)

    def on_ack(self, ack: Request, source: Source) -> None:
        self.acks.append((ack, source))

    def on_cancel(self, invite: ServerHandle) -> None:
        self.cancels.append(invite)

    def on_stray_response(self, response: Response, source: Source) -> None:
        self.strays.append((response, source))


def make(
    answer: Callable[[ServerHandle], None] | None = None, timers: Timers = FAST
) -> tuple[Endpoint, FakeSender, FakeUser]:
    sender = FakeSender()
    endpoint = Endpoint(sender, "198.51.100.1", 5060, timers=timers)
    user = FakeUser(answer)
    endpoint.user = user
    return endpoint, sender, user


async def until(predicate: Callable[[], bool]) -> None:
    """Let the loop run (shrunk timers fire) until ``predicate`` holds (2 s at most)."""
    for _ in range(2000):
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached in time")


# ------------------------------------------------------------ server side


async def test_new_invite_gets_100_trying_and_reaches_the_tu_once() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite(), PHONE)
    assert sender.statuses() == [100]
    trying = sender.last()
    assert trying.cseq == (1, "INVITE")
    assert trying.headers.get("Call-ID") == "call-1@10.0.0.1"
    assert len(user.requests) == 1
    handle = user.requests[0]
    assert handle.request.method == "INVITE"
    assert handle.source == PHONE
    assert handle.state is TransactionState.PROCEEDING
    assert not handle.final_sent
    endpoint.close()


async def test_invite_retransmission_is_absorbed_and_100_resent() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite(), PHONE)
    endpoint.receive(invite(), PHONE)
    endpoint.receive(invite(), PHONE)
    assert sender.statuses() == [100, 100, 100]
    assert len(user.requests) == 1
    assert endpoint.stats["retransmissions"] == 2
    endpoint.close()


async def test_rport_gets_received_and_port_and_responses_go_to_the_source_port() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKinv1;rport"), PHONE)
    top = Via.parse(user.requests[0].request.headers.get("Via") or "")
    assert top.params["received"] == "192.0.2.10"
    assert top.params["rport"] == "40000"
    assert top.branch == "z9hG4bKinv1"
    # the response echoes the stamped Via and goes back where the request came from
    assert sender.sent[-1][1:] == (("192.0.2.10", 40000), "UDP")
    echoed = Via.parse(sender.last().headers.get("Via") or "")
    assert echoed.params["rport"] == "40000"
    user.requests[0].reply(486, to_tag="b1")
    assert sender.sent[-1][1] == ("192.0.2.10", 40000)
    endpoint.close()


async def test_rport_on_same_host_still_gets_received() -> None:
    # RFC 3581 §4: with rport, received is added even when it equals sent-by.
    endpoint, sender, user = make()
    source = Source("UDP", ("10.0.0.1", 61000))
    endpoint.receive(invite("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKinv1;rport"), source)
    top = Via.parse(user.requests[0].request.headers.get("Via") or "")
    assert top.params == {"branch": "z9hG4bKinv1", "rport": "61000", "received": "10.0.0.1"}
    assert sender.sent[-1][1] == ("10.0.0.1", 61000)
    endpoint.close()


async def test_without_rport_responses_go_to_received_ip_and_sent_by_port() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKinv1"), PHONE)
    top = Via.parse(user.requests[0].request.headers.get("Via") or "")
    assert top.params["received"] == "192.0.2.10"
    assert "rport" not in top.params
    assert sender.sent[-1][1:] == (("192.0.2.10", 5062), "UDP")
    endpoint.close()


async def test_without_rport_or_port_responses_go_to_5060() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKinv1"), PHONE)
    assert sender.sent[-1][1] == ("192.0.2.10", 5060)
    endpoint.close()


async def test_via_host_equal_to_source_gets_no_received() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite("SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKinv1"), PHONE)
    top = Via.parse(user.requests[0].request.headers.get("Via") or "")
    assert "received" not in top.params
    assert sender.sent[-1][1] == ("192.0.2.10", 5062)
    endpoint.close()


async def test_tcp_responses_go_back_to_the_source_connection() -> None:
    endpoint, sender, user = make()
    source = Source("TCP", ("192.0.2.10", 40001))
    endpoint.receive(invite("SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bKinv1"), source)
    assert sender.sent[-1][1:] == (("192.0.2.10", 40001), "TCP")
    user.requests[0].reply(486, to_tag="b1")
    assert sender.sent[-1][1:] == (("192.0.2.10", 40001), "TCP")
    endpoint.close()


async def test_non_invite_final_is_resent_on_request_retransmission() -> None:
    endpoint, sender, user = make(answer=lambda h: h.reply(200, to_tag="b1"))
    endpoint.receive(options(), PHONE)
    assert sender.statuses() == [200]
    endpoint.receive(options(), PHONE)
    endpoint.receive(options(), PHONE)
    assert sender.statuses() == [200, 200, 200]
    assert len({data for data, _, _ in sender.sent}) == 1  # the same bytes each time
    assert len(user.requests) == 1
    endpoint.close()


async def test_non_invite_retransmission_before_any_response_is_discarded() -> None:
    endpoint, sender, user = make()
    endpoint.receive(options(), PHONE)
    endpoint.receive(options(), PHONE)
    assert sender.sent == []  # §17.2.2: Trying, nothing to resend yet
    assert len(user.requests) == 1
    endpoint.close()


async def test_cancel_of_pending_invite_gets_200_and_tu_is_told() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite(), PHONE)
    endpoint.receive(cancel(), PHONE)
    ok = sender.last()
    assert (ok.status, ok.cseq) == (200, (1, "CANCEL"))
    assert user.cancels == [user.requests[0]]  # the INVITE's handle, not the CANCEL's
    assert [h.request.method for h in user.requests] == ["INVITE"]
    user.cancels[0].reply(487, to_tag="b1")
    terminated = sender.last()
    assert (terminated.status, terminated.cseq) == (487, (1, "INVITE"))
    endpoint.close()


async def test_cancel_without_matching_invite_gets_481() -> None:
    endpoint, sender, user = make()
    endpoint.receive(cancel("z9hG4bKnothere"), PHONE)
    reply = sender.last()
    assert (reply.status, reply.cseq) == (481, (1, "CANCEL"))
    assert user.cancels == []
    assert user.requests == []
    endpoint.close()


async def test_cancel_after_2xx_gets_481() -> None:
    # The 2xx ended the INVITE server transaction (RFC 3261, not 6026): nothing matches.
    endpoint, sender, user = make(answer=lambda h: h.reply(200, to_tag="b1"))
    endpoint.receive(invite(), PHONE)
    endpoint.receive(cancel(), PHONE)
    assert sender.statuses() == [100, 200, 481]
    assert user.cancels == []
    endpoint.close()


async def test_cancel_after_non_2xx_final_gets_200_without_effect() -> None:
    # §9.2: the CANCEL matched a transaction, so 200; the final already sent stands.
    endpoint, sender, user = make(answer=lambda h: h.reply(486, to_tag="b1"))
    endpoint.receive(invite(), PHONE)
    endpoint.receive(cancel(), PHONE)
    assert sender.statuses() == [100, 486, 200]
    assert sender.last().cseq == (1, "CANCEL")
    assert user.cancels == []
    endpoint.close()


async def test_ack_matching_no_transaction_goes_to_on_ack() -> None:
    endpoint, sender, user = make()
    endpoint.receive(ack("z9hG4bKack2xx"), PHONE)
    assert len(user.acks) == 1
    got, source = user.acks[0]
    assert got.method == "ACK" and source == PHONE
    assert sender.sent == []
    endpoint.close()


async def test_ack_for_non_2xx_final_is_absorbed_by_the_transaction() -> None:
    endpoint, sender, user = make(answer=lambda h: h.reply(486, to_tag="b1"))
    endpoint.receive(invite(), PHONE)
    handle = user.requests[0]
    assert handle.final_sent and handle.state is TransactionState.COMPLETED
    endpoint.receive(ack(), PHONE)
    assert user.acks == []
    assert handle.state is TransactionState.CONFIRMED
    assert sender.statuses() == [100, 486]
    endpoint.close()


async def test_invite_retransmitted_after_final_gets_the_final_again() -> None:
    endpoint, sender, user = make(answer=lambda h: h.reply(486, to_tag="b1"))
    endpoint.receive(invite(), PHONE)
    endpoint.receive(invite(), PHONE)
    assert sender.statuses() == [100, 486, 486]
    assert len(user.requests) == 1
    endpoint.close()


QUOTBAL = """
    INVITE sip:user@example.com SIP/2.0
    To: "Mr. J. User <sip:j.user@example.com>
    From: sip:caller@example.net;tag=93334
    Max-Forwards: 10
    Call-ID: quotbal.aksdj
    Contact: <sip:caller@host59.example.net>
    CSeq: 8 INVITE
    Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
"""


async def test_request_failing_validation_gets_400_and_never_reaches_the_tu() -> None:
    # RFC 4475 §3.1.2.14 quotbal: To with an unterminated quoted string.
    endpoint, sender, user = make()
    endpoint.receive(req(QUOTBAL), PHONE)
    reply = sender.last()
    assert reply.status == 400
    assert reply.cseq == (8, "INVITE")
    assert reply.headers.get("Call-ID") == "quotbal.aksdj"
    assert sender.sent[-1][1] == ("192.0.2.10", 5050)
    assert user.requests == []
    assert endpoint.active_transactions == 0
    endpoint.close()


async def test_invalid_request_with_rport_gets_its_400_at_the_source_port() -> None:
    endpoint, sender, user = make()
    text = QUOTBAL.replace("z9hG4bKkdjuw39234", "z9hG4bKkdjuw39234;rport")
    endpoint.receive(req(text), PHONE)
    assert sender.statuses() == [400]
    assert sender.sent[-1][1] == ("192.0.2.10", 40000)
    endpoint.close()


async def test_invalid_ack_gets_no_response() -> None:
    endpoint, sender, user = make()
    text = QUOTBAL.replace("INVITE", "ACK")
    endpoint.receive(req(text), PHONE)
    assert sender.sent == []
    assert user.acks == []
    endpoint.close()


async def test_without_a_tu_requests_get_503() -> None:
    endpoint, sender, _ = make()
    endpoint.user = None
    endpoint.receive(options(), PHONE)
    assert sender.statuses() == [503]
    endpoint.close()


# ------------------------------------------------------------ unparsable bytes

UNPARSABLE = """
    OPTIONS sip:1414@198.51.100.1 SIP/2.0
    Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKbroken
    f: <sip:alice@example.com>;tag=a1
    To: <sip:1414@198.51.100.1>
    Call-ID: broken-1@10.0.0.1
    CSeq: 9 OPTIONS
    Max-Forwards: 70
    This line has no colon
"""


def parse_error(data: bytes) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    return info.value


async def test_bad_message_salvages_a_400_from_the_raw_lines() -> None:
    endpoint, sender, user = make()
    data = wire(UNPARSABLE)
    exc = parse_error(data)
    assert exc.status == 400
    endpoint.bad_message(data, PHONE, exc)
    assert len(sender.sent) == 1
    raw, addr, transport = sender.sent[0]
    assert (addr, transport) == (PHONE.addr, "UDP")
    reply = parse_message(raw)
    assert isinstance(reply, Response)
    assert reply.status == 400
    assert reply.reason.startswith("Bad Request (")
    assert reply.headers.get("Via") == "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKbroken"
    assert reply.headers.get("From") == "<sip:alice@example.com>;tag=a1"  # compact f: kept
    assert reply.headers.get("To") == "<sip:1414@198.51.100.1>"
    assert reply.headers.get("Call-ID") == "broken-1@10.0.0.1"
    assert reply.cseq == (9, "OPTIONS")
    assert "Max-Forwards" not in reply.headers
    assert endpoint.stats["bad"] == 1
    assert user.requests == []


async def test_bad_message_with_status_none_sends_nothing() -> None:
    endpoint, sender, _ = make()
    data = wire(UNPARSABLE)
    endpoint.bad_message(data, PHONE, SipParseError("drop it", status=None))
    assert sender.sent == []
    assert endpoint.stats["bad"] == 1


async def test_bad_message_without_via_sends_nothing() -> None:
    endpoint, sender, _ = make()
    data = wire(UNPARSABLE.replace("Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKbroken\n", ""))
    assert b"Via" not in data
    endpoint.bad_message(data, PHONE, SipParseError("broken"))
    assert sender.sent == []


async def test_bad_message_that_is_a_response_or_empty_sends_nothing() -> None:
    endpoint, sender, _ = make()
    response = wire("""
        SIP/2.0 200 OK
        Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKbroken
        This line has no colon
    """)
    endpoint.bad_message(response, PHONE, SipParseError("broken"))
    endpoint.bad_message(b"", PHONE, SipParseError("broken"))
    assert sender.sent == []


async def test_bad_message_505_for_unsupported_version() -> None:
    endpoint, sender, _ = make()
    data = wire(UNPARSABLE.replace("SIP/2.0\n", "SIP/3.0\n", 1).replace(
        "This line has no colon\n", ""))
    exc = parse_error(data)
    assert exc.status == 505
    endpoint.bad_message(data, PHONE, exc)
    reply = parse_message(sender.sent[0][0])
    assert isinstance(reply, Response) and reply.status == 505


# ------------------------------------------------------------ client side


def outgoing_options(branch: str = "z9hG4bKout1") -> Request:
    return req(f"""
        OPTIONS sip:phone@192.0.2.10:40000 SIP/2.0
        Via: SIP/2.0/UDP 198.51.100.1:5060;branch={branch};rport
        Max-Forwards: 70
        From: <sip:1414@198.51.100.1>;tag=e1
        To: <sip:phone@192.0.2.10>
        Call-ID: out-1@198.51.100.1
        CSeq: 1 OPTIONS
    """)


def outgoing_invite(branch: str = "z9hG4bKout2") -> Request:
    return req(f"""
        INVITE sip:phone@192.0.2.10:40000 SIP/2.0
        Via: SIP/2.0/UDP 198.51.100.1:5060;branch={branch};rport
        Max-Forwards: 70
        From: <sip:1414@198.51.100.1>;tag=e1
        To: <sip:phone@192.0.2.10>
        Call-ID: out-2@198.51.100.1
        CSeq: 1 INVITE
        Contact: <sip:1414@198.51.100.1:5060>
    """)


def response_to(request: Request, status: int, reason: str, to_tag: str = "p1") -> Response:
    via = request.headers.get("Via")
    tag = f";tag={to_tag}" if status > 100 else ""
    return resp(f"""
        SIP/2.0 {status} {reason}
        Via: {via}
        From: {request.headers.get("From")}
        To: {request.headers.get("To")}{tag}
        Call-ID: {request.call_id}
        CSeq: {request.cseq[0]} {request.method}
    """)


async def test_client_invite_180_then_200_reach_the_callback() -> None:
    endpoint, sender, user = make()
    got: list[Response | None] = []
    request = outgoing_invite()
    endpoint.send_request(request, ("192.0.2.10", 40000), got.append)
    assert sender.sent[0][1:] == (("192.0.2.10", 40000), "UDP")
    sent = parse_message(sender.sent[0][0])
    assert isinstance(sent, Request) and sent.headers.get("User-Agent") == "Bailanys"
    assert endpoint.active_transactions == 1
    endpoint.receive(response_to(request, 180, "Ringing"), PHONE)
    endpoint.receive(response_to(request, 200, "OK"), PHONE)
    assert [r.status if r else None for r in got] == [180, 200]
    # the 2xx ended the transaction (the core ACKs it): a retransmission is stray
    assert endpoint.active_transactions == 0
    assert len(endpoint.timer_queue) == 0
    endpoint.receive(response_to(request, 200, "OK"), PHONE)
    assert len(got) == 2
    assert [r.status for r, _ in user.strays] == [200]
    endpoint.close()


async def test_client_invite_failure_is_acked_by_the_transaction() -> None:
    endpoint, sender, _ = make()
    got: list[Response | None] = []
    request = outgoing_invite()
    endpoint.send_request(request, ("192.0.2.10", 40000), got.append)
    endpoint.receive(response_to(request, 486, "Busy Here"), PHONE)
    assert [r.status if r else None for r in got] == [486]
    acks = [m for m in sender.messages() if isinstance(m, Request) and m.method == "ACK"]
    assert len(acks) == 1 and acks[0].cseq == (1, "ACK")
    assert sender.sent[-1][1] == ("192.0.2.10", 40000)
    endpoint.receive(response_to(request, 486, "Busy Here"), PHONE)  # retransmitted final
    assert len(got) == 1  # absorbed, ACKed again
    acks = [m for m in sender.messages() if isinstance(m, Request) and m.method == "ACK"]
    assert len(acks) == 2
    await until(lambda: endpoint.active_transactions == 0)  # Timer D (5 ms)
    assert len(endpoint.timer_queue) == 0
    endpoint.close()


async def test_client_non_invite_response_reaches_callback() -> None:
    endpoint, sender, _ = make()
    got: list[Response | None] = []
    request = outgoing_options()
    endpoint.send_request(request, ("192.0.2.10", 40000), got.append)
    endpoint.receive(response_to(request, 200, "OK"), PHONE)
    assert [r.status if r else None for r in got] == [200]
    await until(lambda: endpoint.active_transactions == 0)  # Timer K = T4 (5 ms)
    assert len(endpoint.timer_queue) == 0
    endpoint.close()


async def test_client_invite_timeout_gives_callback_none() -> None:
    endpoint, sender, _ = make()
    done: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()
    endpoint.send_request(outgoing_invite(), ("192.0.2.10", 40000), done.set_result)
    result = await asyncio.wait_for(done, 2.0)  # Timer B = 64*T1 = 64 ms
    assert result is None
    assert len(sender.sent) > 1  # Timer A retransmitted meanwhile
    assert endpoint.active_transactions == 0
    assert len(endpoint.timer_queue) == 0
    endpoint.close()


async def test_client_non_invite_timeout_gives_callback_none() -> None:
    endpoint, sender, _ = make()
    done: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()
    endpoint.send_request(outgoing_options(), ("192.0.2.10", 40000), done.set_result)
    assert await asyncio.wait_for(done, 2.0) is None  # Timer F
    assert len(sender.sent) > 1  # Timer E retransmitted
    assert len(endpoint.timer_queue) == 0
    endpoint.close()


async def test_client_tcp_request_has_no_retransmission_timer() -> None:
    endpoint, sender, _ = make()
    endpoint.send_request(outgoing_options(), ("192.0.2.10", 5060), lambda r: None,
                          transport="tcp")
    assert sender.sent[0][2] == "TCP"
    assert timer_names(endpoint) == {"F"}
    endpoint.close()
    assert len(endpoint.timer_queue) == 0


async def test_callback_exception_does_not_escape() -> None:
    endpoint, _, _ = make()

    def boom(response: Response | None) -> None:
        raise RuntimeError("bug in the TU")

    request = outgoing_options()
    endpoint.send_request(request, ("192.0.2.10", 40000), boom)
    endpoint.receive(response_to(request, 200, "OK"), PHONE)  # logged, not raised
    endpoint.close()


async def test_stray_response_goes_to_on_stray_response() -> None:
    endpoint, _, user = make()
    stray = response_to(outgoing_invite("z9hG4bKunknown"), 200, "OK")
    endpoint.receive(stray, PHONE)
    assert [(r.status, s) for r, s in user.strays] == [(200, PHONE)]


async def test_via_asks_for_rport() -> None:
    endpoint, _, _ = make()
    via = Via.parse(endpoint.via("tcp"))
    assert (via.transport, via.host, via.port) == ("TCP", "198.51.100.1", 5060)
    assert via.branch is not None and via.branch.startswith("z9hG4bK")
    assert "rport" in via.params
    assert endpoint.via() != endpoint.via()  # a fresh branch each time


# ------------------------------------------------------------ timer cleanup


async def test_invite_server_timers_are_gone_after_487_ack_and_timer_i() -> None:
    endpoint, sender, user = make()
    endpoint.receive(invite(), PHONE)
    endpoint.receive(cancel(), PHONE)
    user.cancels[0].reply(487, to_tag="b1")
    names = timer_names(endpoint)
    assert {"G", "H"} <= names  # plus J of the CANCEL's own transaction
    endpoint.receive(ack(), PHONE)
    assert user.cancels[0].state is TransactionState.CONFIRMED
    assert "I" in timer_names(endpoint)
    await until(lambda: endpoint.active_transactions == 0)  # I = T4, J = 64*T1
    assert len(endpoint.timer_queue) == 0
    assert len(endpoint.layer) == 0


async def test_invite_server_without_ack_times_out_by_timer_h_and_cleans_up() -> None:
    endpoint, sender, user = make(answer=lambda h: h.reply(486, to_tag="b1"))
    endpoint.receive(invite(), PHONE)
    await until(lambda: endpoint.active_transactions == 0)  # H = 64*T1
    assert sender.statuses().count(486) > 1  # Timer G retransmitted the final
    assert len(endpoint.timer_queue) == 0


async def test_non_invite_server_timers_are_gone_after_timer_j() -> None:
    endpoint, _, user = make(answer=lambda h: h.reply(200, to_tag="b1"))
    endpoint.receive(options(), PHONE)
    assert sorted(timer_names(endpoint)) == ["J"]
    await until(lambda: endpoint.active_transactions == 0)
    assert len(endpoint.timer_queue) == 0


async def test_tcp_non_invite_server_terminates_at_once() -> None:
    # Timer J is zero on reliable transports: no loop timer at all.
    endpoint, _, user = make(answer=lambda h: h.reply(200, to_tag="b1"))
    endpoint.receive(options("SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bKopt1"),
                     Source("TCP", ("192.0.2.10", 40001)))
    assert endpoint.active_transactions == 0
    assert len(endpoint.timer_queue) == 0


async def test_response_after_termination_is_not_sent() -> None:
    endpoint, sender, user = make(answer=lambda h: h.reply(200, to_tag="b1"))
    endpoint.receive(invite(), PHONE)
    handle = user.requests[0]
    assert endpoint.active_transactions == 0  # the 2xx ended it
    handle.reply(486, to_tag="b1")  # refused by the machine, logged
    assert sender.statuses() == [100, 200]


async def test_close_cancels_every_timer() -> None:
    endpoint, _, _ = make(timers=Timers())
    endpoint.receive(invite(), PHONE)
    endpoint.send_request(outgoing_options(), ("192.0.2.10", 40000), lambda r: None)
    assert len(endpoint.timer_queue) > 0
    wake = endpoint._timers._wake  # the one loop timer (sip/loop_timers.py)
    assert wake is not None
    endpoint.close()
    assert len(endpoint.timer_queue) == 0 and endpoint.active_transactions == 0
    assert wake.cancelled() and endpoint._timers._wake is None
