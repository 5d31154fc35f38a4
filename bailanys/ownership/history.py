"""A queue group's recent history read from the shared event log (the router's
:class:`~bailanys.ownership.route.History`).

A take-over must read what it needs in well under a second, not a whole
afternoon of events. So it reads in two steps, in SQL both backends speak
(``?`` placeholders, no JSON function: the store's ``fetchall`` on SQLite
or PostgreSQL):

1. the calls that joined a queue since ``since`` and have no
   ``queue.abandoned`` nor ``call.completed`` since then (the index on
   ``(type, ts)``): the callers possibly still waiting, talking, timed out,
   or waiting for a callback;
2. every event of those calls (the index on ``call_id``), in batches,
   with the engine that wrote each (``events.engine``, migration 9).

The queue of each join is in the event's JSON: calls of other groups come
back too, and :func:`~bailanys.ownership.rebuild.rebuild` leaves them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bailanys.store.events import Event, load_data

#: Call ids per query of their events (SQLite's default limit on host
#: parameters is 999 before 3.32; far under it).
BATCH = 500

OPEN_CALLS_SQL = """
SELECT call_id FROM events WHERE type = 'queue.joined' AND ts >= ? AND call_id IS NOT NULL
EXCEPT
SELECT call_id FROM events WHERE type IN ('queue.abandoned', 'call.completed') AND ts >= ?
"""


class Rows(Protocol):
    """A store database's read (``store/db.py`` ``Database.fetchall``)."""

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...


class StoreHistory:
    """:class:`~bailanys.ownership.route.History` over the event log's table."""

    def __init__(self, db: Rows, batch: int = BATCH) -> None:
        self._db = db
        self._batch = batch

    async def recent(self, queues: tuple[str, ...], since: float) -> list[Event]:
        rows = await self._db.fetchall(OPEN_CALLS_SQL, (since, since))
        calls = sorted(str(r[0]) for r in rows)
        out: list[Event] = []
        for start in range(0, len(calls), self._batch):
            chunk = calls[start:start + self._batch]
            marks = ", ".join("?" * len(chunk))
            rows = await self._db.fetchall(
                "SELECT id, ts, type, call_id, data, engine FROM events "
                f"WHERE call_id IN ({marks}) ORDER BY id", chunk)
            out += [Event(int(r[0]), float(r[1]), str(r[2]), r[3], _data(int(r[0]), r[4]),
                          r[5]) for r in rows]
        return out


def _data(row_id: int, value: Any) -> Mapping[str, Any]:
    """The row's fields: JSON text (SQLite), or already a mapping (a jsonb column)."""
    if isinstance(value, Mapping):
        return value
    data = load_data(row_id, value)
    return data if isinstance(data, Mapping) else {}
