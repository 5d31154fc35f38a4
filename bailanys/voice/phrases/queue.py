"""What a caller waiting in a queue hears, in Kazakh and Russian.

Pure functions: numbers in, one sentence out, numbers written as words for
espeak-ng. The queue layer decides when to play them.

* :func:`position_announcement`: ru "Ваш звонок — третий в очереди.",
  kk "Кезекте үшінші орындасыз." ("you are in the third place in the queue":
  орын "place" + locative -да + polite 2nd person -сыз). The Russian
  ordinal agrees with "звонок" (masculine), not with the caller, whose sex
  is unknown: "Вы третий" said the masculine to every woman (language
  review 2026-12, item 9). Kazakh ordinals have no gender.
* :func:`wait_announcement`: ru "Примерное время ожидания — около двух
  минут." ("Ожидаемое время ожидания" was a pleonasm, review item 7),
  kk "Шамамен екі минут күтесіз." ("you will wait about two minutes");
  under a minute ru "... — менее минуты.", kk "Бір минуттан аз күтесіз."
  ("less than one minute", ablative -тан + аз "less"). Above an hour the
  minutes are rounded (:func:`.durations.announced_minutes`, item 8).
* :func:`free_call_announcement`: ru "Звонок бесплатный.", kk "Қоңырау тегін."
* :func:`limit_announcement`: what happens at the queue's ``max_wait_s``,
  said instead of an expected wait the queue will not allow (a caller told
  "about one hour" in a queue that gives up after 30 minutes was misled):
  ru "Если в течение тридцати минут оператор не освободится, мы передадим
  ваш звонок другим операторам." (overflow) / "..., мы завершим звонок; вы
  сможете перезвонить позже." (no overflow: the call ends); kk "Отыз минут
  ішінде оператор босамаса, қоңырауыңызды басқа операторларға жалғаймыз." /
  "..., қоңырау аяқталады, кейінірек қайта қоңырау шала аласыз." ("ішінде"
  within; the conditional "босамаса", if it does not become free). The
  time left is rounded *down* to whole minutes (never promise past the
  limit); under a minute it is "в ближайшее время" / "жақын арада" (soon).
* :func:`expected_wait_announcement`: the choice between the two: the wait
  if its announced minutes fit within the time left, else the limit.

Rounding and the grammar of durations are in :mod:`.durations`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from bailanys.voice.phrases import numbers_kk, numbers_ru
from bailanys.voice.phrases.durations import announced_minutes, approx_duration, wait_minutes
from bailanys.voice.phrases.languages import check_lang
from bailanys.voice.phrases.numbers_ru import Case

#: What the queue does at its ``max_wait_s`` (``bailanys.queue.actions.Announce.at_limit``).
OVERFLOW, HANG_UP = "overflow", "hang_up"

_AT_LIMIT: Final[Mapping[str, Mapping[str, str]]] = {
    OVERFLOW: {"kk": "қоңырауыңызды басқа операторларға жалғаймыз.",
               "ru": "мы передадим ваш звонок другим операторам."},
    HANG_UP: {"kk": "қоңырау аяқталады, кейінірек қайта қоңырау шала аласыз.",
              "ru": "мы завершим звонок; вы сможете перезвонить позже."},
}

_LESS_THAN_A_MINUTE: Final[Mapping[str, str]] = {
    "kk": "Бір минуттан аз күтесіз.",
    "ru": "Примерное время ожидания — менее минуты.",
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
        return f"Ваш звонок — {numbers_ru.ordinal(position)} в очереди."
    return f"Кезекте {numbers_kk.ordinal(position)} орындасыз."


def wait_announcement(lang: str, seconds: float) -> str:
    """The expected wait, from an estimate in seconds (rounded by
    :func:`wait_minutes`, then :func:`announced_minutes` above an hour)."""
    check_lang(lang)
    minutes = announced_minutes(wait_minutes(seconds))
    if minutes == 0:
        return _LESS_THAN_A_MINUTE[lang]
    about = approx_duration(lang, minutes)
    if lang == "ru":
        return f"Примерное время ожидания — {about}."
    return f"{about[0].upper()}{about[1:]} күтесіз."


def free_call_announcement(lang: str) -> str:
    """The announcement that the call is free of charge."""
    check_lang(lang)
    return _FREE_CALL[lang]


def _within(lang: str, minutes: int) -> str:
    """"Within ``minutes``" (at least 1): ru "в течение двух минут" (genitive),
    kk "екі минут ішінде"."""
    hours, mins = divmod(minutes, 60)
    if lang == "ru":
        if minutes == 1:
            return "в течение минуты"
        counts = ((hours, numbers_ru.HOUR), (mins, numbers_ru.MINUTE))
        return "в течение " + " ".join(
            numbers_ru.count_phrase(n, noun, Case.GEN) for n, noun in counts if n)
    counts_kk = ((hours, numbers_kk.HOUR), (mins, numbers_kk.MINUTE))
    return " ".join(numbers_kk.count_phrase(n, noun) for n, noun in counts_kk if n) + " ішінде"


def limit_announcement(lang: str, seconds: float, at_limit: str) -> str:
    """What happens if no operator is free in the ``seconds`` the queue still
    allows: ``at_limit`` is :data:`OVERFLOW` or :data:`HANG_UP`."""
    check_lang(lang)
    if at_limit not in _AT_LIMIT:
        raise ValueError(f"at_limit must be {OVERFLOW!r} or {HANG_UP!r}, got {at_limit!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be finite and not negative: {seconds}")
    minutes = math.floor(seconds / 60)
    then = _AT_LIMIT[at_limit][lang]
    if lang == "ru":
        when = _within(lang, minutes) if minutes else "в ближайшее время"
        if minutes:
            return f"Если {when} оператор не освободится, {then}"
        return f"Если оператор не освободится {when}, {then}"
    when = _within(lang, minutes) if minutes else "Жақын арада"
    return f"{when[0].upper()}{when[1:]} оператор босамаса, {then}"


def expected_wait_announcement(
    lang: str, estimate_s: float | None, limit_s: float | None = None,
    at_limit: str | None = None,
) -> str | None:
    """The sentence about the wait, or None when there is nothing to say.

    Never a wait beyond what the queue allows: when the queue has a limit
    (``limit_s`` seconds left before ``at_limit`` happens) and the estimate is
    unknown or its announced minutes (:func:`wait_minutes`, then
    :func:`announced_minutes`) exceed the time
    left, the caller hears :func:`limit_announcement` instead.
    """
    if limit_s is None or at_limit is None:
        return None if estimate_s is None else wait_announcement(lang, estimate_s)
    if estimate_s is not None and announced_minutes(wait_minutes(estimate_s)) * 60 <= limit_s:
        return wait_announcement(lang, estimate_s)
    return limit_announcement(lang, limit_s, at_limit)
