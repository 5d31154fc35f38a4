"""Transfers (issue 19): the engine's adapter between the operator (desktop or
phone) and the queue service's transfer hooks.

``Transfers.transfer(call_id, agent, target, mode)``:

* ``blind``: the caller's bridge with the agent ends, the agent wraps up as
  after a call, the agent's leg is hung up (BYE); the caller waits in the
  target queue (its language kept), or hears music while the target number
  rings: answered, they talk; not answered, the caller is back in its own
  queue, never dropped;
* ``attended``: the caller is held (music), the agent's leg is bridged to
  the target number's new leg; ``complete`` hands the caller over to it and
  releases the agent (the agent hanging up while consulting does the same,
  as on a PBX); ``cancel`` brings the agent back to the caller. Attended
  transfer is to numbers only: a queue has no one to consult until one of
  its agents is rung for the caller (blind does that);
* each transfer emits ``call.transferred`` (the 1414 FCR definition excludes
  transferred contacts, docs/kpi.md).

A REFER from the operator's phone (RFC 3515) comes through :mod:`bailanys.engine.refer`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bailanys.engine.ports import EventSink, OutboundLeg
from bailanys.engine.queues import QueueService
from bailanys.engine.waiter import StartLeg
from bailanys.errors import SipParseError
from bailanys.events import CallTransferred
from bailanys.queue.agents import QueueError
from bailanys.sip.headers import SipUri, split_hostport
from bailanys.tasks import TaskSet
from bailanys.transfers.settings import NUMBER, QUEUE, TransfersConfig
from bailanys.transfers.targets import (
    ATTENDED,
    BLIND,
    CANCEL,
    COMPLETE,
    MODES,
    Target,
    TransferError,
    TransferTargets,
)

__all__ = ["TransferError", "Transfers"]

log = logging.getLogger(__name__)

#: How long a transfer's number rings before the caller goes back to its
#: queue: the dialer's own ring for a phone (about six rings of 5 s).
DEFAULT_TRANSFER_RING_S = 30.0


class NumberDialer(Protocol):
    """Places a leg to a SIP URI (:meth:`~bailanys.engine.dialer.Dialer.start_call_back`)."""

    async def start_call_back(
        self, contact: str, source: tuple[str, int], transport: str
    ) -> OutboundLeg: ...


class Transfers:
    """Blind and attended transfers of queue callers to ``[transfers]`` targets."""

    def __init__(self, *, config: TransfersConfig, queues: QueueService, dialer: NumberDialer,
                 events: EventSink, ring_s: float = DEFAULT_TRANSFER_RING_S) -> None:
        self._targets = TransferTargets(config)
        self._queues = queues
        self._dialer = dialer
        self._events = events
        self.ring_s = ring_s
        self._tasks = TaskSet()

    @property
    def table(self) -> TransferTargets:
        return self._targets

    def targets(self) -> list[dict[str, str]]:
        """``[{"name", "kind": queue|number, "kk", "ru"}]`` for the desktop."""
        return [t.as_dict() for t in self._targets.all()]

    async def transfer(self, call_id: str, agent: str, target: str, mode: str,
                       via: str = "desktop") -> None:
        """Transfer ``call_id`` (talking to ``agent``) to ``target`` (a name);
        :class:`TransferError` with a message for the operator when refused."""
        if mode not in MODES:
            raise TransferError(f"unknown transfer mode {mode!r} (expected {', '.join(MODES)})")
        view = self._queues.transferable(call_id)
        if view is None or view[1] != agent:
            raise TransferError(f"call {call_id[:8]} is not talking to {agent}")
        queue = view[0]
        try:
            if mode == COMPLETE:
                self._hang_up(self._queues.complete(call_id))
                return
            if mode == CANCEL:
                await self._queues.cancel_consult(call_id)
                return
        except QueueError as exc:
            raise TransferError(str(exc)) from None
        t = self._targets.get(target)
        event = CallTransferred(call_id=call_id, queue=queue, agent=agent, mode=mode,
                                target=t.name, target_kind=t.kind, via=via)
        if mode == ATTENDED:
            if t.kind != NUMBER:
                raise TransferError(f"{t.name}: attended transfer goes to a number; "
                                    "transfer to a queue blind")
            try:
                answered = await self._queues.consult(call_id, self._starter(t), self.ring_s,
                                                      event)
            except QueueError as exc:
                raise TransferError(str(exc)) from None
            if not answered:
                raise TransferError(f"{t.name} did not answer; you are back with the caller")
            return
        self._blind(call_id, t, event)

    def blind_now(self, call_id: str, target: Target, via: str,
                  before_bye: Callable[[], Awaitable[None]] | None = None) -> None:
        """A blind transfer already checked (a REFER): ``before_bye`` (the final
        NOTIFY) runs before the agent's leg gets its BYE."""
        view = self._queues.transferable(call_id)
        if view is None:
            raise TransferError(f"call {call_id[:8]} is not talking to an agent")
        event = CallTransferred(call_id=call_id, queue=view[0], agent=view[1], mode=BLIND,
                                target=target.name, target_kind=target.kind, via=via)
        self._blind(call_id, target, event, before_bye)

    def check(self, target: Target) -> None:
        """A queue target must name a queue of the queues file."""
        if target.kind == QUEUE and self._queues.queue_state(target.value) is None:
            raise TransferError(f"{target.name}: no queue {target.value!r}")

    def _blind(self, call_id: str, t: Target, event: CallTransferred,
               before_bye: Callable[[], Awaitable[None]] | None = None) -> None:
        self.check(t)
        try:
            if t.kind == QUEUE:
                agent_leg = self._queues.blind_to_queue(call_id, t.value)
            else:
                agent_leg = self._queues.blind_to_number(call_id, self._starter(t), self.ring_s)
        except QueueError as exc:
            raise TransferError(str(exc)) from None
        self._events.emit(event)
        log.info("call %s: %s transfer to %s by %s (%s)", call_id[:8], event.mode, t.name,
                 event.agent, event.via)
        self._hang_up(agent_leg, before_bye)

    def _hang_up(self, leg: OutboundLeg,
                 before: Callable[[], Awaitable[None]] | None = None) -> None:
        async def bye() -> None:
            if before is not None:
                await before()
            await leg.hangup("transferred")

        self._tasks.spawn(bye(), name="transfer-bye")

    async def stop(self) -> None:
        await self._tasks.cancel_all()

    def _starter(self, t: Target) -> StartLeg:
        async def start() -> OutboundLeg:
            dest = await _destination(t.value)
            return await self._dialer.start_call_back(t.value, dest, "UDP")

        return start


async def _destination(uri_text: str) -> tuple[str, int]:
    """Where a number's INVITE goes: the URI's host and port (a host name is
    resolved off the event loop, RFC 3263's A-record step only)."""
    try:
        uri = SipUri.parse(uri_text)
        host, _ = split_hostport(uri.host)
    except SipParseError as exc:
        raise LookupError(f"bad transfer URI {uri_text!r}: {exc}") from None
    host = host.strip("[]")
    port = uri.port or 5060
    try:
        ipaddress.ip_address(host)
        return host, port
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    if not infos:
        raise LookupError(f"{host}: no address")
    return str(infos[0][4][0]), port
