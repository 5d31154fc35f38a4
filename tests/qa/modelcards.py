"""A scorecard built with the qa.model types (the tests do not depend on the YAML loader)."""

from __future__ import annotations

from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.qa.model import (
    Acoustics,
    Criterion,
    Kind,
    Measure,
    Names,
    Scale,
    Scorecard,
    Section,
    Window,
)


def names(en: str) -> Names:
    return Names(kk=en, ru=en, en=en)


def crit(id: str, kind: Kind, **kw: object) -> Criterion:
    return Criterion(id=id, kind=kind, names=names(id), **kw)  # type: ignore[arg-type]


GREETING = crit("greeting", Kind.SAID, window=Window(end=10.0), variants={
    "kk": ("сәлеметсіз бе",), "ru": ("здравствуйте", "добрый день")})
CLOSING = crit("closing", Kind.SAID, window=Window(last=20.0), variants={
    "kk": ("сау болыңыз",), "ru": ("до свидания", "всего доброго")})
FORBIDDEN = crit("forbidden", Kind.NOT_SAID, variants={
    "kk": ("білмеймін",), "ru": ("не знаю",)})
PERSONAL = crit("no_personal_data", Kind.NO_PERSONAL_DATA, critical=True,
                masks=("[IIN]", "[CARD]"))
HOLD = crit("hold", Kind.HOLD_ETIQUETTE, min_silence_s=15.0, lookback_s=20.0, variants={
    "kk": ("күте тұрыңыз",), "ru": ("подождите пожалуйста",)})
TALK = crit("talk_ratio", Kind.ACOUSTIC, measure=Measure.TALK_RATIO, min=0.2, max=0.8)
SILENCE = crit("longest_silence", Kind.ACOUSTIC, measure=Measure.LONGEST_SILENCE_S, max=60.0)
ANSWER = crit("answered", Kind.OUTCOME, measure=Measure.ANSWER_S, max=30.0, weight=2.0)
DISPOSITION = crit("disposition", Kind.OUTCOME, measure=Measure.DISPOSITION_SET, min=1.0)
SURVEY = crit("survey", Kind.OUTCOME, measure=Measure.SURVEY_SCORE, min=4.0)
ACCURATE = crit("accurate", Kind.MANUAL, critical=True, scale=Scale.YES_NO)

CARD = Scorecard(id="test", version=3, names=names("Test"), sections=(
    Section("phrases", names("Phrases"), (GREETING, CLOSING, FORBIDDEN, PERSONAL, HOLD)),
    Section("measures", names("Measures"), (TALK, SILENCE, ANSWER, DISPOSITION, SURVEY)),
    Section("manual", names("Manual"), (ACCURATE,)),
))


def utt(channel: Channel, t0: float, text: str, lang: str = "ru",
        step: float = 0.4) -> Utterance:
    """One utterance, its words ``step`` seconds apart from ``t0``."""
    return Utterance(channel, lang, tuple(
        Word(w, round(t0 + i * step, 3), round(t0 + i * step + 0.3, 3))
        for i, w in enumerate(text.split())))


def acoustics(duration: float = 120.0, silences: tuple[tuple[float, float], ...] = (),
              agent: float = 50.0, caller: float = 40.0) -> Acoustics:
    longest = max(silences, key=lambda s: s[1] - s[0], default=None)
    return Acoustics(duration_s=duration, caller_talk_s=caller, agent_talk_s=agent,
                     overtalk_s=2.0, overtalk=((5.0, 7.0),), silences=silences,
                     longest_silence_s=longest[1] - longest[0] if longest else 0.0,
                     longest_silence_at=longest[0] if longest else None,
                     agent_speech_rate=4.2)
