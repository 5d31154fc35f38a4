"""The engine's side of the IVR: flows by dialled number, their prompts, reloads, speech.

:class:`FlowService` loads ``ivr.flow_dir`` at start-up, renders every
prompt of every flow before the first call can need it, and then watches
the directory: a changed file is loaded and checked off the loop, its new
prompts rendered, and only then swapped in for new calls (a call keeps the
flow version it started with; a file with errors never replaces a good
version).  The numbers of ``engine.numbers`` get the line test
(``ivr_flows/linetest.yaml``) unless a flow file claims them.  Each call
on a flow's number runs an
:class:`~bailanys.ivr.session.IvrSession`; its ``queue`` and ``robot``
nodes hand the call straight to the queue and robot services (the
:class:`~bailanys.engine.ports.QueueEntry` and
:class:`~bailanys.engine.ports.RobotEntry` ports).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bailanys.config import (
    DEFAULT_ASR_MIN_CONFIDENCE,
    DEFAULT_ASR_WORKERS,
    DEFAULT_FLOW_DIR,
    DEFAULT_FLOW_RELOAD_SECONDS,
    DEFAULT_LANGUAGES,
    DEFAULT_MODEL_DIR,
    DEFAULT_NO_INPUT_SECONDS,
)
from bailanys.engine.flowfiles import (
    LINE_TEST_FLOW,
    load_builtin,
    prompt_audio,
    prompt_texts,
    with_waits,
)
from bailanys.engine.ports import CallLeg, EventSink, PromptBook, QueueEntry, RobotEntry
from bailanys.events import EventBase, IvrFlow
from bailanys.ivr.model import Flow, Prompt
from bailanys.ivr.registry import FlowRegistry, FlowSet
from bailanys.ivr.runner import EnterQueue, HandedBack, StartRobot, TransferCall
from bailanys.ivr.session import IvrCall, IvrSession
from bailanys.media.player import EncodedAudio

if TYPE_CHECKING:
    from bailanys.config import Config

log = logging.getLogger(__name__)

#: What runs on a call: the flow task's body (:data:`bailanys.engine.call.FlowFactory`).
LegFlow = Callable[[CallLeg], Coroutine[Any, Any, None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FlowSettings:
    """What the flow service reads of the config (``[ivr]``, ``[asr]``, languages)."""

    flow_dir: str = DEFAULT_FLOW_DIR  # ivr.flow_dir
    reload_seconds: float = DEFAULT_FLOW_RELOAD_SECONDS  # ivr.reload_seconds (0: load once)
    languages: tuple[str, ...] = DEFAULT_LANGUAGES  # engine.languages: speech when no flow
    asr_model_dir: str = DEFAULT_MODEL_DIR  # asr.model_dir
    asr_workers: int = DEFAULT_ASR_WORKERS  # asr.workers
    asr_min_confidence: int = DEFAULT_ASR_MIN_CONFIDENCE  # asr.min_confidence, 0-100
    asr_work_dir: str = "var/asr"  # beside the event store
    line_test_numbers: tuple[str, ...] = ()  # engine.numbers: the line test answers them
    no_input_s: float = DEFAULT_NO_INPUT_SECONDS  # engine.no_input_seconds: its waits

    @classmethod
    def of(cls, config: Config) -> FlowSettings:
        return cls(flow_dir=config.ivr.flow_dir, reload_seconds=config.ivr.reload_seconds,
                   languages=tuple(config.engine.languages),
                   asr_model_dir=config.asr.model_dir, asr_workers=config.asr.workers,
                   asr_min_confidence=config.asr.min_confidence,
                   asr_work_dir=str(Path(config.store.path).parent / "asr"),
                   line_test_numbers=tuple(config.engine.numbers),
                   no_input_s=float(config.engine.no_input_seconds))


class FlowService:
    """The flows by number, their prompts and reloads, and the speech recogniser."""

    def __init__(
        self,
        *,
        settings: FlowSettings,
        prompts: PromptBook,
        events: EventSink,
        queues: QueueEntry,
        robot: RobotEntry,
    ) -> None:
        self.settings = settings
        self.prompts = prompts
        self.events = events
        self.queues = queues
        self.robot = robot
        self.registry = FlowRegistry(Path(settings.flow_dir))
        self.reload_seconds = settings.reload_seconds
        self._watcher: asyncio.Task[None] | None = None
        self._line_test: Flow | None = None  # ivr_flows/linetest.yaml, once started
        self.speech: Any = None  # bailanys.voice.asr.AsrService when models exist
        #: Time as the flows see it (branches on time of day); tests replace it.
        self.clock: Callable[[], datetime] = _utc_now

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the flows and the line test, render their prompts, find speech models."""
        flows = await asyncio.to_thread(self.registry.load)
        await self._prepare(flows)
        if self.settings.line_test_numbers:
            flow = await asyncio.to_thread(load_builtin, LINE_TEST_FLOW)
            self._line_test = with_waits(flow, self.settings.no_input_s)
            await self.prompts.add(prompt_texts(flow))
        await self._start_speech(flows)
        if self.reload_seconds > 0:
            self._watcher = asyncio.get_running_loop().create_task(
                self._watch(), name="flow-watcher"
            )

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            try:
                await watcher
            except asyncio.CancelledError:
                pass
        if self.speech is not None:
            await self.speech.stop()
            self.speech = None

    # ------------------------------------------------------------ routing

    def for_number(self, number: str) -> Flow | None:
        """The flow answering ``number``: a flow file's, else the line test's (engine.numbers)."""
        flow = self.registry.current.for_number(number)
        if flow is None and number in self.settings.line_test_numbers:
            return self._line_test
        return flow

    def numbers(self) -> list[str]:
        line_test = self.settings.line_test_numbers if self._line_test is not None else ()
        return sorted({*self.registry.current.by_number, *line_test})

    def factory(self, flow: Flow) -> LegFlow:
        """The flow task's body for a call on one of ``flow``'s numbers."""

        async def run(call: CallLeg) -> None:
            session = IvrSession(
                call,
                flow,
                audio_for=self.audio_for,
                emit=self._emit,
                speech=self.speech,
                handoffs=_Handoffs(call, self.queues, self.robot),
                queues=self.queues,
                language=call.language,
                clock=self.clock,
            )
            self.events.emit(IvrFlow(call_id=call.id, flow=flow.name, flow_version=flow.version,
                                     number=call.number))
            await session.run()

        return run

    def audio_for(self, prompt: Prompt, lang: str) -> EncodedAudio:
        return prompt_audio(self.prompts, prompt, lang)

    def _emit(self, event: EventBase) -> None:
        self.events.emit(event)

    # ------------------------------------------------------------ prompts, speech, reloads

    async def _prepare(self, flows: FlowSet) -> None:
        texts: list[tuple[str, str]] = []
        files: list[str] = []
        for flow in flows.flows.values():
            for prompt in flow.prompts():
                texts.extend((lang, text) for lang, text in prompt.texts.items())
                files.extend(prompt.files.values())
        new = await self.prompts.add(texts)
        new += await self.prompts.add_files(files)
        if new:
            log.info("%d flow prompts rendered and loaded", new)

    async def _start_speech(self, flows: FlowSet) -> None:
        """Find a Vosk model per flow language; log one line per language either way."""
        from bailanys.voice.asr import AsrConfig as SpeechConfig
        from bailanys.voice.asr import AsrService
        from bailanys.voice.models import discover_models, model_status_lines

        st = self.settings
        languages = sorted({lang for f in flows.flows.values() for lang in f.languages}
                           or set(st.languages))
        base_dir = Path(st.asr_model_dir)
        models = await asyncio.to_thread(discover_models, languages, base_dir, os.environ)
        for line in model_status_lines(models, os.environ, base_dir):
            log.info("%s", line)
        if not any(models.values()):
            return
        service = AsrService(
            models,
            config=SpeechConfig(
                workers=st.asr_workers,
                min_confidence=st.asr_min_confidence / 100.0,
                work_dir=Path(st.asr_work_dir),
            ),
        )
        await service.start()
        if service.languages:
            self.speech = service
        else:
            await service.stop()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.reload_seconds)
            try:
                changed = await asyncio.to_thread(self.registry.changed)
                if not changed:
                    continue
                new = await asyncio.to_thread(self.registry.reload)
                await self._prepare(new)  # render before any call can reach the new version
                self.registry.swap(new)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reloading flows failed; the current flows keep serving")


class _Handoffs:
    """Where one call's hand-over nodes go: the queue service, the voice robot.

    Bound to the call's leg, so the services get the typed leg (the IVR
    session hands back the same object as its narrower ``IvrCall``).
    """

    def __init__(self, leg: CallLeg, queues: QueueEntry, robot: RobotEntry) -> None:
        self._leg = leg
        self._queues = queues
        self._robot = robot

    async def enter_queue(self, call: IvrCall, action: EnterQueue) -> bool:
        return await self._queues.enter_queue(self._leg, action)

    async def start_robot(self, call: IvrCall, action: StartRobot) -> bool | HandedBack:
        return await self._robot.run(self._leg, action)

    async def transfer(self, call: IvrCall, action: TransferCall) -> bool:
        return False  # transfers to outside numbers are not served yet
