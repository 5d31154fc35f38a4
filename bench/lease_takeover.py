"""Queue-group take-over time: an owner killed, how long until another engine owns.

Two :class:`~bailanys.ownership.pglease.LeaseKeeper`s ("engines") compete
for ``--groups`` groups on a throw-away PostgreSQL cluster (Debian's
server, ``tests/pgcluster.py``). Each run: the first keeper owns every
group, the second tries; the owner is killed (its task cancelled and its
connection closed: no release) and the time until the survivor owns every
group is measured from the kill, and from the dead owner's last renewal
(the bound is ttl + ttl/3 from it). Then a clean stop: the time from
``stop()`` until the survivor owns (one attempt interval at most).

Run: ``.venv/bin/python bench/lease_takeover.py [--runs 3] [--ttl 6] [--groups 4]``.
It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bailanys.ownership.lease import LeaseTiming  # noqa: E402
from bailanys.ownership.pglease import (  # noqa: E402
    LeaseKeeper,
    PgLeases,
    connector,
    incarnation,
)
from tests import pgcluster  # noqa: E402


async def _until_owned(keeper: LeaseKeeper, groups: list[str]) -> float:
    while len(keeper.held()) < len(groups):
        await asyncio.sleep(0.005)
    return time.monotonic()


async def one_run(url: str, timing: LeaseTiming, groups: list[str]) -> tuple[float, float, float]:
    def quiet(group: str, change: object) -> None:
        return None

    a = LeaseKeeper(connector(url), groups, incarnation("a"), "sip:a", quiet, timing=timing)
    b = LeaseKeeper(connector(url), groups, incarnation("b"), "sip:b", quiet, timing=timing)
    c = LeaseKeeper(connector(url), groups, incarnation("c"), "sip:c", quiet, timing=timing)
    try:
        a.start()
        await _until_owned(a, groups)
        b.start()
        await asyncio.sleep(timing.renew_s * 1.5)
        last_renewal = max(lease.deadline or 0.0 for lease in a.leases.values()) - timing.held_s
        await a._tasks.cancel_all()  # kill -9: no release
        if a._conn is not None:
            await a._conn.close()
        killed = time.monotonic()
        owned = await _until_owned(b, groups)
        c.start()
        await asyncio.sleep(timing.renew_s)
        stopped = time.monotonic()
        await b.stop()
        handed = await _until_owned(c, groups)
        return owned - killed, owned - last_renewal, handed - stopped
    finally:
        for keeper in (a, b, c):
            await keeper.stop(release=False)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ttl", type=float, default=LeaseTiming().ttl_s)
    parser.add_argument("--groups", type=int, default=4)
    args = parser.parse_args()
    timing = LeaseTiming(ttl_s=args.ttl, margin_s=min(0.5, args.ttl / 10))
    groups = [f"g{i}" for i in range(args.groups)]
    with pgcluster.running() as cluster:
        url = cluster.create_database()
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        await PgLeases(conn).create()
        await conn.close()
        results = [await one_run(url, timing, groups) for _ in range(args.runs)]
    print(f"ttl {timing.ttl_s:g} s, renew every {timing.renew_s:g} s, {len(groups)} groups, "
          f"{args.runs} runs (min / median / max, seconds)")
    for name, i in (("take-over after kill", 0), ("... after the last renewal", 1),
                    ("hand-over after a clean stop", 2)):
        values = [r[i] for r in results]
        print(f"  {name:32s} {min(values):6.2f} {statistics.median(values):6.2f} "
              f"{max(values):6.2f}")


if __name__ == "__main__":
    asyncio.run(main())
