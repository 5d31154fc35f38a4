"""The engine: one process's parts, started and stopped in order.

:class:`Engine` owns the parts :func:`~bailanys.engine.wiring.build_parts`
builds from the config (media hub, prompts, the IVR/queue/robot services,
the console adapter, the registrar, the SIP transport and endpoint, the call
table, the call server (:mod:`bailanys.engine.uas`) and the dialer
(:mod:`bailanys.engine.dialer`)) and the tasks it starts itself
(:class:`~bailanys.tasks.TaskSet`).

``stop()`` drains first (:meth:`Engine.drain`): new INVITEs get 503 with
Retry-After, callers on the line hear that the service is being restarted
(requirements item 34), then every call ends with cause engine_shutdown.
``start()`` first closes what a crash left open in the store
(:mod:`bailanys.engine.recovery`, cause engine_restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bailanys.cases.service import CasesService
from bailanys.cluster.locations import ProxyPhones
from bailanys.config import Config, advertise_problem
from bailanys.desk.kbweb import RobotKb
from bailanys.desk.service import DeskService
from bailanys.engine.call import Call, CallState
from bailanys.engine.calls import CallTable, DialogId
from bailanys.engine.causes import Cause
from bailanys.engine.clusterqueues import ClusterQueues
from bailanys.engine.console import EngineConsole
from bailanys.engine.dialer import DEFAULT_RING_S, Dialer
from bailanys.engine.floodguard import FloodGuard
from bailanys.engine.flows import FlowService
from bailanys.engine.gcpolicy import GcPolicy
from bailanys.engine.gilpolicy import GilPolicy
from bailanys.engine.monitor import Monitors
from bailanys.engine.prompts import PromptLibrary
from bailanys.engine.queues import QueueService
from bailanys.engine.reconcile import Reconciliation
from bailanys.engine.recorded import RecordedPrompts
from bailanys.engine.recordings import RecordingJobs
from bailanys.engine.recovery import recover
from bailanys.engine.registrar import Registrar
from bailanys.engine.robot import RobotService
from bailanys.engine.routing import NumberRouter
from bailanys.engine.transfers import Transfers
from bailanys.engine.uac import OutboundCall
from bailanys.engine.uas import CallServer
from bailanys.engine.wiring import build_parts, contact_projector
from bailanys.engine.workers import LocalWorkers
from bailanys.errors import StartupError
from bailanys.events import AgentRegistered, AgentUnregistered, CallNotice, EngineStopped
from bailanys.media.hub import MediaHub
from bailanys.ops.service import OpsService
from bailanys.progress import Count, StartupProgress
from bailanys.reports.projector import ContactProjector
from bailanys.sip.endpoint import Endpoint
from bailanys.sip.transport import SipTransport
from bailanys.store import Store
from bailanys.store.events import EventLog
from bailanys.store.sqliteonly import sqlite_file, store_location
from bailanys.tasks import TaskSet
from bailanys.voice.phrases import interruption
from bailanys.voice.tts import PromptRenderer

log = logging.getLogger(__name__)


class Engine:
    """Everything one engine process runs; ``start()`` / ``stop()`` own it all."""

    hub: MediaHub
    renderer: PromptRenderer
    prompts: PromptLibrary
    recorded: RecordedPrompts
    ivr: FlowService
    queues: QueueService
    console: EngineConsole
    robot: RobotService
    transport: SipTransport
    endpoint: Endpoint
    registrar: Registrar
    #: ``[cluster] proxy``: the phones registered with the proxy (issue 22), else None.
    proxy_phones: ProxyPhones | None
    flood: FloodGuard
    table: CallTable
    #: Established calls by dialog id (the call table's ``by_dialog``).
    calls: dict[DialogId, Call]
    router: NumberRouter
    uas: CallServer
    dialer: Dialer
    #: ``[analytics] workers`` transcription processes (engine/workers.py).
    workers: LocalWorkers
    #: Announces finished recordings with their transcription jobs.
    recordings: RecordingJobs
    #: Citizens' requests: the escalation task and the API's store (issue 19).
    cases: CasesService
    #: The operators' desktop: screen pops, agent state, actions (issue 19).
    desk: DeskService
    #: The desktop's knowledge base over the robot's FAQ matcher (issue 19).
    kb: RobotKb
    transfers: Transfers
    monitors: Monitors
    #: ``[cluster] leases_url``: the queues shared with other engines (issue 22), else None.
    cluster_queues: ClusterQueues | None

    def __init__(self, config: Config, *, store: Store | None = None) -> None:
        self.config = config
        self._own_store = store is None
        self.store = store
        self._tasks = TaskSet()
        self._events: EventLog | None = None
        self.started = False
        #: What the start-up found open after a crash (and the breaks to restore).
        self.recovered = Reconciliation()
        self.gc = GcPolicy()
        self.gil = GilPolicy()  # workers' Python hands the loop the GIL within 0.5 ms
        #: Keeps the reports' ``contacts`` current (None with an in-memory store).
        self.contacts: ContactProjector | None = None
        #: The daily backup and retention pass (issue 21, bailanys/ops/).
        self.ops: OpsService | None = None
        build_parts(self)

    @property
    def stopping(self) -> bool:
        """True from the start of ``stop()``: new calls get 503, ends are the engine's."""
        return self.uas.stopping

    @stopping.setter
    def stopping(self, value: bool) -> None:
        self.uas.stopping = value

    # ------------------------------------------------------------ lifecycle

    @property
    def events(self) -> EventLog:
        assert self._events is not None, "engine not started"
        return self._events

    async def start(self) -> None:
        """Start every part, in order; a failure undoes what was started.

        When a step fails (a bad queue file, a port in use) or start-up is
        cancelled (Ctrl-C), the parts already started are stopped in reverse
        order before the error propagates: no socket, thread (the store's
        aiosqlite thread) or process (the TTS worker) is left behind, so the
        process exits at once and systemd can restart it.
        Each step that takes more than a second logs its progress, and the
        last line says ``ready in N s``.
        """
        problem = advertise_problem(self.config)  # load_config refuses it too
        if problem is not None:
            raise problem
        _raise_fd_limit()
        progress = StartupProgress(log.info)
        async with contextlib.AsyncExitStack() as undo:
            await self._start_parts(undo, progress)
            undo.pop_all()  # started: stop() owns them now
        self.started = True
        self.gc.start()  # after start-up: freeze what exists, then serve
        self.gil.start()
        cfg = self.config
        log.info(
            "listening for SIP on %s:%d (%s); RTP %s ports %s; answering %s",
            cfg.sip.host,
            self.transport.port,
            "/".join(t.upper() for t in cfg.sip.transports),
            cfg.rtp_host,
            cfg.media.rtp_ports,
            ", ".join(sorted({*cfg.engine.numbers, *self.ivr.numbers()})),
        )
        log.info("%s", progress.ready())

    async def _start_parts(
        self, undo: contextlib.AsyncExitStack, progress: StartupProgress
    ) -> None:
        """The steps of :meth:`start`; each pushes its undo before it can fail half-way."""
        cfg = self.config
        step = progress.step
        if self.store is None:
            async with step("opening the event store"):
                self.store = await Store.open(
                    cfg.store.location.target,
                    batch_interval=cfg.store.batch_ms / 1000.0,
                    batch_max=cfg.store.batch_max,
                )
            undo.push_async_callback(_undo, "event store", self._close_own_store)
        self._events, file = self.store.events, sqlite_file(self.store.db)  # sqlite3 readers'
        # Before the reconciliation: the calls it closes are folded into contacts too.
        self.contacts = await contact_projector(cfg, store_location(self.store.db), self.events)
        if self.contacts is not None:
            undo.push_async_callback(_undo, "contacts projector", self.contacts.stop)
            await self.contacts.start()
        undo.push_async_callback(_undo, "requests' escalation", self.cases.stop)
        await self.cases.start(store_location(self.store.db))
        self.ops = OpsService(cfg, self.events)
        undo.push_async_callback(_undo, "daily jobs", self.ops.stop)
        await self.ops.start(file)
        # What a crash left open is closed before the queues and the KPI replay.
        self.recovered = await recover(self.store, max_call_seconds=cfg.engine.max_call_seconds)
        await self._start_registrations(undo)
        undo.push_async_callback(_undo, "TTS worker", self.renderer.close)
        rendered = self._render_count
        async with step("rendering prompts", rendered()):  # before the first call can need them
            await self.prompts.prepare()
            await self.prompts.add(interruption.texts(cfg.engine.languages))  # for stop()
        undo.push_async_callback(_undo, "recorded prompts", self.recorded.stop)
        await self.recorded.start()  # a voice talent's recordings win over the TTS
        undo.push_async_callback(_undo, "queues", self.queues.stop)
        async with step("loading queues", rendered()):  # before the flows: their queue nodes
            await self.queues.start()
        undo.push_async_callback(_undo, "voice robot", self.robot.stop)
        async with step("loading the voice robot (FAQ embeddings)", self._faq_count):
            await self.robot.start()
        undo.push_async_callback(_undo, "flows", self.ivr.stop)
        async with step("loading flows and speech models", rendered()):
            await self.ivr.start()  # flows and their prompts, before the first call too
        undo.push_async_callback(_undo, "operators' desktop", self.desk.stop)
        await self.desk.start()  # before the console serves its routes
        await self.kb.start()  # the desktop's knowledge base on the robot's matcher
        undo.push_async_callback(_undo, "console", self.console.stop)
        async with step("replaying today's events into the KPIs"):
            await _listening("console.listen", cfg.console.listen, self.console.start())
        undo.push_async_callback(_undo, "media", self.hub.stop)
        await self.hub.start()
        undo.push_async_callback(_undo, "SIP transport", self.transport.stop)
        undo.callback(self.endpoint.close)
        await _listening("sip.listen", cfg.sip.listen, self.transport.start())
        if self.endpoint.port != self.transport.port:
            self.endpoint.port = self.transport.port
        await self._start_after_sip(undo)

    async def _start_after_sip(self, undo: contextlib.AsyncExitStack) -> None:
        """What needs the SIP port: the queue leases' address (issue 22); then
        the transcription workers."""
        if self.cluster_queues is not None:
            undo.push_async_callback(_undo, "queue leases", self.cluster_queues.stop)
            await self.cluster_queues.start()
        undo.push_async_callback(_undo, "analytics workers", self.workers.stop)
        await self.workers.start()

    async def _start_registrations(self, undo: contextlib.AsyncExitStack) -> None:
        """The registrar and, behind a proxy, the phones registered with it (issue 22);
        before the queues, which ask who is registered when they start."""
        assert self.store is not None
        undo.push_async_callback(_undo, "registrar", self.registrar.stop)
        await self.registrar.start(time.time(), self.store.registrations)
        if self.proxy_phones is not None:
            undo.push_async_callback(_undo, "proxy's registrations", self.proxy_phones.stop)
            await self.proxy_phones.start()

    def _faq_count(self) -> tuple[int, int]:
        return self.robot.faq_embedded

    def _render_count(self) -> Count:
        """A progress count of the prompts rendered from now on: (rendered, missing)."""
        r0, m0 = self.renderer.rendered, self.renderer.missing
        return lambda: (self.renderer.rendered - r0, self.renderer.missing - m0)

    async def _close_own_store(self) -> None:
        if self._own_store and self.store is not None:
            await self.store.close()

    async def stop(self, *, drain_s: float | None = None) -> None:
        """Stop taking calls, tell the callers on the line (:meth:`drain`, at
        most ``drain_s``, default ``engine.drain_seconds``), hang up every
        call (cause engine_shutdown), then stop SIP, media, the registrar and
        the store."""
        if not self.started:
            return
        self.stopping = True
        limit = float(self.config.engine.drain_seconds) if drain_s is None else drain_s
        cut_short = False
        if limit > 0:
            try:
                await self.drain(limit)
            except asyncio.CancelledError:  # a second SIGTERM: stop now, but stop whole
                log.warning("stopping: the callers' notice cut short")
                cut_short = True
        self.uas.refuse_ringing()  # still ringing: a final answer
        for call in list(self.calls.values()) + [c for c, _ in self.table.by_invite.values()]:
            await call.hangup("shutdown", Cause.ENGINE_SHUTDOWN)
        await asyncio.sleep(0.05)  # let the BYEs leave
        await self.ivr.stop()
        await self.monitors.stop()
        await self.transfers.stop()
        if self.cluster_queues is not None:  # the leases released: taken over at once
            await self.cluster_queues.stop()
        await self.queues.stop()
        await self.robot.stop()
        await self.desk.stop()  # its websockets close before the console's server stops
        await self.console.stop()
        # The last sign of life: the next start's reconciliation dates from it.
        self.events.emit(EngineStopped())
        await self._tasks.cancel_all()
        await self.workers.stop()
        self.gc.stop()
        self.gil.stop()
        self.endpoint.close()
        await self.transport.stop()
        await self.hub.stop()
        await self.recordings.stop()  # the recordings the hub just closed
        if self.contacts is not None:
            await self.contacts.stop()  # folds the calls the shutdown ended
        await self.cases.stop()
        await self.recorded.stop()
        if self.ops is not None:
            await self.ops.stop()
        await self.renderer.close()
        await self.registrar.stop()
        if self.proxy_phones is not None:
            await self.proxy_phones.stop()
        if self._own_store and self.store is not None:
            await self.store.close()
        self.started = False
        if cut_short:
            raise asyncio.CancelledError

    async def drain(self, limit_s: float) -> None:
        """Before a stop: the queues let their callers go (``queue.abandoned``
        cause engine_shutdown), and every caller on the line hears, in its
        language, that the service is being restarted and to call back
        (requirements item 34: inform callers of interruptions), then is hung
        up with cause engine_shutdown; all within ``limit_s`` seconds. New
        INVITEs meanwhile get 503 with Retry-After (``stopping``)."""
        self.stopping = True
        self.queues.drain()
        callers = [c for c in self.calls.values()
                   if c.peer_role is Cause.CALLER and c.state is CallState.CONFIRMED]
        if not callers:
            return
        log.info("stopping: telling %d callers the service restarts (at most %.0f s)",
                 len(callers), limit_s)
        tasks = [self.spawn(self._tell_restart(call)) for call in callers]
        try:
            await asyncio.wait(tasks, timeout=limit_s)
        finally:
            pending = [t for t in tasks if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _tell_restart(self, call: Call) -> None:
        """The restart notice in the caller's language (both if it chose none), then BYE."""
        await call.interrupt()
        langs = (call.language,) if call.language else tuple(self.config.engine.languages)
        self.events.emit(CallNotice(call_id=call.id, notice="service_restarting",
                                    languages=",".join(langs)))
        for lang in langs:
            audio = self.prompts.text(lang, interruption.text(interruption.SERVICE_RESTARTING,
                                                              lang))
            if not await call.play(audio, interruptible=False):
                break
        await call.hangup("shutdown", Cause.ENGINE_SHUTDOWN)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the engine owns (cancelled on stop)."""
        return self._tasks.spawn(coro)

    # ------------------------------------------------------------ outbound (UAC)

    async def call_user(self, user: str, *, ring_s: float = DEFAULT_RING_S) -> OutboundCall:
        """Call an operator's registered phone (:meth:`Dialer.call_user`)."""
        return await self.dialer.call_user(user, ring_s=ring_s)

    # ------------------------------------------------------------ helpers

    def registration_changed(self, user: str, contact: str, registered: bool) -> None:
        """A phone registered or unregistered: an event, and the queues learn of it."""
        kind = AgentRegistered if registered else AgentUnregistered
        self.events.emit(kind(user=user, contact=contact))
        self.queues.registration_changed(user, registered)


async def _undo(what: str, stop: Callable[[], Awaitable[None]]) -> None:
    """Stop one part after a failed start; a second failure is logged, not raised."""
    try:
        await stop()
    except Exception:
        log.exception("start-up failed, and stopping the %s failed too", what)


async def _listening(key: str, address: str, start: Awaitable[None]) -> None:
    """Await a server's start; an address in use becomes one clear StartupError."""
    try:
        await start
    except OSError as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc  # uvloop wraps it
        reason = (cause.strerror or str(cause)).lower()
        hint = " (is another engine running?)" if cause.errno == errno.EADDRINUSE else ""
        raise StartupError(f"{key} {address}: cannot listen: {reason}{hint}") from None


def _raise_fd_limit() -> None:
    """One UDP socket per call: lift the soft file limit to the hard one."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
