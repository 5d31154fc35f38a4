"""Fixed sentences of the queue: callback offer, callback confirmation, survey.

Keypad keys are spoken as words in the accusative where Kazakh needs it
("бірді басыңыз", as the demo prompts do; see :mod:`.demo`). The survey
asks for a score from one to five, five best, as the 1414 centre reports
its average rating of 5 (DOMAIN.md, KPI 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bailanys.voice.phrases.languages import check_lang

#: Offered with each announcement when the queue allows callbacks (key 1).
CALLBACK_OFFER: Final[Mapping[str, str]] = {
    "kk": "Кезегіңізді сақтап, сізге өзіміз қоңырау шалуымызды қаласаңыз, бірді басыңыз.",
    "ru": "Если хотите, чтобы мы перезвонили вам, сохранив вашу очередь, нажмите один.",
}
CALLBACK_CONFIRMED: Final[Mapping[str, str]] = {
    "kk": "Кезегіңіз сақталды. Кезегіңіз келгенде сізге қоңырау шаламыз. Сау болыңыз!",
    "ru": "Ваша очередь сохранена. Мы перезвоним вам, когда она подойдёт. До свидания!",
}
#: Said to a caller who is called back, before an operator is rung.
CALLBACK_GREETING: Final[Mapping[str, str]] = {
    "kk": "Сәлеметсіз бе! Бұл бірыңғай байланыс орталығы, сіз кері қоңырау шалуды сұрадыңыз. "
    "Операторға қосамын.",
    "ru": "Здравствуйте! Это единый контакт-центр, вы просили перезвонить. "
    "Соединяю с оператором.",
}
QUEUE_TIMEOUT: Final[Mapping[str, str]] = {
    "kk": "Өкінішке орай, қазір операторлар бос емес. Кейінірек қайта қоңырау шалыңыз. "
    "Қоңырау тегін.",
    "ru": "К сожалению, сейчас операторы заняты. Пожалуйста, перезвоните позже. "
    "Звонок бесплатный.",
}
SURVEY_QUESTION: Final[Mapping[str, str]] = {
    "kk": "Қызмет көрсету сапасын бірден беске дейін бағалаңыз: бес өте жақсы дегенді білдіреді.",
    "ru": "Пожалуйста, оцените качество обслуживания от одного до пяти, где пять означает "
    "отлично.",
}
SURVEY_THANKS: Final[Mapping[str, str]] = {
    "kk": "Бағалағаныңызға рахмет. Сау болыңыз!",
    "ru": "Спасибо за оценку. До свидания!",
}


def text(table: Mapping[str, str], lang: str) -> str:
    check_lang(lang)
    return table[lang]


ALL: Final = (
    CALLBACK_OFFER, CALLBACK_CONFIRMED, CALLBACK_GREETING, QUEUE_TIMEOUT, SURVEY_QUESTION,
    SURVEY_THANKS,
)
