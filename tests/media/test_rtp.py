"""RTP (RFC 3550 §5.1) and RTCP (§6.4-6.6) parse/build, byte by byte."""

from __future__ import annotations

import struct

import pytest

from bailanys.errors import RtpParseError
from bailanys.media.rtp import (
    RTCP_APP,
    RTP_HEADER,
    RtcpByePacket,
    RtcpPacket,
    RtcpReportBlock,
    RtcpRrPacket,
    RtcpSdesChunk,
    RtcpSdesPacket,
    RtcpSrPacket,
    RtpPacket,
    build_compound,
    build_rr,
    build_rtp_header,
    build_sr,
    is_rtcp,
    ntp_middle32,
    ntp_timestamp,
    parse_rtp_header,
    seq_add,
    seq_diff,
    ts_diff,
)

# A PCMU packet: V=2, M=1, PT=0, seq 0x1234, ts 0xdeadbeef, SSRC 0x01020304.
SIMPLE = bytes.fromhex("80801234deadbeef01020304") + b"\xff" * 160


def test_parse_simple() -> None:
    pkt = RtpPacket.parse(SIMPLE)
    assert pkt == RtpPacket(
        payload_type=0,
        marker=True,
        sequence_number=0x1234,
        timestamp=0xDEADBEEF,
        ssrc=0x01020304,
        payload=b"\xff" * 160,
    )
    assert bytes(pkt) == SIMPLE


def test_parse_accepts_memoryview_and_bytearray() -> None:
    assert RtpPacket.parse(memoryview(SIMPLE)) == RtpPacket.parse(bytearray(SIMPLE))
    assert isinstance(RtpPacket.parse(bytearray(SIMPLE)).payload, bytes)


def test_header_only_packet() -> None:
    pkt = RtpPacket.parse(SIMPLE[:12])
    assert pkt.payload == b""
    assert bytes(pkt) == SIMPLE[:12]


def test_csrc_extension_and_padding_round_trip() -> None:
    pkt = RtpPacket(
        payload_type=8,
        sequence_number=65535,
        timestamp=1,
        ssrc=7,
        payload=b"abc",
        csrc=[1, 2, 0xFFFFFFFF],
        extension=bytes.fromhex("bede0002") + b"12345678",
        padding=5,
    )
    raw = bytes(pkt)
    assert raw[0] == 0x80 | 0x20 | 0x10 | 3
    assert raw[-1] == 5 and raw[-5:-1] == bytes(4)
    assert len(raw) == 12 + 12 + 12 + 3 + 5
    assert RtpPacket.parse(raw) == pkt


def test_parse_real_padding_and_extension_layout() -> None:
    raw = (
        bytes([0x80 | 0x20 | 0x10 | 1, 0x00])
        + struct.pack("!HII", 1, 2, 3)
        + struct.pack("!I", 99)  # CSRC
        + struct.pack("!HH", 0x1000, 1)
        + b"\xaa\xbb\xcc\xdd"  # one extension word
        + b"pay"
        + b"\x09\x09\x03"  # 3 octets of padding; content of non-last octets is free
    )
    pkt = RtpPacket.parse(raw)
    assert pkt.csrc == [99]
    assert pkt.extension == bytes.fromhex("10000001aabbccdd")
    assert pkt.payload == b"pay"
    assert pkt.padding == 3


def test_every_truncation_raises_rtp_parse_error() -> None:
    raw = bytes(
        RtpPacket(
            payload_type=0,
            payload=b"x" * 4,
            csrc=[1, 2],
            extension=b"\x00\x01\x00\x01abcd",
            padding=4,
        )
    )
    RtpPacket.parse(raw)
    for n in range(len(raw)):
        try:
            pkt = RtpPacket.parse(raw[:n])
        except RtpParseError:
            continue
        # A prefix that still parses must be self-consistent (the padding
        # count happens to fit): it never raises anything else.
        assert bytes(pkt)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "too short"),
        (b"\x80\x00" + bytes(9), "too short"),
        (b"\x40\x00" + bytes(10), "version 1"),
        (b"\x00\x00" + bytes(10), "version 0"),
        (b"\xc0\x00" + bytes(10), "version 3"),
        (b"\x82\x00" + bytes(10) + bytes(4), "CSRC"),
        (b"\x90\x00" + bytes(10) + b"\x00\x00", "extension"),
        (b"\x90\x00" + bytes(10) + b"\x00\x00\x00\x02" + bytes(4), "overruns"),
        (b"\xa0\x00" + bytes(10) + b"ab\x00", "padding count 0"),
        (b"\xa0\x00" + bytes(10) + b"ab\x04", "padding count 4"),
    ],
)
def test_malformed(raw: bytes, message: str) -> None:
    with pytest.raises(RtpParseError, match=message):
        RtpPacket.parse(raw)


def test_padding_may_consume_the_whole_payload() -> None:
    raw = b"\xa0\x00" + bytes(10) + b"\x00\x00\x03"
    pkt = RtpPacket.parse(raw)
    assert pkt.payload == b"" and pkt.padding == 3


def test_trailing_bytes_are_payload() -> None:
    assert RtpPacket.parse(SIMPLE + b"garbage").payload.endswith(b"garbage")


def test_build_rejects_bad_fields() -> None:
    with pytest.raises(ValueError):
        bytes(RtpPacket(csrc=list(range(16))))
    with pytest.raises(ValueError):
        bytes(RtpPacket(padding=256))
    with pytest.raises(ValueError):
        bytes(RtpPacket(extension=b"\x00\x00\x00\x02abcd"))
    with pytest.raises(ValueError):
        bytes(RtpPacket(extension=b"\x00"))


def test_build_masks_wrapping_counters() -> None:
    raw = bytes(RtpPacket(sequence_number=65536 + 5, timestamp=(1 << 32) + 9, payload_type=0))
    pkt = RtpPacket.parse(raw)
    assert (pkt.sequence_number, pkt.timestamp) == (5, 9)


def test_fast_header_matches_dataclass() -> None:
    for marker in (False, True):
        for pt in (0, 8, 101):
            hdr = build_rtp_header(pt, 70000, (1 << 32) + 3, 0xCAFEBABE, marker)
            assert len(hdr) == 12
            ref = RtpPacket(
                payload_type=pt,
                marker=marker,
                sequence_number=70000 & 0xFFFF,
                timestamp=3,
                ssrc=0xCAFEBABE,
            )
            assert hdr == bytes(ref)
            assert parse_rtp_header(hdr + b"x") == (pt, marker, 70000 & 0xFFFF, 3, 0xCAFEBABE)
    assert RTP_HEADER.size == 12


def test_fast_header_parse_rejects() -> None:
    with pytest.raises(RtpParseError):
        parse_rtp_header(b"\x80" * 11)
    with pytest.raises(RtpParseError):
        parse_rtp_header(b"\x00" * 12)


def test_is_rtcp_rfc5761() -> None:
    assert not is_rtcp(SIMPLE)
    assert not is_rtcp(b"\x80")
    assert not is_rtcp(b"")
    for pt in range(192, 224):
        assert is_rtcp(bytes([0x80, pt]))
    for b1 in list(range(0, 192)) + list(range(224, 256)):
        assert not is_rtcp(bytes([0x80, b1]))
    assert is_rtcp(build_rr(1))
    # PCMU with marker (0x80) and telephone-event 101 with marker (0xe5) are RTP.
    assert not is_rtcp(bytes([0x80, 0x80 | 101]))


def test_seq_diff_and_add() -> None:
    assert seq_diff(0, 65535) == 1
    assert seq_diff(65535, 0) == -1
    assert seq_diff(5, 5) == 0
    assert seq_diff(100, 10) == 90
    assert seq_diff(32767, 0) == 32767
    assert seq_diff(32768, 0) == -32768
    assert seq_add(65535, 1) == 0
    assert seq_add(0, -1) == 65535
    for a in range(0, 65536, 997):
        for d in (-300, -1, 0, 1, 300):
            assert seq_diff(seq_add(a, d), a) == d


def test_ts_diff() -> None:
    assert ts_diff(0, 0xFFFFFFFF) == 1
    assert ts_diff(0xFFFFFF60, 0x40) == -0xE0
    assert ts_diff(160, 0) == 160


def test_ntp_timestamp() -> None:
    ntp = ntp_timestamp(0.5)
    assert ntp >> 32 == 2_208_988_800
    assert ntp & 0xFFFFFFFF == 1 << 31
    assert ntp_middle32(ntp) == ((2_208_988_800 & 0xFFFF) << 16) | 0x8000


# --------------------------------------------------------------------- RTCP

REPORT = RtcpReportBlock(
    ssrc=0x11111111,
    fraction_lost=25,
    packets_lost=-3,
    highest_sequence=0x00010005,
    jitter=42,
    lsr=0x12345678,
    dlsr=65536,
)


def test_report_block_round_trip_and_signed_loss() -> None:
    raw = bytes(REPORT)
    assert len(raw) == 24
    assert raw[4:8] == bytes([25, 0xFF, 0xFF, 0xFD])
    assert RtcpReportBlock.parse(raw) == REPORT
    clamped = RtcpReportBlock(1, packets_lost=1 << 30)
    assert RtcpReportBlock.parse(bytes(clamped)).packets_lost == (1 << 23) - 1
    with pytest.raises(RtpParseError):
        RtcpReportBlock.parse(raw[:23])


def test_sr_wire_format() -> None:
    sr = RtcpSrPacket(
        ssrc=0xAABBCCDD,
        ntp_timestamp=0x0102030405060708,
        rtp_timestamp=160,
        packet_count=2,
        octet_count=320,
        reports=[REPORT],
    )
    raw = bytes(sr)
    assert raw[:4] == bytes([0x81, 200, 0, 12])  # RC=1, PT=SR, 13 words - 1
    assert len(raw) == 52
    assert RtcpPacket.parse_compound(raw) == [sr]


def test_rr_and_sdes_and_bye_compound() -> None:
    packets: list[RtcpPacket] = [
        RtcpRrPacket(ssrc=5, reports=[REPORT, RtcpReportBlock(ssrc=6)]),
        RtcpSdesPacket(
            [
                RtcpSdesChunk(5, [(1, b"user@host"), (6, b"bailanys")]),
                RtcpSdesChunk(6, [(1, b"ab")]),
                RtcpSdesChunk(7, []),
            ]
        ),
        RtcpByePacket([5, 6], reason=b"hangup"),
    ]
    raw = build_compound(packets)
    assert len(raw) % 4 == 0
    assert RtcpPacket.parse_compound(raw) == packets


def test_sdes_chunk_exactly_filling_a_word_has_a_full_end_word() -> None:
    # SSRC(4) + item(2+2) = 8: the END item needs a whole extra word of zeros.
    raw = bytes(RtcpSdesPacket([RtcpSdesChunk(1, [(1, b"ab")])]))
    assert raw[4:] == struct.pack("!I", 1) + b"\x01\x02ab" + bytes(4)
    assert RtcpPacket.parse_compound(raw)[0] == RtcpSdesPacket([RtcpSdesChunk(1, [(1, b"ab")])])


def test_bye_without_reason_and_empty() -> None:
    for bye in (RtcpByePacket([1]), RtcpByePacket([]), RtcpByePacket([1, 2, 3], b"")):
        assert RtcpPacket.parse_compound(bytes(bye)) == [bye]


def test_builders() -> None:
    raw = build_sr(9, ntp_timestamp=1 << 40, rtp_timestamp=1, packet_count=3, octet_count=4)
    assert RtcpPacket.parse_compound(raw) == [RtcpSrPacket(9, 1 << 40, 1, 3, 4)]
    raw = build_sr(9, ntp_timestamp=1, rtp_timestamp=1, packet_count=3, octet_count=4, cname="a@b")
    parsed = RtcpPacket.parse_compound(raw)
    assert isinstance(parsed[1], RtcpSdesPacket)
    assert parsed[1].chunks[0].items == [(1, b"a@b")]
    raw = build_rr(9, [REPORT], cname="x")
    rr, sdes = RtcpPacket.parse_compound(raw)
    assert rr == RtcpRrPacket(9, [REPORT])
    assert sdes == RtcpSdesPacket.cname(9, "x")


def test_unknown_types_are_skipped() -> None:
    app = bytes([0x80, RTCP_APP, 0, 2]) + struct.pack("!I", 1) + b"name"
    xr = bytes([0x80, 207, 0, 1]) + bytes(4)
    raw = build_rr(1) + app + xr + bytes(RtcpByePacket([1]))
    assert [type(p) for p in RtcpPacket.parse_compound(raw)] == [RtcpRrPacket, RtcpByePacket]


def test_padding_on_last_packet() -> None:
    bye = bytes(RtcpByePacket([1]))
    padded = bytes([bye[0] | 0x20, bye[1], 0, 2]) + bye[4:] + b"\x00\x00\x00\x04"
    assert RtcpPacket.parse_compound(build_rr(1) + padded)[1] == RtcpByePacket([1])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "too short"),
        (b"\x80\xc9\x00", "too short"),
        (bytes([0x40, 201, 0, 1]) + bytes(4), "version 1"),
        (bytes([0x80, 201, 0, 2]) + bytes(4), "overruns"),
        (bytes([0x80, 201, 0, 1]) + bytes(4) + b"\x80\xc9", "trailing"),
        (bytes([0x81, 201, 0, 1]) + bytes(4), "report blocks"),
        (bytes([0x80, 201, 0, 0]), "RR too short"),
        (bytes([0x80, 200, 0, 1]) + bytes(4), "sender info"),
        (bytes([0xA0, 201, 0, 1]) + bytes(4), "padding count 0"),
        (bytes([0xA0, 201, 0, 1]) + b"\x00\x00\x00\x08", "padding count 8"),
        (bytes([0x80, 201, 0, 0xFF]) + bytes(8), "overruns"),
        (bytes([0x82, 203, 0, 1]) + bytes(4), "BYE too short"),
        (bytes([0x81, 203, 0, 2]) + bytes(4) + b"\x09abc", "reason truncated"),
        (bytes([0x81, 202, 0, 0]), "chunk truncated"),
        (bytes([0x81, 202, 0, 2]) + bytes(4) + b"\x01\x09ab", "item truncated"),
        (bytes([0x81, 202, 0, 2]) + bytes(4) + b"\x01\x02ab", "no END"),
    ],
)
def test_rtcp_malformed(raw: bytes, message: str) -> None:
    with pytest.raises(RtpParseError, match=message):
        RtcpPacket.parse_compound(raw)


def test_rtcp_every_truncation_raises_rtp_parse_error() -> None:
    packets: list[RtcpPacket] = [
        RtcpSrPacket(1, 2, 3, 4, 5, [REPORT]),
        RtcpSdesPacket.cname(1, "someone@example.org"),
        RtcpByePacket([1], b"bye"),
    ]
    raw = build_compound(packets)
    sizes = [len(bytes(p)) for p in packets]
    boundaries = {sizes[0], sizes[0] + sizes[1]}
    for n in range(len(raw)):
        if n in boundaries:
            RtcpPacket.parse_compound(raw[:n])
            continue
        with pytest.raises(RtpParseError):
            RtcpPacket.parse_compound(raw[:n])


def test_rtcp_build_rejects() -> None:
    with pytest.raises(ValueError):
        bytes(RtcpRrPacket(1, [RtcpReportBlock(i) for i in range(32)]))
    with pytest.raises(ValueError):
        bytes(RtcpSdesPacket([RtcpSdesChunk(1, [(0, b"x")])]))
    with pytest.raises(ValueError):
        bytes(RtcpSdesPacket([RtcpSdesChunk(1, [(1, b"x" * 256)])]))
    with pytest.raises(ValueError):
        bytes(RtcpByePacket([1], b"x" * 256))
