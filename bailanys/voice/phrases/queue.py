"""What a caller waiting in a queue hears, in Kazakh and Russian.

Pure functions: numbers in, one sentence out, numbers written as words for
espeak-ng. The queue layer decides when to play them.

* :func:`position_announcement`: ru "Вы третий в очереди.",
  kk "Кезекте үшінші орындасыз." ("you are in the third place in the queue":
  орын "place" + locative -да + polite 2nd person -сыз). With "вы" a
  full-form ordinal agrees with the person's sex ("вы третья" to a woman);
  the caller's sex is not known here, so it is the masculine, the usual
  default of IVR texts. Kazakh ordinals have no gender.
* :func:`wait_announcement`: ru "Ожидаемое время ожидания около двух минут.",
  kk "Шамамен екі минут күтесіз." ("you will wait about two minutes");
  under a minute ru "... менее минуты.", kk "Бір минуттан аз күтесіз."
  ("less than one minute", ablative -тан + аз "less").
* :func:`free_call_announcement`: ru "Звонок бесплатный.", kk "Қоңырау тегін."

Rounding and the grammar of durations are in :mod:`.durations`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bailanys.voice.phrases import numbers_kk, numbers_ru
from bailanys.voice.phrases.durations import approx_duration, wait_minutes
from bailanys.voice.phrases.languages import check_lang

_LESS_THAN_A_MINUTE: Final[Mapping[str, str]] = {
    "kk": "Бір минуттан аз күтесіз.",
    "ru": "Ожидаемое время ожидания менее минуты.",
}

_FREE_CALL: Final[Mapping[str, str]] = {
    "kk": "Қоңырау тегін.",
    "ru": "Звонок бесплатный.",
}


def position_announcement(lang: str, position: int) -> str:
    """The caller's place in the queue, 1 for the next to be answered."""
    check_lang(lang)
    if isinstance(position, bool) or not isinstance(position, int):
        raise TypeError(f"position must be an int, got {type(position).__name__}")
    if position < 1:
        raise ValueError(f"a queue position starts at 1, got {position}")
    if lang == "ru":
        return f"Вы {numbers_ru.ordinal(position)} в очереди."
    return f"Кезекте {numbers_kk.ordinal(position)} орындасыз."


def wait_announcement(lang: str, seconds: float) -> str:
    """The expected wait, from an estimate in seconds (rounded by :func:`wait_minutes`)."""
    check_lang(lang)
    minutes = wait_minutes(seconds)
    if minutes == 0:
        return _LESS_THAN_A_MINUTE[lang]
    about = approx_duration(lang, minutes)
    if lang == "ru":
        return f"Ожидаемое время ожидания {about}."
    return f"{about[0].upper()}{about[1:]} күтесіз."


def free_call_announcement(lang: str) -> str:
    """The announcement that the call is free of charge."""
    check_lang(lang)
    return _FREE_CALL[lang]
