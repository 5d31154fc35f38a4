"""Speech menus: Vosk grammar recognition of call audio, off the event loop.

:class:`AsrService` owns a thread pool and one loaded Vosk model per language
(found by :mod:`bailanys.voice.models`). A call leg that listens for a spoken
menu choice gets a :class:`GrammarSession`: a Vosk recognizer restricted to
the menu's phrases (Vosk grammar mode, ``KaldiRecognizer(model, rate,
'["phrase", ..., "[unk]"]')``).

Data path, per session::

    loop: feed(160 samples @ 8 kHz, every 20 ms)  -> buffer (no other work)
          every CHUNK_MS of audio, one job at a time:
    worker thread: Upsampler 8 -> 16 kHz -> fixed PIECE_MS pieces
                   -> AcceptWaveform; True (utterance end) -> Result()
    loop: SpeechResult -> on_result

Vosk releases the GIL while decoding, so the workers decode in parallel with
the loop. Audio reaches Vosk in fixed pieces whatever the thread timing, and
the private model copy has dither off, so the same audio gives the same
results every time.

Session states (one transition each way, driven on the loop)::

    OPEN --finish()--> FINISHING --final job done--> CLOSED
    OPEN/FINISHING --close() or a failed job--> CLOSED

At most one job per session is in flight, so its recognizer is never used by
two threads at once; audio fed meanwhile waits in order for the next job.
Nothing is delivered after ``close()``.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bailanys.errors import VoiceError
from bailanys.voice.audio import to_int16
from bailanys.voice.grammar import (
    FREE_FORM,
    Grammar,
    SpeechResult,
    compile_grammar,
    parse_result,
)
from bailanys.voice.models import ModelLoader, Recognizer, SpeechModel, VoskModel
from bailanys.voice.resample import IN_RATE, OUT_RATE, Upsampler

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "DEFAULT_WORKERS",
    "AsrConfig",
    "AsrService",
    "GrammarSession",
    "SpeechResult",
]

log = logging.getLogger(__name__)

#: Decoding threads. A grammar session costs ~1/70 of real time on one core
#: (measured here with the small Korean model: 1 s of call audio in 14 ms of
#: CPU, resampling included), so 2 threads carry ~100 listening legs.
DEFAULT_WORKERS: Final = 2
#: Mean word confidence under which a result is delivered with
#: ``accepted=False``. Measured with the Korean test model on espeak-ng
#: keywords through G.711: right words scored 0.83-1.0, a word outside the
#: grammar forced onto a grammar word 0.28-0.52.
DEFAULT_MIN_CONFIDENCE: Final = 0.6
#: Audio buffered on the loop before a decoding job is handed to a worker.
CHUNK_MS: Final = 100
#: Audio goes to ``AcceptWaveform`` in pieces of exactly this length, so
#: results do not depend on how jobs happened to be cut. Vosk checks for an
#: utterance end once per call, so this is also that check's granularity.
PIECE_MS: Final = 100
#: Compiled grammars kept per service (menus are few; this only bounds a
#: flow that builds phrase lists on the fly).
GRAMMAR_CACHE: Final = 256
#: Where private model copies (dither off) are made.
DEFAULT_WORK_DIR: Final = Path("var/asr")


@dataclass(frozen=True, slots=True)
class AsrConfig:
    """Speech recognition settings (one per engine)."""

    #: Decoding threads in the pool.
    workers: int = DEFAULT_WORKERS
    #: Results under this mean word confidence come with ``accepted=False``.
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    #: Folder for the private model copies (see :func:`prepare_model`).
    work_dir: Path = DEFAULT_WORK_DIR

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"asr workers must be >= 1, got {self.workers}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"asr min_confidence must be in [0, 1], got {self.min_confidence}")


class _State(enum.Enum):
    OPEN = "open"
    FINISHING = "finishing"
    CLOSED = "closed"


class GrammarSession:
    """One call leg listening for one menu's phrases (see the module docstring)."""

    def __init__(
        self,
        *,
        lang: str,
        model: SpeechModel,
        grammar: Grammar,
        on_result: Callable[[SpeechResult], None],
        executor: ThreadPoolExecutor,
        loop: asyncio.AbstractEventLoop,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        on_close: Callable[[GrammarSession], None] | None = None,
    ) -> None:
        self.lang = lang
        self.grammar = grammar
        self.min_confidence = min_confidence
        self._model = model
        self._on_result = on_result
        self._executor = executor
        self._loop = loop
        self._on_close = on_close
        # Loop side.
        self._state = _State.OPEN
        self._frames: list[NDArray[np.int16]] = []
        self._queued = 0
        self._in_flight = False
        self._waiter: asyncio.Future[SpeechResult | None] | None = None
        self._chunk = IN_RATE * CHUNK_MS // 1000
        # Worker side (one job at a time touches these).
        self._rec: Recognizer | None = None
        self._upsampler = Upsampler()
        self._carry: NDArray[np.int16] = np.zeros(0, dtype=np.int16)
        self._piece = OUT_RATE * PIECE_MS // 1000

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED

    def feed(self, pcm8k: NDArray[np.int16]) -> None:
        """Buffer 8 kHz samples (a 20 ms frame); never blocks. Ignored once finishing or closed."""
        if self._state is not _State.OPEN:
            return
        frame = np.array(pcm8k, dtype=np.int16).reshape(-1)  # a copy: callers reuse buffers
        self._frames.append(frame)
        self._queued += frame.size
        if not self._in_flight and self._queued >= self._chunk:
            self._submit(final=False)

    async def finish(self) -> SpeechResult | None:
        """End of input: decode what is buffered, force Vosk's final result, close.

        Returns the last result the final job delivered (also given to
        ``on_result``), or None if there was none or the session was closed.
        """
        if self._state is _State.CLOSED:
            return None
        if self._waiter is None:
            self._waiter = self._loop.create_future()
            self._state = _State.FINISHING
            self._pump()
        return await asyncio.shield(self._waiter)

    def close(self) -> None:
        """Stop now: buffered audio and a running job's results are dropped."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        self._frames.clear()
        self._queued = 0
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if not self._in_flight:
            self._rec = None
        if self._on_close is not None:
            self._on_close(self)

    # ------------------------------------------------------------ loop side

    def _pump(self) -> None:
        if self._in_flight or self._state is _State.CLOSED:
            return
        if self._state is _State.FINISHING:
            self._submit(final=True)
        elif self._queued >= self._chunk:
            self._submit(final=False)

    def _submit(self, *, final: bool) -> None:
        chunk = np.concatenate(self._frames) if self._frames else np.zeros(0, dtype=np.int16)
        self._frames.clear()
        self._queued = 0
        try:
            job = self._executor.submit(self._decode, chunk, final)
        except RuntimeError:  # the service stopped: its pool takes no more jobs
            log.warning("speech session (%s) fed after the recognizer stopped", self.lang)
            self.close()
            return
        self._in_flight = True
        job.add_done_callback(functools.partial(self._job_ended, final=final))

    def _job_ended(self, job: Future[list[SpeechResult]], *, final: bool) -> None:
        # Runs in the worker thread (or here, if the job was already done).
        try:
            self._loop.call_soon_threadsafe(self._job_done, job, final)
        except RuntimeError:  # the loop is closed; nobody is listening
            pass

    def _job_done(self, job: Future[list[SpeechResult]], final: bool) -> None:
        self._in_flight = False
        if self._state is _State.CLOSED:
            self._rec = None
            return
        try:
            results = job.result()
        except CancelledError:
            self.close()
            return
        except Exception:
            log.exception("speech decoding failed (%s); session closed", self.lang)
            self.close()
            return
        last: SpeechResult | None = None
        for result in results:
            if self.closed:  # on_result closed the session
                return
            last = result
            try:
                self._on_result(result)
            except Exception:
                log.exception("speech result callback failed (%s)", self.lang)
        if final:
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(last)
            self.close()
            return
        self._pump()

    # ---------------------------------------------------------- worker side

    def _decode(self, chunk: NDArray[np.int16], final: bool) -> list[SpeechResult]:
        rec = self._rec
        if rec is None:
            rec = self._rec = self._model.recognizer(self.grammar.phrases)
        parts = [self._carry, to_int16(self._upsampler.push(chunk))]
        if final:
            parts.append(to_int16(self._upsampler.close()))
        audio = np.concatenate(parts)
        raws: list[str] = []
        start, piece = 0, self._piece
        while audio.size - start >= piece:
            if rec.AcceptWaveform(audio[start : start + piece].tobytes()):
                raws.append(rec.Result())
            start += piece
        self._carry = audio[start:]
        if final:
            if self._carry.size and rec.AcceptWaveform(self._carry.tobytes()):
                raws.append(rec.Result())
            self._carry = np.zeros(0, dtype=np.int16)
            raws.append(rec.FinalResult())
        parsed = (parse_result(r, self.lang, self.grammar, self.min_confidence) for r in raws)
        return [r for r in parsed if r is not None]


class AsrService:
    """Loaded speech models and the decoding pool; the factory of grammar sessions."""

    def __init__(
        self,
        models: Mapping[str, Path | None],
        *,
        config: AsrConfig | None = None,
        loader: ModelLoader = VoskModel.load,
    ) -> None:
        self.config = config or AsrConfig()
        self._paths = dict(models)
        self._loader = loader
        self._models: dict[str, SpeechModel] = {}
        self._grammars: dict[tuple[str, tuple[str, ...]], Grammar] = {}
        self._sessions: set[GrammarSession] = set()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with a loaded model."""
        return tuple(self._models)

    def available(self, lang: str) -> bool:
        """True when speech menus in ``lang`` can run (its model is loaded)."""
        return lang in self._models and self._executor is not None

    async def start(self) -> None:
        """Load every configured model in the pool; a model that fails is logged and skipped."""
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(self.config.workers, thread_name_prefix="asr")
        loop = asyncio.get_running_loop()
        wanted = {lang: path for lang, path in self._paths.items() if path is not None}
        started = time.monotonic()
        jobs = [
            loop.run_in_executor(self._executor, self._loader, path, self.config.work_dir)
            for path in wanted.values()
        ]
        loaded = await asyncio.gather(*jobs, return_exceptions=True)
        for (lang, path), model in zip(wanted.items(), loaded, strict=True):
            if isinstance(model, BaseException):
                log.error(
                    "speech model for %s (%s) not loaded: %s; menus in %s run keypad-only",
                    lang,
                    path,
                    model,
                    lang,
                )
            else:
                self._models[lang] = model
        log.info(
            "speech models loaded: %s in %.1f s",
            ", ".join(self._models) or "none",
            time.monotonic() - started,
        )

    async def stop(self) -> None:
        """Close every session, then let running jobs end and shut the pool down."""
        for session in list(self._sessions):
            session.close()
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        self._models.clear()
        self._grammars.clear()

    def grammar_session(
        self,
        lang: str,
        phrases: Sequence[str],
        on_result: Callable[[SpeechResult], None],
        *,
        min_confidence: float | None = None,
    ) -> GrammarSession:
        """A new session for one call leg listening for ``phrases`` in ``lang``.

        Cheap (no Vosk work here: the recognizer is built by the first
        decoding job, in a worker). Call on the event loop. Raises
        :class:`VoiceError` when ``lang`` has no model or no phrase is usable.
        """
        model = self._models.get(lang)
        if model is None or self._executor is None:
            raise VoiceError(f"no speech model for {lang!r} (menus in {lang} are keypad-only)")
        key = (lang, tuple(phrases))
        grammar = self._grammars.get(key)
        if grammar is None:
            grammar = compile_grammar(phrases, model.knows)
            if grammar.unknown_words:
                log.warning(
                    "speech model for %s does not know %s; phrases match without them",
                    lang,
                    ", ".join(grammar.unknown_words),
                )
            if len(self._grammars) >= GRAMMAR_CACHE:
                self._grammars.clear()
            self._grammars[key] = grammar
        conf = self.config.min_confidence if min_confidence is None else min_confidence
        return self._open(lang, model, grammar, on_result, conf)

    def transcription_session(
        self,
        lang: str,
        on_result: Callable[[SpeechResult], None],
        *,
        min_confidence: float = 0.0,
    ) -> GrammarSession:
        """A free-form session (no grammar): each utterance's text, for the voice robot.

        ``phrase`` of a result is its text; ``accepted`` when it has words and
        the mean word confidence reaches ``min_confidence``. Raises
        :class:`VoiceError` when ``lang`` has no model.
        """
        model = self._models.get(lang)
        if model is None or self._executor is None:
            raise VoiceError(f"no speech model for {lang!r} (the robot takes keys only)")
        return self._open(lang, model, FREE_FORM, on_result, min_confidence)

    def _open(self, lang: str, model: SpeechModel, grammar: Grammar,
              on_result: Callable[[SpeechResult], None], min_confidence: float) -> GrammarSession:
        assert self._executor is not None
        session = GrammarSession(
            lang=lang,
            model=model,
            grammar=grammar,
            on_result=on_result,
            executor=self._executor,
            loop=asyncio.get_running_loop(),
            min_confidence=min_confidence,
            on_close=self._sessions.discard,
        )
        self._sessions.add(session)
        return session
