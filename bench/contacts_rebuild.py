"""``bailanys report rebuild`` throughput: calls re-folded into ``contacts`` per second.

Writes ``--calls`` answered calls (offered, joined, connected, completed,
wrap-up, disposition, ended, the agent's next state: 9 events each) into a
fresh store, then times :func:`bailanys.reports.projector.rebuild` over all
of them (one process, one core). Prints calls/s, the time a 1414-sized day
(50,000 contacts) would take at that rate, and the peak RSS.

Run: ``.venv/bin/python bench/contacts_rebuild.py [--calls 20000]``.
It prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.reports.projector import connect, rebuild  # noqa: E402
from bailanys.store import Store  # noqa: E402
from bailanys.store.events import INSERT_EVENT  # noqa: E402
from bailanys.timezone import ALMATY  # noqa: E402
from tests.reports.contacthelpers import T0, Calls, answered_call  # noqa: E402

#: The 1414 centre's contacts a day (domain/kz-1414-contact-center-profile.ru.txt).
DAY_1414 = 50_000


async def _make(path: Path, calls: int) -> None:
    async with await Store.open(path):
        pass  # migrated
    c = Calls()
    for i in range(calls):
        answered_call(c, f"c{i}", T0 + 1.5 * i, agent=f"a{i % 500}",
                      topic="complaint" if i % 50 == 0 else "passport")
    conn = connect(path)
    try:
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENT, ((e.ts, e.type, e.call_id, json.dumps(dict(e.data)))
                                        for e in c.events))
        conn.execute("COMMIT")
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        asyncio.run(_make(path, args.calls))
        conn = connect(path)
        start = time.perf_counter()
        n = rebuild(conn, None, None, ALMATY, frozenset({"complaint"}), None)
        took = time.perf_counter() - start
        conn.close()
    rate = n / took if took > 0 else float("inf")
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rebuilt {n} calls in {took:.2f} s: {rate:,.0f} calls/s; "
          f"a 1414 day ({DAY_1414:,} contacts) in {DAY_1414 / rate:.1f} s; "
          f"peak RSS {rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
