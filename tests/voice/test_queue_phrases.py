"""Queue announcements and durations (bailanys.voice.phrases.queue, .durations).

The Russian numerals inside the duration phrases are cross-checked against
num2words (genitive after "около", nominative in plain durations); the noun
forms against the agreement rule written out again here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from num2words import num2words

from bailanys.voice.phrases.durations import (
    announced_minutes,
    approx_duration,
    duration_words,
    split_seconds,
    wait_minutes,
)
from bailanys.voice.phrases.languages import LANGUAGES
from bailanys.voice.phrases.queue import (
    HANG_UP,
    OVERFLOW,
    expected_wait_announcement,
    free_call_announcement,
    limit_announcement,
    position_announcement,
    wait_announcement,
)

# ---------------------------------------------------------------- the brief's examples


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("ru", "Ваш звонок — третий в очереди."),
        ("kk", "Кезекте үшінші орындасыз."),
    ],
)
def test_position_example(lang: str, text: str) -> None:
    assert position_announcement(lang, 3) == text


@pytest.mark.parametrize(
    ("lang", "seconds", "text"),
    [
        ("ru", 120, "Примерное время ожидания — около двух минут."),
        ("kk", 120, "Шамамен екі минут күтесіз."),
        ("ru", 30, "Примерное время ожидания — менее минуты."),
        ("kk", 30, "Бір минуттан аз күтесіз."),
        ("ru", 80 * 60, "Примерное время ожидания — около часа двадцати минут."),
        ("kk", 80 * 60, "Шамамен бір сағат жиырма минут күтесіз."),
        ("ru", 60, "Примерное время ожидания — около одной минуты."),
        ("kk", 60, "Шамамен бір минут күтесіз."),
        ("ru", 21 * 60, "Примерное время ожидания — около двадцати одной минуты."),
        ("ru", 5 * 60, "Примерное время ожидания — около пяти минут."),
        ("ru", 3600, "Примерное время ожидания — около часа."),
        ("kk", 3600, "Шамамен бір сағат күтесіз."),
        ("ru", 7200, "Примерное время ожидания — около двух часов."),
    ],
)
def test_wait_examples(lang: str, seconds: float, text: str) -> None:
    assert wait_announcement(lang, seconds) == text


def test_free_call() -> None:
    assert free_call_announcement("ru") == "Звонок бесплатный."
    assert free_call_announcement("kk") == "Қоңырау тегін."


@pytest.mark.parametrize(
    ("lang", "seconds", "text"),
    [
        ("ru", 3900, "один час пять минут"),
        ("kk", 3900, "бір сағат бес минут"),
    ],
)
def test_plain_duration_example(lang: str, seconds: int, text: str) -> None:
    assert duration_words(lang, seconds) == text


# ---------------------------------------------------------------- positions


@pytest.mark.parametrize(
    ("position", "ru", "kk"),
    [
        (1, "первый", "бірінші"),
        (2, "второй", "екінші"),
        (3, "третий", "үшінші"),
        (6, "шестой", "алтыншы"),
        (10, "десятый", "оныншы"),
        (11, "одиннадцатый", "он бірінші"),
        (20, "двадцатый", "жиырмасыншы"),
        (21, "двадцать первый", "жиырма бірінші"),
        (40, "сороковой", "қырқыншы"),
        (50, "пятидесятый", "елуінші"),
        (100, "сотый", "жүзінші"),
        (200, "двухсотый", "екі жүзінші"),
        (1000, "тысячный", "мыңыншы"),
    ],
)
def test_position_table(position: int, ru: str, kk: str) -> None:
    assert position_announcement("ru", position) == f"Ваш звонок — {ru} в очереди."
    assert position_announcement("kk", position) == f"Кезекте {kk} орындасыз."


def test_every_position_agrees_with_zvonok() -> None:
    """Language review 2026-12, item 9: the ordinal agrees with "звонок"
    (masculine nominative) for every position the queue announces (1-25,
    30-1000), checked against num2words; no "Вы ..." addressed to the caller."""
    for position in [*range(1, 26), *range(30, 1001)]:
        ordinal = num2words(position, lang="ru", to="ordinal")
        assert position_announcement("ru", position) == f"Ваш звонок — {ordinal} в очереди."


@pytest.mark.parametrize("position", [0, -1])
def test_position_starts_at_one(position: int) -> None:
    for lang in LANGUAGES:
        with pytest.raises(ValueError, match="starts at 1"):
            position_announcement(lang, position)


def test_position_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        position_announcement("ru", 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        position_announcement("ru", True)


# ---------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [
        (0, 0),
        (1, 0),
        (30, 0),
        (59, 0),
        (59.999, 0),
        (60, 1),
        (89, 1),
        (89.99, 1),
        (90, 2),
        (149, 2),
        (150, 3),
        (599, 10),
        (3570, 60),
        (3600, 60),
        (4800, 80),
        (10800, 180),
    ],
)
def test_wait_minutes(seconds: float, minutes: int) -> None:
    assert wait_minutes(seconds) == minutes


@pytest.mark.parametrize("seconds", [-1, -0.001, math.nan, math.inf])
def test_wait_minutes_rejects_bad_estimates(seconds: float) -> None:
    with pytest.raises(ValueError):
        wait_minutes(seconds)
    with pytest.raises(ValueError):
        wait_announcement("ru", seconds)


def test_wait_minutes_rejects_non_numbers() -> None:
    with pytest.raises(TypeError):
        wait_minutes(True)
    with pytest.raises(TypeError):
        wait_minutes("60")  # type: ignore[arg-type]


# ---------------------------------------------------------------- approximate durations

# Hand table of what a queue announces, 1 minute .. 3 hours.
APPROX = [
    (1, "около одной минуты", "шамамен бір минут"),
    (2, "около двух минут", "шамамен екі минут"),
    (3, "около трёх минут", "шамамен үш минут"),
    (4, "около четырёх минут", "шамамен төрт минут"),
    (5, "около пяти минут", "шамамен бес минут"),
    (10, "около десяти минут", "шамамен он минут"),
    (11, "около одиннадцати минут", "шамамен он бір минут"),
    (12, "около двенадцати минут", "шамамен он екі минут"),
    (15, "около пятнадцати минут", "шамамен он бес минут"),
    (20, "около двадцати минут", "шамамен жиырма минут"),
    (21, "около двадцати одной минуты", "шамамен жиырма бір минут"),
    (22, "около двадцати двух минут", "шамамен жиырма екі минут"),
    (30, "около тридцати минут", "шамамен отыз минут"),
    (31, "около тридцати одной минуты", "шамамен отыз бір минут"),
    (40, "около сорока минут", "шамамен қырық минут"),
    (41, "около сорока одной минуты", "шамамен қырық бір минут"),
    (45, "около сорока пяти минут", "шамамен қырық бес минут"),
    (50, "около пятидесяти минут", "шамамен елу минут"),
    (59, "около пятидесяти девяти минут", "шамамен елу тоғыз минут"),
    (60, "около часа", "шамамен бір сағат"),
    (61, "около часа одной минуты", "шамамен бір сағат бір минут"),
    (62, "около часа двух минут", "шамамен бір сағат екі минут"),
    (65, "около часа пяти минут", "шамамен бір сағат бес минут"),
    (71, "около часа одиннадцати минут", "шамамен бір сағат он бір минут"),
    (80, "около часа двадцати минут", "шамамен бір сағат жиырма минут"),
    (81, "около часа двадцати одной минуты", "шамамен бір сағат жиырма бір минут"),
    (90, "около часа тридцати минут", "шамамен бір сағат отыз минут"),
    (100, "около часа сорока минут", "шамамен бір сағат қырық минут"),
    (119, "около часа пятидесяти девяти минут", "шамамен бір сағат елу тоғыз минут"),
    (120, "около двух часов", "шамамен екі сағат"),
    (121, "около двух часов одной минуты", "шамамен екі сағат бір минут"),
    (135, "около двух часов пятнадцати минут", "шамамен екі сағат он бес минут"),
    (150, "около двух часов тридцати минут", "шамамен екі сағат отыз минут"),
    (161, "около двух часов сорока одной минуты", "шамамен екі сағат қырық бір минут"),
    (179, "около двух часов пятидесяти девяти минут", "шамамен екі сағат елу тоғыз минут"),
    (180, "около трёх часов", "шамамен үш сағат"),
    (181, "около трёх часов одной минуты", "шамамен үш сағат бір минут"),
    (210, "около трёх часов тридцати минут", "шамамен үш сағат отыз минут"),
    (1440, "около двадцати четырёх часов", "шамамен жиырма төрт сағат"),
    (1500, "около двадцати пяти часов", "шамамен жиырма бес сағат"),
    (1260, "около двадцати одного часа", "шамамен жиырма бір сағат"),
]


@pytest.mark.parametrize(("minutes", "ru", "kk"), APPROX)
def test_approx_duration_table(minutes: int, ru: str, kk: str) -> None:
    assert approx_duration("ru", minutes) == ru
    assert approx_duration("kk", minutes) == kk


def _gen_noun(n: int, sg: str, pl: str) -> str:
    return sg if n % 10 == 1 and n % 100 != 11 else pl


def _nom_noun(n: int, nom_sg: str, gen_sg: str, gen_pl: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return nom_sg
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return gen_sg
    return gen_pl


def _rounded(minutes: int) -> int:
    """Item 8 of the language review written out again: exact under an hour,
    5-minute steps up to two hours, 10-minute steps from there, halves up."""
    if minutes < 60:
        return minutes
    step = 5 if minutes < 120 else 10
    return max(60 if step == 5 else 120, (minutes + step // 2) // step * step)


@pytest.mark.parametrize("minutes", range(1, 301))
def test_every_announced_wait_up_to_five_hours(minutes: int) -> None:
    hours, mins = divmod(minutes, 60)
    parts = []
    if hours:
        hours_words = "" if hours == 1 else num2words(hours, lang="ru", case="g", gender="m") + " "
        parts.append(f"{hours_words}{_gen_noun(hours, 'часа', 'часов')}")
    if mins:
        mins_words = num2words(mins, lang="ru", case="g", gender="f")
        parts.append(f"{mins_words} {_gen_noun(mins, 'минуты', 'минут')}")
    about = "около " + " ".join(parts)
    assert approx_duration("ru", minutes) == about

    kk_parts = []
    if hours:
        kk_parts.append(f"{num2words(hours, lang='kz')} сағат")
    if mins:
        kk_parts.append(f"{num2words(mins, lang='kz')} минут")
    assert approx_duration("kk", minutes) == "шамамен " + " ".join(kk_parts)

    said = _rounded(minutes)
    assert announced_minutes(minutes) == said
    assert wait_announcement("ru", minutes * 60) == (
        f"Примерное время ожидания — {approx_duration('ru', said)}.")
    assert wait_announcement("kk", minutes * 60) == (
        f"Ш{approx_duration('kk', said)[1:]} күтесіз.")


@pytest.mark.parametrize(
    ("minutes", "ru", "kk"),
    [  # language review 2026-12, item 8: no false precision above an hour
        (61, "около часа", "шамамен бір сағат"),
        (62, "около часа", "шамамен бір сағат"),
        (63, "около часа пяти минут", "шамамен бір сағат бес минут"),
        (71, "около часа десяти минут", "шамамен бір сағат он минут"),
        (118, "около двух часов", "шамамен екі сағат"),
        (122, "около двух часов", "шамамен екі сағат"),
        (126, "около двух часов десяти минут", "шамамен екі сағат он минут"),
        (299, "около пяти часов", "шамамен бес сағат"),
    ],
)
def test_waits_above_an_hour_are_rounded(minutes: int, ru: str, kk: str) -> None:
    assert wait_announcement("ru", minutes * 60) == f"Примерное время ожидания — {ru}."
    assert wait_announcement("kk", minutes * 60) == f"{kk.capitalize()} күтесіз."


def test_the_limit_check_uses_the_rounded_wait() -> None:
    """63 minutes are announced as 65: not said in a queue with 64 minutes left."""
    text = expected_wait_announcement("ru", 63 * 60.0, 64 * 60.0, HANG_UP)
    assert text == limit_announcement("ru", 64 * 60.0, HANG_UP)
    assert expected_wait_announcement("ru", 63 * 60.0, 65 * 60.0, HANG_UP) == (
        "Примерное время ожидания — около часа пяти минут.")


def test_approx_duration_needs_a_minute() -> None:
    for lang in LANGUAGES:
        with pytest.raises(ValueError, match="at least one minute"):
            approx_duration(lang, 0)
        with pytest.raises(ValueError, match="negative"):
            approx_duration(lang, -5)


# ---------------------------------------------------------------- exact durations


@pytest.mark.parametrize(
    ("seconds", "ru", "kk"),
    [
        (0, "ноль секунд", "нөл секунд"),
        (1, "одна секунда", "бір секунд"),
        (2, "две секунды", "екі секунд"),
        (5, "пять секунд", "бес секунд"),
        (21, "двадцать одна секунда", "жиырма бір секунд"),
        (59, "пятьдесят девять секунд", "елу тоғыз секунд"),
        (60, "одна минута", "бір минут"),
        (61, "одна минута одна секунда", "бір минут бір секунд"),
        (150, "две минуты тридцать секунд", "екі минут отыз секунд"),
        (3600, "один час", "бір сағат"),
        (3661, "один час одна минута одна секунда", "бір сағат бір минут бір секунд"),
        (3900, "один час пять минут", "бір сағат бес минут"),
        (7200, "два часа", "екі сағат"),
        (7320, "два часа две минуты", "екі сағат екі минут"),
        (5 * 3600 + 11 * 60, "пять часов одиннадцать минут", "бес сағат он бір минут"),
        (86400, "двадцать четыре часа", "жиырма төрт сағат"),
        (21 * 3600 + 22 * 60, "двадцать один час двадцать две минуты",
         "жиырма бір сағат жиырма екі минут"),
    ],
)  # fmt: skip
def test_duration_words_table(seconds: int, ru: str, kk: str) -> None:
    assert duration_words("ru", seconds) == ru
    assert duration_words("kk", seconds) == kk


@pytest.mark.parametrize("hours", [1, 2, 3])
def test_every_hour_and_minute_up_to_three_hours(hours: int) -> None:
    for mins in range(60):
        seconds = hours * 3600 + mins * 60
        ru = f"{num2words(hours, lang='ru')} {_nom_noun(hours, 'час', 'часа', 'часов')}"
        kk = f"{num2words(hours, lang='kz')} сағат"
        if mins:
            mins_ru = num2words(mins, lang="ru", gender="f")
            ru += f" {mins_ru} {_nom_noun(mins, 'минута', 'минуты', 'минут')}"
            kk += f" {num2words(mins, lang='kz')} минут"
        assert duration_words("ru", seconds) == ru
        assert duration_words("kk", seconds) == kk


@pytest.mark.parametrize(
    ("seconds", "parts"),
    [(0, (0, 0, 0)), (59, (0, 0, 59)), (60, (0, 1, 0)), (3905, (1, 5, 5)), (86399, (23, 59, 59))],
)
def test_split_seconds(seconds: int, parts: tuple[int, int, int]) -> None:
    assert split_seconds(seconds) == parts


def test_duration_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="negative"):
        duration_words("ru", -1)
    with pytest.raises(TypeError):
        duration_words("ru", 1.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- every text


@pytest.mark.parametrize("lang", ["en", "", "KK", "rus", "kz"])
def test_unknown_language(lang: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: position_announcement(lang, 1),
        lambda: wait_announcement(lang, 120),
        lambda: free_call_announcement(lang),
        lambda: duration_words(lang, 60),
        lambda: approx_duration(lang, 1),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="unknown language"):
            call()


def test_spoken_texts_have_no_digits() -> None:
    # espeak-ng does not agree digits with nouns; every number is a word.
    for lang in LANGUAGES:
        texts = [free_call_announcement(lang)]
        texts += [position_announcement(lang, p) for p in range(1, 1001)]
        texts += [wait_announcement(lang, s) for s in range(0, 4 * 3600, 7)]
        texts += [duration_words(lang, s) for s in range(0, 4 * 3600, 13)]
        for text in texts:
            assert not any(ch.isdigit() for ch in text), text
            assert "  " not in text and text == text.strip(), text


def test_sentences_start_with_a_capital_and_end_with_a_full_stop() -> None:
    for lang in LANGUAGES:
        for text in (
            position_announcement(lang, 7),
            wait_announcement(lang, 30),
            wait_announcement(lang, 600),
            wait_announcement(lang, 7000),
            free_call_announcement(lang),
        ):
            assert text[0].isupper() and text.endswith("."), text


# ---------------------------------------------------------------- never past the queue's limit


def test_an_hour_is_not_announced_in_a_queue_that_gives_up_after_thirty_minutes() -> None:
    """The issue's case: max_wait_s 1800, an estimate of about an hour."""
    assert expected_wait_announcement("ru", 3600.0, 1800.0, HANG_UP) == (
        "Если в течение тридцати минут оператор не освободится, мы завершим звонок; "
        "вы сможете перезвонить позже.")
    assert expected_wait_announcement("kk", 3600.0, 1800.0, HANG_UP) == (
        "Отыз минут ішінде оператор босамаса, қоңырау аяқталады, кейінірек қайта "
        "қоңырау шала аласыз.")
    assert expected_wait_announcement("ru", 3600.0, 1800.0, OVERFLOW) == (
        "Если в течение тридцати минут оператор не освободится, мы передадим ваш звонок "
        "другим операторам.")
    assert expected_wait_announcement("kk", 3600.0, 1800.0, OVERFLOW) == (
        "Отыз минут ішінде оператор босамаса, қоңырауыңызды басқа операторларға жалғаймыз.")


@pytest.mark.parametrize(
    ("estimate", "limit", "says_wait"),
    [
        (600.0, 1800.0, True),  # ten minutes of thirty: the wait
        (1800.0, 1800.0, True),  # exactly the limit
        (1790.0, 1770.0, False),  # announced as 30 minutes, 29.5 left: the limit
        (30.0, 20.0, True),  # "less than a minute" promises nothing past 20 s
        (None, 1800.0, False),  # no estimate (no operator): what happens at the limit
        (3600.0, None, True),  # no limit: the estimate as before
        (None, None, None),  # nothing to say
    ],
)
def test_the_choice_between_the_wait_and_the_limit(
    estimate: float | None, limit: float | None, says_wait: bool | None
) -> None:
    for lang in LANGUAGES:
        text = expected_wait_announcement(lang, estimate, limit, None if limit is None
                                          else HANG_UP)
        if says_wait is None:
            assert text is None
        elif says_wait:
            assert estimate is not None and text == wait_announcement(lang, estimate)
        else:
            assert limit is not None and text == limit_announcement(lang, limit, HANG_UP)


@pytest.mark.parametrize(
    ("seconds", "ru", "kk"),
    [
        (1799.0, "Если в течение двадцати девяти минут", "Жиырма тоғыз минут ішінде"),  # down
        (60.0, "Если в течение минуты", "Бір минут ішінде"),
        (5400.0, "Если в течение одного часа тридцати минут", "Бір сағат отыз минут ішінде"),
        (1260.0, "Если в течение двадцати одной минуты", "Жиырма бір минут ішінде"),
        (45.0, "Если оператор не освободится в ближайшее время", "Жақын арада"),
    ],
)
def test_the_time_left_is_rounded_down(seconds: float, ru: str, kk: str) -> None:
    assert limit_announcement("ru", seconds, OVERFLOW).startswith(ru)
    assert limit_announcement("kk", seconds, OVERFLOW).startswith(kk)


@pytest.mark.parametrize("bad", [math.inf, -1.0, math.nan])
def test_limit_announcement_refuses_bad_input(bad: float) -> None:
    with pytest.raises(ValueError):
        limit_announcement("ru", bad, OVERFLOW)
    with pytest.raises(ValueError):
        limit_announcement("kk", 60.0, "transfer")
