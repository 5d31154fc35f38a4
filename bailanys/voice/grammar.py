"""Grammar phrases for Vosk, and Vosk results back as menu choices.

Vosk grammar mode (``KaldiRecognizer(model, rate, '["phrase", ...]')``)
builds a small bigram language model over the phrases' words; words missing
from the model's vocabulary are dropped with a warning, and ``[unk]`` (when
the model has it) absorbs speech outside the phrases. Here the caller's
phrases are normalised the same way before they go to Vosk, so a recognized
text can be mapped back to the caller's phrase exactly.

Pure code: no asyncio, no I/O.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from bailanys.errors import VoiceError

__all__ = ["FREE_FORM", "UNK", "Grammar", "SpeechResult", "compile_grammar", "parse_result"]

log = logging.getLogger(__name__)

#: The grammar word that absorbs speech outside the phrases (present in the
#: small ru and kz models; the Korean test model lacks it).
UNK: Final = "[unk]"


@dataclass(frozen=True, slots=True)
class SpeechResult:
    """One recognized utterance.

    ``phrase`` is the caller's grammar phrase the utterance matched, or None
    (only ``[unk]``, or several phrases). ``accepted`` is False when there is
    no phrase or ``confidence`` (the mean Vosk word confidence, 0..1) is under
    the session's ``min_confidence``; such results are still delivered, so
    callers can count no-matches.
    """

    lang: str
    text: str
    confidence: float
    phrase: str | None
    accepted: bool


@dataclass(frozen=True, slots=True)
class Grammar:
    """Phrases as Vosk gets them, and the way back to the caller's phrases."""

    #: What goes to the recognizer: normalised phrases of known words (+ ``[unk]``).
    phrases: tuple[str, ...]
    #: Normalised recognized text -> the caller's phrase.
    lookup: Mapping[str, str] = field(default_factory=dict)
    #: Words of the caller's phrases missing from the model's vocabulary.
    unknown_words: tuple[str, ...] = ()

    @property
    def free_form(self) -> bool:
        """No phrases: the model's full vocabulary (a question to the voice robot)."""
        return not self.phrases


#: Free-form transcription: Vosk without a grammar; a result's ``phrase`` is
#: its text (``[unk]`` words dropped).
FREE_FORM: Final = Grammar(())


def _normalise(text: str) -> list[str]:
    return text.lower().split()


def compile_grammar(phrases: Sequence[str], knows: Callable[[str], bool]) -> Grammar:
    """Normalise phrases (lower case, single spaces) and drop unknown words.

    Vosk ignores words missing from its vocabulary, so a phrase is matched by
    its known words. A phrase with no known word cannot be recognized and is
    left out; if none is left, :class:`VoiceError`. ``[unk]`` is added when
    the model knows it (never taken from the caller's phrases).
    """
    lookup: dict[str, str] = {}
    unknown: list[str] = []
    for phrase in phrases:
        words = [w for w in _normalise(phrase) if w != UNK]
        known = [w for w in words if knows(w)]
        unknown.extend(w for w in words if w not in known and w not in unknown)
        key = " ".join(known)
        if not key:
            continue
        if key in lookup and lookup[key] != phrase:
            log.warning(
                "phrases %r and %r are the same to the speech model (%r); the first wins",
                lookup[key],
                phrase,
                key,
            )
            continue
        lookup[key] = phrase
    if not lookup:
        raise VoiceError(f"no phrase of {list(phrases)!r} has a word the speech model knows")
    vosk_phrases = (*lookup, UNK) if knows(UNK) else tuple(lookup)
    return Grammar(vosk_phrases, MappingProxyType(lookup), tuple(unknown))


def parse_result(
    raw: str, lang: str, grammar: Grammar, min_confidence: float
) -> SpeechResult | None:
    """A Vosk result JSON as a :class:`SpeechResult`; None when it holds no words.

    ``[unk]`` words are ignored when matching, so "[unk] phrase" matches
    the phrase; the confidence is the mean over all words.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("unreadable Vosk result %r", raw[:200])
        return None
    if not isinstance(data, dict):
        return None
    text = " ".join(str(data.get("text", "")).split())
    if not text:
        return None
    words = data.get("result")
    confs = [
        float(w["conf"])
        for w in (words if isinstance(words, list) else [])
        if isinstance(w, dict) and isinstance(w.get("conf"), int | float)
    ]
    confidence = sum(confs) / len(confs) if confs else 0.0
    key = " ".join(w for w in text.split() if w != UNK)
    phrase = (key or None) if grammar.free_form else grammar.lookup.get(key)
    accepted = phrase is not None and confidence >= min_confidence
    return SpeechResult(lang, text, confidence, phrase, accepted)
