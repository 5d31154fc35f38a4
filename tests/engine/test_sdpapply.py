"""One way to apply negotiated media to an RTP session (RFC 3264 §6, §8.4)."""

from __future__ import annotations

from bailanys.engine.sdpapply import apply_answer
from bailanys.media.session import RtpSession
from bailanys.sip.sdp import SessionDescription, negotiate
from tests.engine.corefakes import OFFER


def test_an_answer_points_the_session_at_the_peer() -> None:
    session = RtpSession(40000, 0)
    media = negotiate(SessionDescription.parse(OFFER.encode()), local_ip="198.51.100.1",
                      local_port=40000, session_id=1, session_version=1).media
    assert apply_answer(session, media) is False  # sending before and after
    assert session.remote == ("192.0.2.10", 49170)
    assert (session.codec, session.audio_pt, session.dtmf_pt) == ("PCMU", 0, 101)
    assert session.sending and session.expect_rtp


def test_hold_and_unhold_are_reported() -> None:
    session = RtpSession(40000, 0)
    held = negotiate(SessionDescription.parse(OFFER.replace("sendrecv", "sendonly").encode()),
                     local_ip="198.51.100.1", local_port=40000, session_id=1,
                     session_version=2).media
    assert apply_answer(session, held) is True
    assert not session.sending
    back = negotiate(SessionDescription.parse(OFFER.encode()), local_ip="198.51.100.1",
                     local_port=40000, session_id=1, session_version=3).media
    assert apply_answer(session, back) is True and session.sending


def test_without_direction_only_the_address_and_codec_change() -> None:
    session = RtpSession(40000, 0)
    session.sending = False
    held = negotiate(SessionDescription.parse(OFFER.replace("sendrecv", "inactive").encode()),
                     local_ip="198.51.100.1", local_port=40000, session_id=1,
                     session_version=1).media
    assert apply_answer(session, held, direction=False) is False
    assert session.remote == ("192.0.2.10", 49170) and session.sending is False
