"""One channel of a call recording to raw words with times: Vosk, per channel, per language.

Issue 15, "Per channel, per language". :func:`transcribe_channel` reads one
channel of the recorder's stereo WAV (:mod:`bailanys.analytics.audio`),
finds the speech in it (an energy pass; silence is never decoded), decodes
each speech region with Vosk free-form (``SetWords(True)``: word times and
confidences) and returns the utterances with times as offsets into the
recording, not into the concatenated speech.

* **Utterances.** Vosk's own result boundaries (its endpointing: 0.5 s of
  trailing silence, conf/model.conf rule 2), each region on its own, and a
  split wherever two words are more than :data:`MAX_PAUSE_S` apart.
* **Language.** Given (``call.language``) or detected
  (:mod:`bailanys.analytics.langid`: the first ~20 s of speech under each
  model). With several models an utterance the channel's model is unsure of
  (mean confidence under ``langid.RECHECK_CONF``) is decoded again under the
  others and the better kept: a caller who switches from Kazakh to Russian
  mid-call gets each utterance in its language, at the cost of decoding
  only the doubtful utterances twice. With one model it is used for
  everything and the transcript says that model's language.
* **Repeatable.** Models load through :func:`bailanys.voice.models.prepare_model`
  (dither 0.0) and audio reaches Vosk in fixed :data:`PIECE_S` pieces, so
  the same recording gives the same words on every run and every worker.
* **Once per process.** A model is loaded on first use and kept
  (:func:`load_model`), with one recogniser reused for every segment
  (:func:`decoder_for`: 3-10 times faster than a fresh one each time):
  a worker transcribes many channels.

:func:`transcribe_pcm` is the core with the recogniser behind a small port
(:data:`Decode`) so tests can put a fake there. Synchronous and CPU-bound: it
runs in a worker process, never on the engine's event loop. Vosk decodes on
the calling thread; started with :data:`WORKER_ENV` (one BLAS/OpenMP
thread) a worker process is one core.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from bailanys.analytics import langid
from bailanys.analytics.audio import PAD_S, RATE, Region, read_channel, speech_regions
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.errors import TranscriptionError
from bailanys.voice.models import VOSK_LOG_LEVEL, discover_models, env_var, prepare_model
from bailanys.voice.resample import OUT_RATE, Upsampler

__all__ = [
    "ANALYTICS_ENV_PREFIX",
    "ANALYTICS_MODEL_DIR",
    "MAX_PAUSE_S",
    "PIECE_S",
    "RENEW_AFTER_S",
    "WORKER_ENV",
    "WORK_DIR",
    "ChannelTranscript",
    "Decode",
    "decoder_for",
    "find_models",
    "load_model",
    "split_utterances",
    "transcribe_channel",
    "transcribe_pcm",
    "vosk_decoder",
]

log = logging.getLogger(__name__)

Pcm = NDArray[np.int16]
#: A recogniser: 8 kHz samples in, its results (each a list of words, times
#: in seconds from the start of those samples) out.
Decode = Callable[[Pcm], list[list[Word]]]

#: Words further apart than this start a new utterance (a turn-taking pause;
#: pauses inside a sentence are under 0.5 s).
MAX_PAUSE_S: Final = 1.0
#: Audio reaches Vosk in pieces of this length whatever the region's length,
#: so endpointing (and so the words) never depends on how the audio was cut.
PIECE_S: Final = 0.2
_PIECE_BYTES: Final = round(PIECE_S * OUT_RATE) * 2
#: 8 kHz samples upsampled at a time (60 s: 7.7 MB of float64 at 16 kHz).
_UPSAMPLE_BLOCK: Final = 60 * RATE
#: Vosk's out-of-vocabulary marker (Russian models): not a word anyone said.
_UNK: Final = "[unk]"
#: Speech after which a kept recogniser is replaced by a fresh one (10 hours:
#: some 300 four-minute channels; bounds the graph cache it builds up, and
#: keeps Vosk's word times, counted from its first sample, precise).
RENEW_AFTER_S: Final = 36_000
#: Where the private dither-off copies of the models are made (the speech
#: menus' folder, bailanys.voice.asr.DEFAULT_WORK_DIR: one copy serves both).
WORK_DIR: Final = Path("var/asr")
#: ``VOSK_ANALYTICS_MODEL_KK`` names a larger model for workers than the menus'.
ANALYTICS_ENV_PREFIX: Final = "VOSK_ANALYTICS_MODEL_"
#: The environment a worker process must start with (before ``vosk`` is
#: imported: its BLAS reads it when the library loads) so decoding keeps to
#: one core. Measured: 2 threads in the process while decoding without it,
#: 1 with it (bench/transcribe_rtf.py prints the count).
WORKER_ENV: Final = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Where ``make models ANALYTICS=1`` puts the larger models (scripts/fetch-models.sh).
ANALYTICS_MODEL_DIR: Final = Path("voice_models/analytics")


@dataclass(frozen=True, slots=True)
class ChannelTranscript:
    """One channel's raw words (not cleaned: see ``bailanys.analytics.clean``)."""

    utterances: tuple[Utterance, ...]
    seconds: float  # the recording's length
    speech_seconds: float  # audio sent to the recogniser after the silence pass
    language: str  # the channel's language: given, detected, or the one model's
    elapsed: float  # processing seconds (reading, silence pass, decoding)

    @property
    def words(self) -> int:
        return sum(len(u.words) for u in self.utterances)

    @property
    def real_time_factor(self) -> float:
        """Processing time over audio time (under 1: faster than real time)."""
        return self.elapsed / self.seconds if self.seconds > 0 else 0.0


def find_models(
    model_dir: Path,
    languages: Iterable[str],
    environ: Mapping[str, str] | None = None,
    *,
    fallback_dir: Path | None = None,
) -> dict[str, Path]:
    """The transcription model of each language that has one (the others are left out).

    Per language, as :func:`bailanys.voice.models.discover_models` finds
    the menus' models: ``VOSK_ANALYTICS_MODEL_<LANG>`` when set, else
    ``<model_dir>/<lang>/`` (``voice_models/analytics/ru/vosk-model-ru-0.42/``
    from ``make models ANALYTICS=1``). A language with no analytics model
    falls back to the menus' model (``VOSK_MODEL_<LANG>``, else
    ``<fallback_dir>/<lang>/``) when ``fallback_dir`` is given: smaller, but
    a transcript beats none.
    """
    env = os.environ if environ is None else environ
    langs = list(languages)
    mapped = {env_var(lang): env.get(ANALYTICS_ENV_PREFIX + lang.upper(), "") for lang in langs}
    found = discover_models(langs, model_dir, mapped)
    missing = [lang for lang in langs if found[lang] is None]
    if missing and fallback_dir is not None:
        found.update(discover_models(missing, fallback_dir, env))
    return {lang: path for lang in langs if (path := found[lang]) is not None}


_loaded: dict[Path, Any] = {}
_load_lock = threading.Lock()


def load_model(path: Path, work_dir: Path = WORK_DIR) -> Any:
    """The ``vosk.Model`` at ``path`` (dither off), loaded once per process."""
    key = path.resolve()
    with _load_lock:
        model = _loaded.get(key)
        if model is None:
            import vosk  # here: a process that never transcribes does not load libvosk

            vosk.SetLogLevel(VOSK_LOG_LEVEL)
            try:
                private = prepare_model(key, work_dir)
                model = vosk.Model(str(private))
            except Exception as e:  # vosk raises a bare Exception; prepare_model OSError
                log.error("cannot load the Vosk model %s: %s", path, e)
                raise TranscriptionError(f"cannot load the model {path.name}") from e
            _loaded[key] = model
            log.info("Vosk model %s loaded for transcription", path)
        return model


def _words(result_json: str) -> list[Word]:
    result = json.loads(result_json).get("result", [])
    return [
        Word(str(w["word"]), float(w["start"]), float(w["end"]), float(w["conf"]))
        for w in result
        if w.get("word") != _UNK
    ]


def _pieces(pcm: Pcm) -> Iterator[bytes]:
    """16 kHz int16 bytes in :data:`PIECE_S` pieces (the last one shorter).

    Upsampled a block at a time (:class:`~bailanys.voice.resample.Upsampler`
    gives the one-shot result whatever the blocks), so a long region never
    needs its whole 16 kHz float copy in memory.
    """
    up = Upsampler()
    pending = b""
    for i in range(0, max(int(pcm.size), 1), _UPSAMPLE_BLOCK):
        pending += _to_bytes(up.push(pcm[i : i + _UPSAMPLE_BLOCK]))
        cut = len(pending) - len(pending) % _PIECE_BYTES
        for j in range(0, cut, _PIECE_BYTES):
            yield pending[j : j + _PIECE_BYTES]
        pending = pending[cut:]
    pending += _to_bytes(up.close())
    for j in range(0, len(pending), _PIECE_BYTES):
        yield pending[j : j + _PIECE_BYTES]


def _to_bytes(samples: NDArray[np.float64]) -> bytes:
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


class _VoskDecoder:
    """One free-form recogniser of a model, kept and reused for every segment.

    Measured on the Korean model (eight espeak phrases, 8 kHz, one core): a
    fresh ``KaldiRecognizer`` per segment decodes at 0.86 x real time, one
    recogniser reused at 0.29 the first time and 0.08 once it has seen
    similar audio: the recogniser caches the parts of the decoding graph it
    expanded (Vosk's small models compose the graph on the fly). Reuse does
    not change the words or confidences (the tests compare a phrase decoded
    alone with the same phrase after others); word times count from the
    recogniser's first sample, so the samples fed so far are subtracted.
    The recogniser is renewed after :data:`RENEW_AFTER_S` of audio so its
    cache cannot grow without bound.
    """

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()
        self._rec: Any = None
        self._fed = 0  # 16 kHz samples fed to self._rec

    def __call__(self, pcm: Pcm) -> list[list[Word]]:
        import vosk

        with self._lock:
            if self._rec is None or self._fed > RENEW_AFTER_S * OUT_RATE:
                self._rec = vosk.KaldiRecognizer(self._model, float(OUT_RATE))
                self._rec.SetWords(True)
                self._fed = 0
            rec, base = self._rec, self._fed / OUT_RATE
            results: list[list[Word]] = []
            for piece in _pieces(pcm):
                if rec.AcceptWaveform(piece):
                    results.append(_words(rec.Result()))
                self._fed += len(piece) // 2
            results.append(_words(rec.FinalResult()))
        return _shift([r for r in results if r], -base)


def vosk_decoder(model: Any) -> Decode:
    """A :data:`Decode` over ``model`` with its own reused recogniser."""
    return _VoskDecoder(model)


_decoders: dict[Path, Decode] = {}


def decoder_for(path: Path) -> Decode:
    """The process's one :data:`Decode` for the model at ``path`` (loaded on first use)."""
    key = path.resolve()
    with _load_lock:
        decode = _decoders.get(key)
    if decode is None:
        decode = vosk_decoder(load_model(path))
        with _load_lock:
            decode = _decoders.setdefault(key, decode)
    return decode


def split_utterances(
    results: Iterable[Sequence[Word]], max_pause: float = MAX_PAUSE_S
) -> list[tuple[Word, ...]]:
    """Each recogniser result, cut where two words are more than ``max_pause`` apart."""
    out: list[tuple[Word, ...]] = []
    for result in results:
        current: list[Word] = []
        for word in result:
            if current and word.start - current[-1].end > max_pause:
                out.append(tuple(current))
                current = []
            current.append(word)
        if current:
            out.append(tuple(current))
    return out


def _shift(results: list[list[Word]], offset: float) -> list[list[Word]]:
    return [
        [Word(w.text, round(w.start + offset, 3), round(w.end + offset, 3), w.conf) for w in r]
        for r in results
    ]


class _Decoding:
    """The regions of one channel decoded lazily per language, each at most once."""

    def __init__(self, pcm: Pcm, regions: list[Region], decoders: Mapping[str, Decode]) -> None:
        self.pcm = pcm
        self.regions = regions
        self.decoders = decoders
        self._done: dict[tuple[str, int], list[list[Word]]] = {}

    def region(self, lang: str, index: int) -> list[list[Word]]:
        key = (lang, index)
        if key not in self._done:
            self._done[key] = self.span(lang, self.regions[index])
        return self._done[key]

    def span(self, lang: str, region: Region) -> list[list[Word]]:
        """Decode samples ``[start, end)`` under ``lang``; times are recording offsets."""
        results = self.decoders[lang](self.pcm[region.start : region.end])
        return _shift(results, region.start / RATE)

    def detect(self) -> str:
        """The language whose model explains the first ~20 s of speech best."""
        if len(self.decoders) == 1:
            return next(iter(self.decoders))
        first: list[int] = []
        seconds = 0.0
        for i, r in enumerate(self.regions):
            if seconds >= langid.DETECT_SPEECH_S:
                break
            first.append(i)
            seconds += r.samples / RATE
        decoded = {
            lang: [w for i in first for result in self.region(lang, i) for w in result]
            for lang in self.decoders
        }
        chosen = langid.choose(decoded, seconds)
        log.debug("language %s from %.1f s of speech under %s", chosen, seconds, list(decoded))
        return chosen

    def recheck(
        self, lang: str, words: tuple[Word, ...], within: Region
    ) -> tuple[str, tuple[Word, ...]]:
        """The utterance in another language when that model explains it clearly better."""
        if len(self.decoders) == 1 or langid.mean_conf(words) >= langid.RECHECK_CONF:
            return lang, words
        pad = round(PAD_S * RATE)
        span = Region(
            max(within.start, round(words[0].start * RATE) - pad),
            min(within.end, round(words[-1].end * RATE) + pad),
        )
        seconds = span.samples / RATE
        best_lang, best = lang, words
        for other in self.decoders:
            if other == lang:
                continue
            found = tuple(w for result in self.span(other, span) for w in result)
            if langid.prefer(best, found, seconds):
                best_lang, best = other, found
        return best_lang, best


def transcribe_pcm(
    pcm: Pcm, channel: Channel, language: str | None, decoders: Mapping[str, Decode]
) -> tuple[tuple[Utterance, ...], str, float]:
    """Utterances, language and speech seconds of one channel's 8 kHz samples.

    ``decoders`` maps each language with a model to its recogniser.
    """
    if language is not None and language not in decoders:
        raise TranscriptionError(f"no model for {language}")
    if not decoders:
        raise TranscriptionError("no speech model")
    regions = speech_regions(pcm)
    speech_seconds = sum(r.samples for r in regions) / RATE
    work = _Decoding(pcm, regions, decoders)
    if language is not None:
        lang = language
    else:
        lang = work.detect() if regions else next(iter(decoders))
    utterances: list[Utterance] = []
    for index, region in enumerate(regions):
        for words in split_utterances(work.region(lang, index)):
            said_in, said = work.recheck(lang, words, region)
            utterances.append(Utterance(channel, said_in, said))
    return tuple(utterances), lang, speech_seconds


def _lazy(path: Path) -> Decode:
    """A :data:`Decode` that loads its model on first use (an unused language costs nothing)."""
    decode: Decode | None = None

    def run(pcm: Pcm) -> list[list[Word]]:
        nonlocal decode
        if decode is None:
            decode = decoder_for(path)
        return decode(pcm)

    return run


def transcribe_channel(
    path: Path, channel: Channel, language: str | None, models: Mapping[str, Path]
) -> ChannelTranscript:
    """Transcribe ``channel`` of the recording at ``path`` (see the module docstring).

    ``language`` is the call's language or None (detect); ``models`` maps
    each language to its Vosk model directory (:func:`find_models`). Raises
    :class:`TranscriptionError` with a short reason for a bad recording or a
    missing model; never blocks on a FIFO or a device path.
    """
    started = time.perf_counter()
    if language is not None and language not in models:
        raise TranscriptionError(f"no model for {language}")
    if not models:
        raise TranscriptionError("no speech model")
    pcm, seconds = read_channel(path, channel)
    decoders = {lang: _lazy(model) for lang, model in models.items()}
    utterances, lang, speech_seconds = transcribe_pcm(pcm, channel, language, decoders)
    return ChannelTranscript(
        utterances=utterances,
        seconds=seconds,
        speech_seconds=speech_seconds,
        language=lang,
        elapsed=time.perf_counter() - started,
    )
