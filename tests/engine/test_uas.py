"""The call server (UAS, RFC 3261 §8.2, §13.3) on fakes: a real endpoint, no sockets.

What each INVITE, ACK, BYE, CANCEL, re-INVITE and unserved method gets, and
that a refused or failed set-up leaves no RTP session, call-table entry or
event behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bailanys.engine.call import CallState
from bailanys.sip.headers import NameAddr
from tests.engine.corefakes import OFFER, Rig, in_dialog, invite, no_media, sip

HELD = OFFER.replace("a=sendrecv", "a=sendonly")


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = Rig()
    yield r
    await r.close()


async def answered(rig: Rig) -> str:
    """Send the INVITE, return our To tag from the 200."""
    rig.feed(invite())
    await rig.settle()
    ok = rig.wire.responses()[-1]
    assert ok.status == 200
    tag = NameAddr.parse(ok.headers.get("To") or "").tag
    assert tag
    return tag


async def test_invite_gets_180_then_200_with_sdp_and_call_offered(rig: Rig) -> None:
    rig.feed(invite())
    await rig.settle()
    assert list(dict.fromkeys(rig.wire.statuses())) == [100, 180, 200]  # 200 resent until ACK
    ok = rig.wire.responses()[-1]
    assert ok.headers.get("Content-Type") == "application/sdp"
    assert b"m=audio 40000 RTP/AVP 0" in ok.body
    assert "sip:bailanys@198.51.100.1:5070" in (ok.headers.get("Contact") or "")
    offered = rig.events.of("call.offered")
    assert offered["from"] == "sip:77011234567@192.0.2.10"
    assert offered["to"] == "sip:1414@198.51.100.1"
    assert offered["codec"] == "PCMU" and offered["transport"] == "UDP"
    assert rig.events.types() == ["call.offered", "call.answered"]
    (call,) = rig.table.by_dialog.values()
    assert call.state is CallState.ANSWERED and call.number == "1414"
    assert call.session.remote == ("192.0.2.10", 49170)


async def test_ack_confirms_and_starts_the_flow_bye_ends_the_call(rig: Rig) -> None:
    tag = await answered(rig)
    (call,) = rig.table.by_dialog.values()
    rig.feed(in_dialog("ACK", tag, cseq=1, branch="z9hG4bKack1"))
    await rig.settle()
    assert call.state is CallState.CONFIRMED
    assert rig.router.started == [call]
    assert not rig.table.awaiting_ack
    rig.feed(in_dialog("BYE", tag, cseq=2, branch="z9hG4bKbye1"))
    await rig.settle()
    assert rig.wire.statuses("BYE") == [200]
    assert call.ended.is_set() and call.end_reason == "remote_bye"
    assert rig.events.of("call.ended")["cause"] == "caller"
    assert not rig.table.by_dialog and rig.legs.open_now == []


async def test_bye_for_no_dialog_gets_481(rig: Rig) -> None:
    rig.feed(in_dialog("BYE", "nobody", cseq=2, branch="z9hG4bKbye9"))
    await rig.settle()
    assert rig.wire.statuses("BYE") == [481]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("v=0\r\nthis is not sdp\r\n", 488),
        (OFFER.replace("RTP/AVP 0 101", "RTP/AVP 18").replace("a=rtpmap:0 PCMU/8000\r\n", ""),
         488),
        ("", 488),  # no offer: "SDP Offer Required"
    ],
)
async def test_a_poisoned_offer_gets_488_and_leaks_nothing(
    rig: Rig, body: str, status: int
) -> None:
    rig.feed(invite(body=body))
    await rig.settle()
    assert rig.wire.statuses()[-1] == status
    assert rig.legs.open_now == []
    assert len(rig.table) == 0 and not rig.table.awaiting_ack
    assert "call.offered" not in rig.events.types()


async def test_no_common_codec_says_which_with_a_warning(rig: Rig) -> None:
    g729 = OFFER.replace("RTP/AVP 0 101", "RTP/AVP 18").replace("a=rtpmap:0 PCMU/8000", "a=x")
    rig.feed(invite(body=g729))
    await rig.settle()
    refusal = rig.wire.responses()[-1]
    assert refusal.status == 488
    assert "PCMU/PCMA" in (refusal.headers.get("Warning") or "")


async def test_no_free_media_port_is_503_with_retry_after(rig: Rig) -> None:
    rig.legs.fail = no_media()
    rig.feed(invite())
    await rig.settle()
    refusal = rig.wire.responses()[-1]
    assert (refusal.status, refusal.reason) == (503, "No Media Ports")
    assert refusal.headers.get("Retry-After") == "5"


async def test_cancel_while_ringing_gets_487_and_ends_the_call() -> None:
    rig = Rig(answer_delay_s=5.0)
    try:
        rig.feed(invite())
        await rig.settle()
        assert rig.wire.statuses() == [100, 180]
        rig.feed(sip("""
            CANCEL sip:1414@198.51.100.1 SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKinv1
            Max-Forwards: 70
            From: "Alice" <sip:77011234567@192.0.2.10>;tag=a1
            To: <sip:1414@198.51.100.1>
            Call-ID: c1@192.0.2.10
            CSeq: 1 CANCEL
        """))
        await rig.settle()
        assert rig.wire.statuses("CANCEL") == [200]
        assert rig.wire.statuses()[-1] == 487
        assert rig.events.types()[-1] == "call.ended"
        assert rig.events.of("call.ended")["reason"] == "cancelled"
        assert len(rig.table) == 0 and rig.legs.open_now == []
    finally:
        await rig.close()


@pytest.mark.parametrize(
    ("number", "stopping", "max_calls", "status", "reason"),
    [
        ("9999", False, 10, 404, "Not Found"),
        ("1414", True, 10, 503, "Restarting"),
        ("1414", False, 0, 503, "Busy"),
    ],
)
async def test_refused_before_any_media(
    number: str, stopping: bool, max_calls: int, status: int, reason: str
) -> None:
    rig = Rig(max_calls=max_calls)
    rig.uas.stopping = stopping
    try:
        rig.feed(invite(number=number))
        await rig.settle()
        refusal = rig.wire.responses()[-1]
        assert (refusal.status, refusal.reason) == (status, reason)
        assert rig.legs.opened == [] and rig.events.seen == []
    finally:
        await rig.close()


@pytest.mark.parametrize(("method", "status"), [("OPTIONS", 200), ("INFO", 405), ("FOO", 501),
                                                 ("REFER", 403), ("REGISTER", 200)])
async def test_other_methods(rig: Rig, method: str, status: int) -> None:
    rig.feed(sip(f"""
        {method} sip:1414@198.51.100.1 SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK{method}
        Max-Forwards: 70
        From: <sip:alice@192.0.2.10>;tag=a1
        To: <sip:1414@198.51.100.1>
        Call-ID: o1@192.0.2.10
        CSeq: 1 {method}
    """))
    await rig.settle()
    response = rig.wire.responses(method)[-1]
    assert response.status == status
    if status in (200, 405, 501) and method != "REGISTER":
        assert "INVITE" in (response.headers.get("Allow") or "")


async def test_options_while_stopping_is_503_so_a_proxy_drops_the_engine(rig: Rig) -> None:
    """Issue 22: Kamailio's dispatcher counts only a 2xx to its OPTIONS, so a
    draining engine leaves its set and new calls go to another engine."""
    rig.uas.stopping = True
    rig.feed(sip("""
        OPTIONS sip:198.51.100.1 SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKds1
        Max-Forwards: 70
        From: <sip:dispatcher@192.0.2.1>;tag=d1
        To: <sip:198.51.100.1>
        Call-ID: ds1@192.0.2.1
        CSeq: 10 OPTIONS
    """))
    await rig.settle()
    response = rig.wire.responses("OPTIONS")[-1]
    assert (response.status, response.reason) == (503, "Restarting")
    assert response.headers.get("Retry-After")


async def test_reinvite_to_hold_answers_and_stops_sending(rig: Rig) -> None:
    tag = await answered(rig)
    rig.feed(in_dialog("ACK", tag, cseq=1, branch="z9hG4bKack1"))
    await rig.settle()
    (call,) = rig.table.by_dialog.values()
    rig.feed(invite(body=HELD, to_tag=tag, cseq=2, branch="z9hG4bKre1"))
    await rig.settle()
    ok = rig.wire.responses()[-1]
    assert ok.status == 200 and b"a=recvonly" in ok.body
    assert call.session.sending is False
    assert rig.events.types()[-1] == "call.hold"


async def test_stop_refuses_what_still_rings() -> None:
    rig = Rig(answer_delay_s=5.0)
    try:
        rig.feed(invite())
        await rig.settle()
        rig.uas.refuse_ringing()
        refusal = rig.wire.responses()[-1]
        assert (refusal.status, refusal.reason) == (503, "Restarting")
    finally:
        await rig.close()


async def test_no_ack_for_the_200_hangs_up_with_a_bye(rig: Rig) -> None:
    await answered(rig)
    (call,) = rig.table.by_dialog.values()
    for _ in range(40):  # 64*T1 = 64 ms with the fast timers
        if call.ended.is_set():
            break
        await rig.settle(2)
    assert call.end_reason == "no_ack"
    assert rig.wire.requests("BYE")
    assert len(rig.table) == 0 and not rig.table.awaiting_ack and rig.legs.open_now == []
