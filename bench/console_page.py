"""One run of the supervisor page's update latency in real Chromium (issue 21).

The console's real server (``ConsoleServer``: the web layer, sessions, the
websocket with its per-client coalescing) in this process, fed by
:class:`FloorApi`, a ``ConsoleApi`` that holds a contact centre's floor --
``--agents`` agents (500), ``--queues`` queues (20) and ``--waiting``
callers on the line (200) -- and applies ``--rate`` events a second (1,000):
agent state changes (70 %), a caller leaving and another joining (20 %),
KPI changes (10 %). Like the engine's ``EngineConsole`` it marks the keys
an event changed and sends one delta of them every ``FLUSH_S`` (50 ms),
each key's value whole, in the engine's shapes (``engine/console.py``
``_parts``). Every delta also carries ``bench_t``: the wall time of the
newest event it holds (the page ignores keys it does not render).

Debian's Chromium (Playwright, headless, 1920x1080) logs in through the form
and shows the page. An init script wraps the page's websocket ``message``
listener to note each delta's ``bench_t`` as it arrives, and a
``MutationObserver`` marks every noted delta "DOM updated" at the first
mutation that adds elements after it (``performance.timeOrigin +
performance.now()``; at the end of the handler for today's page, which
renders synchronously; at the render for a page that defers to an animation
frame), then the time of the next animation frame. The delay of event *i*
is the DOM time of the first delta whose ``bench_t`` is at or after *i*'s
time (same machine, same clock). An event not on the page 0.5 s after the
last one counts with the delay it had then (a lower bound). Browser CPU:
Chrome DevTools Protocol ``Performance.getMetrics`` before and after the
run, divided by the deltas the page handled: ``ThreadTime`` (the main
thread's CPU) and the task, script, layout and style durations.

Prints one JSON line. ``bench/console_latency.py --page`` runs it three
times in fresh processes and prints min/median/max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.console.auth import ConsoleUser, Role, hash_password  # noqa: E402
from bailanys.console.server import ConsoleServer  # noqa: E402
from bailanys.engine.console import FLUSH_S  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password"
STATES = ("available", "ringing", "on_call", "wrap_up", "break", "available", "on_call")
REASONS = ("lunch", "training", "technical", "personal")
KPI_TARGETS = {"wait_s": (40.0, 60.0), "lost_pct": (5.0, 10.0), "fcr_pct": (85.0, 80.0),
               "satisfaction_score": (5.0, 4.25), "accuracy_pct": (85.0, 80.0),
               "service_level_pct": (None, None), "asa_s": (None, None), "aht_s": (None, None)}

HOOK = """
(() => {
  // Deltas received, waiting for the DOM: [bench_t ms, DOM updated ms, next frame ms].
  window.__bench = { deltas: [] };
  const open = [];
  const now = () => performance.timeOrigin + performance.now();
  // The DOM is updated when rows or cards are added (the clock's ticks only
  // replace text nodes): synchronous renders land here at the handler's end,
  // deferred ones (a render per animation frame) when they happen.
  new MutationObserver((records) => {
    if (!open.length) return;
    // A page drawing in place (issue 21) adds few elements: it marks each
    // drawing with body[data-rendered] at its end.
    if (!records.some((r) => r.attributeName === "data-rendered"
        || Array.from(r.addedNodes).some((n) => n.nodeType === 1))) return;
    const t = now();
    const done = open.splice(0);
    for (const rec of done) rec[1] = t;
    requestAnimationFrame(() => { const f = now(); for (const rec of done) rec[2] = f; });
  }).observe(document, { childList: true, subtree: true, attributes: true,
                          attributeFilter: ["data-rendered"] });
  const add = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (type !== "message") return add.call(this, type, listener, options);
    const wrapped = function (event) {
      const m = typeof event.data === "string" && event.data.match(/"bench_t":\\s*([0-9.]+)/);
      if (m) {
        const rec = [Number(m[1]) * 1000, 0, 0, event.data.length];
        window.__bench.deltas.push(rec);
        open.push(rec);
      }
      return listener.call(this, event);
    };
    return add.call(this, type, wrapped, options);
  };
})();
"""


class FloorApi:
    """A floor of agents, queues and waiting callers, changed by events."""

    def __init__(self, agents: int, queues: int, waiting: int, seed: int = 1414) -> None:
        self.rng = random.Random(seed)
        now = time.time()
        self.agents = [{"user": str(1000 + i), "name": f"Оператор {i:03d}",
                        "state": self.rng.choice(STATES), "since": round(now - 60, 3),
                        "reason": None, "current_call": None} for i in range(agents)]
        self.queue_names = [f"q{n:02d}" for n in range(queues)]
        self.waiting: dict[str, list[dict[str, Any]]] = {q: [] for q in self.queue_names}
        self.calls = 0
        for _ in range(waiting):
            self._join(now - self.rng.uniform(0, 120))
        self.kpis = {name: {"value": 50.0, "samples": 100, "status": "within",
                            "limit": limit, "goal": goal}
                     for name, (goal, limit) in KPI_TARGETS.items()}
        self.callbacks: list[Any] = []
        self.dirty: set[str] = set()
        self.newest = 0.0
        self.history = [{"t": now - 3600 + 60 * i, "waiting": waiting} for i in range(60)]

    def _join(self, since: float) -> None:
        queue = self.rng.choice(self.queue_names)
        self.calls += 1
        self.waiting[queue].append({"call_id": f"{self.calls:032x}", "since": since,
                                    "language": self.rng.choice(("kk", "ru")),
                                    "callback": False})

    def apply(self, now: float) -> None:
        """One event at wall time ``now``."""
        roll = self.rng.random()
        if roll < 0.7:
            agent = self.rng.choice(self.agents)
            agent["state"] = self.rng.choice(STATES)
            agent["since"] = round(now, 3)
            agent["reason"] = self.rng.choice(REASONS) if agent["state"] == "break" else None
            agent["current_call"] = (f"{self.calls:032x}" if agent["state"] == "on_call"
                                     else None)
            self.dirty.add("agents")
        elif roll < 0.9:
            full = [q for q in self.queue_names if self.waiting[q]]
            self.waiting[self.rng.choice(full)].pop(0)
            self._join(now)
            self.dirty.add("queues")
        self.kpis["wait_s"]["samples"] += 1
        self.kpis["wait_s"]["value"] = round(30 + 20 * self.rng.random(), 1)
        self.dirty.add("kpis")
        self.newest = now

    def parts(self, keys: set[str]) -> dict[str, Any]:
        now = time.time()
        out: dict[str, Any] = {}
        if "queues" in keys:
            out["queues"] = [
                {"name": q, "agents_available": sum(1 for a in self.agents[i::len(self.waiting)]
                                                    if a["state"] == "available"),
                 "waiting": [{"call_id": c["call_id"], "position": n + 1,
                              "waited": round(now - c["since"], 1), "language": c["language"],
                              "callback": c["callback"]}
                             for n, c in enumerate(self.waiting[q])]}
                for i, q in enumerate(self.queue_names)]
        if "agents" in keys:
            out["agents"] = [dict(a) for a in self.agents]
        if "kpis" in keys:
            out["kpis"] = {k: dict(v) for k, v in self.kpis.items()}
        if "history" in keys:
            out["history"] = list(self.history)
        return out

    # --- ConsoleApi ---------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        out = self.parts({"queues", "agents", "kpis", "history"})
        out["cases"] = {"enabled": False, "overdue": 0, "departments": [], "items": [],
                        "latest": []}
        out["topics"] = []
        return out

    def subscribe(self, callback: Any) -> Any:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    async def act(self, user: Any, action: dict[str, Any]) -> dict[str, Any]:
        return {}

    def metrics_text(self) -> bytes:
        return b""

    async def flusher(self, stop: asyncio.Event, sent: list[int]) -> None:
        """One delta of the changed keys every FLUSH_S, as the engine does."""
        while not stop.is_set():
            await asyncio.sleep(FLUSH_S)
            if not self.dirty:
                continue
            keys, self.dirty = self.dirty, set()
            delta = self.parts(keys)
            delta["bench_t"] = self.newest
            for callback in list(self.callbacks):
                callback(delta)
            sent[0] += 1


async def inject(api: FloorApi, rate: int, seconds: float, stamps: list[float]) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    total = int(rate * seconds)
    i = 0
    while i < total:
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        target = min(total, int((loop.time() - start) * rate) + 1)
        while i < target:
            now = time.time()
            api.apply(now)
            stamps.append(now)
            i += 1


#: Main-thread task, script, layout and style durations (wall time inside the
#: renderer's tasks: on a loaded machine they include time the thread waited
#: for a core) and ThreadTime, the main thread's CPU time.
CPU_KEYS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration",
            "ThreadTime")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    api = FloorApi(args.agents, args.queues, args.waiting)
    users = {"bench": ConsoleUser("bench", Role.SUPERVISOR, hash_password(PASSWORD), "Bench")}
    extra = {"static_dir": Path(args.static)} if args.static else {}
    server = ConsoleServer("127.0.0.1", 0, users, api, **extra)  # type: ignore[arg-type]
    await server.start()
    stop = asyncio.Event()
    sent = [0]
    flusher = asyncio.create_task(api.flusher(stop, sent))
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = await browser.new_page(viewport={"width": 1920, "height": 1080})
            await page.add_init_script(HOOK)
            base = f"http://127.0.0.1:{server.port}"
            await page.goto(f"{base}/login")
            await page.fill("input[name=user]", "bench")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/")
            await page.wait_for_selector(f"#agents tbody tr[data-agent='{1000 + args.agents - 1}']")
            if args.scroll:  # what is on screen is drawn; the rest may be skipped
                await page.evaluate("(s) => document.querySelector(s).scrollIntoView()",
                                    args.scroll)
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Performance.enable")
            if args.profile:
                await cdp.send("Profiler.enable")
                await cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                await cdp.send("Profiler.start")
            await asyncio.sleep(1.0)
            await page.evaluate("() => { window.__bench.deltas.length = 0; }")
            before = {m["name"]: m["value"]
                      for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
            stamps: list[float] = []
            t0 = time.perf_counter()
            await inject(api, args.rate, args.seconds, stamps)
            wall = time.perf_counter() - t0
            await asyncio.sleep(0.5)
            end_ms = time.time() * 1000
            after = {m["name"]: m["value"]
                     for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
            deltas = await page.evaluate("() => window.__bench.deltas")
            hot = top_functions((await cdp.send("Profiler.stop"))["profile"]) if args.profile \
                else []
            rows = await page.locator("#agents tbody tr").count()
            callers = await page.locator("#queues tr[data-call]").count()
            await browser.close()
    finally:
        stop.set()
        await flusher
        await server.stop()
    out = measure(stamps, deltas, before, after, wall, rows, callers, sent[0], args, end_ms)
    if hot:
        out["profile_top_self_ms"] = hot
    return out


def top_functions(profile: dict[str, Any], n: int = 12) -> list[tuple[str, float]]:
    """Self time by function (CDP Profiler samples), the heaviest first."""
    deltas = profile.get("timeDeltas", [])
    by_node: dict[int, float] = {}
    for node_id, dt in zip(profile.get("samples", []), deltas, strict=False):
        by_node[node_id] = by_node.get(node_id, 0.0) + dt / 1000.0
    totals: dict[str, float] = {}
    for node in profile["nodes"]:
        frame = node["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1]
        name = f"{frame['functionName'] or '(anonymous)'} {where}:{frame['lineNumber'] + 1}" \
            if where else frame["functionName"] or "(anonymous)"
        totals[name] = totals.get(name, 0.0) + by_node.get(node["id"], 0.0)
    return [(k, round(v, 1)) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])[:n]]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def measure(stamps: list[float], deltas: list[list[float]], before: dict[str, float],
            after: dict[str, float], wall: float, rows: int, callers: int, sent: int,
            args: argparse.Namespace, end_ms: float) -> dict[str, Any]:
    deltas = sorted(d for d in deltas if d[1])
    dom: list[float] = []
    frame: list[float] = []
    unshown = 0
    j = 0
    for s in (x * 1000 for x in stamps):
        while j < len(deltas) and deltas[j][0] < s - 0.5:  # bench_t rounds to the ms
            j += 1
        if j == len(deltas):
            # Not on the page by the end (0.5 s after the last event): counted
            # with the delay it had then, a lower bound.
            unshown += 1
            dom.append(end_ms - s)
            frame.append(end_ms - s)
            continue
        dom.append(deltas[j][1] - s)
        if deltas[j][2]:
            frame.append(deltas[j][2] - s)
    handled = len(deltas)
    # How old a delta's newest event was when the page took it: render time
    # alone when nothing queues between the server and the page.
    ages = [d[1] - d[0] for d in deltas]
    sizes = [d[3] for d in deltas if len(d) > 3]
    cpu = {k: (after.get(k, 0.0) - before.get(k, 0.0)) * 1000 for k in CPU_KEYS}
    return {
        "agents": args.agents, "queues": args.queues, "waiting": args.waiting,
        "rate": args.rate, "events": len(stamps), "seconds": round(wall, 2),
        "flushes": sent, "deltas_handled": handled, "events_not_shown": unshown,
        "agent_rows": rows, "caller_rows": callers,
        "dom_p50_ms": round(pct(dom, 50), 1), "dom_p99_ms": round(pct(dom, 99), 1),
        "dom_max_ms": round(max(dom) if dom else float("nan"), 1),
        "frame_p99_ms": round(pct(frame, 99), 1),
        "delta_age_p50_ms": round(pct(ages, 50), 1), "delta_age_max_ms": round(
            max(ages) if ages else float("nan"), 1),
        "delta_kb_p50": round(pct(sizes, 50) / 1024, 1) if sizes else None,
        "cpu_ms_per_update": {k: round(v / max(1, handled), 2) for k, v in cpu.items()},
        "cpu_share_of_a_core": round(cpu["ThreadTime"] / 1000 / wall, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--static", default="",
                        help="serve the page from this directory (a variant of console/static/)")
    parser.add_argument("--scroll", default="",
                        help="scroll this CSS selector's element to the top first "
                             "(e.g. '#agents': the agents' table on screen)")
    parser.add_argument("--profile", action="store_true",
                        help="also sample the page's JavaScript (CDP Profiler)")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(run(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
