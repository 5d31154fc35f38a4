"""What the console needs from the engine: :class:`ConsoleApi`.

The engine implements it; tests use a fake. The console learns about calls
only through it (ARCHITECTURE.md: dependency rules). Every value is plain
JSON-ready data; the shapes are in ``PROTOCOL.md``:

* :meth:`ConsoleApi.snapshot` -- the whole state, sent to a client when it
  connects (``kpis`` is ``bailanys.metrics``' ``Kpi.to_json()`` by name)::

      {"queues": [{"name", "waiting": [{"call_id", "position", "waited",
                   "language", "callback"}, ...]}, ...],
       "agents": [{"user", "name", "state", "since", "reason",
                   "current_call"}, ...],
       "kpis": {"<name>": {"value", "samples", "status", "limit", "goal"}, ...},
       "history": [{"t", "waiting"}, ...]}

* :meth:`ConsoleApi.subscribe` -- the engine calls ``callback(delta)`` with
  the top-level keys that changed (``{"agents": [...]}``), each value
  replacing the old one wholesale. The callback is called on the event loop's
  thread; it never awaits and never raises, and returns in microseconds (it
  only records the latest value per key for each client).
* :meth:`ConsoleApi.act` -- one supervisor action (validated by
  ``protocol.parse_client_message`` and allowed for the user's role before
  it gets here). Refuse with :class:`ActionError`; the message reaches the
  page.
* :meth:`ConsoleApi.metrics_text` -- the Prometheus exposition text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bailanys.console.auth import ConsoleUser
from bailanys.errors import BailanysError

#: A delta or snapshot: top-level key -> JSON-ready value.
StateDict = dict[str, Any]
DeltaCallback = Callable[[StateDict], None]
Unsubscribe = Callable[[], None]


class ActionError(BailanysError):
    """The engine refuses an action (e.g. "agent 1001 is on a call").

    ``code`` is one of the protocol's error codes (``refused`` unless said).
    """

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


class ConsoleApi(Protocol):
    def snapshot(self) -> StateDict:
        """The whole state now: ``queues``, ``agents``, ``kpis``, ``history``
        (and the engine's ``cases``, ``topics``, ``board``: PROTOCOL.md)."""
        ...

    def subscribe(self, callback: DeltaCallback) -> Unsubscribe:
        """Call ``callback(delta)`` on every change until the returned function is called."""
        ...

    async def act(self, user: ConsoleUser, action: StateDict) -> StateDict:
        """Carry out ``action`` (``{"name": "agent_pause", "agent": ..., ...}``) for
        ``user``; return a JSON-ready result (may be empty) or raise :class:`ActionError`."""
        ...

    def metrics_text(self) -> bytes:
        """Prometheus text exposition format 0.0.4."""
        ...
