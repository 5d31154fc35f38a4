"""Queries for what a crash may have left open (read by :mod:`bailanys.engine.recovery`).

The event log may hold years of calls: these read only what can still be
open, through the indexes of ``migrations.py`` (``events_type_ts`` for the
candidates, ``events_call_id`` for their events and the ``NOT EXISTS``):

* :func:`last_event_ts`: when the engine was last known alive;
* :func:`open_call_ids`: calls opened (``call.offered`` / ``call.originated``)
  since ``since`` with no ``call.ended``, and calls that asked for a
  callback since then (the callback may never have been placed);
* :func:`events_of`: every event of those calls;
* :func:`last_agent_states`: each agent's last ``agent.state``, optionally
  skipping the ones with given reasons (the engine's own).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from bailanys.store.backend import StoreDatabase
from bailanys.store.events import Event, load_data

#: Calls opened since ``?`` with no ``call.ended``, then calls that asked for a
#: callback since ``?``. "+e.type" makes SQLite look each call up by its
#: call_id, never scan every ``call.ended`` of the store.
OPEN_CALLS_SQL = (
    "SELECT o.call_id FROM events o"
    " WHERE o.type IN ('call.offered', 'call.originated') AND o.ts >= ?"
    " AND o.call_id IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM events e"
    "                 WHERE e.call_id = o.call_id AND +e.type = 'call.ended')"
    " UNION ALL"
    " SELECT call_id FROM events"
    " WHERE type = 'queue.callback_requested' AND ts >= ? AND call_id IS NOT NULL"
)

#: The same on PostgreSQL, which has no unary ``+`` on text (its planner
#: needs no such hint).
OPEN_CALLS_SQL_PG = OPEN_CALLS_SQL.replace("+e.type", "e.type")

#: SQLite's default limit on host parameters is 999 (32766 since 3.32): stay under.
_CHUNK = 500


def _event(r: Sequence[Any]) -> Event:
    """One stored row; damaged data (not JSON, or not an object) reads as {}, so
    one bad row cannot stop the engine's start-up recovery."""
    data = load_data(int(r[0]), r[4])
    return Event(int(r[0]), float(r[1]), str(r[2]), r[3], data if isinstance(data, dict) else {})


async def last_event_ts(db: StoreDatabase) -> float | None:
    """The time of the last stored event (None: an empty store)."""
    rows = await db.fetchall("SELECT ts FROM events ORDER BY id DESC LIMIT 1")
    return float(rows[0][0]) if rows else None


async def open_call_ids(db: StoreDatabase, since: float) -> list[str]:
    """Calls opened since ``since`` that never ended, and calls that asked
    for a callback since then; in order of first appearance."""
    sql = OPEN_CALLS_SQL_PG if db.dialect == "postgresql" else OPEN_CALLS_SQL
    rows = await db.fetchall(sql, (since, since))
    return list(dict.fromkeys(str(r[0]) for r in rows))


async def events_of(db: StoreDatabase, call_ids: Iterable[str]) -> dict[str, list[Event]]:
    """Every stored event of each call in ``call_ids``, oldest first."""
    ids = list(dict.fromkeys(call_ids))
    out: dict[str, list[Event]] = {i: [] for i in ids}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = await db.fetchall(
            "SELECT id, ts, type, call_id, data FROM events"
            f" WHERE call_id IN ({marks}) ORDER BY id", chunk,
        )
        for r in rows:
            out[str(r[3])].append(_event(r))
    return out


async def last_agent_states(
    db: StoreDatabase, since: float, skip_reasons: Collection[str] = ()
) -> dict[str, Event]:
    """Each agent's last ``agent.state`` since ``since`` (one pass over that
    window), ignoring those whose reason is in ``skip_reasons``."""
    params: list[Any] = [since]
    if db.dialect == "postgresql":  # ``data`` is json: never damaged there
        where = "type = 'agent.state' AND ts >= ?"
        reason, agent = "data ->> 'reason'", "data ->> 'agent'"
    else:
        # A damaged row (data not JSON: no agent to name) is skipped, never a failed query.
        where = "type = 'agent.state' AND ts >= ? AND json_valid(data)"
        reason = "CASE WHEN json_valid(data) THEN json_extract(data, '$.reason') END"
        agent = "json_extract(data, '$.agent')"
    if skip_reasons:
        marks = ", ".join("?" * len(skip_reasons))
        where += f" AND coalesce({reason}, '') NOT IN ({marks})"
        params += list(skip_reasons)
    rows = await db.fetchall(
        "SELECT e.id, e.ts, e.type, e.call_id, e.data FROM events e JOIN"
        f" (SELECT max(id) AS id FROM events WHERE {where}"
        f"   GROUP BY {agent}) m ON e.id = m.id ORDER BY e.id", params,
    )
    out: dict[str, Event] = {}
    for r in rows:
        event = _event(r)
        user = event.data.get("agent")
        if isinstance(user, str) and user:
            out[user] = event
    return out
