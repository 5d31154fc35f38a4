"""The desktops' hub: clients by agent, bounded outboxes, closing."""

from __future__ import annotations

from websockets.frames import CloseCode

from bailanys.desk.hub import DeskClient, DeskHub


def client(agent: str, token: str = "t", max_outbox: int = 3) -> DeskClient:
    return DeskClient(agent, viewer=agent, read_only=False, token=token, max_outbox=max_outbox)


def test_push_reaches_every_tab_of_that_agent_only() -> None:
    hub = DeskHub()
    a1, a2, b = client("1001"), client("1001"), client("1002")
    for c in (a1, a2, b):
        hub.add(c)
    assert len(hub) == 3 and hub.watched("1001") and not hub.watched("1003")
    assert hub.push("1001", {"type": "state"}) == 2
    assert hub.push("1003", {"type": "state"}) == 0
    assert a1.wake.is_set() and not b.wake.is_set()
    assert a1.take() == [{"type": "state"}] and a1.take() == [] and len(a2) == 1
    hub.remove(a1)
    hub.remove(a2)
    hub.remove(a2)  # twice: nothing
    assert not hub.watched("1001") and len(hub) == 1


def test_a_client_that_stops_reading_is_ended_not_buffered() -> None:
    hub = DeskHub()
    slow, fast = client("1001"), client("1001")
    hub.add(slow)
    hub.add(fast)
    for i in range(3):
        assert hub.push("1001", {"n": i}) == 2
        fast.take()
    assert hub.push("1001", {"n": 3}) == 1  # the slow one is full: ended
    assert (slow.close_reason, slow.close_code) == ("too slow", CloseCode.TRY_AGAIN_LATER)
    assert len(slow) == 3  # nothing more queued
    assert not slow.push({"n": 4})  # ended: refuses further messages
    assert fast.take() == [{"n": 3}]


def test_logout_and_stop_end_the_right_clients() -> None:
    hub = DeskHub()
    mine, other = client("1001", token="s1"), client("1002", token="s2")
    hub.add(mine)
    hub.add(other)
    hub.end_session("s1")
    assert mine.close_reason == "logged out" and other.close_reason is None
    mine.end("again")  # the first reason stays
    assert mine.close_reason == "logged out"
    ended = hub.end_all("the engine stops")
    assert set(ended) == {mine, other}
    assert (other.close_reason, other.close_code) == ("the engine stops", CloseCode.GOING_AWAY)
