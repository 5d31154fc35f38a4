"""The cluster console's pure parts (issue 22): merging the engines' live
states, the store tail that reads every engine's events once, the token check."""

from __future__ import annotations

import argparse
import asyncio
import socket
import time
from pathlib import Path

import pytest

from bailanys.cliutil import EXIT_CONFIG, CommandError
from bailanys.cluster.commands import cmd_console
from bailanys.cluster.livestate import authorized
from bailanys.cluster.merge import PeerState, merge_live
from bailanys.cluster.overview import ClusterConsole, EventsTail
from bailanys.cluster.proxy import ClusterConfig
from bailanys.errors import ConfigError
from bailanys.store.events import Event


def _caller(call_id: str, waited: float) -> dict[str, object]:
    return {"call_id": call_id, "position": 1, "waited": waited, "language": "ru",
            "callback": False, "number": "***1234"}


A = PeerState("10.0.0.11:8080", "http://10.0.0.11:8080", {
    "queues": [{"name": "support", "agents_available": 1,
                "waiting": [_caller("a1", 5.0), _caller("a2", 1.0)]}],
    "agents": [{"user": "1001", "state": "available"}, {"user": "1002", "state": "on_call"}]})
B = PeerState("10.0.0.12:8080", "http://10.0.0.12:8080", {
    "queues": [{"name": "support", "agents_available": 2, "waiting": [_caller("b1", 3.0)]},
               {"name": "egov", "agents_available": 0, "waiting": [_caller("b2", 9.0)]}],
    "agents": [{"user": "1001", "state": "ringing"}, {"user": "1002", "state": "logged_out"}]})
DOWN = PeerState("10.0.0.13:8080", "http://10.0.0.13:8080", None, "ConnectError", 100.0)


def test_queues_merge_by_name_with_every_engines_callers_in_wait_order() -> None:
    live = merge_live([A, B])
    support = next(q for q in live["queues"] if q["name"] == "support")
    assert [c["call_id"] for c in support["waiting"]] == ["a1", "b1", "a2"]
    assert [c["position"] for c in support["waiting"]] == [1, 2, 3]
    assert [c["engine"] for c in support["waiting"]] == [A.name, B.name, A.name]
    assert support["agents_available"] == 3
    assert [q["name"] for q in live["queues"]] == ["support", "egov"]
    assert live["partial"] is False
    # the engines' own values are not changed (they are shared with nothing, but kept)
    assert A.state is not None and A.state["queues"][0]["waiting"][1]["position"] == 1


def test_agents_once_with_the_busiest_engines_state() -> None:
    agents = {a["user"]: a for a in merge_live([A, B])["agents"]}
    assert agents["1001"]["state"] == "ringing" and agents["1001"]["engine"] == B.name
    assert agents["1002"]["state"] == "on_call" and agents["1002"]["engine"] == A.name
    assert len(agents) == 2


def test_a_down_engine_is_shown_and_marks_the_totals_partial() -> None:
    live = merge_live([A, DOWN])
    assert live["partial"] is True
    rows = {e["name"]: e for e in live["engines"]}
    assert rows[DOWN.name] == {"name": DOWN.name, "url": DOWN.url, "up": False, "waiting": 0,
                               "error": "ConnectError", "seen": 100.0}
    assert rows[A.name]["up"] is True and rows[A.name]["waiting"] == 2
    assert sum(len(q["waiting"]) for q in live["queues"]) == 2


def test_malformed_answers_are_skipped_not_fatal() -> None:
    bad = PeerState("x", "http://x:1", {"queues": [None, {"name": 3}, {"name": "q"}],
                                        "agents": ["?", {"state": "on_call"}]})
    live = merge_live([bad])
    assert live["queues"] == [{"name": "q", "agents_available": 0, "waiting": []}]
    assert live["agents"] == []


def test_token_check() -> None:
    token = "s3cret-token-of-the-cluster"
    assert authorized(f"Bearer {token}", token)
    assert authorized(f"bearer {token}", token)
    assert not authorized(f"Bearer {token}x", token)
    assert not authorized(f"Basic {token}", token)
    assert not authorized("", token)
    assert not authorized("Bearer ", "")


class _Rows:
    """Rows as a store with two writers returns them: by id, some committed late."""

    def __init__(self) -> None:
        self.rows: list[Event] = []

    async def query(self, *, since: float | None = None) -> list[Event]:
        return sorted((e for e in self.rows if since is None or e.ts >= since),
                      key=lambda e: e.id or 0)


def _event(id_: int, ts: float) -> Event:
    return Event(id_, ts, "call.offered", f"c{id_}", {})


def test_tail_reads_each_event_once_also_a_lower_id_committed_late() -> None:
    async def run() -> list[list[int]]:
        rows = _Rows()
        rows.rows = [_event(1, 100.0), _event(2, 101.0)]
        tail = EventsTail(rows, slack_s=30.0)
        out = [[e.id or 0 for e in await tail.start(since=50.0)]]
        rows.rows += [_event(4, 103.0)]  # engine B's 3 is not committed yet
        out.append([e.id or 0 for e in await tail.poll()])
        rows.rows += [_event(3, 102.0), _event(5, 104.0)]
        out.append([e.id or 0 for e in await tail.poll()])
        out.append([e.id or 0 for e in await tail.poll()])
        return out

    assert asyncio.run(run()) == [[1, 2], [4], [3, 5], []]


def test_config_and_command_refuse_what_the_cluster_console_cannot_use(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cluster.peers\[0\]"):
        ClusterConfig(peers=("10.0.0.11:8080",))
    with pytest.raises(ConfigError, match="16 characters"):
        ClusterConfig(console_token="short")
    config = tmp_path / "bailanys.toml"
    for body, key in (("", "cluster.peers"),
                      ('[cluster]\npeers = ["http://127.0.0.1:1"]\n', "cluster.console_token")):
        config.write_text(body, encoding="utf-8")
        with pytest.raises(CommandError) as found:
            cmd_console(argparse.Namespace(config=str(config), listen=None))
        assert found.value.status == EXIT_CONFIG and key in str(found.value)


def test_an_engine_that_accepts_but_never_answers_is_shown_down() -> None:
    """A hung engine (its port open, no answer): down after the read timeout,
    beside one that answers 401 (a wrong token) and one with nothing listening."""

    async def run() -> tuple[list[dict[str, object]], bool, float]:
        hung = socket.socket()
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)  # never accepted: the request hangs
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))  # bound, not listening: refused
        server = await asyncio.start_server(_answer_401, "127.0.0.1", 0)
        urls = [f"http://127.0.0.1:{s.getsockname()[1]}"
                for s in (hung, closed, server.sockets[0])]
        console = ClusterConsole(urls, "t" * 16, _Rows(), timeout_s=0.3)
        try:
            began = time.monotonic()
            await console.start()
            took = time.monotonic() - began
            return console.live["engines"], console.live["partial"], took
        finally:
            await console.stop()
            server.close()
            hung.close()
            closed.close()

    engines, partial, took = asyncio.run(run())
    assert [e["up"] for e in engines] == [False, False, False] and partial is True
    assert engines[0]["error"] == "ReadTimeout" and engines[2]["error"] == "HTTP 401"
    assert engines[1]["error"] == "ConnectError"
    assert took < 2.0  # the engines are read together, each within its timeout


async def _answer_401(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()
