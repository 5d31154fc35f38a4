"""The caller's region from a Kazakhstan landline number (issue 17, "Region").

Issue 17: the region comes "from a flow variable if the flow asks; else from
the caller's number where it encodes one (Kazakhstan landline area codes, a
data table with its source cited)". Pure: no I/O.

Kazakhstan's numbers are E.164 ``+7`` and ten national digits. Geographic
(landline) numbers start with the zone codes 71x and 72x; the first digits
after them name the city or district. Mobile numbers (70x, 747, 77x, ...)
and every other non-geographic range encode no region: :func:`region_of_number`
gives ``None`` for them, and so for anything that is not a Kazakh number.

Source of the table (cited, not copied): the national numbering plan of the
Republic of Kazakhstan (geographic codes "ABC" of the zone 7), as Kazakhtelecom
publishes the codes of regional centres and districts, and as the ITU lists
national numbering plans (https://www.itu.int/oth/T0202.aspx?parent=T0202).
Regions are the administrative division since 8 June 2022 (Abai, Zhetisu and
Ulytau oblasts carved out of East Kazakhstan, Almaty and Karaganda oblasts):
the codes of their centres (Semey 7222, Taldykorgan 7282, Zhezkazgan 7102)
move with them. Where an oblast's district codes share a prefix, the whole
prefix is mapped (``716`` -> Akmola); where the 2022 split runs through a
prefix, only the codes known to lie on one side are listed, and the rest
give ``None`` (reported as "not determined", never guessed). Longer prefixes
win (``7277`` Almaty oblast inside ``727`` Almaty city).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeGuard

from bailanys.phone import normalise
from bailanys.reports.model import REGION_IDS

#: National significant number length after the country code 7.
NATIONAL_DIGITS: Final = 10
#: Geographic zone codes: a national number starting otherwise is not a landline.
GEOGRAPHIC_ZONES: Final = ("71", "72")

#: Area-code prefix (national digits) -> region id (reports.model.REGIONS).
AREA_CODES: Final[Mapping[str, str]] = {
    # cities of republican significance
    "7172": "astana",
    "727": "almaty_city",
    "7252": "shymkent",
    # oblasts: the centre's code, then district prefixes wholly inside the oblast
    "7222": "abai",  # Semey
    "72251": "abai",  # Kurchatov
    "716": "akmola",  # Kokshetau 7162, districts 7163x-7164x
    "713": "aktobe",  # Aktobe 7132, districts 7133x-7134x
    "7277": "almaty",  # Konaev 72772, Kaskelen 72771, Talgar 72774, Esik 72775
    "712": "atyrau",  # Atyrau 7122, Kulsary 71237
    "7232": "east_kz",  # Oskemen
    "72335": "east_kz",  # Altai (Zyryanovsk)
    "72336": "east_kz",  # Ridder
    "726": "zhambyl",  # Taraz 7262, districts 7263x-7264x
    "728": "zhetisu",  # Taldykorgan 7282, Zharkent 72831, Tekeli 72835
    "711": "west_kz",  # Oral 7112, Aksai 71133
    "721": "karaganda",  # Karaganda 7212, Temirtau 7213, Shakhtinsk 72156
    "71036": "karaganda",  # Balkhash
    "714": "kostanay",  # Kostanay 7142, Rudny 71431, Lisakovsk 71433
    "724": "kyzylorda",  # Kyzylorda 7242, Aral 72433
    "729": "mangystau",  # Aktau 7292, Zhanaozen 72934
    "718": "pavlodar",  # Pavlodar 7182, Ekibastuz 7187, Aksu 71837
    "715": "north_kz",  # Petropavl 7152
    "725": "turkestan",  # districts 7253x-7254x, Turkestan 72533 (Shymkent 7252 apart)
    "7102": "ulytau",  # Zhezkazgan
    "71063": "ulytau",  # Satpayev
}
_LONGEST: Final = max(len(p) for p in AREA_CODES)


def national(number: str) -> str | None:
    """The ten national digits of a Kazakh number (``+7``, ``7`` or trunk ``8``
    written, spaces and RFC 3966 separators allowed: :func:`bailanys.phone.normalise`);
    ``None`` for anything else (an extension, a foreign number, text)."""
    digits = normalise(number.replace(" ", ""))
    if len(digits) != NATIONAL_DIGITS + 1 or not digits.isdigit() or digits[0] != "7":
        return None
    return digits[1:]


def region_of_number(number: str) -> str | None:
    """The region a landline number's area code encodes, or ``None`` (a mobile
    or other non-geographic number, an unlisted code, not a Kazakh number)."""
    nsn = national(number)
    if nsn is None or not nsn.startswith(GEOGRAPHIC_ZONES):
        return None
    for n in range(min(_LONGEST, len(nsn)), 2, -1):
        region = AREA_CODES.get(nsn[:n])
        if region is not None:
            return region
    return None


def is_region(region_id: object) -> TypeGuard[str]:
    """Whether ``region_id`` is one of the 20 regions' ids (a flow variable, a
    back-end answer is checked with it before it becomes an event)."""
    return isinstance(region_id, str) and region_id in REGION_IDS
