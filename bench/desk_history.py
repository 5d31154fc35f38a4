"""The screen pop's history read: ms per :meth:`HistoryReader.read` on a big store.

Fills a fresh store (schema v8) with ``--contacts`` rows (default 1,000,000:
about 20 days of 1414's 50,000 contacts a day, spread over 90 days here)
from ``--callers`` distinct numbers (a few contacts each, as repeat callers
make them), and ``--cases`` requests (open and closed), then times
``--reads`` history reads of random callers (contacts of the last 90 days
by ``caller_key`` + open requests by number), one thread, warm cache.
Prints p50 / p99 / max in ms and the query plans.

Run: ``.venv/bin/python bench/desk_history.py [--contacts 1000000] [--reads 2000]``.
It prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.cases.settings import CasesFileConfig  # noqa: E402
from bailanys.desk.history import OPEN_CASES_SQL, HistoryReader  # noqa: E402
from bailanys.desk.pop import caller_key  # noqa: E402
from bailanys.store.db import Database  # noqa: E402
from bailanys.store.migrations import migrate  # noqa: E402

SALT = b"bench salt of thirty-two bytes.."
NOW = 1_790_000_000.0
DAYS_S = 90 * 86_400.0
CASES = CasesFileConfig(file=str(ROOT / "configs" / "cases.yaml"),
                        calendar_dir=str(ROOT / "configs" / "calendar"))


async def _migrate(path: Path) -> None:
    db = await Database.open(path)
    try:
        await migrate(db)
    finally:
        await db.close()


def _number(i: int) -> str:
    return f"7701{i:07d}"


def _fill(path: Path, contacts: int, callers: int, cases: int) -> None:
    rng = random.Random(19)
    keys = [caller_key(_number(i), SALT) for i in range(callers)]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO contacts (call_id, started, day, channel, topic, outcome, queue, agent, "
        "caller_key) VALUES (?, ?, '2026-01-01', 'operator', 'passport', 'resolved', 'egov', "
        "'aigul', ?)",
        ((f"c{i}", NOW - rng.random() * 1.5 * DAYS_S, keys[rng.randrange(callers)])
         for i in range(contacts)))
    conn.executemany(
        "INSERT INTO cases (number, kind, phone, lang, topic, description, status, created, "
        "updated) VALUES (?, 'request', ?, 'kk', 'passport', 'd', ?, ?, ?)",
        ((f"2026-{i:06d}", _number(rng.randrange(callers)),
          "closed" if i % 3 else "in_progress", NOW - 86_400, NOW - 86_400)
         for i in range(cases)))
    conn.executemany(
        "INSERT INTO case_questions (case_id, no, text, topic, department, deadline) "
        "VALUES (?, 1, 'q', 'passport', 'migration', '2026-09-01')",
        ((i + 1,) for i in range(cases)))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    for sql, args in (
            ("SELECT started FROM contacts WHERE caller_key = ? AND started >= ? AND "
             "started < ? AND call_id IS NOT ? ORDER BY started DESC LIMIT 20",
             (keys[0], 0, NOW, None)),
            (OPEN_CASES_SQL, (_number(0),)),
            ("SELECT * FROM cases WHERE ((? != '' AND phone = ?) OR iin_hash = ?) AND status IN "
             "('registered', 'in_progress', 'escalated') ORDER BY created DESC, id DESC",
             (_number(0), _number(0), None))):
        plan = [r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
        print("plan:", "; ".join(plan))
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--callers", type=int, default=250_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        asyncio.run(_migrate(path))
        started = time.perf_counter()
        _fill(path, args.contacts, args.callers, args.cases)
        print(f"filled {args.contacts} contacts, {args.cases} requests in "
              f"{time.perf_counter() - started:.1f} s")
        reader = HistoryReader(str(path), SALT, CASES)
        rng = random.Random(7)
        reader.read(_number(0), NOW)  # loads the rules once
        times, found = [], 0
        for _ in range(args.reads):
            t = time.perf_counter()
            got = reader.read(_number(rng.randrange(args.callers)), NOW)
            times.append((time.perf_counter() - t) * 1000)
            found += len(got.contacts) + len(got.cases)
        reader.close()
    times.sort()
    print(f"{args.reads} reads: p50 {statistics.median(times):.2f} ms, "
          f"p99 {times[int(len(times) * 0.99) - 1]:.2f} ms, max {times[-1]:.2f} ms "
          f"({found / args.reads:.1f} rows per read)")


if __name__ == "__main__":
    main()
