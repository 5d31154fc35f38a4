"""The centre's default card on what 1414 operators say (issue 16, "phrase said /
not said ... with a list of accepted variants per language").

Each row is one agent utterance and whether the card's criterion must detect
it: the colloquial forms the card lists, and the harmless near misses it must
not take for them (a forbidden word's false alarm fails an agent).
"""

from __future__ import annotations

import pytest

from bailanys.analytics.model import Channel
from bailanys.qa import scorecard
from bailanys.qa.criteria import Context, evaluate
from bailanys.qa.model import CallInputs, CallOutcome, Kind, Outcome
from tests.qa.cards import DEFAULT_CARD
from tests.qa.modelcards import acoustics, utt

CARD = scorecard.load(DEFAULT_CARD)
CRITERIA = {c.id: c for c in CARD.criteria}


def detects(criterion: str, text: str, lang: str, at: float = 1.0, duration: float = 60.0,
            silences: tuple[tuple[float, float], ...] = ()) -> bool:
    c = CRITERIA[criterion]
    ctx = Context(CallInputs(call_id="c1", utterances=(utt(Channel.AGENT, at, text, lang),),
                             acoustics=acoustics(duration, silences), outcome=CallOutcome(),
                             duration_s=duration))
    outcome = evaluate(c, ctx).outcome
    return outcome is (Outcome.FAIL if c.kind is Kind.NOT_SAID else Outcome.PASS)


@pytest.mark.parametrize(("criterion", "text", "lang", "want"), [
    ("greeting", "здрасьте слушаю вас", "ru", True),
    ("greeting", "ассалаумағалейкум тыңдап тұрмын", "kk", True),
    ("greeting", "доброго здоровья слушаю", "ru", False),
    ("greeting", "қай күні бердіңіз", "kk", False),
    ("centre_name", "контакт центр один четыре один четыре", "ru", True),
    ("centre_name", "вам нужно обратиться в цон", "ru", False),
    ("anything_else", "остались ли у вас вопросы", "ru", True),
    ("anything_else", "есть ещё вопросы ко мне", "ru", True),
    ("anything_else", "басқа сұрағыңыз жоқ па", "kk", True),
    ("anything_else", "ещё вопросы решает цон", "ru", False),
    ("anything_else", "у вас есть ещё документы", "ru", False),
    ("anything_else", "тағы құжатыңыз бар ма", "kk", False),
    ("forbidden_words", "ну не знаю я", "ru", True),
    ("forbidden_words", "білмеймін енді", "kk", True),
    ("forbidden_words", "без понятия я", "ru", True),
    ("forbidden_words", "ол менің жұмысым емес", "kk", True),
    ("forbidden_words", "звоните куда хотите", "ru", True),
    ("forbidden_words", "мне всё равно нужно уточнить", "ru", False),
    ("forbidden_words", "маған бәрібір тексеру керек", "kk", False),
    ("forbidden_words", "знаю знаю сейчас подскажу", "ru", False),
    ("forbidden_words", "не знаете номер заявления", "ru", False),
    ("forbidden_words", "мен білмеймін деп айтпаймын", "kk", False),
    ("forbidden_words", "олар білмейді", "kk", False),
    ("forbidden_words", "без понятых не оформят", "ru", False),
    ("forbidden_words", "я же вам говорила нужна справка", "ru", True),
    ("forbidden_words", "как я вам уже говорила нужна справка", "ru", False),
    ("forbidden_words", "бұл менің шаруам емес", "kk", True),
])
def test_phrases(criterion: str, text: str, lang: str, want: bool) -> None:
    at = 50.0 if criterion == "anything_else" else 1.0
    assert detects(criterion, text, lang, at=at) is want


@pytest.mark.parametrize(("text", "lang", "want"), [
    ("бір минут күтіңіз", "kk", True),
    ("желіде күтіңіз тексеріп көрейін", "kk", True),
    ("одну секунду я проверю", "ru", True),
    ("так сейчас посмотрю по вашему иину", "ru", True),  # the agent's last words
    ("так сейчас посмотрю по вашему иину результат придёт вам смс сообщением на номер "
     "в течение десяти рабочих дней", "ru", False),  # said in passing, talked on
    ("күттіңіз бе", "kk", False),
])
def test_hold_phrases(text: str, lang: str, want: bool) -> None:
    start = 30.0
    silence = (start + 0.4 * len(text.split()) + 0.5, 90.0)
    assert detects("hold_etiquette", text, lang, at=start, duration=120.0,
                   silences=(silence,)) is want
