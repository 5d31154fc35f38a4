"""``kill -9`` of a queue's owner with callers waiting (issue 22, docs/architecture.md
"The owner's death").

The cluster of tests/peers/cluster.py with ``[cluster] leases_url`` (lease
ttl 2 s) and one event store both engines write: the PostgreSQL store
(``[store] url``), the shared event log the take-over reads. Four SIPp callers of ``support``
arrive through Kamailio, spread over both engines; no operator is logged in,
so they all wait at the owner, two of them moved there by the other engine.
Then the owner is killed (SIGKILL). Checked:

* the survivor takes the lease (epoch 2) within ttl + ttl/3 of the kill
  plus a renewal's slack, and writes ``queue.owner`` with the 4 callers it
  rebuilt from the event log;
* the callers anchored on the survivor lose their leg to the dead owner
  (no RTP for ``[media] rtp_timeout_s``), are moved again and re-join at
  the survivor with their wait so far (``prior_wait`` at least what they had
  waited at the kill): they keep their places;
* the callers anchored on the killed engine (their calls died with it) are
  closed after the grace period as ``queue.abandoned`` cause
  ``engine_failure``, each once, never as a caller's abandon;
* no stored event is lost: every ``queue.joined`` stored before the kill is
  still there, and each caller has exactly one outcome;
* an operator who then registers with Kamailio is connected to the
  re-homed callers in their arrival order;
* the KPI fold over the shared log: each caller offered once, the dead
  anchor's callers dropped (not lost), the re-homed ones answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import psycopg
import pytest

from bailanys.cluster.phones import sync
from bailanys.metrics import KpiFold
from bailanys.store import Store
from bailanys.store.events import Event
from tests.peers.cluster import KAMAILIO, KAMCMD, EngineProc, Kamailio, create_usrloc_tables
from tests.peers.conftest import free_sip_port, needs_sipp, next_rtp_range
from tests.peers.sipp import SCENARIOS, make_ulaw_wav, run_sipp_async
from tests.peers.softphone import PyVoipAgent

pytestmark = [pytest.mark.peer, needs_sipp,
              pytest.mark.skipif(KAMAILIO is None or KAMCMD is None,
                                 reason="kamailio is not installed")]

CALLERS = 4
TTL_S = 2.0


async def _lease(pg_url: str) -> tuple[str, int] | None:
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as db:
        cur = await db.execute("SELECT owner_uri, epoch FROM queue_leases "
                               "WHERE name = 'support' AND expires_at > now()")
        row = await cur.fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


async def _writers(pg_url: str) -> list[tuple[str, str | None, str | None]]:
    """Each stored event's type, its ``engine`` column, and a ``queue.owner``'s owner_uri."""
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as db:
        cur = await db.execute("SELECT type, engine, data->>'owner_uri' FROM events ORDER BY id")
        return [(str(r[0]), r[1], r[2]) for r in await cur.fetchall()]


async def _until(check: object, within_s: float, what: str) -> float:
    """Seconds until the coroutine function ``check`` answers truthy."""
    assert callable(check)
    start = time.monotonic()
    while time.monotonic() - start < within_s:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {within_s} s")


async def test_owner_killed_with_callers_waiting(pg_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(create_usrloc_tables, pg_url)
    shared = pg_url  # the engines' one store: PostgreSQL (issue 22), also leases and phones
    store = await Store.open(shared)  # migrated once, before two engines open it
    await store.close()
    kport = free_sip_port()
    proxy = f"127.0.0.1:{kport}"
    engines = [EngineProc(tmp_path / f"engine{i}", proxy, pg_url,
                          store_toml=f'url = "{shared}"\nbatch_ms = 20',
                          cluster_toml=f'leases_url = "{pg_url}"\nlease_ttl_s = {TTL_S}',
                          media_toml="rtp_timeout_s = 2")
               for i in (1, 2)]
    for e in engines:
        e.store = shared
    kam = Kamailio(tmp_path / "kamailio", [e.address for e in engines], pg_url, port=kport)
    await asyncio.to_thread(sync, pg_url, kam.cluster.digest_realm, {"1001": "pw1001"})
    lo, hi = (int(p) for p in next_rtp_range().split("-"))
    agent = PyVoipAgent("127.0.0.1", kport, "1001", "pw1001", free_sip_port(), lo, hi,
                        answer_after_s=0.0, talk_s=0.8)
    sipp: asyncio.Task[object] | None = None
    log = engines[0]  # the shared store: either engine reads every event
    try:
        await asyncio.gather(kam.start(), *(e.start() for e in engines))
        await kam.wait_active()
        first = await _lease(pg_url)
        for _ in range(50):
            if first is not None:
                break
            await asyncio.sleep(0.1)
            first = await _lease(pg_url)
        assert first is not None and first[1] == 1, first
        (owner,) = [e for e in engines if e.address == first[0]]
        (survivor,) = [e for e in engines if e is not owner]

        make_ulaw_wav(tmp_path / "queue" / "bailanys_load.wav", 1.0, 0.0)
        sipp = asyncio.create_task(run_sipp_async(
            SCENARIOS / "load_call.xml", kam.target, cwd=tmp_path / "queue", timeout_s=40,
            calls=CALLERS, rate=4, service="1417", duration_ms=25000))
        joined = await log.wait_events("queue.joined", CALLERS, within=8)
        assert len(joined) == CALLERS, owner.log() + survivor.log()
        before = await asyncio.to_thread(log.events)
        await asyncio.sleep(0.5)

        killed_wall = time.time()
        owner.kill9()

        async def taken() -> bool:
            lease = await _lease(pg_url)
            return lease is not None and lease == (survivor.address, 2)

        take_over = await _until(taken, TTL_S * 4 / 3 + 3, "the survivor's lease")
        print(f"\ntake-over: {take_over:.2f} s after kill -9 (ttl {TTL_S} s)")
        assert take_over <= TTL_S * 4 / 3 + TTL_S / 3 + 1.0
        (news,) = [o for o in await log.wait_events("queue.owner", 2) if o["epoch"] == 2]
        assert news["waiting"] == CALLERS and news["owner_uri"] == survivor.address, news

        # The grace period (2 ttl) after the take-over: re-homed callers or closed ones.
        async def closed() -> bool:
            found = await asyncio.to_thread(log.events, "queue.abandoned")
            return len(found) + len(_rejoined(await asyncio.to_thread(
                log.events, "queue.joined"))) >= CALLERS

        settled = await _until(closed, 4 * TTL_S + 6, "every caller re-homed or closed")
        print(f"settled {take_over + settled:.2f} s after the kill")
        joins = await asyncio.to_thread(log.events, "queue.joined")
        abandoned = await asyncio.to_thread(log.events, "queue.abandoned")
        rejoined = _rejoined(joins)
        gone = {a["call_id"] for a in abandoned}
        ids = {j["call_id"] for j in joined}
        assert {a["cause"] for a in abandoned} == {"engine_failure"}, abandoned
        assert len(gone) == len(abandoned), abandoned  # each once
        assert gone | set(rejoined) == ids and not gone & set(rejoined), (gone, rejoined)
        assert rejoined and gone, (rejoined, gone)  # callers on both anchors
        kill_wait = {j["call_id"]: killed_wall - j["ts"] + (j.get("prior_wait") or 0.0)
                     for j in joined}
        for call_id, again in rejoined.items():
            assert again["prior_wait"] >= kill_wait[call_id] - 0.5, (again, kill_wait)

        # No stored event lost.
        after = {(a["ts"], a["type"], a["call_id"]) for a in await asyncio.to_thread(log.events)}
        assert all((b["ts"], b["type"], b["call_id"]) in after for b in before)
        # Each row names the engine (incarnation: its SIP address/pid/id) that wrote it.
        writers = await _writers(pg_url)
        named = {engine for _, engine, _ in writers if engine is not None}
        assert {n.split("/")[0] for n in named} == {owner.address, survivor.address}, named
        assert len(named) == 2 and sum(1 for w in writers if w[1] is None) < len(writers) / 4
        for type_, engine, uri in writers:
            assert type_ != "queue.owner" or (engine or "").startswith(f"{uri}/"), writers

        # The operator registers: the re-homed callers, in their arrival order.
        arrival = [j["call_id"] for j in sorted(
            joined, key=lambda j: j["ts"] - (j.get("prior_wait") or 0.0))]
        await asyncio.to_thread(agent.start)
        connected = await log.wait_events("call.connected", len(rejoined), within=8)
        assert [c["call_id"] for c in connected] == [
            c for c in arrival if c in rejoined], (connected, arrival)

        # The KPIs over the shared log: 4 callers offered once each, the dead
        # anchor's dropped (the engine's doing), none lost, the re-homed answered.
        kpi = KpiFold()
        for n, e_ in enumerate(await asyncio.to_thread(log.events), 1):
            data = {k: v for k, v in e_.items() if k not in ("ts", "type", "call_id")}
            kpi.apply(Event(n, e_["ts"], e_["type"], e_["call_id"], data))
        c = kpi.counts()
        assert (c.received, c.offered, c.dropped, c.abandoned, c.answered) == (
            CALLERS, CALLERS, len(gone), 0, len(rejoined)), c
        # The callers anchored on the dead owner itself: the survivor ended their calls.
        ends = [e_ for e_ in await asyncio.to_thread(log.events, "call.ended")
                if e_["call_id"] in gone]
        assert sorted(e_["call_id"] for e_ in ends) == sorted(gone), ends
        assert {e_["cause"] for e_ in ends} == {"engine_failure"}, ends
    finally:
        if sipp is not None:
            sipp.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sipp
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.gather(*(e.stop() for e in engines), kam.stop())


def _rejoined(joins: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """The callers that joined a second time (re-homed), with that join."""
    seen: dict[str, int] = {}
    out: dict[str, dict[str, object]] = {}
    for j in joins:
        call_id = str(j["call_id"])
        seen[call_id] = seen.get(call_id, 0) + 1
        if seen[call_id] == 2:
            out[call_id] = j
    return out
