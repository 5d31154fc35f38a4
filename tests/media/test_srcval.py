"""RTP source validation (RFC 3550 A.1): the pure validator, then one session fed by hand.

The session tests call ``datagram_received`` directly (no socket): the
latched peer's stream, then garbage from the same address with random
SSRCs and payload types (telephone-events among them) keys no digit and
reaches neither the jitter buffer nor the in-band detector.
"""

from __future__ import annotations

import random
import struct

import pytest

from bailanys.media.dtmf4733 import Rfc4733Sender
from bailanys.media.session import RtpSession
from bailanys.media.srcval import MIN_SEQUENTIAL, SourceValidator

PEER = ("127.0.0.1", 40000)
DTMF_PT = 101


# ------------------------------------------------------------ the pure validator


def test_the_first_source_is_taken_at_once() -> None:
    v = SourceValidator()
    assert v.admit(7, 100, 0)
    assert v.ssrc == 7 and v.takeovers == 0


def test_a_new_ssrc_needs_min_sequential_packets() -> None:
    assert MIN_SEQUENTIAL == 2  # RFC 3550 A.1
    v = SourceValidator()
    v.admit(7, 100, 0)
    assert not v.admit(9, 500, 1)
    assert v.admit(9, 501, 1)  # the second in sequence, the old source silent meanwhile
    assert v.ssrc == 9 and v.takeovers == 1
    assert v.admit(9, 502, 1)
    assert not v.admit(7, 101, 2)  # the old one is a stranger now


def test_probation_restarts_on_a_gap_another_ssrc_or_the_live_source() -> None:
    v = SourceValidator(min_sequential=3)
    v.admit(7, 0, 0)
    assert not v.admit(9, 10, 5)
    assert not v.admit(9, 12, 5)  # not in sequence: count restarts at 1
    assert not v.admit(9, 13, 5)
    assert not v.admit(8, 14, 5)  # another candidate
    assert not v.admit(9, 14, 5)
    assert not v.admit(9, 15, 6)  # the validated source sent in between
    assert not v.admit(9, 16, 6)
    assert v.admit(9, 17, 6)


def test_sequence_numbers_wrap() -> None:
    v = SourceValidator()
    v.admit(1, 0, 0)
    assert not v.admit(2, 0xFFFF, 0)
    assert v.admit(2, 0, 0)


def test_random_garbage_never_takes_over() -> None:
    rng = random.Random(13)
    v = SourceValidator()
    v.admit(0x1234, 0, 0)
    taken = sum(v.admit(rng.getrandbits(32), rng.getrandbits(16), i // 3) for i in range(50_000))
    assert taken == 0 and v.ssrc == 0x1234


def test_restart_takes_the_next_source_at_once() -> None:
    v = SourceValidator()
    v.admit(1, 0, 0)
    v.restart()
    assert v.admit(2, 77, 0) and v.ssrc == 2


def test_min_sequential_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SourceValidator(0)


# ------------------------------------------------------------ one session, fed by hand

_HDR = struct.Struct("!BBHII")


def _rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    return _HDR.pack(0x80, pt | (0x80 if marker else 0), seq & 0xFFFF, ts, ssrc) + payload


def _session() -> tuple[RtpSession, list[str]]:
    s = RtpSession(50000, 0)
    s.configure(remote=PEER, codec="PCMU", audio_pt=0, dtmf_pt=DTMF_PT)
    heard: list[str] = []
    s.on_dtmf = lambda digit, _source: heard.append(digit)
    return s, heard


def _key(s: RtpSession, digit: str, ssrc: int, seq: int, ts: int) -> int:
    """Send ``digit`` as RFC 4733 packets from ``ssrc``; returns the next seq."""
    for payload, marker, t in Rfc4733Sender().packets(digit, start_timestamp=ts, duration_ms=100):
        s.datagram_received(_rtp(DTMF_PT, seq, t, ssrc, payload, marker), PEER)
        seq += 1
    return seq


def _audio(s: RtpSession, ssrc: int, seq: int, n: int, byte: int = 0xFF) -> int:
    for i in range(n):
        s.datagram_received(_rtp(0, seq, (seq + i) * 160, ssrc, bytes([byte]) * 160), PEER)
        seq += 1
    return seq


def test_garbage_from_the_peer_address_keys_no_digit() -> None:
    """Issue 13 defect 3: 5,000 packets with random SSRC and payload type
    (a third of them telephone-events with valid-looking payloads) -> 0 digits,
    and the peer's own keys still work, before and after."""
    s, heard = _session()
    peer_ssrc = 0xCAFE
    seq = _audio(s, peer_ssrc, 1000, 5)
    seq = _key(s, "5", peer_ssrc, seq, 10_000)
    assert heard == ["5"]
    rng = random.Random(4733)
    jitter_before = s.jitter.stats.received
    for i in range(5000):
        pt = DTMF_PT if i % 3 == 0 else rng.choice((0, 8, 13, rng.randrange(128)))
        if pt == DTMF_PT:
            event, end = rng.randrange(16), rng.random() < 0.5
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, rng.randrange(1, 2000))
        else:
            payload = rng.randbytes(rng.choice((4, 160)))
        s.datagram_received(
            _rtp(pt, rng.getrandbits(16), rng.getrandbits(32), rng.getrandbits(32), payload,
                 rng.random() < 0.5),
            PEER,
        )
    assert heard == ["5"]
    assert s.jitter.stats.received == jitter_before  # no foreign audio to play, detect, record
    assert s.stats.unvalidated > 2000
    assert s.rx_ssrc == peer_ssrc
    _key(s, "7", peer_ssrc, seq, 20_000)
    assert heard == ["5", "7"]


def test_a_phone_that_changes_its_ssrc_is_heard_after_two_packets() -> None:
    """Hold/unhold or a transfer: the old SSRC stops, the new one takes over."""
    s, heard = _session()
    seq = _audio(s, 1, 0, 10)
    received = s.jitter.stats.received
    seq2 = _audio(s, 2, 5000, 3)
    assert s.rx_ssrc == 2 and s.source.takeovers == 1
    assert s.stats.unvalidated == 1  # only the first packet of the new source was dropped
    assert s.jitter.stats.received > received
    _key(s, "#", 2, seq2, 90_000)
    assert heard == ["#"]
    assert seq == 10


def test_an_injector_racing_the_live_stream_is_not_heard() -> None:
    """Spoofed event packets interleaved one by one with the peer's audio."""
    s, heard = _session()
    seq, fake_seq = 0, 100
    events = Rfc4733Sender().packets("1", start_timestamp=0, duration_ms=100)
    for payload, marker, ts in events * 3:
        seq = _audio(s, 1, seq, 1)
        s.datagram_received(_rtp(DTMF_PT, fake_seq, ts, 666, payload, marker), PEER)
        fake_seq += 1
    assert heard == [] and s.rx_ssrc == 1


def test_rfc4733_from_an_unvalidated_source_does_not_mute_inband_detection() -> None:
    s, _ = _session()
    _audio(s, 1, 0, 3)
    s.datagram_received(_rtp(DTMF_PT, 9, 0, 2, b"\x01\x0a\x00\xa0"), PEER)
    assert not s.rfc4733_seen


def test_a_reinvite_moving_the_media_takes_the_next_source_at_once() -> None:
    s, heard = _session()
    _audio(s, 1, 0, 3)
    new_peer = ("127.0.0.1", 40002)
    s.configure(remote=new_peer, codec="PCMU", audio_pt=0, dtmf_pt=DTMF_PT)
    assert s.latched is None and s.rx_ssrc == -1
    s.datagram_received(_rtp(0, 50, 0, 9, b"\xff" * 160), new_peer)
    assert s.latched == new_peer and s.rx_ssrc == 9 and s.stats.unvalidated == 0
