"""RTCP state (RFC 3550 §6, Appendix A.1, A.3, A.8): statistics, reports, RTT."""

from __future__ import annotations

import pytest

from bailanys.errors import RtpParseError
from bailanys.media.rtcp import CLOCK_RATE, ReceptionStats, RtcpState
from bailanys.media.rtp import (
    RtcpByePacket,
    RtcpPacket,
    RtcpReportBlock,
    RtcpRrPacket,
    RtcpSdesPacket,
    RtcpSrPacket,
    build_compound,
    build_rr,
    build_sr,
    ntp_middle32,
    ntp_timestamp,
)


def feed(stats: ReceptionStats, seqs: list[int], *, ssrc: int = 7, delays: list[float] | None = None
         ) -> None:
    for i, seq in enumerate(seqs):
        arrival = i * 0.02 + (delays[i] if delays else 0.0)
        stats.update(ssrc, seq & 0xFFFF, (i * 160) & 0xFFFFFFFF, arrival)


def test_in_order_stream_has_no_loss_and_no_jitter() -> None:
    stats = ReceptionStats()
    feed(stats, list(range(100, 200)))
    assert (stats.expected, stats.received, stats.lost) == (100, 100, 0)
    assert stats.jitter == pytest.approx(0.0, abs=1e-6)


def test_gaps_count_as_lost_and_the_fraction_is_per_interval() -> None:
    stats = ReceptionStats()
    feed(stats, [s for s in range(0, 100) if s % 10 != 0 or s == 0])  # 9 of 100 missing
    block = stats.report_block(0, 0)
    assert block.packets_lost == 9
    assert block.fraction_lost == (9 << 8) // 100
    feed(stats, list(range(100, 150)))  # the next interval loses nothing
    # (feed restarts arrival times, so only the counters matter here)
    assert stats.report_block(0, 0).fraction_lost == 0


def test_sequence_wraparound_is_counted_in_cycles() -> None:
    stats = ReceptionStats()
    feed(stats, list(range(65530, 65536)) + list(range(0, 10)))
    assert stats.cycles == 65536
    assert stats.extended_max == 65536 + 9
    assert stats.lost == 0


def test_a_new_ssrc_starts_over() -> None:
    stats = ReceptionStats()
    feed(stats, list(range(10)), ssrc=1)
    feed(stats, [500, 501], ssrc=2)
    assert (stats.ssrc, stats.received, stats.lost) == (2, 2, 0)


def test_jitter_follows_the_rfc_estimator() -> None:
    # Transit alternates by 10 ms: D = 80 timestamp units each time; J -> 80.
    stats = ReceptionStats()
    feed(stats, list(range(400)), delays=[0.01 * (i % 2) for i in range(400)])
    assert stats.jitter == pytest.approx(0.010 * CLOCK_RATE, rel=0.01)


def test_report_is_a_sender_report_only_after_sending() -> None:
    state = RtcpState(ssrc=0x1234, cname="bailanys-20000")
    packets = RtcpPacket.parse_compound(state.report(1_800_000_000.0, 0, 0, 0))
    assert isinstance(packets[0], RtcpRrPacket) and isinstance(packets[1], RtcpSdesPacket)
    feed(state.rx, list(range(50)))
    packets = RtcpPacket.parse_compound(state.report(1_800_000_005.0, 8000, 250, 40000))
    sr = packets[0]
    assert isinstance(sr, RtcpSrPacket)
    assert (sr.ssrc, sr.packet_count, sr.octet_count, sr.rtp_timestamp) == (0x1234, 250, 40000,
                                                                          8000)
    assert sr.reports[0].ssrc == 7 and sr.reports[0].highest_sequence == 49
    # Nothing sent since: a receiver report again.
    packets = RtcpPacket.parse_compound(state.report(1_800_000_010.0, 8000, 250, 40000))
    assert isinstance(packets[0], RtcpRrPacket)


def test_peer_report_and_round_trip_time() -> None:
    ours = RtcpState(ssrc=0xAAAA, cname="a")
    t_sent = 1_800_000_000.0
    sr = RtcpPacket.parse_compound(ours.report(t_sent, 0, 100, 16000))[0]
    assert isinstance(sr, RtcpSrPacket)
    # The peer held our SR for 0.25 s, the network took 0.05 s each way.
    lsr = ntp_middle32(sr.ntp_timestamp)
    dlsr = int(0.25 * 65536)
    block = RtcpReportBlock(ssrc=0xAAAA, fraction_lost=64, packets_lost=12,
                            highest_sequence=100, jitter=160, lsr=lsr, dlsr=dlsr)
    ours.receive(build_rr(0xBBBB, [block]), t_sent + 0.05 + 0.25 + 0.05)
    assert ours.peer.fraction_lost == 0.25
    assert ours.peer.packets_lost == 12
    assert ours.peer.jitter_ms == pytest.approx(20.0)
    assert ours.peer.rtt_ms == pytest.approx(100.0, abs=0.1)


def test_our_report_carries_lsr_and_dlsr_of_the_peer_sr() -> None:
    ours = RtcpState(ssrc=1, cname="a")
    peer = RtcpState(ssrc=2, cname="b")
    feed(ours.rx, list(range(10)), ssrc=2)
    now = 1_800_000_000.0
    ours.receive(peer.report(now, 0, 10, 1600), now + 0.01)
    block = RtcpPacket.parse_compound(ours.report(now + 0.51, 0, 0, 0))[0].reports[0]  # type: ignore[attr-defined]
    assert block.lsr == ntp_middle32(ntp_timestamp(now))
    assert block.dlsr == pytest.approx(0.5 * 65536, abs=2)


def test_bye_and_malformed_reports() -> None:
    state = RtcpState(ssrc=1, cname="a")
    state.receive(build_compound([RtcpByePacket([9])]), 0.0)
    assert state.bye_received
    with pytest.raises(RtpParseError):
        state.receive(b"\x80\xc9\x00\x05xx", 0.0)
    bye = RtcpPacket.parse_compound(state.bye(0.0, 0, 0, 0))
    assert isinstance(bye[-1], RtcpByePacket) and bye[-1].sources == [1]


def test_summary_for_call_ended() -> None:
    state = RtcpState(ssrc=1, cname="a")
    feed(state.rx, [s for s in range(100) if s != 50])
    summary = state.summary(packets_sent=120)
    assert summary["rtp_sent"] == 120 and summary["rtp_received"] == 99
    assert summary["rtp_lost"] == 1
    assert summary["peer_fraction_lost"] is None and summary["rtt_ms"] is None


def test_the_packed_report_is_what_the_packet_builders_make() -> None:
    """RtcpState packs its SR/RR + SDES directly: byte for byte build_sr's and build_rr's."""
    state = RtcpState(ssrc=0xCAFE0001, cname="bailanys-20002")
    twin = ReceptionStats()
    now = 1_800_000_000.25
    assert state.report(now, 7, 0, 0) == build_rr(0xCAFE0001, cname="bailanys-20002")
    feed(state.rx, [1, 2, 4, 5])
    feed(twin, [1, 2, 4, 5])
    state.receive(build_sr(9, ntp_timestamp=ntp_timestamp(now - 1.5), rtp_timestamp=0,
                           packet_count=1, octet_count=160), now - 1.0)
    block = twin.report_block(ntp_middle32(ntp_timestamp(now - 1.5)), int(1.0 * 65536))
    assert state.report(now, 0xFFFFFFFF + 5, 300, 48000) == build_sr(
        0xCAFE0001, ntp_timestamp=ntp_timestamp(now), rtp_timestamp=4, packet_count=300,
        octet_count=48000, reports=[block], cname="bailanys-20002")
    feed(twin, [6])
    feed(state.rx, [6])
    block = twin.report_block(ntp_middle32(ntp_timestamp(now - 1.5)), int(2.0 * 65536))
    assert state.report(now + 1.0, 9, 300, 48000) == build_rr(
        0xCAFE0001, [block], cname="bailanys-20002")
