"""One evaluator per kind of automatic criterion (issue 16, "Automatic criteria").

Each evaluator reads a :class:`~bailanys.qa.model.Criterion` and the call's
:class:`Context` (its two sides' words prepared once, the acoustic pass, the
outcome) and returns a :class:`~bailanys.qa.model.Result` with its evidence:
the words and their time for phrases, the measured value for the rest.

* ``said``: a variant of the phrase on ``channel`` starting inside the
  window (``Window.last``: reaching into the last N seconds of the
  recording) -> pass, with the words; none -> fail;
* ``not_said``: any variant anywhere in the window -> fail, with every hit;
  matched with :data:`~bailanys.qa.phrases.STRICT` (precision first);
* ``no_personal_data``: a mask of ``masks`` (``[IIN]`` or ``IIN``; default:
  all of :data:`bailanys.analytics.pii.MASKS`) among the channel's words -> fail;
* ``hold_etiquette``: every silence of the acoustic pass longer than
  ``min_silence_s`` must be preceded, within ``lookback_s``, by a hold phrase
  on the agent's side: one that asks the caller to wait anywhere in the
  lookback, one that only says what the agent will do («сейчас посмотрю»)
  as the agent's last words before the silence (:data:`HOLD_TAIL_S`); no
  such silence -> n.a.;
* ``acoustic`` / ``outcome``: the measure within ``min``..``max``; a measure
  the call does not have (no recording, no survey) -> n.a.;
* ``manual``: pending until a reviewer answers.

A phrase criterion on a side with no transcribed words is n.a. with the note
:data:`NO_TRANSCRIPT`: silence of the recogniser is not a failure of the agent.
Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from bailanys.analytics import pii
from bailanys.analytics.model import Channel
from bailanys.qa import phrases
from bailanys.qa.model import (
    CallInputs,
    Criterion,
    Evidence,
    Kind,
    Measure,
    Outcome,
    Result,
)

#: Machine notes on evidence (the page translates them).
NO_TRANSCRIPT: Final = "no transcript"
NOT_SAID: Final = "not said"
NO_PHRASES: Final = "no phrases"
NO_RECORDING: Final = "no recording"
NO_HOLD: Final = "no hold"
NO_HOLD_PHRASE: Final = "no hold phrase before"
NO_VALUE: Final = "no value"
#: Most hits kept as evidence of one criterion (a forbidden word said 40 times
#: needs a few examples, not 40).
MAX_EVIDENCE: Final = 5
#: Hold phrase lookback when the card gives none: the agent says "please
#: hold" and then looks the answer up; 30 s covers the explanation before it.
DEFAULT_LOOKBACK_S: Final = 30.0
#: A hold longer than this needs a warning when the card gives no threshold
#: (COPC-style hold etiquette: a caller left silent over 20 s is "on hold").
DEFAULT_MIN_SILENCE_S: Final = 20.0
#: The hold phrase may begin this long after the silence the acoustic pass
#: found starts (its VAD's hangover and the recogniser's word times disagree
#: by a few hundred milliseconds).
HOLD_SLACK_S: Final = 1.0
#: Most seconds of the agent's own speech between a hold phrase that only
#: says what the agent will do («сейчас посмотрю», «қазір қарап көрейін»)
#: and the silence: such a phrase announces a hold when it is the agent's
#: last sentence before it (with its object, «...по вашему ИИН»: about 8
#: words, 3 s at 150 words a minute). Said in passing while the agent talks
#: on («сейчас посмотрю по вашему ИИН, результат придёт вам SMS...»), it is
#: narration, and a later silence is unannounced. The caller's reply and
#: pauses do not count. A phrase that asks the caller to wait
#: (:func:`bailanys.qa.phrases.is_request`) holds for the whole lookback.
HOLD_TAIL_S: Final = 3.0
#: A phrase that must reach into the last N seconds may start this long
#: before them (the longest closing, «хабарласқаныңызға рахмет, сау болыңыз,
#: күніңіз сәтті өтсін», takes about 5 s at 150 words a minute).
LAST_REACH_S: Final = 10.0


@dataclass
class Context:
    """One call's inputs, each side's words prepared once for all criteria."""

    inputs: CallInputs
    _heard: dict[Channel, phrases.Heard] = field(default_factory=dict)

    def heard(self, channel: str) -> phrases.Heard:
        side = Channel(channel)
        if side not in self._heard:
            self._heard[side] = phrases.channel_words(self.inputs.utterances, side)
        return self._heard[side]

    @property
    def duration_s(self) -> float:
        """The recording's length; the last word's end when it is unknown."""
        if self.inputs.duration_s > 0:
            return self.inputs.duration_s
        if self.inputs.acoustics is not None and self.inputs.acoustics.duration_s > 0:
            return self.inputs.acoustics.duration_s
        return max((u.end for u in self.inputs.utterances), default=0.0)

    @property
    def language(self) -> str | None:
        if self.inputs.language:
            return self.inputs.language
        langs = [u.language for u in self.inputs.utterances if u.language]
        return max(set(langs), key=langs.count) if langs else None


def _na(c: Criterion, note: str, channel: str | None = None) -> Result:
    return Result(c.id, Outcome.NA, (Evidence(channel=channel, note=note),))


def _bounds(c: Criterion, ctx: Context) -> tuple[float, float | None]:
    """(from, to) seconds a phrase's first word must start in. ``Window.last``:
    the phrase must reach into the last N seconds (a closing said across the
    border counts), so its first word may start up to :data:`LAST_REACH_S`
    before them; :func:`said` then checks where it ended."""
    w = c.window
    if w.last is not None:
        return max(w.start, ctx.duration_s - w.last - LAST_REACH_S), None
    return w.start, w.end


def _evidence(m: phrases.Match, channel: str) -> Evidence:
    return Evidence(channel=channel, text=m.text, start=m.start, end=m.end)


def said(c: Criterion, ctx: Context) -> Result:
    heard = ctx.heard(c.channel)
    if not heard.words:
        return _na(c, NO_TRANSCRIPT, c.channel)
    compiled = phrases.compile_variants(c.variants, ctx.language)
    if not compiled:
        return _na(c, NO_PHRASES, c.channel)
    start, end = _bounds(c, ctx)
    last = c.window.last is not None
    hits = phrases.find(compiled, heard, phrases.LENIENT, start=start, end=end,
                        first_only=not last)
    if last:
        hits = [m for m in hits if m.end >= ctx.duration_s - (c.window.last or 0.0)]
    if hits:
        return Result(c.id, Outcome.PASS, (_evidence(hits[0], c.channel),))
    return Result(c.id, Outcome.FAIL, (Evidence(channel=c.channel, note=NOT_SAID),))


def not_said(c: Criterion, ctx: Context) -> Result:
    heard = ctx.heard(c.channel)
    if not heard.words:
        return _na(c, NO_TRANSCRIPT, c.channel)
    compiled = phrases.compile_variants(c.variants, ctx.language)
    if not compiled:
        return _na(c, NO_PHRASES, c.channel)
    start, end = _bounds(c, ctx)
    hits = phrases.find(compiled, heard, phrases.STRICT, start=start, end=end)
    if hits:
        return Result(c.id, Outcome.FAIL,
                      tuple(_evidence(m, c.channel) for m in hits[:MAX_EVIDENCE]),
                      value=float(len(hits)))
    return Result(c.id, Outcome.PASS)


def no_personal_data(c: Criterion, ctx: Context) -> Result:
    heard = ctx.heard(c.channel)
    if not heard.words:
        return _na(c, NO_TRANSCRIPT, c.channel)
    masks = frozenset(m if m.startswith("[") else f"[{m}]" for m in c.masks) or pii.MASKS
    start, end = _bounds(c, ctx)
    hits = [w for w in heard.words if w.text in masks and w.start >= start
            and (end is None or w.start <= end)]
    if hits:
        return Result(c.id, Outcome.FAIL,
                      tuple(Evidence(channel=c.channel, text=w.text, start=w.start,
                                     end=w.end) for w in hits[:MAX_EVIDENCE]),
                      value=float(len(hits)))
    return Result(c.id, Outcome.PASS)


def hold_etiquette(c: Criterion, ctx: Context) -> Result:
    acoustics = ctx.inputs.acoustics
    if acoustics is None:
        return _na(c, NO_RECORDING)
    least = c.min_silence_s if c.min_silence_s is not None else DEFAULT_MIN_SILENCE_S
    holds = [(a, b) for a, b in acoustics.silences if b - a > least]
    if not holds:
        return _na(c, NO_HOLD)
    heard = ctx.heard(c.channel)
    if not heard.words:
        return _na(c, NO_TRANSCRIPT, c.channel)
    compiled = phrases.compile_variants(c.variants, ctx.language)
    if not compiled:
        return _na(c, NO_PHRASES, c.channel)
    back = c.lookback_s if c.lookback_s is not None else DEFAULT_LOOKBACK_S
    warned, missed = [], []
    for a, b in holds:
        hits = [m for m in phrases.find(compiled, heard, phrases.LENIENT, start=a - back,
                                        end=a + HOLD_SLACK_S)
                if phrases.is_request(m.phrase)
                or _talk_between(heard, m.last + 1, a) <= HOLD_TAIL_S]
        if hits:
            warned.append(_evidence(hits[-1], c.channel))
        else:
            missed.append(Evidence(start=a, end=b, value=round(b - a, 2),
                                   note=NO_HOLD_PHRASE))
    if missed:
        return Result(c.id, Outcome.FAIL, tuple(missed[:MAX_EVIDENCE]),
                      value=float(len(missed)))
    return Result(c.id, Outcome.PASS, tuple(warned[:MAX_EVIDENCE]))


def _talk_between(heard: phrases.Heard, first: int, until: float) -> float:
    """Seconds of speech in ``heard``'s words from index ``first`` that start
    before ``until`` (the agent's words after a hold phrase, before its silence)."""
    talk = 0.0
    for w in heard.words[first:]:
        if w.start >= until:
            break
        talk += min(w.end, until) - w.start
    return talk


def _within(c: Criterion, value: float | None, evidence: Evidence) -> Result:
    if value is None:
        return _na(c, NO_VALUE)
    ok = (c.min is None or value >= c.min) and (c.max is None or value <= c.max)
    return Result(c.id, Outcome.PASS if ok else Outcome.FAIL, (evidence,), value=value)


def acoustic(c: Criterion, ctx: Context) -> Result:
    a = ctx.inputs.acoustics
    if a is None:
        return _na(c, NO_RECORDING)
    if c.measure is None:
        return _na(c, NO_VALUE)
    value = a.measures().get(c.measure)
    at = a.longest_silence_at if c.measure is Measure.LONGEST_SILENCE_S else None
    return _within(c, value, Evidence(value=value, start=at))


def outcome(c: Criterion, ctx: Context) -> Result:
    o = ctx.inputs.outcome
    values: Mapping[Measure, float | None] = {
        Measure.ANSWER_S: o.wait_s,
        Measure.DISPOSITION_SET: 1.0 if o.disposition else 0.0,
        Measure.SURVEY_SCORE: float(o.survey_score) if o.survey_score is not None else None,
    }
    value = values.get(c.measure) if c.measure is not None else None
    return _within(c, value, Evidence(value=value))


def manual(c: Criterion, ctx: Context) -> Result:
    return Result(c.id, Outcome.PENDING)


Evaluator = Callable[[Criterion, Context], Result]

EVALUATORS: Final[Mapping[Kind, Evaluator]] = {
    Kind.SAID: said,
    Kind.NOT_SAID: not_said,
    Kind.NO_PERSONAL_DATA: no_personal_data,
    Kind.HOLD_ETIQUETTE: hold_etiquette,
    Kind.ACOUSTIC: acoustic,
    Kind.OUTCOME: outcome,
    Kind.MANUAL: manual,
}


def evaluate(c: Criterion, ctx: Context) -> Result:
    """The criterion's result on the call (see the module's docstring)."""
    return EVALUATORS[c.kind](c, ctx)
