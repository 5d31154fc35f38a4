"""The caller's social portrait from an IIN (issue 17): every band edge, both sexes."""

from __future__ import annotations

from datetime import date

import pytest

from bailanys.events import Emit, EventBase
from bailanys.iin import check_digit
from bailanys.reports import portrait
from bailanys.reports.model import AGE_BANDS, OTHER_AGE, Sex, SocialStatus

TODAY = date(2026, 12, 4)


def make_iin(born: date, sex: Sex, serial: str = "0001") -> str:
    """A valid IIN of someone born on ``born`` (tries serials until one has a check digit)."""
    century = {1800: 1, 1900: 3, 2000: 5}[born.year // 100 * 100]
    c = century + (1 if sex is Sex.FEMALE else 0)
    for n in range(int(serial), int(serial) + 50):
        first = f"{born:%y%m%d}{c}{n:04d}"
        digit = check_digit(first)
        if digit is not None:
            return first + str(digit)
    raise AssertionError("no serial with a check digit")


@pytest.mark.parametrize(("age", "band"), [
    (17, OTHER_AGE), (18, "18-30"), (30, "18-30"), (31, "31-40"), (40, "31-40"),
    (41, "41-50"), (50, "41-50"), (51, "51-60"), (60, "51-60"), (61, "61-70"),
    (70, "61-70"), (71, "71-80"), (80, "71-80"), (81, "81-90"), (90, "81-90"),
    (91, OTHER_AGE), (0, OTHER_AGE), (120, OTHER_AGE),
])
def test_age_band_edges(age: int, band: str) -> None:
    assert portrait.age_band(age) == band


def test_every_band_is_reachable() -> None:
    assert {portrait.age_band(a) for a in range(0, 130)} == {*AGE_BANDS, OTHER_AGE}


def test_age_on_birthday_edges() -> None:
    assert portrait.age_on(date(1996, 12, 4), TODAY) == 30  # birthday today
    assert portrait.age_on(date(1996, 12, 5), TODAY) == 29  # tomorrow
    assert portrait.age_on(date(2000, 2, 29), date(2025, 2, 28)) == 24
    assert portrait.age_on(date(2000, 2, 29), date(2025, 3, 1)) == 25


@pytest.mark.parametrize(("born", "sex", "expected"), [
    (date(1996, 12, 4), Sex.MALE, ("18-30", Sex.MALE)),  # 30 today
    (date(1995, 12, 4), Sex.FEMALE, ("31-40", Sex.FEMALE)),  # 31 today
    (date(1995, 12, 5), Sex.FEMALE, ("18-30", Sex.FEMALE)),  # 31 tomorrow
    (date(2008, 12, 5), Sex.MALE, (OTHER_AGE, Sex.MALE)),  # 17
    (date(1945, 5, 9), Sex.MALE, ("81-90", Sex.MALE)),
    (date(1899, 1, 1), Sex.FEMALE, (OTHER_AGE, Sex.FEMALE)),  # 19th century digit
    (date(1966, 1, 1), Sex.FEMALE, ("51-60", Sex.FEMALE)),
])
def test_portrait_of(born: date, sex: Sex, expected: tuple[str, Sex]) -> None:
    assert portrait.portrait_of(make_iin(born, sex), TODAY) == expected


def test_the_demo_back_ends_sample_iins() -> None:
    assert portrait.portrait_of("850315410002", TODAY) == ("41-50", Sex.FEMALE)
    assert portrait.portrait_of("771102310003", TODAY) == ("41-50", Sex.MALE)


@pytest.mark.parametrize("iin", [
    "", "12345", "85031541000X", "850315410003",  # bad check digit
    "851315410002",  # month 13
    "850315010000",  # digit 7 = 0: no century, no sex: no portrait rather than a guess
])
def test_no_portrait(iin: str) -> None:
    assert portrait.portrait_of(iin, TODAY) is None


def test_a_birth_date_after_today_gives_none() -> None:
    assert portrait.portrait_of(make_iin(date(2026, 12, 5), Sex.MALE), TODAY) is None


def test_social_status() -> None:
    assert portrait.social_status_of("pensioner") is SocialStatus.PENSIONER
    assert portrait.social_status_of("retired") is None
    assert portrait.social_status_of(None) is None
    assert portrait.social_status_of(7) is None


def test_identified_events() -> None:
    iin = make_iin(date(1960, 6, 1), Sex.MALE)
    events = portrait.identified_events(iin, TODAY, "shymkent", "pensioner")
    assert [(e.type, encode_data(e)) for e in events] == [
        ("call.region", {"region": "shymkent", "source": "backend"}),
        ("caller.portrait", {"age_band": "61-70", "sex": "m", "social_status": "pensioner"}),
    ]
    for e in events:
        assert iin not in repr(e) and "1960" not in repr(e)
        assert e.call_id is None  # the adapter adds it


def test_identified_events_drop_what_the_back_end_made_up() -> None:
    iin = make_iin(date(1990, 1, 1), Sex.FEMALE)
    events = portrait.identified_events(iin, TODAY, "Astana", "millionaire")
    assert [(e.type, encode_data(e)) for e in events] == [
        ("caller.portrait", {"age_band": "31-40", "sex": "f"})]  # no status: not written
    assert portrait.identified_events(iin, TODAY) == events


def test_identified_events_without_a_century_keep_only_the_region() -> None:
    events = portrait.identified_events("850315010000", TODAY, "astana")
    assert [e.type for e in events] == ["call.region"]


def encode_data(event: EventBase) -> dict[str, object]:
    """The event's stored fields."""
    return dict(Emit(event).fields)
