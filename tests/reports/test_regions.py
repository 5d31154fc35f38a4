"""The region from a landline number (issue 17): the area-code table, exhaustively."""

from __future__ import annotations

import pytest

from bailanys.reports import regions
from bailanys.reports.model import REGION_IDS

# One landline of each region's centre (the national digits after +7).
CENTRES = {
    "astana": "7172555000", "almaty_city": "7272501414", "shymkent": "7252530000",
    "abai": "7222520000", "akmola": "7162250000", "aktobe": "7132540000",
    "almaty": "7277240000", "atyrau": "7122350000", "east_kz": "7232260000",
    "zhambyl": "7262430000", "zhetisu": "7282240000", "west_kz": "7112510000",
    "karaganda": "7212420000", "kostanay": "7142530000", "kyzylorda": "7242230000",
    "mangystau": "7292300000", "pavlodar": "7182320000", "north_kz": "7152460000",
    "turkestan": "7253350000", "ulytau": "7102740000",
}


def test_every_region_has_a_code_and_every_code_a_region() -> None:
    assert set(CENTRES) == REGION_IDS
    assert set(regions.AREA_CODES.values()) == REGION_IDS
    for prefix in regions.AREA_CODES:
        assert prefix.isdigit() and prefix.startswith(regions.GEOGRAPHIC_ZONES)


@pytest.mark.parametrize(("region", "nsn"), sorted(CENTRES.items()))
def test_each_centre_in_every_written_form(region: str, nsn: str) -> None:
    for written in (f"+7{nsn}", f"7{nsn}", f"8{nsn}", f"+7 ({nsn[:4]}) {nsn[4:7]}-{nsn[7:]}",
                    f"tel:+7-{nsn[:3]}-{nsn[3:]}"):
        got = regions.region_of_number(written.removeprefix("tel:"))
        assert got == region, written


@pytest.mark.parametrize(("number", "region"), [
    ("77277240000", "almaty"),  # 7277: Almaty oblast inside 727 (Almaty city)
    ("77273000000", "almaty_city"),
    ("77252123456", "shymkent"),  # 7252 inside 725 (Turkestan)
    ("77253312345", "turkestan"),  # Turkestan city 72533
    ("77103612345", "karaganda"),  # Balkhash 71036
    ("77106312345", "ulytau"),  # Satpayev
    ("77225112345", "abai"),  # Kurchatov
    ("77233612345", "east_kz"),  # Ridder
    ("77187123456", "pavlodar"),  # Ekibastuz
])
def test_longest_prefix_wins(number: str, region: str) -> None:
    assert regions.region_of_number(number) == region


@pytest.mark.parametrize("number", [
    "77011234567", "77051234567", "77071234567", "77471234567", "77771234567",  # mobile
    "78001234567",  # toll-free
    "77101234567",  # 710 outside the listed Ulytau/Karaganda codes: not guessed
    "77223012345",  # a 7223x district the 2022 split runs through: not guessed
    "1414", "1002", "anonymous", "", "alice", "+74951234567x", "7717255500",  # not a number
    "998712345678", "+86 10 1234 5678",  # foreign
])
def test_no_region(number: str) -> None:
    assert regions.region_of_number(number) is None


def test_national_digits() -> None:
    assert regions.national("+7 (7172) 55-50-00") == "7172555000"
    assert regions.national("87172555000") == "7172555000"
    assert regions.national("7172555000") is None  # no country code or trunk prefix
    assert regions.national("+77172555000123") is None


def test_is_region() -> None:
    assert regions.is_region("astana")
    assert not regions.is_region("Astana")
    assert not regions.is_region("unknown")
    assert not regions.is_region(None)
    assert not regions.is_region(3)
