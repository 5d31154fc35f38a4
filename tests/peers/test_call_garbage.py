"""A short call leaves no cyclic garbage (issue 20: call set-up at 400/s).

SIPp places short calls (INVITE, 200, ACK, BYE) to the built-in demo on
1414, which answers, starts its IVR flow and tears it down on the BYE.  The
collector runs with ``DEBUG_SAVEALL`` meanwhile: every object it would have
freed is kept in ``gc.garbage``.  None of the engine's own objects may be
there: a call's objects (its ``Call``, dialog, RTP session, IVR session,
their tasks) go by reference counting when the call ends.  A cycle among
them made every call's ~80 objects wait for a collector pass, and those
passes stalled the loop for tens of milliseconds at 400 set-ups/s.
"""

from __future__ import annotations

import gc
from collections import Counter
from pathlib import Path

import pytest

from tests.peers.conftest import EngineFactory, needs_sipp, sipp, wait_until_idle

pytestmark = [pytest.mark.peer, needs_sipp]

CALLS = 40


async def test_short_calls_leave_no_cyclic_garbage(engine_factory: EngineFactory,
                                                   tmp_path: Path) -> None:
    # SIPp places every call from one address: no per-source flood limit here.
    engine = await engine_factory(sip={"max_new_calls_per_source_per_second": 100_000})
    warm = await sipp(engine, "short_call.xml", tmp_path / "warm", calls=5, rate=50,
                      service="1414")
    assert warm.successful == 5, warm.describe()
    assert await wait_until_idle(engine)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        res = await sipp(engine, "short_call.xml", tmp_path / "uac", calls=CALLS, rate=100,
                         service="1414")
        assert await wait_until_idle(engine)
        gc.collect()
        ours = Counter(type(o).__qualname__ for o in gc.garbage
                       if getattr(type(o), "__module__", "").startswith("bailanys."))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert res.successful == CALLS and res.failed == 0, res.describe()
    assert not ours, f"calls left cyclic garbage: {dict(ours)}"
