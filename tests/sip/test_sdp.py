"""Tests for bailanys.sip.sdp: RFC 4566 grammar and RFC 3264 offer/answer."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from bailanys.errors import SdpError
from bailanys.sip.sdp import (
    Attribute,
    Codec,
    Connection,
    Direction,
    MediaDescription,
    NoCommonCodec,
    Origin,
    RtpMap,
    SessionDescription,
    make_offer,
    negotiate,
    parse_answer,
)


def sdp(*lines: str, nl: str = "\r\n") -> bytes:
    return (nl.join(lines) + nl).encode()


HEAD = ("v=0", "o=peer 100 200 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0")

# ---------------------------------------------------------------- real peers

# SIPp 3.x built-in "uac" scenario, [media_ip]=127.0.0.1 [media_port]=6000.
SIPP_UAC = sdp(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
)

# SIPp "uac_pcap" scenario (plays a PCMA pcap and an RFC 2833 DTMF pcap).
SIPP_UAC_PCAP = sdp(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 8 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-11,16",
)

# pyVoIP 1.6.8 SIPClient.gen_invite with {0: PCMU, 8: PCMA, 101: EVENT}.
PYVOIP_INVITE = sdp(
    "v=0",
    "o=pyVoIP 4158 4160 IN IP4 127.0.0.1",
    "s=pyVoIP 1.6.8",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 10532 RTP/AVP 0 8 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=ptime:20",
    "a=maxptime:150",
    "a=sendrecv",
)

# Linphone-style: opus first, several telephone-event clock rates, session attributes.
LINPHONE = sdp(
    "v=0",
    "o=alice 1821 3914 IN IP4 198.51.100.7",
    "s=Talk",
    "c=IN IP4 198.51.100.7",
    "t=0 0",
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 useinbandfec=1",
    "a=rtpmap:97 speex/16000",
    "a=fmtp:97 vbr=on",
    "a=rtpmap:98 speex/8000",
    "a=fmtp:98 vbr=on",
    "a=fmtp:18 annexb=yes",
    "a=rtpmap:101 telephone-event/48000",
    "a=rtpmap:99 telephone-event/16000",
    "a=rtpmap:100 telephone-event/8000",
    "a=rtcp-fb:* trr-int 1000",
    "a=rtcp-fb:* ccm tmmbr",
)

# Asterisk chan_pjsip re-INVITE putting the call on hold, LF line ends.
ASTERISK_HOLD = sdp(
    "v=0",
    "o=- 1723 1725 IN IP4 203.0.113.5",
    "s=Asterisk",
    "c=IN IP4 203.0.113.5",
    "t=0 0",
    "m=audio 14562 RTP/AVP 8 0 3 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:3 GSM/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
    "a=ptime:20",
    "a=maxptime:150",
    "a=sendonly",
    nl="\n",
)

# A browser (WebRTC) offer: SRTP only, which this server does not do.
WEBRTC = sdp(
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=rtpmap:111 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=setup:actpass",
)


@pytest.mark.parametrize(
    ("body", "codec", "te", "remote", "direction"),
    [
        (SIPP_UAC, Codec("PCMU", 0), None, ("127.0.0.1", 6000), Direction.SENDRECV),
        (SIPP_UAC_PCAP, Codec("PCMA", 8), 101, ("127.0.0.1", 6000), Direction.SENDRECV),
        (PYVOIP_INVITE, Codec("PCMU", 0), 101, ("127.0.0.1", 10532), Direction.SENDRECV),
        (LINPHONE, Codec("PCMU", 0), 100, ("198.51.100.7", 7078), Direction.SENDRECV),
        (ASTERISK_HOLD, Codec("PCMA", 8), 101, ("203.0.113.5", 14562), Direction.RECVONLY),
    ],
)
def test_real_peer_offers(
    body: bytes, codec: Codec, te: int | None, remote: tuple[str, int], direction: Direction
) -> None:
    offer = SessionDescription.parse(body)
    assert SessionDescription.parse(bytes(offer)) == offer
    ans = negotiate(offer, local_ip="10.1.1.1", local_port=40000, session_id=9)
    assert (ans.codec, ans.telephone_event_pt, ans.remote_addr, ans.direction) == (
        codec, te, remote, direction)
    assert ans.ptime == 20
    assert SessionDescription.parse(bytes(ans.sdp)) == ans.sdp


def test_webrtc_offer_is_not_acceptable() -> None:
    with pytest.raises(NoCommonCodec):
        negotiate(SessionDescription.parse(WEBRTC), local_ip="10.1.1.1", local_port=4,
                  session_id=1)


def test_sipp_offer_parsed_fields() -> None:
    sd = SessionDescription.parse(SIPP_UAC_PCAP)
    assert sd.origin == Origin("user1", 53655765, 2353687637, "127.0.0.1")
    assert sd.connection == Connection("127.0.0.1")
    (m,) = sd.media
    assert (m.media, m.port, m.proto, m.formats) == ("audio", 6000, "RTP/AVP", ("8", "101"))
    assert m.rtpmaps[101] == RtpMap(101, "telephone-event", 8000)
    assert m.rtpmaps[8] == RtpMap(8, "PCMA", 8000)
    assert m.fmtp(101) == "0-11,16"
    assert m.fmtp(8) is None
    assert m.ptime is None
    assert sd.media_direction(0) is Direction.SENDRECV


def test_pyvoip_parses_our_answer_and_offer() -> None:
    pytest.importorskip("pyVoIP")
    import pyVoIP.VoIP  # noqa: F401  (pyVoIP 1.6.8 needs this import order)
    from pyVoIP.SIP import SIPMessage

    ans = negotiate(SessionDescription.parse(PYVOIP_INVITE), local_ip="127.0.0.1",
                    local_port=20000, session_id=77)
    for body in (bytes(ans.sdp), bytes(make_offer("127.0.0.1", 20002, 78))):
        head = (
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
            "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: x\r\n"
            "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        msg = SIPMessage(head.encode() + body)
        (media,) = msg.body["m"]
        assert media["type"] == "audio"
        assert media["attributes"]["101"]["rtpmap"]["name"] == "telephone-event"
        assert msg.body["c"][0]["address"] == "127.0.0.1"


# ---------------------------------------------------------- negotiation table


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    codec: Codec | None  # None: NoCommonCodec expected
    te: int | None = None
    remote: tuple[str, int] = ("192.0.2.10", 5004)
    direction: Direction = Direction.SENDRECV
    on_hold: bool = False
    index: int = 0
    ptime: int = 20


def audio(formats: str, *extra: str, port: int = 5004) -> tuple[str, ...]:
    return (f"m=audio {port} RTP/AVP {formats}", *extra)


TE101 = ("a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16")
TE96 = ("a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-15")
G729 = ("a=rtpmap:18 G729/8000",)

CASES = [
    Case("pcmu only", sdp(*HEAD, *audio("0")), Codec("PCMU", 0)),
    Case("pcma only", sdp(*HEAD, *audio("8")), Codec("PCMA", 8)),
    Case("pcmu then pcma", sdp(*HEAD, *audio("0 8")), Codec("PCMU", 0)),
    Case("pcma then pcmu", sdp(*HEAD, *audio("8 0")), Codec("PCMA", 8)),
    Case("g729 then pcmu", sdp(*HEAD, *audio("18 0", *G729)), Codec("PCMU", 0)),
    Case("g729 only", sdp(*HEAD, *audio("18", *G729)), None),
    Case("unknown dynamic only", sdp(*HEAD, *audio("97", "a=rtpmap:97 iLBC/8000")), None),
    Case("pcmu rtpmap at 16k is not pcmu/8000",
         sdp(*HEAD, *audio("97", "a=rtpmap:97 PCMU/16000")), None),
    Case("dynamic pt named pcma", sdp(*HEAD, *audio("97", "a=rtpmap:97 pcma/8000")),
         Codec("PCMA", 97)),
    Case("te at 101", sdp(*HEAD, *audio("0 8 101", *TE101)), Codec("PCMU", 0), te=101),
    Case("te at 96", sdp(*HEAD, *audio("8 96", *TE96)), Codec("PCMA", 8), te=96),
    Case("te rtpmap but not in formats",
         sdp(*HEAD, *audio("0", *TE101)), Codec("PCMU", 0), te=None),
    Case("te at 48k is ignored",
         sdp(*HEAD, *audio("0 101", "a=rtpmap:101 telephone-event/48000")), Codec("PCMU", 0)),
    Case("sendonly = we are on hold", sdp(*HEAD, *audio("0", "a=sendonly")), Codec("PCMU", 0),
         direction=Direction.RECVONLY, on_hold=True),
    Case("recvonly", sdp(*HEAD, *audio("0", "a=recvonly")), Codec("PCMU", 0),
         direction=Direction.SENDONLY),
    Case("inactive", sdp(*HEAD, *audio("0", "a=inactive")), Codec("PCMU", 0),
         direction=Direction.INACTIVE, on_hold=True),
    Case("session-level sendonly", sdp(*HEAD, "a=sendonly", *audio("0")), Codec("PCMU", 0),
         direction=Direction.RECVONLY, on_hold=True),
    Case("media level beats session level",
         sdp(*HEAD, "a=sendonly", *audio("0", "a=sendrecv")), Codec("PCMU", 0)),
    Case("rfc 2543 hold c=0.0.0.0",
         sdp(*HEAD[:3], "c=IN IP4 0.0.0.0", HEAD[4], *audio("0")), Codec("PCMU", 0),
         remote=("0.0.0.0", 5004), direction=Direction.RECVONLY, on_hold=True),
    Case("c=0.0.0.0 and recvonly",
         sdp(*HEAD[:3], "c=IN IP4 0.0.0.0", HEAD[4], *audio("0", "a=recvonly")),
         Codec("PCMU", 0), remote=("0.0.0.0", 5004), direction=Direction.INACTIVE,
         on_hold=True),
    Case("video then audio",
         sdp(*HEAD, "m=video 5006 RTP/AVP 96", "a=rtpmap:96 H264/90000", *audio("8 0")),
         Codec("PCMA", 8), index=1),
    Case("audio then video",
         sdp(*HEAD, *audio("0"), "m=video 5006 RTP/AVP 96", "a=rtpmap:96 VP8/90000"),
         Codec("PCMU", 0)),
    Case("video only", sdp(*HEAD, "m=video 5006 RTP/AVP 96"), None),
    Case("rejected audio then live audio",
         sdp(*HEAD, *audio("0", port=0), *audio("8", port=5008)), Codec("PCMA", 8),
         remote=("192.0.2.10", 5008), index=1),
    Case("only audio rejected", sdp(*HEAD, *audio("0", port=0)), None),
    Case("g729 stream then pcmu stream",
         sdp(*HEAD, *audio("18"), *audio("0", port=5010)), Codec("PCMU", 0),
         remote=("192.0.2.10", 5010), index=1),
    Case("srtp audio not accepted", sdp(*HEAD, "m=audio 5004 RTP/SAVP 0"), None),
    Case("t38 image then audio",
         sdp(*HEAD, "m=image 5020 udptl t38", *audio("0")), Codec("PCMU", 0), index=1),
    Case("media-level c= overrides session c=",
         sdp(*HEAD, *audio("0", "c=IN IP4 198.51.100.1")), Codec("PCMU", 0),
         remote=("198.51.100.1", 5004)),
    Case("media-level c= only",
         sdp(*HEAD[:3], HEAD[4], *audio("0", "c=IN IP4 198.51.100.2")), Codec("PCMU", 0),
         remote=("198.51.100.2", 5004)),
    Case("ipv6", sdp(*HEAD[:3], "c=IN IP6 2001:db8::5", HEAD[4], *audio("0")),
         Codec("PCMU", 0), remote=("2001:db8::5", 5004)),
    Case("ptime 30", sdp(*HEAD, *audio("0", "a=ptime:30")), Codec("PCMU", 0), ptime=30),
    Case("ptime decimal", sdp(*HEAD, *audio("0", "a=ptime:20.0")), Codec("PCMU", 0)),
    Case("ptime out of range", sdp(*HEAD, *audio("0", "a=ptime:0")), Codec("PCMU", 0)),
    Case("ptime too long", sdp(*HEAD, *audio("0", "a=ptime:2000")), Codec("PCMU", 0)),
    Case("ptime blanks", sdp(*HEAD, *audio("0", "a=ptime: 30 ")), Codec("PCMU", 0), ptime=30),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_negotiation_table(case: Case) -> None:
    offer = SessionDescription.parse(case.body)
    if case.codec is None:
        with pytest.raises(NoCommonCodec):
            negotiate(offer, local_ip="10.0.0.1", local_port=30000, session_id=5)
        return
    ans = negotiate(offer, local_ip="10.0.0.1", local_port=30000, session_id=5)
    assert ans.codec == case.codec
    assert ans.telephone_event_pt == case.te
    assert ans.remote_addr == case.remote
    assert ans.direction is case.direction
    assert ans.on_hold is case.on_hold
    assert ans.media.media_index == case.index
    assert ans.ptime == case.ptime

    sd = ans.sdp
    # RFC 3264 §6: same number of m= lines, same media types, others rejected with port 0.
    assert [m.media for m in sd.media] == [m.media for m in offer.media]
    for i, (ours, theirs) in enumerate(zip(sd.media, offer.media, strict=True)):
        if i == case.index:
            assert ours.port == 30000
            assert ours.proto == "RTP/AVP"
            expected = [str(case.codec.payload_type)]
            if case.te is not None:
                expected.append(str(case.te))
            assert list(ours.formats) == expected
            assert ours.direction is case.direction
        else:
            assert ours.port == 0
            assert ours.formats == theirs.formats
            assert ours.proto == theirs.proto
    assert sd.connection == Connection("10.0.0.1")
    assert sd.origin == Origin("bailanys", 5, 5, "10.0.0.1")
    assert sd.times == offer.times
    assert SessionDescription.parse(bytes(sd)) == sd
    # Our answer, read back as if we had been the offerer, agrees with itself.
    back = parse_answer(offer, sd)
    assert back.codec.payload_type == case.codec.payload_type
    assert back.remote_addr == ("10.0.0.1", 30000)


def test_supported_restricts_and_orders_nothing_else() -> None:
    offer = SessionDescription.parse(sdp(*HEAD, *audio("0 8")))
    ans = negotiate(offer, local_ip="10.0.0.1", local_port=1, session_id=1, supported=("PCMA",))
    assert ans.codec == Codec("PCMA", 8)
    with pytest.raises(NoCommonCodec, match="PCMU"):
        negotiate(offer, local_ip="10.0.0.1", local_port=1, session_id=1, supported=("G729",))


def test_no_common_codec_is_an_sdp_error() -> None:
    assert issubclass(NoCommonCodec, SdpError)


def test_answer_text_exact() -> None:
    offer = SessionDescription.parse(SIPP_UAC_PCAP)
    ans = negotiate(offer, local_ip="10.0.0.1", local_port=30000, session_id=1234,
                    session_version=1235)
    assert str(ans.sdp) == (
        "v=0\r\n"
        "o=bailanys 1234 1235 IN IP4 10.0.0.1\r\n"
        "s=-\r\n"
        "c=IN IP4 10.0.0.1\r\n"
        "t=0 0\r\n"
        "m=audio 30000 RTP/AVP 8 101\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-15\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n"
    )


def test_ipv6_answer() -> None:
    ans = negotiate(SessionDescription.parse(SIPP_UAC), local_ip="2001:db8::1",
                    local_port=30000, session_id=1)
    assert "c=IN IP6 2001:db8::1\r\n" in str(ans.sdp)
    assert "o=bailanys 1 1 IN IP6 2001:db8::1\r\n" in str(ans.sdp)


def test_version_bump_for_reinvite() -> None:
    offer = SessionDescription.parse(SIPP_UAC)
    first = negotiate(offer, local_ip="10.0.0.1", local_port=1, session_id=50)
    second = negotiate(offer, local_ip="10.0.0.1", local_port=1, session_id=50,
                       session_version=first.sdp.origin.session_version + 1)
    assert second.sdp.origin.session_version == 51
    assert first.sdp.bumped().origin.session_version == 51
    assert first.sdp.with_version(90).origin == Origin("bailanys", 50, 90, "10.0.0.1")
    assert first.sdp.bumped().media == first.sdp.media


# ------------------------------------------------------------------ UAC side


def test_make_offer_text() -> None:
    off = make_offer("10.0.0.1", 30000, 7)
    assert str(off) == (
        "v=0\r\n"
        "o=bailanys 7 7 IN IP4 10.0.0.1\r\n"
        "s=-\r\n"
        "c=IN IP4 10.0.0.1\r\n"
        "t=0 0\r\n"
        "m=audio 30000 RTP/AVP 0 8 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-15\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n"
    )
    assert SessionDescription.parse(bytes(off)) == off


def test_make_offer_options() -> None:
    off = make_offer("10.0.0.1", 30000, 7, codecs=("pcma",), telephone_event_pt=None,
                     direction="sendonly", session_version=9)
    (m,) = off.media
    assert m.formats == ("8",)
    assert m.direction is Direction.SENDONLY
    assert off.origin.session_version == 9
    with pytest.raises(ValueError):
        make_offer("10.0.0.1", 1, 1, codecs=("G729",))
    with pytest.raises(ValueError):
        make_offer("10.0.0.1", 1, 1, codecs=())
    with pytest.raises(ValueError):
        make_offer("10.0.0.1", 1, 1, telephone_event_pt=8)


def test_offer_answer_loop() -> None:
    """Our UAC offer answered by our own UAS: both sides agree."""
    off = make_offer("10.0.0.1", 30000, 7, codecs=("PCMA", "PCMU"), telephone_event_pt=110)
    ans = negotiate(SessionDescription.parse(bytes(off)), local_ip="10.0.0.2",
                    local_port=40000, session_id=8)
    got = parse_answer(off, SessionDescription.parse(bytes(ans.sdp)))
    assert got.codec == ans.codec == Codec("PCMA", 8)
    assert got.telephone_event_pt == ans.telephone_event_pt == 110
    assert got.remote_addr == ("10.0.0.2", 40000)
    assert ans.remote_addr == ("10.0.0.1", 30000)
    assert got.direction is ans.direction is Direction.SENDRECV


@pytest.mark.parametrize(
    ("answer_lines", "codec", "te", "direction", "on_hold"),
    [
        (audio("0 101", *TE101), Codec("PCMU", 0), 101, Direction.SENDRECV, False),
        (audio("8"), Codec("PCMA", 8), None, Direction.SENDRECV, False),
        (audio("8 0"), Codec("PCMA", 8), None, Direction.SENDRECV, False),
        (audio("18 0", *G729), Codec("PCMU", 0), None, Direction.SENDRECV, False),
        (audio("0 96", *TE96), Codec("PCMU", 0), 96, Direction.SENDRECV, False),
        (audio("0", "a=recvonly"), Codec("PCMU", 0), None, Direction.SENDONLY, False),
        (audio("0", "a=sendonly"), Codec("PCMU", 0), None, Direction.RECVONLY, True),
        (audio("0", "a=inactive"), Codec("PCMU", 0), None, Direction.INACTIVE, True),
    ],
)
def test_parse_answer_table(
    answer_lines: tuple[str, ...], codec: Codec, te: int | None, direction: Direction,
    on_hold: bool,
) -> None:
    off = make_offer("10.0.0.1", 30000, 7)
    got = parse_answer(off, SessionDescription.parse(sdp(*HEAD, *answer_lines)))
    assert got.codec == codec
    assert got.telephone_event_pt == te
    assert got.remote_addr == ("192.0.2.10", 5004)
    assert got.direction is direction
    assert got.on_hold is on_hold


def test_parse_answer_rejections() -> None:
    off = make_offer("10.0.0.1", 30000, 7)
    with pytest.raises(NoCommonCodec):
        parse_answer(off, SessionDescription.parse(sdp(*HEAD, *audio("0", port=0))))
    with pytest.raises(NoCommonCodec):
        parse_answer(off, SessionDescription.parse(sdp(*HEAD, *audio("18"))))
    with pytest.raises(SdpError, match="m= lines"):
        parse_answer(off, SessionDescription.parse(sdp(*HEAD, *audio("0"), *audio("0"))))
    with pytest.raises(SdpError, match="video"):
        parse_answer(off, SessionDescription.parse(sdp(*HEAD, "m=video 5 RTP/AVP 96")))
    with pytest.raises(SdpError, match="no audio"):
        parse_answer(SessionDescription.parse(sdp(*HEAD, "m=video 5 RTP/AVP 96")),
                     SessionDescription.parse(sdp(*HEAD, "m=video 0 RTP/AVP 96")))


def test_parse_answer_te_only_if_we_offered_it() -> None:
    off = make_offer("10.0.0.1", 30000, 7, telephone_event_pt=None)
    got = parse_answer(off, SessionDescription.parse(sdp(*HEAD, *audio("0 101", *TE101))))
    assert got.telephone_event_pt is None


# --------------------------------------------------------- grammar and round trips


def test_direction_table() -> None:
    table = {
        Direction.SENDRECV: (True, True, Direction.SENDRECV),
        Direction.SENDONLY: (True, False, Direction.RECVONLY),
        Direction.RECVONLY: (False, True, Direction.SENDONLY),
        Direction.INACTIVE: (False, False, Direction.INACTIVE),
    }
    for d, (sends, receives, rev) in table.items():
        assert (d.sends, d.receives, d.reverse()) == (sends, receives, rev)
        assert Direction.of(sends, receives) is d


ROUND_TRIP = [
    SIPP_UAC, SIPP_UAC_PCAP, PYVOIP_INVITE, LINPHONE, WEBRTC,
    # every session-level line type, in RFC 4566 §5 order
    sdp("v=0", "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5", "s=SDP Seminar",
        "i=A Seminar on the session description protocol",
        "u=http://www.example.com/seminars/sdp.pdf", "e=j.doe@example.com (Jane Doe)",
        "p=+1 617 555-6011", "c=IN IP4 224.2.17.12/127", "b=CT:128",
        "t=2873397496 2873404696", "r=7d 1h 0 25h", "z=2882844526 -1h 2898848070 0",
        "k=prompt", "a=recvonly", "x=unknown line kept",
        "m=audio 49170 RTP/AVP 0", "i=voice", "c=IN IP4 224.2.17.12/127/2", "b=AS:64",
        "k=prompt", "a=rtcp:53020 IN IP4 126.16.64.4", "a=quality:10",
        "m=video 51372/2 RTP/AVP 99", "a=rtpmap:99 h263-1998/90000"),
]


@pytest.mark.parametrize("body", ROUND_TRIP)
def test_round_trip_text(body: bytes) -> None:
    sd = SessionDescription.parse(body)
    assert bytes(sd) == body
    assert SessionDescription.parse(str(sd)) == sd


def test_rfc4566_example_fields() -> None:
    sd = SessionDescription.parse(ROUND_TRIP[-1])
    assert sd.session_name == "SDP Seminar"
    assert sd.connection == Connection("224.2.17.12", suffix="127")
    assert sd.times == ((2873397496, 2873404696),)
    assert sd.direction is Direction.RECVONLY
    a, v = sd.media
    assert a.connection == Connection("224.2.17.12", suffix="127/2")
    assert a.extra == ("i=voice", "b=AS:64", "k=prompt")
    assert a.attribute("rtcp") == "53020 IN IP4 126.16.64.4"
    assert a.attribute("nope") is None
    assert (v.port, v.port_count) == (51372, 2)
    assert v.rtpmaps == {99: RtpMap(99, "h263-1998", 90000)}


def test_tolerant_parsing() -> None:
    body = b"v=0\no=- 1 1 IN IP4 1.2.3.4  \n\ns=\nc=IN IP4 1.2.3.4\t\nt=0 0\n" \
           b"m=audio 5004 RTP/AVP 0\na=rtpmap:0 PCMU/8000   \na=sendrecv\n\n\n"
    sd = SessionDescription.parse(body)
    assert sd.media[0].attributes == (Attribute("rtpmap", "0 PCMU/8000"), Attribute("sendrecv"))
    assert sd.session_name == "-"  # an empty s= becomes the usual placeholder
    # no t= line: assume t=0 0; CR-only line ends
    sd2 = SessionDescription.parse("v=0\ro=- 1 1 IN IP4 h.example\rc=IN IP4 h.example\r"
                                   "m=audio 1 RTP/AVP 0\r")
    assert sd2.times == ((0, 0),)
    assert sd2.media_connection(0) == Connection("h.example")
    # broken rtpmap is kept verbatim but ignored for negotiation
    sd3 = SessionDescription.parse(sdp(*HEAD, *audio("0 97", "a=rtpmap:97 garbage")))
    assert sd3.media[0].rtpmaps == {0: RtpMap(0, "PCMU", 8000, 1)}
    # port 0 stream without any c= is fine
    SessionDescription.parse(sdp(*HEAD[:3], HEAD[4], "m=video 0 RTP/AVP 96",
                                 "m=audio 5 RTP/AVP 0", "c=IN IP4 1.1.1.1"))


MALFORMED = {
    "empty": b"",
    "blank lines": b"\r\n\r\n",
    "no v": sdp(*HEAD[1:], *audio("0")),
    "v=1": sdp("v=1", *HEAD[1:], *audio("0")),
    "v=x": sdp("v=x", *HEAD[1:], *audio("0")),
    "repeated v": sdp(*HEAD, "v=0", *audio("0")),
    "no o": sdp(HEAD[0], *HEAD[2:], *audio("0")),
    "short o": sdp("v=0", "o=- 1 IN IP4 1.1.1.1", *HEAD[2:], *audio("0")),
    "non-numeric sess-id": sdp("v=0", "o=- abc 1 IN IP4 1.1.1.1", *HEAD[2:], *audio("0")),
    "repeated o": sdp(*HEAD, HEAD[1], *audio("0")),
    "no m": sdp(*HEAD),
    "no c": sdp(*HEAD[:3], HEAD[4], *audio("0")),
    "no c on second stream": sdp(*HEAD[:3], HEAD[4], *audio("0", "c=IN IP4 1.1.1.1"),
                                 *audio("8")),
    "two session c": sdp(*HEAD, HEAD[3], *audio("0")),
    "two media c": sdp(*HEAD, *audio("0", "c=IN IP4 1.1.1.1", "c=IN IP4 1.1.1.2")),
    "bad ip4": sdp(*HEAD[:3], "c=IN IP4 300.1.1.1", HEAD[4], *audio("0")),
    "bad ip4 short": sdp(*HEAD[:3], "c=IN IP4 1.2.3", HEAD[4], *audio("0")),
    "bad ip6": sdp(*HEAD[:3], "c=IN IP6 2001:db8:::1:zz", HEAD[4], *audio("0")),
    "ip6 in ip4": sdp(*HEAD[:3], "c=IN IP4 ::1", HEAD[4], *audio("0")),
    "bad nettype": sdp(*HEAD[:3], "c=ATM NSAP 1", HEAD[4], *audio("0")),
    "bad addrtype": sdp(*HEAD[:3], "c=IN IPX 1.1.1.1", HEAD[4], *audio("0")),
    "short c": sdp(*HEAD[:3], "c=IN IP4", HEAD[4], *audio("0")),
    "bad ttl": sdp(*HEAD[:3], "c=IN IP4 224.1.1.1/x", HEAD[4], *audio("0")),
    "empty c host": sdp(*HEAD[:3], "c=IN IP4 /1", HEAD[4], *audio("0")),
    "bad t": sdp(*HEAD[:4], "t=0", *audio("0")),
    "non-numeric t": sdp(*HEAD[:4], "t=now later", *audio("0")),
    "bad port": sdp(*HEAD, "m=audio port RTP/AVP 0"),
    "port too big": sdp(*HEAD, "m=audio 65536 RTP/AVP 0"),
    "negative port": sdp(*HEAD, "m=audio -1 RTP/AVP 0"),
    "bad port count": sdp(*HEAD, "m=audio 5004/x RTP/AVP 0"),
    "non-numeric format": sdp(*HEAD, "m=audio 5004 RTP/AVP PCMU"),
    "format out of range": sdp(*HEAD, "m=audio 5004 RTP/AVP 128"),
    "m without formats": sdp(*HEAD, "m=audio 5004 RTP/AVP"),
    "not type=value": sdp(*HEAD, "hello", *audio("0")),
    "upper-case type": sdp(*HEAD, "M=audio 5004 RTP/AVP 0"),
    "leading space": sdp(*HEAD, " m=audio 5004 RTP/AVP 0"),
    "bad attribute name": sdp(*HEAD, *audio("0", "a=:x")),
    "attribute name with space": sdp(*HEAD, *audio("0", "a=rtp map:0 PCMU/8000")),
    "not utf-8": sdp(*HEAD, *audio("0")).replace(b"s=-", b"s=\xff\xfe"),
    "unicode digits port": sdp(*HEAD, "m=audio ５００４ RTP/AVP 0"),
    # RFC 8866 §9 ptime-value: digits and one optional fraction, nothing else
    # (issue 13: "inf" raised OverflowError after the media port was opened).
    **{f"ptime {v[:12]}": sdp(*HEAD, *audio("0", f"a=ptime:{v}"))
       for v in ("inf", "-inf", "1e999", "NaN", "-20", "0x14", "1_0", "٢٠", "abc", "", "9" * 5000)},
    "session ptime inf": sdp(*HEAD, "a=ptime:inf", *audio("0")),
    "maxptime inf": sdp(*HEAD, *audio("0", "a=maxptime:inf")),
    # Numbers longer than 20 digits (int() refuses more than 4,300 with a ValueError).
    "5000-digit sess-id": sdp("v=0", f"o=- {'1' * 5000} 1 IN IP4 1.1.1.1", *HEAD[2:], *audio("0")),
    "21-digit sess-version": sdp("v=0", f"o=- 1 {'9' * 21} IN IP4 1.1.1.1", *HEAD[2:],
                                 *audio("0")),
    "5000-digit v": sdp("v=" + "0" * 5000, *HEAD[1:], *audio("0")),
    "5000-digit t": sdp(*HEAD[:4], f"t={'1' * 5000} 0", *audio("0")),
    "5000-digit port": sdp(*HEAD, f"m=audio {'0' * 4996}5004 RTP/AVP 0"),
    "5000-digit port count": sdp(*HEAD, f"m=audio 5004/{'2' * 5000} RTP/AVP 0"),
    "5000-digit format": sdp(*HEAD, f"m=audio 5004 RTP/AVP {'0' * 5000}"),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed(body: bytes) -> None:
    with pytest.raises(SdpError):
        SessionDescription.parse(body)
    with pytest.raises(SdpError):
        SessionDescription.parse(body.decode("utf-8", "surrogateescape"))


def test_fuzz_only_sdp_error() -> None:
    """Mutated real bodies either parse (and then negotiate) or raise SdpError only."""
    rng = random.Random(4566)
    seeds = [SIPP_UAC, SIPP_UAC_PCAP, PYVOIP_INVITE, LINPHONE, ASTERISK_HOLD, WEBRTC,
             *ROUND_TRIP]
    alphabet = b"v=oscmta0123456789 /:.\r\n\t-IP4RTP/AVP\xff\x00"
    parsed = 0
    for _ in range(6000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            op = rng.randrange(4)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                del data[pos:pos + rng.randint(1, 8)]
            elif op == 1:
                data[pos:pos] = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            elif op == 2 and data:
                data[min(pos, len(data) - 1)] = rng.randrange(256)
            else:
                cut = rng.randrange(len(data) + 1)
                data = data[:cut] + data[pos:]
        try:
            sd = SessionDescription.parse(bytes(data))
        except SdpError:
            continue
        parsed += 1
        assert SessionDescription.parse(bytes(sd)) == sd
        try:
            ans = negotiate(sd, local_ip="10.0.0.1", local_port=1, session_id=1)
        except NoCommonCodec:
            continue
        SessionDescription.parse(bytes(ans.sdp))
        parse_answer(sd, ans.sdp)
    assert parsed > 500


def test_media_description_helpers() -> None:
    m = MediaDescription("audio", 5004, "RTP/AVP", ("0", "101"), attributes=(
        Attribute("rtpmap", "101 telephone-event/8000"), Attribute("fmtp", "101 0-15"),
        Attribute("ptime", "2000")))
    assert m.fmtp(101) == "0-15"
    assert m.ptime is None  # out of range
    for junk in ("inf", "-inf", "1e999", "nan", "9" * 5000):  # built in code: never raises
        built = MediaDescription("audio", 5004, "RTP/AVP", ("0",),
                                 attributes=(Attribute("ptime", junk),))
        assert built.ptime is None, junk
    assert m.direction is None
    assert m.lines()[0] == "m=audio 5004 RTP/AVP 0 101"
    assert RtpMap.parse("96 opus/48000/2") == RtpMap(96, "opus", 48000, 2)
    assert str(RtpMap(96, "opus", 48000, 2)) == "96 opus/48000/2"
    for bad in ("x PCMU/8000", "0 PCMU", "200 PCMU/8000", ""):
        with pytest.raises(SdpError):
            RtpMap.parse(bad)


def test_numbers_are_bounded_not_refused() -> None:
    """Twenty digits (a 64-bit NTP sess-id, RFC 4566 §5.2) parse; the rtpmap clock is read."""
    big = "1" + "0" * 19
    sd = SessionDescription.parse(sdp("v=0", f"o=- {big} {big} IN IP4 1.1.1.1", *HEAD[2:4],
                                      f"t={big} 0", *audio("0 96", "a=rtpmap:96 opus/48000/2")))
    assert sd.origin.session_id == int(big) and sd.times == ((int(big), 0),)
    assert sd.media[0].rtpmaps[96] == RtpMap(96, "opus", 48000, 2)
    # An rtpmap with a huge clock rate is junk we skip (RFC 3551 §6 fills PT 0).
    sd2 = SessionDescription.parse(sdp(*HEAD, *audio("0", f"a=rtpmap:0 PCMU/{'8' * 5000}")))
    assert sd2.media[0].rtpmaps == {0: RtpMap(0, "PCMU", 8000, 1)}
