"""Kazakhstan's individual identification number (ИИН / ЖСН): check it, read it.

Pure code: no I/O, no clock (pass ``today`` to reject future birth dates).

Layout, 12 digits, as formed under the Rules cited below::

    Y Y M M D D  C  S S S S  K
    birth date   |  serial   check digit
                 century and sex

* ``YYMMDD``: the date of birth. It must be a real calendar date (29 February
  only in a leap year of the century that digit 7 gives).
* ``C``: 1 / 2 a man / woman born in the 19th century (1800-1899), 3 / 4 in
  the 20th (1900-1999), 5 / 6 in the 21st (2000-2099): odd male, even female.
* ``SSSS``: a serial number assigned by the register.
* ``K``: the check digit. First pass: the weighted sum of digits 1-11 with
  weights 1, 2, ..., 11, modulo 11. If that is 10, second pass: weights 3, 4,
  ..., 11, 1, 2, modulo 11. If that is 10 again, the number is never issued
  (:attr:`IinErrorReason.NO_CHECK_DIGIT`).

  What the check does not catch: digit 11 weighs 11, which is 0 modulo 11,
  so when the first pass decides, a wrong digit 11 goes unnoticed
  (000101300009 and 000101300019 are both valid); and a single wrong digit
  that moves a number into the second pass can land on the same check digit.
  A flow that collects an IIN by DTMF should read it back to the caller.

Digit 7 = 0. The Rules define 1-6 only, but python-stdnum's ``stdnum.kz.iin``
(https://github.com/arthurdejong/python-stdnum, ``get_birth_date``) accepts
0 as "no century information, foreign nationals", and since 2013 the Rules no
longer tie the digits of an IIN to the holder's personal data (Government
Decree No. 853 of 26.08.2013 amending Decree No. 406; Ministry of Justice,
"Несовпадение ИИН с датой рождения - не ошибка", 05.04.2019,
http://nomad.su/?a=3-201904050026). A hotline that refuses a number the state
issued is worse than one that accepts an unusual one, so 0 is accepted: the
date must then be valid in some century (29 February in a year divisible by
four), and :attr:`IinResult.birth_date` and :attr:`IinResult.sex` are
``None``. Digits 7, 8 and 9 are rejected.

For the same reason the birth date read from an IIN is what the number
encodes, which for numbers formed after 2013 need not be the holder's date of
birth; analytics should treat it as an estimate.

Sources (cited, not copied):

* Постановление Правительства Республики Казахстан от 11 июня 2003 года
  № 565 «Об утверждении Программы перехода на единый номер физического
  (юридического) лица (индивидуальный идентификационный номер
  (бизнес-идентификационный номер))»: structure and check-digit algorithm,
  https://adilet.zan.kz/rus/docs/P030000565_
* Постановление Правительства Республики Казахстан от 22 мая 2007 года
  № 406 «Об утверждении Правил формирования идентификационного номера ...»,
  amended by Decree No. 853 of 26.08.2013: https://adilet.zan.kz/rus/docs/P070000406_
* Закон Республики Казахстан от 12 января 2007 года № 223 «О национальных
  реестрах идентификационных номеров», art. 1 ("контрольный разряд"):
  https://adilet.zan.kz/rus/docs/Z070000223_
* A worked description with the same two passes: «ИИН. Алгоритм расчета и
  проверки», https://yvision.kz/post/iin-algoritm-rascheta-i-proverki-114938

An IIN is personal data: error messages name the reason, never the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from bailanys.errors import InputError

#: Digits in an IIN.
IIN_LENGTH: Final = 12
#: Check-digit weights of the first and of the second pass (Decree No. 565).
WEIGHTS_FIRST: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
WEIGHTS_SECOND: Final = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

_DIGITS: Final = frozenset("0123456789")


class Sex(StrEnum):
    """The holder's sex as encoded in digit 7."""

    MALE = "male"
    FEMALE = "female"


class IinErrorReason(StrEnum):
    """Why a text is not a valid IIN, in the order the checks run."""

    NOT_DIGITS = "not_digits"  # a character other than 0-9
    LENGTH = "length"  # not exactly 12 digits
    BAD_CENTURY = "bad_century"  # digit 7 is 7, 8 or 9
    BAD_DATE = "bad_date"  # digits 1-6 are not a calendar date (or lie after ``today``)
    NO_CHECK_DIGIT = "no_check_digit"  # both passes give 10: such a number is never issued
    CHECKSUM = "checksum"  # digit 12 is not the check digit of digits 1-11

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES: Final[Mapping[IinErrorReason, str]] = {
    IinErrorReason.NOT_DIGITS: "an IIN has only the digits 0-9",
    IinErrorReason.LENGTH: f"an IIN has exactly {IIN_LENGTH} digits",
    IinErrorReason.BAD_CENTURY: "digit 7 (century and sex) must be 0-6",
    IinErrorReason.BAD_DATE: "digits 1-6 are not a date of birth (YYMMDD)",
    IinErrorReason.NO_CHECK_DIGIT: "digits 1-11 admit no check digit",
    IinErrorReason.CHECKSUM: "the check digit (digit 12) does not match",
}


class InvalidIinError(InputError):
    """A text is not a valid IIN; :attr:`reason` says why.

    A :class:`ValueError` too, so that callers validating any input can catch
    that. The message never contains the number (personal data).
    """

    def __init__(self, reason: IinErrorReason) -> None:
        super().__init__(f"invalid IIN: {reason.message}")
        self.reason = reason


# Digit 7 -> (first year of the century, sex). 0 is handled apart.
_CENTURY: Final[Mapping[str, tuple[int, Sex]]] = {
    "1": (1800, Sex.MALE),
    "2": (1800, Sex.FEMALE),
    "3": (1900, Sex.MALE),
    "4": (1900, Sex.FEMALE),
    "5": (2000, Sex.MALE),
    "6": (2000, Sex.FEMALE),
}
_NO_CENTURY: Final = "0"


@dataclass(frozen=True, slots=True)
class IinResult:
    """A valid IIN and what it encodes."""

    iin: str
    birth_date: date | None  # None when digit 7 is 0 (century not encoded)
    sex: Sex | None  # None when digit 7 is 0
    serial: str  # digits 8-11


def check_digit(first11: str) -> int | None:
    """The check digit of the first 11 digits, or ``None`` when both passes give 10."""
    if len(first11) != IIN_LENGTH - 1 or not set(first11) <= _DIGITS:
        raise ValueError("expected exactly 11 digits 0-9")
    digits = [int(ch) for ch in first11]
    for weights in (WEIGHTS_FIRST, WEIGHTS_SECOND):
        rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if rest != 10:
            return rest
    return None


def _birth_date(iin: str) -> date | None:
    """The encoded date; ``None`` for digit 7 = 0. Raises BAD_CENTURY / BAD_DATE."""
    yy, mm, dd = int(iin[0:2]), int(iin[2:4]), int(iin[4:6])
    c = iin[6]
    if c == _NO_CENTURY:
        # Century unknown: the date must exist in some century; 2000 + yy is a
        # leap year exactly when yy is divisible by 4, so it admits every
        # 29 February that any century could.
        _make_date(2000 + yy, mm, dd)
        return None
    if c not in _CENTURY:
        raise InvalidIinError(IinErrorReason.BAD_CENTURY)
    return _make_date(_CENTURY[c][0] + yy, mm, dd)


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidIinError(IinErrorReason.BAD_DATE) from None


def validate_iin(text: str, *, today: date | None = None) -> IinResult:
    """Check ``text`` as an IIN; raise :class:`InvalidIinError` with the first reason found.

    ``text`` must be exactly 12 ASCII digits: no spaces or separators (the
    adapter that collected it strips those). With ``today`` given, a birth
    date after it is :attr:`IinErrorReason.BAD_DATE`.
    """
    if not set(text) <= _DIGITS:
        raise InvalidIinError(IinErrorReason.NOT_DIGITS)
    if len(text) != IIN_LENGTH:
        raise InvalidIinError(IinErrorReason.LENGTH)
    born = _birth_date(text)
    if today is not None and born is not None and born > today:
        raise InvalidIinError(IinErrorReason.BAD_DATE)
    expected = check_digit(text[:11])
    if expected is None:
        raise InvalidIinError(IinErrorReason.NO_CHECK_DIGIT)
    if expected != int(text[11]):
        raise InvalidIinError(IinErrorReason.CHECKSUM)
    c = text[6]
    return IinResult(
        iin=text,
        birth_date=born,
        sex=_CENTURY[c][1] if c in _CENTURY else None,
        serial=text[7:11],
    )


def is_valid_iin(text: str, *, today: date | None = None) -> bool:
    """Whether :func:`validate_iin` accepts ``text``."""
    try:
        validate_iin(text, today=today)
    except InvalidIinError:
        return False
    return True


def birth_date(iin: str) -> date | None:
    """The date of birth a valid IIN encodes; ``None`` when digit 7 is 0.

    Raises :class:`InvalidIinError` for an invalid IIN.
    """
    return validate_iin(iin).birth_date


def sex(iin: str) -> Sex | None:
    """The sex a valid IIN encodes; ``None`` when digit 7 is 0.

    Raises :class:`InvalidIinError` for an invalid IIN.
    """
    return validate_iin(iin).sex
