"""Two engines behind Kamailio (issue 22): spread, agents through the proxy, failover.

One test on a real cluster on loopback (tests/peers/cluster.py): PostgreSQL
(the ``pg_url`` fixture) with Kamailio's usrloc tables made from its own
SQL, Kamailio with the configuration ``bailanys cluster kamailio-config``
generates (OPTIONS every second, 500 ms engine timeout), two ``bailanys
serve`` processes, SIPp callers and a pyVoIP operator registered with
Kamailio. In order:

1. the operator's phone registers with Kamailio with its password (the
   ``subscriber`` table filled by ``bailanys cluster phones``' function; a
   REGISTER without credentials is challenged); both engines learn it from
   the ``location`` table (``agent.registered`` in each store);
2. SIPp's calls to Kamailio are spread across both engines;
3. queue calls on both engines are bridged to the operator: each engine
   INVITEs ``sip:1001@<kamailio>`` through the proxy;
4. ``kill -9`` of one engine while SIPp calls at 20/s: the dispatcher marks
   it inactive (polled with ``kamcmd dispatcher.list``) within the health
   check's interval plus the engine timeout (the failover time is printed),
   and every new call after that is answered by the survivor, which has
   answered every OPTIONS (still active).

About 20 s, 28 s on this machine shared by eight sessions: the calls take
8 s, the rest is two ``bailanys serve`` processes starting in parallel
(mostly their imports: 14 s here under load), and a kill needs processes.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from bailanys.cluster.phones import sync
from tests.peers.cluster import (
    KAMAILIO,
    KAMCMD,
    EngineProc,
    Kamailio,
    create_usrloc_tables,
    register_status,
)
from tests.peers.conftest import free_sip_port, needs_sipp
from tests.peers.sipp import SCENARIOS, make_ulaw_wav, run_sipp_async
from tests.peers.softphone import PyVoipAgent

pytestmark = [pytest.mark.peer, needs_sipp,
              pytest.mark.skipif(KAMAILIO is None or KAMCMD is None,
                                 reason="kamailio is not installed")]

HEALTH_CHECK_S = 1
ENGINE_TIMEOUT_MS = 500


async def _failover_s(kam: Kamailio, dead: str, killed_at: float) -> float:
    """Seconds from the kill until the dispatcher no longer counts ``dead`` active."""
    while time.monotonic() - killed_at < 10:
        flags = await asyncio.to_thread(kam.dispatcher)
        if flags.get(dead, "A").startswith("I"):
            return time.monotonic() - killed_at
        await asyncio.sleep(0.05)
    raise AssertionError(f"{dead} still active 10 s after its kill: {flags}")


async def test_two_engines_behind_kamailio(pg_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(create_usrloc_tables, pg_url)
    kport = free_sip_port()
    proxy = f"127.0.0.1:{kport}"
    engines = [EngineProc(tmp_path / f"engine{i}", proxy, pg_url) for i in (1, 2)]
    kam = Kamailio(tmp_path / "kamailio", [e.address for e in engines], pg_url, port=kport,
                   health_check_s=HEALTH_CHECK_S, engine_timeout_ms=ENGINE_TIMEOUT_MS)
    # The phone accounts: the engines' [registrar.users], written by `cluster phones`.
    await asyncio.to_thread(sync, pg_url, kam.cluster.digest_realm, {"1001": "pw1001"})
    # pyVoIP binds a random port of its range per call: a block apart from the
    # engines' (30000-34400, tests/peers/conftest.py) and the queue tests' (58000+).
    rtp = 50000 + 300 * random.randrange(0, 26)
    agent = PyVoipAgent("127.0.0.1", kport, "1001", "pw1001", free_sip_port(), rtp, rtp + 299,
                        answer_after_s=0.0)
    try:
        await asyncio.gather(kam.start(), *(e.start() for e in engines))
        await kam.wait_active()  # each engine answered an OPTIONS of Kamailio's
        # 1. The phone registers with Kamailio (digest); both engines read it from
        # PostgreSQL. A REGISTER without credentials is challenged.
        assert await asyncio.to_thread(register_status, kport, "1001") == \
            "SIP/2.0 401 Unauthorized"
        await asyncio.to_thread(agent.start)
        assert agent.registered
        for e in engines:
            found = await e.wait_events("agent.registered", 1)
            assert [r["user"] for r in found] == ["1001"], e.log()

        # 2. Calls to Kamailio spread across both engines.
        res = await run_sipp_async(SCENARIOS / "short_call.xml", kam.target,
                                   cwd=tmp_path / "spread", timeout_s=20, calls=10, rate=20)
        assert res.ok, res.describe() + kam.log()
        offered = [len(await e.wait_events("call.offered", 5)) for e in engines]
        assert sum(offered) == 10 and min(offered) >= 3, offered

        # 3. A queue call on each engine is bridged to the operator through the proxy.
        make_ulaw_wav(tmp_path / "queue" / "bailanys_load.wav", 1.0, 0.0)
        res = await run_sipp_async(SCENARIOS / "load_call.xml", kam.target,
                                   cwd=tmp_path / "queue", timeout_s=30, calls=2, rate=2,
                                   service="1417", duration_ms=2500)
        assert res.ok, res.describe()
        connected = [await e.wait_events("call.connected", 1) for e in engines]
        assert [[c["agent"] for c in cs] for cs in connected] == [["1001"], ["1001"]], \
            [e.log() for e in engines]
        for e in engines:
            (out,) = await asyncio.to_thread(e.events, "call.originated")
            assert out["contact"] == f"sip:1001@{proxy}"
        assert agent.answered_calls == 2

        # 4. kill -9 one engine under load: the survivor takes the new calls.
        dead, survivor = engines
        before = len(await asyncio.to_thread(survivor.events, "call.offered"))
        load = asyncio.create_task(run_sipp_async(
            SCENARIOS / "short_call.xml", kam.target, cwd=tmp_path / "load", timeout_s=20,
            calls=40, rate=20))
        await asyncio.sleep(0.7)
        killed_at = time.monotonic()
        dead.kill9()
        failover = await _failover_s(kam, dead.address, killed_at)
        print(f"\nfailover: {failover * 1000:.0f} ms from kill -9 to the engine marked "
              f"inactive (health check {HEALTH_CHECK_S} s, engine timeout "
              f"{ENGINE_TIMEOUT_MS} ms)")
        assert failover <= HEALTH_CHECK_S + ENGINE_TIMEOUT_MS / 1000 + 0.5
        under_load = await load
        after = await run_sipp_async(SCENARIOS / "short_call.xml", kam.target,
                                     cwd=tmp_path / "after", timeout_s=20, calls=20, rate=20)
        assert after.ok, after.describe()
        # The survivor answered every OPTIONS of the run (one a second): still active.
        flags = await asyncio.to_thread(kam.dispatcher)
        assert flags[survivor.address].startswith("A"), flags
        print(f"under load: {under_load.successful} of {under_load.created} calls completed "
              f"(the others were up on the killed engine)")
        # Calls up on the killed engine die with it; every other call of the run
        # (and every call after) is the survivor's.
        now = len(await survivor.wait_events("call.offered", before + 20 + 1))
        assert now - before >= 20 + under_load.successful // 2, (before, now)
        assert under_load.failed <= 3, under_load.describe()
    finally:
        await asyncio.to_thread(agent.stop, deregister=False)
        await asyncio.gather(*(e.stop() for e in engines), kam.stop())
