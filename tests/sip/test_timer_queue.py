"""TimerQueue (issue 20: SIP timers indexed by transaction), time as an input.

Small exhaustive cases, then a hypothesis property test against a naive
reference model (a dict scanned on every question).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from bailanys.sip.timer_queue import COMPACT_MIN, TimerQueue


def drain(q: TimerQueue[str], now: float) -> list[tuple[str, str]]:
    out = []
    while (due := q.pop_due(now)) is not None:
        out.append(due)
    return out


def test_fires_in_deadline_order_ties_in_start_order() -> None:
    q: TimerQueue[str] = TimerQueue()
    q.start("t1", "B", 32.0)
    q.start("t1", "A", 0.5)
    q.start("t2", "E", 0.5)
    q.start("t3", "J", 0.25)
    assert q.next_deadline() == 0.25 and len(q) == 4
    assert drain(q, 0.2) == []
    assert drain(q, 0.5) == [("t3", "J"), ("t1", "A"), ("t2", "E")]
    assert q.next_deadline() == 32.0 and len(q) == 1
    assert drain(q, 100.0) == [("t1", "B")]
    assert q.next_deadline() is None and len(q) == 0 and q.keys() == frozenset()


def test_restart_replaces_the_running_timer() -> None:
    q: TimerQueue[str] = TimerQueue()
    q.start("t", "A", 0.5)
    q.start("t", "A", 1.0)  # backoff: the 0.5 s entry must not fire
    assert len(q) == 1 and q.deadline("t", "A") == 1.0
    assert drain(q, 0.9) == []
    assert drain(q, 1.0) == [("t", "A")]
    assert drain(q, 5.0) == []


def test_cancel_and_cancel_all_touch_only_their_transaction() -> None:
    q: TimerQueue[str] = TimerQueue()
    for key in ("x", "y"):
        q.start(key, "G", 0.5)
        q.start(key, "H", 32.0)
    assert q.cancel("x", "G") and not q.cancel("x", "G") and not q.cancel("z", "G")
    assert q.running("x") == {"H"} and q.running("y") == {"G", "H"}
    assert q.cancel_all("y") == 2 and q.cancel_all("y") == 0
    assert q.keys() == {"x"} and len(q) == 1
    assert drain(q, 100.0) == [("x", "H")]


def test_a_timer_cancelled_by_an_earlier_firing_never_fires() -> None:
    q: TimerQueue[str] = TimerQueue()
    q.start("t", "B", 1.0)
    q.start("t", "A", 1.0)
    first = q.pop_due(2.0)
    assert first == ("t", "B")
    q.cancel_all("t")  # Timer B fired: the transaction ended
    assert q.pop_due(2.0) is None


def test_mark_keeps_a_wake_up_from_firing_what_it_started() -> None:
    q: TimerQueue[str] = TimerQueue()
    q.start("t", "E", 1.0)
    q.start("u", "E", 1.0)
    mark = q.mark()
    assert q.pop_due(1.0, mark) == ("t", "E")
    q.start("t", "E", 1.0)  # restarted with a delay shorter than the slack
    assert q.pop_due(1.0, mark) == ("u", "E")
    assert q.pop_due(1.0, mark) is None  # the restarted one waits for the next wake-up
    assert q.pop_due(1.0) == ("t", "E")


def test_dead_entries_are_compacted() -> None:
    q: TimerQueue[int] = TimerQueue()
    for i in range(10 * COMPACT_MIN):
        q.start(i, "J", 32.0 + i)
    for i in range(10 * COMPACT_MIN - 1):
        q.cancel_all(i)
    assert len(q) == 1
    assert q.heap_size < COMPACT_MIN
    for _ in range(10 * COMPACT_MIN):  # restarts leave dead entries too
        q.start(0, "E", 1.0)
    assert q.heap_size <= 2 * len(q) + COMPACT_MIN
    q.clear()
    assert len(q) == 0 and q.heap_size == 0 and q.next_deadline() is None


# ------------------------------------------------------------ property test


@dataclass
class Naive:
    """The reference: every timer in one dict, every question a scan."""

    timers: dict[tuple[int, str], tuple[float, int]] = field(default_factory=dict)
    seq: int = 0

    def start(self, key: int, name: str, deadline: float) -> None:
        self.timers[(key, name)] = (deadline, self.seq)
        self.seq += 1

    def cancel(self, key: int, name: str) -> bool:
        return self.timers.pop((key, name), None) is not None

    def cancel_all(self, key: int) -> int:
        mine = [k for k in self.timers if k[0] == key]
        for k in mine:
            del self.timers[k]
        return len(mine)

    def mark(self) -> int:
        self.seq += 1
        return self.seq - 1

    def pop_due(self, now: float, before: int | None) -> tuple[int, str] | None:
        due = [(v, k) for k, v in self.timers.items() if v[0] <= now]
        if not due:
            return None
        (deadline, seq), k = min(due)
        earliest_all = min(self.timers.values())
        if (deadline, seq) != earliest_all:
            return None
        if before is not None and seq >= before:
            return None
        del self.timers[k]
        return k

    def next_deadline(self) -> float | None:
        return min((v[0] for v in self.timers.values()), default=None)


KEYS = st.integers(0, 5)
NAMES = st.sampled_from("ABDEFGHIJK")
TIMES = st.integers(0, 40).map(lambda t: t / 4)  # quarter seconds: many ties
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("start"), KEYS, NAMES, TIMES),
        st.tuples(st.just("cancel"), KEYS, NAMES),
        st.tuples(st.just("cancel_all"), KEYS),
        st.tuples(st.just("pop"), TIMES, st.booleans()),
        st.tuples(st.just("mark")),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None, database=None)  # no .hypothesis/ files
@given(OPS)
def test_same_answers_as_the_naive_model(ops: list[tuple[object, ...]]) -> None:
    q: TimerQueue[int] = TimerQueue()
    ref = Naive()
    mark_q: int | None = None
    mark_r: int | None = None
    for op in ops:
        match op:
            case ("start", int(k), str(n), float(d)):
                q.start(k, n, d)
                ref.start(k, n, d)
            case ("cancel", int(k), str(n)):
                assert q.cancel(k, n) == ref.cancel(k, n)
            case ("cancel_all", int(k)):
                assert q.cancel_all(k) == ref.cancel_all(k)
            case ("mark",):
                mark_q, mark_r = q.mark(), ref.mark()
            case ("pop", float(now), bool(use_mark)):
                got = q.pop_due(now, mark_q if use_mark else None)
                assert got == ref.pop_due(now, mark_r if use_mark else None)
        assert len(q) == len(ref.timers)
        assert q.next_deadline() == ref.next_deadline()
        for key in range(6):
            assert q.running(key) == {n for (k, n) in ref.timers if k == key}
        assert q.heap_size <= 2 * len(q) + COMPACT_MIN
