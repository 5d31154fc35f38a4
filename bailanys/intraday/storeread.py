"""The intraday figures from the store's event log: blocking, run in worker threads.

:class:`StoreIntraday` opens the store read-only (the SQLite file with
``mode=ro``, ``query_only``; or PostgreSQL, ``store.syncdb``) for each
call, in the thread it runs in, and closes it. It
reads the events it needs by type and time (the ``events_type_ts`` index)
and hands them to the pure cores (``buckets.py``, ``agentday.py``). The
events the engine has not written yet (its writer commits every 50 ms) are
the only ones it misses; "now" is the caller's clock.

An agent's state at the start of a period is its last ``agent.state`` in
the :data:`LOOKBACK_S` before it (older: logged out).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence, Set
from contextlib import closing
from pathlib import Path
from typing import Any, Final

from bailanys.intraday.agentday import TYPES as AGENT_TYPES
from bailanys.intraday.agentday import AgentPeriod, fold_agent
from bailanys.intraday.buckets import DaySeries, QueueFact, StateChange, bucket_day, day_bounds
from bailanys.store.events import Event
from bailanys.store.syncdb import (
    SyncConnection,
    connect_sync,
    decode_value,
    dialect_of,
    json_text,
    json_value,
)

#: How far back an agent's state at a period's start is looked for.
LOOKBACK_S: Final = 7 * 86400
BUSY_TIMEOUT_S: Final = 5.0
_FACT_TYPES: Final = ("queue.joined", "call.connected", "queue.abandoned")


def connect_ro(db_path: Path | str) -> SyncConnection:
    """The store (a file or a ``postgresql://`` URL), read-only."""
    conn = connect_sync(db_path, readonly=True, timeout=BUSY_TIMEOUT_S)
    if dialect_of(conn) == "sqlite":
        conn.execute("PRAGMA query_only = ON")
    return conn


def _events(conn: SyncConnection, types: Sequence[str], since: float, until: float,
            extra: str = "", params: Sequence[Any] = ()) -> list[Event]:
    """The events of ``types`` in [since, until), in the log's order."""
    rows: list[tuple[int, float, str, str | None, str]] = []
    for kind in types:
        rows += conn.execute(
            "SELECT id, ts, type, call_id, data FROM events "
            f"WHERE type = ? AND ts >= ? AND ts < ? {extra}",
            (kind, since, until, *params)).fetchall()
    rows.sort()
    return [Event(i, ts, kind, call_id, json.loads(data)) for i, ts, kind, call_id, data in rows]


def initial_states(conn: SyncConnection, start: float,
                   agent: str | None = None) -> dict[str, tuple[str, str]]:
    """Each agent's (state, reason) at ``start``: its last change before it."""
    field = json_text(dialect_of(conn), "agent")
    where = "" if agent is None else f"AND {field} = ?"
    rows = conn.execute(
        "SELECT data FROM events WHERE id IN (SELECT max(id) FROM events "
        f"WHERE type = 'agent.state' AND ts >= ? AND ts < ? {where} "
        f"GROUP BY {field})",
        (start - LOOKBACK_S, start, *(() if agent is None else (agent,)))).fetchall()
    out: dict[str, tuple[str, str]] = {}
    for (data,) in rows:
        fields = json.loads(data)
        name, state = fields.get("agent"), fields.get("state")
        if isinstance(name, str) and isinstance(state, str):
            reason = fields.get("reason")
            out[name] = (state, reason if isinstance(reason, str) else "")
    return out


def queue_facts(conn: SyncConnection, since: float, until: float) -> list[QueueFact]:
    """The counted moments of callers in [since, until) (see ``buckets.py``), in
    time order; only the fields counted are read out of the JSON."""
    dialect = dialect_of(conn)
    fields = ", ".join(json_value(dialect, k) for k in ("queue", "waited", "cause", "short"))
    rows: list[tuple[Any, ...]] = []
    for kind in _FACT_TYPES:
        rows += conn.execute(
            f"SELECT ts, type, {fields} FROM events "
            "WHERE type = ? AND ts >= ? AND ts < ?", (kind, since, until)).fetchall()
    rows.sort(key=lambda r: r[0])
    out = []
    for ts, kind, *values in rows:
        queue, waited, cause, short = (decode_value(dialect, v) for v in values)
        if not isinstance(queue, str):
            continue
        wait = float(waited) if isinstance(waited, int | float) else 0.0
        if kind == "queue.joined":
            out.append(QueueFact(ts, "offered", queue))
        elif kind == "call.connected":
            out.append(QueueFact(ts, "answered", queue, wait))
        elif (cause is None or cause == "caller") and not short:  # KPI 5: a caller's hang-up
            out.append(QueueFact(ts, "lost", queue, wait))
    return out


def state_changes(conn: SyncConnection, since: float, until: float) -> list[StateChange]:
    """The agents' changes of state in [since, until), in the log's order."""
    dialect = dialect_of(conn)
    rows = conn.execute(
        f"SELECT ts, {json_text(dialect, 'agent')}, {json_text(dialect, 'state')} FROM events "
        "WHERE type = 'agent.state' AND ts >= ? AND ts < ? ORDER BY id",
        (since, until)).fetchall()
    return [StateChange(ts, agent, new) for ts, agent, new in rows
            if isinstance(agent, str) and isinstance(new, str)]


def days(since: dt.date, until: dt.date) -> Iterator[dt.date]:
    day = since
    while day <= until:
        yield day
        day += dt.timedelta(days=1)


class StoreIntraday:
    """The intraday port over the store file ``db_path``, days in ``tz``."""

    def __init__(self, db_path: Path | str, tz: dt.tzinfo) -> None:
        self.db_path = db_path
        self.tz = tz

    def series(self, since: dt.date, until: dt.date, queue: str | None, now: float,
               agents: Set[str] | None = None) -> list[tuple[dt.date, DaySeries]]:
        """Each day of [since, until] in intervals (counted up to ``now``), of
        ``queue``'s callers (None: all) and of ``agents`` (None: all)."""
        start, _ = day_bounds(since, self.tz)
        _, end = day_bounds(until, self.tz)
        stop = min(end, now)
        with closing(connect_ro(self.db_path)) as conn:
            initial = {a: s for a, (s, _) in initial_states(conn, start).items()}
            facts = queue_facts(conn, start, stop)
            changes = state_changes(conn, start, stop)
        out = []
        fi = ci = 0
        for day in days(since, until):
            s, e = day_bounds(day, self.tz)
            f0, c0 = fi, ci
            while fi < len(facts) and facts[fi].ts < e:
                fi += 1
            while ci < len(changes) and changes[ci].ts < e:
                ci += 1
            series = bucket_day(s, e, facts[f0:fi], changes[c0:ci], until=now,
                                initial=initial, queue=queue, agents=agents)
            initial = series.states
            out.append((day, series))
        return out

    def agent_period(self, agent: str, since: float, until: float,
                     queue: str | None = None) -> AgentPeriod:
        """One agent's calls, states and breaks in [since, until) (the drill-down)."""
        with closing(connect_ro(self.db_path)) as conn:
            initial = initial_states(conn, since, agent).get(agent)
            own = _events(conn, AGENT_TYPES[:4], since, until,
                          f"AND {json_text(dialect_of(conn), 'agent')} = ?", (agent,))
            keys = sorted({e.call_id for e in own if e.type == "call.connected" and e.call_id}
                          | {str(e.data["leg"]) for e in own
                             if e.type == "call.connected" and e.data.get("leg")})
            linked: list[Event] = []
            for chunk in range(0, len(keys), 500):
                part = keys[chunk:chunk + 500]
                marks = ",".join("?" * len(part))
                linked += _events(conn, AGENT_TYPES[4:], since - 86400, until,
                                  f"AND call_id IN ({marks})", part)
        events = sorted(own + linked, key=lambda e: e.id or 0)
        return fold_agent(agent, events, since, until, initial=initial, queue=queue)

    def agent_periods(self, since: float, until: float,
                      queue: str | None = None) -> list[AgentPeriod]:
        """Every agent seen in [since, until) (or logged in at its start), without
        the callers' numbers (the export never shows them)."""
        with closing(connect_ro(self.db_path)) as conn:
            initial = initial_states(conn, since)
            events = _events(conn, AGENT_TYPES[:6], since, until)
        by_agent: dict[str, list[Event]] = defaultdict(list)
        owner: dict[str, str] = {}
        for e in events:
            agent = e.data.get("agent")
            if isinstance(agent, str):
                by_agent[agent].append(e)
                if e.type == "call.connected" and e.call_id:
                    owner[e.call_id] = agent
                    if e.data.get("leg"):
                        owner[str(e.data["leg"])] = agent
            elif e.call_id in owner:
                by_agent[owner[e.call_id]].append(e)
        names = sorted(set(by_agent) | {a for a, (s, _) in initial.items()
                                        if s != "logged_out"})
        return [fold_agent(a, by_agent.get(a, ()), since, until, initial=initial.get(a),
                           queue=queue) for a in names]
