"""The caller's social portrait from an IIN, at the moment it is entered (issue 17).

The methodology of request analysis (2024) describes callers by age band
(18-30, 31-40, 41-50, 51-60, 61-70, 71-80, 81-90), sex and social status;
the IIN encodes the birth date and sex (:mod:`bailanys.iin`). Issue 17:
"derive age band and sex from it at that moment and store only those two,
never the IIN or the birth date". :func:`portrait_of` is that derivation:
pure, the IIN and the date go no further than its locals.

The birth date an IIN encodes is an estimate for numbers formed after 2013
(see :mod:`bailanys.iin`); an IIN without a century (digit 7 = 0, foreign
nationals) yields no portrait at all, rather than a guess.
"""

from __future__ import annotations

from datetime import date

from bailanys.events import CallerPortrait, CallRegion, EventBase
from bailanys.iin import InvalidIinError, validate_iin
from bailanys.iin import Sex as IinSex
from bailanys.reports.model import AGE_BANDS, OTHER_AGE, RegionSource, Sex, SocialStatus
from bailanys.reports.regions import is_region

_SEX = {IinSex.MALE: Sex.MALE, IinSex.FEMALE: Sex.FEMALE}
#: (first, last, label) of each band, read from the labels themselves.
_BANDS = tuple((int(lo), int(hi), label)
               for label in AGE_BANDS for lo, hi in [label.split("-")])


def age_on(born: date, today: date) -> int:
    """Full years between ``born`` and ``today`` (a birthday on 29 February
    comes on 1 March in a common year)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_band(age: int) -> str:
    """The methodology's band of ``age`` (inclusive), or ``OTHER_AGE``
    (under 18, over 90)."""
    for lo, hi, label in _BANDS:
        if lo <= age <= hi:
            return label
    return OTHER_AGE


def portrait_of(iin: str, today: date) -> tuple[str, Sex] | None:
    """(age band, sex) encoded by a valid ``iin`` on ``today``; ``None`` for an
    invalid IIN, one without a century, or a birth date after ``today``."""
    try:
        found = validate_iin(iin, today=today)
    except InvalidIinError:
        return None
    if found.birth_date is None or found.sex is None:
        return None
    return age_band(age_on(found.birth_date, today)), _SEX[found.sex]


def social_status_of(value: object) -> SocialStatus | None:
    """A back end's social status if it is one of the methodology's, else ``None``."""
    try:
        return SocialStatus(value) if isinstance(value, str) else None
    except ValueError:
        return None


def identified_events(iin: str, today: date, region: object = None,
                      social_status: object = None) -> list[EventBase]:
    """What a caller's IIN entry writes (issue 17), with the back end's
    answer: ``call.region`` (source ``backend``) when it gave one of the 20
    regions, and ``caller.portrait`` (age band, sex, the social status when
    it is one of the methodology's) when the IIN encodes a birth date. A
    region or status the back end made up is dropped, not stored. The
    events carry no call id (the adapter adds it)."""
    out: list[EventBase] = []
    if is_region(region):
        out.append(CallRegion(region=region, source=RegionSource.BACKEND.value))
    found = portrait_of(iin, today)
    if found is not None:
        status = social_status_of(social_status)
        out.append(CallerPortrait(age_band=found[0], sex=found[1].value,
                                  social_status=status.value if status else None))
    return out
