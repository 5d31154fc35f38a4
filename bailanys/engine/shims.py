"""Ports built from the Engine's attributes as they are today.

The services take ports (:mod:`bailanys.engine.ports`); until the wiring
module builds them from the config, ``Engine.__init__`` builds these: an
event log looked up when first used (the engine opens its store in
``start``) and a :class:`~bailanys.engine.ports.Dialer` over the registrar
and the UAC.  :func:`ring` is the one ring-with-timeout-then-CANCEL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bailanys.engine.ports import OutboundLeg
from bailanys.engine.registrar import Binding
from bailanys.store.events import Event, EventLog


class LateEvents:
    """The engine's event log, fetched at each use (it exists once started)."""

    def __init__(self, log: Callable[[], EventLog]) -> None:
        self._log = log

    def append(self, type: str, call_id: str | None = None, **fields: Any) -> Event:
        return self._log().append(type, call_id, **fields)

    @property
    def lag(self) -> float:
        return self._log().lag

    async def query(
        self, *, call_id: str | None = None, type: str | None = None,
        since: float | None = None, until: float | None = None, limit: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> list[Event]:
        return await self._log().query(call_id=call_id, type=type, since=since, until=until,
                                       limit=limit, fields=fields)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        return self._log().subscribe(callback)


StartCall = Callable[[Binding], Awaitable[OutboundLeg]]
Lookup = Callable[[str], list[Binding]]


class EngineDialer:
    """Calls by user (registrar lookup) or by contact (a callback), over the UAC."""

    def __init__(self, *, lookup: Lookup, start_call: StartCall) -> None:
        self._lookup = lookup
        self._start_call = start_call

    def registered(self, user: str) -> bool:
        return bool(self._lookup(user))

    async def start_call_user(self, user: str) -> OutboundLeg:
        bindings = self._lookup(user)
        if not bindings:
            raise LookupError(f"{user} is not registered")
        return await self._start_call(bindings[0])

    async def start_call_back(
        self, contact: str, source: tuple[str, int], transport: str
    ) -> OutboundLeg:
        return await self._start_call(Binding("callback", contact, 0.0, source, transport, ""))

    async def ring(self, leg: OutboundLeg, timeout_s: float) -> bool:
        return await ring(leg, timeout_s)


async def ring(leg: OutboundLeg, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``leg`` to be answered; True when it was.

    Not answered in time: the INVITE is CANCELled (RFC 3261 §9.1) and the
    leg ended ("no_answer"); refused (a final non-2xx): False at once.
    """
    try:
        return await asyncio.wait_for(asyncio.shield(leg.result), timeout_s)
    except TimeoutError:
        leg.cancel()
        await leg.end("no_answer")
        return False
