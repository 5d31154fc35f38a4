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

from bailanys.ownership.lease import LeaseTiming, StartOwning, StopOwning  # noqa: E402
from bailanys.ownership.pglease import (  # noqa: E402
    LeaseKeeper,
    PgLeases,
    connector,
    incarnation,
)
from tests import pgcluster  # noqa: E402


class Owned:
    """A keeper's ``on_change``: set when it owns every group."""

    def __init__(self, groups: list[str]) -> None:
        self.groups = set(groups)
        self.held: set[str] = set()
        self.all = asyncio.Event()

    def __call__(self, group: str, change: StartOwning | StopOwning) -> None:
        if isinstance(change, StartOwning):
            self.held.add(group)
        else:
            self.held.discard(group)
        if self.held == self.groups:
            self.all.set()
        else:
            self.all.clear()

    async def wait(self) -> float:
        await self.all.wait()
        return time.monotonic()


async def one_run(url: str, timing: LeaseTiming, groups: list[str]) -> tuple[float, float, float]:
    owned = {name: Owned(groups) for name in "abc"}
    a, b, c = (LeaseKeeper(connector(url), groups, incarnation(name), f"sip:{name}",
                           owned[name], timing=timing) for name in "abc")
    try:
        a.start()
        await owned["a"].wait()
        b.start()
        await asyncio.sleep(timing.renew_s * 1.5)
        last_renewal = max(lease.deadline or 0.0 for lease in a.leases.values()) - timing.held_s
        await a._tasks.cancel_all()  # kill -9: no release
        if a._conn is not None:
            await a._conn.close()
        killed = time.monotonic()
        taken = await owned["b"].wait()
        c.start()
        await asyncio.sleep(timing.renew_s)
        stopped = time.monotonic()
        await b.stop()
        handed = await owned["c"].wait()
        return taken - killed, taken - last_renewal, handed - stopped
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
