"""Console latency: events at 1,000/s into a running engine, 20 websocket clients.

The engine runs in this process (its real start-up: store, SIP, media,
queues, KPI fold, console server) and the injector appends synthetic
``survey.answered`` events at a steady 1,000 per second through the event
log, as the engine's components do. Twenty websocket clients, logged in
with a session cookie, run in a child process (their own event loop, so
they do not load the engine's). Each delta carries the KPI
``satisfaction_score`` with its sample count, i.e. how many of the injected
events the engine had folded when it sent it; the delay of event *i* is the
arrival time of the first delta counting *i* minus *i*'s append time (same
machine, same clock). Printed: p50/p99 delay over all clients and events,
and the engine loop's lag (a 10 ms timer's lateness) with and without the
clients. Target: p99 < 100 ms; loop lag unaffected.

Run: ``.venv/bin/python bench/console_latency.py [--seconds 10] [--clients 20]``.

``--page`` measures the supervisor page instead (issue 21): 500 agents, 20
queues and 200 waiting callers at 1,000 events/s, from the event to the
page's DOM updated in Debian's Chromium, with the browser's CPU per update
(``bench/console_page.py``, one fresh process per run, ``--runs`` 3, each
figure printed as min / median / max over the runs). Target: p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.analytics.settings import AnalyticsConfig  # noqa: E402
from bailanys.config import (  # noqa: E402
    Config,
    ConsoleConfig,
    IvrConfig,
    MediaConfig,
    QueueFileConfig,
    SipConfig,
    StoreConfig,
    VoiceConfig,
)
from bailanys.console.auth import hash_password  # noqa: E402
from bailanys.engine.core import Engine  # noqa: E402

PASSWORD = "bench-password"


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ the clients (child)


def _login(port: int) -> str:
    import http.client

    body = urllib.parse.urlencode({"user": "bench", "password": PASSWORD})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/login", body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": f"http://127.0.0.1:{port}", "Host": f"127.0.0.1:{port}",
    })
    reply = conn.getresponse()
    cookie = reply.getheader("Set-Cookie") or ""
    conn.close()
    return cookie.split(";", 1)[0]


async def _client(port: int, cookie: str, seconds: float, out: list[tuple[float, int]]) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/ws",
                       additional_headers={"Cookie": cookie,
                                           "Origin": f"http://127.0.0.1:{port}"}) as ws:
        end = time.time() + seconds
        while time.time() < end:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(0.01, end - time.time()))
            except TimeoutError:
                break
            now = time.time()
            msg = json.loads(raw)
            data = msg.get("data", {})
            kpis = data.get("kpis") if isinstance(data, dict) else None
            if isinstance(kpis, dict) and "satisfaction_score" in kpis:
                out.append((now, int(kpis["satisfaction_score"].get("samples") or 0)))


def _clients_main(port: int, n: int, seconds: float, result: Any) -> None:
    async def main() -> list[list[tuple[float, int]]]:
        cookies = [_login(port) for _ in range(n)]
        outs: list[list[tuple[float, int]]] = [[] for _ in range(n)]
        await asyncio.gather(*(_client(port, c, seconds, o) for c, o in zip(cookies, outs,
                                                                             strict=True)))
        return outs

    result.put(asyncio.run(main()))


# ------------------------------------------------------------------ the engine (this process)


async def _lag_monitor(stop: asyncio.Event, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t0 = loop.time()
        await asyncio.sleep(0.01)
        lags.append(max(0.0, loop.time() - t0 - 0.01))


async def _inject(engine: Engine, rate: int, seconds: float, stamps: list[float]) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    n_total = int(rate * seconds)
    i = 0
    while i < n_total:
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        # Catch up in one go if the loop was late (events keep their real append time).
        target = min(n_total, int((loop.time() - start) * rate) + 1)
        while i < target:
            engine.events.append("survey.answered", f"bench{i}", question="satisfaction",
                                 score=5)
            stamps.append(time.time())
            i += 1


def _config(workdir: Path, console_port: int) -> Config:
    empty = workdir / "none"
    return Config(
        sip=SipConfig(listen=f"127.0.0.1:{_free_port(socket.SOCK_DGRAM)}"),
        media=MediaConfig(rtp_ports="42000-42099"),
        store=StoreConfig(path=str(workdir / "bench.db")),
        voice=VoiceConfig(prompt_dir=str(ROOT / "voice_models" / "prompts")),
        ivr=IvrConfig(flow_dir=str(empty), reload_seconds=0),
        queue=QueueFileConfig(file=str(ROOT / "configs" / "queues.toml")),
        console=ConsoleConfig(listen=f"127.0.0.1:{console_port}",
                              users={"bench": "supervisor:" + hash_password(PASSWORD)}),
        analytics=AnalyticsConfig(enabled=False),  # no recordings, no transcription workers
    )


async def _run(seconds: float, clients: int, rate: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        engine = Engine(_config(Path(tmp), port))
        await engine.start()
        try:
            stop = asyncio.Event()
            base_lags: list[float] = []
            monitor = asyncio.create_task(_lag_monitor(stop, base_lags))
            await asyncio.sleep(2.0)  # the loop alone
            stop.set()
            await monitor

            ctx = mp.get_context("spawn")
            result = ctx.Queue()
            child = ctx.Process(target=_clients_main, args=(port, clients, seconds + 3.0, result))
            child.start()
            await asyncio.sleep(2.0)  # clients log in and get their snapshots
            stop = asyncio.Event()
            lags: list[float] = []
            monitor = asyncio.create_task(_lag_monitor(stop, lags))
            stamps: list[float] = []
            await _inject(engine, rate, seconds, stamps)
            await asyncio.sleep(0.5)
            stop.set()
            await monitor
            outs = await asyncio.to_thread(result.get, True, 60)
            await asyncio.to_thread(child.join, 30)
        finally:
            await engine.stop()
    delays: list[float] = []
    for out in outs:
        j = 0
        for recv_t, samples in out:
            while j < min(samples, len(stamps)):
                delays.append(recv_t - stamps[j])
                j += 1
    return {"stamps": stamps, "delays": delays, "lags": lags, "base_lags": base_lags,
            "clients_seen": sum(1 for o in outs if o)}


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _page_runs(args: argparse.Namespace) -> int:
    """``bench/console_page.py`` ``--runs`` times, each in a fresh process."""
    import subprocess

    cmd = [sys.executable, str(ROOT / "bench" / "console_page.py"), "--seconds",
           f"{args.seconds:g}", "--rate", str(args.rate), "--agents", str(args.agents),
           "--queues", str(args.queues), "--waiting", str(args.waiting)]
    if args.static:
        cmd += ["--static", args.static]
    if args.scroll:
        cmd += ["--scroll", args.scroll]
    runs = []
    for n in range(args.runs):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            print(f"run {n + 1} failed:\n{done.stderr[-2000:]}")
            return 1
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  run {n + 1}: {done.stdout.strip().splitlines()[-1]}")

    def spread(key: str, sub: str | None = None) -> str:
        values = sorted(float(r[key][sub] if sub else r[key]) for r in runs)
        return (f"{values[0]:.1f} / {statistics.median(values):.1f} / {values[-1]:.1f}")

    first = runs[0]
    print(f"console page: {first['agents']} agents, {first['queues']} queues, "
          f"{first['waiting']} waiting callers, {args.rate} events/s for {args.seconds:g} s, "
          f"{len(runs)} runs (min / median / max)")
    print(f"  event -> DOM updated: p50 {spread('dom_p50_ms')} ms, p99 {spread('dom_p99_ms')} ms,"
          f" max {spread('dom_max_ms')} ms; next frame p99 {spread('frame_p99_ms')} ms")
    print(f"  updates the page handled: {spread('deltas_handled')} (the server flushed "
          f"{spread('flushes')} deltas); events not on the page by the end: "
          f"{spread('events_not_shown')}; a delta's newest event was "
          f"{spread('delta_age_p50_ms')} ms old (median) when the page took it; a delta "
          f"{spread('delta_kb_p50')} KB (median)")
    print("  browser per update (CDP Performance.getMetrics): main-thread CPU "
          f"{spread('cpu_ms_per_update', 'ThreadTime')} ms; task "
          f"{spread('cpu_ms_per_update', 'TaskDuration')} ms, script "
          f"{spread('cpu_ms_per_update', 'ScriptDuration')} ms, layout "
          f"{spread('cpu_ms_per_update', 'LayoutDuration')} ms, style "
          f"{spread('cpu_ms_per_update', 'RecalcStyleDuration')} ms")
    worst = max(r["dom_p99_ms"] for r in runs)
    print(f"  target p99 < 100 ms: {'met' if worst < 100 else 'NOT met'} (worst run {worst} ms)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--page", action="store_true",
                        help="the supervisor page in Chromium (bench/console_page.py)")
    parser.add_argument("--runs", type=int, default=3, help="--page: fresh processes")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--static", default="", help="--page: serve the page from this directory")
    parser.add_argument("--scroll", default="",
                        help="--page: scroll this element to the top first (e.g. '#agents')")
    args = parser.parse_args()
    if args.page:
        return _page_runs(args)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    r = asyncio.run(_run(args.seconds, args.clients, args.rate))
    d = [x * 1000 for x in r["delays"]]
    lag, base = [x * 1000 for x in r["lags"]], [x * 1000 for x in r["base_lags"]]
    print(f"console latency: {len(r['stamps'])} events at {args.rate}/s for {args.seconds:g} s, "
          f"{r['clients_seen']}/{args.clients} clients received deltas")
    print(f"  event -> client delay: p50 {_pct(d, 50):.1f} ms, p99 {_pct(d, 99):.1f} ms, "
          f"max {max(d) if d else float('nan'):.1f} ms ({len(d)} deliveries)")
    print(f"  engine loop lag (10 ms timer): without clients p50 {_pct(base, 50):.2f} ms "
          f"p99 {_pct(base, 99):.2f} ms; with clients + events p50 {_pct(lag, 50):.2f} ms "
          f"p99 {_pct(lag, 99):.2f} ms")
    ok = bool(d) and _pct(d, 99) < 100.0
    print(f"  target p99 < 100 ms: {'met' if ok else 'NOT met'}; mean delay "
          f"{statistics.fmean(d) if d else float('nan'):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
