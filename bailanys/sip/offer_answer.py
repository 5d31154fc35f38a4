"""The offer/answer model (RFC 3264) for audio-only telephony.

* :func:`negotiate` answers a remote offer (we are the UAS): picks the first
  codec in the *offerer's* order that we support (RFC 3264 §6.1), keeps the
  offerer's telephone-event payload type (RFC 4733 §7.1.1), mirrors the
  direction (§6.1, §8.4) and rejects every other stream with port 0 (§6).
  No usable audio stream raises :class:`NoCommonCodec` (answer 488).
* :func:`make_offer` / :func:`parse_answer` are the UAC side.

Payload types: static 0 = PCMU/8000 and 8 = PCMA/8000 (RFC 3551 §6, table 4);
``telephone-event/8000`` is dynamic (RFC 4733 §7).  Pure code, no I/O; built
on the grammar of :mod:`bailanys.sip.session_description`.  Re-exported by
:mod:`bailanys.sip.sdp`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bailanys.errors import SdpError
from bailanys.sip.sdp_fields import Attribute, Connection, Direction, Origin
from bailanys.sip.session_description import (
    MediaDescription,
    SessionDescription,
    payload_type,
)

# The codecs this server can encode and decode, by name, with the static PT
# we use when we are the offerer (RFC 3551 §6).
SUPPORTED_CODECS: dict[str, int] = {"PCMU": 0, "PCMA": 8}

TELEPHONE_EVENT = "telephone-event"
# RFC 4733 §3.2: DTMF events 0-9, *, #, A-D are 0-15.
TELEPHONE_EVENT_FMTP = "0-15"
# RFC 3551 §4.5: the default packetisation for G.711 is 20 ms.
DEFAULT_PTIME_MS = 20


class NoCommonCodec(SdpError):
    """No audio stream of an offer (or answer) has a codec we support (RFC 3264 §6: 488)."""


@dataclass(frozen=True)
class Codec:
    """An audio codec as negotiated: encoding name and the payload type to use."""

    name: str
    payload_type: int
    clock_rate: int = 8000


@dataclass(frozen=True)
class NegotiatedMedia:
    """What the media layer needs after offer/answer, from *our* point of view.

    ``codec`` / ``telephone_event_pt``: payload types to send and expect.
    ``remote_addr``: where to send RTP (RFC 3264 §5: the peer's c= and m= port).
    ``ptime``: the peer's ``a=ptime`` in ms (20 when absent, RFC 3551 §4.5).
    ``direction``: our direction (``sends``: transmit RTP; ``receives``: expect it).
    ``on_hold``: the peer put us on hold (it does not want our media:
    sendonly/inactive, or RFC 2543 ``c=0.0.0.0``).
    ``media_index``: which m= line carries the audio.
    """

    codec: Codec
    telephone_event_pt: int | None
    remote_addr: tuple[str, int]
    ptime: int
    direction: Direction
    on_hold: bool = False
    media_index: int = 0


@dataclass(frozen=True)
class Answer:
    """The result of :func:`negotiate`: the SDP to send and the media to set up."""

    sdp: SessionDescription
    media: NegotiatedMedia

    @property
    def codec(self) -> Codec:
        return self.media.codec

    @property
    def telephone_event_pt(self) -> int | None:
        return self.media.telephone_event_pt

    @property
    def remote_addr(self) -> tuple[str, int]:
        return self.media.remote_addr

    @property
    def ptime(self) -> int:
        return self.media.ptime

    @property
    def direction(self) -> Direction:
        return self.media.direction

    @property
    def on_hold(self) -> bool:
        return self.media.on_hold


def _is_rtp_avp(proto: str) -> bool:
    # Plain RTP only: no SRTP (RTP/SAVP), no DTLS (UDP/TLS/RTP/SAVPF) here.
    return proto.upper() in ("RTP/AVP", "RTP/AVPF")


def _pick_codec(md: MediaDescription, supported: Iterable[str]) -> Codec | None:
    names = {s.upper() for s in supported}
    maps = md.rtpmaps
    for f in md.formats:
        rm = maps.get(pt) if (pt := payload_type(f)) is not None else None
        if rm is not None and rm.encoding.upper() in names and rm.matches(rm.encoding):
            return Codec(rm.encoding.upper(), rm.payload_type, rm.clock_rate)
    return None


def _telephone_event_pt(md: MediaDescription) -> int | None:
    maps = md.rtpmaps
    for f in md.formats:
        rm = maps.get(pt) if (pt := payload_type(f)) is not None else None
        if rm is not None and rm.matches(TELEPHONE_EVENT):
            return rm.payload_type
    return None


def _rejected(md: MediaDescription) -> MediaDescription:
    """RFC 3264 §6: a declined stream keeps its m= line with port 0."""
    return MediaDescription(md.media, 0, md.proto, md.formats)


def _audio_media(
    port: int, codecs: Iterable[Codec], te_pt: int | None, direction: Direction, ptime: int
) -> MediaDescription:
    codecs = list(codecs)
    formats = [str(c.payload_type) for c in codecs]
    attrs = [Attribute("rtpmap", f"{c.payload_type} {c.name}/{c.clock_rate}") for c in codecs]
    if te_pt is not None:
        formats.append(str(te_pt))
        attrs.append(Attribute("rtpmap", f"{te_pt} {TELEPHONE_EVENT}/8000"))
        attrs.append(Attribute("fmtp", f"{te_pt} {TELEPHONE_EVENT_FMTP}"))
    attrs.append(Attribute("ptime", str(ptime)))
    attrs.append(Attribute(direction.value))
    return MediaDescription("audio", port, "RTP/AVP", tuple(formats), attributes=tuple(attrs))


def negotiate(
    offer: SessionDescription,
    *,
    local_ip: str,
    local_port: int,
    session_id: int,
    supported: Iterable[str] = ("PCMU", "PCMA"),
    session_version: int | None = None,
    username: str = "bailanys",
    ptime: int = DEFAULT_PTIME_MS,
) -> Answer:
    """Answer ``offer`` (RFC 3264 §6).

    The first audio stream (RTP/AVP, non-zero port) with a codec in
    ``supported`` is accepted with one codec: the first of the offer's formats
    we support (§6.1: the offerer's preference), plus telephone-event at the
    offerer's payload type when offered.  Every other stream is answered with
    port 0.  ``session_version`` defaults to ``session_id``; a re-INVITE answer
    in the same dialog must pass a larger one (§8).

    Direction (§6.1, §8.4): sendonly -> recvonly, recvonly -> sendonly,
    inactive -> inactive; an RFC 2543 ``c=0.0.0.0`` offer means the offerer
    does not want media, so we do not send either.

    Raises :class:`NoCommonCodec` when no audio stream can be accepted.
    """
    supported = tuple(supported)
    chosen: tuple[int, Codec] | None = None
    for i, md in enumerate(offer.media):
        if md.media == "audio" and md.port != 0 and _is_rtp_avp(md.proto):
            codec = _pick_codec(md, supported)
            if codec is not None:
                chosen = (i, codec)
                break
    if chosen is None:
        offered = sorted({rm.encoding for md in offer.media for rm in md.rtpmaps.values()})
        raise NoCommonCodec(f"no common audio codec: offer has {', '.join(offered) or 'none'}, "
                            f"we support {', '.join(supported)}")
    index, codec = chosen
    md = offer.media[index]
    conn = offer.media_connection(index)
    assert conn is not None  # parse() guarantees a c= for every non-zero port
    offer_dir = offer.media_direction(index)
    hold_by_address = conn.is_hold
    # What the offerer sends/receives; c=0.0.0.0 means "do not send to me".
    peer_receives = offer_dir.receives and not hold_by_address
    ours = Direction.of(sends=peer_receives, receives=offer_dir.sends)
    te_pt = _telephone_event_pt(md)

    answer_media: list[MediaDescription] = []
    for i, other in enumerate(offer.media):
        if i == index:
            answer_media.append(_audio_media(local_port, [codec], te_pt, ours, ptime))
        else:
            answer_media.append(_rejected(other))
    version = session_id if session_version is None else session_version
    conn_local = Connection.for_ip(local_ip)
    sdp = SessionDescription(
        origin=Origin(username, session_id, version, local_ip, "IN", conn_local.addrtype),
        media=tuple(answer_media),
        connection=conn_local,
        times=offer.times,  # RFC 3264 §6: the answer's t= equals the offer's
    )
    negotiated = NegotiatedMedia(
        codec=codec,
        telephone_event_pt=te_pt,
        remote_addr=(conn.address, md.port),
        ptime=md.ptime or DEFAULT_PTIME_MS,
        direction=ours,
        on_hold=not peer_receives,
        media_index=index,
    )
    return Answer(sdp, negotiated)


def make_offer(
    local_ip: str,
    local_port: int,
    session_id: int,
    codecs: Iterable[str] = ("PCMU", "PCMA"),
    telephone_event_pt: int | None = 101,
    direction: Direction | str = Direction.SENDRECV,
    *,
    session_version: int | None = None,
    username: str = "bailanys",
    ptime: int = DEFAULT_PTIME_MS,
) -> SessionDescription:
    """Our offer for an outgoing INVITE (RFC 3264 §5): one audio stream, codecs in order.

    ``codecs`` are names from :data:`SUPPORTED_CODECS` (static payload types);
    an unknown name is a local mistake and raises ``ValueError``.
    """
    chosen = []
    for name in codecs:
        pt = SUPPORTED_CODECS.get(name.upper())
        if pt is None:
            raise ValueError(f"unsupported codec {name!r}; have {sorted(SUPPORTED_CODECS)}")
        chosen.append(Codec(name.upper(), pt))
    if not chosen:
        raise ValueError("an offer needs at least one codec")
    if telephone_event_pt is not None and not 96 <= telephone_event_pt <= 127:
        raise ValueError("telephone-event needs a dynamic payload type 96-127 (RFC 3551 §3)")
    conn = Connection.for_ip(local_ip)
    media = _audio_media(local_port, chosen, telephone_event_pt, Direction(direction), ptime)
    version = session_id if session_version is None else session_version
    return SessionDescription(
        origin=Origin(username, session_id, version, local_ip, "IN", conn.addrtype),
        media=(media,),
        connection=conn,
    )


def parse_answer(offer: SessionDescription, answer: SessionDescription) -> NegotiatedMedia:
    """Read the peer's answer to ``offer`` (ours) (RFC 3264 §5, §6).

    The answer must have as many m= lines as the offer.  The audio codec is
    the first of the answer's formats that we offered (by name); we send with
    the answer's payload types.  Raises :class:`NoCommonCodec` when the audio
    stream was rejected (port 0) or has no codec of ours, :class:`SdpError`
    when the answer does not match the offer.
    """
    if len(answer.media) != len(offer.media):
        raise SdpError(f"answer has {len(answer.media)} m= lines, offer had {len(offer.media)}")
    reasons: list[str] = []
    for i, (ours, theirs) in enumerate(zip(offer.media, answer.media, strict=True)):
        if ours.media != "audio" or ours.port == 0:
            continue
        if theirs.media != ours.media:
            raise SdpError(f"answer m= line {i} is {theirs.media!r}, offer had {ours.media!r}")
        if theirs.port == 0:
            reasons.append(f"m= line {i} rejected (port 0)")
            continue
        offered = [rm.encoding for rm in ours.rtpmaps.values() if not rm.matches(TELEPHONE_EVENT)]
        codec = _pick_codec(theirs, offered)
        if codec is None:
            reasons.append(f"m= line {i} has none of {', '.join(offered)}")
            continue
        conn = answer.media_connection(i)
        if conn is None:  # parse() makes this unreachable; built objects may not
            raise SdpError(f"answer m= line {i} has no connection address")
        our_dir = offer.media_direction(i)
        their_dir = answer.media_direction(i)
        peer_receives = their_dir.receives and not conn.is_hold
        direction = Direction.of(sends=our_dir.sends and peer_receives,
                                 receives=our_dir.receives and their_dir.sends)
        te_pt = (_telephone_event_pt(theirs)
                 if _telephone_event_pt(ours) is not None else None)
        return NegotiatedMedia(
            codec=codec,
            telephone_event_pt=te_pt,
            remote_addr=(conn.address, theirs.port),
            ptime=theirs.ptime or DEFAULT_PTIME_MS,
            direction=direction,
            on_hold=not peer_receives,
            media_index=i,
        )
    if reasons:
        raise NoCommonCodec("peer accepted no audio stream: " + "; ".join(reasons))
    raise SdpError("our offer has no audio stream")
