"""Durations as words, in Kazakh and Russian: exact and approximate.

Pure functions over whole seconds or minutes; the caller rounds measured
times with :func:`wait_minutes`. Two forms:

* :func:`duration_words`: an exact duration in the nominative, for reports
  and read-back: ru "один час пять минут", kk "бір сағат бес минут". Zero
  parts are left out; zero itself is "ноль секунд" / "нөл секунд".
* :func:`approx_duration`: "about N" for announcements. Russian puts the
  whole phrase after "около" in the genitive, every numeral and noun
  ("около одного часа двадцати минут", "около двадцати одной минуты");
  Kazakh puts "шамамен" (approximately) before an uninflected phrase
  ("шамамен бір сағат жиырма минут"). Hours appear from 60 minutes on;
  one hour alone is ru "около часа" ("около часа десяти минут"), as people
  say it, not the stilted "около одного часа".
* :func:`announced_minutes`: what an announcement rounds a wait to. Above an
  hour a minute-exact figure is false precision (language review 2026-12,
  item 8: "около двух часов двух минут"): five-minute steps up to two
  hours, ten-minute steps from there. The estimate itself is not changed.

Grammar is in :mod:`.numbers_ru` and :mod:`.numbers_kk`.
"""

from __future__ import annotations

import math
from typing import Final

from bailanys.voice.phrases import numbers_kk, numbers_ru
from bailanys.voice.phrases.languages import check_lang
from bailanys.voice.phrases.numbers_ru import Case

#: Below this many seconds a wait is announced as "less than a minute".
LESS_THAN_A_MINUTE_S: Final = 60

#: Rounding steps of announced waits above an hour (language review 2026-12,
#: item 8: "round to 5-10 min above an hour"): (from this many minutes, step).
#: Under an hour the minute stays exact: "около двадцати одной минуты" is
#: what a caller expects to hear.
ROUNDING_STEPS: Final = ((120, 10), (60, 5))

_RU_NOUNS: Final = (numbers_ru.HOUR, numbers_ru.MINUTE, numbers_ru.SECOND)
_KK_NOUNS: Final = (numbers_kk.HOUR, numbers_kk.MINUTE, numbers_kk.SECOND)


def _check_count(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must not be negative: {value}")


def split_seconds(seconds: int) -> tuple[int, int, int]:
    """Whole seconds -> (hours, minutes, seconds): 3905 -> (1, 5, 5)."""
    _check_count(seconds, "seconds")
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return hours, minutes, secs


def wait_minutes(seconds: float) -> int:
    """A measured wait in seconds -> whole minutes to announce; 0 means under a minute.

    Under :data:`LESS_THAN_A_MINUTE_S` the answer is 0 ("less than a
    minute"); otherwise the nearest whole minute, halves up: 60-89 s -> 1,
    90-149 s -> 2. The estimate is "about" anyway, and rounding to the nearest
    minute errs neither way on average.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be finite and not negative: {seconds}")
    if seconds < LESS_THAN_A_MINUTE_S:
        return 0
    return math.floor(seconds / 60 + 0.5)


def announced_minutes(minutes: int) -> int:
    """Whole minutes as an announcement says them: exact under an hour, then
    to the nearest 5 minutes (up to two hours) or 10 minutes, halves up:
    62 -> 60, 63 -> 65, 118 -> 120, 124 -> 120, 125 -> 130."""
    _check_count(minutes, "minutes")
    for start, step in ROUNDING_STEPS:
        if minutes >= start:
            return max(start, math.floor(minutes / step + 0.5) * step)
    return minutes


def duration_words(lang: str, seconds: int) -> str:
    """An exact duration, nominative: 3900 -> ru "один час пять минут", kk "бір сағат бес минут"."""
    check_lang(lang)
    parts = split_seconds(seconds)
    if lang == "ru":
        ru = zip(parts, _RU_NOUNS, strict=True)
        words = [numbers_ru.count_phrase(n, noun) for n, noun in ru if n]
        return " ".join(words) or numbers_ru.count_phrase(0, numbers_ru.SECOND)
    kk = zip(parts, _KK_NOUNS, strict=True)
    words = [numbers_kk.count_phrase(n, noun) for n, noun in kk if n]
    return " ".join(words) or numbers_kk.count_phrase(0, numbers_kk.SECOND)


def approx_duration(lang: str, minutes: int) -> str:
    """About ``minutes`` (at least 1): 80 -> ru "около одного часа двадцати минут",
    kk "шамамен бір сағат жиырма минут"."""
    check_lang(lang)
    _check_count(minutes, "minutes")
    if minutes == 0:
        raise ValueError("an approximate duration needs at least one minute")
    hours, mins = divmod(minutes, 60)
    if lang == "ru":
        counts = ((hours, numbers_ru.HOUR), (mins, numbers_ru.MINUTE))
        words = [numbers_ru.count_phrase(n, noun, Case.GEN) for n, noun in counts if n]
        if hours == 1:
            words[0] = "часа"  # "около часа", not "около одного часа"
        return "около " + " ".join(words)
    counts_kk = ((hours, numbers_kk.HOUR), (mins, numbers_kk.MINUTE))
    return "шамамен " + " ".join(numbers_kk.count_phrase(n, noun) for n, noun in counts_kk if n)
