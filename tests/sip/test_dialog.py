"""RFC 3261 §12 dialogs: creation, route sets (loose and strict), CSeq, target refresh."""

from __future__ import annotations

import pytest

from bailanys.errors import SipParseError
from bailanys.sip.dialog import Dialog, DialogState, dialog_id_of
from bailanys.sip.message import Request, make_response
from tests.siptext import req, resp, wire

# Bob's side (UAS) receives this INVITE through two record-routing proxies.
INVITE = """
    INVITE sip:bob@192.0.2.4 SIP/2.0
    Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2
    Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1
    Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKuac
    Record-Route: <sip:p2.example.com;lr>
    Record-Route: <sip:p1.example.com;lr>
    Max-Forwards: 68
    To: Bob <sip:bob@biloxi.example.com>
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 INVITE
    Contact: <sip:alice@pc33.atlanta.example.com>
"""

# Alice's side (UAC): what she sent, and the 200 OK she gets back.
UAC_INVITE = """
    INVITE sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKuac
    Max-Forwards: 70
    To: Bob <sip:bob@biloxi.example.com>
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 INVITE
    Contact: <sip:alice@pc33.atlanta.example.com>
"""

UAC_OK = """
    SIP/2.0 200 OK
    Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKuac
    Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>
    To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    Call-ID: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 INVITE
    Contact: <sip:bob@192.0.2.4>
"""

VIA = "SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnew"


def uas_dialog() -> Dialog:
    return Dialog.uas(req(INVITE), "a6c85cf", "sip:bob@192.0.2.4")


def uac_dialog() -> Dialog:
    return Dialog.uac(req(UAC_INVITE), resp(UAC_OK))


# --------------------------------------------------------------- creation


def test_uas_dialog_state_from_the_request() -> None:
    d = uas_dialog()
    assert d.id == ("a84b4c76e66710@pc33.atlanta.example.com", "a6c85cf", "1928301774")
    assert d.route_set == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    assert d.remote_target == "sip:alice@pc33.atlanta.example.com"
    assert d.remote_seq == 314159 and d.local_seq is None
    assert d.local_uri == "sip:bob@biloxi.example.com"
    assert d.remote_uri == "sip:alice@atlanta.example.com"
    assert d.state is DialogState.CONFIRMED and d.secure is False
    assert Dialog.uas(req(INVITE), "t", "sip:b@h", early=True).state is DialogState.EARLY


def test_uas_dialog_needs_a_contact() -> None:
    no_contact = req(INVITE.replace("    Contact: <sip:alice@pc33.atlanta.example.com>\n", ""))
    with pytest.raises(SipParseError) as err:
        Dialog.uas(no_contact, "t", "sip:b@h")
    assert err.value.status == 400


def test_uac_dialog_reverses_record_route() -> None:
    d = uac_dialog()
    assert d.id == ("a84b4c76e66710@pc33.atlanta.example.com", "1928301774", "a6c85cf")
    assert d.route_set == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert d.remote_target == "sip:bob@192.0.2.4"
    assert d.local_seq == 314159 and d.remote_seq is None
    assert d.local_contact == "sip:alice@pc33.atlanta.example.com"
    assert d.state is DialogState.CONFIRMED


def test_uac_dialog_from_a_non_dialog_response_is_refused() -> None:
    with pytest.raises(ValueError):
        Dialog.uac(req(UAC_INVITE), make_response(req(UAC_INVITE), 486, to_tag="x"))


def test_secure_flag_needs_sips_over_tls() -> None:
    text = INVITE.replace("INVITE sip:bob@192.0.2.4", "INVITE sips:bob@192.0.2.4")
    assert Dialog.uas(req(text), "t", "sips:b@h").secure is False
    tls = text.replace("SIP/2.0/UDP p2.example.com", "SIP/2.0/TLS p2.example.com")
    assert Dialog.uas(req(tls), "t", "sips:b@h").secure is True


def test_dialog_id_of_incoming_messages() -> None:
    uas, uac = uas_dialog(), uac_dialog()
    assert dialog_id_of(req(INVITE.replace("Bob <sip:bob@biloxi.example.com>",
                                           "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf")),
                        uas=True) == uas.id  # fmt: skip
    assert dialog_id_of(resp(UAC_OK), uas=False) == uac.id
    # Bob's BYE reaches Alice: To carries her tag, From his.
    bye = uas.create_request("BYE", via=VIA)
    assert dialog_id_of(bye, uas=True) == uac.id


# ------------------------------------------------------- outgoing requests


def test_loose_routing_keeps_the_target_and_lists_the_route_set() -> None:
    d = uas_dialog()
    bye = d.create_request("BYE", via=VIA)
    assert bytes(bye) == wire("""
        BYE sip:alice@pc33.atlanta.example.com SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnew
        Route: <sip:p2.example.com;lr>
        Route: <sip:p1.example.com;lr>
        Max-Forwards: 70
        From: <sip:bob@biloxi.example.com>;tag=a6c85cf
        To: <sip:alice@atlanta.example.com>;tag=1928301774
        Call-ID: a84b4c76e66710@pc33.atlanta.example.com
        CSeq: 1 BYE
        Contact: <sip:bob@192.0.2.4>
        Content-Length: 0
    """)
    assert d.local_seq == 1


def test_strict_routing_puts_the_first_route_in_the_request_uri() -> None:
    d = uac_dialog()
    d.route_set = ["<sip:strict.example.com;method=INVITE;transport=udp>",
                   "<sip:p2.example.com;lr>"]  # fmt: skip
    info = d.create_request("INFO", via=VIA, body=b"Signal=5\r\n",
                            content_type="application/dtmf-relay")  # fmt: skip
    assert info.uri == "sip:strict.example.com;transport=udp"
    assert info.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.4>"]
    assert info.headers.get("Content-Type") == "application/dtmf-relay"
    assert info.body == b"Signal=5\r\n"
    assert info.cseq == (314160, "INFO")


def test_no_route_set_sends_straight_to_the_target() -> None:
    d = uac_dialog()
    d.route_set = []
    bye = d.create_request("BYE", via=VIA, extra=[("Reason", "Q.850;cause=16")])
    assert bye.uri == "sip:bob@192.0.2.4"
    assert bye.headers.get_all("Route") == []
    assert bye.headers.get("Reason") == "Q.850;cause=16"
    assert bye.headers.get("To") == "<sip:bob@biloxi.example.com>;tag=a6c85cf"
    assert bye.headers.get("From") == "<sip:alice@atlanta.example.com>;tag=1928301774"


def test_cseq_increments_per_request_but_not_for_ack() -> None:
    d = uac_dialog()
    assert d.create_request("INVITE", via=VIA).cseq == (314160, "INVITE")
    ack = d.create_ack(314160, VIA)
    assert ack.cseq == (314160, "ACK")
    assert ack.uri == "sip:bob@192.0.2.4"
    assert ack.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert "Contact" not in ack.headers
    assert d.create_request("BYE", via=VIA).cseq == (314161, "BYE")
    for method in ("ACK", "CANCEL"):
        with pytest.raises(ValueError):
            d.create_request(method, via=VIA)


def test_ack_with_an_answer_body() -> None:
    ack = uac_dialog().create_ack(314159, VIA, b"v=0\r\n", "application/sdp")
    assert ack.body == b"v=0\r\n" and ack.headers.get("Content-Type") == "application/sdp"


# ------------------------------------------------------ incoming requests


def in_dialog(method: str, cseq: int, contact: str | None = None) -> Request:
    """A request from Alice to Bob inside the uas_dialog."""
    text = f"""
        {method} sip:bob@192.0.2.4 SIP/2.0
        Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK{method}{cseq}
        Max-Forwards: 70
        From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
        To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
        Call-ID: a84b4c76e66710@pc33.atlanta.example.com
        CSeq: {cseq} {method}
    """
    if contact:
        text += f"    Contact: <{contact}>\n"
    return req(text)


def test_lower_cseq_is_answered_500_and_higher_updates_remote_seq() -> None:
    d = uas_dialog()
    assert d.receive_request(in_dialog("INFO", 314158)) == 500
    assert d.remote_seq == 314159
    assert d.receive_request(in_dialog("INFO", 314160)) is None
    assert d.remote_seq == 314160
    assert d.receive_request(in_dialog("INFO", 314159)) == 500


def test_ack_reuses_the_invite_cseq() -> None:
    d = uas_dialog()
    assert d.receive_request(in_dialog("ACK", 314159)) is None
    assert d.remote_seq == 314159


def test_first_request_from_the_remote_sets_remote_seq() -> None:
    d = uac_dialog()
    assert d.receive_request(in_dialog("INFO", 1)) is None
    assert d.remote_seq == 1


def test_reinvite_refreshes_the_remote_target() -> None:
    d = uas_dialog()
    assert d.receive_request(in_dialog("INVITE", 314160, "sip:alice@198.51.100.7:5062")) is None
    assert d.remote_target == "sip:alice@198.51.100.7:5062"
    assert d.create_request("BYE", via=VIA).uri == "sip:alice@198.51.100.7:5062"
    # INFO is not a target refresh: its Contact is ignored.
    d.receive_request(in_dialog("INFO", 314161, "sip:elsewhere@203.0.113.1"))
    assert d.remote_target == "sip:alice@198.51.100.7:5062"


def test_target_refresh_with_an_unreadable_contact_is_400() -> None:
    d = uas_dialog()
    bad = in_dialog("UPDATE", 314160)
    bad.headers.add("Contact", "<no-colon-here>")
    assert d.receive_request(bad) == 400


def test_bye_terminates_and_later_requests_get_481() -> None:
    d = uas_dialog()
    assert d.receive_request(in_dialog("BYE", 314160)) is None
    assert d.state is DialogState.TERMINATED
    assert d.receive_request(in_dialog("INFO", 314161)) == 481


# ----------------------------------------------------- incoming responses


def early_uac_dialog() -> Dialog:
    ringing = resp(
        UAC_OK.replace("200 OK", "180 Ringing")
        .replace("    Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\n", "")
        .replace("sip:bob@192.0.2.4", "sip:bob@192.0.2.99")
    )
    return Dialog.uac(req(UAC_INVITE), ringing)


def test_2xx_confirms_an_early_dialog_and_recomputes_the_route_set() -> None:
    d = early_uac_dialog()
    assert d.state is DialogState.EARLY
    assert d.route_set == [] and d.remote_target == "sip:bob@192.0.2.99"
    d.receive_response(resp(UAC_OK))
    assert d.state is DialogState.CONFIRMED
    assert d.route_set == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert d.remote_target == "sip:bob@192.0.2.4"


def test_failure_to_the_invite_ends_an_early_dialog() -> None:
    d = early_uac_dialog()
    d.receive_response(resp(UAC_OK.replace("200 OK", "486 Busy Here")))
    assert d.state is DialogState.TERMINATED


def test_failure_to_a_reinvite_keeps_a_confirmed_dialog() -> None:
    d = uac_dialog()
    d.receive_response(resp(UAC_OK.replace("200 OK", "488 Not Acceptable Here")))
    assert d.state is DialogState.CONFIRMED


def test_2xx_to_a_target_refresh_updates_the_target_and_keeps_routes() -> None:
    d = uac_dialog()
    update_ok = resp(
        UAC_OK.replace("314159 INVITE", "314160 UPDATE")
        .replace("    Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\n", "")
        .replace("sip:bob@192.0.2.4", "sip:bob@192.0.2.5")
    )
    d.receive_response(update_ok)
    assert d.remote_target == "sip:bob@192.0.2.5"
    assert d.route_set == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    # A 2xx to BYE does not refresh the target.
    d.receive_response(resp(UAC_OK.replace("314159 INVITE", "314161 BYE")
                            .replace("sip:bob@192.0.2.4", "sip:bob@192.0.2.6")))  # fmt: skip
    assert d.remote_target == "sip:bob@192.0.2.5"


@pytest.mark.parametrize("status", ["481 Call/Transaction Does Not Exist", "408 Request Timeout"])
def test_481_or_408_ends_the_dialog(status: str) -> None:
    d = uac_dialog()
    d.receive_response(resp(UAC_OK.replace("200 OK", status).replace("INVITE", "INFO")))
    assert d.state is DialogState.TERMINATED


def test_local_confirm_and_terminate() -> None:
    d = Dialog.uas(req(INVITE), "t", "sip:b@h", early=True)
    d.confirm()
    assert d.state is DialogState.CONFIRMED
    d.terminate()
    assert d.state is DialogState.TERMINATED
    d.confirm()
    assert d.state is DialogState.TERMINATED
