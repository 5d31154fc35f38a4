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
* **Repeatable, once per process** (:mod:`bailanys.analytics.recogniser`):
  models load with dither 0.0 and audio reaches Vosk in fixed pieces, so
  the same recording gives the same words on every run and every worker; a
  model is loaded on first use and kept, with one recogniser reused for
  every segment (3-10 times faster than a fresh one each time).

:func:`transcribe_pcm` is the core with the recogniser behind a small port
(:data:`Decode`) so tests can put a fake there. Synchronous and CPU-bound: it
runs in a worker process, never on the engine's event loop. Vosk decodes on
the calling thread; started with :data:`WORKER_ENV` (one BLAS/OpenMP
thread) a worker process is one core.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bailanys.analytics import langid
from bailanys.analytics.audio import PAD_S, RATE, Region, read_channel, speech_regions
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.recogniser import (
    ANALYTICS_MODEL_DIR,
    PIECE_S,
    WORKER_ENV,
    Decode,
    decoder_for,
    find_models,
    load_model,
    shift,
    vosk_decoder,
)
from bailanys.errors import TranscriptionError

# find_models, WORKER_ENV... are re-exported: the worker needs one import.
__all__ = [
    "ANALYTICS_MODEL_DIR",
    "MAX_PAUSE_S",
    "PIECE_S",
    "WORKER_ENV",
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
#: Words further apart than this start a new utterance (a turn-taking pause;
#: pauses inside a sentence are under 0.5 s).
MAX_PAUSE_S: Final = 1.0
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
        return shift(results, region.start / RATE)

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
