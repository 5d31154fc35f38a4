"""A citizen's request (case): its questions, history, promises (issue 19).

Issue 19, "Requests (cases)": a number, the citizen (a masked contact and
an optional IIN kept only as a salted hash, for duplicate detection), a
topic (an id of configs/topics.yaml), a description, one or more questions
(a request can be split: each question has its own responsible department
and deadline), a status (:mod:`bailanys.cases.lifecycle`), the history of
every change (who, when, what) and the promises made to the citizen with
their deadlines. A complaint (about the centre or a service) is a request
of kind ``complaint`` with a category and a supervisor's verdict
(confirmed / not confirmed). The appeals solution (DOMAIN.md "Case
handling") asks for the split, the promises and the duplicate applicants.

Personal data: the IIN is never kept, only :func:`iin_hash` (HMAC-SHA256
under a secret salt); free text (description, question, promise, note) is
stored through :func:`bailanys.analytics.pii.mask_text`. The phone number is
kept because the SMS updates need it (as the SMS outbox does) and is shown
only through :func:`mask_number`. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from bailanys.analytics.pii import mask_text
from bailanys.cases.lifecycle import OPEN, Status
from bailanys.errors import InputError
from bailanys.iin import is_valid_iin

#: The shortest salt accepted for the IIN hash: 16 bytes (128 bits), so the
#: 10^12 IINs cannot be hashed in advance without the salt.
MIN_SALT_BYTES: Final = 16
#: Digits of a phone number shown to a role that must not see it (issue 19:
#: "masked to the last 4 digits").
SHOWN_DIGITS: Final = 4
#: The longest description or question kept (an operator's note, not a letter).
MAX_TEXT: Final = 4000


class Kind(StrEnum):
    REQUEST = "request"
    COMPLAINT = "complaint"


def iin_hash(iin: str, salt: bytes) -> str:
    """The salted hash of a valid IIN (hex HMAC-SHA256); raises
    :class:`InputError` for an invalid IIN or a short salt."""
    if len(salt) < MIN_SALT_BYTES:
        raise InputError(f"the IIN salt must be at least {MIN_SALT_BYTES} bytes")
    text = iin.strip()
    if not is_valid_iin(text):
        raise InputError("not a valid IIN")
    return hmac.new(salt, text.encode("ascii"), hashlib.sha256).hexdigest()


def mask_number(number: str) -> str:
    """The last 4 digits only: ``77011234567`` -> ``*******4567``."""
    digits = [c for c in number if c.isdigit()]
    if len(digits) <= SHOWN_DIGITS:
        return "*" * len(digits)
    return "*" * (len(digits) - SHOWN_DIGITS) + "".join(digits[-SHOWN_DIGITS:])


def clean_text(text: str, what: str, *, required: bool = True) -> str:
    """Free text as stored: stripped, personal data masked, length-checked."""
    out = text.strip()
    if required and not out:
        raise InputError(f"{what} is empty")
    if len(out) > MAX_TEXT:
        raise InputError(f"{what} is longer than {MAX_TEXT} characters")
    return mask_text(out) if out else out


@dataclass(frozen=True, slots=True)
class Citizen:
    """Who asked: the number to send updates to and the IIN's hash, if given."""

    phone: str = ""  # digits as bailanys.phone.normalise gives; "" when unknown
    iin_hash: str | None = None
    lang: str = "ru"  # kk or ru: the SMS language

    @property
    def masked(self) -> str:
        return mask_number(self.phone)

    def __repr__(self) -> str:  # never the number in a log line
        return f"Citizen(phone={self.masked!r}, iin_hash={'set' if self.iin_hash else None})"


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a request, with its department and deadline."""

    no: int  # 1, 2, ... within the request
    text: str
    topic: str
    department: str
    deadline: date  # the last working day to answer on
    route_by: date | None = None  # the last day for the department to take it
    answered_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.answered_at is None


@dataclass(frozen=True, slots=True)
class Promise:
    """Something promised to the citizen, by a date."""

    no: int
    text: str
    deadline: date
    made_by: str
    made_at: datetime
    kept_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a request's history."""

    at: datetime
    user: str
    what: str  # "created", "status", "split", "promise", "duplicate", ...
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    number: str
    kind: Kind
    citizen: Citizen
    topic: str
    description: str
    status: Status
    created_at: datetime
    questions: tuple[Question, ...] = ()
    promises: tuple[Promise, ...] = ()
    history: tuple[Change, ...] = ()
    call_id: str | None = None  # the call that made it, if one did
    category: str | None = None  # complaints only
    confirmed: bool | None = None  # complaints only: the supervisor's verdict

    @property
    def open(self) -> bool:
        return self.status in OPEN

    @property
    def unanswered(self) -> int:
        return sum(q.open for q in self.questions)

    @property
    def deadline(self) -> date | None:
        """The latest deadline of its open questions (what the citizen is told)."""
        dates = [q.deadline for q in self.questions if q.open]
        return max(dates) if dates else None
