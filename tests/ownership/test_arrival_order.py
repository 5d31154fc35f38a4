"""A call moved from the engine that answered it keeps its arrival in the
owner's queue core (``queue/core.py`` ``join(..., prior_wait=)``): its place,
its ``waited`` and the order agents are rung in are by first arrival,
whatever engine answered (issue 22)."""

from __future__ import annotations

from bailanys.queue.core import QueueCore, Ring
from bailanys.queue.settings import QueueSettings
from tests.queue.qhelpers import config, fields


def test_moved_callers_take_their_place_by_arrival() -> None:
    core = QueueCore(config(QueueSettings("q"), a={"kk": 5}))
    out = core.join("local", "q", now=100.0)  # answered here at 100
    assert "prior_wait" not in fields(out, "queue.joined")[0]
    out = core.join("moved", "q", now=105.0, prior_wait=10.0)  # arrived on another engine at 95
    assert fields(out, "queue.joined") == [{
        "queue": "q", "position": 1, "skills": [], "language": None, "priority": 0,
        "prior_wait": 10.0}]
    core.join("later", "q", now=106.0, prior_wait=5.0)
    core.join("future", "q", now=107.0, prior_wait=-3.0)  # a skewed clock: never after now
    assert [core.position(c) for c in ("moved", "local", "later", "future")] == [1, 2, 3, 4]
    out = core.login("a", 110.0)
    assert [a for a in out if isinstance(a, Ring)] == [Ring("moved", "a", 15.0)]
    out = core.ring_answered("moved", 112.0)
    assert fields(out, "call.connected")[0]["waited"] == 17.0  # from its arrival
