"""A group's recent history read from a real event log (``bailanys/ownership/history.py``)
and rebuilt: only the calls still open are read, in batches, every event of
theirs, whoever wrote them."""

from __future__ import annotations

from bailanys import events as ev
from bailanys.ownership.history import StoreHistory
from bailanys.ownership.rebuild import rebuild
from bailanys.store.store import Store

T = 1_750_000_000.0


def join(store: Store, t: float, call: str, queue: str = "egov",
         prior_wait: float | None = None) -> None:
    store.events.emit_at(T + t, ev.CallOffered(
        call_id=call, from_uri="sip:+77011234567@trunk", to_uri="sip:1414@b", codec="PCMA",
        transport="UDP"))
    store.events.emit_at(T + t + 1, ev.QueueJoined(
        call_id=call, queue=queue, position=1, skills=("kk",), language="kk", priority=0,
        prior_wait=prior_wait))


async def test_open_calls_are_read_and_rebuilt() -> None:
    store = await Store.open(":memory:")
    try:
        join(store, -7200, "old")  # before the look-back
        join(store, 0, "served")
        store.events.emit_at(T + 30, ev.CallConnected(
            call_id="served", queue="egov", agent="a1", waited=29, orig_position=1))
        store.events.emit_at(T + 90, ev.CallCompleted(
            call_id="served", queue="egov", agent="a1", waited=29, talk=60, by="agent",
            orig_position=1))
        join(store, 1, "gone")
        store.events.emit_at(T + 20, ev.QueueAbandoned(
            call_id="gone", queue="egov", position=1, orig_position=1, waited=19, short=False,
            cause="caller"))
        join(store, 2, "cb")
        store.events.emit_at(T + 40, ev.QueueCallbackRequested(
            call_id="cb", queue="egov", position=1, waited=37, number="+77017654321"))
        join(store, 3, "talk")
        store.events.emit_at(T + 50, ev.CallConnected(
            call_id="talk", queue="egov", agent="a2", waited=46, orig_position=1))
        join(store, 10, "moved", prior_wait=9.5)  # arrived on its anchor at 1.5
        join(store, 5, "waiting")
        join(store, 6, "other", queue="pensions")
        await store.events.flush()
        history = await StoreHistory(store.db, batch=2).recent(("egov", "egov_ru"), T - 3600)
        assert {e.call_id for e in history} == {"cb", "talk", "moved", "waiting", "other"}
        assert len(history) == 3 + 3 + 2 + 2 + 2  # every event of theirs, nothing else
        found = rebuild(history, ("egov", "egov_ru"))
        assert [p.call_id for p in found.lines["egov"]] == ["moved", "cb", "waiting"]
        assert [t.call_id for t in found.talking] == ["talk"]
        cb = found.place("cb")
        assert cb is not None and cb.callback and cb.number == "+77017654321"
    finally:
        await store.close()
