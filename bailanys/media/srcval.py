"""Which RTP source (SSRC) of the latched address a call leg listens to.

RFC 3550 §8.2 and A.1 (source validation): a new SSRC is believed only
after ``MIN_SEQUENTIAL`` packets with consecutive sequence numbers; until
then its packets are dropped, so neither its audio (jitter buffer, in-band
DTMF detector, recorder, speech) nor its RFC 4733 events reach the call.
Without it, anyone able to spoof the peer's address could key digits into
the IVR with a few stray packets (``bench/hostile.py`` tries it).

Two rules on top of A.1's probation, both free on the packets of the
validated source:

* the probation restarts whenever the validated source itself sends a
  packet in between: a phone that changes its SSRC (hold/unhold, a
  transfer, a media server behind it) stops sending the old one, while an
  injector has to race a live stream;
* the first source of a leg, and the first after :meth:`restart` (a
  re-INVITE that changes the remote media, RFC 3264 §8), is taken at
  once, as the symmetric-RTP address latch takes the first address: the
  offer/answer just named that peer.

Pure: no I/O and no clock.  The session keeps the validated SSRC in a
plain attribute and calls :meth:`SourceValidator.admit` only for packets
from another SSRC, so the usual packet costs one integer comparison.
"""

from __future__ import annotations

#: RFC 3550 A.1 ``MIN_SEQUENTIAL``: sequential packets before a source is valid.
MIN_SEQUENTIAL = 2


class SourceValidator:
    """Probation of new SSRCs (RFC 3550 A.1); ``ssrc`` is the validated one."""

    __slots__ = ("_candidate", "_count", "_mark", "_next_seq", "min_sequential", "ssrc",
                 "takeovers")

    def __init__(self, min_sequential: int = MIN_SEQUENTIAL) -> None:
        if min_sequential < 1:
            raise ValueError("min_sequential must be at least 1")
        self.min_sequential = min_sequential
        self.ssrc: int | None = None
        self.takeovers = 0  # validated sources that replaced an earlier one
        self._candidate: int | None = None
        self._next_seq = 0
        self._count = 0
        self._mark = 0

    def restart(self) -> None:
        """Forget the validated source: the next packet's SSRC is taken (a re-INVITE)."""
        self.ssrc = None
        self._candidate = None
        self._count = 0

    def admit(self, ssrc: int, seq: int, mark: int) -> bool:
        """Whether a packet of ``ssrc`` with sequence number ``seq`` is accepted.

        ``mark`` counts the packets accepted so far from the validated
        source (any counter that moves with each of them): when it moved
        since the candidate's last packet, the validated source is alive
        and the candidate's probation starts over.  True makes ``ssrc``
        the validated source from this packet on.
        """
        if ssrc == self.ssrc:
            return True
        if self.ssrc is None:
            self._take(ssrc)
            return True
        if (ssrc != self._candidate or seq != self._next_seq or mark != self._mark):
            self._candidate = ssrc
            self._count = 1
        else:
            self._count += 1
        self._next_seq = (seq + 1) & 0xFFFF
        self._mark = mark
        if self._count >= self.min_sequential:
            self.takeovers += 1
            self._take(ssrc)
            return True
        return False

    def _take(self, ssrc: int) -> None:
        self.ssrc = ssrc
        self._candidate = None
        self._count = 0
