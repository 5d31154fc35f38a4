"""A fake :class:`~bailanys.console.api.ConsoleApi`, users and a raw HTTP client.

``FakeApi`` holds a state like the engine's, records every action and
pushes deltas to subscribers with :meth:`FakeApi.emit`. ``raw_http`` speaks
HTTP/1.1 bytes over a socket so tests see exactly what the server sends.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bailanys.console.api import ActionError
from bailanys.console.auth import COOKIE_NAME, ConsoleUser, Role, hash_password

PASSWORDS = {"aigerim": "Kezek-1414", "bolat": "talday-2", "dana": "sapa-3", "root": "admin-4"}
ROLES = {"aigerim": Role.SUPERVISOR, "bolat": Role.ANALYST, "dana": Role.QA, "root": Role.ADMIN}

METRICS = (b"# HELP bailanys_calls_waiting Calls waiting in queues.\n"
           b"# TYPE bailanys_calls_waiting gauge\n"
           b'bailanys_calls_waiting{queue="general"} 1\n')


@functools.cache
def users() -> dict[str, ConsoleUser]:
    """One user per role (hashed once per test session: scrypt takes ~35 ms)."""
    names = {"aigerim": "Әйгерім Сейітова"}
    return {login: ConsoleUser(login, ROLES[login], hash_password(pw), names.get(login, ""))
            for login, pw in PASSWORDS.items()}


def initial_state() -> dict[str, Any]:
    now = time.time()
    return {
        "queues": [{"name": "general", "agents_available": 1, "waiting": []}],
        "agents": [],
        "kpis": {  # as bailanys.metrics' Kpi.to_json()
            "service_level_pct": {"value": 86.0, "samples": 50, "status": "no_target",
                                  "limit": None, "goal": None},
            "lost_pct": {"value": 9.5, "samples": 200, "status": "warning",
                         "limit": 10.0, "goal": 5.0},
            "wait_s": {"value": 75.0, "samples": 190, "status": "breach",
                       "limit": 60.0, "goal": 40.0},
            "fcr_pct": {"value": 91.0, "samples": 120, "status": "within",
                        "limit": 80.0, "goal": 85.0},
            "satisfaction_score": {"value": None, "samples": 0, "status": "no_data",
                                   "limit": 4.25, "goal": 5.0},
        },
        "history": [{"t": now - 3570 + 60 * i, "waiting": i % 5} for i in range(60)],
    }


@dataclass
class FakeApi:
    state: dict[str, Any] = field(default_factory=initial_state)
    actions: list[tuple[ConsoleUser, dict[str, Any]]] = field(default_factory=list)
    callbacks: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    refuse: str | None = None
    metrics: bytes = METRICS

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.state)

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def emit(self, delta: dict[str, Any]) -> None:
        self.state.update(delta)
        for callback in list(self.callbacks):
            callback(delta)

    async def act(self, user: ConsoleUser, action: dict[str, Any]) -> dict[str, Any]:
        self.actions.append((user, action))
        if self.refuse:
            raise ActionError(self.refuse)
        if action["name"] == "agent_pause":  # like the engine: the change comes as a delta
            agents = [dict(a, state="break", reason=action["reason"])
                      if a["user"] == action["agent"] else a for a in self.state["agents"]]
            self.emit({"agents": agents})
        return {"done": action["name"]}

    def metrics_text(self) -> bytes:
        return self.metrics


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class HttpReply:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


async def raw_http(port: int, *chunks: bytes, pause: float = 0.0,
                   source: str | None = None) -> HttpReply:
    """Send ``chunks`` (with ``pause`` between them), read the answer until EOF.

    ``source``: the local address to connect from (any 127.x.y.z on Linux)."""
    local = (source, 0) if source else None
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
    try:
        for i, chunk in enumerate(chunks):
            if i and pause:
                await asyncio.sleep(pause)
            writer.write(chunk)
            await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    if not data:  # closed without an answer
        return HttpReply(0, {}, b"")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return HttpReply(int(lines[0].split()[1]), headers, body)


async def get(port: int, path: str, token: str | None = None, extra: str = "") -> HttpReply:
    cookie = f"Cookie: {COOKIE_NAME}={token}\r\n" if token else ""
    return await raw_http(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"{cookie}{extra}\r\n".encode())


def form_post(port: int, body: bytes, extra: str = "", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return (f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {size}\r\n{extra}\r\n").encode() + body


async def login(port: int, user: str = "aigerim", password: str | None = None,
                source: str | None = None) -> HttpReply:
    body = f"user={user}&password={password or PASSWORDS[user]}".encode()
    return await raw_http(port, form_post(port, body), source=source)


def cookie_token(reply: HttpReply) -> str:
    cookie = reply.header("set-cookie") or ""
    return cookie.split(";")[0].split("=", 1)[1]


async def session_token(port: int, user: str = "aigerim") -> str:
    reply = await login(port, user)
    assert reply.status == 303 and reply.header("location") == "/", reply
    return cookie_token(reply)
