"""The engine's side of the console and the KPIs: :class:`ConsoleApi` for real.

:class:`EngineConsole` folds every event the engine appends into the KPI
windows (live, the current 15-minute interval, today), keeps the history of
calls waiting over the last hour, and serves the supervisors' console and
``/metrics``.  At start it replays today's stored events, so the KPIs after
a restart equal those before it.  Changes reach console clients as deltas
at most every ``FLUSH_S`` (coalesced: a burst of a thousand events is one
delta), never on the event path itself. The QA events other connections
write into the store (``qa.scored``, ``qa.reviewed``: KPI 2) reach the fold
from :class:`~bailanys.engine.storedtail.StoredTail`, polled every ``POLL_S``.

It takes ports, not the engine: its settings (``[console]``, the auth
limits), the event log, the queue service's console API
(:class:`QueueControl`), and read-only views for the gauges (calls in
progress, late RTP frames) and the SIP registrar's login guard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol

from bailanys.authguard import AuthGuard, Limits
from bailanys.cases.alerts import CaseAlerts, OverdueCase
from bailanys.cases.model import mask_number
from bailanys.config import ConsoleConfig
from bailanys.console.api import ActionError, DeltaCallback, StateDict, Unsubscribe
from bailanys.console.auth import ConsoleUser
from bailanys.console.board import board
from bailanys.console.protocol import ErrorCode
from bailanys.console.server import ConsoleServer, ExtraRoutes
from bailanys.engine.ports import EventStore
from bailanys.engine.storedtail import FOREIGN_TYPES, POLL_S, StoredTail
from bailanys.events import ConsoleAction
from bailanys.metrics.authmetrics import AuthCollector
from bailanys.metrics.fold import KpiConfig
from bailanys.metrics.prometheus import KpiCollector, make_registry, render
from bailanys.metrics.windows import KpiWindows, day_start
from bailanys.monitor.refusals import MonitorRefused
from bailanys.queue.agents import QueueError
from bailanys.queue.core import QueueCore
from bailanys.reports.topics import Topics, topic_tree
from bailanys.store.events import Event
from bailanys.tasks import TaskSet
from bailanys.timezone import ALMATY
from bailanys.web.tls import TlsFiles

log = logging.getLogger(__name__)

FLUSH_S = 0.05  # deltas to console clients at most twenty times a second
HISTORY_STEP_S = 10.0  # one point of the "calls waiting" chart every 10 s
HISTORY_POINTS = 360  # the last hour
#: Issue 21: the wallboard's longest wait grows without events; while callers
#: wait, its row (and its alert level) is sent again every second.
BOARD_TICK_S = 1.0
_QUEUE_EVENTS = ("queue.", "call.connected", "call.completed", "call.ended")
_AGENT_EVENTS = ("agent.", "call.connected", "call.completed")


class QueueControl(Protocol):
    """What the console reads and does with the queues (the queue service)."""

    @property
    def core(self) -> QueueCore | None: ...

    def login(self, user: str) -> None: ...

    def logout(self, user: str) -> None: ...

    def pause(self, user: str, reason: str) -> None: ...

    def unpause(self, user: str) -> None: ...

    def disposition(self, call_id: str, agent: str, resolved: bool, topic: str | None) -> None: ...


class MonitorControl(Protocol):
    """Listen, whisper, barge (issue 21): :class:`~bailanys.engine.monitor.Monitors`."""

    def active(self) -> list[dict[str, Any]]: ...

    async def start(self, supervisor: str, mode: str, *, agent: str | None = None,
                    call_id: str | None = None) -> dict[str, Any]: ...

    def set_mode(self, supervisor: str, mode: str) -> dict[str, Any]: ...

    def stop_monitor(self, supervisor: str) -> dict[str, Any]: ...


class CaseSource(Protocol):
    """The requests' store for the ``cases`` state (blocking: called in a thread;
    :class:`~bailanys.cases.overduelist.StoreOverdue`)."""

    def overdue(self, now: datetime) -> list[OverdueCase]: ...

    def describe(self, number: str) -> tuple[str, str] | None: ...

    def departments(self) -> list[dict[str, Any]]: ...


class EngineConsole:
    """The KPI fold, the "calls waiting" history and the console's API, for real."""

    def __init__(
        self,
        *,
        settings: ConsoleConfig,
        auth_limits: Limits,
        events: EventStore,
        queues: QueueControl,
        calls_in_progress: Callable[[], int],
        late_frames: Callable[[], int],
        sip_guard: Callable[[], AuthGuard | None],
        extra_routes: ExtraRoutes | None = None,
        topics_file: str = "",
        cases: CaseSource | None = None,
        monitors: MonitorControl | None = None,
        config_file: str = "<defaults>",
    ) -> None:
        self.settings = settings
        #: The config file, named by a TLS file's problem at start.
        self.config_file = config_file
        #: The topic classifier (``[reports] topics``); its ids, read at start.
        self.topics_file = topics_file
        self.topics: Topics | None = None
        self.topic_ids: frozenset[str] | None = None
        self.auth_limits = auth_limits
        self.events = events
        self.queues = queues
        self._sip_guard = sip_guard
        #: More pages on the console's port (the analysts' page).
        self.extra_routes = extra_routes
        cfg = settings
        self.windows = KpiWindows(KpiConfig(
            service_level_s=float(cfg.service_level_s), wait_of_all=cfg.kpi_wait_of_all,
            fcr_per_call=cfg.kpi_fcr_per_call))
        self.registry = make_registry(KpiCollector(
            lambda: self.windows.snapshots(time.time()),
            calls_in_progress=calls_in_progress,
            rtp_late_frames=late_frames,
            event_writer_lag=lambda: events.lag,
        ))
        self.registry.register(AuthCollector(self._auth_guards))
        #: Throttles wrong console passwords (built in start(), with the users).
        self.login_guard: AuthGuard | None = None
        self.history: deque[dict[str, float]] = deque(maxlen=HISTORY_POINTS)
        self._subscribers: list[DeltaCallback] = []
        self._dirty: set[str] = set()
        self._unsubscribe_events: Callable[[], None] | None = None
        self._tasks = TaskSet()
        #: The events written into the store by the workers and the QA page.
        self.tail = StoredTail(events)
        self.server: ConsoleServer | None = None
        #: Issue 19: the overdue requests and the latest escalations (``cases``).
        self.case_source = cases
        self.case_alerts = CaseAlerts()
        self._case_day: date | None = None
        self._reading_cases = False
        #: Issue 21: the supervisors' listen, whisper, barge (``monitors``).
        self.monitors = monitors

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self.topics_file:
            self.topics = await asyncio.to_thread(topic_tree, self.topics_file)
            self.topic_ids = None if self.topics is None else self.topics.ids
        events = self.events
        since = day_start(time.time())
        replayed = await events.query(since=since)
        for event in replayed:
            self.windows.apply(event)
        self.tail.mark(replayed, since)
        self._unsubscribe_events = events.subscribe(self._on_event)
        self._tasks.spawn(self._tailer(), name="console-stored-events")
        self._tasks.spawn(self._flusher(), name="console-deltas")
        self._tasks.spawn(self._sampler(), name="console-history")
        self._tasks.spawn(self._board_ticker(), name="console-board")
        if self.case_source is not None:
            self._tasks.spawn(self._load_cases(self.case_source), name="console-cases")
        cfg = self.settings
        if cfg.listen:
            users = {
                login: ConsoleUser(login, value.partition(":")[0],  # type: ignore[arg-type]
                                   value.partition(":")[2])
                for login, value in cfg.users.items()
            }
            self.login_guard = AuthGuard(
                "console", self.auth_limits, known=users.__contains__,
                emit=self.events.emit)
            tls = (TlsFiles(cfg.tls_cert, cfg.tls_key, self.config_file) if cfg.tls
                   else None)
            self.server = ConsoleServer(cfg.host, cfg.port, users, self,
                                        session_ttl=float(cfg.session_ttl_s),
                                        guard=self.login_guard,
                                        extra_routes=self.extra_routes, tls=tls)
            await self.server.start()
            log.info("console on %s://%s:%d/ (%d users); KPIs from %d events of today",
                     "https" if tls else "http", cfg.host, self.server.port, len(users),
                     len(replayed))

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self._unsubscribe_events is not None:
            self._unsubscribe_events()
            self._unsubscribe_events = None
        await self._tasks.cancel_all()

    # ------------------------------------------------------------ events in

    def _on_event(self, event: Event) -> None:
        """Called by the event log for every append: O(1), never awaits."""
        if event.type in FOREIGN_TYPES:
            return  # folded once, from the store (``_tailer``)
        self.windows.apply(event)
        self._dirty.add("kpis")
        self._dirty.add("board")
        if event.type.startswith(_QUEUE_EVENTS):
            self._dirty.add("queues")
        if event.type.startswith(_AGENT_EVENTS):
            self._dirty.add("agents")
        if event.type.startswith("monitor."):
            self._dirty.add("monitors")
        if event.type.startswith("case.") and self.case_alerts.apply(
                event.type, event.data, event.ts):
            self._dirty.add("cases")
            if self.case_alerts.unknown and not self._reading_cases:
                self._reading_cases = True  # one reader at a time, in batches
                self._tasks.spawn(self._describe(), name="console-case-read")

    async def _load_cases(self, source: CaseSource) -> None:
        """The store's overdue requests at start, read in a thread (issue 19)."""
        now = datetime.now(UTC)

        def read() -> tuple[list[OverdueCase], list[dict[str, Any]]]:
            return source.overdue(now), source.departments()

        try:
            items, departments = await asyncio.to_thread(read)
        except Exception as exc:  # requests off, or a store problem: no panel
            log.info("console: no overdue requests' list: %s", exc)
            return
        self.case_alerts.load(items, departments)
        self._dirty.add("cases")

    async def _describe(self) -> None:
        """The topic and department of escalated requests made before the
        engine started (or by another process), read from the store in a
        thread, a batch per read: an escalation pass after a long stop can
        escalate many at once."""
        source, alerts = self.case_source, self.case_alerts
        try:
            while source is not None and alerts.unknown:
                batch = sorted(alerts.unknown)
                alerts.unknown.clear()

                def read(numbers: list[str] = batch) -> list[tuple[str, tuple[str, str] | None]]:
                    return [(n, source.describe(n)) for n in numbers]

                try:
                    found = await asyncio.to_thread(read)
                except Exception as exc:
                    log.warning("console: %d escalated request(s) not read: %s", len(batch), exc)
                    return
                for number, named in found:
                    if named is not None and alerts.describe(number, *named):
                        self._dirty.add("cases")
        finally:
            self._reading_cases = False

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            if not self._dirty or not self._subscribers:
                self._dirty.clear()
                continue
            dirty, self._dirty = self._dirty, set()
            try:
                delta = self._parts(dirty)
            except Exception:  # a bug in one part must not stop every live update
                log.exception("building the console's parts %s failed", sorted(dirty))
                continue
            for callback in list(self._subscribers):
                try:
                    callback(delta)
                except Exception:
                    log.exception("a console subscriber failed")

    async def _tailer(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            try:
                stored = await self.tail.poll()
            except Exception:
                log.exception("reading the workers' and the QA page's events failed")
                continue
            for event in stored:
                self.windows.apply(event)
            if stored:
                self._dirty.update(("kpis", "board"))

    async def _board_ticker(self) -> None:
        """Issue 21: the live waits grow between events: while a caller waits,
        the ``board`` goes out every BOARD_TICK_S (coalesced with the deltas)."""
        while True:
            await asyncio.sleep(BOARD_TICK_S)
            if self._subscribers and self.windows.fold.sizes["waiting"]:
                self._dirty.add("board")

    async def _sampler(self) -> None:
        while True:
            self.history.append({"t": round(time.time(), 3), "waiting": self._waiting()})
            today = datetime.now(ALMATY).date()
            if today != self._case_day:  # the days overdue grow at midnight
                self._case_day = today
                self._dirty.add("cases")
            if self._subscribers:
                for callback in list(self._subscribers):
                    callback({"history": list(self.history)})
            await asyncio.sleep(HISTORY_STEP_S)

    # ------------------------------------------------------------ ConsoleApi

    def snapshot(self) -> StateDict:
        out = self._parts({"queues", "agents", "kpis", "history", "cases", "monitors", "board"})
        # Issue 17: the classifier's topics for the disposition form (static: no deltas).
        out["topics"] = [] if self.topics is None else [
            {"id": t.id, "kk": t.kk, "ru": t.ru} for t in self.topics.topics]
        return out

    def live(self) -> StateDict:
        """Issue 22: the live parts the cluster console merges (``/cluster/state``)."""
        return self._parts({"queues", "agents"})

    def subscribe(self, callback: DeltaCallback) -> Unsubscribe:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    async def act(self, user: ConsoleUser, action: StateDict) -> StateDict:
        if str(action.get("name", "")).startswith("monitor."):
            return await self._monitor(user, action)
        queues = self.queues
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
                topic = action.get("topic") or None
                self._check_topic(topic)
                queues.disposition(str(action.get("call_id", "")), agent,
                                   bool(action.get("resolved")), topic)
            else:
                raise ActionError(f"unknown action {name!r}", "bad_request")
        except (QueueError, KeyError, ValueError) as exc:
            raise ActionError(str(exc)) from None
        self.events.emit(ConsoleAction(user=user.login, action=name, agent=agent))
        return {}

    async def _monitor(self, user: ConsoleUser, action: StateDict) -> StateDict:
        """``monitor.start``, ``monitor.mode``, ``monitor.stop`` (issue 21)."""
        monitors = self.monitors
        if monitors is None:
            raise ActionError("listen, whisper and barge are not set up", "no_phone")
        name, mode = action["name"], str(action.get("mode") or "")
        try:
            if name == "monitor.start":
                result = await monitors.start(user.login, mode or "listen",
                                              agent=action.get("agent") or None,
                                              call_id=action.get("call_id") or None)
            elif name == "monitor.mode":
                result = monitors.set_mode(user.login, mode)
            else:
                result = monitors.stop_monitor(user.login)
        except MonitorRefused as exc:
            raise ActionError(str(exc), exc.code) from None
        self._dirty.add("monitors")
        self.events.emit(ConsoleAction(user=user.login, action=name,
                                       agent=str(result.get("agent", ""))))
        return result

    def _check_topic(self, topic: object) -> None:
        """Issue 17: a disposition's topic must be one of the classifier's, when
        one is configured (the reports count contacts by it)."""
        if topic is not None and self.topic_ids is not None and topic not in self.topic_ids:
            raise ActionError(f"unknown topic {topic!r}: not in the topic classifier "
                              f"({self.topics_file})", ErrorCode.BAD_FIELD.value)

    def metrics_text(self) -> bytes:
        return render(self.registry)

    def _auth_guards(self) -> list[AuthGuard]:
        guards = [g for g in (self._sip_guard(), self.login_guard) if g is not None]
        return guards

    # ------------------------------------------------------------ state

    def _waiting(self) -> int:
        core = self.queues.core
        if core is None:
            return 0
        return sum(len(q.callers) for q in core.snapshot(time.monotonic()).queues)

    def _parts(self, keys: set[str]) -> StateDict:
        out: StateDict = {}
        core = self.queues.core
        mono, wall = time.monotonic(), time.time()
        if "queues" in keys or "agents" in keys:
            snap = core.snapshot(mono) if core is not None else None
            if "queues" in keys:
                out["queues"] = [] if snap is None or core is None else [
                    {"name": q.name, "agents_available": q.agents_available,
                     **_label(core, q.name), "waiting": [
                        {"call_id": c.call_id, "position": c.position,
                         "waited": round(c.waited, 1), "language": c.language,
                         "callback": c.callback,
                         # issue 21: the last 4 digits, as the desk shows them
                         "number": mask_number(self.windows.fold.number_of(c.call_id))}
                        for c in q.callers]}
                    for q in snap.queues]
            if "agents" in keys:
                out["agents"] = [] if snap is None else [
                    {"user": a.user, "name": a.name, "state": a.state,
                     "since": round(wall - (mono - a.since), 3), "reason": a.reason,
                     "current_call": a.current_call}
                    for a in snap.agents]
        today = self.windows.snapshot("today", wall) if keys & {"kpis", "board"} else None
        if "kpis" in keys:
            out["kpis"] = {} if today is None else _kpis_by_name(today.to_json())
        if "history" in keys:
            out["history"] = list(self.history)
        if "board" in keys:
            out["board"] = board(today, core.config if core is not None else None)
        if "cases" in keys:
            out["cases"] = self.case_alerts.to_json(datetime.fromtimestamp(wall, UTC))
        if "monitors" in keys:
            out["monitors"] = [] if self.monitors is None else self.monitors.active()
        return out


def _label(core: QueueCore, name: str) -> dict[str, Any]:
    """Issue 21: a queue's display names (kk, ru) from the queues file."""
    settings = core.config.queues.get(name)
    return {} if settings is None else {"label": settings.display_names()}


def _kpis_by_name(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The total scope's KPIs by name (what the supervisor page shows)."""
    for scope in snapshot.get("scopes", []):
        if scope.get("kind") == "total":
            kpis = scope.get("kpis", {})
            return dict(kpis) if isinstance(kpis, dict) else {}
    return {}
