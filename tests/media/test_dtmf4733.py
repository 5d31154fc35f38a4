"""RFC 4733 telephone-events: payload, receiver state machine, sender, SIPp pcaps."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from bailanys.errors import RtpParseError
from bailanys.media.dtmf4733 import (
    DEFAULT_EVENT_TIMEOUT,
    DIGITS,
    MAX_DURATION,
    Rfc4733Receiver,
    Rfc4733Sender,
    TelephoneEvent,
)
from bailanys.media.rtp import RtpPacket

Packet = tuple[bytes, bool, int]


def feed_all(rx: Rfc4733Receiver, packets: list[Packet]) -> list[str]:
    out = []
    for payload, marker, ts in packets:
        d = rx.feed(ts, payload, marker)
        if d is not None:
            out.append(d)
    return out


def ev(event: int, duration: int, end: bool = False, volume: int = 10) -> bytes:
    return bytes(TelephoneEvent(event, end, volume, duration))


# ------------------------------------------------------------------ payload


def test_payload_wire_format() -> None:
    e = TelephoneEvent(event=11, end=True, volume=63, duration=0x1234)
    assert bytes(e) == b"\x0b\xbf\x12\x34"
    assert TelephoneEvent.parse(b"\x0b\xbf\x12\x34") == e
    assert e.digit == "#"
    assert TelephoneEvent(16).digit is None  # flash


def test_payload_reserved_bit_ignored_and_trailing_bytes() -> None:
    assert TelephoneEvent.parse(b"\x05\x4a\x00\xa0extra") == TelephoneEvent(5, False, 10, 160)


def test_payload_truncated() -> None:
    for n in range(4):
        with pytest.raises(RtpParseError):
            TelephoneEvent.parse(b"\x01\x8a\x03\x20"[:n])


def test_payload_build_validation() -> None:
    for bad in (
        TelephoneEvent(256),
        TelephoneEvent(-1),
        TelephoneEvent(1, volume=64),
        TelephoneEvent(1, duration=65536),
    ):
        with pytest.raises(ValueError):
            bytes(bad)


def test_digits() -> None:
    assert DIGITS == "0123456789*#ABCD"


# ------------------------------------------------------------------ sender


def test_sender_100ms() -> None:
    pkts = Rfc4733Sender().packets("5", start_timestamp=1000)
    events = [TelephoneEvent.parse(p) for p, _, _ in pkts]
    assert [m for _, m, _ in pkts] == [True] + [False] * 6
    assert {ts for _, _, ts in pkts} == {1000}
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert all(e.event == 5 and e.volume == 10 for e in events)


def test_sender_short_event_is_three_end_packets_with_marker_first() -> None:
    pkts = Rfc4733Sender().packets("#", start_timestamp=5, duration_ms=20, volume=7)
    assert [(TelephoneEvent.parse(p), m) for p, m, _ in pkts] == [
        (TelephoneEvent(11, True, 7, 160), True),
        (TelephoneEvent(11, True, 7, 160), False),
        (TelephoneEvent(11, True, 7, 160), False),
    ]


def test_sender_odd_duration_and_ptime_and_clock() -> None:
    pkts = Rfc4733Sender(clock_rate=16000).packets(
        "d", start_timestamp=0, duration_ms=70, ptime_ms=30
    )
    assert [TelephoneEvent.parse(p).duration for p, _, _ in pkts] == [480, 960, 1120, 1120, 1120]
    assert TelephoneEvent.parse(pkts[0][0]).event == 15


def test_sender_validation() -> None:
    tx = Rfc4733Sender()
    for digit in ("E", "", "12", "x"):
        with pytest.raises(ValueError):
            tx.packets(digit, start_timestamp=0)
    with pytest.raises(ValueError):
        tx.packets("1", start_timestamp=0, duration_ms=0)
    with pytest.raises(ValueError):
        tx.packets("1", start_timestamp=0, ptime_ms=0)


def test_sender_long_event_is_segmented() -> None:
    # 20 s at 8 kHz = 160000 units = 0xFFFF + 0xFFFF + 28930.
    pkts = Rfc4733Sender().packets("0", start_timestamp=0xFFFF_FF00, duration_ms=20_000)
    stamps = sorted({ts for _, _, ts in pkts}, key=lambda t: (t - 0xFFFF_FF00) & 0xFFFFFFFF)
    assert stamps == [
        0xFFFF_FF00,
        (0xFFFF_FF00 + MAX_DURATION) & 0xFFFFFFFF,
        (0xFFFF_FF00 + 2 * MAX_DURATION) & 0xFFFFFFFF,
    ]
    events = [TelephoneEvent.parse(p) for p, _, _ in pkts]
    assert max(e.duration for e in events) == MAX_DURATION
    assert [m for _, m, _ in pkts].count(True) == 1
    closing = [e for (p, _, ts), e in zip(pkts, events, strict=True) if ts == stamps[0]][-1]
    assert closing == TelephoneEvent(0, False, 10, MAX_DURATION)
    assert events[-1] == TelephoneEvent(0, True, 10, 160_000 - 2 * MAX_DURATION)
    rx = Rfc4733Receiver()
    assert feed_all(rx, pkts) == ["0"]
    assert rx.last_duration == 160_000


# ------------------------------------------------------------------ receiver


def test_receiver_reports_once_on_first_end_packet() -> None:
    rx = Rfc4733Receiver()
    pkts = Rfc4733Sender().packets("7", start_timestamp=8000)
    results = [rx.feed(ts, p, m) for p, m, ts in pkts]
    assert results == [None, None, None, None, "7", None, None]
    assert (rx.last_digit, rx.last_duration) == ("7", 800)
    assert not rx.active


def test_every_digit_round_trip() -> None:
    rx = Rfc4733Receiver()
    tx = Rfc4733Sender()
    pkts: list[Packet] = []
    for i, d in enumerate(DIGITS * 2):
        pkts += tx.packets(d, start_timestamp=i * 2000, duration_ms=40 + 10 * (i % 7))
    assert "".join(feed_all(rx, pkts)) == DIGITS * 2


def test_lowercase_abcd_are_accepted_by_sender() -> None:
    rx = Rfc4733Receiver()
    assert feed_all(rx, Rfc4733Sender().packets("a", start_timestamp=1)) == ["A"]


def test_same_digit_twice_is_two_events() -> None:
    rx = Rfc4733Receiver()
    tx = Rfc4733Sender()
    pkts = tx.packets("1", start_timestamp=0) + tx.packets("1", start_timestamp=1600)
    assert feed_all(rx, pkts) == ["1", "1"]


def test_all_end_packets_lost_reported_by_next_event() -> None:
    rx = Rfc4733Receiver()
    tx = Rfc4733Sender()
    first = tx.packets("3", start_timestamp=0)[:-3]
    second = tx.packets("4", start_timestamp=1600)
    results = [rx.feed(ts, p, m) for p, m, ts in first + second]
    assert results.index("3") == len(first)  # on the first packet of the next event
    assert [r for r in results if r] == ["3", "4"]
    assert rx.last_duration == 800


def test_all_end_packets_lost_reported_by_tick_timeout() -> None:
    rx = Rfc4733Receiver()
    pkts = Rfc4733Sender().packets("9", start_timestamp=100)[:-3]  # last update: 640
    assert feed_all(rx, pkts) == []
    assert rx.active
    assert rx.tick(100 + 640 + DEFAULT_EVENT_TIMEOUT - 1) is None
    assert rx.tick(100 + 640 + DEFAULT_EVENT_TIMEOUT) == "9"
    assert rx.tick(100 + 640 + DEFAULT_EVENT_TIMEOUT + 5000) is None
    assert (rx.last_digit, rx.last_duration) == ("9", 640)
    # The end packets turn up after all: not reported again.
    assert feed_all(rx, Rfc4733Sender().packets("9", start_timestamp=100)[-3:]) == []


def test_tick_before_any_event_and_custom_timeout() -> None:
    rx = Rfc4733Receiver(timeout=160)
    assert rx.tick(12345) is None
    rx.feed(0, ev(2, 160), True)
    assert rx.tick(319) is None
    assert rx.tick(320) == "2"


def test_tick_with_timestamp_wraparound() -> None:
    rx = Rfc4733Receiver()
    start = 0xFFFF_FF00
    rx.feed(start, ev(1, 320), True)
    assert rx.tick((start + 320 + DEFAULT_EVENT_TIMEOUT - 1) & 0xFFFFFFFF) is None
    assert rx.tick((start + 320 + DEFAULT_EVENT_TIMEOUT) & 0xFFFFFFFF) == "1"


def test_first_packets_lost_no_marker() -> None:
    rx = Rfc4733Receiver()
    pkts = Rfc4733Sender().packets("8", start_timestamp=0)
    assert feed_all(rx, pkts[3:]) == ["8"]


def test_only_one_end_packet_survives() -> None:
    for keep in range(4, 7):
        rx = Rfc4733Receiver()
        pkts = Rfc4733Sender().packets("*", start_timestamp=0)
        assert feed_all(rx, pkts[:4] + [pkts[keep]]) == ["*"]


def test_reordered_end_and_update_packets() -> None:
    rx = Rfc4733Receiver()
    pkts = Rfc4733Sender().packets("6", start_timestamp=0)
    order = [0, 1, 4, 2, 5, 3, 6]  # an end packet overtakes the updates
    assert feed_all(rx, [pkts[i] for i in order]) == ["6"]
    assert rx.last_duration == 800


def test_end_packet_of_previous_event_arriving_after_next_starts() -> None:
    rx = Rfc4733Receiver()
    tx = Rfc4733Sender()
    a = tx.packets("1", start_timestamp=0)
    b = tx.packets("2", start_timestamp=1600)
    # a's end packets are delayed behind b's first packet.
    stream = a[:4] + b[:1] + a[4:] + b[1:]
    results = [rx.feed(ts, p, m) for p, m, ts in stream]
    assert [r for r in results if r] == ["1", "2"]
    assert results[4] == "1"


def test_straggler_from_older_event_is_ignored() -> None:
    rx = Rfc4733Receiver()
    tx = Rfc4733Sender()
    assert feed_all(rx, tx.packets("1", start_timestamp=5000)) == ["1"]
    # Unmarked packets of an older timestamp are stragglers.  (A *marked*
    # one is a new press from a sender that restarted its clock: see below.)
    assert rx.feed(3000, ev(2, 160), False) is None
    assert rx.feed(3000, ev(2, 800, end=True), False) is None


def test_two_digits_completing_on_one_packet_are_both_returned() -> None:
    rx = Rfc4733Receiver()
    rx.feed(0, ev(1, 160), True)  # "1" starts, its end packets are lost
    assert rx.feed(1600, ev(2, 800, end=True), False) == "1"  # "2": only an end packet
    assert rx.feed(1600, ev(2, 800, end=True), False) == "2"  # retransmission delivers it
    assert rx.feed(1600, ev(2, 800, end=True), False) is None


def test_queued_digit_is_delivered_by_tick() -> None:
    rx = Rfc4733Receiver()
    rx.feed(0, ev(1, 160), True)
    assert rx.feed(1600, ev(2, 800, end=True), True) == "1"
    assert rx.tick(1700) == "2"


def test_non_dtmf_events_are_ignored() -> None:
    rx = Rfc4733Receiver()
    assert rx.feed(0, ev(16, 800, end=True), True) is None  # flash
    assert rx.feed(0, ev(16, 800, end=True), False) is None
    assert feed_all(rx, Rfc4733Sender().packets("0", start_timestamp=160)) == ["0"]


def test_different_event_with_same_timestamp_is_ignored() -> None:
    rx = Rfc4733Receiver()
    rx.feed(0, ev(1, 160), True)
    assert rx.feed(0, ev(2, 320, end=True)) is None
    assert rx.feed(0, ev(1, 320, end=True)) == "1"


def test_malformed_payload_raises_rtp_parse_error() -> None:
    with pytest.raises(RtpParseError):
        Rfc4733Receiver().feed(0, b"\x01\x8a", False)


def test_long_event_segments_are_one_digit() -> None:
    rx = Rfc4733Receiver()
    # Segment 1 with only some updates, segment 2 starts 0xFFFF later without M.
    assert rx.feed(1000, ev(5, 160), True) is None
    assert rx.feed(1000, ev(5, 60000), False) is None
    assert rx.feed(1000, ev(5, MAX_DURATION), False) is None
    assert rx.feed(1000 + MAX_DURATION, ev(5, 160), False) is None
    assert rx.feed(1000 + MAX_DURATION, ev(5, 4000, end=True), False) == "5"
    assert rx.feed(1000 + MAX_DURATION, ev(5, 4000, end=True), False) is None
    # A straggler from segment 1 is ignored.
    assert rx.feed(1000, ev(5, 65000), False) is None
    assert rx.last_duration == MAX_DURATION + 4000


def test_long_event_with_lost_closing_packet_of_segment() -> None:
    rx = Rfc4733Receiver()
    rx.feed(0, ev(3, 60000), True)  # the 0xFFFF packet was lost
    assert rx.feed(MAX_DURATION, ev(3, 800), False) is None
    assert rx.tick(MAX_DURATION + 800 + DEFAULT_EVENT_TIMEOUT) == "3"
    assert rx.last_duration == MAX_DURATION + 800


def test_duration_wrapping_within_one_timestamp() -> None:
    """Pre-RFC 4733 senders let the 16-bit duration wrap instead of segmenting."""
    rx = Rfc4733Receiver()
    rx.feed(0, ev(4, 65000), True)
    rx.feed(0, ev(4, 65440), False)
    assert rx.feed(0, ev(4, 64), False) is None  # wrapped
    assert rx.feed(0, ev(4, 160), False) is None
    assert rx.feed(0, ev(4, 320, end=True), False) == "4"
    assert rx.last_duration == 65536 + 320


def test_reset_forgets_current_event() -> None:
    rx = Rfc4733Receiver()
    rx.feed(0, ev(1, 160), True)
    rx.reset()
    assert rx.tick(100000) is None
    assert feed_all(rx, Rfc4733Sender().packets("2", start_timestamp=0)) == ["2"]


def test_random_loss_and_reordering_never_duplicates_or_misses_with_tick() -> None:
    """200 digits; 20 % loss and local reordering: every digit reported exactly once.

    A digit may be missing only if every one of its packets was lost.
    """
    rng = random.Random(4733)
    tx = Rfc4733Sender()
    rx = Rfc4733Receiver()
    sent: list[str] = []
    survived: list[str] = []
    got: list[str] = []
    ts = 0
    for _ in range(200):
        d = rng.choice(DIGITS)
        pkts = tx.packets(d, start_timestamp=ts, duration_ms=rng.choice((40, 60, 100, 200)))
        kept = [p for p in pkts if rng.random() > 0.2]
        for i in range(len(kept) - 1):  # swap neighbours now and then
            if rng.random() < 0.2:
                kept[i], kept[i + 1] = kept[i + 1], kept[i]
        sent.append(d)
        if kept:
            survived.append(d)
        got += feed_all(rx, kept)
        ts += 8000  # one digit a second
        tail = rx.tick(ts - 100)  # audio after the event moves the clock on
        if tail is not None:
            got.append(tail)
    assert got == survived
    assert len(survived) >= 190


# ------------------------------------------------------------------ SIPp pcaps

PCAP_DIR = Path("/usr/share/sip-tester")
PCAPS = sorted(PCAP_DIR.glob("dtmf_2833_*.pcap"))
_NAMES = {"pound": "#", "star": "*"}


def read_pcap_udp_payloads(path: Path) -> list[bytes]:
    """UDP payloads of an Ethernet/IPv4 libpcap file (24-byte global, 16-byte record headers)."""
    data = path.read_bytes()
    magic = struct.unpack_from("<I", data)[0]
    if magic == 0xA1B2C3D4:
        endian = "<"
    elif magic == 0xD4C3B2A1:
        endian = ">"
    else:
        raise ValueError(f"{path}: not a libpcap file")
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    assert linktype == 1, "Ethernet"
    out = []
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack_from(endian + "IIII", data, pos)[2]
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        if struct.unpack_from("!H", frame, 12)[0] != 0x0800:
            continue
        ihl = (frame[14] & 0x0F) * 4
        if frame[14 + 9] != 17:  # UDP
            continue
        udp = frame[14 + ihl :]
        udp_len = struct.unpack_from("!H", udp, 4)[0]
        out.append(udp[8:udp_len])
    return out


@pytest.mark.skipif(not PCAPS, reason="Debian package sip-tester (SIPp) pcaps not installed")
@pytest.mark.parametrize("path", PCAPS, ids=[p.stem for p in PCAPS])
def test_sipp_rfc2833_pcaps(path: Path) -> None:
    name = path.stem.removeprefix("dtmf_2833_")
    expected = _NAMES.get(name, name)
    rx = Rfc4733Receiver()
    got = []
    packets = [RtpPacket.parse(p) for p in read_pcap_udp_payloads(path)]
    assert packets and all(p.payload_type == 101 for p in packets)
    assert packets[0].marker
    for pkt in packets:
        d = rx.feed(pkt.timestamp, pkt.payload, pkt.marker)
        if d is not None:
            got.append(d)
    assert got == [expected]
    assert rx.last_duration == TelephoneEvent.parse(packets[-1].payload).duration


def test_marked_start_with_an_older_timestamp_after_an_end_is_a_new_event() -> None:
    # SIPp's play_pcap_audio replays recorded pcaps with their own old RTP
    # timestamps: digit 2 (ts 23200) then digit 1 (ts 13280) must be two events.
    rx = Rfc4733Receiver()
    got = []
    for ts, digit in ((23200, "2"), (13280, "1"), (23200, "2"), (31040, "3")):
        code = DIGITS.index(digit)
        for i, (end, dur) in enumerate(((False, 160), (False, 320), (True, 480), (True, 480))):
            payload = bytes(TelephoneEvent(code, end=end, volume=10, duration=dur))
            d = rx.feed(ts, payload, marker=(i == 0))
            if d is not None:
                got.append(d)
    assert got == ["2", "1", "2", "3"]
