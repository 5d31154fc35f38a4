"""Which language a channel (or one utterance) is in, from what each model made of it.

Issue 15, "Per channel, per language": the language comes from the call
(``call.language``), else is detected from the first ~20 s of speech decoded
under every available model; a channel that switches language mid-call
(common in Kazakhstan) is handled per utterance when both models are there.

Pure code: the inputs are the words each model recognised.

The rule, :func:`score`: mean word confidence times a coverage factor.

* A model decoding speech in its own language gives words it is sure of;
  forced onto another language it still outputs words (a Vosk model has no
  "foreign" output) but with lower confidences, so the mean confidence is
  the main cue (it is also what Vosk's own confidences are for).
* A wrong model sometimes gives one or two short words at high confidence
  and drops the rest (measured with the Korean model on Korean espeak
  speech it cannot read: a 1.9 s clip came out as one word at confidence
  1.0). So the mean is multiplied by ``min(1, words per second of speech /``
  :data:`MIN_WORDS_PER_S` ``)``: saying too little for the speech heard
  costs in proportion.

Ties keep the earlier language in the order given (the configured order).
:func:`prefer` decides per utterance, with a margin so that noise in the
confidences does not flip an utterance to the other language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from bailanys.analytics.model import Word

__all__ = [
    "DETECT_SPEECH_S",
    "MIN_WORDS_PER_S",
    "RECHECK_CONF",
    "SWITCH_MARGIN",
    "choose",
    "mean_conf",
    "prefer",
    "score",
]

#: Seconds of speech (after the silence pass) decoded under every model to
#: detect a channel's language (issue 15: "first 20 s under both models").
DETECT_SPEECH_S: Final = 20.0
#: Words per second of speech under which a model is taken to have missed
#: words: about half the slowest conversational rate (Russian and Kazakh
#: speech runs at 2-3 words per second).
MIN_WORDS_PER_S: Final = 1.0
#: An utterance whose mean confidence is under this is decoded again under
#: the other language's model(s). A guess to be tuned once kk/ru models can
#: be measured: a clean utterance in the model's language scores 0.8-1.0.
RECHECK_CONF: Final = 0.75
#: How much better the other model's score must be to switch an utterance.
SWITCH_MARGIN: Final = 0.1


def mean_conf(words: Sequence[Word]) -> float:
    """Mean confidence of ``words`` (0 for none)."""
    return sum(w.conf for w in words) / len(words) if words else 0.0


def score(words: Sequence[Word], speech_seconds: float) -> float:
    """How well a model's words explain ``speech_seconds`` of speech (0-1)."""
    if not words:
        return 0.0
    if speech_seconds <= 0:
        return mean_conf(words)
    coverage = min(1.0, len(words) / speech_seconds / MIN_WORDS_PER_S)
    return mean_conf(words) * coverage


def choose(decoded: Mapping[str, Sequence[Word]], speech_seconds: float) -> str:
    """The language whose model explains the speech best (first on ties).

    ``decoded`` maps each language to the words its model found in the same
    ``speech_seconds`` of speech; it must not be empty.
    """
    if not decoded:
        raise ValueError("no language to choose from")
    best, best_score = "", -1.0
    for lang, words in decoded.items():
        s = score(words, speech_seconds)
        if s > best_score:
            best, best_score = lang, s
    return best


def prefer(current: Sequence[Word], other: Sequence[Word], seconds: float) -> bool:
    """Whether ``other`` (another model's words for the same audio) should replace ``current``."""
    return score(other, seconds) > score(current, seconds) + SWITCH_MARGIN
