"""Applying negotiated media to an RTP session (RFC 3264 §5, §6, §8).

One helper for the three places that do it: a new INVITE's answer, a
re-INVITE's answer (hold, unhold, a new address: RFC 3264 §8.4) and the
answer to our own offer on an outbound call.
"""

from __future__ import annotations

from bailanys.media.session import RtpSession
from bailanys.sip.sdp import NegotiatedMedia


def apply_answer(session: RtpSession, media: NegotiatedMedia, *, direction: bool = True) -> bool:
    """Point ``session`` at the peer's address with the negotiated codec and DTMF type.

    With ``direction`` (we answered an offer) the session also follows the
    direction attribute: it sends RTP only when our side ``sends`` (RFC 3264
    §6.1), and expects RTP (the RTP timeout) only when it receives and the
    peer has not put us on hold.  Returns whether sending changed (a hold or
    an unhold, RFC 3264 §8.4).
    """
    session.configure(
        remote=media.remote_addr,
        codec=media.codec.name,
        audio_pt=media.codec.payload_type,
        dtmf_pt=media.telephone_event_pt,
    )
    if not direction:
        return False
    was_sending = session.sending
    session.sending = media.direction.sends
    session.expect_rtp = media.direction.receives and not media.on_hold
    return was_sending != session.sending
