"""What the voice robot's self-service services ask of the state's systems.

The five services (profile of the 1414 centre, "5 dynamic self-service
services", ``domain/kz-1414-contact-center-profile.ru.txt``) need one small
interface, :class:`ServiceBackend`. Two implementations exist:
:class:`~bailanys.robot.demo_backend.SqliteDemoBackend` (sample data in
SQLite) and :class:`~bailanys.robot.backend_http.HttpBackend` (a JSON API).
Tests put a fake there.

Results are frozen dataclasses. Every failure of the backend itself (down,
timed out, an answer that does not parse) is a :class:`BackendError`; "not
found" is not an error but ``None`` / ``False`` / an empty list.

Errors (add to the tree in :mod:`bailanys.errors`)::

    BailanysError
    └── BackendError           the service backend failed; ``retryable`` hints
        ├── BackendTimeout     it did not answer in time
        └── SlotTakenError     the slot was booked by someone else meanwhile
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import Protocol

from bailanys.errors import BailanysError


class BackendError(BailanysError):
    """The service backend failed. The message never holds personal data."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class BackendTimeout(BackendError):
    """The backend did not answer within the configured timeout."""

    def __init__(self, message: str = "the service backend timed out") -> None:
        super().__init__(message, retryable=True)


class SlotTakenError(BackendError):
    """The slot asked for is no longer free (booked by someone else meanwhile)."""

    def __init__(self, message: str = "the slot is no longer free") -> None:
        super().__init__(message, retryable=False)


class DocumentState(StrEnum):
    """Where a citizen's document (passport, ID card, ...) stands."""

    IN_PROGRESS = "in_progress"
    READY = "ready"  # ready to collect at ``branch_id``
    ISSUED = "issued"  # already handed over
    REJECTED = "rejected"


class CertificateKind(StrEnum):
    """Certificates the robot issues (profile: psychiatric / narcological dispensary)."""

    PSYCHIATRIC = "psychiatric"
    NARCOLOGICAL = "narcological"


class RequestStatus(StrEnum):
    """A citizen's request (обращение) as the case system tracks it."""

    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    OVERDUE = "overdue"
    ESCALATED = "escalated"  # past a deadline, under a supervisor's control (issue 19)


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    state: DocumentState
    service_code: str  # e.g. "passport", "id_card"
    branch_id: str | None = None  # where to collect it, when READY
    ready_on: date | None = None  # expected (IN_PROGRESS) or actual (READY) date


@dataclass(frozen=True, slots=True)
class Branch:
    """A public service centre (ЦОН)."""

    id: str
    city: str  # "Astana", "Almaty", "Shymkent"
    name_kk: str
    name_ru: str
    address: str


@dataclass(frozen=True, slots=True)
class Booking:
    id: str  # digits only: the caller may key it in to cancel
    branch_id: str
    day: date
    time: time


@dataclass(frozen=True, slots=True)
class Certificate:
    kind: CertificateKind
    link: str  # sent by SMS, never spoken
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class Request:
    number: str  # digits; the robot speaks at most its last four
    topic: str  # a topic code, not spoken
    status: RequestStatus
    registered_on: date
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class CallerInfo:
    """What the state systems know of the IIN's holder that the regulator's
    reports count (issue 17): the ``region`` (a ``reports.model.REGIONS`` id)
    and the ``social_status`` (``reports.model.SocialStatus`` value), each
    optional. The adapter checks both before they become events."""

    region: str | None = None
    social_status: str | None = None


class ServiceBackend(Protocol):
    """The state systems behind the five services. All methods may raise :class:`BackendError`."""

    async def document_status(self, iin: str) -> DocumentStatus | None: ...

    async def branches(self) -> list[Branch]: ...

    async def free_slots(self, branch_id: str, day: date) -> list[time]: ...

    async def book(self, iin: str, branch_id: str, day: date, time: time) -> Booking:
        """Book; raises :class:`SlotTakenError` when the slot is gone."""
        ...

    async def cancel(self, booking_id: str, iin: str) -> bool:
        """Cancel the caller's booking; ``False`` when no such active booking of ``iin``."""
        ...

    async def issue_certificate(self, iin: str, kind: CertificateKind) -> Certificate: ...

    async def required_documents(self, service_code: str, lang: str) -> str:
        """The SMS text listing the documents; raises :class:`BackendError` for an unknown code."""
        ...

    async def open_requests(self, iin: str, phone: str = "") -> list[Request]:
        """The IIN's open requests; ``phone``: the calling number the robot's
        SMS code proved (the requests' store reads only those made from it;
        a back end that keys by IIN alone may ignore it)."""
        ...

    async def caller_info(self, iin: str) -> CallerInfo | None:
        """The holder's region and social status; ``None`` when unknown (issue 17)."""
        ...
