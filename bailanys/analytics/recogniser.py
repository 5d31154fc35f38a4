"""Vosk for transcription: which models, loaded once, one reused recogniser each.

Issue 15, "Per channel, per language" (the recogniser side of
:mod:`bailanys.analytics.transcribe`).

* **Which models** (:func:`find_models`): ``VOSK_ANALYTICS_MODEL_<LANG>``,
  else ``<model_dir>/<lang>/`` (``make models ANALYTICS=1`` puts
  vosk-model-ru-0.42 and vosk-model-kz-0.15 under ``voice_models/analytics/``),
  else the menus' model, found as :mod:`bailanys.voice.models` finds it.
* **Loaded once per process** (:func:`load_model`) from the private copy
  with dither 0.0 (:func:`bailanys.voice.models.prepare_model`), so the same
  audio always gives the same words.
* **One recogniser reused** (:func:`decoder_for`, :class:`_VoskDecoder`):
  free-form, ``SetWords(True)``; audio in fixed :data:`PIECE_S` pieces.

Synchronous and CPU-bound: for worker processes, never the engine's loop.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from bailanys.analytics.audio import RATE
from bailanys.analytics.model import Word
from bailanys.analytics.settings import WORKER_ENV
from bailanys.errors import TranscriptionError
from bailanys.voice.models import VOSK_LOG_LEVEL, discover_models, env_var, prepare_model
from bailanys.voice.resample import OUT_RATE, Upsampler

__all__ = [
    "ANALYTICS_ENV_PREFIX",
    "ANALYTICS_MODEL_DIR",
    "PIECE_S",
    "RENEW_AFTER_S",
    "WORKER_ENV",
    "WORK_DIR",
    "Decode",
    "decoder_for",
    "find_models",
    "load_model",
    "shift",
    "vosk_decoder",
]

log = logging.getLogger(__name__)

Pcm = NDArray[np.int16]

#: A recogniser: 8 kHz samples in, its results (each a list of words, times
#: in seconds from the start of those samples) out.
Decode = Callable[[Pcm], list[list[Word]]]

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
#: Where ``make models ANALYTICS=1`` puts the larger models (scripts/fetch-models.sh).
ANALYTICS_MODEL_DIR: Final = Path("voice_models/analytics")


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
                PACE.start()
                if rec.AcceptWaveform(piece):
                    results.append(_words(rec.Result()))
                self._fed += len(piece) // 2
                PACE.done()
            results.append(_words(rec.FinalResult()))
        return shift([r for r in results if r], -base)


class Pace:
    """Keeps decoding to ``percent`` of one core: after each piece, a sleep in
    proportion to the CPU the piece took (``[analytics] cpu_percent``; fine
    grained, so the engine on the same machine never meets a long burst)."""

    def __init__(self, percent: int = 100, *, sleep: Callable[[float], None] = time.sleep,
                 cpu: Callable[[], float] = time.process_time) -> None:
        self.percent = percent
        self._sleep = sleep
        self._cpu = cpu
        self._started = 0.0

    def start(self) -> None:
        self._started = self._cpu()

    def done(self) -> None:
        if self.percent < 100:
            spent = self._cpu() - self._started
            self._sleep(max(0.0, spent) * (100 / self.percent - 1))


#: The process's pace (a worker sets it from its config at start).
PACE = Pace()


def set_cpu_percent(percent: int) -> None:
    """Decode at most ``percent`` of one core from now on (10-100)."""
    PACE.percent = max(10, min(100, percent))


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


def shift(results: list[list[Word]], offset: float) -> list[list[Word]]:
    """``results`` with every word moved by ``offset`` seconds (ms precision)."""
    return [
        [Word(w.text, round(w.start + offset, 3), round(w.end + offset, 3), w.conf) for w in r]
        for r in results
    ]
