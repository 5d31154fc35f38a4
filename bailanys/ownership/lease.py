"""The lease of one queue group, as one engine sees it: a pure state machine.

Time is an input (the engine's *monotonic* seconds); the machine never
reads a clock and never touches the database. The adapter
(:mod:`bailanys.ownership.pglease`) runs the one take-or-renew statement
when the machine says :class:`Attempt`, and feeds its answer back.

The database decides who holds the row (its own ``now()``, one statement);
this machine decides what the engine *believes*. The belief is safe: a
renewal sent at ``sent`` and answered with our epoch makes us owner until
``sent + ttl - margin`` by our clock. The database set the row's expiry to
its ``now() + ttl`` with ``now()`` taken after we sent, so our belief ends
before the row can be taken by anyone, whatever the wall clocks say; the
margin covers the rate drift of the two clocks.

States and transitions (one function per input, the table says all)::

    state     input                              -> state     outputs
    --------  ---------------------------------  ---------  -----------------------
    FOLLOWER  tick, due, nothing in flight       FOLLOWER   Attempt(sent=now)
    OWNER     tick, due, nothing in flight       OWNER      Attempt(sent=now)
    OWNER     tick, now >= deadline              FOLLOWER   StopOwning(e, EXPIRED)
    FOLLOWER  answered(sent, e), in time         OWNER      StartOwning(e)
    FOLLOWER  answered(sent, e), too late        FOLLOWER   (retry at once)
    OWNER     answered(sent, same e), in time    OWNER      (deadline moves on)
    OWNER     answered(sent, other e)            OWNER      StopOwning(old), StartOwning(e)
    OWNER     answered(sent, None)               FOLLOWER   StopOwning(e, TAKEN)
    FOLLOWER  answered(sent, None)               FOLLOWER   -
    any       failed(sent)                       same       (retry after ``retry_s``)
    OWNER     release                            STOPPED    StopOwning(e, RELEASED), Release(e)
    FOLLOWER  release                            STOPPED    -
    STOPPED   anything                           STOPPED    -

An answer whose ``sent`` is not the request in flight is stale and
ignored (one request at a time). An epoch lower than one already seen is
stale too: epochs only grow (the fencing token, docs/architecture.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)

#: The lease's time to live: a dead owner's group is taken over at most
#: ``ttl + ttl/3`` after its last renewal, about Kamailio's dispatcher
#: failover time (OPTIONS every 2 s, 2 failures: docs/architecture.md).
DEFAULT_TTL_S = 6.0
#: The owner's belief ends this much before the row's expiry: clock-rate
#: drift between the engine and the database (ppm, so far under this) and
#: the scheduling delay of the adapter's next tick.
DEFAULT_MARGIN_S = 0.5
#: Renew (and, not holding it, try to take) every ttl / RENEWALS_PER_TTL.
RENEWALS_PER_TTL = 3


class LeaseState(StrEnum):
    FOLLOWER = "follower"
    OWNER = "owner"
    STOPPED = "stopped"


class StopReason(StrEnum):
    EXPIRED = "expired"  # our deadline passed without a renewal answered
    TAKEN = "taken"  # the database says another engine holds it
    REPLACED = "replaced"  # our own row came back with another epoch
    RELEASED = "released"  # we stopped (clean shutdown)


@dataclass(frozen=True, slots=True)
class Attempt:
    """Run the take-or-renew statement now; answer with ``sent``."""

    sent: float


@dataclass(frozen=True, slots=True)
class StartOwning:
    """We own the group at ``epoch``: rebuild it and start deciding.
    ``resumed``: the epoch we held last, so nobody else owned the group in
    between and our memory of it is still right (no rebuild needed)."""

    epoch: int
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class StopOwning:
    """Stop deciding for the group at once (the epoch we held, and why)."""

    epoch: int
    reason: StopReason


@dataclass(frozen=True, slots=True)
class Release:
    """Expire our row now (owner and epoch fenced) so a successor takes it."""

    epoch: int


Output = Attempt | StartOwning | StopOwning | Release


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """How long a lease lives and how often it is renewed (seconds)."""

    ttl_s: float = DEFAULT_TTL_S
    margin_s: float = DEFAULT_MARGIN_S
    #: After a failed statement (database down, timeout), retry after this.
    retry_s: float | None = None

    def __post_init__(self) -> None:
        if not self.ttl_s > 0:
            raise ValueError(f"ttl_s must be > 0, got {self.ttl_s!r}")
        if not 0 <= self.margin_s < self.ttl_s / RENEWALS_PER_TTL:
            raise ValueError(f"margin_s must be >= 0 and < ttl_s/{RENEWALS_PER_TTL}, "
                             f"got {self.margin_s!r}")
        if self.retry_s is not None and not self.retry_s > 0:
            raise ValueError(f"retry_s must be > 0, got {self.retry_s!r}")

    @property
    def renew_s(self) -> float:
        return self.ttl_s / RENEWALS_PER_TTL

    @property
    def retry(self) -> float:
        return self.retry_s if self.retry_s is not None else self.renew_s / 2

    @property
    def held_s(self) -> float:
        """How long after sending a successful renewal we count the lease ours."""
        return self.ttl_s - self.margin_s


class Lease:
    """One group's lease as this engine sees it; see the module docs."""

    def __init__(self, group: str, timing: LeaseTiming | None = None) -> None:
        self.group = group
        self.timing = timing if timing is not None else LeaseTiming()
        self.state = LeaseState.FOLLOWER
        #: The epoch we hold (OWNER), or last held.
        self.epoch: int | None = None
        #: The highest epoch any answer showed us: epochs never go back.
        self.seen_epoch = 0
        #: Until when (our monotonic clock) we count ourselves the owner.
        self.deadline: float | None = None
        #: ``sent`` of the statement in flight, if any.
        self.in_flight: float | None = None
        #: When the next attempt is due (None: at the first tick).
        self.next_attempt: float | None = None

    @property
    def owner(self) -> bool:
        return self.state is LeaseState.OWNER

    def owns(self, now: float) -> bool:
        """Whether we may decide for the group at ``now`` (checked before every act)."""
        return self.state is LeaseState.OWNER and self.deadline is not None and now < self.deadline

    def wakeup(self) -> float | None:
        """When the adapter must tick next (None: only on an answer or never);
        ``-inf``: at once."""
        if self.state is LeaseState.STOPPED:
            return None
        times: list[float] = []
        if self.owner and self.deadline is not None:
            times.append(self.deadline)
        if self.in_flight is None:
            times.append(self.next_attempt if self.next_attempt is not None else float("-inf"))
        return min(times) if times else None

    # --- inputs ----------------------------------------------------------------

    def tick(self, now: float) -> list[Output]:
        out: list[Output] = []
        if self.state is LeaseState.STOPPED:
            return out
        if self.owner and self.deadline is not None and now >= self.deadline:
            out.append(self._stop(StopReason.EXPIRED))
        if self.in_flight is None and (self.next_attempt is None or now >= self.next_attempt):
            self.in_flight = now
            out.append(Attempt(now))
        return out

    def answered(self, sent: float, epoch: int | None, now: float) -> list[Output]:
        """The statement sent at ``sent`` returned ``epoch`` (None: no row: held by another)."""
        out: list[Output] = []
        if self.state is LeaseState.STOPPED or sent != self.in_flight:
            return out
        self.in_flight = None
        self.next_attempt = sent + self.timing.renew_s
        if epoch is not None and epoch < self.seen_epoch:
            log.warning("lease %s: stale epoch %d < %d ignored", self.group, epoch,
                        self.seen_epoch)
            return out
        if epoch is None:
            if self.owner:
                out.append(self._stop(StopReason.TAKEN))
            return out
        self.seen_epoch = epoch
        deadline = sent + self.timing.held_s
        if now >= deadline:  # answered too late to act on: try again at once
            if self.owner:
                out.append(self._stop(StopReason.EXPIRED))
            self.next_attempt = now
            return out
        if self.owner and epoch != self.epoch:
            out.append(self._stop(StopReason.REPLACED))
        if not self.owner:
            log.info("lease %s: %s -> %s (epoch %d)", self.group, self.state.value,
                     LeaseState.OWNER.value, epoch)
            resumed = epoch == self.epoch
            self.state, self.epoch = LeaseState.OWNER, epoch
            out.append(StartOwning(epoch, resumed))
        self.deadline = deadline
        return out

    def failed(self, sent: float, now: float) -> list[Output]:
        """The statement sent at ``sent`` failed (error or timeout)."""
        if self.state is LeaseState.STOPPED or sent != self.in_flight:
            return []
        self.in_flight = None
        self.next_attempt = now + self.timing.retry
        if self.owner and self.deadline is not None and now >= self.deadline:
            return [self._stop(StopReason.EXPIRED)]
        return []

    def release(self) -> list[Output]:
        """Stop for good (clean shutdown, after the group was drained)."""
        out: list[Output] = []
        if self.owner:
            epoch = self.epoch
            out.append(self._stop(StopReason.RELEASED))
            assert epoch is not None
            out.append(Release(epoch))
        self.state = LeaseState.STOPPED
        self.in_flight = self.next_attempt = None
        return out

    def _stop(self, reason: StopReason) -> StopOwning:
        assert self.epoch is not None
        log.info("lease %s: %s -> %s (epoch %d, %s)", self.group, self.state.value,
                 LeaseState.FOLLOWER.value, self.epoch, reason.value)
        self.state = LeaseState.FOLLOWER
        self.deadline = None
        return StopOwning(self.epoch, reason)
