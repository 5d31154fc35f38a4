"""The engine's side of the console and the KPIs: :class:`ConsoleApi` for real.

:class:`EngineConsole` folds every event the engine appends into the KPI
windows (live, the current 15-minute interval, today), keeps the history of
calls waiting over the last hour, and serves the supervisors' console and
``/metrics``.  At start it replays today's stored events, so the KPIs after
a restart equal those before it.  Changes reach console clients as deltas
at most every ``FLUSH_S`` (coalesced: a burst of a thousand events is one
delta), never on the event path itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bailanys.authguard import AuthGuard
from bailanys.console.api import ActionError, DeltaCallback, StateDict, Unsubscribe
from bailanys.console.auth import ConsoleUser
from bailanys.console.server import ConsoleServer
from bailanys.metrics.authmetrics import AuthCollector
from bailanys.metrics.fold import KpiConfig
from bailanys.metrics.prometheus import KpiCollector, make_registry, render
from bailanys.metrics.windows import KpiWindows, day_start
from bailanys.queue.agents import QueueError
from bailanys.store.events import Event

if TYPE_CHECKING:
    from bailanys.engine.core import Engine

log = logging.getLogger(__name__)

FLUSH_S = 0.05  # deltas to console clients at most twenty times a second
HISTORY_STEP_S = 10.0  # one point of the "calls waiting" chart every 10 s
HISTORY_POINTS = 360  # the last hour
_QUEUE_EVENTS = ("queue.", "call.connected", "call.completed", "call.ended")
_AGENT_EVENTS = ("agent.", "call.connected", "call.completed")


class EngineConsole:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        cfg = engine.config.console
        self.windows = KpiWindows(KpiConfig(
            service_level_s=float(cfg.service_level_s), wait_of_all=cfg.kpi_wait_of_all,
            fcr_per_call=cfg.kpi_fcr_per_call))
        self.registry = make_registry(KpiCollector(
            lambda: self.windows.snapshots(time.time()),
            calls_in_progress=lambda: len(engine.calls),
            rtp_late_frames=lambda: engine.hub.stats.late_frames,
            event_writer_lag=lambda: engine.events.lag,
        ))
        self.registry.register(AuthCollector(self._auth_guards))
        #: Throttles wrong console passwords (built in start(), with the users).
        self.login_guard: AuthGuard | None = None
        self.history: deque[dict[str, float]] = deque(maxlen=HISTORY_POINTS)
        self._subscribers: list[DeltaCallback] = []
        self._dirty: set[str] = set()
        self._unsubscribe_events: Callable[[], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.server: ConsoleServer | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        events = self.engine.events
        since = day_start(time.time())
        replayed = await events.query(since=since)
        for event in replayed:
            self.windows.apply(event)
        self._unsubscribe_events = events.subscribe(self._on_event)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._flusher(), name="console-deltas"),
            loop.create_task(self._sampler(), name="console-history"),
        ]
        cfg = self.engine.config.console
        if cfg.listen:
            users = {
                login: ConsoleUser(login, value.partition(":")[0],  # type: ignore[arg-type]
                                   value.partition(":")[2])
                for login, value in cfg.users.items()
            }
            self.login_guard = AuthGuard(
                "console", self.engine.config.auth.limits, known=users.__contains__,
                emit=self.engine.events.emit)
            self.server = ConsoleServer(cfg.host, cfg.port, users, self,
                                        session_ttl=float(cfg.session_ttl_s),
                                        guard=self.login_guard)
            await self.server.start()
            log.info("console on http://%s:%d/ (%d users); KPIs from %d events of today",
                     cfg.host, self.server.port, len(users), len(replayed))

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self._unsubscribe_events is not None:
            self._unsubscribe_events()
            self._unsubscribe_events = None
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # ------------------------------------------------------------ events in

    def _on_event(self, event: Event) -> None:
        """Called by the event log for every append: O(1), never awaits."""
        self.windows.apply(event)
        self._dirty.add("kpis")
        if event.type.startswith(_QUEUE_EVENTS):
            self._dirty.add("queues")
        if event.type.startswith(_AGENT_EVENTS):
            self._dirty.add("agents")

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            if not self._dirty or not self._subscribers:
                self._dirty.clear()
                continue
            dirty, self._dirty = self._dirty, set()
            delta = self._parts(dirty)
            for callback in list(self._subscribers):
                try:
                    callback(delta)
                except Exception:
                    log.exception("a console subscriber failed")

    async def _sampler(self) -> None:
        while True:
            self.history.append({"t": round(time.time(), 3), "waiting": self._waiting()})
            if self._subscribers:
                for callback in list(self._subscribers):
                    callback({"history": list(self.history)})
            await asyncio.sleep(HISTORY_STEP_S)

    # ------------------------------------------------------------ ConsoleApi

    def snapshot(self) -> StateDict:
        return self._parts({"queues", "agents", "kpis", "history"})

    def subscribe(self, callback: DeltaCallback) -> Unsubscribe:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    async def act(self, user: ConsoleUser, action: StateDict) -> StateDict:
        queues = self.engine.queues
        if queues.core is None:
            raise ActionError("no queues are configured")
        name = action.get("name")
        agent = str(action.get("agent", ""))
        try:
            if name == "agent_login":
                queues.login(agent)
            elif name == "agent_logout":
                queues.logout(agent)
            elif name == "agent_pause":
                queues.pause(agent, str(action.get("reason") or "break"))
            elif name == "agent_unpause":
                queues.unpause(agent)
            elif name == "disposition":
                queues.disposition(str(action.get("call_id", "")), agent,
                                   bool(action.get("resolved")), action.get("topic") or None)
            else:
                raise ActionError(f"unknown action {name!r}", "bad_request")
        except (QueueError, KeyError, ValueError) as exc:
            raise ActionError(str(exc)) from None
        self.engine.events.append("console.action", None, user=user.login, action=name,
                                  agent=agent)
        return {}

    def metrics_text(self) -> bytes:
        return render(self.registry)

    def _auth_guards(self) -> list[AuthGuard]:
        registrar = self.engine.registrar
        guards = [registrar.guard] if registrar is not None else []
        return guards + ([self.login_guard] if self.login_guard is not None else [])

    # ------------------------------------------------------------ state

    def _waiting(self) -> int:
        core = self.engine.queues.core
        if core is None:
            return 0
        return sum(len(q.callers) for q in core.snapshot(time.monotonic()).queues)

    def _parts(self, keys: set[str]) -> StateDict:
        out: StateDict = {}
        core = self.engine.queues.core
        mono, wall = time.monotonic(), time.time()
        if "queues" in keys or "agents" in keys:
            snap = core.snapshot(mono) if core is not None else None
            if "queues" in keys:
                out["queues"] = [] if snap is None else [
                    {"name": q.name, "agents_available": q.agents_available, "waiting": [
                        {"call_id": c.call_id, "position": c.position,
                         "waited": round(c.waited, 1), "language": c.language,
                         "callback": c.callback}
                        for c in q.callers]}
                    for q in snap.queues]
            if "agents" in keys:
                out["agents"] = [] if snap is None else [
                    {"user": a.user, "name": a.name, "state": a.state,
                     "since": round(wall - (mono - a.since), 3), "reason": a.reason,
                     "current_call": a.current_call}
                    for a in snap.agents]
        if "kpis" in keys:
            today = self.windows.snapshot("today", wall)
            out["kpis"] = {} if today is None else _kpis_by_name(today.to_json())
        if "history" in keys:
            out["history"] = list(self.history)
        return out


def _kpis_by_name(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The total scope's KPIs by name (what the supervisor page shows)."""
    for scope in snapshot.get("scopes", []):
        if scope.get("kind") == "total":
            kpis = scope.get("kpis", {})
            return dict(kpis) if isinstance(kpis, dict) else {}
    return {}
