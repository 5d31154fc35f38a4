"""Events of the engine itself, its console and its authentication guard.

None belongs to a call (``call_id`` is None). Authentication events never
hold a password; an unknown account is written ``?`` (``authguard.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, optional, register


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthFailed(EventBase):
    """A wrong password on ``kind`` (``sip`` REGISTER digest, RFC 3261 §22;
    ``console`` login) for ``account`` (``?``: no such account, ``known``
    false) from ``source`` (an address, or a /64 for IPv6). Throttled per
    type: ``suppressed`` counts the events held back since the last one."""

    type: ClassVar[str] = "auth.failed"
    writer: ClassVar[str] = "authguard.py"

    kind: str
    account: str
    known: bool
    source: str
    suppressed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthBlocked(EventBase):
    """A ban started on ``kind`` for ``scope`` ``source`` or ``account``
    until ``until`` (epoch s), ``ban_s`` long, the ``strikes``-th in a row
    (bans double). ``suppressed``: as in ``auth.failed``."""

    type: ClassVar[str] = "auth.blocked"
    writer: ClassVar[str] = "authguard.py"

    kind: str
    scope: str
    source: str | None = optional()
    account: str | None = optional()
    until: float
    ban_s: float
    strikes: int
    suppressed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleAction(EventBase):
    """Supervisor ``user`` did ``action`` (agent_login, agent_pause,
    disposition...) for ``agent`` on the console."""

    type: ClassVar[str] = "console.action"
    writer: ClassVar[str] = "engine/console.py"

    user: str
    action: str
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineStopped(EventBase):
    """The engine stopped cleanly (its last event; none before a restart
    means it crashed, ``engine/reconcile.py``)."""

    type: ClassVar[str] = "engine.stopped"
    writer: ClassVar[str] = "engine/core.py"


CLASSES = (AuthFailed, AuthBlocked, ConsoleAction, EngineStopped)
register(*CLASSES)
