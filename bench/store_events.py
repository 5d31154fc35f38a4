"""Event-write throughput: PostgreSQL vs SQLite, through the real writer (issue 22).

Each run is a fresh process with a fresh store (an SQLite file in a temp dir,
or a new PostgreSQL database): it opens ``Store`` with the engine's defaults
(``[store] batch_ms = 50, batch_max = 1000``), appends ``--events`` events
(a call's typical fields, 40 calls interleaved) as fast as the loop allows,
yielding to the loop every 500 appends as the engine's producers do, and
awaits ``flush()``: events/s = events / (first append .. all committed).
``--runs`` runs per backend (default 3); prints min / median / max.

PostgreSQL: a throw-away cluster of Debian's server (``tests/pgcluster.py``:
initdb in a temp dir; the bench turns ``fsync`` and ``full_page_writes``
back on, as in production) unless ``--pg-url`` names a server (each run
then creates and drops a database there: the URL's user needs CREATEDB).
PostgreSQL runs twice: ``synchronous_commit = on`` (each commit flushed to
disk: PostgreSQL's default) and ``off`` (commits flushed within ~0.2 s by
the WAL writer; a server or OS crash can lose the last ones but never
corrupts: the same promise as SQLite's WAL with ``synchronous = NORMAL``,
which the store uses).

Run: ``.venv/bin/python bench/store_events.py [--events 100000] [--runs 3]``.
It prints figures, asserts nothing. The machine may be shared: compare the
two backends of one invocation, not figures of different days.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.store import Store  # noqa: E402


async def one_run(url: str, events: int) -> dict[str, float]:
    store = await Store.open(url)
    try:
        started = time.perf_counter()
        for i in range(events):
            store.events.append("queue.joined", f"call-{i % 40}-{i // 4000}", queue="general",
                                position=i % 12, language="kk", caller="+7701***4567",
                                skills=["kk", "pension"])
            if i % 500 == 499:
                await asyncio.sleep(0)
        await store.events.flush()
        elapsed = time.perf_counter() - started
        batches = store.events.batches_written
    finally:
        await store.close()
    return {"events": events, "seconds": elapsed, "per_s": events / elapsed,
            "batches": batches}


def child(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(one_run(args.url, args.events))))
    return 0


def _run_child(url: str, events: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", "--url", url,
                          "--events", str(events)], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _pg_database(server: str, synchronous_commit: str) -> tuple[str, str]:
    """A fresh database on ``server`` (a URL); returns (its URL, its name)."""
    import psycopg

    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = {synchronous_commit}')
    return server.rsplit("/", 1)[0] + "/" + name, name


def _drop(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _report(backend: str, runs: list[dict[str, float]]) -> None:
    rates = sorted(r["per_s"] for r in runs)
    batches = statistics.median(r["batches"] for r in runs)
    print(f"{backend:<36} events/s min {rates[0]:>9,.0f}  median {statistics.median(rates):>9,.0f}"
          f"  max {rates[-1]:>9,.0f}   ({int(runs[0]['events']):,} events, "
          f"~{batches:.0f} transactions, {len(runs)} runs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-url", default=None,
                        help="a PostgreSQL server to use (default: a throw-away cluster)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        sqlite_runs = [_run_child(str(Path(tmp) / f"s{i}.db"), args.events)
                       for i in range(args.runs)]
    _report("sqlite", sqlite_runs)

    cluster = None
    server = args.pg_url
    if server is None:
        from tests import pgcluster

        cluster = pgcluster.start()
        server = cluster.url()
        import psycopg

        with psycopg.connect(server, autocommit=True) as conn:  # production durability
            conn.execute("ALTER SYSTEM SET fsync = on")
            conn.execute("ALTER SYSTEM SET full_page_writes = on")
            conn.execute("SELECT pg_reload_conf()")
    try:
        for mode in ("on", "off"):
            pg_runs = []
            for _ in range(args.runs):
                url, name = _pg_database(server, mode)
                try:
                    pg_runs.append(_run_child(url, args.events))
                finally:
                    _drop(server, name)
            _report(f"postgresql synchronous_commit={mode}", pg_runs)
    finally:
        if cluster is not None:
            cluster.stop()
            import shutil

            shutil.rmtree(cluster.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
