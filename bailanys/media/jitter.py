"""A pure jitter buffer for fixed 20 ms G.711 frames (RFC 3550 §5.1, §A.1).

A ring of ``capacity`` slots indexed by ``sequence_number % capacity`` (as in
aiortc's ``jitterbuffer.py``).  The media loop calls :meth:`JitterBuffer.put`
for every packet that arrives and :meth:`JitterBuffer.pop` once per 20 ms
tick; ``pop`` returns the next frame in sequence order, or None where the
frame is missing (the caller conceals it) or while the buffer refills.

States (one transition each, all in ``put``/``pop``)::

    EMPTY --put--> PREFETCHING --(prefetch frames held)--> PLAYING
    PLAYING --pop on an empty ring (underrun)--> PREFETCHING
    any --new SSRC / sequence jump beyond MAX_DROPOUT or MAX_MISORDER--> PREFETCHING

Overflow (a burst that does not fit the ring) slides the window forward,
dropping the oldest frames, so latency never exceeds ``capacity`` frames.
No I/O, no clock: time advances only by ``pop``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bailanys.media.rtp import RtpPacket, seq_diff

logger = logging.getLogger(__name__)

#: Jumps larger than these reset the buffer (RFC 3550 §A.1 uses the same names
#: and values to decide that a source restarted its sequence).
MAX_DROPOUT = 3000
MAX_MISORDER = 100

DEFAULT_CAPACITY = 16  # 320 ms of 20 ms frames
DEFAULT_PREFETCH = 3  # 60 ms of initial delay: absorbs typical access-network jitter


@dataclass(slots=True)
class JitterStats:
    """Counters for KPIs (RFC 3611 style): every packet ``put`` lands in one bucket."""

    received: int = 0  # stored in the ring
    duplicates: int = 0  # same sequence number already held
    late: int = 0  # arrived after its slot was played
    overflow: int = 0  # stored frames discarded to make room for a burst
    lost: int = 0  # pop() found a hole while playing
    underruns: int = 0  # pop() found the ring empty while playing
    resets: int = 0  # new SSRC or a sequence jump


class JitterBuffer:
    """Reorders 20 ms frames by sequence number; one ``pop`` per tick."""

    __slots__ = (
        "_capacity",
        "_count",
        "_head",
        "_mask",
        "_playing",
        "_prefetch",
        "_ring",
        "_ssrc",
        "_tail",
        "stats",
    )

    def __init__(self, capacity: int = DEFAULT_CAPACITY, prefetch: int = DEFAULT_PREFETCH) -> None:
        if capacity < 2 or capacity & (capacity - 1) or capacity > 4096:
            raise ValueError(f"capacity must be a power of two in 2..4096, got {capacity}")
        if not 1 <= prefetch <= capacity:
            raise ValueError(f"prefetch must be in 1..capacity, got {prefetch}")
        self._capacity = capacity
        self._mask = capacity - 1
        self._prefetch = prefetch
        self._ring: list[RtpPacket | None] = [None] * capacity
        self._head: int | None = None  # sequence number of the next frame to play
        self._tail = 0  # one past the highest sequence number held (valid if _count)
        self._count = 0
        self._ssrc: int | None = None
        self._playing = False
        self.stats = JitterStats()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def prefetch(self) -> int:
        return self._prefetch

    def __len__(self) -> int:
        """Frames currently held."""
        return self._count

    @property
    def playing(self) -> bool:
        """False while (re)filling to ``prefetch`` frames."""
        return self._playing

    def reset(self) -> None:
        """Forget everything held; the next ``put`` starts a new stream."""
        self._ring = [None] * self._capacity
        self._head = None
        self._count = 0
        self._ssrc = None
        self._playing = False

    def _restart(self, pkt: RtpPacket, why: str) -> None:
        logger.debug("jitter buffer reset (%s): ssrc %s seq %s", why, pkt.ssrc, pkt.sequence_number)
        self.stats.resets += 1
        self.reset()

    def _store(self, pkt: RtpPacket, seq: int) -> None:
        self._ring[seq & self._mask] = pkt
        self._count += 1
        self.stats.received += 1
        if self._count == 1 or seq_diff(seq + 1, self._tail) > 0:
            self._tail = (seq + 1) & 0xFFFF

    def put(self, pkt: RtpPacket) -> None:
        """Store one received packet (RFC 3550 §A.1 sequence checks, simplified).

        Duplicates and packets whose slot has already been played are
        dropped; a new SSRC or a jump beyond ``MAX_DROPOUT`` ahead or
        ``MAX_MISORDER`` behind restarts the buffer; a packet beyond the
        ring's reach slides the window forward, dropping the oldest frames.
        """
        seq = pkt.sequence_number & 0xFFFF
        # Fast path, the usual case: the next packet in order, room in the ring.
        if (
            seq == self._tail
            and self._count
            and pkt.ssrc == self._ssrc
            and ((seq - self._head) & 0xFFFF) < self._capacity  # type: ignore[operator]
        ):
            self._ring[seq & self._mask] = pkt
            self._count += 1
            self.stats.received += 1
            self._tail = (seq + 1) & 0xFFFF
            return
        if self._ssrc is not None and pkt.ssrc != self._ssrc:
            self._restart(pkt, "new SSRC")
        if self._head is None:
            self._ssrc = pkt.ssrc
            self._head = seq
            self._store(pkt, seq)
            return
        delta = seq_diff(seq, self._head)
        if delta >= MAX_DROPOUT or delta < -MAX_MISORDER:
            self._restart(pkt, f"sequence jump {delta}")
            self._ssrc = pkt.ssrc
            self._head = seq
            self._store(pkt, seq)
            return
        if delta < 0:
            if self._playing or self._count == 0:
                # Its slot was played already (as a frame or as a gap).
                self.stats.late += 1
                return
            # Prefetching: nothing played yet, so an earlier frame is welcome
            # while the window can still hold everything.
            if seq_diff(self._tail, seq) > self._capacity:
                self.stats.late += 1
                return
            self._head = seq
            self._store(pkt, seq)
            return
        if self._count == 0 and not self._playing:
            # Refilling after an underrun: start where the stream now is.
            self._head = seq
            self._store(pkt, seq)
            return
        if delta >= self._capacity:
            self._slide(seq)
        slot = seq & self._mask
        held = self._ring[slot]
        if held is not None:
            self.stats.duplicates += 1
            return
        self._store(pkt, seq)

    def _slide(self, seq: int) -> None:
        """Move the window so ``seq`` fits, dropping frames that fall out of it."""
        assert self._head is not None
        new_head = (seq - self._capacity + 1) & 0xFFFF
        steps = seq_diff(new_head, self._head)
        for i in range(min(steps, self._capacity)):
            slot = (self._head + i) & self._mask
            if self._ring[slot] is not None:
                self._ring[slot] = None
                self._count -= 1
                self.stats.overflow += 1
        self._head = new_head
        # Skip the holes at the front: those frames are long overdue.
        while self._count and self._ring[self._head & self._mask] is None:
            self._head = (self._head + 1) & 0xFFFF
        if self._count == 0:
            self._head = seq

    def pop(self) -> RtpPacket | None:
        """The next frame in order, once per 20 ms tick.

        Returns None while prefetching, on a lost frame (the head advances),
        and on an underrun (the ring is empty: the buffer refills to
        ``prefetch`` frames before playing again).
        """
        if self._head is None:
            return None
        if not self._playing:
            if self._count < self._prefetch:
                return None
            self._playing = True
        if self._count == 0:
            self.stats.underruns += 1
            self._playing = False
            return None
        slot = self._head & self._mask
        pkt = self._ring[slot]
        self._head = (self._head + 1) & 0xFFFF
        if pkt is None:
            self.stats.lost += 1
            return None
        self._ring[slot] = None
        self._count -= 1
        return pkt
