"""RFC 3261 §17 transactions: every transition, time as an input (no sleeping)."""

from __future__ import annotations

import pytest

from bailanys.errors import SipTransactionError
from bailanys.sip import timers as timers_module
from bailanys.sip.message import Request, make_response
from bailanys.sip.timers import Timers
from bailanys.sip.transaction import (
    NO_ACK,
    RETRANSMIT_2XX,
    Action,
    CancelTimer,
    Deliver,
    Invite2xxRetransmitter,
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    RetransmitState,
    Send,
    StartTimer,
    Terminated,
    Timeout,
    TransactionLayer,
    TransactionState,
    build_cancel,
    client_key,
    invite_key_for_cancel,
    server_key,
)
from tests.siptext import req, resp, wire

S = TransactionState


INVITE_TEXT = """
    INVITE sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds
    Route: <sip:p1.example.com;lr>
    Max-Forwards: 70
    To: Bob <sip:bob@biloxi.example.com>
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 INVITE
    Contact: <sip:alice@pc33.atlanta.example.com>
"""

BYE_TEXT = """
    BYE sip:alice@pc33.atlanta.example.com SIP/2.0
    Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10
    Max-Forwards: 70
    From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
    To: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 231 BYE
"""


def invite() -> Request:
    return req(INVITE_TEXT)


def bye() -> Request:
    return req(BYE_TEXT)


def fire_repeatedly(txn: object, name: str, times: int) -> list[list[Action]]:
    assert hasattr(txn, "timer")
    return [txn.timer(name) for _ in range(times)]


# ------------------------------------------------------------------ timers


def test_timer_values_follow_rfc_3261_appendix_a() -> None:
    t = Timers()
    assert (t.t1, t.t2, t.t4, t.d) == (0.5, 4.0, 5.0, 32.0)
    unreliable = {n: t.initial(n, reliable=False) for n in "ABDEFGHIJK"}
    assert unreliable == {
        "A": 0.5, "B": 32.0, "D": 32.0, "E": 0.5, "F": 32.0,
        "G": 0.5, "H": 32.0, "I": 5.0, "J": 32.0, "K": 5.0,
    }  # fmt: skip
    reliable = {n: t.initial(n, reliable=True) for n in "ABDEFGHIJK"}
    assert reliable == {
        "A": None, "B": 32.0, "D": 0.0, "E": None, "F": 32.0,
        "G": None, "H": 32.0, "I": 0.0, "J": 0.0, "K": 0.0,
    }  # fmt: skip
    assert t.backoff("A", 16.0) == 32.0
    assert t.backoff("E", 2.0) == 4.0 and t.backoff("E", 4.0) == 4.0
    assert t.backoff("G", 4.0) == 4.0
    with pytest.raises(KeyError):
        t.initial("C", reliable=False)


def test_patched_module_constants_shrink_transactions_built_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = InviteClientTransaction(invite(), reliable=False)
    monkeypatch.setattr(timers_module, "T1", 0.01)
    after = InviteClientTransaction(invite(), reliable=False)
    assert before.start()[1:] == [StartTimer("A", 0.5), StartTimer("B", 32.0)]
    assert after.start()[1:] == [StartTimer("A", 0.01), StartTimer("B", 0.64)]


def test_timers_argument_shrinks_one_transaction() -> None:
    txn = NonInviteClientTransaction(bye(), reliable=False, timers=Timers(t1=0.01, t2=0.04))
    assert txn.start()[1:] == [StartTimer("E", 0.01), StartTimer("F", 0.64)]
    assert [a[1] for a in fire_repeatedly(txn, "E", 4)] == [
        StartTimer("E", 0.02), StartTimer("E", 0.04), StartTimer("E", 0.04), StartTimer("E", 0.04),
    ]  # fmt: skip


# ------------------------------------------------- INVITE client (§17.1.1)


def test_invite_client_start_unreliable_sends_and_starts_a_and_b() -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=False)
    assert txn.state is S.CALLING
    assert txn.key == ("z9hG4bK776asdhds", "INVITE")
    assert txn.start() == [Send(request), StartTimer("A", 0.5), StartTimer("B", 32.0)]
    with pytest.raises(SipTransactionError):
        txn.start()


def test_invite_client_start_reliable_has_no_timer_a() -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=True)
    assert txn.start() == [Send(request), StartTimer("B", 32.0)]
    assert txn.timer("A") == []


def test_timer_a_doubles_without_cap_until_timer_b() -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=False)
    txn.start()
    fired = fire_repeatedly(txn, "A", 6)
    assert fired == [[Send(request), StartTimer("A", d)] for d in (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)]
    assert txn.timer("B") == [Timeout(), Terminated()]
    assert txn.state is S.TERMINATED
    assert txn.timer("A") == []  # stale after termination


def test_invite_client_schedule_on_a_virtual_clock() -> None:
    """Run the owner's loop with a fake clock: 7 sends at 0..31.5 s, then Timer B at 32 s."""
    txn = InviteClientTransaction(invite(), reliable=False)
    due: dict[str, float] = {}
    sends: list[float] = []
    now = 0.0
    outcome: list[Action] = []

    def apply(actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                sends.append(now)
            elif isinstance(action, StartTimer):
                due[action.name] = now + action.delay
            elif isinstance(action, CancelTimer):
                due.pop(action.name, None)
            else:
                outcome.append(action)

    apply(txn.start())
    while due and not any(isinstance(a, Terminated) for a in outcome):
        name = min(due, key=lambda n: (due[n], n))
        now = due.pop(name)
        apply(txn.timer(name))
    assert sends == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert now == 32.0 and outcome == [Timeout(), Terminated()]


def test_invite_client_provisional_moves_to_proceeding_and_stops_a_and_b() -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=False)
    txn.start()
    ringing = make_response(request, 180, to_tag="a6c85cf")
    assert txn.receive(ringing) == [CancelTimer("A"), CancelTimer("B"), Deliver(ringing)]
    assert txn.state is S.PROCEEDING
    progress = make_response(request, 183, to_tag="a6c85cf")
    assert txn.receive(progress) == [Deliver(progress)]
    assert txn.timer("A") == [] and txn.timer("B") == []


@pytest.mark.parametrize("provisional_first", [False, True])
def test_invite_client_2xx_is_delivered_and_terminates(provisional_first: bool) -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=False)
    txn.start()
    if provisional_first:
        txn.receive(make_response(request, 180, to_tag="a6c85cf"))
    ok = make_response(request, 200, to_tag="a6c85cf")
    assert txn.receive(ok) == [Deliver(ok), Terminated()]
    assert txn.state is S.TERMINATED
    assert txn.receive(ok) == []  # retransmitted 2xx: the UAC core's business


EXPECTED_ACK = wire("""
    ACK sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds
    Route: <sip:p1.example.com;lr>
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 ACK
    Content-Length: 0
""")


def test_invite_client_failure_from_calling_acks_and_waits_timer_d() -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=False)
    txn.start()
    busy = make_response(request, 486, to_tag="a6c85cf")
    actions = txn.receive(busy)
    assert actions[:3] == [CancelTimer("A"), CancelTimer("B"), Deliver(busy)]
    assert isinstance(actions[3], Send) and bytes(actions[3].message) == EXPECTED_ACK
    assert actions[4:] == [StartTimer("D", 32.0)]
    assert txn.state is S.COMPLETED
    ack = actions[3]
    assert txn.receive(busy) == [ack]  # retransmitted final: same ACK, no Deliver
    assert txn.receive(make_response(request, 180)) == []
    assert txn.timer("D") == [Terminated()]
    assert txn.state is S.TERMINATED


def test_invite_client_failure_from_proceeding_reliable_terminates_at_once() -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=True)
    txn.start()
    assert txn.receive(make_response(request, 180, to_tag="a6c85cf")) == [
        CancelTimer("B"),
        Deliver(make_response(request, 180, to_tag="a6c85cf")),
    ]
    busy = make_response(request, 603, to_tag="a6c85cf")
    actions = txn.receive(busy)
    assert actions[0] == Deliver(busy)
    assert isinstance(actions[1], Send) and isinstance(actions[1].message, Request)
    assert actions[1].message.method == "ACK"
    assert actions[2:] == [Terminated()]
    assert txn.state is S.TERMINATED


def test_client_ignores_response_for_another_method() -> None:
    request = invite()
    txn = InviteClientTransaction(request, reliable=False)
    txn.start()
    other = make_response(request, 200)
    other.headers.set("CSeq", "314159 CANCEL")
    assert txn.receive(other) == []
    assert txn.state is S.CALLING


# --------------------------------------------- non-INVITE client (§17.1.2)


def test_non_invite_client_timer_e_caps_at_t2_then_timer_f() -> None:
    request = bye()
    txn = NonInviteClientTransaction(request, reliable=False)
    assert txn.state is S.TRYING
    assert txn.start() == [Send(request), StartTimer("E", 0.5), StartTimer("F", 32.0)]
    fired = fire_repeatedly(txn, "E", 5)
    assert fired == [[Send(request), StartTimer("E", d)] for d in (1.0, 2.0, 4.0, 4.0, 4.0)]
    assert txn.timer("F") == [Timeout(), Terminated()]
    assert txn.state is S.TERMINATED


def test_non_invite_client_proceeding_retransmits_every_t2() -> None:
    request = bye()
    txn = NonInviteClientTransaction(request, reliable=False)
    txn.start()
    assert txn.timer("E") == [Send(request), StartTimer("E", 1.0)]
    trying = make_response(request, 100)
    assert txn.receive(trying) == [Deliver(trying)]
    assert txn.state is S.PROCEEDING
    assert txn.receive(trying) == [Deliver(trying)]
    assert txn.timer("E") == [Send(request), StartTimer("E", 4.0)]
    assert txn.timer("E") == [Send(request), StartTimer("E", 4.0)]
    assert txn.timer("F") == [Timeout(), Terminated()]


@pytest.mark.parametrize("status", [200, 481])
def test_non_invite_client_final_completes_then_timer_k(status: int) -> None:
    request = bye()
    txn = NonInviteClientTransaction(request, reliable=False)
    txn.start()
    final = make_response(request, status)
    assert txn.receive(final) == [
        CancelTimer("E"), CancelTimer("F"), Deliver(final), StartTimer("K", 5.0),
    ]  # fmt: skip
    assert txn.state is S.COMPLETED
    assert txn.receive(final) == []  # absorbed
    assert txn.timer("E") == []
    assert txn.timer("K") == [Terminated()]


def test_non_invite_client_final_from_proceeding_reliable() -> None:
    request = bye()
    txn = NonInviteClientTransaction(request, reliable=True)
    assert txn.start() == [Send(request), StartTimer("F", 32.0)]
    txn.receive(make_response(request, 100))
    ok = make_response(request, 200)
    assert txn.receive(ok) == [CancelTimer("F"), Deliver(ok), Terminated()]


# ------------------------------------------------- INVITE server (§17.2.1)


def test_invite_server_sends_100_and_delivers_once() -> None:
    request = invite()
    txn = InviteServerTransaction(request, reliable=False)
    assert txn.state is S.PROCEEDING
    actions = txn.start()
    trying = make_response(request, 100)
    assert actions == [Send(trying), Deliver(request)]
    assert "tag=" not in (trying.headers.get("To") or "")
    assert txn.receive(invite()) == [Send(trying)]  # retransmission: no second Deliver
    ringing = make_response(request, 180, to_tag="bobtag")
    assert txn.respond(ringing) == [Send(ringing)]
    assert txn.receive(invite()) == [Send(ringing)]
    assert txn.last_response is ringing


def test_invite_server_2xx_terminates_and_later_responses_raise() -> None:
    request = invite()
    txn = InviteServerTransaction(request, reliable=False)
    txn.start()
    ok = make_response(request, 200, to_tag="bobtag")
    assert txn.respond(ok) == [Send(ok), Terminated()]
    assert txn.state is S.TERMINATED
    with pytest.raises(SipTransactionError):
        txn.respond(make_response(request, 486, to_tag="bobtag"))


def test_invite_server_failure_timer_g_caps_at_t2_and_ack_confirms() -> None:
    request = invite()
    txn = InviteServerTransaction(request, reliable=False)
    txn.start()
    busy = make_response(request, 486, to_tag="bobtag")
    assert txn.respond(busy) == [Send(busy), StartTimer("G", 0.5), StartTimer("H", 32.0)]
    assert txn.state is S.COMPLETED
    fired = fire_repeatedly(txn, "G", 5)
    assert fired == [[Send(busy), StartTimer("G", d)] for d in (1.0, 2.0, 4.0, 4.0, 4.0)]
    assert txn.receive(invite()) == [Send(busy)]
    with pytest.raises(SipTransactionError):
        txn.respond(make_response(request, 200, to_tag="bobtag"))
    ack = req(EXPECTED_ACK.decode().replace("a6c85cf", "bobtag"))
    assert txn.receive(ack) == [CancelTimer("G"), CancelTimer("H"), StartTimer("I", 5.0)]
    assert txn.state is S.CONFIRMED
    assert txn.receive(ack) == []  # absorbed
    assert txn.receive(invite()) == []
    assert txn.timer("G") == []
    assert txn.timer("I") == [Terminated()]
    assert txn.state is S.TERMINATED


def test_invite_server_timer_h_without_ack_is_a_timeout() -> None:
    request = invite()
    txn = InviteServerTransaction(request, reliable=False)
    txn.start()
    txn.respond(make_response(request, 480, to_tag="bobtag"))
    assert txn.timer("H") == [Timeout(), Terminated()]
    assert txn.state is S.TERMINATED


def test_invite_server_reliable_has_no_timer_g_and_timer_i_is_zero() -> None:
    request = invite()
    txn = InviteServerTransaction(request, reliable=True)
    txn.start()
    busy = make_response(request, 486, to_tag="bobtag")
    assert txn.respond(busy) == [Send(busy), StartTimer("H", 32.0)]
    ack = req(EXPECTED_ACK.decode().replace("a6c85cf", "bobtag"))
    assert txn.receive(ack) == [CancelTimer("H"), Terminated()]


def test_server_rejects_a_response_for_another_method() -> None:
    txn = InviteServerTransaction(invite(), reliable=False)
    txn.start()
    with pytest.raises(SipTransactionError):
        txn.respond(make_response(bye(), 200))


# --------------------------------------------- non-INVITE server (§17.2.2)


def test_non_invite_server_trying_discards_then_completed_resends_final() -> None:
    request = bye()
    txn = NonInviteServerTransaction(request, reliable=False)
    assert txn.state is S.TRYING
    assert txn.start() == [Deliver(request)]
    assert txn.receive(bye()) == []  # no response yet: discarded
    ok = make_response(request, 200)
    assert txn.respond(ok) == [Send(ok), StartTimer("J", 32.0)]
    assert txn.state is S.COMPLETED
    assert txn.receive(bye()) == [Send(ok)]
    with pytest.raises(SipTransactionError):
        txn.respond(make_response(request, 500))
    assert txn.timer("J") == [Terminated()]


def test_non_invite_server_proceeding_resends_provisional() -> None:
    request = bye()
    txn = NonInviteServerTransaction(request, reliable=False)
    txn.start()
    trying = make_response(request, 100)
    assert txn.respond(trying) == [Send(trying)]
    assert txn.state is S.PROCEEDING
    assert txn.receive(bye()) == [Send(trying)]
    again = make_response(request, 101)
    assert txn.respond(again) == [Send(again)]
    final = make_response(request, 404)
    assert txn.respond(final) == [Send(final), StartTimer("J", 32.0)]


def test_non_invite_server_reliable_terminates_with_the_final() -> None:
    request = bye()
    txn = NonInviteServerTransaction(request, reliable=True)
    txn.start()
    ok = make_response(request, 200)
    assert txn.respond(ok) == [Send(ok), Terminated()]
    assert txn.state is S.TERMINATED


# ------------------------------------------------ 2xx retransmission (§13.3.1.4)


def test_2xx_retransmitter_doubles_to_t2_until_ack() -> None:
    ok = make_response(invite(), 200, to_tag="bobtag")
    r = Invite2xxRetransmitter(ok)
    assert r.start() == [StartTimer(RETRANSMIT_2XX, 0.5), StartTimer(NO_ACK, 32.0)]
    fired = fire_repeatedly(r, RETRANSMIT_2XX, 5)
    assert fired == [[Send(ok), StartTimer(RETRANSMIT_2XX, d)] for d in (1.0, 2.0, 4.0, 4.0, 4.0)]
    assert r.invite_retransmitted() == [Send(ok)]
    assert r.ack() == [Terminated()]
    assert r.state is RetransmitState.ACKED
    assert r.ack() == [] and r.timer(RETRANSMIT_2XX) == [] and r.timer(NO_ACK) == []


def test_2xx_retransmitter_gives_up_after_64_t1() -> None:
    ok = make_response(invite(), 200, to_tag="bobtag")
    r = Invite2xxRetransmitter(ok, timers=Timers(t1=0.01))
    assert r.start() == [StartTimer(RETRANSMIT_2XX, 0.01), StartTimer(NO_ACK, 0.64)]
    assert r.timer(NO_ACK) == [Timeout(), Terminated()]
    assert r.state is RetransmitState.NO_ACK


# ------------------------------------------------------- matching (§17.1.3, §17.2.3)


def test_server_key_maps_ack_to_invite_and_keeps_cancel_apart() -> None:
    request = invite()
    key = server_key(request)
    assert key == ("3261", "z9hG4bK776asdhds", "pc33.atlanta.example.com", 5060, "INVITE")
    ack = req(EXPECTED_ACK.decode())
    assert server_key(ack) == key
    cancel = build_cancel(request)
    assert server_key(cancel) == key[:4] + ("CANCEL",)
    assert invite_key_for_cancel(cancel) == key


EXPECTED_CANCEL = wire("""
    CANCEL sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds
    Route: <sip:p1.example.com;lr>
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 CANCEL
    Reason: SIP;cause=480
    Content-Length: 0
""")


def test_build_cancel_copies_uri_via_route_from_to_callid_and_cseq_number() -> None:
    cancel = build_cancel(invite(), extra=[("Reason", "SIP;cause=480")])
    assert bytes(cancel) == EXPECTED_CANCEL


def test_layer_matches_retransmission_ack_and_cancel() -> None:
    layer = TransactionLayer()
    request = invite()
    txn = InviteServerTransaction(request, reliable=False)
    layer.add_server(txn)
    assert layer.find_server(invite()) is txn
    assert layer.find_server(req(EXPECTED_ACK.decode())) is txn
    cancel = req(EXPECTED_CANCEL.decode())
    assert layer.find_server(cancel) is None
    cancel_txn = NonInviteServerTransaction(cancel, reliable=False)
    layer.add_server(cancel_txn)
    assert layer.find_server(cancel) is cancel_txn
    assert layer.find_invite_for_cancel(cancel) is txn
    with pytest.raises(SipTransactionError):
        layer.add_server(InviteServerTransaction(invite(), reliable=False))
    other_port = req(INVITE_TEXT.replace(":5060;", ":5070;"))
    assert layer.find_server(other_port) is None
    other_branch = req(INVITE_TEXT.replace("776asdhds", "776other"))
    assert layer.find_server(other_branch) is None
    assert len(layer) == 2
    layer.remove(txn.key)
    assert layer.find_server(invite()) is None
    assert layer.get(cancel_txn.key) is cancel_txn


def test_layer_matches_responses_by_branch_and_cseq_method() -> None:
    layer = TransactionLayer()
    request = invite()
    inv = InviteClientTransaction(request, reliable=False)
    can = NonInviteClientTransaction(build_cancel(request), reliable=False)
    layer.add_client(inv)
    layer.add_client(can)
    ringing = resp("""
        SIP/2.0 180 Ringing
        Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds
        To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
        From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
        Call-ID: a84b4c76e66710@pc33.atlanta.example.com
        CSeq: 314159 INVITE
    """)
    assert client_key(ringing) == ("z9hG4bK776asdhds", "INVITE")
    assert layer.find_client(ringing) is inv
    cancel_ok = make_response(build_cancel(request), 200, to_tag="a6c85cf")
    assert layer.find_client(cancel_ok) is can
    stray = make_response(req(INVITE_TEXT.replace("776asdhds", "zzz")), 200)
    assert layer.find_client(stray) is None
    with pytest.raises(SipTransactionError):
        layer.add_client(InviteClientTransaction(request, reliable=False))
    layer.remove(inv.key)
    assert layer.find_client(ringing) is None


RFC2543_INVITE = """
    INVITE sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP old.example.com:5060;branch=1
    Max-Forwards: 70
    To: <sip:bob@biloxi.example.com>
    From: <sip:carol@old.example.com>;tag=99
    Call-ID: 2543@old.example.com
    CSeq: 1 INVITE
    Contact: <sip:carol@old.example.com>
"""


def test_rfc2543_matching_uses_dialog_fields_and_the_response_to_tag() -> None:
    layer = TransactionLayer()
    request = req(RFC2543_INVITE)
    key = server_key(request)
    assert key[0] == "2543"
    assert key[1:6] == ("2543@old.example.com", 1, "INVITE", "99", None)
    txn = InviteServerTransaction(request, reliable=False)
    layer.add_server(txn)
    txn.start()
    assert layer.find_server(req(RFC2543_INVITE)) is txn
    different_cseq = req(RFC2543_INVITE.replace("CSeq: 1 INVITE", "CSeq: 2 INVITE"))
    assert layer.find_server(different_cseq) is None
    txn.respond(make_response(request, 486, to_tag="ourtag"))
    assert txn.to_tag == "ourtag"
    ack_text = (
        RFC2543_INVITE.replace("INVITE sip", "ACK sip")
        .replace("1 INVITE", "1 ACK")
        .replace("<sip:bob@biloxi.example.com>\n", "<sip:bob@biloxi.example.com>;tag=ourtag\n")
    )
    ack = req(ack_text)
    assert layer.find_server(ack) is txn
    wrong = req(ack_text.replace("ourtag", "notours"))
    assert layer.find_server(wrong) is None
    cancel = req(RFC2543_INVITE.replace("INVITE sip", "CANCEL sip").replace("1 INVITE", "1 CANCEL"))
    assert layer.find_invite_for_cancel(cancel) is txn
    assert txn.receive(ack) == [CancelTimer("G"), CancelTimer("H"), StartTimer("I", 5.0)]


def test_no_branch_at_all_falls_back_to_rfc2543() -> None:
    request = req(RFC2543_INVITE.replace(";branch=1", ""))
    assert server_key(request)[0] == "2543"
