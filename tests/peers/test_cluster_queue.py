"""One queue across two engines behind Kamailio (issue 22, docs/architecture.md
"Queues across engines").

The real cluster of tests/peers/cluster.py (PostgreSQL, Kamailio from the
generated configuration, two ``bailanys serve``) with ``[cluster]
leases_url``: each engine keeps the lease of the queue group in
PostgreSQL; one owns ``support``. SIPp callers of that queue arrive through
Kamailio, whose dispatcher spreads them over both engines; the engine that
does not own the queue moves its callers to the owner (an INVITE through
Kamailio with the X-Bailanys-* headers, the caller's media bridged to it).
One pyVoIP operator, registered with Kamailio, talks 1.2 s to each and
hangs up. Checked:

* the lease: one row, owned by one of the engines, epoch 1, with
  ``queue.owner`` in its store;
* the callers were answered by both engines, and the non-owner moved its
  callers (``call.originated`` to ``sip:support@<owner>``);
* the owner joined every caller under the anchor's call id, the moved ones
  with the wait they had on their anchor (``prior_wait``);
* the operator was connected to the callers in their arrival order across
  both engines (``call.offered`` times on the anchors vs. ``call.connected``
  order on the owner), and each ended call is ended once on its anchor.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import psycopg
import pytest

from bailanys.cluster.phones import sync
from tests.peers.cluster import KAMAILIO, KAMCMD, EngineProc, Kamailio, create_usrloc_tables
from tests.peers.conftest import free_sip_port, needs_sipp, next_rtp_range
from tests.peers.sipp import SCENARIOS, make_ulaw_wav, run_sipp_async
from tests.peers.softphone import PyVoipAgent

pytestmark = [pytest.mark.peer, needs_sipp,
              pytest.mark.skipif(KAMAILIO is None or KAMCMD is None,
                                 reason="kamailio is not installed")]

CALLERS = 4


async def _owner(pg_url: str, within_s: float = 10.0) -> tuple[str, int]:
    """The lease row of the group ``support``: (owner_uri, epoch)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as db:
            cur = await db.execute("SELECT owner_uri, epoch FROM queue_leases "
                                   "WHERE name = 'support' AND expires_at > now()")
            row = await cur.fetchone()
        if row is not None:
            return str(row[0]), int(row[1])
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("nobody took the lease of the group support")
        await asyncio.sleep(0.2)


async def test_one_queue_served_in_order_across_engines(pg_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(create_usrloc_tables, pg_url)
    kport = free_sip_port()
    proxy = f"127.0.0.1:{kport}"
    leases = f'leases_url = "{pg_url}"\nlease_ttl_s = 3'
    engines = [EngineProc(tmp_path / f"engine{i}", proxy, pg_url, cluster_toml=leases)
               for i in (1, 2)]
    kam = Kamailio(tmp_path / "kamailio", [e.address for e in engines], pg_url, port=kport)
    await asyncio.to_thread(sync, pg_url, kam.cluster.digest_realm, {"1001": "pw1001"})
    lo, hi = (int(p) for p in next_rtp_range().split("-"))  # apart from the engines'
    agent = PyVoipAgent("127.0.0.1", kport, "1001", "pw1001", free_sip_port(), lo, hi,
                        answer_after_s=0.0, talk_s=1.2)
    try:
        t0 = time.monotonic()
        await asyncio.gather(kam.start(), *(e.start() for e in engines))
        await kam.wait_active()
        t1 = time.monotonic()
        await asyncio.to_thread(agent.start)
        assert agent.registered
        for e in engines:
            assert len(await e.wait_events("agent.registered", 1)) == 1, e.log()
        owner_uri, epoch = await _owner(pg_url)
        (owner,) = [e for e in engines if e.address == owner_uri]
        (other,) = [e for e in engines if e is not owner]
        assert epoch == 1
        (took,) = await owner.wait_events("queue.owner", 1)
        assert took["group"] == "support" and took["epoch"] == 1

        t2 = time.monotonic()
        make_ulaw_wav(tmp_path / "queue" / "bailanys_load.wav", 1.0, 0.0)
        # Each caller would stay 8 s; the operator hangs up first (its 1.2 s talk),
        # and SIPp is stopped once the last caller was connected.
        sipp = asyncio.create_task(run_sipp_async(
            SCENARIOS / "load_call.xml", kam.target, cwd=tmp_path / "queue", timeout_s=30,
            calls=CALLERS, rate=3, service="1417", duration_ms=8000))
        connected = await owner.wait_events("call.connected", CALLERS, within=10)
        await asyncio.sleep(0.5)  # the last conversation's first moments
        sipp.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sipp
        t3 = time.monotonic()
        print(f"\nstart {t1 - t0:.1f} s, agent and lease {t2 - t1:.1f} s, calls {t3 - t2:.1f} s")
        offered = {e: await asyncio.to_thread(e.events, "call.offered") for e in engines}
        assert all(len(found) >= 1 for found in offered.values()), \
            (connected, [len(v) for v in offered.values()])
        arrival = [c["call_id"] for c in sorted(
            (o for found in offered.values() for o in found), key=lambda o: o["ts"])]
        assert len(arrival) == CALLERS, connected

        # The non-owner moved its callers to the owner through Kamailio.
        moves = await asyncio.to_thread(other.events, "call.originated")
        assert len(moves) == len(offered[other]), other.log()
        assert {m["contact"] for m in moves} == {f"sip:support@{owner.address}"}

        # The owner joined all of them under the anchors' call ids.
        joined = await asyncio.to_thread(owner.events, "queue.joined")
        assert sorted(j["call_id"] for j in joined) == sorted(arrival), owner.log()
        moved_ids = {o["call_id"] for o in offered[other]}
        for j in joined:
            if j["call_id"] in moved_ids:
                assert j.get("prior_wait") is not None, j

        # Served in arrival order, across both engines.
        order = [c["call_id"] for c in connected]
        assert [c["agent"] for c in connected] == ["1001"] * CALLERS, owner.log()
        assert order == arrival, (order, arrival, owner.log())
        print(f"\narrival {[a[:6] for a in arrival]}; owner {owner.address}; "
              f"moved {len(moved_ids)} of {CALLERS}")

        # Each caller's call ends once, on its anchor; the owner writes no call.ended of them.
        for e in engines:
            ended = await e.wait_events("call.ended", 0)
            ids = [x["call_id"] for x in ended if x["call_id"] in set(arrival)]
            assert len(ids) == len(set(ids)), ids
        owner_ended = {x["call_id"] for x in await asyncio.to_thread(owner.events, "call.ended")}
        assert not owner_ended & moved_ids
    finally:
        t4 = time.monotonic()
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.gather(*(e.stop() for e in engines), kam.stop())
        print(f"stop {time.monotonic() - t4:.1f} s")
