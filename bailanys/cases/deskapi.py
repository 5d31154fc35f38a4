"""The operators' desktop's requests API (issue 19).

Issue 19, "Requests (cases)": "A request created from a call ... citizen
(masked contact, optional IIN kept only as a salted hash for duplicate
detection) ...", "Duplicates ... linked to the open one", "The citizen is
told: SMS on creation (number, deadline)" and "Templates of replies in
kk/ru with placeholders":

==========================  ====================================================
``POST /desk/api/cases``    ``{"call_id", "topic", "description", "questions":
                            [str], "kind": "request"|"complaint", "category",
                            "iin", "language": "kk"|"ru"}`` -> 201 ``{"number",
                            "deadline", "duplicate_of"}``
``GET /desk/api/replies``   ``?case=NUMBER&lang=kk|ru`` -> ``{"replies": [{"id",
                            "title", "text"}]}``, the templates filled in
==========================  ====================================================

Roles operator, supervisor and admin (a session; a change also needs the
same origin). The citizen's number is never typed: it comes from the
call's ``call.offered`` (:func:`caller_of`, a store query in a thread); the
IIN, when given, is kept only as its HMAC under ``[cases] salt_file`` and
never logged. Each further question becomes a question of its own
(:meth:`~bailanys.cases.store.CaseStore.split`). Refusals are JSON
``{"error", "message"}``: 400 ``body`` (an unknown topic or category, an
empty description, a bad IIN, a bad language) or ``no_call`` (no such call
in the store), 404 ``no_request`` (replies), 503 ``store``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.cases import replies as rp
from bailanys.cases.api import (
    MAX_BODY,
    Emitter,
    NoSuchCase,
    Tell,
    _body,
    _find,
    _json,
    on_store,
    refusal,
)
from bailanys.cases.creation import parse_new, register
from bailanys.cases.model import Citizen
from bailanys.cases.settings import CasesFileConfig, load_or_create_salt
from bailanys.cases.store import LANGS, CaseStore
from bailanys.errors import BailanysError, ConfigError, InputError
from bailanys.phone import caller_of_uri, is_number
from bailanys.reports.settings import DEFAULT_TOPICS
from bailanys.reports.topics import Topics, topic_tree
from bailanys.store.syncdb import STORE_ERRORS, connect_sync
from bailanys.storeurl import redact
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session

if TYPE_CHECKING:
    from bailanys.events import AnyEvent

log = logging.getLogger(__name__)

#: Who works requests at the desktop (issue 19: the operator; supervisors
#: and admins may do what an operator does).
DESK_ROLES: Final = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
#: Store calls at once (SQLite has one writer; the engine's threads are few).
SLOTS: Final = 2

#: The caller's number of a call: None when the store has no such call,
#: "" when the caller withheld the number.
CallerOf = Callable[[str], Awaitable[str | None]]


def read_caller(store_path: str, call_id: str) -> str | None:
    """The normalised number of ``call_id``'s ``call.offered`` (blocking:
    run it in a thread); None: no such call; "": a withheld number."""
    try:
        conn = connect_sync(store_path, readonly=True, timeout=5.0)
    except STORE_ERRORS as exc:
        raise BailanysError(f"{redact(store_path)}: {exc}") from exc
    try:
        row = conn.execute("SELECT data FROM events WHERE call_id = ? AND type = "
                           "'call.offered' ORDER BY id LIMIT 1", (call_id,)).fetchone()
    except STORE_ERRORS as exc:
        raise BailanysError(f"{redact(store_path)}: {exc}") from exc
    finally:
        conn.close()
    if row is None:
        return None
    data = json.loads(row[0])
    number = data.get("caller") or caller_of_uri(data.get("from", ""))
    return number if isinstance(number, str) and is_number(number) else ""


async def caller_of(store_path: str, call_id: str) -> str | None:
    """:func:`read_caller` off the event loop."""
    return await asyncio.to_thread(read_caller, store_path, call_id)


def caller_lookup(store_path: str) -> CallerOf:
    """``caller_of`` for :func:`desk_case_routes` on the engine's store file."""
    return functools.partial(caller_of, store_path)


class DeskCaseRoutes:
    """The module's routes over ``open_store`` (a connection per call)."""

    def __init__(self, open_store: Callable[[], CaseStore], events: Emitter, tell: Tell,
                 caller_of: CallerOf, access: Access, cases: CasesFileConfig,
                 topics_file: str, clock: Callable[[], datetime]) -> None:
        self.open_store = open_store
        self.events = events
        self.tell = tell
        self.caller_of = caller_of
        self.access = access
        self.cases = cases
        self.topics_file = topics_file
        self.clock = clock
        self._slots = asyncio.Semaphore(SLOTS)
        self._lock = threading.Lock()
        self._loaded: tuple[bytes, rp.Replies | None, Topics | None] | None = None

    def routes(self) -> list[BaseRoute]:
        api = self.access.api(DESK_ROLES)
        return [endpoint("/desk/api/cases", api(self._create), ("POST",), max_body=MAX_BODY),
                endpoint("/desk/api/replies", api(self._replies))]

    def _files(self) -> tuple[bytes, rp.Replies | None, Topics | None]:
        """The salt, the replies and the topic names, read once (blocking)."""
        with self._lock:
            if self._loaded is None:
                salt = load_or_create_salt(self.cases.salt_file)
                replies = None
                if self.cases.replies:
                    try:
                        replies = rp.load(self.cases.replies)
                    except ConfigError as exc:
                        log.error("desk: no reply templates: %s", exc)
                self._loaded = (salt, replies, topic_tree(self.topics_file))
            return self._loaded

    async def _run(self, work: Callable[[CaseStore], Any]) -> Any:
        return await on_store(self.open_store, self._slots, work)

    async def _create(self, request: Request, session: Session) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            salt, _, _ = await asyncio.to_thread(self._files)
            new = parse_new(body, salt)
        except InputError as exc:
            return refusal(HTTPStatus.BAD_REQUEST, "body", str(exc))
        except BailanysError as exc:
            log.warning("desk cases: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the salt is not available")
        assert new.call_id is not None
        try:
            phone = await self.caller_of(new.call_id)
        except BailanysError as exc:
            log.warning("desk cases: the call's caller not read: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the store is not available")
        if phone is None:
            return refusal(HTTPStatus.BAD_REQUEST, "no_call",
                           f"no call {new.call_id!r} in the store")
        user, now = session.user.login, self.clock()
        citizen = Citizen(phone, new.iin_hash, new.lang)

        try:
            case, events, linked = await self._run(
                lambda s: register(s, new, citizen, user, now))
        except InputError as exc:
            return refusal(HTTPStatus.BAD_REQUEST, "body", str(exc))
        except BailanysError as exc:
            log.warning("desk cases: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the store is not available")
        for event in events:
            self.events.emit(cast("AnyEvent", event))
        await self.tell(case, events)
        log.info("desk cases: %s %s %s", user, "linked to" if linked else "created", case.number)
        due = case.deadline
        return _json(HTTPStatus.CREATED, {
            "number": case.number, "deadline": due.isoformat() if due else None,
            "duplicate_of": case.number if linked else None})

    async def _replies(self, request: Request, session: Session) -> Response:
        number = request.query_params.get("case", "").strip()
        lang = request.query_params.get("lang") or None
        if lang is not None and lang not in LANGS:
            return refusal(HTTPStatus.BAD_REQUEST, "body", "lang must be kk or ru")
        try:
            _, replies, topics = await asyncio.to_thread(self._files)
        except BailanysError as exc:
            log.warning("desk replies: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the store is not available")

        def work(s: CaseStore) -> list[dict[str, str]]:
            case = _find(s, number)
            lng = lang or case.citizen.lang
            depts = {d.id: d for d in s.cfg.departments}
            return [{"id": r.id, "title": r.title[lng],
                     "text": rp.render(r, case, lng, departments=depts, topics=topics)}
                    for r in (replies.items if replies is not None else ())]

        try:
            items = await self._run(work)
        except NoSuchCase as exc:
            return refusal(HTTPStatus.NOT_FOUND, "no_request", f"no request {exc}")
        except BailanysError as exc:
            log.warning("desk replies: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the store is not available")
        return _json(HTTPStatus.OK, {"replies": items})


def desk_case_routes(open_store: Callable[[], CaseStore], events: Emitter, tell: Tell,
                     caller_of: CallerOf, access: Access, *,
                     cases: CasesFileConfig | None = None, topics_file: str = DEFAULT_TOPICS,
                     clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                     ) -> list[BaseRoute]:
    """The desktop's requests routes (the module's table). ``cases``:
    ``[cases]`` (the salt and replies files; the defaults when None);
    ``topics_file``: ``[reports] topics`` (the topics' names in replies)."""
    return DeskCaseRoutes(open_store, events, tell, caller_of, access,
                          cases or CasesFileConfig(), topics_file, clock).routes()
