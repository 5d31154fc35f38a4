"""Builds the engine's parts from the config: the one place that reads it key by key.

:func:`build_parts` gives an :class:`~bailanys.engine.core.Engine` its media
hub, prompt renderer and library, the IVR/queue/robot services and the
console adapter, the SIP transport and endpoint (the transport feeds the
endpoint directly; the endpoint feeds the call server), the registrar, the
flood guard, the call table, the router of dialled numbers, the call
server (UAS) and the dialer (UAC).  Every adapter gets the small ports it
uses (:mod:`bailanys.engine.ports`), never the engine; what exists only
once the engine runs (its store and events, the recovered breaks, the
speech models, whether it is stopping) is handed over as a getter.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bailanys.analytics.pgwebstore import store_analytics
from bailanys.analytics.web import analytics_routes
from bailanys.authguard import AuthGuard
from bailanys.cases.api import cases_routes
from bailanys.cases.deskapi import caller_lookup, desk_case_routes
from bailanys.cases.notify import CaseNotifier
from bailanys.cases.overduelist import StoreOverdue
from bailanys.cases.service import CasesService
from bailanys.cases.settings import load_or_create_salt
from bailanys.cluster.livestate import state_routes
from bailanys.cluster.locations import ProxyPhones
from bailanys.config import Config
from bailanys.console.server import ExtraRoutes, joined_routes
from bailanys.desk.history import HistoryReader
from bailanys.desk.kbweb import RobotKb, kb_routes
from bailanys.desk.labels import PopLabels
from bailanys.desk.pop import CallJournal, screen_pop
from bailanys.desk.service import DeskService
from bailanys.desk.web import desk_routes
from bailanys.engine.call import Call, CallPorts
from bailanys.engine.callmover import SipMover
from bailanys.engine.calls import CallTable, DialogId
from bailanys.engine.clusterqueues import ClusterQueues
from bailanys.engine.console import EngineConsole
from bailanys.engine.dialer import Dialer
from bailanys.engine.floodguard import FloodGuard
from bailanys.engine.flows import FlowService, FlowSettings
from bailanys.engine.monitor import Monitors
from bailanys.engine.movedin import MovedCallRouter
from bailanys.engine.ports import EventStore
from bailanys.engine.prompts import PromptLibrary
from bailanys.engine.queues import QueueService, QueueSettings
from bailanys.engine.reconcile import Reconciliation
from bailanys.engine.recorded import RecordedPrompts
from bailanys.engine.recordings import RecordingJobs
from bailanys.engine.refer import ReferHandler
from bailanys.engine.registrar import Registrar
from bailanys.engine.robot import RobotService
from bailanys.engine.routing import NumberRouter
from bailanys.engine.transfers import Transfers
from bailanys.engine.uac import UacSettings
from bailanys.engine.uas import CallServer, UasSettings
from bailanys.engine.workers import LocalWorkers, WorkerSettings
from bailanys.errors import ConfigError
from bailanys.events import AnyEvent
from bailanys.intraday.storeread import StoreIntraday
from bailanys.intraday.web import intraday_routes
from bailanys.media.hub import MediaHub
from bailanys.metrics.fencemetrics import FenceCollector
from bailanys.ownership.history import StoreHistory
from bailanys.prompts.store import RecordedStore
from bailanys.prompts.web import PromptsPort, engine_flows, prompts_routes
from bailanys.qa.web import qa_routes
from bailanys.qa.webstore import StoreQa
from bailanys.reports.projector import ContactProjector, EventFeed, classifier_ids
from bailanys.reports.web import reports_routes
from bailanys.reports.webstore import StoreReports
from bailanys.sip.endpoint import Endpoint
from bailanys.sip.message import Request, Response
from bailanys.sip.transport import SipTransport, Source
from bailanys.store import Store
from bailanys.store.db import MEMORY
from bailanys.store.events import Event, EventLog, SideRow
from bailanys.store.sqliteonly import config_location, sqlite_path, store_location
from bailanys.timezone import ALMATY
from bailanys.voice.tts import PromptRenderer

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from bailanys.errors import SipParseError


class Host(Protocol):
    """What the wiring fills in and reads back: the engine's parts, its config,
    and what exists only once it runs (the store, its events, what the
    start-up recovered, whether it is stopping).  :class:`~bailanys.engine.core.Engine`
    is one; naming it here would import the engine back."""

    config: Config
    store: Store | None
    recovered: Reconciliation
    stopping: bool
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
    proxy_phones: ProxyPhones | None
    flood: FloodGuard
    table: CallTable
    calls: dict[DialogId, Call]
    router: NumberRouter
    uas: CallServer
    dialer: Dialer
    workers: LocalWorkers
    recordings: RecordingJobs
    cases: CasesService
    desk: DeskService
    kb: RobotKb
    transfers: Transfers
    monitors: Monitors
    cluster_queues: ClusterQueues | None

    @property
    def events(self) -> EventStore: ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...

    def registration_changed(self, user: str, contact: str, registered: bool) -> None: ...


def build_parts(engine: Host) -> None:
    """Give ``engine`` (its ``config`` set) every part, built from the config."""
    cfg = engine.config
    engine.hub = media_hub(cfg)
    engine.renderer = prompt_renderer(cfg)
    engine.prompts = PromptLibrary(engine.renderer, cfg.engine.languages)
    engine.recorded = RecordedPrompts(Path(cfg.voice.recorded_dir), engine.prompts)
    engine.transport, engine.endpoint = sip_endpoint(cfg)
    events = LateEvents(lambda: engine.events)
    engine.registrar = registrar(cfg, engine.registration_changed, events)
    # Behind a proxy (issue 22): every caller comes from it, and phones are rung through it.
    proxy = cfg.cluster.proxy_addr[0] if cfg.cluster.enabled else None
    engine.flood = FloodGuard(cfg.sip.max_new_calls_per_source_per_second,
                              trusted=frozenset([proxy] if proxy else []))
    engine.proxy_phones = (ProxyPhones(cfg.cluster, engine.registration_changed)
                           if cfg.cluster.enabled else None)
    engine.table = table = CallTable()
    engine.calls = table.by_dialog
    ports = CallPorts(sip=engine.endpoint, legs=engine.hub, events=events, tasks=engine,
                      register=table.register, forget=table.forget)
    engine.dialer = Dialer(ports=ports, settings=uac_settings(cfg),
                           bindings=engine.proxy_phones or engine.registrar,
                           outbound=cfg.cluster.proxy_addr if cfg.cluster.enabled else None,
                           max_call_s=cfg.engine.max_call_seconds)
    engine.recordings = recordings = recording_jobs(engine)
    build_services(engine, events, recordings)
    engine.router = NumberRouter(flows=engine.ivr)
    cq = engine.cluster_queues
    routes = engine.router if cq is None else MovedCallRouter(
        engine.router, engine.queues, cq.queue_names, attach=cq.attach)
    engine.uas = CallServer(table=table, ports=ports, router=routes,
                            registrar=engine.registrar, flood=engine.flood,
                            settings=uas_settings(cfg), recordings=recordings,
                            refer=ReferHandler(lambda: engine.transfers, engine.queues,
                                               engine.spawn),
                            owns_queue=None if cq is None else cq.owns_queue)
    engine.endpoint.user = engine.uas
    engine.workers = LocalWorkers(WorkerSettings.of(cfg))


def recording_jobs(engine: Host) -> RecordingJobs:
    """Announces finished recordings, with their transcription jobs when
    ``[analytics]`` is enabled, in the store the engine opens at start."""

    def log_of_store() -> EventLog:
        assert engine.store is not None, "engine not started"
        return engine.store.events

    return RecordingJobs(log_of_store, jobs=engine.config.analytics.enabled)


def build_services(engine: Host, events: LateEvents, recordings: RecordingJobs) -> None:
    """The queue, robot, flow, desktop and console services, each given only its ports.

    The getters hand over what exists only once the engine has started (the
    store, the recovered breaks, the speech models) or changes (stopping).
    """
    cfg = engine.config
    engine.cases = cases = CasesService(cfg, events, notifier=lambda: _case_sms(engine))
    engine.queues = QueueService(
        settings=QueueSettings.of(cfg), events=events, prompts=engine.prompts, media=engine.hub,
        dialer=engine.dialer, stopping=lambda: engine.stopping,
        breaks=lambda: engine.recovered.breaks, recordings=recordings)
    engine.transfers = Transfers(config=cfg.transfers, queues=engine.queues,
                                 dialer=engine.dialer, events=events)
    engine.monitors = Monitors(config=cfg.monitor, bridges=engine.queues, dialer=engine.dialer,
                               media=engine.hub, events=events)
    engine.robot = RobotService(
        settings=cfg.robot, events=events, prompts=engine.prompts,
        speech=lambda: engine.ivr.speech, languages=tuple(cfg.engine.languages),
        database=lambda: None if engine.store is None else engine.store.db,
        cases=cfg.cases, store_path=config_location(cfg))
    engine.cluster_queues = cluster_queues(engine, events)
    engine.ivr = FlowService(settings=FlowSettings.of(cfg), prompts=engine.prompts,
                             events=events, queues=engine.cluster_queues or engine.queues,
                             robot=engine.robot)
    engine.desk = desk = DeskService(
        settings=cfg.desk, events=events, queues=engine.queues, journal=CallJournal,
        screen_pop=functools.partial(screen_pop, labels=PopLabels(
            lambda: engine.ivr.registry.current.flows.values(),
            lambda: None if engine.robot.matcher is None else engine.robot.matcher.kb)),
        history=lambda: desk_history(engine),
        topics_file=cfg.reports.topics, operators=cfg.console.users,
        source=cfg.source or "<defaults>", transfers=lambda: engine.transfers)
    engine.kb = kb = RobotKb(lambda: engine.robot.matcher)
    if cfg.cluster.console_token and not cfg.console.listen:  # issue 22
        log.warning("cluster.console_token is set but console.listen is empty: the cluster "
                    "console cannot read this engine's /cluster/state")
    engine.console = EngineConsole(
        settings=cfg.console, auth_limits=cfg.auth.limits, events=events, queues=engine.queues,
        calls_in_progress=lambda: len(engine.calls),
        late_frames=lambda: engine.hub.stats.late_frames,
        sip_guard=lambda: engine.registrar.guard, topics_file=cfg.reports.topics,
        cases=StoreOverdue(cases.open_store), monitors=engine.monitors,
        config_file=cfg.source or "<defaults>",
        extra_routes=joined_routes(*store_pages(engine, events),
            desk_routes(desk),
            lambda access, _static: kb_routes(kb, access),
            prompts_routes(recorded_port(engine)),
            # issue 22: this engine's live state for the cluster console
            state_routes(lambda: engine.console.live(), cfg.cluster.console_token,
                         cfg.sip.listen)))
    cq = engine.cluster_queues
    if cq is not None:  # issue 22: what the writer's fence left out
        engine.console.registry.register(FenceCollector(
            lambda: {} if cq.fence is None else cq.fence.dropped_by_group))


def store_pages(engine: Host, events: LateEvents) -> tuple[ExtraRoutes, ...]:
    """The console pages that read the store through ``store.syncdb`` (both
    backends, issue 22): reports, intraday, requests and the desktop's requests;
    the analysts' page through ``analytics.pgwebstore.store_analytics``."""
    cfg, cases = engine.config, engine.cases
    return (
        analytics_routes(store_analytics(config_location(cfg), Path(cfg.media.record_dir)),
                         events, ALMATY),
        reports_routes(StoreReports(config_location(cfg), cfg), events, ALMATY),
        intraday_hook(engine),
        qa_routes(StoreQa(Path(cfg.store.path) if sqlite_path(cfg) else config_location(cfg)),
                  ALMATY),
        cases_routes(cases.tokens_now, cases.open_store, events, tell=cases.tell,
                     salt=functools.cache(  # read once, on the first request
                         functools.partial(load_or_create_salt, cfg.cases.salt_file))),
        lambda access, _static: desk_case_routes(
            cases.open_store, events, cases.tell, caller_lookup(config_location(cfg)), access,
            cases=cfg.cases, topics_file=cfg.reports.topics))


def cluster_queues(engine: Host, events: LateEvents) -> ClusterQueues | None:
    """Queues shared with other engines through leases (``[cluster] leases_url``,
    issue 22); None for an engine on its own."""
    cfg = engine.config
    if not cfg.cluster.owns_queues:
        return None

    def history() -> StoreHistory:
        assert engine.store is not None, "engine not started"
        return StoreHistory(engine.store.db)

    def writer() -> EventLog | None:
        """The event log to fence: the store's, when it is the lease database."""
        store = engine.store
        same = cfg.store.url.strip() == cfg.cluster.leases_url.strip()
        return store.events if store is not None and same else None

    mover = SipMover(start=engine.dialer.start_call, media=engine.hub,
                     proxy=cfg.cluster.proxy_addr)
    return ClusterQueues(cfg.cluster, engine.queues, mover, events,
                         address=lambda: f"{cfg.contact_host}:{engine.transport.port}",
                         history=history, rtp_timeout_s=float(cfg.media.rtp_timeout_s),
                         writer=writer)


def recorded_port(engine: Host) -> PromptsPort:
    """The Prompts page's port: ``[voice] recorded_dir`` and the keys of the flows
    the engine serves at the moment of the request (issue 21)."""
    cfg = engine.config
    return PromptsPort(RecordedStore(Path(cfg.voice.recorded_dir)),
                       engine_flows(lambda: engine.ivr.registry.current.flows.values()),
                       cfg.engine.languages)


def intraday_hook(engine: Host) -> ExtraRoutes:
    """The supervisors' intraday charts, drill-down and exports (issue 21) over
    the store file, with the queues' and agents' names of the queue file and
    each queue's agents (those with every skill the queue needs)."""

    def queue_names() -> tuple[str, ...]:
        config = engine.queues.config
        return () if config is None else tuple(config.queues)

    def agent_names() -> dict[str, str]:
        config = engine.queues.config
        return {} if config is None else {u: a.name for u, a in config.agents.items()}

    def queue_agents(queue: str) -> frozenset[str] | None:
        config = engine.queues.config
        if config is None or queue not in config.queues:
            return None
        need = frozenset(config.queues[queue].skills)  # as queue/routing.py qualifies
        return frozenset(u for u, a in config.agents.items() if need <= a.skill_set)

    def queue_labels() -> dict[str, dict[str, str]]:
        config = engine.queues.config
        return {} if config is None else {
            name: q.display_names() for name, q in config.queues.items()}

    return intraday_routes(StoreIntraday(config_location(engine.config), ALMATY), ALMATY,
                           queue_names=queue_names, agent_names=agent_names,
                           queue_agents=queue_agents, queue_labels=queue_labels)


async def contact_projector(cfg: Config, path: str, feed: EventFeed) -> ContactProjector | None:
    """The ``contacts`` projector (issue 17) on the store's file ``path``,
    checking topics against ``[reports] topics`` when that file exists; None
    for an in-memory store (no second connection can see it)."""
    if path == MEMORY:
        return None
    topics = await asyncio.to_thread(classifier_ids, cfg.reports.topics)
    return ContactProjector(feed, path, ALMATY, cfg.qa.complaints, topics,
                            caller_salt=await caller_salt(cfg))


async def caller_salt(cfg: Config) -> bytes | None:
    """The requests' salt (``[cases] salt_file``, created on first use) that
    keys ``contacts.caller_key`` for the screen pop's history (issue 19);
    None when requests are off or the file is unusable (logged)."""
    if not cfg.cases.enabled:
        return None
    try:
        return await asyncio.to_thread(load_or_create_salt, cfg.cases.salt_file)
    except (ConfigError, OSError) as exc:
        log.error("contacts: no caller keys for the screen pop's history: %s", exc)
        return None


async def desk_history(engine: Host) -> HistoryReader | None:
    """The screen pop's history of the caller (issue 19) on the engine's store
    (its file or PostgreSQL), keyed by the requests' salt; None for an
    in-memory store (no second connection can see it) or without a salt."""
    store = engine.store
    if store is None or store.db.path == MEMORY:
        return None
    salt = await caller_salt(engine.config)
    return None if salt is None else HistoryReader(store_location(store.db), salt,
                                                   engine.config.cases)


def _case_sms(engine: Host) -> CaseNotifier | None:
    """The requests' SMS through the robot's outbox (None: no SMS gateway, or
    before the robot has opened it)."""
    outbox = engine.robot.outbox
    return None if outbox is None else CaseNotifier(outbox)


class LateEvents:
    """An event sink for a store opened only when the engine starts."""

    def __init__(self, sink: Callable[[], EventStore]) -> None:
        self._sink = sink

    def emit(self, event: AnyEvent, *, rows: Sequence[SideRow] = ()) -> Event:
        return self._sink().emit(event, rows=rows)

    def emit_at(self, ts: float, event: AnyEvent) -> Event:
        return self._sink().emit_at(ts, event)

    @property
    def lag(self) -> float:
        return self._sink().lag

    async def query(
        self, *, call_id: str | None = None, type: str | None = None,
        since: float | None = None, until: float | None = None, limit: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> list[Event]:
        return await self._sink().query(call_id=call_id, type=type, since=since, until=until,
                                        limit=limit, fields=fields)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        return self._sink().subscribe(callback)


def media_hub(cfg: Config) -> MediaHub:
    """The RTP sessions, from ``media.*`` and the RTP host."""
    media = cfg.media
    return MediaHub(
        cfg.rtp_host,
        media.port_range,
        ptime=media.ptime_ms / 1000.0,
        inband_dtmf=media.inband_dtmf,
        jitter_prefetch=media.jitter_prefetch,
        symmetric_rtp=media.symmetric_rtp,
        rtp_timeout_s=media.rtp_timeout_s,
    )


def prompt_renderer(cfg: Config) -> PromptRenderer:
    """The TTS renderer and its cache, from ``voice.*``."""
    voice = cfg.voice
    return PromptRenderer(
        Path(voice.prompt_dir),
        rate=voice.rate,
        voices={"kk": voice.voice_kk, "ru": voice.voice_ru},
    )


def sip_endpoint(cfg: Config) -> tuple[SipTransport, Endpoint]:
    """The SIP transport and the endpoint on it; the transport feeds the endpoint."""
    sip = cfg.sip
    transport = SipTransport(sip.host, sip.port, _unattached, _unattached_bad,
                             transports=tuple(sip.transports))
    endpoint = Endpoint(transport, cfg.contact_host, sip.port, user_agent=sip.user_agent)
    transport.on_message = endpoint.receive
    transport.on_bad_message = endpoint.bad_message
    return transport, endpoint


def _unattached(msg: Request | Response, source: Source) -> None:
    """The transport's handler until the endpoint is attached (a moment later)."""


def _unattached_bad(data: bytes, source: Source, exc: SipParseError) -> None:
    """The transport's bad-message handler until the endpoint is attached."""


def registrar(
    cfg: Config, on_change: Callable[[str, str, bool], None], events: EventStore
) -> Registrar:
    """The registrar for operators' phones, from ``registrar.*`` and ``auth.limits``.

    Its store (``registrations``) is handed over when the engine starts.
    """
    reg = cfg.registrar
    return Registrar(
        reg.users,
        cfg.realm,
        min_expires=reg.min_expires,
        max_expires=reg.max_expires,
        default_expires=reg.default_expires,
        nonce_ttl=reg.nonce_ttl,
        on_change=on_change,
        guard=AuthGuard("sip", cfg.auth.limits, known=reg.users.__contains__,
                        emit=events.emit),
    )


def uas_settings(cfg: Config) -> UasSettings:
    """The call server's settings from ``sip``, ``engine`` and ``media``."""
    return UasSettings(
        rtp_host=cfg.rtp_host,
        sip_host=cfg.contact_host,
        max_calls=cfg.sip.max_calls,
        answer_delay_s=cfg.engine.answer_delay_ms / 1000.0,
        max_call_s=cfg.engine.max_call_seconds,
        record_dir=Path(cfg.media.record_dir) if cfg.media.record_calls else None,
        # analytics records every call (the caller's side of robot and IVR calls)
        analytics_record_dir=Path(cfg.media.record_dir) if cfg.analytics.enabled else None,
        moves=cfg.cluster.owns_queues,  # calls moved from other engines (issue 22)
    )


def uac_settings(cfg: Config) -> UacSettings:
    """Where our INVITEs come from: the RTP host, the SIP host, the operators' domain."""
    return UacSettings(rtp_host=cfg.rtp_host, sip_host=cfg.contact_host,
                       domain=cfg.sip_domain)
