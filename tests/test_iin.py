"""Kazakhstan's IIN (bailanys.iin).

Every number here is synthetic: birth dates on round days with serials 0000-
0100 and the check digit computed by hand (worked sums below) or by
:func:`_reference_check_digit`, a second implementation written from the
Decree's wording rather than from the module's code.
"""

from __future__ import annotations

import random
from datetime import date

import pytest

from bailanys.errors import BailanysError
from bailanys.iin import (
    IIN_LENGTH,
    IinErrorReason,
    IinResult,
    InvalidIinError,
    Sex,
    birth_date,
    check_digit,
    is_valid_iin,
    sex,
    validate_iin,
)


def _reference_check_digit(first11: str) -> int | None:
    """Digits times positions 1..11, mod 11; on 10 the positions shifted by two (3..11, 1, 2)."""
    total = sum(int(d) * (i + 1) for i, d in enumerate(first11)) % 11
    if total < 10:
        return total
    total = sum(int(d) * ((i + 2) % 11 + 1) for i, d in enumerate(first11)) % 11
    return total if total < 10 else None


def _first_pass_is_ten(first11: str) -> bool:
    return sum(int(d) * (i + 1) for i, d in enumerate(first11)) % 11 == 10


# (iin, birth date, sex, needs the second pass)
VALID = [
    # 0 0 0 1 0 1 3 0 0 0 0 . 1..11 -> 4 + 6 + 21 = 31 = 2*11 + 9: check digit 9.
    ("000101300009", date(1900, 1, 1), Sex.MALE, False),
    # 9 9 1 2 3 1 4 0 0 0 0 . 1..11 -> 9+18+3+8+15+6+28 = 87 = 7*11 + 10: second pass;
    # . 3..11,1,2 -> 27+36+5+12+21+8+36 = 145 = 13*11 + 2: check digit 2.
    ("991231400002", date(1999, 12, 31), Sex.FEMALE, True),
    ("960229400000", date(1996, 2, 29), Sex.FEMALE, False),
    ("000229500909", date(2000, 2, 29), Sex.MALE, True),
    ("000229600004", date(2000, 2, 29), Sex.FEMALE, False),
    ("010101500003", date(2001, 1, 1), Sex.MALE, False),
    ("120705600700", date(2012, 7, 5), Sex.FEMALE, True),
    ("850101300603", date(1985, 1, 1), Sex.MALE, True),
    ("750525400006", date(1975, 5, 25), Sex.FEMALE, False),
    ("450615200001", date(1845, 6, 15), Sex.FEMALE, True),
    ("010101100903", date(1801, 1, 1), Sex.MALE, True),
]

# Digit 7 = 0: century and sex not encoded.
VALID_NO_CENTURY = ["700315000009", "700315000010"]


@pytest.mark.parametrize(("iin", "born", "holder_sex", "second_pass"), VALID)
def test_valid(iin: str, born: date, holder_sex: Sex, second_pass: bool) -> None:
    result = validate_iin(iin)
    assert result == IinResult(iin=iin, birth_date=born, sex=holder_sex, serial=iin[7:11])
    assert birth_date(iin) == born
    assert sex(iin) is holder_sex
    assert is_valid_iin(iin)
    assert _first_pass_is_ten(iin[:11]) is second_pass
    assert check_digit(iin[:11]) == _reference_check_digit(iin[:11]) == int(iin[11])


def test_examples_cover_both_passes_and_every_century_digit() -> None:
    assert {second for *_, second in VALID} == {False, True}
    assert {iin[6] for iin, *_ in VALID} | {iin[6] for iin in VALID_NO_CENTURY} == set("0123456")


@pytest.mark.parametrize("iin", VALID_NO_CENTURY)
def test_century_digit_zero_is_accepted_without_date_or_sex(iin: str) -> None:
    result = validate_iin(iin)
    assert result.birth_date is None
    assert result.sex is None
    assert birth_date(iin) is None
    assert sex(iin) is None
    assert _first_pass_is_ten(iin[:11])


def _with_check(first11: str) -> str:
    digit = _reference_check_digit(first11)
    assert digit is not None, first11
    return first11 + str(digit)


# ---------------------------------------------------------------- invalid, one reason each


@pytest.mark.parametrize(
    "text",
    [
        "99123140000a",
        "9912314O0002",  # letter O
        " 991231400002",
        "991231400002 ",
        "991231 400002",
        "991231-400002",
        "+77001234567",
        "９９１２３１４０００２",  # fullwidth digits: str.isdigit() is true
        "٩٩١٢٣١٤٠٠٠٠٢",  # Arabic-Indic digits
        "99123140000²",
        "abc",
    ],
)
def test_not_digits(text: str) -> None:
    _assert_reason(text, IinErrorReason.NOT_DIGITS)


@pytest.mark.parametrize("text", ["", "9", "99123140000", "9912314000021", "0" * 24])
def test_length(text: str) -> None:
    _assert_reason(text, IinErrorReason.LENGTH)


@pytest.mark.parametrize("digit", "789")
def test_bad_century(digit: str) -> None:
    _assert_reason("991231" + digit + "00000", IinErrorReason.BAD_CENTURY)


@pytest.mark.parametrize(
    "first11",
    [
        "99003140000",  # month 00
        "99133140000",  # month 13
        "99120040000",  # day 00
        "99123240000",  # day 32
        "99043140000",  # 31 April
        "99023040000",  # 30 February
        "00022930000",  # 29 Feb 1900: not a leap year
        "00022910000",  # 29 Feb 1800: not a leap year
        "01022950000",  # 29 Feb 2001
        "97022930000",  # 29 Feb 1997
        "01022900000",  # 29 Feb, century unknown: no century makes ..01 a leap year
        "99999900000",
    ],
)
def test_bad_date(first11: str) -> None:
    # The date is checked before the check digit, so any last digit gives BAD_DATE.
    for last in "0123456789":
        _assert_reason(first11 + last, IinErrorReason.BAD_DATE)


def test_29_february_with_unknown_century_in_a_year_divisible_by_four() -> None:
    assert validate_iin(_with_check("00022900000")).birth_date is None
    assert validate_iin(_with_check("96022900000")).birth_date is None


def test_future_birth_date_is_rejected_only_when_today_is_given() -> None:
    iin = _with_check("30010150000")  # 1 January 2030
    assert validate_iin(iin).birth_date == date(2030, 1, 1)
    assert validate_iin(iin, today=date(2030, 1, 1)).birth_date == date(2030, 1, 1)
    _assert_reason(iin, IinErrorReason.BAD_DATE, today=date(2029, 12, 31))
    assert not is_valid_iin(iin, today=date(2029, 12, 31))
    # Unknown century: the date is not compared with today.
    assert is_valid_iin(VALID_NO_CENTURY[0], today=date(1950, 1, 1))


@pytest.mark.parametrize("first11", ["99123140004", "85010130069", "12070560075", "45061520190"])
def test_no_check_digit(first11: str) -> None:
    assert _first_pass_is_ten(first11)
    assert check_digit(first11) is None
    for last in "0123456789":
        _assert_reason(first11 + last, IinErrorReason.NO_CHECK_DIGIT)


@pytest.mark.parametrize("iin", [iin for iin, *_ in VALID] + VALID_NO_CENTURY)
def test_every_wrong_check_digit_is_rejected(iin: str) -> None:
    for last in "0123456789":
        if last != iin[11]:
            _assert_reason(iin[:11] + last, IinErrorReason.CHECKSUM)


def test_checks_run_in_the_documented_order() -> None:
    _assert_reason("x" * 5, IinErrorReason.NOT_DIGITS)  # not digits before length
    _assert_reason("991399900000", IinErrorReason.BAD_CENTURY)  # century before date
    _assert_reason("991399300000", IinErrorReason.BAD_DATE)  # date before check digit


def _assert_reason(text: str, reason: IinErrorReason, today: date | None = None) -> None:
    with pytest.raises(InvalidIinError) as caught:
        validate_iin(text, today=today)
    assert caught.value.reason is reason, (text, caught.value.reason)
    assert not is_valid_iin(text, today=today)


# ---------------------------------------------------------------- the error


def test_error_is_a_bailanys_error_and_a_value_error() -> None:
    with pytest.raises(BailanysError):
        validate_iin("1")
    with pytest.raises(ValueError):
        validate_iin("1")


def test_error_message_names_the_reason_not_the_number() -> None:
    iin = "991231400003"
    with pytest.raises(InvalidIinError) as caught:
        validate_iin(iin)
    message = str(caught.value)
    assert "check digit" in message
    assert iin not in message and "9912314" not in message


def test_every_reason_has_a_message() -> None:
    for reason in IinErrorReason:
        assert reason.message
        assert str(InvalidIinError(reason)) == f"invalid IIN: {reason.message}"


def test_helpers_raise_for_invalid_numbers() -> None:
    with pytest.raises(InvalidIinError):
        birth_date("991231400003")
    with pytest.raises(InvalidIinError):
        sex("991231700002")


# ---------------------------------------------------------------- the check digit


def test_check_digit_matches_the_reference_on_random_numbers() -> None:
    rng = random.Random(20070112)  # date of Law No. 223
    seen = {True: 0, False: 0}
    undefined = 0
    for _ in range(20000):
        first11 = "".join(rng.choice("0123456789") for _ in range(IIN_LENGTH - 1))
        expected = _reference_check_digit(first11)
        assert check_digit(first11) == expected, first11
        seen[_first_pass_is_ten(first11)] += 1
        undefined += expected is None
    # About 1 in 11 needs the second pass, about 1 in 121 has no check digit.
    assert 1400 < seen[True] < 2300
    assert 80 < undefined < 260


@pytest.mark.parametrize("first11", ["", "1234567890", "123456789012", "1234567890a", "١" * 11])
def test_check_digit_wants_eleven_ascii_digits(first11: str) -> None:
    with pytest.raises(ValueError, match="11 digits"):
        check_digit(first11)


def test_single_digit_errors_in_positions_1_to_10_are_caught_by_the_first_pass() -> None:
    # The first-pass weights 1..10 are distinct and non-zero mod 11, so changing
    # one of digits 1-10 always changes the first-pass sum: caught, unless the
    # changed number falls into the second pass.
    for iin, *_ in VALID:
        if _first_pass_is_ten(iin[:11]):
            continue
        for pos in range(10):
            for d in "0123456789":
                changed = iin[:pos] + d + iin[pos + 1 :]
                if d == iin[pos] or _first_pass_is_ten(changed[:11]):
                    continue
                assert not is_valid_iin(changed), (iin, changed)


def test_digit_11_is_invisible_to_the_first_pass() -> None:
    # Its weight, 11, is 0 mod 11: when the first pass decides, any digit 11
    # gives the same check digit. 0 0 0 1 0 1 3 0 0 0 d -> 31 + 11d = 9 mod 11.
    # A weakness of the official scheme: an IVR should read the number back.
    for d in "0123456789":
        assert is_valid_iin(f"0001013000{d}9")
