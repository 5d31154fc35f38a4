"""Calling out: registrar lookup, the INVITE, and ringing with a timeout, written once.

:class:`Dialer` is what the queues (ringing an operator, calling a caller
back) and the engine's own ``call_user`` use to place a call leg
(:mod:`bailanys.engine.uac`, RFC 3261 §13.2).  :meth:`Dialer.ring` waits for
the answer at most ``timeout_s``; a phone still ringing then is sent a
CANCEL (§9.1) and its leg ends with reason ``no_answer``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from bailanys.engine.call import CallPorts
from bailanys.engine.ports import OutboundLeg
from bailanys.engine.registrar import Binding
from bailanys.engine.uac import OutboundCall, UacSettings, start_call

DEFAULT_RING_S = 30.0  # how long call_user rings a phone; about six rings of 5 s


class Bindings(Protocol):
    """Registered contacts by user (:class:`~bailanys.engine.registrar.Registrar`)."""

    def lookup(self, user: str, now: float) -> list[Binding]: ...


class Dialer:
    """Places outbound call legs to registered phones and contacts."""

    def __init__(
        self,
        *,
        ports: CallPorts,
        settings: UacSettings,
        bindings: Bindings,
        max_call_s: float,
        clock: Callable[[], float] = time.time,
        outbound: tuple[str, int] | None = None,
    ) -> None:
        self._ports = ports
        #: ``[cluster] proxy``: callbacks and transfers out go through it (issue 22).
        self._outbound = outbound
        self._settings = settings
        self._bindings = bindings
        self._max_call_s = max_call_s
        self._clock = clock

    def registered(self, user: str) -> bool:
        """Whether ``user`` has a registered phone now."""
        return bool(self._bindings.lookup(user, self._clock()))

    async def start_call(self, binding: Binding) -> OutboundCall:
        """INVITE one contact and return at once (``leg.result`` says how it went)."""
        return await start_call(self._ports, self._settings, binding)

    async def start_call_back(
        self, contact: str, source: tuple[str, int], transport: str
    ) -> OutboundCall:
        """INVITE a caller's own contact (a queue callback), from where it called us;
        or a transfer's number; through the outbound proxy when there is one."""
        if self._outbound is not None:
            source, transport = self._outbound, "UDP"
        return await self.start_call(Binding("callback", contact, 0.0, source, transport, ""))

    async def start_call_user(self, user: str) -> OutboundCall:
        """INVITE ``user``'s registered phone and return at once.

        Raises :class:`LookupError` when ``user`` is not registered.
        """
        bindings = self._bindings.lookup(user, self._clock())
        if not bindings:
            raise LookupError(f"{user} is not registered")
        return await self.start_call(bindings[0])

    async def ring(self, leg: OutboundLeg, timeout_s: float) -> bool:
        """True when ``leg`` is answered within ``timeout_s``; else CANCEL it and False.

        A leg refused or failed before the timeout is False too (it has
        ended itself).  A leg not answered in time is CANCELled (RFC 3261
        §9.1) and ended with reason ``no_answer``.
        """
        return await ring(leg, timeout_s)

    async def call_user(self, user: str, *, ring_s: float = DEFAULT_RING_S) -> OutboundCall:
        """Call ``user``'s phone and return the leg once answered, refused or timed out.

        An answered leg is limited to the longest call allowed
        (``engine.max_call_seconds``).  Raises :class:`LookupError` when
        ``user`` is not registered.
        """
        leg = await self.start_call_user(user)
        if await self.ring(leg, ring_s):
            leg.limit_duration(self._max_call_s)
        return leg


async def ring(leg: OutboundLeg, timeout_s: float) -> bool:
    """The one ring-with-timeout-then-CANCEL (:meth:`Dialer.ring`)."""
    try:
        await asyncio.wait_for(asyncio.shield(leg.result), timeout_s)
    except TimeoutError:
        leg.cancel()
        await leg.end("no_answer")
    return leg.result.done() and leg.result.result()
