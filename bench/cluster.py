"""Two engines vs one behind Kamailio (issue 22): set-up rate, concurrent calls, failover.

    python bench/cluster.py [--rate 600] [--seconds 5] [--runs 3] [--engines 1,2]
                            [--concurrent 0] [--hold-s 10] [--keep DIR]

Each run starts everything fresh (tests/peers/cluster.py): a throw-away
PostgreSQL (tests/pgcluster.py) with Kamailio's usrloc tables, Kamailio with
the generated configuration (OPTIONS every second, 500 ms engine timeout),
N ``bailanys serve`` processes behind it, then:

- **set-up rate**: SIPp (``short_call.xml``: INVITE, 200, ACK, BYE, 200; no
  media) sends ``--rate`` calls/s to Kamailio for ``--seconds``; the rate
  sustained is the successful calls over the seconds SIPp spent placing
  them, with INVITE->200 p50/p99 (SIPp ``-trace_rtt``);
- **concurrent calls** (``--concurrent N``, off by default): N calls with
  RTP both ways (``load_call.xml``) held ``--hold-s`` seconds at once;
  printed: how many completed;
- **failover** (N >= 2): ``kill -9`` of one idle engine, then the time until
  Kamailio's dispatcher marks it inactive (``kamcmd dispatcher.list`` polled
  every 20 ms): the OPTIONS health check's detection; then again on a fresh
  cluster under a 50 calls/s load, where the first call sent to the dead
  engine finds it within the engine timeout.

Printed: each run, then min / median / max per figure and per engine count.
Everything shares this machine's cores (Kamailio, SIPp, the engines), so the
ratio of two engines to one is what two more processes win on the same two
cores, not on two machines; figures from a shared machine are indicative.
Never a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sip_setup import _percentile, _placing_seconds, _rtts  # noqa: E402
from tests import pgcluster  # noqa: E402
from tests.peers.cluster import EngineProc, Kamailio, create_usrloc_tables  # noqa: E402
from tests.peers.conftest import free_sip_port  # noqa: E402
from tests.peers.sipp import SCENARIOS, make_ulaw_wav, run_sipp_async  # noqa: E402

HEALTH_CHECK_S = 1
RTP_BASE = 40000
ENGINE_TIMEOUT_MS = 500


class Site:
    """Kamailio and ``n`` engines in ``folder``, on a database of ``pg``."""

    def __init__(self, folder: Path, pg: pgcluster.Cluster, n: int) -> None:
        self.pg_url = pg.create_database()
        create_usrloc_tables(self.pg_url)
        port = free_sip_port()
        proxy = f"127.0.0.1:{port}"
        # 2,000 RTP ports each (1,000 calls): the tests' ranges hold 200 calls.
        self.engines = [EngineProc(folder / f"engine{i}", proxy, self.pg_url,
                                   rtp_ports=f"{RTP_BASE + 2000 * i}-{RTP_BASE + 2000 * i + 1999}")
                        for i in range(1, n + 1)]
        self.kam = Kamailio(folder / "kamailio", [e.address for e in self.engines],
                            self.pg_url, port=port, health_check_s=HEALTH_CHECK_S,
                            engine_timeout_ms=ENGINE_TIMEOUT_MS)

    async def __aenter__(self) -> Site:
        await asyncio.gather(self.kam.start(), *(e.start() for e in self.engines))
        await self.kam.wait_active()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(e.stop() for e in self.engines), self.kam.stop())


async def setup_rate(site: Site, folder: Path, rate: int, seconds: int) -> dict[str, float]:
    calls = rate * seconds
    res = await run_sipp_async(
        SCENARIOS / "short_call.xml", site.kam.target, cwd=folder, calls=calls, rate=rate,
        concurrent_limit=max(rate * 2, 50), timeout_s=seconds + 60,
        extra_args=["-trace_rtt", "-rtt_freq", "1"])
    rtts = _rtts(folder)
    placing = _placing_seconds(folder)
    per_engine = [len(await asyncio.to_thread(e.events, "call.offered")) for e in site.engines]
    return {"ok": res.successful, "failed": res.failed,
            "sustained": res.successful / placing if placing else 0.0,
            "p50_ms": _percentile(rtts, 0.5), "p99_ms": _percentile(rtts, 0.99),
            "spread_min": min(per_engine) / max(max(per_engine), 1)}


async def concurrent(site: Site, folder: Path, n: int, hold_s: int) -> dict[str, float]:
    make_ulaw_wav(folder / "bailanys_load.wav", 1.0, 0.0)
    res = await run_sipp_async(
        SCENARIOS / "load_call.xml", site.kam.target, cwd=folder, calls=n, rate=max(n // 4, 1),
        concurrent_limit=n, duration_ms=hold_s * 1000, timeout_s=hold_s + 60)
    return {"concurrent_ok": res.successful, "concurrent_failed": res.failed}


async def failover(site: Site, folder: Path, *, load: bool) -> float:
    """Seconds from ``kill -9`` of the first engine to the dispatcher's inactive flag."""
    dead = site.engines[0]
    await site.kam.wait_active()  # an overloaded engine's 503s may have taken it out for a while
    traffic: asyncio.Task[Any] | None = None
    if load:
        traffic = asyncio.create_task(run_sipp_async(
            SCENARIOS / "short_call.xml", site.kam.target, cwd=folder, calls=200, rate=50,
            timeout_s=30))
        await asyncio.sleep(1.0)
    killed = time.monotonic()
    dead.kill9()
    try:
        while time.monotonic() - killed < 15:
            if (await asyncio.to_thread(site.kam.dispatcher)).get(
                    dead.address, "A").startswith("I"):
                return time.monotonic() - killed
            await asyncio.sleep(0.02)
        return float("nan")
    finally:
        if traffic is not None:
            await traffic


Step = Callable[[Site, Path], Coroutine[Any, Any, dict[str, float]]]


async def one_run(args: argparse.Namespace, pg: pgcluster.Cluster, root: Path, n: int,
                  run: int) -> dict[str, float]:
    folder = root / f"e{n}-run{run}"
    out: dict[str, float] = {}
    async with Site(folder, pg, n) as site:
        out.update(await setup_rate(site, folder / "setup", args.rate, args.seconds))
        if args.concurrent:
            await site.kam.wait_active()  # an overloaded engine's timeouts take it out a while
            out.update(await concurrent(site, folder / "conc", args.concurrent, args.hold_s))
        if n >= 2:
            out["failover_idle_s"] = await failover(site, folder / "fo", load=False)
    if n >= 2:
        async with Site(folder / "load", pg, n) as site:
            out["failover_load_s"] = await failover(site, folder / "fo-load", load=True)
    return out


def summary(rows: list[dict[str, float]]) -> str:
    keys = [k for k in rows[0] if all(k in r for r in rows)]
    parts = []
    for k in keys:
        vals = sorted(r[k] for r in rows)
        parts.append(f"{k} {vals[0]:.3g}/{statistics.median(vals):.3g}/{vals[-1]:.3g}")
    return "; ".join(parts)


async def main_async(args: argparse.Namespace) -> int:
    counts = [int(x) for x in args.engines.split(",")]
    results: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory(prefix="bailanys-cluster-") as tmp, \
            pgcluster.running() as pg:
        if args.keep is not None:  # logs, SIPp traces and stores kept for a look
            tmp = str(args.keep)
        for run in range(1, args.runs + 1):
            for n in counts:
                r = await one_run(args, pg, Path(tmp), n, run)
                results[n].append(r)
                print(f"run {run}, {n} engine(s): " + ", ".join(
                    f"{k} {v:.3g}" for k, v in r.items()), flush=True)
    print(f"\nmin/median/max over {args.runs} runs ({args.rate} calls/s offered for "
          f"{args.seconds} s; health check {HEALTH_CHECK_S} s, engine timeout "
          f"{ENGINE_TIMEOUT_MS} ms):")
    for n in counts:
        print(f"  {n} engine(s): {summary(results[n])}")
    if 1 in results and 2 in results:
        one = statistics.median(r["sustained"] for r in results[1])
        two = statistics.median(r["sustained"] for r in results[2])
        print(f"  set-up rate, 2 engines / 1: {two / one:.2f}x (medians)" if one else "")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=int, default=600, help="calls/s SIPp offers")
    ap.add_argument("--seconds", type=int, default=5, help="how long SIPp offers them")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="1,2", help="engine counts to compare")
    ap.add_argument("--concurrent", type=int, default=0,
                    help="also hold this many calls with RTP at once (0: skip)")
    ap.add_argument("--hold-s", type=int, default=10)
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="work in DIR and keep it (logs, traces, stores)")
    return asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
