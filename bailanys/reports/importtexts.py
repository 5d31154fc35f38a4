"""The words of the CSV import (issue 17): the column and value names it
accepts in English, Kazakh and Russian, and what it tells an analyst in
those languages.

One entry per problem ``imports.py`` reports; ``{...}`` are filled in by
:func:`text`. The Reports page passes the analyst's language; the CLI
writes English, like the rest of the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bailanys.reports.model import Sex

#: Column -> its accepted names (compared case-blind, ``_`` as a space).
COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "date": ("date", "күні", "күн", "дата"),
    "channel": ("channel", "арна", "байланыс арнасы", "канал"),
    "topic": ("topic", "тақырып", "тема"),
    "region": ("region", "өңір", "аймақ", "регион"),
    "complaint": ("complaint", "шағым", "жалоба"),
    "complaint_confirmed": ("complaint confirmed", "шағым расталды", "жалоба подтверждена"),
    "resolved": ("resolved", "шешілді", "решено"),
    "answer_hours": ("answer hours", "жауап беру мерзімі (сағат)", "жауап беру уақыты (сағат)",
                     "срок ответа (часы)", "время ответа (часы)"),
    "language": ("language", "тіл", "язык"),
    "age_band": ("age band", "жас тобы", "возрастная группа"),
    "sex": ("sex", "жынысы", "пол"),
    "social_status": ("social status", "әлеуметтік мәртебесі", "әлеуметтік мәртебе",
                      "социальный статус"),
    "survey_score": ("survey score", "баға", "оценка"),
    "count": ("count", "саны", "количество"),
}
REQUIRED: Final = ("date", "channel")
#: Parts of a header that name personal data (never imported).
PERSONAL: Final = ("iin", "иин", "жсн", "phone", "телефон", "tel", "name", "аты", "имя",
                   "фио", "e-mail", "email", "почта", "пошта", "address", "адрес",
                   "мекенжай", "card", "карт", "passport", "паспорт", "birth", "туған",
                   "рожден", "number", "нөмір", "номер")

CHANNEL_NAMES: Final = {
    "chat": ("chat", "чат"),
    "email": ("email", "e-mail", "электрондық пошта", "электронная почта", "эл. почта"),
    "letter": ("letter", "хат", "письмо"),
    "sms": ("sms", "смс"),
    "other": ("other", "басқа", "другое", "прочее"),
}
YES: Final = frozenset({"1", "yes", "true", "y", "иә", "ия", "да", "+"})
NO: Final = frozenset({"0", "no", "false", "n", "жоқ", "нет", "-"})
SEX_NAMES: Final = {"f": Sex.FEMALE, "ә": Sex.FEMALE, "әйел": Sex.FEMALE, "ж": Sex.FEMALE,
               "женский": Sex.FEMALE, "m": Sex.MALE, "е": Sex.MALE, "ер": Sex.MALE,
               "м": Sex.MALE, "мужской": Sex.MALE}

#: The languages of the texts (the console's: en, kk, ru).
LANGUAGES: Final = ("en", "kk", "ru")

TEXTS: Final[dict[str, dict[str, str]]] = {
    "period": {
        "en": "the period ends ({until}) before it starts ({since})",
        "kk": "кезеңнің соңы ({until}) басынан ({since}) бұрын тұр",
        "ru": "период заканчивается ({until}) раньше, чем начинается ({since})",
    },
    "too_big": {
        "en": "larger than {mib} MiB",
        "kk": "файлдың көлемі {mib} МиБ-тан асады",
        "ru": "файл больше {mib} МиБ",
    },
    "not_csv": {
        "en": "not a valid CSV: {detail}",
        "kk": "дұрыс CSV файлы емес: {detail}",
        "ru": "файл не является корректным CSV: {detail}",
    },
    "empty": {
        "en": "no contacts in the file",
        "kk": "файлда бірде-бір өтініш жоқ",
        "ru": "в файле нет ни одного обращения",
    },
    "too_many": {
        "en": "more than {max} contacts in one import",
        "kk": "бір импортта {max} өтініштен артық",
        "ru": "больше {max} обращений за один импорт",
    },
    "cells": {
        "en": "{cells} cells, the header has {header}",
        "kk": "жолда {cells} ұяшық, ал тақырып жолында {header}",
        "ru": "в строке {cells} ячеек, а в заголовке {header}",
    },
    "personal": {
        "en": "personal data is not imported: remove this column",
        "kk": "дербес деректер импортталмайды: бұл бағанды алып тастаңыз",
        "ru": "персональные данные не импортируются: удалите этот столбец",
    },
    "unknown_column": {
        "en": "unknown column; expected {columns}",
        "kk": "белгісіз баған; рұқсат етілгендері: {columns}",
        "ru": "неизвестный столбец; допустимы: {columns}",
    },
    "twice": {
        "en": "{name} given twice",
        "kk": "{name} бағаны екі рет берілген",
        "ru": "столбец {name} указан дважды",
    },
    "missing": {
        "en": "missing column",
        "kk": "міндетті баған жоқ",
        "ru": "нет обязательного столбца",
    },
    "not_topic": {
        "en": "{value} is not a topic of the classifier",
        "kk": "{value} тақырыптар жіктеуішінде жоқ",
        "ru": "{value} нет в классификаторе тем",
    },
    "verdict": {
        "en": "a verdict needs complaint = yes",
        "kk": "шағым бойынша шешім тек «шағым = иә» болғанда көрсетіледі",
        "ru": "решение по жалобе указывается только при «жалоба = да»",
    },
    "outside": {
        "en": "{value} is outside the period {since}..{until}",
        "kk": "{value} кезеңнен тыс ({since}..{until})",
        "ru": "{value} вне периода {since}..{until}",
    },
    "not_date": {
        "en": "{value} is not a date (YYYY-MM-DD or DD.MM.YYYY)",
        "kk": "{value} күн емес (ЖЖЖЖ-АА-КК немесе КК.АА.ЖЖЖЖ)",
        "ru": "{value} не является датой (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)",
    },
    "engine_channel": {
        "en": "{value}: the engine counts its own calls",
        "kk": "{value}: қоңырауларды жүйенің өзі есептейді",
        "ru": "{value}: звонки система учитывает сама",
    },
    "one_of": {
        "en": "{value} is not one of {allowed}",
        "kk": "{value}: рұқсат етілген мәндер — {allowed}",
        "ru": "{value}: допустимые значения — {allowed}",
    },
    "region": {
        "en": "{value} is not one of the 17 regions and 3 cities",
        "kk": "{value} 17 облыс пен 3 қаланың ешқайсысы емес",
        "ru": "{value} не входит в число 17 областей и 3 городов",
    },
    "yes_no": {
        "en": "{value}: expected yes or no (1/0, иә/жоқ, да/нет)",
        "kk": "{value}: иә немесе жоқ деп жазыңыз (1/0, да/нет, yes/no)",
        "ru": "{value}: ожидается да или нет (1/0, иә/жоқ, yes/no)",
    },
    "whole": {
        "en": "{value}: expected a whole number from {low} to {high}",
        "kk": "{value}: бүтін сан күтіледі ({low}…{high})",
        "ru": "{value}: ожидается целое число от {low} до {high}",
    },
    "hours": {
        "en": "{value}: expected hours from 0 to {max}",
        "kk": "{value}: сағат саны күтіледі (0…{max})",
        "ru": "{value}: ожидается число часов от 0 до {max}",
    },
    "sex": {
        "en": "{value}: expected f or m (әйел/ер, женский/мужской)",
        "kk": "{value}: әйел немесе ер деп жазыңыз (ж/м, f/m)",
        "ru": "{value}: ожидается ж или м (женский/мужской, f/m)",
    },
    "more": {
        "en": "... and {count} more problems",
        "kk": "... және тағы {count} қате",
        "ru": "... и ещё ошибок: {count}",
    },
}


def text(key: str, lang: str = "en", **values: object) -> str:
    """The message ``key`` in ``lang`` (English for a language it lacks)."""
    entry = TEXTS[key]
    return entry.get(lang, entry["en"]).format(**values)
