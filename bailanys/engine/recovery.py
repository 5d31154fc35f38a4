"""The start-up adapter of :mod:`bailanys.engine.reconcile`: query, reconcile, append.

:func:`recover` runs in ``Engine.start()`` once the store is open, before
the queues start and before the console's KPI fold replays today's events,
so that every fold and gauge sees the crash's calls
closed. It reads only what may still be open (:mod:`bailanys.store.unfinished`):
calls opened within :func:`lookback_s` of the last stored event, agents'
states within :data:`AGENT_MEMORY_S`.
"""

from __future__ import annotations

import logging

from bailanys.engine.reconcile import ENGINE_REASONS, Reconciliation, reconcile
from bailanys.events import decode_parts
from bailanys.store import Store
from bailanys.store.unfinished import events_of, last_agent_states, last_event_ts, open_call_ids

log = logging.getLogger(__name__)

#: Calls are looked for this far before the crash at least: a callback
#: request waits at most the working day (the KPI fold forgets a call
#: after 6 h idle); a call itself lasts at most ``engine.max_call_seconds``.
CALL_LOOKBACK_S = 86_400.0
#: Agents' states are looked for this far back: a break left over a weekend's
#: restart is still restored; one older than a week is not.
AGENT_MEMORY_S = 7 * 86_400.0


def lookback_s(max_call_seconds: float) -> float:
    """How far before the crash a call that is still open may have started."""
    return max(CALL_LOOKBACK_S, float(max_call_seconds))


async def recover(store: Store, *, max_call_seconds: float) -> Reconciliation:
    """Close in the store what a crash left open; returns what was done
    (and the agents' breaks, for the queues to restore)."""
    db = store.db
    crash = await last_event_ts(db)
    if crash is None:
        return Reconciliation()
    ids = await open_call_ids(db, crash - lookback_s(max_call_seconds))
    calls = await events_of(db, ids)
    since = crash - AGENT_MEMORY_S
    last = await last_agent_states(db, since)
    chosen = await last_agent_states(db, since, ENGINE_REASONS)
    result = reconcile(calls, last, chosen, crash)
    events = store.events
    for c in result.closings:
        events.emit_at(c.ts, decode_parts(c.type, c.call_id, c.fields))
    if result.closings:
        await events.flush()
        log.warning(
            "recovered from a crash: %d calls ended, %d callers left their queue, "
            "%d agents logged out (cause engine_restart)",
            result.count("call.ended"), result.count("queue.abandoned"),
            result.count("agent.state"),
        )
    return result
