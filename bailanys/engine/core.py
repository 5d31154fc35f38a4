"""The engine: SIP transaction user joining calls, media, the registrar and events.

:class:`Engine` implements :class:`~bailanys.sip.endpoint.TransactionUser`.
A UAS per RFC 3261 §8.2 and §13.3: INVITE (100 by the transaction, 180,
200 with the SDP answer), ACK, BYE, CANCEL (487), OPTIONS (200), re-INVITE
(hold/unhold, §14), REGISTER (the registrar); known methods we do not serve
get 405 with Allow, unknown ones 501.  Each new INVITE passes a flood guard
(per source address) and the call limit first (503 with Retry-After).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bailanys.authguard import AuthGuard
from bailanys.config import Config
from bailanys.engine.call import Call, CallState, FlowFactory
from bailanys.engine.causes import Cause
from bailanys.engine.console import EngineConsole
from bailanys.engine.floodguard import FloodGuard
from bailanys.engine.flows import FlowService, FlowSettings
from bailanys.engine.gcpolicy import GcPolicy
from bailanys.engine.prompts import PromptLibrary
from bailanys.engine.queues import QueueService, QueueSettings
from bailanys.engine.reconcile import Reconciliation
from bailanys.engine.recovery import recover
from bailanys.engine.registrar import Registrar
from bailanys.engine.robot import RobotService
from bailanys.engine.shims import EngineDialer, LateEvents
from bailanys.engine.uac import OutboundCall, place_call, start_call
from bailanys.errors import MediaError, SdpError, SipParseError, StartupError
from bailanys.media.hub import MediaHub
from bailanys.media.session import RtpSession
from bailanys.progress import Count, StartupProgress
from bailanys.sip.dialog import Dialog, dialog_id_of
from bailanys.sip.endpoint import Endpoint, ServerHandle
from bailanys.sip.headers import NameAddr, SipUri
from bailanys.sip.ids import new_tag
from bailanys.sip.message import Request, Response, make_response
from bailanys.sip.sdp import NoCommonCodec, SessionDescription, negotiate
from bailanys.sip.transaction import server_key
from bailanys.sip.transport import SipTransport, Source
from bailanys.store import Store
from bailanys.store.events import EventLog
from bailanys.voice.phrases import interruption
from bailanys.voice.tts import PromptRenderer

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"
SUPPORTED: frozenset[str] = frozenset()  # option tags we implement (none yet: 100rel, timer...)
KNOWN_UNSERVED = frozenset(
    {"INFO", "UPDATE", "MESSAGE", "NOTIFY", "SUBSCRIBE", "REFER", "PRACK", "PUBLISH"}
)
RETRY_AFTER_S = 5  # Retry-After on 503 (RFC 3261 §20.33); short: load passes quickly


class Engine:
    """Everything one engine process runs; ``start()`` / ``stop()`` own it all."""

    def __init__(self, config: Config, *, store: Store | None = None) -> None:
        self.config = config
        self._own_store = store is None
        self.store = store
        self.hub = MediaHub(
            config.rtp_host,
            config.media.port_range,
            ptime=config.media.ptime_ms / 1000.0,
            inband_dtmf=config.media.inband_dtmf,
            jitter_prefetch=config.media.jitter_prefetch,
            symmetric_rtp=config.media.symmetric_rtp,
            rtp_timeout_s=config.media.rtp_timeout_s,
        )
        self.renderer = PromptRenderer(
            Path(config.voice.prompt_dir),
            rate=config.voice.rate,
            voices={"kk": config.voice.voice_kk, "ru": config.voice.voice_ru},
        )
        self.prompts = PromptLibrary(self.renderer, config.engine.languages)
        events = LateEvents(lambda: self.events)
        self.queues = QueueService(
            settings=QueueSettings.of(config), events=events, prompts=self.prompts,
            media=self.hub, stopping=lambda: self.stopping, breaks=lambda: self.recovered.breaks,
            dialer=EngineDialer(lookup=lambda user: [] if self.registrar is None else
                                self.registrar.lookup(user, time.time()),
                                start_call=lambda binding: start_call(self, binding)))
        self.robot = RobotService(
            settings=config.robot, events=events, prompts=self.prompts,
            speech=lambda: self.ivr.speech, languages=tuple(config.engine.languages),
            database=lambda: None if self.store is None else self.store.db)
        self.ivr = FlowService(settings=FlowSettings.of(config), prompts=self.prompts,
                               events=events, queues=self.queues, robot=self.robot)
        self.console = EngineConsole(
            settings=config.console, auth_limits=config.auth.limits, events=events,
            queues=self.queues, calls_in_progress=lambda: len(self.calls),
            late_frames=lambda: self.hub.stats.late_frames,
            sip_guard=lambda: None if self.registrar is None else self.registrar.guard)
        self.transport = SipTransport(
            config.sip.host,
            config.sip.port,
            self._on_message,
            self._on_bad_message,
            transports=tuple(config.sip.transports),
        )
        self.endpoint = Endpoint(
            self.transport, config.sip.host, config.sip.port, user_agent=config.sip.user_agent
        )
        self.endpoint.user = self
        self.registrar: Registrar | None = None
        self.flood = FloodGuard(config.sip.max_new_calls_per_source_per_second)
        self.calls: dict[tuple[str, str, str], Call] = {}  # by dialog id
        self._by_invite: dict[object, tuple[Call, ServerHandle]] = {}
        self._awaiting_ack: dict[object, Call] = {}  # answered INVITEs, until their ACK
        self._setup_failures: dict[str, int] = {}  # unexpected set-up errors by type
        self._tasks: set[asyncio.Task[Any]] = set()
        self._events: EventLog | None = None
        self.started = False
        #: True from the start of ``stop()``: new calls get 503, ends are the engine's.
        self.stopping = False
        #: What the start-up found open after a crash (and the breaks to restore).
        self.recovered = Reconciliation()
        self.gc = GcPolicy()

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
        process exits at once and systemd can restart it (issue 13 item 4).
        Each step that takes more than a second logs its progress, and the
        last line says ``ready in N s`` (issue 13).
        """
        _raise_fd_limit()
        progress = StartupProgress(log.info)
        async with contextlib.AsyncExitStack() as undo:
            await self._start_parts(undo, progress)
            undo.pop_all()  # started: stop() owns them now
        self.started = True
        self.gc.start()  # after start-up: freeze what exists, then serve
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
                    cfg.store.path,
                    batch_interval=cfg.store.batch_ms / 1000.0,
                    batch_max=cfg.store.batch_max,
                )
            undo.push_async_callback(_undo, "event store", self._close_own_store)
        self._events = self.store.events
        # What a crash left open is closed before the queues and the KPI replay.
        self.recovered = await recover(self.store, max_call_seconds=cfg.engine.max_call_seconds)
        self.registrar = Registrar(
            cfg.registrar.users,
            cfg.realm,
            min_expires=cfg.registrar.min_expires,
            max_expires=cfg.registrar.max_expires,
            default_expires=cfg.registrar.default_expires,
            nonce_ttl=cfg.registrar.nonce_ttl,
            store=self.store.registrations,
            on_change=self._registration_changed,
            guard=AuthGuard("sip", cfg.auth.limits, known=cfg.registrar.users.__contains__,
                            emit=lambda type_, fields: self.events.append(type_, None, **fields)),
        )
        undo.push_async_callback(_undo, "registrar", self.registrar.stop)
        await self.registrar.start(time.time())
        undo.push_async_callback(_undo, "TTS worker", self.renderer.close)
        rendered = self._render_count
        async with step("rendering prompts", rendered()):  # before the first call can need them
            await self.prompts.prepare()
            await self.prompts.add(interruption.texts(cfg.engine.languages))  # for stop()
        undo.push_async_callback(_undo, "queues", self.queues.stop)
        async with step("loading queues", rendered()):  # before the flows: their queue nodes
            await self.queues.start()
        undo.push_async_callback(_undo, "voice robot", self.robot.stop)
        async with step("loading the voice robot (FAQ embeddings)", self._faq_count):
            await self.robot.start()
        undo.push_async_callback(_undo, "flows", self.ivr.stop)
        async with step("loading flows and speech models", rendered()):
            await self.ivr.start()  # flows and their prompts, before the first call too
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
        for call, handle in list(self._by_invite.values()):  # still ringing: a final answer
            _unavailable(handle, "Restarting", call.dialog.local_tag if call.dialog else None)
        for call in list(self.calls.values()) + [c for c, _ in self._by_invite.values()]:
            await call.hangup("shutdown", Cause.ENGINE_SHUTDOWN)
        await asyncio.sleep(0.05)  # let the BYEs leave
        await self.ivr.stop()
        await self.queues.stop()
        await self.robot.stop()
        await self.console.stop()
        # The last sign of life: the next start's reconciliation dates from it.
        self.events.append("engine.stopped", None)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.gc.stop()
        self.endpoint.close()
        await self.transport.stop()
        await self.hub.stop()
        await self.renderer.close()
        if self.registrar is not None:
            await self.registrar.stop()
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
        self.events.append("call.notice", call.id, notice="service_restarting",
                           languages=",".join(langs))
        for lang in langs:
            audio = self.prompts.text(lang, interruption.text(interruption.SERVICE_RESTARTING,
                                                              lang))
            if not await call.play(audio, interruptible=False):
                break
        await call.hangup("shutdown", Cause.ENGINE_SHUTDOWN)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the engine owns (cancelled on stop)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------ transport callbacks

    def _on_message(self, msg: Request | Response, source: Source) -> None:
        self.endpoint.receive(msg, source)

    def _on_bad_message(self, data: bytes, source: Source, exc: SipParseError) -> None:
        self.endpoint.bad_message(data, source, exc)

    # ------------------------------------------------------------ TransactionUser

    def on_request(self, handle: ServerHandle) -> None:
        req = handle.request
        unsupported = [
            tag.strip()
            for tag in req.headers.get_all("Require")
            if tag.strip() and tag.strip() not in SUPPORTED
        ]
        if unsupported and req.method not in ("ACK", "CANCEL"):
            handle.reply(420, to_tag=new_tag(), extra=[("Unsupported", ", ".join(unsupported))])
            return
        if req.uri.partition(":")[0].lower() not in ("sip", "sips"):
            # §8.2.2.1 for every method (RFC 4475 §3.3.2/3.3.3: OPTIONS to an
            # unknown scheme), not only INVITE: we serve no other scheme.
            handle.reply(416, to_tag=new_tag())
            return
        method = req.method
        if method == "INVITE":
            if _to_tag(req):
                self._reinvite(handle)
            else:
                self._new_call(handle)
        elif method == "BYE":
            self._bye(handle)
        elif method == "OPTIONS":
            handle.reply(
                200,
                to_tag=new_tag(),
                extra=[
                    ("Allow", ALLOW),
                    ("Accept", "application/sdp"),
                    ("Accept-Language", "kk, ru"),
                ],
            )
        elif method == "REGISTER":
            assert self.registrar is not None
            handle.respond(self.registrar.handle(req, handle.source, time.time()))
        elif method in KNOWN_UNSERVED:
            handle.reply(405, to_tag=new_tag(), extra=[("Allow", ALLOW)])
        else:
            handle.reply(501, to_tag=new_tag(), extra=[("Allow", ALLOW)])

    def on_ack(self, ack: Request, source: Source) -> None:
        call = self.calls.get(dialog_id_of(ack, uas=True))
        if call is None:
            call = self._ack_with_wrong_to_tag(ack)
        if call is not None:
            call.on_ack(ack)
            self._drop_awaiting_ack(call)

    def _ack_with_wrong_to_tag(self, ack: Request) -> Call | None:
        """An ACK for our 2xx whose To tag is not ours (pyVoIP 1.6.8 invents a new one).

        RFC 3261 §12.2.2 would not match it to the dialog; a call answered
        and awaiting its ACK from the same Call-ID, From tag and CSeq number
        is unambiguous, so it is taken rather than leaving the call to time
        out with the caller on the line.
        """
        call_id, _, remote_tag = dialog_id_of(ack, uas=True)
        for call in self._awaiting_ack.values():
            d = call.dialog
            if (d is not None and call.state is CallState.ANSWERED and d.id[0] == call_id
                    and d.id[2] == remote_tag and d.remote_seq == ack.cseq[0]):
                log.info("call %s: ACK with a foreign To tag taken (same Call-ID, From tag "
                         "and CSeq)", call.id[:8])
                return call
        return None

    def on_cancel(self, invite: ServerHandle) -> None:
        entry = self._by_invite.pop(server_key(invite.request), None)
        if entry is None:
            return
        call, handle = entry
        if call.state is CallState.OFFERED:
            handle.reply(487, to_tag=call.dialog.local_tag if call.dialog else new_tag())
            self.spawn(call.end("cancelled"))

    def on_stray_response(self, response: Response, source: Source) -> None:
        # A retransmitted 2xx to one of our INVITEs: the UAC leg re-ACKs it.
        for call in self.calls.values():
            if isinstance(call, OutboundCall) and call.owns(response):
                call.on_2xx_retransmission(response)
                return

    # ------------------------------------------------------------ INVITE

    def _new_call(self, handle: ServerHandle) -> None:
        """A new INVITE: admit it (flood guard, call limit, number, offer) or refuse it."""
        try:
            self._admit_call(handle)
        except Exception as exc:  # a bug must still answer the INVITE (RFC 3261 §21.5.1)
            self._log_setup_failure(exc, 500)
            with contextlib.suppress(Exception):
                if not handle.final_sent:
                    handle.reply(500, to_tag=new_tag())

    def _admit_call(self, handle: ServerHandle) -> None:
        req = handle.request
        key = server_key(req)
        if key in self._by_invite:
            return  # already being set up (the transaction absorbs retransmissions)
        answered = self._awaiting_ack.get(key)
        if answered is not None:
            # The INVITE again after our 200 (its transaction has ended, §17.2.1):
            # the 200 was lost; answer this copy with it (§13.3.1.4), no second call.
            ok = answered.pending_2xx(req)
            if ok is not None:
                handle.respond(ok)
                return
        source = handle.source
        if self.stopping:  # RFC 3261 §21.5.4: try again after Retry-After
            _unavailable(handle, "Restarting")
            return
        if not self.flood.allow(source.addr[0], time.monotonic()):
            _unavailable(handle, "Too Many Calls")
            return
        if len(self.calls) + len(self._by_invite) >= self.config.sip.max_calls:
            _unavailable(handle, "Busy")
            return
        try:
            ruri = SipUri.parse(req.uri)
        except SipParseError:
            handle.reply(400, "Bad Request-URI", to_tag=new_tag())
            return
        if ruri.scheme not in ("sip", "sips"):
            handle.reply(416, to_tag=new_tag())
            return
        if not self.answers(ruri.user or ""):
            handle.reply(404, to_tag=new_tag())
            return
        if not req.body or req.content_type != "application/sdp":
            # No offer in the INVITE (RFC 3264 §5 "late offer"): not served yet.
            handle.reply(488, "SDP Offer Required", to_tag=new_tag())
            return
        self.spawn(self._setup_call(handle, key))

    async def _setup_call(self, handle: ServerHandle, key: object) -> None:
        """Answer a new INVITE (RFC 3261 §13.3.1): 180, then 200 with the SDP answer.

        Nothing a failure leaves behind leaks (issue 13): whatever was opened
        (the RTP/RTCP ports, the recorder, the ``_by_invite`` entry, the call)
        is closed again and the INVITE gets a final response: 488 for an
        offer that cannot be read or accepted (RFC 3264 §6, RFC 3261
        §21.4.26), 503 when no media port is free, 400 for a request the
        dialog refuses, 500 for anything else (§21.5.1), or a BYE when our
        200 had already gone.  An unexpected error is logged once, here.
        """
        setup = _Setup()
        try:
            await self._answer_call(handle, key, setup)
        except asyncio.CancelledError:
            # The engine is stopping: stop() ends the calls; ports no call owns close here.
            if setup.call is None and setup.session is not None:
                self.hub.close_session(setup.session)
            raise
        except Exception as exc:
            await self._setup_failed(handle, setup, exc)

    async def _answer_call(self, handle: ServerHandle, key: object, setup: _Setup) -> None:
        """The steps of :meth:`_setup_call`; ``setup`` records what each one opened."""
        req = handle.request
        offer = SessionDescription.parse(req.body)
        setup.session = session = await self.hub.open_session()
        local_tag = setup.local_tag
        answer = negotiate(
            offer,
            local_ip=self.config.rtp_host,
            local_port=session.port,
            session_id=int(time.time()),
            session_version=1,
        )
        media = answer.media
        setup.offer_read = True
        dialog = Dialog.uas(req, local_tag, self._contact(handle.source.transport))
        session.configure(
            remote=media.remote_addr,
            codec=media.codec.name,
            audio_pt=media.codec.payload_type,
            dtmf_pt=media.telephone_event_pt,
        )
        session.sending = media.direction.sends
        session.expect_rtp = media.direction.receives and not media.on_hold
        setup.call = call = Call(
            self,
            dialog=dialog,
            session=session,
            peer=handle.source.addr,
            transport=handle.source.transport,
        )
        call.number = _dialled(req.uri)
        call.sdp_version = 1
        call.local_sdp = bytes(answer.sdp)
        self._by_invite[key] = (call, handle)
        if self.config.media.record_calls:
            self.hub.record(session, Path(self.config.media.record_dir) / f"{call.id}.wav")
        from_uri = _uri_of(req.headers.get("From"))
        to_uri = _uri_of(req.headers.get("To"))
        self.events.append(
            "call.offered",
            call.id,
            **{"from": from_uri, "to": to_uri, "codec": media.codec.name,
               "transport": handle.source.transport},
        )
        setup.offered = True
        handle.reply(180, to_tag=local_tag)
        delay = self.config.engine.answer_delay_ms / 1000.0
        if delay > 0:
            await asyncio.sleep(delay)
        if self._by_invite.pop(key, None) is None or call.state is not CallState.OFFERED:
            return  # cancelled while ringing
        self.calls[dialog.id] = call
        ok = make_response(
            req,
            200,
            to_tag=local_tag,
            extra=[
                ("Contact", self._contact(handle.source.transport)),
                ("Allow", ALLOW),
                ("Content-Type", "application/sdp"),
            ],
            body=call.local_sdp,
        )
        handle.respond(ok)
        call.answered(ok)
        self._awaiting_ack[key] = call
        call.limit_duration(self.config.engine.max_call_seconds)

    async def _setup_failed(self, handle: ServerHandle, setup: _Setup, exc: Exception) -> None:
        """Close what a failed set-up opened, then answer the INVITE (see :meth:`_setup_call`)."""
        extra: list[tuple[str, str]] = []
        reason: str | None = None
        if isinstance(exc, NoCommonCodec):
            status = 488
            extra.append(("Warning", '305 bailanys "PCMU/PCMA"'))  # §20.43: media format
        elif isinstance(exc, SdpError):
            status, reason = 488, f"Bad SDP ({str(exc)[:40]})"
        elif isinstance(exc, SipParseError) and setup.call is None:
            status, reason = 400, f"Bad Request ({str(exc)[:40]})"
        elif isinstance(exc, MediaError) and setup.session is None:
            log.warning("no media for a new call: %s", exc)
            status, reason = 503, "No Media Ports"
            extra.append(("Retry-After", str(RETRY_AFTER_S)))
        else:
            # Not a refusal we foresaw: a bug.  While the offer was being read
            # it is the offer's doing (488); afterwards it is ours (500).
            status = 500 if setup.offer_read else 488
            self._log_setup_failure(exc, status)
        call = setup.call
        try:
            if call is not None and setup.offered:
                # call.ended follows the stored call.offered; after our 200 the BYE goes too.
                await (call.hangup if handle.final_sent else call.end)("setup_failed")
        except Exception as cleanup_exc:
            self._log_setup_failure(cleanup_exc, status)
        finally:
            if call is not None:
                self.forget(call)  # the call tables, the _by_invite entry, the session
            if setup.session is not None:
                self.hub.close_session(setup.session)  # and with it the recorder
        if not handle.final_sent:
            try:
                handle.reply(status, reason, to_tag=setup.local_tag, extra=extra)
            except Exception as reply_exc:
                self._log_setup_failure(reply_exc, status)

    def _log_setup_failure(self, exc: BaseException, status: int) -> None:
        """One line per failed set-up; the traceback the first time each error type is seen.

        The SIP port faces the whole network: a request that trips a bug
        could be sent thousands of times, so the log names it once in full.
        """
        name = type(exc).__name__
        seen = self._setup_failures[name] = self._setup_failures.get(name, 0) + 1
        if seen == 1:
            log.error("call set-up failed, answered %d: %s: %s", status, name, exc, exc_info=exc)
        else:
            log.error("call set-up failed, answered %d: %s (%d times)", status, name, seen)

    def _reinvite(self, handle: ServerHandle) -> None:
        """A re-INVITE in a dialog (§14.2): hold, unhold, or a new remote address."""
        req = handle.request
        call = self.calls.get(dialog_id_of(req, uas=True))
        if call is None or call.dialog is None:
            handle.reply(481)
            return
        if handle.txn.key in self._by_invite:
            return
        pending = call.pending_2xx(req)
        if pending is not None:
            handle.respond(pending)  # a repeat of the re-INVITE our 2xx answered
            return
        status = call.dialog.receive_request(req)
        if status is not None:
            handle.reply(status)
            return
        body = call.local_sdp
        if req.body:
            try:
                offer = SessionDescription.parse(req.body)
                call.sdp_version += 1
                answer = negotiate(
                    offer,
                    local_ip=self.config.rtp_host,
                    local_port=call.session.port,
                    session_id=int(call.local_sdp.split(b"o=", 1)[1].split()[1])
                    if b"o=" in call.local_sdp
                    else 0,
                    session_version=call.sdp_version,
                )
            except NoCommonCodec:
                handle.reply(488)
                return
            except (SdpError, IndexError, ValueError) as exc:
                handle.reply(400, f"Bad SDP ({str(exc)[:40]})")
                return
            media = answer.media
            call.session.configure(
                remote=media.remote_addr,
                codec=media.codec.name,
                audio_pt=media.codec.payload_type,
                dtmf_pt=media.telephone_event_pt,
            )
            was_sending = call.session.sending
            call.session.sending = media.direction.sends
            call.session.expect_rtp = media.direction.receives and not media.on_hold
            if was_sending != call.session.sending:
                self.events.append("call.hold" if media.on_hold else "call.unhold", call.id)
            body = bytes(answer.sdp)
            call.local_sdp = body
        ok = make_response(
            req,
            200,
            extra=[
                ("Contact", self._contact(handle.source.transport)),
                ("Content-Type", "application/sdp"),
            ],
            body=body,
        )
        handle.respond(ok)
        call.retransmit_until_ack(ok)

    def _bye(self, handle: ServerHandle) -> None:
        req = handle.request
        call = self.calls.get(dialog_id_of(req, uas=True))
        if call is None or call.dialog is None:
            handle.reply(481)
            return
        call.dialog.receive_request(req)
        handle.reply(200)
        self.spawn(call.end("remote_bye"))

    # ------------------------------------------------------------ outbound (UAC)

    async def call_user(self, user: str, *, ring_s: float = 30.0) -> OutboundCall:
        """Call an operator's registered phone (the queue's bridge uses this)."""
        assert self.registrar is not None
        bindings = self.registrar.lookup(user, time.time())
        if not bindings:
            raise LookupError(f"{user} is not registered")
        return await place_call(self, bindings[0], ring_s=ring_s)

    async def start_call_user(self, user: str) -> OutboundCall:
        """INVITE an operator's registered phone and return at once (see uac.start_call)."""
        assert self.registrar is not None
        bindings = self.registrar.lookup(user, time.time())
        if not bindings:
            raise LookupError(f"{user} is not registered")
        return await start_call(self, bindings[0])

    # ------------------------------------------------------------ helpers

    def answers(self, number: str) -> bool:
        """Whether a call to ``number`` is ours: a flow's number, or the demo's."""
        return self.ivr.for_number(number) is not None or number in self.config.engine.numbers

    def flow_for(self, call: Call) -> FlowFactory | None:
        if call.direction != "inbound":
            return None
        flow = self.ivr.for_number(call.number)  # engine.numbers: the line test's flow
        if flow is not None:
            return self.ivr.factory(flow)
        return None

    def register_call(self, call: Call) -> None:
        """Enter an answered outbound call in the call table (an ended one never)."""
        assert call.dialog is not None
        if call.state is CallState.ENDED:
            return  # forget() ran already: an entry now would stay for good
        self.calls[call.dialog.id] = call

    def forget(self, call: Call) -> None:
        if call.dialog is not None and self.calls.get(call.dialog.id) is call:
            del self.calls[call.dialog.id]
        for key, (c, _) in list(self._by_invite.items()):
            if c is call:
                del self._by_invite[key]
        self._drop_awaiting_ack(call)
        self.hub.close_session(call.session)

    def _drop_awaiting_ack(self, call: Call) -> None:
        for key, c in list(self._awaiting_ack.items()):
            if c is call:
                del self._awaiting_ack[key]

    def _contact(self, transport: str) -> str:
        t = "" if transport == "UDP" else f";transport={transport.lower()}"
        return f"<sip:bailanys@{self.config.sip.host}:{self.transport.port}{t}>"

    def _registration_changed(self, user: str, contact: str, registered: bool) -> None:
        self.events.append(
            "agent.registered" if registered else "agent.unregistered",
            None,
            user=user,
            contact=contact,
        )
        self.queues.registration_changed(user, registered)


@dataclass
class _Setup:
    """What one INVITE's set-up has opened so far, for :meth:`Engine._setup_failed`."""

    local_tag: str = field(default_factory=new_tag)
    session: RtpSession | None = None
    call: Call | None = None
    offer_read: bool = False  # the offer was parsed and negotiated
    offered: bool = False  # call.offered was appended (so call.ended must follow)


def _dialled(uri: str) -> str:
    try:
        return SipUri.parse(uri).user or ""
    except SipParseError:
        return ""


def _to_tag(req: Request) -> str | None:
    try:
        return NameAddr.parse(req.headers.get("To") or "").tag
    except SipParseError:
        return None


def _unavailable(handle: ServerHandle, reason: str, to_tag: str | None = None) -> None:
    """503 with Retry-After (RFC 3261 §21.5.4, §20.33): refused for now, not for good."""
    handle.reply(503, reason, to_tag=to_tag or new_tag(),
                 extra=[("Retry-After", str(RETRY_AFTER_S))])


def _uri_of(value: str | None) -> str:
    if not value:
        return ""
    try:
        return NameAddr.parse(value).uri
    except SipParseError:
        return value


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
