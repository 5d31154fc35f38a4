"""Pairs each INVITE an operator's phone answered with the screen pop their desktop got.

Pure (no I/O): ``bench/desk_pop.py`` hands it, per operator, the arrival
times of the INVITEs at the phone and of the pops at the desktop, read from
one monotonic clock in one process. The INVITE to the phone carries the
engine's own Call-ID for the agent's leg, not the caller's that the pop
names, so the two are paired through the call's outcome:

* an INVITE the phone answered (its 200 was ACKed) is a call the operator
  took, and the desktop then gets ``{"type": "call", "phase": "connected"}``
  for the pop's call: such INVITEs pair with such pops;
* an operator takes one call at a time, and each call lasts the ring, the
  talk and the wrap-up, so two answered INVITEs to one phone are seconds
  apart: each pairs with the nearest connected pop within ``window_s``.

A pop may come before its INVITE (the queue decides to ring, the desktop is
told, then the INVITE leaves): its latency is negative. Rings the caller
gave up during (CANCEL before the answer) and pops of rings whose INVITE
never reached the phone are counted, not timed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Seconds an answered INVITE and its connected pop may be apart (either
#: way). Seen on a loaded 2-core machine: the INVITE up to ~1 s after the
#: pop; consecutive answered calls of one phone are 10 s or more apart.
MATCH_WINDOW_S = 5.0


@dataclass(frozen=True)
class Ring:
    """One INVITE at a phone: when it arrived, and whether the phone's 200 was ACKed."""

    t: float
    answered: bool


@dataclass(frozen=True)
class Popped:
    """One pop at a desktop: when it arrived, and whether its call then connected there."""

    t: float
    connected: bool


@dataclass
class Pairing:
    latencies: list[float] = field(default_factory=list)  # pop - INVITE, seconds
    missing: int = 0  # answered INVITEs with no connected pop near them
    stray: int = 0  # connected pops with no answered INVITE near them
    invites: int = 0
    pops: int = 0
    cancelled_invites: int = 0  # rings the caller gave up during (not timed)
    other_pops: int = 0  # pops whose call did not connect there (not timed)


def pair(rings: Mapping[str, Sequence[Ring]], pops: Mapping[str, Sequence[Popped]],
         window_s: float = MATCH_WINDOW_S) -> Pairing:
    """Latencies of every answered INVITE that has a connected pop, per operator."""
    out = Pairing()
    for agent in sorted(set(rings) | set(pops)):
        answered = sorted(r.t for r in rings.get(agent, ()) if r.answered)
        connected = sorted(p.t for p in pops.get(agent, ()) if p.connected)
        out.invites += len(rings.get(agent, ()))
        out.pops += len(pops.get(agent, ()))
        out.cancelled_invites += len(rings.get(agent, ())) - len(answered)
        out.other_pops += len(pops.get(agent, ())) - len(connected)
        free = list(connected)
        for t in answered:
            best = min(free, key=lambda p: abs(p - t), default=None)
            if best is None or abs(best - t) > window_s:
                out.missing += 1
                continue
            free.remove(best)
            out.latencies.append(best - t)
        out.stray += len(free)
    return out


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
    return ordered[int(rank) - 1]
