"""SIP transaction timer values, under their RFC 3261 names (§17, Table 4 of Appendix A).

Pure code: these are numbers, not clocks.  A transaction never sleeps; it
returns ``StartTimer("A", 0.5)`` and the asyncio adapter schedules it.

How values reach a transaction
------------------------------
Every transaction takes an optional :class:`Timers` (a frozen dataclass).
When none is passed it builds ``Timers()``, whose field defaults are read
from this module's constants **when the transaction is constructed**, so a
transaction's schedule never changes mid-flight.  Tests shrink timers either
way::

    InviteClientTransaction(req, reliable=False, timers=Timers(t1=0.01))
    monkeypatch.setattr(bailanys.sip.timers, "T1", 0.01)   # before constructing

Timer table (RFC 3261 Appendix A)::

    name  meaning                                   unreliable        reliable
    A     INVITE request retransmit, client         T1, doubling      not used
    B     INVITE transaction timeout, client        64*T1             64*T1
    D     wait for response retransmits, client     >= 32 s           0
    E     non-INVITE request retransmit, client     T1, doubling<=T2  not used
    F     non-INVITE transaction timeout, client    64*T1             64*T1
    G     INVITE final response retransmit, server  T1, doubling<=T2  not used
    H     wait for ACK receipt, server              64*T1             64*T1
    I     wait for ACK retransmits, server          T4                0
    J     wait for non-INVITE request retransmits   64*T1             0
    K     wait for non-INVITE response retransmits  T4                0

(Timer C belongs to proxies, which Bailanys is not.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

T1 = 0.5
"""RTT estimate (§17.1.1.1); the base of every retransmission interval."""

T2 = 4.0
"""Maximum retransmit interval for non-INVITE requests and INVITE responses (§17.1.2.2)."""

T4 = 5.0
"""Maximum duration a message remains in the network (§17.1.2.2)."""

TIMER_D = 32.0
"""Timer D on unreliable transports: "at least 32 seconds" (§17.1.1.2)."""

RETRANSMIT_TIMERS = frozenset({"A", "E", "G"})
"""Timers that only run on unreliable transports and back off when they fire."""

TIMER_NAMES = ("A", "B", "D", "E", "F", "G", "H", "I", "J", "K")


@dataclass(frozen=True)
class Timers:
    """The timer base values of one transaction.

    Defaults come from the module constants at construction time (see the
    module docstring), so patching ``timers.T1`` shrinks every timer of the
    transactions built afterwards.
    """

    t1: float = field(default_factory=lambda: T1)
    t2: float = field(default_factory=lambda: T2)
    t4: float = field(default_factory=lambda: T4)
    d: float = field(default_factory=lambda: TIMER_D)

    def initial(self, name: str, *, reliable: bool) -> float | None:
        """The first delay of timer ``name``; None when it is not used on this transport.

        0 means "fires at once": the transaction moves on without asking
        the adapter to schedule anything (RFC 3261 §17.1.1.2, §17.2.1, ...
        "for reliable transports ... is set to zero seconds").
        """
        t1, t4 = self.t1, self.t4
        unreliable: dict[str, float] = {
            "A": t1,  # §17.1.1.2
            "B": 64 * t1,  # §17.1.1.2
            "D": self.d,  # §17.1.1.2
            "E": t1,  # §17.1.2.2
            "F": 64 * t1,  # §17.1.2.2
            "G": t1,  # §17.2.1
            "H": 64 * t1,  # §17.2.1
            "I": t4,  # §17.2.1
            "J": 64 * t1,  # §17.2.2
            "K": t4,  # §17.1.2.2
        }
        if name not in unreliable:
            raise KeyError(f"no RFC 3261 timer {name!r}")
        if not reliable:
            return unreliable[name]
        if name in RETRANSMIT_TIMERS:
            return None
        if name in ("B", "F", "H"):
            return unreliable[name]
        return 0.0  # D, I, J, K

    def backoff(self, name: str, previous: float) -> float:
        """The next interval of a retransmission timer after it fired.

        Timer A doubles without a cap (§17.1.1.2: it is bounded by Timer B);
        Timers E and G double up to T2 (§17.1.2.2, §17.2.1).
        """
        if name == "A":
            return 2 * previous
        if name in ("E", "G"):
            return min(2 * previous, self.t2)
        raise KeyError(f"timer {name!r} does not back off")

    def ack_wait(self) -> float:
        """How long a UAS retransmits a 2xx waiting for the ACK: 64*T1 (§13.3.1.4)."""
        return 64 * self.t1
