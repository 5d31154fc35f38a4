"""The dialer (registrar lookup + UAC + ring with a timeout, RFC 3261 §13.2, §9.1) on fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bailanys.engine.call import CallState
from bailanys.engine.registrar import Binding
from bailanys.sip.message import make_response
from bailanys.sip.transport import Source
from tests.engine.corefakes import Rig

PHONE_ADDR = ("192.0.2.20", 5060)
ANSWER = (
    "v=0\r\no=phone 7 7 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
    "m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = Rig()
    r.registrar.bindings["1001"] = [
        Binding("1001", "sip:1001@192.0.2.20:5060", 1e12, PHONE_ADDR, "UDP", "phone")
    ]
    yield r
    await r.close()


def answer(rig: Rig, status: int = 200) -> None:
    """The phone answers our INVITE (with its SDP answer on a 2xx)."""
    invite = rig.wire.requests("INVITE")[0]
    ok = make_response(
        invite, status, to_tag="p1",
        extra=[("Contact", "<sip:1001@192.0.2.20:5060>"), ("Content-Type", "application/sdp")]
        if status == 200 else [],
        body=ANSWER.encode() if status == 200 else b"",
    )
    rig.endpoint.receive(ok, Source("UDP", PHONE_ADDR))


async def test_not_registered_is_a_lookup_error(rig: Rig) -> None:
    assert rig.dialer.registered("1001") and not rig.dialer.registered("1002")
    with pytest.raises(LookupError):
        await rig.dialer.start_call_user("1002")
    assert rig.legs.opened == []


async def test_start_call_user_sends_the_invite_with_our_offer(rig: Rig) -> None:
    leg = await rig.dialer.start_call_user("1001")
    (invite,) = rig.wire.requests("INVITE")[:1]
    assert invite.uri == "sip:1001@192.0.2.20:5060"
    assert "sip:1001@example.kz" in (invite.headers.get("To") or "")
    assert b"m=audio 40000" in invite.body
    assert rig.events.of("call.originated")["to"] == "sip:1001@example.kz"
    assert leg.state is CallState.OFFERED


async def test_ring_timeout_sends_cancel_and_ends_the_leg(rig: Rig) -> None:
    leg = await rig.dialer.start_call_user("1001")
    assert await rig.dialer.ring(leg, 0.05) is False
    (cancel,) = rig.wire.requests("CANCEL")
    assert cancel.uri == "sip:1001@192.0.2.20:5060"
    assert leg.ended.is_set() and leg.end_reason == "no_answer"
    assert rig.legs.open_now == [] and len(rig.table) == 0


async def test_answered_within_the_ring_is_acked_and_joins_the_table(rig: Rig) -> None:
    leg = await rig.dialer.start_call_user("1001")
    answer(rig)
    assert await rig.dialer.ring(leg, 1.0) is True
    assert rig.wire.requests("ACK") and not rig.wire.requests("CANCEL")
    assert leg.state is CallState.CONFIRMED
    assert leg.session.remote == ("192.0.2.20", 30000)
    assert list(rig.table.by_dialog.values()) == [leg]
    assert "call.answered" in rig.events.types()


async def test_a_refusal_is_false_without_cancel(rig: Rig) -> None:
    leg = await rig.dialer.start_call_user("1001")
    answer(rig, 486)
    assert await rig.dialer.ring(leg, 1.0) is False
    await rig.settle()
    assert not rig.wire.requests("CANCEL")
    assert leg.ended.is_set() and leg.end_reason == "rejected_486"


async def test_call_user_limits_an_answered_call(rig: Rig) -> None:
    rig.endpoint.timers = None  # ordinary timers: the test answers before any retransmission
    task = rig.tasks.spawn(rig.dialer.call_user("1001", ring_s=1.0))
    await rig.settle(2)
    answer(rig)
    leg = await task
    assert leg.state is CallState.CONFIRMED
    assert "max-duration" in leg.running_timers()


async def test_start_call_back_invites_the_callers_contact_over_its_transport(rig: Rig) -> None:
    """A queue callback: the caller's own contact, where it called from (no lookup)."""
    leg = await rig.dialer.start_call_back("sip:77011234567@192.0.2.30:5070",
                                           ("192.0.2.30", 5070), "UDP")
    (invite,) = rig.wire.requests("INVITE")[:1]
    assert invite.uri == "sip:77011234567@192.0.2.30:5070"
    assert rig.events.of("call.originated")["contact"] == "sip:77011234567@192.0.2.30:5070"
    assert leg.state is CallState.OFFERED


async def test_behind_a_proxy_calls_out_go_through_it() -> None:
    """Issue 22: with ``[cluster] proxy`` a callback or a transfer's number is
    INVITEd through the proxy (its Request-URI unchanged), not sent direct."""
    from bailanys.engine.dialer import Dialer
    from bailanys.engine.uac import UacSettings

    r = Rig()
    try:
        proxied = Dialer(ports=r.ports, bindings=r.registrar, max_call_s=3600.0,
                         settings=UacSettings(rtp_host="192.0.2.1", sip_host="192.0.2.1",
                                              domain="example.kz"),
                         outbound=("10.0.0.1", 5060))
        await proxied.start_call_back("sip:77012345678@198.51.100.9", ("198.51.100.9", 5060),
                                      "TCP")
        (invite, addr) = next((m, a) for m, a in r.wire.out if getattr(m, "method", "") == "INVITE")
        assert invite.uri == "sip:77012345678@198.51.100.9"
        assert addr == ("10.0.0.1", 5060)
    finally:
        await r.close()
