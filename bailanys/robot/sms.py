"""The SMS outbox: messages stored first, sent through Kannel in order, tracked by DLR.

State machine (a table plus one transition function, ``next_state``)::

    queued --accepted by Kannel--> sent --DLR 1--> delivered
      |                              |
      +--attempts exhausted-->  failed <--DLR 2 or 16--+
    queued --DLR 1 / 2 / 16--> delivered / failed   (a DLR may beat our UPDATE)

DLR 4 (buffered) and 8 (SMSC submit) are intermediate: no state change.
``delivered`` and ``failed`` are final.

``SmsOutbox.enqueue`` writes the row (``sms_outbox``, migration 2) before
anything else and wakes the one sender task, which sends the oldest
``queued`` row once its ``next_try`` has come. Another process (``bailanys
cases status``, run without the engine) queues its rows with
:func:`enqueue_on` on its own plain connection (the same statement); the
sender finds them within :data:`DEFAULT_POLL_S` (issue 19: the citizen is
told of every status change, whoever makes it). Failures (Kannel down, 4xx,
5xx) back off exponentially: ``backoff_base_s * 2**(attempts-1)`` capped at
``backoff_cap_s``; after ``max_attempts`` the row is ``failed``. Sending is
strictly in order (head of line): while the oldest message waits for its
retry, the later ones wait too, which is also what a down gateway needs.

Kannel's sendsms and DLR interface: see ``bailanys.robot.kannel`` (Kannel
User's Guide, "SMS Push (send-sms) CGI interface" and "Delivery reports").
``DlrServer`` is the receiver of Kannel's ``dlr-url`` calls, an app of the
web layer: ``GET /dlr?id=<ours>&status=<%d>&kid=<%F>``.

Events (catalogue classes through ``emit(event)``): ``sms.queued``, ``sms.sent``,
``sms.delivered``, ``sms.failed``, with the message id and the number
masked to its last 4 digits; never the text.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bailanys.errors import InputError
from bailanys.events import SMS_BY_STATE, EventBase, SmsQueued
from bailanys.robot.kannel import DlrStatus, Kannel, KannelError
from bailanys.store.backend import StoreDatabase
from bailanys.store.syncdb import SyncConnection, scalar
from bailanys.web.app import endpoint, web_app
from bailanys.web.responses import error, response
from bailanys.web.server import WebServer

log = logging.getLogger(__name__)

#: Writes a catalogue event (the event log's ``emit``).
Emit = Callable[[EventBase], object]

#: First retry after 2 s, doubling: a restarting bearerbox is back in seconds.
DEFAULT_BACKOFF_BASE_S = 2.0
#: Never wait more than 5 min between tries, so an outage of hours costs at
#: most 5 min of extra delay once Kannel is back.
DEFAULT_BACKOFF_CAP_S = 300.0
#: 2+4+...+256 s plus the cap: about 40 min of trying before giving up.
DEFAULT_MAX_ATTEMPTS = 16
#: Kannel answers that no retry can change: ``400`` is smsbox refusing the
#: message itself (missing or black-listed receiver, text too long, bad
#: coding); it fails at once. ``403`` (authorization: a configuration being
#: fixed) and ``5xx`` are retried with backoff.
PERMANENT_STATUSES = frozenset({400})
#: While nothing is queued, the sender looks for rows another process
#: queued every 5 s: an SMS about a change made from the command line
#: leaves within seconds, for one query on the (state, id) index.
DEFAULT_POLL_S = 5.0


class SmsState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class SmsEvent(enum.StrEnum):
    """What moves a message: our send's outcome or Kannel's delivery report."""

    ACCEPTED = "accepted"  # Kannel answered 2xx
    GAVE_UP = "gave_up"  # attempts exhausted
    DLR_DELIVERED = "dlr_delivered"  # %d = 1
    DLR_FAILED = "dlr_failed"  # %d = 2 or 16


TRANSITIONS: Mapping[tuple[SmsState, SmsEvent], SmsState] = {
    (SmsState.QUEUED, SmsEvent.ACCEPTED): SmsState.SENT,
    (SmsState.QUEUED, SmsEvent.GAVE_UP): SmsState.FAILED,
    (SmsState.QUEUED, SmsEvent.DLR_DELIVERED): SmsState.DELIVERED,
    (SmsState.QUEUED, SmsEvent.DLR_FAILED): SmsState.FAILED,
    (SmsState.SENT, SmsEvent.DLR_DELIVERED): SmsState.DELIVERED,
    (SmsState.SENT, SmsEvent.DLR_FAILED): SmsState.FAILED,
}


def next_state(state: SmsState, event: SmsEvent) -> SmsState | None:
    """The state after ``event``, or ``None`` when the table has no such move."""
    return TRANSITIONS.get((state, event))


def dlr_event(status: int) -> SmsEvent | None:
    """Map Kannel's ``%d`` to an event; intermediate reports (4, 8) give ``None``."""
    flags = DlrStatus(status & 31)
    if flags & DlrStatus.DELIVERED:
        return SmsEvent.DLR_DELIVERED
    if flags & (DlrStatus.UNDELIVERED | DlrStatus.SMSC_REJECT):
        return SmsEvent.DLR_FAILED
    return None


def backoff_s(attempts: int, base_s: float, cap_s: float) -> float:
    """Seconds before try number ``attempts + 1`` after ``attempts`` failures."""
    if attempts < 1:
        return 0.0
    return float(min(cap_s, base_s * 2 ** min(attempts - 1, 62)))


def mask_number(number: str) -> str:
    """Keep the last 4 digits only: ``+77011234567`` -> ``*******4567``."""
    digits = [c for c in number if c.isdigit()]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + "".join(digits[-4:])


@dataclass(frozen=True)
class SmsConfig:
    """Retry policy of the outbox.

    max_attempts: tries before a message is ``failed``.
    backoff_base_s, backoff_cap_s: see ``backoff_s``.
    poll_s: how often an idle sender looks for rows other processes queued.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_cap_s: float = DEFAULT_BACKOFF_CAP_S
    poll_s: float = DEFAULT_POLL_S


@dataclass(frozen=True)
class SmsRecord:
    id: int
    created: float
    to_number: str
    text: str
    state: SmsState
    attempts: int
    next_try: float
    kannel_id: str | None
    last_error: str | None
    updated: float


_COLUMNS = (
    "id, created, to_number, text, state, attempts, next_try, kannel_id, last_error, updated"
)


def _record(row: Any) -> SmsRecord:
    return SmsRecord(
        int(row[0]), float(row[1]), str(row[2]), str(row[3]), SmsState(row[4]),
        int(row[5]), float(row[6]), row[7], row[8], float(row[9]),
    )  # fmt: skip


def _no_emit(event: EventBase) -> None:
    return None


_INSERT = ("INSERT INTO sms_outbox (created, to_number, text, state, attempts, next_try,"
           " updated) VALUES (?, ?, ?, 'queued', 0, ?, ?)")


def _params(to: str, text: str, now: float) -> tuple[float, str, str, float, float]:
    """:data:`_INSERT`'s parameters for a new ``queued`` row; :class:`InputError`
    for a recipient that is not a number."""
    if not to.strip() or not any(c.isdigit() for c in to):
        raise InputError(f"SMS recipient {to!r} is not a number")
    return now, to, text, now, now


def enqueue_on(conn: SyncConnection, to: str, text: str, now: float
               ) -> tuple[int, SmsQueued]:
    """Queue a message on a plain (blocking) connection, in the caller's
    transaction or autocommit: the row :meth:`SmsOutbox.enqueue` writes.
    Returns its id and the ``sms.queued`` event for the caller's event log;
    the engine's sender picks the row up (``SmsConfig.poll_s``)."""
    msg_id = int(scalar(conn, _INSERT + " RETURNING id", _params(to, text, now)))
    return msg_id, SmsQueued(sms_id=msg_id, to=mask_number(to))


class SmsOutbox:
    """The outbox table plus its one sender task (``start`` / ``stop``)."""

    def __init__(
        self,
        db: StoreDatabase,
        kannel: Kannel,
        *,
        config: SmsConfig | None = None,
        emit: Emit = _no_emit,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.kannel = kannel
        self.config = config or SmsConfig()
        self.emit = emit
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sms-outbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- API ---------------------------------------------------------------

    async def enqueue(self, to: str, text: str) -> int:
        """Store the message (committed) and return its id; sending happens later."""
        params = _params(to, text, self.clock())
        async with self.db.transaction() as conn:
            # RETURNING: PostgreSQL has no lastrowid (SQLite has RETURNING since 3.35)
            cursor = await conn.execute(_INSERT + " RETURNING id", params)
            row = await cursor.fetchone()
            msg_id = int(row[0]) if row else 0
        self.emit(SmsQueued(sms_id=msg_id, to=mask_number(to)))
        self._wake.set()
        return msg_id

    async def get(self, msg_id: int) -> SmsRecord | None:
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM sms_outbox WHERE id = ?", (msg_id,))
        return _record(rows[0]) if rows else None

    async def handle_dlr(self, query: Mapping[str, str]) -> SmsState | None:
        """Apply one Kannel delivery report; returns the state now, ``None`` if unknown id.

        ``query`` holds ``id`` (ours), ``status`` (Kannel's ``%d``) and
        optionally ``kid`` (the SMSC's message id, ``%F``). Bad values raise ``InputError``.
        """
        try:
            msg_id = int(query["id"])
            status = int(query["status"])
        except (KeyError, ValueError) as exc:
            raise InputError(f"DLR needs integer id and status, got {dict(query)!r}") from exc
        kid = query.get("kid") or None
        if kid is not None and kid.startswith("%"):  # Kannel left the escape unexpanded
            kid = None
        if kid is not None:
            await self.db.execute(
                "UPDATE sms_outbox SET kannel_id = ?, updated = ?"
                " WHERE id = ? AND kannel_id IS NULL",
                (kid, self.clock(), msg_id),
            )
        event = dlr_event(status)
        error = None if event in (None, SmsEvent.DLR_DELIVERED) else f"DLR {status}"
        # The sender may move the row (queued -> sent) between our read and our
        # conditional UPDATE; then read again (at most a few times: only the
        # sender and DLRs move a row, and final states do not move).
        for _ in range(4):
            record = await self.get(msg_id)
            if record is None:
                log.warning("DLR for unknown SMS %d (status %d)", msg_id, status)
                return None
            new = next_state(record.state, event) if event is not None else None
            if new is None:
                log.debug("SMS %d: DLR %d in state %s, no change", msg_id, status, record.state)
                return record.state
            if await self._move(record, new, last_error=error):
                return new
        log.warning("SMS %d: DLR %d lost a race four times; state left as is", msg_id, status)
        return None

    # -- sender --------------------------------------------------------------

    async def _move(
        self, record: SmsRecord, new: SmsState, *, last_error: str | None, **extra: Any
    ) -> bool:
        """Write ``new`` if the row is still in ``record.state``; emit and log it.

        A row that moved always gets its event: when the sender is cancelled
        (``stop``) while the UPDATE runs, the write is finished, the event
        written, and only then is the cancellation passed on.
        """
        write = asyncio.ensure_future(self.db.execute(
            "UPDATE sms_outbox SET state = ?, last_error = COALESCE(?, last_error), updated = ?"
            " WHERE id = ? AND state = ?",
            (new.value, last_error, self.clock(), record.id, record.state.value),
        ))
        try:
            changed = await asyncio.shield(write)
        except asyncio.CancelledError:
            if await write:
                self._moved(record, new, extra)
            raise
        if not changed:
            return False
        self._moved(record, new, extra)
        return True

    def _moved(self, record: SmsRecord, new: SmsState, extra: Mapping[str, Any]) -> None:
        log.info("SMS %d: %s -> %s", record.id, record.state, new)
        self.emit(SMS_BY_STATE[new.value](
            sms_id=record.id, to=mask_number(record.to_number), **extra))  # fmt: skip

    async def _head(self) -> SmsRecord | None:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM sms_outbox WHERE state = 'queued' ORDER BY id LIMIT 1"
        )
        return _record(rows[0]) if rows else None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            head = await self._head()
            if head is None:  # wait for an enqueue here, or poll for another process's
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_s)
                continue
            delay = head.next_try - self.clock()
            if delay > 0:
                # A new enqueue does not jump the line; it just re-checks.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            await self._try(head)

    async def _try(self, record: SmsRecord) -> None:
        attempts = record.attempts + 1
        try:
            answer = await self.kannel.send(record.to_number, record.text, record.id)
        except KannelError as exc:
            error = str(exc)
            if attempts >= self.config.max_attempts or exc.status in PERMANENT_STATUSES:
                await self.db.execute(
                    "UPDATE sms_outbox SET attempts = ? WHERE id = ?", (attempts, record.id)
                )
                await self._move(record, SmsState.FAILED, last_error=error, attempts=attempts)
                return
            wait = backoff_s(attempts, self.config.backoff_base_s, self.config.backoff_cap_s)
            log.warning("SMS %d: try %d failed (%s); next in %.1f s", record.id, attempts,
                        error, wait)  # fmt: skip
            await self.db.execute(
                "UPDATE sms_outbox SET attempts = ?, next_try = ?, last_error = ?, updated = ?"
                " WHERE id = ? AND state = 'queued'",
                (attempts, self.clock() + wait, error, self.clock(), record.id),
            )
            return
        await self.db.execute(
            "UPDATE sms_outbox SET attempts = ? WHERE id = ?", (attempts, record.id)
        )
        await self._move(record, SmsState.SENT, last_error=None, attempts=attempts)
        log.debug("SMS %d: Kannel said %r", record.id, answer)


class DlrServer:
    """Receives Kannel's DLR URL calls: ``GET /dlr?id=..&status=..`` -> ``handle_dlr``.

    Answers 200 ``OK`` when applied (or the id is unknown: Kannel must not
    retry a report we can never use), 400 for a bad query or request, 404
    for another path, 405 for another method. An app of the web layer
    (``bailanys.web``) on its own port, served in the engine's loop.
    """

    def __init__(self, host: str, port: int, outbox: SmsOutbox, *, path: str = "/dlr") -> None:
        self.host = host
        self.port = port
        self.outbox = outbox
        self.path = path
        self._web: WebServer | None = None

    async def start(self) -> None:
        web = WebServer(web_app([endpoint(self.path, self._report)]), self.host, self.port,
                        name="dlr")
        await web.start()
        self._web, self.port = web, web.port

    async def stop(self) -> None:
        web, self._web = self._web, None
        if web is not None:
            await web.stop()

    async def _report(self, request: Request) -> Response:
        try:
            await self.outbox.handle_dlr(dict(request.query_params))
        except InputError as exc:
            return error(HTTPStatus.BAD_REQUEST, str(exc))
        return response(HTTPStatus.OK, b"OK\n")
