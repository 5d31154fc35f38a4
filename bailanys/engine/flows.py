"""The engine's side of the IVR: flows by dialled number, their prompts, reloads, speech.

:class:`FlowService` loads ``ivr.flow_dir`` at start-up, renders every
prompt of every flow before the first call can need it, and then watches
the directory: a changed file is loaded and checked off the loop, its new
prompts rendered, and only then swapped in for new calls (a call keeps the
flow version it started with; a file with errors never replaces a good
version).  Each call on a flow's number runs an
:class:`~bailanys.ivr.session.IvrSession`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bailanys.events import EventBase
from bailanys.ivr.model import Flow, Prompt
from bailanys.ivr.registry import FlowRegistry, FlowSet
from bailanys.ivr.runner import EnterQueue, HandedBack, StartRobot, TransferCall
from bailanys.ivr.session import IvrCall, IvrSession
from bailanys.media.player import EncodedAudio

if TYPE_CHECKING:
    from bailanys.engine.call import Call, FlowFactory
    from bailanys.engine.core import Engine

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FlowService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        cfg = engine.config
        self.registry = FlowRegistry(Path(cfg.ivr.flow_dir))
        self.reload_seconds = cfg.ivr.reload_seconds
        self._watcher: asyncio.Task[None] | None = None
        self.speech: Any = None  # bailanys.voice.asr.AsrService when models exist
        #: Time as the flows see it (branches on time of day); tests replace it.
        self.clock: Callable[[], datetime] = _utc_now

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        flows = await asyncio.to_thread(self.registry.load)
        await self._prepare(flows)
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
        return self.registry.current.for_number(number)

    def numbers(self) -> list[str]:
        return sorted(self.registry.current.by_number)

    def factory(self, flow: Flow) -> FlowFactory:
        async def run(call: Call) -> None:
            session = IvrSession(
                call,
                flow,
                audio_for=self.audio_for,
                emit=self._emit,
                speech=self.speech,
                handoffs=_Handoffs(self.engine),
                queues=self.engine.queues,
                language=call.language,
                clock=self.clock,
            )
            self.engine.events.append(
                "ivr.flow", call.id, flow=flow.name, version=flow.version, number=call.number
            )
            await session.run()

        return run

    def audio_for(self, prompt: Prompt, lang: str) -> EncodedAudio:
        prompts = self.engine.prompts
        if lang in prompt.files:
            return prompts.file(prompt.files[lang])
        return prompts.text(lang, prompt.texts[lang])

    def _emit(self, event: EventBase) -> None:
        self.engine.events.emit(event)

    # ------------------------------------------------------------ prompts, speech, reloads

    async def _prepare(self, flows: FlowSet) -> None:
        texts: list[tuple[str, str]] = []
        files: list[str] = []
        for flow in flows.flows.values():
            for prompt in flow.prompts():
                texts.extend((lang, text) for lang, text in prompt.texts.items())
                files.extend(prompt.files.values())
        new = await self.engine.prompts.add(texts)
        new += await self.engine.prompts.add_files(files)
        if new:
            log.info("%d flow prompts rendered and loaded", new)

    async def _start_speech(self, flows: FlowSet) -> None:
        """Find a Vosk model per flow language; log one line per language either way."""
        from bailanys.voice.asr import AsrConfig as SpeechConfig
        from bailanys.voice.asr import AsrService
        from bailanys.voice.models import discover_models, model_status_lines

        cfg = self.engine.config
        languages = sorted({lang for f in flows.flows.values() for lang in f.languages}
                           or set(cfg.engine.languages))
        base_dir = Path(cfg.asr.model_dir)
        models = await asyncio.to_thread(discover_models, languages, base_dir, os.environ)
        for line in model_status_lines(models, os.environ, base_dir):
            log.info("%s", line)
        if not any(models.values()):
            return
        service = AsrService(
            models,
            config=SpeechConfig(
                workers=cfg.asr.workers,
                min_confidence=cfg.asr.min_confidence / 100.0,
                work_dir=Path(cfg.store.path).parent / "asr",
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
    """Where a flow's hand-over nodes go: the queue manager, the voice robot."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def enter_queue(self, call: IvrCall, action: EnterQueue) -> bool:
        return await self.engine.queues.enter_queue(call, action)

    async def start_robot(self, call: IvrCall, action: StartRobot) -> bool | HandedBack:
        from bailanys.engine.call import Call

        if not isinstance(call, Call):
            return False
        return await self.engine.robot.run(call, action)

    async def transfer(self, call: IvrCall, action: TransferCall) -> bool:
        return False  # transfers to outside numbers are not served yet
