"""Events other connections write straight into the store, for the KPI fold.

The analytics workers write ``qa.scored`` in the transaction that stores a
call's score, and the reviewers' page writes ``qa.reviewed`` on its own
connection (``store.events.INSERT_EVENT``): neither goes through the
engine's event log, so its listeners never see them. KPI 2 (Appendix 1
item 2, docs/kpi.md) needs them live: :class:`StoredTail` polls the store
for new rows of those types and hands them over in id order.

SQLite serialises writers, so each type's ids grow in commit order: a poll
asks per type for the rows stamped since the latest ``ts`` it saw (less
``slack_s``, the index ``events_type_ts``) and keeps those past the type's
last id. Nothing is read twice, nothing committed later is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol

from bailanys.store.events import Event

#: The types written into the store by other connections (the QA slices).
FOREIGN_TYPES = ("qa.scored", "qa.reviewed")
#: How often the console looks for them: KPI 2 moves within a second or two
#: of a review (the console's deltas go out every 0.05 s after that).
POLL_S = 1.0
#: A writer stamps its event before its transaction commits (the worker
#: after scoring a call: seconds); ten minutes covers a slow commit.
SLACK_S = 600.0


class EventQuery(Protocol):
    async def query(
        self, *, call_id: str | None = None, type: str | None = None,
        since: float | None = None, until: float | None = None, limit: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> list[Event]: ...


class StoredTail:
    """New stored rows of ``types``, each once, oldest (lowest id) first."""

    def __init__(self, events: EventQuery, types: Sequence[str] = FOREIGN_TYPES,
                 slack_s: float = SLACK_S) -> None:
        self._events = events
        self.types = tuple(types)
        self.slack_s = slack_s
        self._last_id = dict.fromkeys(self.types, 0)
        self._since = -math.inf

    def mark(self, replayed: Sequence[Event], since: float) -> None:
        """Start after ``replayed`` (the events read at start-up, from ``since``)."""
        last = max((e.id for e in replayed if e.id is not None), default=0)
        self._last_id = dict.fromkeys(self.types, last)
        self._since = since

    async def poll(self) -> list[Event]:
        found: list[Event] = []
        since = self._since - self.slack_s if math.isfinite(self._since) else None
        for type_ in self.types:
            last = self._last_id[type_]
            new = [e for e in await self._events.query(type=type_, since=since)
                   if e.id is not None and e.id > last]
            if new:
                self._last_id[type_] = max(e.id for e in new if e.id is not None)
                self._since = max(self._since, max(e.ts for e in new))
            found += new
        found.sort(key=lambda e: e.id or 0)
        return found
