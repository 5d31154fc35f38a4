"""One console of two engines (issue 22): live state from each, KPIs from PostgreSQL.

Two engines on one PostgreSQL store (the ``pg_url`` fixture): one in this
process, one a ``bailanys serve`` process (tests/peers/cluster.py's
harness), each with its console and ``/cluster/state`` behind the shared
token (a missing or wrong token gets 401); ``bailanys cluster console``'s
server (:func:`bailanys.cluster.consoleserve.serve`) in front of both.
SIPp callers wait in the queue of each engine (no operator): the one
console's websocket shows the callers of both engines in one queue, each
with its engine; after they time out its KPI counts equal the events in
PostgreSQL (the in-process engine's own fold counts only its half); the
engine process killed with -9 is shown down, the totals marked partial,
``bailanys_cluster_engine_up`` 0 on ``/metrics``.

About 17 s here: the engine process's start (~5 s), callers waiting 3 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect

from bailanys.cluster import consoleserve
from bailanys.cluster.proxy import ClusterConfig
from bailanys.config import Config, ConsoleConfig, QueueFileConfig, StoreConfig
from bailanys.console.auth import COOKIE_NAME, hash_password
from bailanys.metrics.windows import day_start, recompute
from bailanys.store.events import Event
from tests.console.helpers import cookie_token, login
from tests.peers.cluster import EngineProc, create_usrloc_tables
from tests.peers.conftest import EngineFactory, free_sip_port, needs_sipp
from tests.peers.sipp import SCENARIOS, make_ulaw_wav, run_sipp_async

pytestmark = [pytest.mark.peer, needs_sipp]

TOKEN = "cluster-console-token-0123"
PASSWORD = "Kezek-1414"
FLOW = """
flow: cluster-console
numbers: ["1418"]
languages: [kk, ru]
start: lang
nodes:
  lang:
    type: set_language
    language: ru
    next: queue
  queue:
    type: queue
    queue: support
    fallback: bye
  bye:
    type: hangup
"""
QUEUES = """
[queues.support]
skills = ["support"]
max_wait_s = 3
announce_interval_s = 30

[agents.1001]
skills = { ru = 10, support = 5 }
"""
CALLS = 2  # per engine


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until(ws: ClientConnection, state: dict[str, Any],
                 ok: Callable[[dict[str, Any]], bool], within: float = 10.0) -> None:
    """Merge the deltas into ``state`` until ``ok(state)``."""
    deadline = time.monotonic() + within
    while not ok(state):
        left = deadline - time.monotonic()
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), max(left, 0.01)))
        except TimeoutError:
            raise AssertionError(f"not seen in {within} s: {json.dumps(state)[:1500]}") from None
        if message.get("type") in ("snapshot", "delta"):
            state.update(message["data"])


def _waiting(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for q in state.get("queues", []) for c in q["waiting"]]


async def test_one_console_of_two_engines(engine_factory: EngineFactory, pg_url: str,
                                          tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "queue.yaml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
    users = {"aigerim": "supervisor:" + hash_password(PASSWORD)}
    ports = [_free_tcp_port() for _ in range(2)]
    # engine 1 in this process (its own fold is read below), engine 2 a
    # `bailanys serve` process on the same PostgreSQL store, killed with -9
    one = await engine_factory(
        store_url=pg_url, ivr={"flow_dir": str(flows)}, engine={"numbers": ()},
        queue={"file": str(tmp_path / "queues.toml")},
        console={"listen": f"127.0.0.1:{ports[0]}", "users": users},
        cluster={"console_token": TOKEN})
    await asyncio.to_thread(create_usrloc_tables, pg_url)  # engine 2 reads `location`
    two = EngineProc(tmp_path / "engine2", f"127.0.0.1:{free_sip_port()}", pg_url,
                     store_toml=f'url = "{pg_url}"\nbatch_ms = 20',
                     console_toml=f'listen = "127.0.0.1:{ports[1]}"\n'
                                  f'users = {{ aigerim = "{users["aigerim"]}" }}',
                     cluster_toml=f'console_token = "{TOKEN}"')
    (two.folder / "flows" / "queue.yaml").write_text(FLOW, encoding="utf-8")
    (two.folder / "queues.toml").write_text(QUEUES, encoding="utf-8")
    peers = tuple(f"http://127.0.0.1:{port}" for port in ports)
    try:
        await two.start()
        await _serve_both(one, two, peers, pg_url, tmp_path, users)
    finally:
        await two.stop()


async def _serve_both(one: Any, two: EngineProc, peers: tuple[str, ...], pg_url: str,
                      tmp_path: Path, users: dict[str, str]) -> None:
    for _ in range(100):  # the engine answers SIP before its console listens
        if await asyncio.to_thread(_listening, int(peers[1].rsplit(":", 1)[1])):
            break
        await asyncio.sleep(0.1)
    async with httpx.AsyncClient() as http:  # the engines' state wants the token
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            answer = await http.get(peers[1] + "/cluster/state", headers=headers)
            assert answer.status_code == 401, answer.text
        answer = await http.get(peers[1] + "/cluster/state",
                                headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200 and answer.json()["queues"][0]["name"] == "support"

    cport = _free_tcp_port()
    config = Config(console=ConsoleConfig(listen=f"127.0.0.1:{cport}", users=users),
                    store=StoreConfig(url=pg_url),
                    queue=QueueFileConfig(file=str(tmp_path / "queues.toml")),
                    cluster=ClusterConfig(peers=peers, console_token=TOKEN))
    stopped = asyncio.Event()
    server = asyncio.create_task(consoleserve.serve(config, "127.0.0.1", cport, stopped))
    sipp_dir = tmp_path / "sipp"
    for i in range(2):
        make_ulaw_wav(sipp_dir / str(i) / "bailanys_silence.wav", 1.0, 0.0)
    callers: list[asyncio.Task[Any]] = []
    try:
        for _ in range(50):
            if server.done() or await asyncio.to_thread(_listening, cport):
                break
            await asyncio.sleep(0.1)
        assert not server.done(), server.exception()
        reply = await login(cport, "aigerim", PASSWORD)
        assert reply.status == 303, reply
        async with connect(f"ws://127.0.0.1:{cport}/ws", open_timeout=5, additional_headers={
                "Cookie": f"{COOKIE_NAME}={cookie_token(reply)}"}) as ws:
            state: dict[str, Any] = {}
            await _until(ws, state, lambda s: bool(s.get("engines"))
                         and all(e["up"] for e in s["engines"]))
            assert [e["name"] for e in state["engines"]] == [p[7:] for p in peers]
            callers = [asyncio.create_task(run_sipp_async(
                SCENARIOS / "ivr_silent.xml", target, cwd=sipp_dir / str(i), timeout_s=30,
                service="1418", calls=CALLS, rate=CALLS))
                for i, target in enumerate((one.target, two.address))]
            # live: both engines' callers in the one queue, each with its engine
            await _until(ws, state, lambda s: len(_waiting(s)) == 2 * CALLS)
            assert [q["name"] for q in state["queues"]] == ["support"]
            assert sorted(c["engine"] for c in _waiting(state)) == sorted(
                [p[7:] for p in peers] * CALLS)
            assert [c["position"] for c in _waiting(state)] == [1, 2, 3, 4]
            assert state["partial"] is False
            for task in callers:
                result = await task
                assert result.ok, result.describe()
            callers = []
            # KPIs: every engine's calls folded from PostgreSQL, each once
            with psycopg.connect(pg_url) as pg:
                joined = pg.execute("SELECT count(DISTINCT call_id) FROM events "
                                    "WHERE type = 'queue.joined'").fetchone()
                offered = pg.execute("SELECT count(*) FROM events "
                                     "WHERE type = 'call.offered'").fetchone()
            assert joined == (2 * CALLS,) and offered == (2 * CALLS,)
            await _until(ws, state, lambda s: s["board"]["total"]["offered"] == 2 * CALLS
                         and not _waiting(s))
            total = state["board"]["total"]
            assert (total["offered"], total["answered"]) == (2 * CALLS, 0)
            assert [(q["name"], q["offered"]) for q in state["board"]["queues"]] == [
                ("support", 2 * CALLS)]
            # the same as a recount of every stored event of today
            stored = await asyncio.to_thread(_stored_events, pg_url)
            recount = recompute(stored, day_start(time.time()), time.time() + 1)
            assert {k: total[k] for k in ("offered", "answered", "abandoned")} == {
                k: getattr(recount.total.counts, k) for k in ("offered", "answered", "abandoned")}
            assert {k: v["samples"] for k, v in state["kpis"].items()} == {
                k.name: k.samples for k in recount.total.kpis}
            # the engine's own console sees its half
            assert one.console.snapshot()["board"]["total"]["offered"] == CALLS
            # an engine killed: shown down, the totals marked partial
            two.kill9()
            await _until(ws, state, lambda s: not s["engines"][1]["up"], within=6)
            assert state["engines"][0]["up"] and state["partial"] is True
            assert state["engines"][1]["error"]
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{cport}/metrics")).text
        assert f'bailanys_cluster_engine_up{{engine="{peers[1][7:]}"}} 0' in metrics
        assert f'bailanys_cluster_engine_up{{engine="{peers[0][7:]}"}} 1' in metrics
    finally:
        for task in callers:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        stopped.set()
        await asyncio.wait_for(server, 10)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stored_events(pg_url: str) -> list[Event]:
    with psycopg.connect(pg_url) as pg:
        rows = pg.execute("SELECT id, ts, type, call_id, data FROM events ORDER BY id").fetchall()
    return [Event(i, ts, type_, call, data if isinstance(data, dict) else json.loads(data))
            for i, ts, type_, call, data in rows]
