"""The asyncio adapter that runs a :class:`~bailanys.ivr.runner.FlowRunner` on a call.

It owns, for one call: the input queue, the digit pump, the tasks awaiting
prompt ends, the one timer, the speech recognisers (one per language the
menu listens in, fed from the call's received audio) and hand-over tasks;
all are cancelled in :meth:`IvrSession.run`'s ``finally``.  The runner
decides; this module only executes its actions and turns what happens on
the call into inputs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bailanys.events import EventBase
from bailanys.ivr.digits import pump_digits
from bailanys.ivr.model import Flow, Prompt
from bailanys.ivr.runner import (
    Action,
    CancelTimer,
    Digit,
    Emit,
    EnterQueue,
    FlowRunner,
    HandedBack,
    HandoffFailed,
    HangUpCall,
    HungUp,
    Input,
    Listen,
    Phase,
    Play,
    PlayDone,
    QueueStates,
    SetCallLanguage,
    Speech,
    StartRobot,
    StartTimer,
    StopListening,
    StopPlayback,
    TimerFired,
    TransferCall,
)
from bailanys.media.player import EncodedAudio
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)



class IvrCall(Protocol):
    """What the IVR needs of a call (the engine's Call provides it)."""

    id: str

    async def play(self, audio: EncodedAudio, *, interruptible: bool = True) -> bool: ...

    def stop_playback(self) -> None: ...

    async def next_digit(self, wait_s: float) -> str | None: ...

    def set_language(self, lang: str) -> None: ...

    async def hangup(self, reason: str) -> None: ...

    def listen(self, on_audio: Callable[[NDArray[np.int16]], None] | None) -> None: ...


class SpeechSession(Protocol):
    def feed(self, pcm8k: NDArray[np.int16]) -> None: ...

    def close(self) -> None: ...


class SpeechInput(Protocol):
    """Grammar-mode recognition (bailanys.voice.asr.AsrService)."""

    def available(self, lang: str) -> bool: ...

    def grammar_session(
        self, lang: str, phrases: list[str], on_result: Callable[[Any], None]
    ) -> SpeechSession: ...


class Handoffs(Protocol):
    """Where ``queue``, ``robot`` and ``transfer`` nodes hand the call.

    Each returns True when it took the call (the flow ends there) and False
    when it cannot (the node's fallback runs). The robot may also give the
    call back with variables to set before the fallback (:class:`HandedBack`).
    """

    async def enter_queue(self, call: IvrCall, action: EnterQueue) -> bool: ...

    async def start_robot(self, call: IvrCall, action: StartRobot) -> bool | HandedBack: ...

    async def transfer(self, call: IvrCall, action: TransferCall) -> bool: ...


AudioFor = Callable[[Prompt, str], EncodedAudio]
#: Writes a catalogue event (the event log's ``emit``); the session sets its call id.
EmitFn = Callable[[EventBase], object]


class IvrSession:
    def __init__(
        self,
        call: IvrCall,
        flow: Flow,
        *,
        audio_for: AudioFor,
        emit: EmitFn,
        speech: SpeechInput | None = None,
        handoffs: Handoffs | None = None,
        queues: QueueStates | None = None,
        language: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.call = call
        self.runner = FlowRunner(flow, language=language, queues=queues)
        self._audio_for = audio_for
        self._emit = emit
        self._speech = speech
        self._handoffs = handoffs
        self._clock = clock
        self._inputs: asyncio.Queue[Input | None] = asyncio.Queue()  # None: re-check the end
        self._tasks = TaskSet()
        self._timer: asyncio.TimerHandle | None = None
        self._recognisers: list[SpeechSession] = []
        self._ended: str | None = None  # how the flow ended: "hangup", "handoff"
        self._pump: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Run the flow until it hangs up or hands the call over (cancelled on call end)."""
        self._start_pump()
        try:
            await self._execute(self.runner.start(self._clock()))
            while self._ended is None:
                inp = await self._inputs.get()
                if inp is not None and self._ended is None:
                    await self._execute(self.runner.handle(inp, self._clock()))
        except asyncio.CancelledError:
            if self._ended is None and self.runner.phase is not Phase.DONE:
                # The caller hung up mid-flow: record where (lost in the IVR).
                for action in self.runner.handle(HungUp(), self._clock()):
                    if isinstance(action, Emit):
                        self._emit(action.event.for_call(self.call.id))
            raise
        finally:
            await self._cleanup()

    # ------------------------------------------------------------ actions

    async def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Emit):
                self._emit(action.event.for_call(self.call.id))
            elif isinstance(action, Play):
                audio = self._audio_for(action.prompt, action.lang)
                self._spawn(self._play(audio, action.token, action.barge_in))
            elif isinstance(action, StopPlayback):
                self.call.stop_playback()
            elif isinstance(action, StartTimer):
                self._cancel_timer()
                loop = asyncio.get_running_loop()
                token = action.token
                self._timer = loop.call_later(action.seconds, self._inputs.put_nowait,
                                              TimerFired(token))
            elif isinstance(action, CancelTimer):
                self._cancel_timer()
            elif isinstance(action, Listen):
                self._listen(action.words)
            elif isinstance(action, StopListening):
                self._stop_listening()
            elif isinstance(action, SetCallLanguage):
                self.call.set_language(action.lang)
            elif isinstance(action, HangUpCall):
                self._ended = "hangup"
                await self._drain_playback()
                await self.call.hangup(action.cause)
            elif isinstance(action, EnterQueue | StartRobot | TransferCall):
                # The call's keys and audio belong to whoever takes it now.
                self._stop_pump()
                self._stop_listening()
                # Inline, in the call's flow task: the taker may hang the call
                # up (Call.end then skips awaiting the task it runs in), and
                # the caller's hang-up cancels it with the flow.
                await self._handoff(action)

    async def _play(self, audio: EncodedAudio, token: int, barge_in: bool) -> None:
        completed = await self.call.play(audio, interruptible=barge_in)
        self._inputs.put_nowait(PlayDone(token, completed))

    async def _drain_playback(self) -> None:
        """Let prompts already queued (a goodbye) finish before the BYE."""
        pending = [t for t in self._tasks if t is not asyncio.current_task()
                   and t.get_name().startswith("ivr-play")]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _handoff(self, action: EnterQueue | StartRobot | TransferCall) -> None:
        h = self._handoffs
        ok = False
        reason = "unavailable"
        variables: Mapping[str, str] = {}
        try:
            if h is None:
                reason = "not configured"
            elif isinstance(action, EnterQueue):
                ok = await h.enter_queue(self.call, action)
            elif isinstance(action, StartRobot):
                taken = await h.start_robot(self.call, action)
                if isinstance(taken, HandedBack):
                    reason, variables = taken.reason, taken.variables
                else:
                    ok = taken
            else:
                ok = await h.transfer(self.call, action)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call %s: hand-over failed", self.call.id[:8])
            reason = "error"
        if ok:
            self._ended = "handoff"
            self._inputs.put_nowait(None)  # wake run() to end
        else:
            self._start_pump()
            self._inputs.put_nowait(HandoffFailed(reason, variables))

    def _start_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._pump = self._tasks.spawn(self._pump_digits(), name="ivr")

    def _stop_pump(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None

    async def _pump_digits(self) -> None:
        await pump_digits(self.call, lambda key: self._inputs.put_nowait(Digit(key)))

    # ------------------------------------------------------------ speech

    def _listen(self, words: Mapping[str, tuple[str, ...]]) -> None:
        self._stop_listening()
        if self._speech is None:
            return
        for lang, phrases in words.items():
            if phrases and self._speech.available(lang):
                self._recognisers.append(
                    self._speech.grammar_session(lang, list(phrases), self._on_speech)
                )
        if self._recognisers:
            self.call.listen(self._feed)

    def _feed(self, pcm: NDArray[np.int16]) -> None:
        for rec in self._recognisers:
            rec.feed(pcm)

    def _on_speech(self, result: Any) -> None:
        if not self._recognisers:
            return  # a result that arrived after the menu stopped listening
        self._inputs.put_nowait(
            Speech(result.lang, result.phrase, float(result.confidence), bool(result.accepted))
        )

    def _stop_listening(self) -> None:
        if self._recognisers:
            self.call.listen(None)
        for rec in self._recognisers:
            rec.close()
        self._recognisers.clear()

    # ------------------------------------------------------------ ownership

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        name = "ivr-play" if getattr(coro, "__name__", "") == "_play" else "ivr"
        self._tasks.spawn(coro, name=name)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _cleanup(self) -> None:
        self._cancel_timer()
        self._stop_listening()
        await self._tasks.cancel_all()
        # The cancelled pump's traceback holds its frames, which hold this
        # session: dropping the task breaks the cycle, so a call's objects go
        # by reference counting, not a collector pass (issue 20).
        self._pump = None
