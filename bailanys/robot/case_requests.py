"""The robot's "my open requests" from the real requests' store (issue 19).

Issue 19: "the voice robot's "my open requests" service reads the real
store (by number + IIN + SMS code as today) and says the status and
deadline". The service (:mod:`bailanys.robot.services`) checks the IIN,
sends a one-time code by SMS to the calling number, checks the code and
then calls ``open_requests(iin, phone)``; :class:`CaseRequests`
is a :class:`~bailanys.robot.backend.ServiceBackend` that answers that one
method from :class:`bailanys.cases.store.CaseStore` (the IIN's salted hash
and the number the code went to: an IIN is printed on many papers, so a
caller hears only the requests made from the phone they hold; open
requests only) and passes every other service to the back end it
wraps (the demo back end or the state systems' HTTP one). The IIN itself is
never kept or logged: only its HMAC under ``[cases] salt_file``.

:func:`to_request` (pure) maps a request to what the robot speaks; the
store is read in a worker thread, on a connection opened there (SQLite
connections stay in their thread).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Final

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Case, iin_hash
from bailanys.cases.settings import CasesFileConfig, load_or_create_salt
from bailanys.cases.store import CaseStore, connect
from bailanys.errors import BailanysError, InputError
from bailanys.robot.backend import (
    BackendError,
    Booking,
    Branch,
    CallerInfo,
    Certificate,
    CertificateKind,
    DocumentStatus,
    Request,
    RequestStatus,
    ServiceBackend,
)
from bailanys.store.syncdb import STORE_ERRORS
from bailanys.timezone import ALMATY

log = logging.getLogger(__name__)

#: What the robot says for each open status (closed and answered requests
#: are not open, but are mapped for a caller that lists every request).
STATUS: Final = {
    Status.REGISTERED: RequestStatus.REGISTERED,
    Status.IN_PROGRESS: RequestStatus.IN_PROGRESS,
    Status.ESCALATED: RequestStatus.ESCALATED,
    Status.ANSWERED: RequestStatus.ANSWERED,
    Status.CLOSED: RequestStatus.ANSWERED,
}

#: Opens a store in the calling (worker) thread; the caller closes ``.conn``.
StoreFactory = Callable[[], CaseStore]


def to_request(case: Case) -> Request:
    """A request as the robot speaks it: the number's digits (it says the
    last four), the status and the deadline of its open questions."""
    return Request(number="".join(c for c in case.number if c.isdigit()),
                   topic=case.topic, status=STATUS[case.status],
                   registered_on=case.created_at.astimezone(ALMATY).date(),
                   due_on=case.deadline)


def read_open(open_store: StoreFactory, salt: bytes, iin: str, phone: str) -> list[Request]:
    """The open requests of the IIN's holder made from ``phone`` (the
    normalised number, as ``bailanys.phone.dialable`` gives), oldest first
    (blocking: run it in a thread). An invalid IIN or no number has none; a
    store failure is a :class:`BackendError` (the robot hands the caller over)."""
    if not phone:
        return []
    try:
        key = iin_hash(iin, salt)
    except InputError:
        return []
    try:
        store = open_store()
    except BailanysError as exc:  # connect() wraps the drivers' errors in StoreError
        raise BackendError(f"requests' store: {exc}") from exc
    try:
        cases = store.for_citizen(iin_hash=key, open_only=True)
    except STORE_ERRORS as exc:
        raise BackendError(f"requests' store: {exc}") from exc
    finally:
        store.conn.close()
    return [to_request(c) for c in reversed(cases) if c.citizen.phone == phone]


class CaseRequests:
    """``open_requests`` from the requests' store; the rest from ``inner``."""

    def __init__(self, inner: ServiceBackend, open_store: StoreFactory, salt: bytes) -> None:
        self.inner = inner
        self.open_store = open_store
        self.salt = salt

    async def open_requests(self, iin: str, phone: str = "") -> list[Request]:
        return await asyncio.to_thread(read_open, self.open_store, self.salt, iin, phone)

    async def document_status(self, iin: str) -> DocumentStatus | None:
        return await self.inner.document_status(iin)

    async def branches(self) -> list[Branch]:
        return await self.inner.branches()

    async def free_slots(self, branch_id: str, day: date) -> list[time]:
        return await self.inner.free_slots(branch_id, day)

    async def book(self, iin: str, branch_id: str, day: date, time: time) -> Booking:
        return await self.inner.book(iin, branch_id, day, time)

    async def cancel(self, booking_id: str, iin: str) -> bool:
        return await self.inner.cancel(booking_id, iin)

    async def issue_certificate(self, iin: str, kind: CertificateKind) -> Certificate:
        return await self.inner.issue_certificate(iin, kind)

    async def required_documents(self, service_code: str, lang: str) -> str:
        return await self.inner.required_documents(service_code, lang)

    async def caller_info(self, iin: str) -> CallerInfo | None:
        return await self.inner.caller_info(iin)


def open_case_requests(inner: ServiceBackend, cases: CasesFileConfig,
                       db_path: str) -> CaseRequests:
    """``[cases]``'s routing table, calendar and salt loaded (blocking: call
    it in a thread), and the store on ``db_path`` opened per lookup. Raises
    :class:`BailanysError` (a config or calendar error) for the caller to
    report; the salt file is created on first use (``load_or_create_salt``)."""
    cfg = dl.load(cases.file)
    cal = load_dir(Path(cases.calendar_dir))
    salt = load_or_create_salt(cases.salt_file)

    def open_store() -> CaseStore:
        return CaseStore(connect(db_path), cfg, cal)

    return CaseRequests(inner, open_store, salt)
