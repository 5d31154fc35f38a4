"""The hub's staggered send groups: every call sends once per 20 ms, a quarter per tick.

The clock is not started: the test plays the clock, calling the hub's tick
with the index the clock would pass, so the group arithmetic is exact.
"""

from __future__ import annotations

import itertools
import time

import pytest

from bailanys.media.hub import SEND_GROUPS, MediaHub
from bailanys.media.session import RtpSession

_ports = itertools.count(0)


async def _hub_with(n: int, groups: int = SEND_GROUPS) -> tuple[MediaHub, list[RtpSession]]:
    base = 47000 + (next(_ports) % 10) * 200
    hub = MediaHub("127.0.0.1", (base, base + 200), send_groups=groups)
    sessions = [await hub.open_session() for _ in range(n)]
    sink = sessions[0].port  # frames go somewhere real; nobody needs to read them
    for s in sessions:
        s.configure(remote=("127.0.0.1", sink), codec="PCMU", audio_pt=0, dtmf_pt=101)
    return hub, sessions


def _sent(sessions: list[RtpSession]) -> list[int]:
    return [s.stats.sent for s in sessions]


async def test_each_tick_sends_one_group_and_a_period_sends_every_call_once() -> None:
    hub, sessions = await _hub_with(10)
    try:
        assert hub.clock.ptime == pytest.approx(0.020 / SEND_GROUPS)
        sizes = sorted(len({id(s) for s in sessions if s.send_group == g})
                       for g in range(SEND_GROUPS))
        assert sizes == [2, 2, 3, 3]  # least loaded first: balanced within one
        before = sum(_sent(sessions))
        hub._tick(0)
        first = sum(_sent(sessions)) - before
        assert first == len([s for s in sessions if s.send_group == 0])
        for i in range(1, SEND_GROUPS):
            hub._tick(i)
        assert _sent(sessions) == [1] * 10  # one frame per call per 20 ms
        for i in range(SEND_GROUPS, 5 * SEND_GROUPS):
            hub._tick(i)
        assert _sent(sessions) == [5] * 10
        assert hub.stats.frames_sent == 50
    finally:
        await hub.stop()


async def test_groups_stay_balanced_as_calls_come_and_go() -> None:
    hub, sessions = await _hub_with(8)
    try:
        for s in sessions[:4]:
            hub.close_session(s)
        for _ in range(4):
            await hub.open_session()
        sizes = [len(g) for g in hub._groups]
        assert max(sizes) - min(sizes) <= 1
        assert sum(sizes) == len(hub.sessions) == 8
    finally:
        await hub.stop()


async def test_one_group_is_the_old_single_send_loop() -> None:
    hub, sessions = await _hub_with(5, groups=1)
    try:
        assert hub.clock.ptime == pytest.approx(0.020)
        hub._tick(0)
        assert _sent(sessions) == [1] * 5
    finally:
        await hub.stop()


async def test_a_long_loop_makes_only_its_own_group_late() -> None:
    """Lateness is counted against the group's own due time, not the period's start."""
    hub, sessions = await _hub_with(8)
    try:
        hub.clock._start = time.monotonic()
        hub._tick(0)  # on time
        assert hub.stats.late_frames == 0
        hub.clock._start -= 0.5  # as if the loop had stalled half a second
        hub._tick(1)
        assert hub.stats.late_frames == len(hub._groups[1])
    finally:
        await hub.stop()
