"""The SMS texts a citizen gets about a request, in Kazakh and Russian (issue 19).

Issue 19, "Requests (cases)": "Templates of replies in kk/ru with
placeholders" and "The citizen is told: SMS on creation (number, deadline),
on each status change and on the answer". One phrase table, like the
robot's (:mod:`bailanys.robot.service_texts`): a template per occasion and
language, ``str.format`` placeholders from :data:`PLACEHOLDERS` only.
:func:`check` proves at import that every template exists in both
languages and names no unknown placeholder, so a bad edit fails the first
test, not a citizen's SMS.

No personal data ever goes into a text: only the request's number, its
deadline and the centre's number (DOMAIN.md item 11: confidential data only
to the right person; an SMS may be read by someone else). Pure: no I/O.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date
from typing import Final

from bailanys.cases.lifecycle import Status
from bailanys.errors import InputError

LANGS: Final = ("kk", "ru")
#: The only names a template may use.
PLACEHOLDERS: Final = frozenset({"number", "deadline", "centre"})
#: The hotline the citizen calls back (Kazakhstan's e-government contact
#: centre, DOMAIN.md); ``[cases]`` does not configure it yet.
DEFAULT_CENTRE: Final = "1414"

#: Occasions: ``created``, ``linked`` (a repeat request joined the open
#: one), one per status a request can move to, and a supervisor's verdict
#: on a complaint (issue 19: "the citizen told the outcome").
VERDICTS: Final = {True: "confirmed", False: "not_confirmed"}
TEMPLATES: Final[Mapping[str, Mapping[str, str]]] = {
    "created": {
        "kk": "Сіздің өтінішіңіз тіркелді, нөмірі {number}. "
              "Жауап беру мерзімі: {deadline} дейін. Байланыс орталығы {centre}.",
        "ru": "Ваше обращение зарегистрировано под номером {number}. "
              "Срок ответа: до {deadline}. Контакт-центр {centre}.",
    },
    "linked": {
        "kk": "Қайталанған өтінішіңіз {number} нөмірлі өтінішке қосылды. "
              "Жауап беру мерзімі: {deadline} дейін.",
        "ru": "Ваше повторное обращение присоединено к обращению № {number}. "
              "Срок ответа: до {deadline}.",
    },
    Status.REGISTERED.value: {
        "kk": "{number} нөмірлі өтінішіңіз қайта тіркелді. "
              "Жауап беру мерзімі: {deadline} дейін.",
        "ru": "Обращение № {number} зарегистрировано повторно. Срок ответа: до {deadline}.",
    },
    Status.IN_PROGRESS.value: {
        "kk": "{number} нөмірлі өтінішіңіз қарауға алынды. "
              "Жауап беру мерзімі: {deadline} дейін.",
        "ru": "Обращение № {number} принято в работу. Срок ответа: до {deadline}.",
    },
    Status.ESCALATED.value: {
        "kk": "{number} нөмірлі өтінішіңізді қарау мерзімі өтті, өтініш басшының "
              "бақылауына берілді. Нәтижесін хабарлаймыз.",
        "ru": "Срок рассмотрения обращения № {number} истёк, обращение передано "
              "на контроль руководителю. О результате мы сообщим.",
    },
    Status.ANSWERED.value: {
        "kk": "{number} нөмірлі өтінішіңізге жауап дайын. Толығырақ {centre} нөміріне "
              "қоңырау шалып, өтініш нөмірін айтыңыз.",
        "ru": "По обращению № {number} подготовлен ответ. Подробности по номеру {centre}: "
              "назовите номер обращения.",
    },
    VERDICTS[True]: {
        "kk": "{number} нөмірлі шағымыңыз қаралып, негізді деп танылды, шаралар "
              "қабылданды. Байланыс орталығы {centre}.",
        "ru": "Жалоба № {number} рассмотрена и признана обоснованной, приняты меры. "
              "Контакт-центр {centre}.",
    },
    VERDICTS[False]: {
        "kk": "{number} нөмірлі шағымыңыз қаралды, көрсетілген деректер расталмады. "
              "Сұрақтарыңыз болса, {centre} нөміріне хабарласыңыз.",
        "ru": "Жалоба № {number} рассмотрена, изложенные факты не подтвердились. "
              "Если остались вопросы, звоните по номеру {centre}.",
    },
    Status.CLOSED.value: {
        "kk": "{number} нөмірлі өтінішіңіз жабылды. {centre} байланыс орталығына "
              "жүгінгеніңізге рахмет.",
        "ru": "Обращение № {number} закрыто. Спасибо, что обратились в контакт-центр {centre}.",
    },
}


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def check(templates: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What is wrong with a phrase table: a missing language, an unknown
    placeholder, a status with no template; an empty list when none."""
    problems: list[str] = []
    for occasion in ("created", "linked", *(s.value for s in Status), *VERDICTS.values()):
        if occasion not in templates:
            problems.append(f"no template for {occasion!r}")
    for occasion, by_lang in templates.items():
        for lang in LANGS:
            text = by_lang.get(lang, "").strip()
            if not text:
                problems.append(f"{occasion}: no {lang} text")
                continue
            try:
                unknown = _names(text) - PLACEHOLDERS
            except ValueError as exc:
                problems.append(f"{occasion}/{lang}: {exc}")
                continue
            if unknown:
                problems.append(f"{occasion}/{lang}: unknown placeholder(s) "
                                f"{', '.join(sorted(unknown))}")
        extra = set(by_lang) - set(LANGS)
        if extra:
            problems.append(f"{occasion}: unexpected language(s) {', '.join(sorted(extra))}")
    return problems


_PROBLEMS: Final = check(TEMPLATES)
if _PROBLEMS:  # pragma: no cover - the table above is checked by the tests
    raise RuntimeError("; ".join(_PROBLEMS))


def day(d: date) -> str:
    """A date as both languages write it in an SMS: ``05.01.2026``."""
    return d.strftime("%d.%m.%Y")


def render(occasion: str, lang: str, *, number: str, deadline: date | None,
           centre: str = DEFAULT_CENTRE) -> str:
    """The text for ``occasion`` (see :data:`TEMPLATES`) in ``lang``;
    :class:`InputError` for an unknown occasion or language, or a template
    that needs a deadline when there is none."""
    by_lang = TEMPLATES.get(occasion)
    if by_lang is None:
        raise InputError(f"no SMS template for {occasion!r}")
    if lang not in LANGS:
        raise InputError(f"the SMS language must be kk or ru, not {lang!r}")
    text = by_lang[lang]
    if deadline is None and "deadline" in _names(text):
        raise InputError(f"the {occasion!r} SMS needs a deadline")
    return text.format(number=number, deadline=day(deadline) if deadline else "",
                       centre=centre)
