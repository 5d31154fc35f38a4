"""JitterBuffer: a pure ring, driven by put() and one pop() per 20 ms tick."""

from __future__ import annotations

import random

import pytest

from bailanys.media.jitter import MAX_DROPOUT, MAX_MISORDER, JitterBuffer
from bailanys.media.rtp import RtpPacket, seq_add


def pkt(seq: int, ssrc: int = 1) -> RtpPacket:
    seq &= 0xFFFF
    return RtpPacket(
        sequence_number=seq, timestamp=seq * 160, ssrc=ssrc, payload=bytes([seq & 0xFF])
    )


def seqs(out: list[RtpPacket | None]) -> list[int | None]:
    return [None if p is None else p.sequence_number for p in out]


def drain(jb: JitterBuffer, n: int) -> list[int | None]:
    return seqs([jb.pop() for _ in range(n)])


def test_validation() -> None:
    for cap in (0, 1, 3, 12, 8192):
        with pytest.raises(ValueError):
            JitterBuffer(capacity=cap)
    for pre in (0, 17):
        with pytest.raises(ValueError):
            JitterBuffer(capacity=16, prefetch=pre)
    jb = JitterBuffer(capacity=8, prefetch=2)
    assert (jb.capacity, jb.prefetch, len(jb), jb.playing) == (8, 2, 0, False)


def test_empty_pops_none() -> None:
    jb = JitterBuffer()
    assert drain(jb, 5) == [None] * 5
    assert jb.stats.underruns == 0


def test_in_order_with_prefetch() -> None:
    jb = JitterBuffer(prefetch=3)
    out: list[int | None] = []
    for s in range(100, 120):  # one packet per tick, arriving just before the tick
        jb.put(pkt(s))
        out.append(seqs([jb.pop()])[0])
    # Two ticks of prefetch, then every frame in order, delayed by two ticks.
    assert out == [None, None, *range(100, 118)]
    assert len(jb) == 2 and jb.playing
    assert jb.stats.received == 20 and jb.stats.lost == 0


def test_reordered_within_the_window() -> None:
    jb = JitterBuffer(prefetch=3)
    order = [0, 2, 1, 3, 5, 4, 7, 6, 8, 9]
    for s in order:
        jb.put(pkt(s))
    assert drain(jb, 12) == [*range(10), None, None]
    assert jb.stats.late == 0 and jb.stats.lost == 0


def test_reordered_first_packet_during_prefetch_is_accepted() -> None:
    jb = JitterBuffer(prefetch=3)
    jb.put(pkt(11))
    jb.put(pkt(10))  # earlier than the first one seen: nothing played yet
    jb.put(pkt(12))
    assert drain(jb, 3) == [10, 11, 12]


def test_earlier_packet_during_prefetch_that_does_not_fit_is_late() -> None:
    jb = JitterBuffer(capacity=4, prefetch=4)
    jb.put(pkt(10))
    jb.put(pkt(13))
    jb.put(pkt(9))  # window 9..13 is 5 frames > capacity 4
    assert jb.stats.late == 1
    jb.put(pkt(11))
    jb.put(pkt(12))
    assert drain(jb, 4) == [10, 11, 12, 13]


def test_duplicates_are_dropped() -> None:
    jb = JitterBuffer(prefetch=1)
    for s in (1, 1, 2, 2, 2, 3):
        jb.put(pkt(s))
    assert jb.stats.duplicates == 3
    assert drain(jb, 4) == [1, 2, 3, None]


def test_lost_frames_are_gaps() -> None:
    jb = JitterBuffer(prefetch=2)
    for s in (0, 1, 3, 6, 7):
        jb.put(pkt(s))
    assert drain(jb, 8) == [0, 1, None, 3, None, None, 6, 7]
    assert jb.stats.lost == 3


def test_late_packet_after_its_slot_was_played() -> None:
    jb = JitterBuffer(prefetch=2)
    for s in (0, 2, 3):
        jb.put(pkt(s))
    assert drain(jb, 2) == [0, None]
    jb.put(pkt(1))  # too late
    assert jb.stats.late == 1
    assert drain(jb, 2) == [2, 3]


def test_wraparound_at_65535() -> None:
    jb = JitterBuffer(prefetch=3)
    start = 65530
    order = [seq_add(start, i) for i in (0, 1, 2, 4, 3, 5, 6, 8, 7, 9, 10, 11)]
    for s in order:
        jb.put(pkt(s))
    assert drain(jb, 12) == [seq_add(start, i) for i in range(12)]
    assert jb.stats.late == jb.stats.lost == jb.stats.resets == 0


def test_wraparound_one_packet_per_tick() -> None:
    jb = JitterBuffer(prefetch=2)
    out = []
    for i in range(200):
        jb.put(pkt(65500 + i))
        out.append(jb.pop())
    played = [p.sequence_number for p in out if p is not None]
    assert played == [(65500 + i) & 0xFFFF for i in range(199)]


def test_underrun_refills_and_realigns() -> None:
    jb = JitterBuffer(prefetch=2)
    jb.put(pkt(0))
    jb.put(pkt(1))
    assert drain(jb, 3) == [0, 1, None]
    assert jb.stats.underruns == 1 and not jb.playing
    # The sender stalled for 5 ticks; 2..6 are lost. The stream resumes at 7.
    assert drain(jb, 5) == [None] * 5
    jb.put(pkt(7))
    assert jb.pop() is None  # refilling
    jb.put(pkt(8))
    assert drain(jb, 2) == [7, 8]
    jb.put(pkt(3))  # a straggler from before the stall
    assert jb.stats.late == 1
    assert jb.stats.resets == 0


def test_straggler_while_refilling_is_late() -> None:
    jb = JitterBuffer(prefetch=1)
    jb.put(pkt(5))
    assert drain(jb, 2) == [5, None]
    jb.put(pkt(4))
    assert jb.stats.late == 1 and len(jb) == 0


def test_burst_beyond_capacity_slides_the_window() -> None:
    jb = JitterBuffer(capacity=8, prefetch=2)
    for s in range(20):  # a burst of 20 frames after a network stall
        jb.put(pkt(s))
    assert len(jb) == 8
    assert jb.stats.overflow == 12
    assert drain(jb, 9) == [*range(12, 20), None]


def test_burst_with_holes_skips_overdue_gaps() -> None:
    jb = JitterBuffer(capacity=8, prefetch=2)
    for s in (0, 1, 6, 7, 9):
        jb.put(pkt(s))
    jb.put(pkt(13))  # needs head >= 6: drops 0, 1; head moves to 6
    assert jb.stats.overflow == 2
    assert drain(jb, 8) == [6, 7, None, 9, None, None, None, 13]


def test_forward_jump_beyond_capacity_but_not_a_reset() -> None:
    jb = JitterBuffer(capacity=8, prefetch=2)
    for s in (0, 1, 2):
        jb.put(pkt(s))
    assert drain(jb, 1) == [0]
    jb.put(pkt(500))  # 10 s of loss: everything held is overdue
    assert jb.stats.resets == 0 and jb.stats.overflow == 2
    assert drain(jb, 2) == [500, None]


def test_large_jump_resets() -> None:
    jb = JitterBuffer(prefetch=2)
    for s in (0, 1, 2):
        jb.put(pkt(s))
    assert drain(jb, 1) == [0]
    jb.put(pkt(MAX_DROPOUT + 10))
    assert jb.stats.resets == 1 and len(jb) == 1 and not jb.playing
    jb.put(pkt(MAX_DROPOUT + 11))
    assert drain(jb, 3) == [MAX_DROPOUT + 10, MAX_DROPOUT + 11, None]


def test_backward_jump_beyond_misorder_resets() -> None:
    jb = JitterBuffer(prefetch=1)
    jb.put(pkt(1000))
    assert drain(jb, 1) == [1000]
    # The next frame to play is 1001; 100 behind it is merely late.
    jb.put(pkt(1001 - MAX_MISORDER))
    assert jb.stats.late == 1 and jb.stats.resets == 0
    jb.put(pkt(1001 - MAX_MISORDER - 1))  # the source restarted its sequence
    assert jb.stats.resets == 1
    assert drain(jb, 1) == [1000 - MAX_MISORDER]


def test_ssrc_change_resets() -> None:
    jb = JitterBuffer(prefetch=2)
    for s in (0, 1, 2):
        jb.put(pkt(s, ssrc=1))
    assert drain(jb, 1) == [0]
    jb.put(pkt(40000, ssrc=2))
    jb.put(pkt(40001, ssrc=2))
    assert jb.stats.resets == 1
    out = [jb.pop() for _ in range(3)]
    assert seqs(out) == [40000, 40001, None]
    assert all(p is None or p.ssrc == 2 for p in out)


def test_reset_clears() -> None:
    jb = JitterBuffer(prefetch=1)
    jb.put(pkt(1))
    jb.reset()
    assert len(jb) == 0 and jb.pop() is None
    jb.put(pkt(9000))
    assert drain(jb, 1) == [9000]


def test_random_jitter_plays_every_frame_in_order() -> None:
    """Network delay 0..50 ms per packet, prefetch 60 ms: nothing late, all in order."""
    rng = random.Random(4733)
    n = 3000
    arrivals = sorted((i * 20 + rng.uniform(0, 50), i) for i in range(n))
    jb = JitterBuffer(capacity=16, prefetch=4)
    played: list[int] = []
    k = 0
    for tick in range(n + 40):
        now = tick * 20 + 19.9
        while k < n and arrivals[k][0] <= now:
            jb.put(pkt(arrivals[k][1] + 65000))
            k += 1
        p = jb.pop()
        if p is not None:
            played.append(p.sequence_number)
    assert played == [(65000 + i) & 0xFFFF for i in range(n)]
    assert jb.stats.late == 0 and jb.stats.lost == 0


def test_random_loss_duplication_and_reordering() -> None:
    """Each packet lost 5 %, duplicated 5 %, delayed 0..40 ms: what is played is in order."""
    rng = random.Random(20)
    n = 2000
    events: list[tuple[float, int]] = []
    sent = set()
    for i in range(n):
        if rng.random() < 0.05:
            continue
        sent.add(i)
        events.append((i * 20 + rng.uniform(0, 40), i))
        if rng.random() < 0.05:
            events.append((i * 20 + rng.uniform(0, 40), i))
    events.sort()
    jb = JitterBuffer(capacity=16, prefetch=3)
    played: list[int] = []
    k = 0
    for tick in range(n + 40):
        now = tick * 20 + 19.9
        while k < len(events) and events[k][0] <= now:
            jb.put(pkt(events[k][1]))
            k += 1
        p = jb.pop()
        if p is not None:
            played.append(p.sequence_number)
    assert played == sorted(played)
    assert len(set(played)) == len(played)
    assert set(played) <= sent
    assert len(played) >= len(sent) - jb.stats.late
    assert jb.stats.duplicates > 0
