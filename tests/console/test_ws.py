"""The live websocket with a fake engine API: snapshot, deltas, actions, sessions,
and a client that does not read."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bailanys.console.auth import COOKIE_NAME
from bailanys.console.server import ConsoleServer
from tests.console.helpers import FakeApi, FakeClock, get, session_token


@asynccontextmanager
async def client(server: ConsoleServer, token: str | None,
                 **kwargs: Any) -> AsyncIterator[ClientConnection]:
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["Cookie"] = f"{COOKIE_NAME}={token}"
    async with connect(f"ws://127.0.0.1:{server.port}/ws", additional_headers=headers,
                       open_timeout=5, **kwargs) as ws:
        yield ws


async def recv(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return message


async def act(ws: ClientConnection, id: Any, **action: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "action", "id": id, "action": action}))
    while True:  # deltas may come first
        reply = await recv(ws)
        if reply["type"] in ("ack", "error"):
            return reply


async def test_a_client_gets_the_snapshot_first(server: ConsoleServer, api: FakeApi) -> None:
    token = await session_token(server.port)
    async with client(server, token) as ws:
        first = await recv(ws)
    assert first["type"] == "snapshot"
    assert first["data"] == api.state
    assert abs(first["now"] - time.time()) < 5
    assert first["user"] == {"login": "aigerim", "name": "Әйгерім Сейітова",
                             "role": "supervisor", "can_act": True}


async def test_deltas_follow_the_subscription(server: ConsoleServer, api: FakeApi) -> None:
    token = await session_token(server.port)
    async with client(server, token) as ws:
        await recv(ws)
        agent = {"user": "1001", "name": "Дана", "state": "available", "since": time.time(),
                 "reason": "", "current_call": None}
        api.emit({"agents": [agent]})
        delta = await recv(ws)
        assert delta["type"] == "delta" and delta["data"] == {"agents": [agent]}
        api.emit({"kpis": {"fcr": {"value": 88.0}}})
        api.emit({"history": []})
        seen: dict[str, Any] = {}
        while set(seen) != {"kpis", "history"}:
            seen.update((await recv(ws))["data"])
        assert seen == {"kpis": {"fcr": {"value": 88.0}}, "history": []}


async def test_a_supervisor_acts_and_the_api_hears_it(server: ConsoleServer,
                                                      api: FakeApi) -> None:
    token = await session_token(server.port)
    async with client(server, token) as ws:
        await recv(ws)
        reply = await act(ws, "p1", name="agent_pause", agent="1001", reason="lunch")
    assert reply == {"type": "ack", "id": "p1", "result": {"done": "agent_pause"}}
    [(user, action)] = api.actions
    assert user.login == "aigerim"
    assert action == {"name": "agent_pause", "agent": "1001", "reason": "lunch"}


async def test_an_admin_may_act_too(server: ConsoleServer, api: FakeApi) -> None:
    token = await session_token(server.port, "root")
    async with client(server, token) as ws:
        await recv(ws)
        reply = await act(ws, 1, name="agent_login", agent="1002")
    assert reply["type"] == "ack" and len(api.actions) == 1


@pytest.mark.parametrize("login", ["bolat", "dana"])
async def test_analysts_and_qa_watch_but_may_not_act(server: ConsoleServer, api: FakeApi,
                                                     login: str) -> None:
    token = await session_token(server.port, login)
    async with client(server, token) as ws:
        first = await recv(ws)
        assert first["user"]["can_act"] is False
        reply = await act(ws, 9, name="agent_logout", agent="1001")
    assert reply["type"] == "error" and reply["id"] == 9 and reply["code"] == "forbidden"
    assert api.actions == []


async def test_refusals_and_bad_messages_come_back_as_errors(server: ConsoleServer,
                                                             api: FakeApi) -> None:
    token = await session_token(server.port)
    async with client(server, token) as ws:
        await recv(ws)
        api.refuse = "agent 1001 is on a call"
        refused = await act(ws, 1, name="agent_logout", agent="1001")
        unknown = await act(ws, 2, name="reboot")
        await ws.send("{not json")
        broken = await recv(ws)
        await ws.send(b"\x00\x01")
        binary = await recv(ws)
    assert refused == {"type": "error", "id": 1, "code": "refused",
                       "message": "agent 1001 is on a call"}
    assert (unknown["id"], unknown["code"]) == (2, "unknown_action")
    assert (broken["id"], broken["code"]) == (None, "bad_message")
    assert binary["code"] == "bad_message"
    assert len(api.actions) == 1  # only the refused one reached the API


async def test_an_api_that_fails_gives_an_internal_error_and_the_client_stays(
        server: ConsoleServer, api: FakeApi) -> None:
    async def broken(user: Any, action: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    api.act = broken  # type: ignore[method-assign]
    token = await session_token(server.port)
    async with client(server, token) as ws:
        await recv(ws)
        reply = await act(ws, 1, name="agent_login", agent="1001")
        assert reply["code"] == "internal"
        api.emit({"history": []})
        assert (await recv(ws))["type"] == "delta"


@pytest.mark.parametrize("cookie", [None, "A" * 43, "not-a-token"])
async def test_no_session_no_websocket(server: ConsoleServer, cookie: str | None) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with client(server, cookie):
            pass
    assert info.value.response.status_code == 401
    assert server.clients == 0


async def test_an_expired_session_cannot_open_a_websocket(server: ConsoleServer,
                                                          clock: FakeClock) -> None:
    token = await session_token(server.port)
    clock.now += 3600
    with pytest.raises(InvalidStatus) as info:
        async with client(server, token):
            pass
    assert info.value.response.status_code == 401


async def test_another_site_cannot_open_the_websocket(server: ConsoleServer) -> None:
    token = await session_token(server.port)
    with pytest.raises(InvalidStatus) as info:
        async with client(server, token, headers={"Origin": "http://evil.example"}):
            pass
    assert info.value.response.status_code == 403
    async with client(server, token,
                      headers={"Origin": f"http://127.0.0.1:{server.port}"}) as ws:
        assert (await recv(ws))["type"] == "snapshot"


async def test_logout_closes_the_sessions_websockets(server: ConsoleServer) -> None:
    token = await session_token(server.port)
    other = await session_token(server.port)
    async with client(server, token) as ws, client(server, other) as stays:
        await recv(ws)
        await recv(stays)
        await get(server.port, "/logout", token)
        with pytest.raises(ConnectionClosed):
            while True:
                await recv(ws)
        assert ws.close_code == 1008 and ws.close_reason == "logged out"
        assert stays.close_code is None


async def test_a_session_that_expired_while_connected_cannot_act(
        server: ConsoleServer, api: FakeApi, clock: FakeClock) -> None:
    token = await session_token(server.port)
    async with client(server, token) as ws:
        await recv(ws)
        clock.now += 3600
        reply = await act(ws, 5, name="agent_login", agent="1001")
        assert reply["code"] == "session_expired"
        with pytest.raises(ConnectionClosed):
            await recv(ws)
        assert ws.close_code == 1008
    assert api.actions == []


async def test_the_connection_ends_when_the_session_does(api: FakeApi) -> None:
    from tests.console.helpers import users

    console = ConsoleServer("127.0.0.1", 0, users(), api, session_ttl=0.5)
    await console.start()
    try:
        token = await session_token(console.port)
        async with client(console, token) as ws:
            await recv(ws)
            with pytest.raises(ConnectionClosed):
                await recv(ws)
            assert ws.close_code == 1008 and ws.close_reason == "session expired"
    finally:
        await console.stop()


async def test_stop_closes_clients_and_unsubscribes(api: FakeApi) -> None:
    from tests.console.helpers import users

    console = ConsoleServer("127.0.0.1", 0, users(), api)
    await console.start()
    assert len(api.callbacks) == 1
    token = await session_token(console.port)
    async with client(console, token) as ws:
        await recv(ws)
        await asyncio.wait_for(console.stop(), 5)
        with pytest.raises(ConnectionClosed):
            await recv(ws)
        assert ws.close_code == 1001
    assert api.callbacks == [] and console.clients == 0


async def test_a_client_that_does_not_read_never_blocks_the_engine(
        server: ConsoleServer, api: FakeApi) -> None:
    """The slow client's socket fills up; the engine's callbacks keep returning at
    once, a reading client keeps up, and the slow one gets coalesced updates:
    far fewer messages than deltas, ending on the latest."""
    token = await session_token(server.port)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    pad = "x" * 100_000  # no compression below: every update is 100 kB on the wire
    deltas = 200
    async with client(server, token, sock=sock, max_queue=1, compression=None) as slow, \
            client(server, token, compression=None) as fast:
        await recv(slow)
        await recv(fast)
        worst = 0.0
        for n in range(deltas):
            started = time.perf_counter()
            api.emit({"agents": [{"user": "1001", "n": n, "pad": pad}]})
            worst = max(worst, time.perf_counter() - started)
            await asyncio.sleep(0)  # the senders run between the engine's updates
        assert worst < 0.05  # the callback only records the value (microseconds)
        last = -1
        while last != deltas - 1:  # the reading client reaches the latest value
            last = (await recv(fast))["data"]["agents"][0]["n"]
        seen = []
        while not seen or seen[-1] != deltas - 1:  # now the slow one reads
            seen.append((await recv(slow))["data"]["agents"][0]["n"])
    assert seen == sorted(seen)
    assert len(seen) < deltas // 2, len(seen)


async def test_a_message_over_the_limit_closes_the_connection(server: ConsoleServer,
                                                              api: FakeApi) -> None:
    token = await session_token(server.port)
    async with client(server, token, max_size=None) as ws:
        await recv(ws)
        await ws.send("x" * (64 * 1024 + 1))
        with pytest.raises(ConnectionClosed):
            while True:
                await recv(ws)
        assert ws.close_code == 1009  # message too big (RFC 6455 §7.4.1)
    assert api.actions == []
