"""Simulated operators' desktops for ``bench/desk_pop.py``: websocket clients of ``/desk/ws``.

Each desktop logs in as its operator the way the browser does (``POST
/login`` with the urlencoded form, same Origin; the session cookie comes back
in ``Set-Cookie``), then holds the websocket ``/desk/ws`` open with that
cookie (desk/PROTOCOL.md; contracts: hello, state, pop, call pushes). It
keeps every ``{"type": "pop"}`` with the monotonic time read as soon as the
frame is received, before its JSON is parsed, and the calls that reached
the phase ``connected`` on this desktop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

#: Seconds one login or websocket handshake may take before it counts as failed.
CONNECT_TIMEOUT_S = 30.0


async def login(host: str, port: int, user: str, password: str) -> str | None:
    """``name=value`` of the session cookie, or None when the login was refused."""
    body = urllib.parse.urlencode({"user": user, "password": password}).encode()
    head = (f"POST /login HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Origin: http://{host}:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head + body)
        await writer.drain()
        raw = await reader.read(-1)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return session_cookie(raw)


def session_cookie(raw: bytes) -> str | None:
    """The first ``Set-Cookie``'s ``name=value`` of an HTTP response with a non-empty value."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "set-cookie":
            pair = value.strip().split(";", 1)[0]
            if pair.partition("=")[2]:
                return pair
    return None


@dataclass
class Desktop:
    """One operator's page, reduced to its websocket."""

    agent: str
    cookie: str
    hello: dict[str, Any] | None = None
    pushes: dict[str, int] = field(default_factory=dict)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None
    #: (the pop's call_id, arrival) of each pop; pops with no caller's number
    pops: list[tuple[str, float]] = field(default_factory=list)
    without_caller: int = 0
    connected_calls: set[str] = field(default_factory=set)

    async def run(self, host: str, port: int, stop: asyncio.Event) -> None:
        """Hold ``/desk/ws`` open until ``stop``; every push is counted by type."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        origin = f"http://{host}:{port}"
        try:
            async with connect(f"ws://{host}:{port}/desk/ws", open_timeout=CONNECT_TIMEOUT_S,
                               additional_headers={"Cookie": self.cookie, "Origin": origin},
                               max_size=2**22) as ws:
                self.connected.set()
                closer = asyncio.create_task(_close_on(stop, ws))
                try:
                    async for raw in ws:
                        self._on_frame(raw, time.monotonic())
                finally:
                    closer.cancel()
        except (OSError, TimeoutError, WebSocketException) as exc:
            body = getattr(getattr(exc, "response", None), "body", None) or b""
            self.error = f"{type(exc).__name__}: {exc} {body[:200]!r}"
        finally:
            self.connected.set()  # a failed desktop does not hold the start-up

    def _on_frame(self, raw: str | bytes, now: float) -> None:
        msg = json.loads(raw)
        kind = str(msg.get("type"))
        self.pushes[kind] = self.pushes.get(kind, 0) + 1
        if kind == "hello":
            self.hello = msg
        elif kind == "pop" and isinstance(msg.get("pop"), dict):
            pop = msg["pop"]
            self.pops.append((str(pop.get("call_id")), now))
            caller = pop.get("caller")
            if not (isinstance(caller, dict) and caller.get("number")):
                self.without_caller += 1  # the page would have no caller to show
        elif kind == "call" and msg.get("phase") == "connected":
            self.connected_calls.add(str(msg.get("call_id")))


async def _close_on(stop: asyncio.Event, ws: Any) -> None:
    await stop.wait()
    await ws.close()
