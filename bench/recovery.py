"""How long the start-up reconciliation takes on a large store (issue 13 defect 6).

Writes ``--days`` days of calls (``--calls`` a day, ten events each, agents'
state changes between) into a fresh SQLite store, leaves ``--open`` calls of
the last hour open as a ``kill -9`` would, then times
:func:`bailanys.engine.recovery.recover`. It reads only what can still be
open (the indexes of ``migrations.py``), so its time follows the calls of
the last day, not the size of the store.

    .venv/bin/python bench/recovery.py --days 30 --calls 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from bailanys.engine.recovery import recover
from bailanys.store import Store

DAY = 86_400.0


async def main(days: int, calls: int, open_calls: int, agents: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        try:
            now = time.time()
            start = now - days * DAY
            rows: list[tuple[float, str, str | None, str]] = []
            total = days * calls
            for n in range(total):
                ts = start + n * (days * DAY - 3600) / total
                cid = f"c{n}"
                rows += [(ts, "call.offered", cid, '{"from":"sip:7701@x"}'),
                         (ts + 0.1, "call.answered", cid, "{}"),
                         (ts + 5, "queue.joined", cid, '{"queue":"q","position":1}'),
                         (ts + 5, "queue.announced", cid, '{"queue":"q","position":1}'),
                         (ts + 30, "call.connected", cid, '{"queue":"q","agent":"a1"}'),
                         (ts + 31, "dtmf", cid, '{"digit":"1"}'),
                         (ts + 200, "call.completed", cid, '{"queue":"q","talk":170}'),
                         (ts + 200, "call.ended", cid, '{"cause":"caller"}'),
                         (ts + 201, "agent.state", None, json.dumps(
                             {"agent": f"a{n % agents}", "state": "wrap_up",
                              "previous": "on_call", "reason": ""})),
                         (ts + 210, "agent.state", None, json.dumps(
                             {"agent": f"a{n % agents}", "state": "available",
                              "previous": "wrap_up", "reason": ""}))]
                if len(rows) >= 100_000:
                    await store.db.executemany(
                        "INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, ?)", rows)
                    rows = []
            for n in range(open_calls):
                ts = now - 600 + n
                rows += [(ts, "call.offered", f"open{n}", "{}"),
                         (ts + 1, "queue.joined", f"open{n}", '{"queue":"q","position":1}')]
            await store.db.executemany(
                "INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, ?)", rows)
            count = (await store.db.fetchall("SELECT count(*) FROM events"))[0][0]
            began = time.perf_counter()
            result = await recover(store, max_call_seconds=3600)
            took = time.perf_counter() - began
            print(f"store: {count:,} events ({days} days x {calls:,} calls, {agents} agents)")
            print(f"recover: {took * 1000:.0f} ms; closed {result.count('call.ended')} calls, "
                  f"{result.count('queue.abandoned')} waiting callers, "
                  f"{result.count('agent.state')} agents")
        finally:
            await store.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--calls", type=int, default=10_000, help="calls a day")
    ap.add_argument("--open", type=int, default=20, help="calls left open by the crash")
    ap.add_argument("--agents", type=int, default=100)
    a = ap.parse_args()
    asyncio.run(main(a.days, a.calls, a.open, a.agents))
