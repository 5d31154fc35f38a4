"""The one ring-with-timeout-then-CANCEL, and the dialer and event-log shims over the engine."""

from __future__ import annotations

import asyncio

import pytest

from bailanys.engine.registrar import Binding
from bailanys.engine.shims import EngineDialer, LateEvents, ring
from bailanys.store.events import Event
from tests.engine.fakes import FakeEvents, FakeOutbound


async def test_ring_answered_in_time() -> None:
    leg = FakeOutbound("l1", "1001")
    asyncio.get_running_loop().call_later(0.01, leg.answer)
    assert await ring(leg, 1.0) is True
    assert not leg.cancelled and not leg.ended.is_set()


async def test_ring_refused_is_false_without_cancel() -> None:
    leg = FakeOutbound("l1", "1001")
    leg.refuse()
    assert await ring(leg, 1.0) is False
    assert not leg.cancelled


async def test_ring_timeout_cancels_and_ends_the_leg() -> None:
    leg = FakeOutbound("l1", "1001")
    assert await ring(leg, 0.01) is False
    assert leg.cancelled and leg.ended.is_set()
    assert not leg.result.done()  # a late 200 still finds the leg (and is hung up there)


async def test_engine_dialer_looks_up_then_starts() -> None:
    started: list[Binding] = []
    binding = Binding("1001", "sip:1001@192.0.2.5:5062", 0.0, ("192.0.2.5", 5062), "UDP", "")

    async def start_call(b: Binding) -> FakeOutbound:
        started.append(b)
        return FakeOutbound("l1", b.contact)

    dialer = EngineDialer(lookup=lambda user: [binding] if user == "1001" else [],
                          start_call=start_call)
    assert dialer.registered("1001") and not dialer.registered("1002")
    with pytest.raises(LookupError):
        await dialer.start_call_user("1002")
    await dialer.start_call_user("1001")
    await dialer.start_call_back("sip:caller@192.0.2.9", ("192.0.2.9", 5060), "TCP")
    assert started[0] is binding
    assert (started[1].contact, started[1].source, started[1].transport) == (
        "sip:caller@192.0.2.9", ("192.0.2.9", 5060), "TCP")


async def test_late_events_reads_the_log_at_each_use() -> None:
    logs: list[FakeEvents] = []
    late = LateEvents(lambda: logs[-1])  # type: ignore[arg-type,return-value]
    logs.append(FakeEvents([Event(1, 0.0, "a", None, {})]))
    late.append("b", "c1", x=1)
    assert logs[0].appended == [("b", "c1", {"x": 1})]
    assert [e.type for e in await late.query(type="a")] == ["a"]
    assert late.lag == 0.0
