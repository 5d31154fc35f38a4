"""One caller held by the queue service, and its holding loop's inbox messages.

Shared by :mod:`bailanys.engine.queues` (holding, ringing, bridging) and
:mod:`bailanys.engine.queuetransfers` (its transfer hooks, issue 19).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bailanys.engine.causes import Cause
from bailanys.engine.ports import CallLeg, OutboundLeg
from bailanys.events import EventBase

#: The holding loop's inbox message when the agent hung up first.
AGENT_LEFT = "agent_left"


@dataclass(eq=False)
class Waiter:
    """One caller held by the queue service (``key``: the caller's id in the queue)."""

    key: str
    call: CallLeg
    queue: str
    languages: tuple[str, ...]
    inbox: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    state: str = "waiting"  # waiting -> ringing-agent -> bridged -> done
    agent_call: OutboundLeg | None = None
    agent: str | None = None
    recorded: bool = False  # the queue records this bridge (stopped when it ends)
    callback_offered: bool = False
    #: Who ended the agent's leg, when it ended first (the caller's leg then ends with it).
    agent_cause: Cause | None = None
    #: A transfer's leg (issue 19): the number rung or talking, or the attended consultation.
    other: OutboundLeg | None = None
    #: The task ringing a blind transfer's number (cancelled when the caller leaves).
    ringing: asyncio.Task[None] | None = None
    #: call.transferred of an attended transfer, emitted when it completes.
    transferred: EventBase | None = None
    bridges: int = 0  # agents this caller was bridged to (a transfer makes it 2)


@dataclass(frozen=True)
class Requeue:
    """Inbox: the caller waits in ``queue`` again (a blind transfer, issue 19)."""

    queue: str


@dataclass(frozen=True)
class HandOver:
    """Inbox: the caller talks to ``leg`` (a transfer's number) until either hangs up."""

    leg: OutboundLeg


#: Starts a transfer's outbound leg (the INVITE sent; :meth:`Dialer.ring` rings it).
StartLeg = Callable[[], Coroutine[Any, Any, OutboundLeg]]

#: Waiter states in which the caller hears music without an agent (a transfer
#: ringing its number, or the caller held while the operator consults).
MUSIC_STATES = frozenset({"waiting", "transfer-ringing", "held"})
