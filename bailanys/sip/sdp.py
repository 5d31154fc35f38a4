"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for audio-only telephony.

The public entry point: import from here.  The code lives in three modules,
layered so that none imports one above it:

* :mod:`bailanys.sip.sdp_fields`: the line values ``o=`` (:class:`Origin`),
  ``c=`` (:class:`Connection`), ``a=`` (:class:`Attribute`), ``a=rtpmap``
  (:class:`RtpMap`), the direction attributes (:class:`Direction`) and the
  static payload types (RFC 3551 §6);
* :mod:`bailanys.sip.session_description`: whole bodies,
  :class:`MediaDescription` and :class:`SessionDescription`, parsed into
  frozen dataclasses and written back (RFC 4566 §5);
* :mod:`bailanys.sip.offer_answer`: :func:`negotiate` (we answer, RFC 3264
  §6), :func:`make_offer` / :func:`parse_answer` (we offer, §5) and
  :class:`NoCommonCodec` (answer 488).

This module holds no code of its own because offer/answer is built on the
grammar: were the grammar defined here, re-exporting offer/answer from here
would be an import cycle.  Anything malformed raises
:class:`~bailanys.errors.SdpError` (:class:`NoCommonCodec` is one).
"""

from __future__ import annotations

from bailanys.sip.offer_answer import (
    DEFAULT_PTIME_MS,
    SUPPORTED_CODECS,
    TELEPHONE_EVENT,
    TELEPHONE_EVENT_FMTP,
    Answer,
    Codec,
    NegotiatedMedia,
    NoCommonCodec,
    make_offer,
    negotiate,
    parse_answer,
)
from bailanys.sip.sdp_fields import (
    STATIC_PAYLOAD_TYPES,
    Attribute,
    Connection,
    Direction,
    Origin,
    RtpMap,
)
from bailanys.sip.session_description import MediaDescription, SessionDescription

__all__ = [
    # bailanys.sip.sdp_fields
    "STATIC_PAYLOAD_TYPES", "Attribute", "Connection", "Direction", "Origin", "RtpMap",
    # bailanys.sip.session_description
    "MediaDescription", "SessionDescription",
    # bailanys.sip.offer_answer
    "DEFAULT_PTIME_MS", "SUPPORTED_CODECS", "TELEPHONE_EVENT", "TELEPHONE_EVENT_FMTP", "Answer",
    "Codec", "NegotiatedMedia", "NoCommonCodec", "make_offer", "negotiate", "parse_answer",
]
