"""The engine's side of the voice robot: the assistant and self-services on calls, and SMS.

A flow's ``robot`` node runs here (inside the call's flow task, so the
caller hanging up cancels it):

* with a ``service`` (``document_readiness``, ``booking``, ``certificate``,
  ``required_documents``, ``open_requests``): that service's pure
  :class:`~bailanys.robot.services.ServiceMachine`, then goodbye;
* without one: the voice assistant (:class:`~bailanys.robot.assistant.AssistantMachine`):
  the caller's question is transcribed free-form by Vosk (the turn starts
  when :class:`~bailanys.voice.vad.VoiceActivity` hears speech and ends
  with Vosk's end of utterance, or after ``max_s``), matched against the
  FAQ off the loop, and answered; keys 1-5 run the services, after which
  the caller may ask again.

Sentences are rendered by the TTS worker and played (keys barge in and are
kept; while the assistant listens, so does the caller's sustained speech,
:mod:`bailanys.robot.turns`, and a cut answer is reported to the assistant
with the seconds heard), digit entries are read with their time-outs, back-end calls go to the
demo SQLite back end, and SMS go out through the Kannel outbox (stored first,
retried, delivery reports applied). A hand-over gives the call back to the
flow (the node's ``fallback`` runs) with the ``topic`` variable set to the
FAQ topic the assistant guessed, so the flow can pick the operator queue.

:attr:`RobotService.transcript_hook` exists for tests only: it may replace
the transcript of a spoken turn (the real audio path still runs), since no
Kazakh or Russian Vosk model can be downloaded on CI machines.

It takes ports, not the engine: its settings (``[robot]``), the event log,
the prompts, the speech recogniser the flow service started (looked up per
call) and the store's database (for the SMS outbox, opened by the engine).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bailanys.cases.settings import CasesFileConfig
from bailanys.config import DEFAULT_LANGUAGES, RobotConfig
from bailanys.engine.ports import CallLeg, EventSink, PromptBook
from bailanys.engine.robotturn import Turn
from bailanys.errors import ConfigError, VoiceError
from bailanys.events import EventBase, RobotFaq, RobotHandover
from bailanys.ivr.runner import HandedBack, StartRobot
from bailanys.phone import dialable
from bailanys.reports.portrait import identified_events
from bailanys.robot import assistant as asst
from bailanys.robot.assistant import AssistantMachine, Heard, Listen, RunService, ServiceDone
from bailanys.robot.backend import BackendError, CallerInfo, ServiceBackend
from bailanys.robot.case_requests import open_case_requests
from bailanys.robot.demo_backend import SqliteDemoBackend
from bailanys.robot.faq import load_kb
from bailanys.robot.gaps import gap_rows, resolution_rows
from bailanys.robot.kannel import HttpKannel, KannelConfig
from bailanys.robot.matcher import Matcher, MatcherConfig
from bailanys.robot.otp import OtpStore
from bailanys.robot.service_io import (
    CallBackend,
    Collect,
    Digits,
    Emit,
    End,
    HandOver,
    Identified,
    Input,
    NoInput,
    Say,
    SendSms,
    SmsResult,
)
from bailanys.robot.services import (
    Service,
    ServiceMachine,
    perform,
)
from bailanys.robot.sms import DlrServer, SmsOutbox
from bailanys.robot.turns import Interrupted, is_noise, played
from bailanys.store.backend import StoreDatabase
from bailanys.store.events import SideRow

log = logging.getLogger(__name__)

#: Flow ``service`` names -> the robot's services.
SERVICES = {
    "document_readiness": Service.DOCUMENT_STATUS,
    "booking": Service.BOOKING,
    "certificate": Service.CERTIFICATE,
    "required_documents": Service.REQUIRED_DOCUMENTS,
    "open_requests": Service.OPEN_REQUESTS,
}

#: (language, Vosk text) -> the text to match. Tests only (module docstring).
TranscriptHook = Callable[[str, str], str]


class RobotService:
    """A flow's ``robot`` node on a call: a self-service or the voice assistant; SMS."""

    def __init__(
        self,
        *,
        settings: RobotConfig,
        events: EventSink,
        prompts: PromptBook,
        speech: Callable[[], Any],
        database: Callable[[], StoreDatabase | None],
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
        cases: CasesFileConfig | None = None,
        store_path: str = "",
    ) -> None:
        self.settings = settings
        #: ``[cases]`` and the store's file: "my open requests" reads the
        #: requests' store there (issue 19); None or "": the demo back end.
        self._cases = cases
        self._store_path = store_path
        self.events = events
        self.prompts = prompts
        #: The flow service's speech recogniser (AsrService) or None, looked up per call.
        self._speech = speech
        #: The event store's database (the SMS outbox lives there); None: no SMS.
        self._database = database
        self.languages = languages
        self.backend: SqliteDemoBackend | None = None
        #: What the services call: ``backend``, with "my open requests" from
        #: the requests' store when ``[cases]`` is on.
        self.services: ServiceBackend | None = None
        self.outbox: SmsOutbox | None = None
        self.dlr: DlrServer | None = None
        self.otp = OtpStore()
        self.matcher: Matcher | None = None
        self.transcript_hook: TranscriptHook | None = None
        self._warm: asyncio.Task[None] | None = None
        #: (FAQ variants embedded, to embed) while start() computes them: start-up progress.
        self.faq_embedded: tuple[int, int] = (0, 0)

    async def start(self) -> None:
        cfg = self.settings
        await asyncio.to_thread(Path(cfg.demo_db).parent.mkdir, parents=True, exist_ok=True)
        self.backend = SqliteDemoBackend(cfg.demo_db)
        await self.backend.open()
        self.services = await self._case_requests(self.backend)
        await self._start_sms(cfg)
        if cfg.faq:
            self.matcher = await asyncio.to_thread(_load_matcher, cfg.faq, cfg.faq_cache,
                                                   self._faq_progress)
            self._warm = asyncio.get_running_loop().create_task(self._render_fixed(),
                                                                name="robot-prompts")
        else:
            log.info("no FAQ (robot.faq is empty): the assistant offers keys only")

    async def _case_requests(self, backend: SqliteDemoBackend) -> ServiceBackend:
        """``backend`` with "my open requests" from the requests' store, or
        ``backend`` alone when ``[cases]`` is off or cannot be loaded."""
        cases = self._cases
        if cases is None or not cases.enabled or not self._store_path:
            return backend
        try:
            wrapped = await asyncio.to_thread(open_case_requests, backend, cases,
                                              self._store_path)
        except (ConfigError, OSError) as exc:
            log.warning("\"my open requests\" reads the demo back end: [cases] not loaded: %s",
                        exc)
            return backend
        log.info("\"my open requests\" reads the requests' store %s", self._store_path)
        return wrapped

    async def _start_sms(self, cfg: RobotConfig) -> None:
        """The SMS outbox through Kannel, and its delivery-report server, when configured."""
        db = self._database()
        if cfg.kannel and db is not None:
            host, _, port = cfg.kannel.rpartition(":")
            dlr_url = ""
            if cfg.dlr_listen:
                dlr_url = f"http://{cfg.dlr_listen}/dlr"
            kannel = HttpKannel(KannelConfig(host=host, port=int(port),
                                             username=cfg.kannel_user,
                                             password=cfg.kannel_password,
                                             sender=cfg.sms_sender, dlr_url=dlr_url))
            self.outbox = SmsOutbox(db, kannel, emit=self._emit_sms)
            self.outbox.start()
            if cfg.dlr_listen:
                dhost, _, dport = cfg.dlr_listen.rpartition(":")
                self.dlr = DlrServer(dhost, int(dport), self.outbox)
                await self.dlr.start()
            log.info("SMS through Kannel at %s (delivery reports %s)", cfg.kannel,
                     cfg.dlr_listen or "off")
        else:
            log.info("no SMS gateway (robot.kannel is empty): SMS services hand over")

    def _faq_progress(self, done: int, total: int) -> None:
        self.faq_embedded = (done, total)  # from the loading thread: one assignment

    async def stop(self) -> None:
        if self._warm is not None:
            self._warm.cancel()
            await asyncio.gather(self._warm, return_exceptions=True)
            self._warm = None
        if self.dlr is not None:
            await self.dlr.stop()
            self.dlr = None
        if self.outbox is not None:
            await self.outbox.stop()
            self.outbox = None
        if self.backend is not None:
            await self.backend.close()
            self.backend = None
            self.services = None

    async def _render_fixed(self) -> None:
        """Render the assistant's fixed sentences and every FAQ answer ahead of calls."""
        items = [(lang, text) for by_lang in asst.texts().values()
                 for lang, text in by_lang.items()]
        if self.matcher is not None:
            items += [(lang, text) for e in self.matcher.kb.entries
                      for lang, text in e.answer.items()]
        try:
            new = await self.prompts.add(items)
            log.info("voice assistant: %d sentences rendered", new)
        except (VoiceError, OSError) as exc:
            log.warning("voice assistant sentences not pre-rendered: %s", exc)

    def _emit_sms(self, event: EventBase) -> None:
        self.events.emit(event)

    # ------------------------------------------------------------ a robot node on a call

    async def run(self, call: CallLeg, action: StartRobot) -> bool | HandedBack:
        """Run the node's service or the assistant; a hand-over gives the call back."""
        if self.backend is None:
            return False
        lang = action.language or self.languages[0]
        if action.service is None:
            return await self._assistant(call, lang)
        service = SERVICES.get(action.service)
        if service is None:
            return False
        outcome = await self._service(call, service, lang, farewell=True)
        if outcome.startswith("handed_over"):
            return False
        await call.hangup(f"robot_{outcome}")
        return True

    async def _service(self, call: CallLeg, service: Service, lang: str, *,
                       farewell: bool) -> str:
        """One self-service to its end; returns its outcome ("handed_over:..." included)."""
        assert self.backend is not None
        phone = dialable(call.caller_uri())
        machine = ServiceMachine(service, lang, today=date.today(), phone=phone, otp=self.otp,
                                 farewell=farewell)
        actions = machine.start(time.monotonic())
        while actions:
            inputs: list[Input] = []
            call.secret_keys = any(isinstance(a, Collect) and a.secret for a in actions)
            try:
                outcome = await self._service_batch(call, service, actions, inputs, phone)
            finally:
                call.secret_keys = False
            if outcome is not None:
                return outcome
            actions = []
            for inp in inputs:
                actions += machine.handle(inp, time.monotonic())
        return machine.outcome or "completed"

    async def _service_batch(self, call: CallLeg, service: Service, actions: list[Any],
                             inputs: list[Input], phone: str) -> str | None:
        """Execute one batch of a service's actions, appending inputs; its outcome once ended."""
        assert self.backend is not None
        for act in actions:
            if isinstance(act, Emit):
                self.events.emit(act.event.for_call(call.id))
            elif isinstance(act, Say):
                await self._say(call, act.lang, act.text)
            elif isinstance(act, Collect):
                inputs.append(await _collect(call, act))
            elif isinstance(act, CallBackend):
                inputs.append(await perform(act, self.services or self.backend))
            elif isinstance(act, Identified):
                await self._identified(call, act)
            elif isinstance(act, SendSms):
                inputs.append(await self._sms(phone, act.text))
            elif isinstance(act, HandOver):
                self.events.emit(RobotHandover(call_id=call.id, reason=act.reason,
                                              service=service.value))
                return f"handed_over:{act.reason}"
            elif isinstance(act, End):
                return act.outcome
        return None

    async def _identified(self, call: CallLeg, act: Identified) -> None:
        """Issue 17: the caller's portrait (age band, sex) from the IIN just
        entered, the back end's region and social status; only these are
        emitted, never the IIN or the birth date."""
        assert self.backend is not None
        info: CallerInfo | None = None
        try:
            info = await self.backend.caller_info(act.iin)
        except BackendError as exc:  # the message never holds the IIN
            log.info("caller info not available: %s", exc)
        region, status = (info.region, info.social_status) if info else (None, None)
        for event in identified_events(act.iin, date.today(), region, status):
            self.events.emit(event.for_call(call.id))

    async def _assistant(self, call: CallLeg, lang: str) -> bool | HandedBack:
        speech = self.matcher is not None and self._speech_for(lang) is not None
        machine = AssistantMachine(
            lang, threshold=self.matcher.threshold if self.matcher else 1.0, speech=speech)
        phone = dialable(call.caller_uri())
        actions: list[asst.AssistantAction | _Kept] = list(machine.start(time.monotonic()))
        while actions:
            # A batch that ends listening listens from its first prompt on: the
            # caller may start the question over the menu (speech barge-in).
            asr = self._speech_for(lang) if speech else None
            turn = Turn(call, asr, lang) if asr and isinstance(actions[-1], Listen) else None
            try:
                inputs, back = await self._assistant_batch(call, lang, actions, turn, phone)
            finally:
                if turn is not None:
                    turn.close()
            if back is not None:
                return back
            actions = []
            for inp in inputs:
                actions += self._keep_gap(call, lang, inp, machine.handle(inp, time.monotonic()))
        return True

    def _keep_gap(self, call: CallLeg, lang: str, inp: asst.Input,
                  actions: list[asst.AssistantAction]) -> list[asst.AssistantAction | _Kept]:
        """A question handed over or not answered confidently: its event keeps it (masked).

        Issue 18, "FAQ gaps" (:mod:`bailanys.robot.gaps`): the row goes with
        the turn's ``robot.faq`` event, in the event log's own transaction; a
        ``clarified`` event records how the clarify ended. Masking a turn on
        the loop costs ~0.3 ms (15 s of speech at most).
        """
        out: list[asst.AssistantAction | _Kept] = []
        for act in actions:
            event = act.event if isinstance(act, Emit) else None
            rows: list[SideRow] = []
            if not isinstance(event, RobotFaq):
                pass
            elif event.step == "question" and isinstance(inp, Heard) and inp.result is not None:
                rows = gap_rows(call_id=call.id, ts=time.time(), lang=lang, text=inp.text,
                                result=inp.result, outcome=event.outcome,
                                attempt=event.attempt or 1,
                                retention_days=self.settings.gaps_retention_days)
            elif event.step == "clarified" and self.settings.gaps_retention_days > 0:
                rows = resolution_rows(call_id=call.id, outcome=event.outcome, entry=event.entry)
            out.append(_Kept(act, rows) if rows and isinstance(act, Emit) else act)
        return out

    async def _assistant_batch(
        self, call: CallLeg, lang: str, actions: list[asst.AssistantAction | _Kept],
        turn: Turn | None, phone: str,
    ) -> tuple[list[asst.Input], bool | HandedBack | None]:
        """Execute one batch of the assistant's actions: the inputs they produced, and how
        the assistant ended (True: the call was taken; HandedBack; None: it goes on)."""
        inputs: list[asst.Input] = []
        for act in actions:
            if isinstance(act, Emit):
                self.events.emit(act.event.for_call(call.id))
            elif isinstance(act, _Kept):
                self.events.emit(act.emit.event.for_call(call.id), rows=act.rows)
            elif isinstance(act, Say):
                if turn is None or not turn.barged:
                    cut = await self._say_cut(call, act, turn)
                    if cut is not None:
                        inputs.append(cut)
            elif isinstance(act, Listen):
                if turn is None:
                    inputs.append(await _keys_only(call, act))
                else:
                    said = await turn.wait(act)
                    inputs.append(await self._heard(lang, said, turn.barge.voiced_s))
            elif isinstance(act, Collect):
                inputs.append(await _collect(call, act))
            elif isinstance(act, RunService):
                outcome = await self._service(call, act.service, lang, farewell=False)
                inputs.append(ServiceDone(outcome, outcome.startswith("handed_over")))
            elif isinstance(act, SendSms):
                inputs.append(await self._sms(phone, act.text))
            elif isinstance(act, asst.Transfer):
                self.events.emit(RobotHandover(call_id=call.id, reason=act.reason,
                                              topic=act.topic or ""))
                variables = {"topic": act.topic} if act.topic else {}
                return inputs, HandedBack(f"robot_{act.reason}", variables)
            elif isinstance(act, End):
                await call.hangup(f"robot_{act.outcome}")
                return inputs, True
        return inputs, None

    async def _say(self, call: CallLeg, lang: str, text: str) -> None:
        """Play a sentence; skipped when the caller already pressed a key (type-ahead)."""
        if call.pending_digit() is not None:
            return
        await self.prompts.add([(lang, text)])
        await call.play(self.prompts.text(lang, text))

    async def _say_cut(self, call: CallLeg, act: Say, turn: Turn | None) -> Interrupted | None:
        """Play one of the assistant's sentences; how it was cut, if the caller cut it."""
        if call.pending_digit() is not None:
            return None
        await self.prompts.add([(act.lang, act.text)])
        audio = self.prompts.text(act.lang, act.text)
        started = time.monotonic()
        if await call.play(audio):
            return None
        if turn is not None and turn.barged_at is not None:
            by, stopped = "speech", turn.barged_at
        elif call.pending_digit() is not None:
            by, stopped = "key", time.monotonic()
        else:
            return None  # stopped by the call's end: nobody listens
        length = audio.duration
        return Interrupted(act.text, played(started, stopped, length), length, by)

    def _speech_for(self, lang: str) -> Any:
        speech = self._speech()
        if speech is None or not speech.available(lang):
            return None
        return speech

    async def _heard(self, lang: str, turn: Digits | NoInput | str,
                     voiced_s: float) -> Heard | Digits | NoInput:
        """A spoken turn's text, through the test hook if set, matched off the loop;
        a turn cut by noise (:func:`~bailanys.robot.turns.is_noise`) is not matched."""
        if not isinstance(turn, str):
            return turn
        text = turn
        if self.transcript_hook is not None:
            text = self.transcript_hook(lang, text)
        if is_noise(text, voiced_s):
            return Heard(text, None, noise=True)
        if self.matcher is None:
            return Heard("", None)
        result = await asyncio.to_thread(self.matcher.match, text)
        return Heard(text, result)

    async def _sms(self, phone: str, text: str) -> SmsResult:
        if self.outbox is None or not phone:
            return SmsResult(False)
        try:
            await self.outbox.enqueue(phone, text)
        except Exception as exc:
            log.warning("SMS not queued: %s", exc)
            return SmsResult(False)
        return SmsResult(True)


@dataclass(frozen=True)
class _Kept:
    """A question's ``robot.faq`` event with the side rows that keep it (robot/gaps.py)."""

    emit: Emit
    rows: list[SideRow]


def _load_matcher(faq: str, cache: str,
                  progress: Callable[[int, int], None] | None = None) -> Matcher | None:
    """Load the FAQ and its matcher (seconds: run in a thread); None, logged, on a bad file.

    ``progress`` is told (embedded, to embed) while the embeddings are computed.
    """
    try:
        kb = load_kb(faq)
    except (ConfigError, OSError) as exc:
        log.error("FAQ not loaded, the assistant offers keys only: %s", exc)
        return None
    matcher = Matcher(kb, MatcherConfig(cache=Path(cache), progress=progress))
    log.info("FAQ: %d entries from %s; answer threshold %.2f", len(kb), faq, matcher.threshold)
    return matcher

async def _keys_only(call: CallLeg, act: Listen) -> Digits | NoInput:
    key = await call.next_digit(act.timeout_s)
    return Digits(key) if key is not None else NoInput()


async def _collect(call: CallLeg, act: Collect) -> Digits | NoInput:
    """Keys until ``max_digits`` or the terminator; silence for ``timeout_s`` ends it.

    A ``secret`` entry (IIN, code) keeps its keys out of the event log: the
    service loop marks the call for the whole batch, so keys typed over the
    prompt are masked too.
    """
    keys = ""
    while len(keys) < act.max_digits:
        key = await call.next_digit(act.timeout_s)
        if key is None:
            break
        if act.terminator is not None and key == act.terminator:
            break
        keys += key
    return Digits(keys) if keys else NoInput()

