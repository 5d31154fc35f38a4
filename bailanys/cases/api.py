"""The requests' API on the console's web layer (issue 19).

Issue 19: "an API for an external system (e.g. the state's appeals system)
to update status; the update arrives authenticated (a token per system)",
and "escalation when a deadline passes (event + console alert + the
supervisor's list)":

==================================================  =================================
``POST /api/ext/cases``                             a system registers a request
                                                    (``cases/creation.py``'s body with
                                                    ``phone``): 201, or 200 when it
                                                    joins the citizen's open one
``GET /api/ext/cases/{number}``                     a system reads a request
``POST /api/ext/cases/{number}/status``             ``{"status", "note"}``: the
                                                    lifecycle decides
``POST /api/ext/cases/{number}/questions/{no}/answer``  a question is answered
``POST /api/ext/cases/{number}/verdict``            ``{"confirmed": bool}``: a
                                                    complaint's verdict
``GET /api/cases/overdue``                          the supervisor's list (session,
                                                    supervisor or admin)
==================================================  =================================

The ``/api/ext`` routes take a bearer token (RFC 6750 §2.1) of
``[cases] api_tokens`` (:mod:`bailanys.cases.apitokens`) instead of a
session; every refusal is JSON ``{"error": code, "message": text}``: 401
``token`` (with ``WWW-Authenticate: Bearer``), 400 ``body``, 404
``no_request``, 409 ``refused`` (the lifecycle's reason). The store is
blocking: each call opens its own connection in a thread
(:data:`QUERY_SLOTS` at a time) and the events of a change are written to
the engine's event sink back on the loop. The citizen's number is shown
masked; the IIN never.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.cases.creation import parse_new, register
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Case, Citizen
from bailanys.cases.store import CaseStore, TransitionRefused
from bailanys.errors import BailanysError, InputError
from bailanys.events.base import EventBase
from bailanys.web.access import Access, ApiClient, BearerTokens
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session
from bailanys.web.responses import response
from bailanys.web.static import StaticFile

if TYPE_CHECKING:
    from bailanys.events import AnyEvent

log = logging.getLogger(__name__)

#: Store calls at once: SQLite has one writer, the engine's threads are few.
QUERY_SLOTS: Final = 2
#: Who sees the overdue list (issue 19: "the supervisor's list").
SUPERVISOR_ROLES: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})
#: The longest body a system sends: a status and a note (model.MAX_TEXT chars).
MAX_BODY: Final = 16 * 1024
JSON_TYPE: Final = "application/json"
_T = TypeVar("_T")


class Emitter(Protocol):
    """Where the changes' events go (the engine's event sink)."""

    def emit(self, event: AnyEvent) -> object: ...


def _json(status: HTTPStatus, body: object, headers: Sequence[tuple[str, str]] = ()
          ) -> Response:
    return response(status, json.dumps(body, ensure_ascii=False).encode(), JSON_TYPE,
                    headers=headers)


def refusal(status: HTTPStatus, code: str, message: str,
            headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A 4xx answer a machine reads: ``{"error": code, "message": text}``."""
    return _json(status, {"error": code, "message": message}, headers)


def case_json(case: Case) -> dict[str, Any]:
    """A request as the API shows it: the number masked, no IIN."""
    return {
        "number": case.number, "kind": case.kind.value, "status": case.status.value,
        "topic": case.topic, "category": case.category, "confirmed": case.confirmed,
        "citizen": case.citizen.masked, "lang": case.citizen.lang,
        "description": case.description, "created": case.created_at.isoformat(),
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "questions": [{"no": q.no, "topic": q.topic, "department": q.department,
                       "text": q.text, "deadline": q.deadline.isoformat(),
                       "answered": q.answered_at.isoformat() if q.answered_at else None}
                      for q in case.questions],
        "history": [{"at": h.at.isoformat(), "user": h.user, "what": h.what,
                     "detail": h.detail} for h in case.history],
    }


#: Tells the citizen about a write (``CasesService.tell``: the SMS notifier).
Tell = Callable[[Case, Sequence[EventBase]], Awaitable[object]]


async def _tell_nobody(case: Case, events: Sequence[EventBase]) -> None:
    return None


async def on_store(open_store: Callable[[], CaseStore], slots: asyncio.Semaphore,
                   work: Callable[[CaseStore], _T]) -> _T:
    """``work`` on a new store connection in a worker thread (``slots`` at a
    time; SQLite connections stay in their thread), closed after it."""
    def call() -> _T:
        store = open_store()
        try:
            return work(store)
        finally:
            store.conn.close()

    async with slots:
        return await asyncio.to_thread(call)


class CaseRoutes:
    """The routes of the module's table over ``open_store`` (a new
    connection per call, closed after it) and ``events``; after a change,
    ``tell`` lets the citizen know (an SMS)."""

    def __init__(self, access: Access, tokens: Callable[[], BearerTokens],
                 open_store: Callable[[], CaseStore], events: Emitter,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 tell: Tell = _tell_nobody,
                 salt: Callable[[], bytes] | None = None) -> None:
        self.access = access
        #: The IIN salt (``[cases] salt_file``; blocking): None, no creation by API.
        self.salt = salt
        self.tokens = tokens
        self.open_store = open_store
        self.events = events
        self.clock = clock
        self.tell = tell
        self._slots = asyncio.Semaphore(QUERY_SLOTS)

    def routes(self) -> list[BaseRoute]:
        post = ("POST",)
        ext = "/api/ext/cases/{number}"
        return [
            endpoint("/api/cases/overdue", self.access.api(SUPERVISOR_ROLES)(self._overdue)),
            endpoint("/api/ext/cases", self._machine(self._create), post, max_body=MAX_BODY),
            endpoint(ext, self._machine(self._read)),
            endpoint(ext + "/status", self._machine(self._status), post, max_body=MAX_BODY),
            endpoint(ext + "/questions/{no:int}/answer", self._machine(self._answer), post,
                     max_body=MAX_BODY),
            endpoint(ext + "/verdict", self._machine(self._verdict), post, max_body=MAX_BODY),
        ]

    def _machine(self, handler: Callable[[Request, ApiClient], Any]
                 ) -> Callable[[Request], Any]:
        """A bearer token of ``[cases] api_tokens``, else 401 JSON (RFC 6750 §3)."""

        async def checked(request: Request) -> Response:
            client = self.tokens().client(request.headers.get("authorization"))
            if client is None:
                return refusal(HTTPStatus.UNAUTHORIZED, "token", "a known bearer token is needed",
                               [("WWW-Authenticate", 'Bearer realm="bailanys-cases"')])
            return cast(Response, await handler(request, client))

        return checked

    async def _run(self, work: Callable[[CaseStore], _T]) -> _T:
        return await on_store(self.open_store, self._slots, work)

    async def _change(self, work: Callable[[CaseStore], tuple[Case, Sequence[EventBase]]]
                      ) -> Response:
        try:
            case, events = await self._run(work)
        except NoSuchCase as exc:
            return refusal(HTTPStatus.NOT_FOUND, "no_request", f"no request {exc}")
        except TransitionRefused as exc:
            return refusal(HTTPStatus.CONFLICT, "refused", str(exc))
        except InputError as exc:
            return refusal(HTTPStatus.BAD_REQUEST, "body", str(exc))
        except BailanysError as exc:
            log.warning("cases api: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the store is not available")
        for event in events:
            self.events.emit(cast("AnyEvent", event))
        if events:
            await self.tell(case, events)
        return _json(HTTPStatus.OK, case_json(case))

    async def _create(self, request: Request, client: ApiClient) -> Response:
        """Issue 19: "A request created from a call (or by API)"."""
        body = await _body(request)
        if isinstance(body, Response):
            return body
        if self.salt is None:
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "no IIN salt is set up")
        try:
            new = parse_new(body, await asyncio.to_thread(self.salt), by_phone=True)
        except InputError as exc:
            return refusal(HTTPStatus.BAD_REQUEST, "body", str(exc))
        except BailanysError as exc:
            log.warning("cases api: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the salt is not available")
        assert new.phone is not None
        citizen = Citizen(new.phone, new.iin_hash, new.lang)
        now, user, linked = self.clock(), f"api:{client.name}", False

        def work(s: CaseStore) -> tuple[Case, Sequence[EventBase]]:
            nonlocal linked
            case, events, linked = register(s, new, citizen, user, now)
            return case, events

        answer = await self._change(work)
        if answer.status_code == HTTPStatus.OK and not linked:
            answer.status_code = HTTPStatus.CREATED
        log.info("cases api: %s registers a request (%s)", client.name,
                 "linked" if linked else answer.status_code)
        return answer

    async def _read(self, request: Request, client: ApiClient) -> Response:
        number = request.path_params["number"]
        return await self._change(lambda s: (_find(s, number), ()))

    async def _status(self, request: Request, client: ApiClient) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            new = Status(str(body.get("status", "")))
        except ValueError:
            return refusal(HTTPStatus.BAD_REQUEST, "body", "status must be one of "
                           + ", ".join(s.value for s in Status))
        note = body.get("note", "")
        if not isinstance(note, str):
            return refusal(HTTPStatus.BAD_REQUEST, "body", "note must be a text")
        number, now, user = request.path_params["number"], self.clock(), f"api:{client.name}"

        def work(s: CaseStore) -> tuple[Case, Sequence[EventBase]]:
            res = s.set_status(_find(s, number).id, new, user=user, now=now, note=note)
            return res.case, res.events

        log.info("cases api: %s sets %s to %s", client.name, number, new.value)
        return await self._change(work)

    async def _answer(self, request: Request, client: ApiClient) -> Response:
        number, no = request.path_params["number"], int(request.path_params["no"])
        now, user = self.clock(), f"api:{client.name}"

        def work(s: CaseStore) -> tuple[Case, Sequence[EventBase]]:
            res = s.answer_question(_find(s, number).id, no, user=user, now=now)
            return res.case, res.events

        return await self._change(work)

    async def _verdict(self, request: Request, client: ApiClient) -> Response:
        """Issue 19: complaints' "confirmed / not confirmed" recorded by a
        supervisor (a system's token stands for one, :mod:`apitokens`)."""
        body = await _body(request)
        if isinstance(body, Response):
            return body
        confirmed = body.get("confirmed")
        if not isinstance(confirmed, bool):
            return refusal(HTTPStatus.BAD_REQUEST, "body", "confirmed must be true or false")
        number, now, user = request.path_params["number"], self.clock(), f"api:{client.name}"

        def work(s: CaseStore) -> tuple[Case, Sequence[EventBase]]:
            res = s.confirm_complaint(_find(s, number).id, confirmed, user=user, now=now)
            return res.case, res.events

        log.info("cases api: %s records complaint %s as %s", client.name, number,
                 "confirmed" if confirmed else "not confirmed")
        return await self._change(work)

    async def _overdue(self, request: Request, session: Session) -> Response:
        now = self.clock()

        def work(s: CaseStore) -> list[dict[str, Any]]:
            return [{"number": o.number, "question": o.question, "stage": o.stage,
                     "deadline": o.deadline.isoformat()} for o in s.list_overdue(now)]

        try:
            items = await self._run(work)
        except BailanysError as exc:
            log.warning("cases api: %s", exc)
            return refusal(HTTPStatus.SERVICE_UNAVAILABLE, "store", "the store is not available")
        return _json(HTTPStatus.OK, {"at": now.isoformat(), "overdue": items})


class NoSuchCase(InputError):
    """No request has this number (the API answers 404 ``no_request``)."""


def _find(store: CaseStore, number: str) -> Case:
    case = store.by_number(number)
    if case is None:
        raise NoSuchCase(repr(number))
    return case


async def _body(request: Request) -> Mapping[str, Any] | Response:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return refusal(HTTPStatus.BAD_REQUEST, "body", "the body must be a JSON object")
    if not isinstance(body, dict):
        return refusal(HTTPStatus.BAD_REQUEST, "body", "the body must be a JSON object")
    return body


def cases_routes(tokens: Callable[[], BearerTokens], open_store: Callable[[], CaseStore],
                 events: Emitter, tell: Tell = _tell_nobody,
                 salt: Callable[[], bytes] | None = None,
                 ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The hook :class:`~bailanys.console.server.ConsoleServer` takes
    (``extra_routes``, with the others through ``joined_routes``)."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return CaseRoutes(access, tokens, open_store, events, tell=tell, salt=salt).routes()

    return build
