"""Pairs each INVITE an operator's phone received with the screen pop their desktop got.

Pure (no I/O): ``bench/desk_pop.py`` feeds it arrival times read from one
monotonic clock in one process. An operator is rung for one call at a time
(the queue rings a free agent only), so the pop that follows an INVITE to an
agent's phone is that INVITE's; the INVITE to the phone carries the engine's
own Call-ID for the agent's leg, not the caller's that the pop names, so the
agent is the key. A pop pairs with the agent's newest INVITE still waiting
(older waiting ones had no pop: missing); a pop that comes before its
INVITE (possible: the engine may push it before the INVITE's datagram is
read) waits ``window_s`` for it and then gives a negative latency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Seconds an INVITE waits for its pop (or a pop for its INVITE): an
#: operator's phone rings ``ring_timeout_s`` (15 s by default) at most.
MATCH_WINDOW_S = 15.0


@dataclass
class PopMatcher:
    """INVITE arrivals and pop arrivals in, latencies and the misses out."""

    window_s: float = MATCH_WINDOW_S
    latencies: list[float] = field(default_factory=list)
    missing: int = 0  # INVITEs that got no pop within the window
    stray_pops: int = 0  # pops with no INVITE to their agent's phone within the window
    invites: int = 0
    pops: int = 0
    without_caller: int = 0  # pops with no caller's number (counted by the caller of pop())
    _invites: dict[str, list[float]] = field(default_factory=dict)
    _pops: dict[str, list[float]] = field(default_factory=dict)

    def invite(self, agent: str, t: float) -> None:
        self.invites += 1
        early = self._pops.get(agent, [])
        self.stray_pops += sum(1 for p in early if t - p > self.window_s)
        early[:] = [p for p in early if t - p <= self.window_s]
        if early:
            self.latencies.append(early.pop(0) - t)
            return
        self._invites.setdefault(agent, []).append(t)

    def pop(self, agent: str, t: float) -> None:
        self.pops += 1
        waiting = [i for i in self._invites.get(agent, []) if t - i <= self.window_s]
        self.missing += len(self._invites.get(agent, [])) - len(waiting)
        if waiting:
            self.latencies.append(t - waiting[-1])
            self.missing += len(waiting) - 1
            self._invites[agent] = []
            return
        self._invites[agent] = []
        self._pops.setdefault(agent, []).append(t)

    def finish(self) -> None:
        """The run is over: whatever still waits is missing (INVITEs) or stray (pops)."""
        self.missing += sum(len(v) for v in self._invites.values())
        self.stray_pops += sum(len(v) for v in self._pops.values())
        self._invites.clear()
        self._pops.clear()


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
    return ordered[int(rank) - 1]
