"""Personal data masking: IIN, phone, card, e-mail, long numbers (issue 15, "Numbers and PII")."""

from __future__ import annotations

import pytest

from bailanys.analytics import pii
from bailanys.iin import check_digit, is_valid_iin


def make_iin(first11: str) -> str:
    digit = check_digit(first11)
    assert digit is not None
    return first11 + str(digit)


IIN = make_iin("85061240003")  # 12 June 1985, a woman (digit 7 = 4), serial 0003
BAD_IIN = IIN[:11] + str((int(IIN[11]) + 1) % 10)


def test_the_fixtures() -> None:
    assert is_valid_iin(IIN) and not is_valid_iin(BAD_IIN)


@pytest.mark.parametrize(("digits", "plus", "expected"), [
    (IIN, False, pii.IIN),
    (make_iin("00010130000"), False, pii.IIN),
    (BAD_IIN, False, pii.NUMBER),  # a misheard IIN is still personal data
    ("87015551234", False, pii.PHONE),
    ("77015551234", False, pii.PHONE),
    ("7015551234", False, pii.PHONE),
    ("77172555000", False, pii.PHONE),  # Astana landline
    ("79161234567", False, pii.PHONE),  # a Russian mobile, +7 too
    ("9161234567", True, pii.PHONE),  # "плюс ..."
    ("4111111111111111", False, pii.CARD),
    ("5500000000000004", False, pii.CARD),
    ("378282246310005", False, pii.CARD),  # 15 digits (Amex test number)
    ("4111111111111112", False, pii.NUMBER),
    ("123456789", False, pii.NUMBER),  # an ID card number has 9 digits
    ("12345678", False, None),  # a date ddmmyyyy, an amount
    ("2024", False, None),
    ("50000", False, None),
    ("1414", False, None),
])  # fmt: skip
def test_classify(digits: str, plus: bool, expected: str | None) -> None:
    assert pii.classify(digits, plus) == expected


@pytest.mark.parametrize(("digits", "ok"), [
    ("4111111111111111", True), ("79927398713", True), ("79927398710", False), ("0", True),
    ("18", True), ("81", False),
])  # fmt: skip
def test_luhn(digits: str, ok: bool) -> None:
    assert pii.luhn_ok(digits) is ok


def _masked(text: str) -> list[str]:
    return [s.text for s in pii.mask(text.split())]


@pytest.mark.parametrize(("text", "expected"), [
    (f"мой иин {IIN}", f"мой иин {pii.IIN}"),
    (f"иин {IIN[:6]} э {IIN[6:]}", f"иин {pii.IIN}"),
    (f"{IIN[:4]} так {IIN[4:8]} ещё {IIN[8:]} спасибо", f"{pii.IIN} спасибо"),
    (f"{IIN[:6]} және {IIN[6:]}", pii.IIN),
    (f"{IIN} и 87015551234", f"{pii.IIN} и {pii.PHONE}"),
    ("номер 8701555 двенадцать 34", "номер 8701555 двенадцать 34"),
    ("номер 8701555 э 1234", f"номер {pii.PHONE}"),
    ("плюс 77015551234", pii.PHONE),
    ("плюс 7 семь 015551234", pii.PHONE),
    ("4111 1111 1111 1111", pii.CARD),
    ("сумма 50000 тенге за 2024 год", "сумма 50000 тенге за 2024 год"),
    ("код 1234 и 5678", "код 1234 и 5678"),  # 8 digits together: not masked
    ("код 12345 и 6789", "код [NUMBER]"),  # 9: masked as one
    ("иван собака мейл точка ру", pii.EMAIL),
    ("пишите ivan точка petrov собака gmail точка com пожалуйста",
     f"пишите {pii.EMAIL} пожалуйста"),
    ("ivan эт gmail", pii.EMAIL),
    ("asel әт mail нүкте kz рахмет", f"{pii.EMAIL} рахмет"),
    ("a.b@mail.kz", pii.EMAIL),
    ("у меня собака дома", "у меня собака дома"),
    ("собака", "собака"),
    ("иван собака", "иван собака"),
    ("", ""),
])  # fmt: skip
def test_mask(text: str, expected: str) -> None:
    assert " ".join(_masked(text)) == expected


def test_mask_spans_cover_the_masked_tokens() -> None:
    spans = pii.mask(["иин", IIN[:6], "э", IIN[6:], "рахмет"])
    assert [(s.text, s.first, s.last) for s in spans] == [
        ("иин", 0, 0), (pii.IIN, 1, 3), ("рахмет", 4, 4)]


@pytest.mark.parametrize(("text", "expected"), [
    ("звоните +7 (701) 555-12-34 или 8-701-555-12-34.",
     "звоните [PHONE] или [PHONE]."),
    (f"ИИН: {IIN[:6]} {IIN[6:]}, карта 4111-1111-1111-1111",
     "ИИН: [IIN], карта [CARD]"),
    (f"Мой ИИН: {IIN[:6]}, э, {IIN[6:]}!", "Мой ИИН: [IIN]!"),
    ("пишите: ivan.petrov собака mail точка kz, спасибо", "пишите: [EMAIL], спасибо"),
    ("mail: Asel_K@gov.kz", "mail: [EMAIL]"),
    ("просто текст, 2024 год, 50 000 тенге.", "просто текст, 2024 год, 50 000 тенге."),
    ("[IIN] уже", "[IIN] уже"),
    ("", ""),
])  # fmt: skip
def test_mask_text(text: str, expected: str) -> None:
    assert pii.mask_text(text) == expected


def test_mask_text_on_a_huge_text_is_quick() -> None:
    text = f"слово {IIN} " * 20_000
    assert IIN not in pii.mask_text(text)
