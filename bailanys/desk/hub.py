"""The operators' websocket connections, by agent: who gets which push.

An operator may have the desktop open in several tabs (each is a client of
its agent); a supervisor watching an operator's desktop (``?agent=``, read
only) is a client of that agent too. :meth:`DeskHub.push` hands a message to
every client of one agent; it runs on the event path (the event log's
subscriber), so it never awaits and costs O(clients of that agent).

Each client's outbox is bounded (:data:`MAX_OUTBOX`): a browser that stops
reading gets at most that many messages queued, then its connection is
ended (1013, try again later) instead of the engine holding a backlog; the
page reconnects and gets the state afresh (``hello`` + ``state``). The
sender task of each connection (``desk/web.py``) waits on :attr:`DeskClient.wake`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterator
from typing import Final

from websockets.frames import CloseCode

from bailanys.console.protocol import Message

log = logging.getLogger(__name__)

#: Messages one client may have unsent: a call's pushes are a pop and a few
#: phases and states, so 64 is many calls' worth for a page that stalls.
MAX_OUTBOX: Final = 64


class DeskClient:
    """One websocket of one agent's desktop: its outbox and its wake-up."""

    def __init__(self, agent: str, *, viewer: str, read_only: bool, token: str = "",
                 max_outbox: int = MAX_OUTBOX) -> None:
        self.agent = agent
        self.viewer = viewer  # the login that opened it (the agent, or a supervisor)
        self.read_only = read_only
        self.token = token  # the session's, so a logout closes it
        self.max_outbox = max_outbox
        self._outbox: deque[Message] = deque()
        self.wake = asyncio.Event()
        self.close_reason: str | None = None
        self.close_code: int = CloseCode.POLICY_VIOLATION

    def __len__(self) -> int:
        return len(self._outbox)

    def push(self, message: Message) -> bool:
        """Queue ``message``; False (and the client ended) when the outbox is full."""
        if self.close_reason is not None:
            return False
        if len(self._outbox) >= self.max_outbox:
            log.warning("desk: %s's client (%s) reads too slowly: disconnected", self.agent,
                        self.viewer)
            self.end("too slow", CloseCode.TRY_AGAIN_LATER)
            return False
        self._outbox.append(message)
        self.wake.set()
        return True

    def take(self) -> list[Message]:
        """Everything queued, oldest first; the outbox is then empty."""
        out = list(self._outbox)
        self._outbox.clear()
        return out

    def end(self, reason: str, code: int = CloseCode.POLICY_VIOLATION) -> None:
        """Have the sender close the connection with ``code`` and ``reason``."""
        if self.close_reason is None:
            self.close_reason, self.close_code = reason, code
        self.wake.set()


class DeskHub:
    """The desktops' clients by agent."""

    def __init__(self) -> None:
        self._by_agent: dict[str, set[DeskClient]] = {}

    def __len__(self) -> int:
        return sum(len(c) for c in self._by_agent.values())

    def add(self, client: DeskClient) -> None:
        self._by_agent.setdefault(client.agent, set()).add(client)

    def remove(self, client: DeskClient) -> None:
        clients = self._by_agent.get(client.agent)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self._by_agent[client.agent]

    def clients(self, agent: str) -> Iterator[DeskClient]:
        yield from tuple(self._by_agent.get(agent, ()))

    def watched(self, agent: str) -> bool:
        """Whether any desktop of ``agent`` is open (pops are built only then)."""
        return agent in self._by_agent

    def push(self, agent: str, message: Message, *, read_only: bool | None = None) -> int:
        """``message`` to every client of ``agent`` (``read_only`` given: only
        the watching ones, or only the operator's own); how many took it.
        Never awaits."""
        return sum(client.push(message) for client in self.clients(agent)
                   if read_only is None or client.read_only is read_only)

    def end_session(self, token: str, reason: str = "logged out") -> None:
        """Close the clients of a session that ended (logout)."""
        for clients in self._by_agent.values():
            for client in clients:
                if client.token == token:
                    client.end(reason)

    def end_all(self, reason: str, code: int = CloseCode.GOING_AWAY) -> list[DeskClient]:
        """Close every client (the engine stops); returns them."""
        every = [c for clients in self._by_agent.values() for c in clients]
        for client in every:
            client.end(reason, code)
        return every
