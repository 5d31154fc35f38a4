"""The analysts' Reports page on the web layer: the regulator's reports, complaints, imports.

Issue 17, "Reports (``bailanys report ...`` and a page for analysts in the
console)". Routes on the console's app behind the layer's one check
(:class:`~bailanys.web.access.Access`), as the analysts' and reviewers'
pages (``analytics/web.py``, ``qa/web.py``):

=========================================  =========================================
``GET /reports``                           the page (``console/static/reports.html``)
``GET /api/reports/me``                    JSON: who, whether they may judge
                                           complaints, the default periods
``GET /api/reports/due``                   JSON: the semi-annual form due, by when
                                           (``semiannual.due``), or null
``GET /api/reports/{kind}``                the report (``period``, ``lang``,
                                           ``format``: ``params.py``): HTML inline
                                           (shown in the page's frame), XLSX and
                                           PDF as downloads named for the request
``GET /api/reports/complaints``            JSON: the period's complaints about the
                                           centre with their verdicts
``POST /api/calls/{id}/complaint``         a supervisor's verdict
                                           (``{"confirmed": true|false}``):
                                           writes ``complaint.confirmed``
``GET /api/reports/imports``               JSON: the latest imports of other channels
``POST /api/reports/imports``              a CSV of other channels' contacts (the
                                           body; ``name``, ``since``, ``until``,
                                           ``lang`` of the problems)
=========================================  =========================================

Who: :data:`REPORT_ROLES` (analyst, supervisor, admin; a QA reviewer has
the reviewers' own reports); verdicts: :data:`JUDGE_ROLES`. Without a
session the page 303s to the login and the APIs answer 401; another role
gets 403; a request that changes something must come from the page's
origin (the layer's check). A bad parameter is 400 with a code the page
translates; what cannot be made is :class:`~bailanys.reports.produce.ReportError`
with its code and status.

The HTML report is a standalone page (``render/html.py``: its own styles,
charts as ``data:`` URIs, no scripts) served with a policy of its own
(:data:`REPORT_CSP`): no scripts, no requests, framed only by this site;
the route's refusals carry it too, so the page reads them from its frame.

Reports are built in a worker thread, :data:`REPORT_SLOTS` at a time (a
quarter of a 1414-sized centre is most of a core for up to a minute); the
port's other calls, :data:`QUERY_SLOTS` at a time. Never on the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.analytics.pageparams import ParamError
from bailanys.analytics.web import CALL_ID, local_text
from bailanys.events.reports import ComplaintConfirmed
from bailanys.qa.webparams import parse_period
from bailanys.reports.params import ReportKind, ReportRequest, last_complete, parse_request
from bailanys.reports.produce import ReportError
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session
from bailanys.web.responses import response
from bailanys.web.static import StaticFile, page

log = logging.getLogger(__name__)

#: Who may use the page (issue 17: "a page for analysts"; supervisors judge
#: complaints there; admins see everything).
REPORT_ROLES = frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})
#: Who may confirm or reject a complaint (issue 17: "confirmed or not by a supervisor").
JUDGE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
#: Reports built at a time (see the module's docstring).
REPORT_SLOTS = 1
#: The port's other calls at a time: the machines have two cores.
QUERY_SLOTS = 2
#: Complaints listed at once: a half-year of a centre's complaints about
#: itself is a few hundred; more than this is a page of its own.
MAX_COMPLAINTS = 500
#: Import batches listed.
MAX_IMPORTS = 50
#: An import's body: the largest file the import reads (``imports.MAX_BYTES``,
#: a quarter of a busy chat channel); the console's other bodies stay at
#: the web layer's 8 KiB.
MAX_IMPORT_BYTES = 64 * 1024 * 1024
#: A file's name as the browser gives it.
MAX_NAME_CHARS = 200
#: The HTML report's own policy: styles inline, images as data: URIs, nothing else.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
JSON_TYPE = "application/json"
_NAME = re.compile(r"[^\w.() -]+")


class ReportsPort(Protocol):
    """The page's data (blocking calls; raise :class:`ReportError` to refuse).

    ``complaints`` items: ``call_id``, ``started`` (epoch s), ``queue``,
    ``agent``, ``topic``, ``confirmed`` (true, false or null: not judged);
    ``imports`` items: ``id``, ``name``, ``since``, ``until``, ``rows``,
    ``imported`` (epoch s), ``user``; ``import_csv``: ``rows`` and what
    else the import tells (``batch``, ``replaced``).
    """

    def report(self, request: ReportRequest) -> bytes: ...

    def due(self, today: dt.date) -> tuple[str, dt.date] | None: ...

    def complaints(self, since: dt.date, until: dt.date,
                   limit: int) -> Sequence[Mapping[str, Any]]: ...

    def is_complaint(self, call_id: str) -> bool | None: ...

    def import_csv(self, data: bytes, name: str, since: dt.date, until: dt.date,
                   user: str, lang: str) -> Mapping[str, Any]: ...

    def imports(self, limit: int) -> Sequence[Mapping[str, Any]]: ...


class VerdictEvents(Protocol):
    """Where ``complaint.confirmed`` goes: the engine's EventSink (``engine/ports.py``)."""

    def emit(self, event: ComplaintConfirmed) -> object: ...


def _json(value: Any, status: HTTPStatus = HTTPStatus.OK,
          headers: Sequence[tuple[str, str]] = ()) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return response(status, body, JSON_TYPE, headers=headers)


def _refusal(code: str, message: str, param: str | None = None,
             status: HTTPStatus = HTTPStatus.BAD_REQUEST,
             problems: Sequence[str] = (), *, framed: bool = False) -> Response:
    """An error with a code the page translates and the message in English;
    ``framed``: the report's own policy, so that the page's frame can read it."""
    return _json({"error": code, "param": param, "message": message,
                  "problems": list(problems)}, status,
                 [("Content-Security-Policy", REPORT_CSP)] if framed else [])


def _refused(exc: ReportError, *, framed: bool = False) -> Response:
    return _refusal(exc.code, str(exc), status=exc.status, problems=exc.problems,
                    framed=framed)


def file_name(text: str) -> str:
    """An uploaded file's name as stored: its last path part, odd characters dropped."""
    name = _NAME.sub("", text.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:MAX_NAME_CHARS] or "import.csv"


class ReportsRoutes:
    """The routes of the module's table, for the console's app."""

    def __init__(self, access: Access, port: ReportsPort, events: VerdictEvents,
                 static: Mapping[str, StaticFile], tz: ZoneInfo, *,
                 roles: frozenset[Role] = REPORT_ROLES,
                 judge_roles: frozenset[Role] = JUDGE_ROLES,
                 clock: Callable[[], float] = time.time) -> None:
        self.access = access
        self.port = port
        self.events = events
        self.static = static
        self.tz = tz
        self.roles = roles
        self.judge_roles = judge_roles
        self.clock = clock
        self._reports = asyncio.Semaphore(REPORT_SLOTS)
        self._queries = asyncio.Semaphore(QUERY_SLOTS)

    def routes(self) -> list[BaseRoute]:
        page_check = self.access.page(self.roles)
        api = self.access.api(self.roles)
        return [
            endpoint("/reports", page_check(self._page)),
            endpoint("/api/reports/me", api(self._me)),
            endpoint("/api/reports/due", api(self._due)),
            endpoint("/api/reports/complaints", api(self._complaints)),
            endpoint("/api/reports/imports", api(self._imports), ("GET", "POST"),
                     max_body=MAX_IMPORT_BYTES),
            endpoint("/api/reports/{kind}", api(self._report)),
            endpoint("/api/calls/{call_id}/complaint", api(self._verdict), ("POST",)),
        ]

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        async with self._queries:
            return await asyncio.to_thread(work, *args)

    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock(), self.tz).date()

    async def _page(self, request: Request, session: Session) -> Response:
        return page(dict(self.static), "reports.html")

    async def _me(self, request: Request, session: Session) -> Response:
        user, today = session.user, self._today()
        return _json({"login": user.login, "name": user.display_name or user.login,
                      "role": str(user.role), "may_judge": user.role in self.judge_roles,
                      "today": today.isoformat(),
                      "defaults": {k.value: last_complete(k, today) for k in ReportKind}})

    async def _due(self, request: Request, session: Session) -> Response:
        today = self._today()
        try:
            found = await self._run(self.port.due, today)
        except ReportError as exc:  # the form's builder is not there: no reminder
            log.debug("reports: no reminder: %s", exc)
            found = None
        if found is None:
            return _json({"due": None})
        period, day = found
        return _json({"due": {"period": period, "date": day.isoformat(),
                              "days_left": (day - today).days}})

    async def _report(self, request: Request, session: Session) -> Response:
        params = request.query_params
        try:
            wanted = parse_request(request.path_params["kind"], params.get("period", ""),
                                   params.get("lang", "kk"), params.get("format", "html"))
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param, framed=True)
        started = time.monotonic()
        try:
            async with self._reports:
                body: bytes = await asyncio.to_thread(self.port.report, wanted)
        except ReportError as exc:
            if exc.code == "failed":
                log.error("reports: %s failed", wanted.filename, exc_info=exc.__cause__)
            return _refused(exc, framed=True)
        log.info("reports: %s (%s) made %s in %.1f s", session.user.login, session.user.role,
                 wanted.filename, time.monotonic() - started)
        if wanted.fmt == "html":
            return response(HTTPStatus.OK, body, wanted.content_type,
                            headers=[("Content-Security-Policy", REPORT_CSP)])
        return response(HTTPStatus.OK, body, wanted.content_type, headers=[
            ("Content-Disposition", f'attachment; filename="{wanted.filename}"')])

    async def _complaints(self, request: Request, session: Session) -> Response:
        try:
            since, until = parse_period(request.query_params, self.tz, self.clock())
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        try:
            items = await self._run(self.port.complaints, since, until, MAX_COMPLAINTS + 1)
        except ReportError as exc:
            return _refused(exc)
        shown = [{**item, "started_text": local_text(item.get("started"), self.tz,
                                                     "%Y-%m-%d %H:%M")}
                 for item in items[:MAX_COMPLAINTS]]
        return _json({"since": since.isoformat(), "until": until.isoformat(),
                      "items": shown, "more": len(items) > MAX_COMPLAINTS,
                      "may_judge": session.user.role in self.judge_roles})

    async def _verdict(self, request: Request, session: Session) -> Response:
        call_id: str = request.path_params["call_id"]
        if session.user.role not in self.judge_roles:
            return _refusal("may_not_judge", f"the role {session.user.role} may not",
                            status=HTTPStatus.FORBIDDEN)
        if not CALL_ID.fullmatch(call_id):
            return _refusal("bad_call", "not a call id", "call_id")
        try:
            body = json.loads((await request.body()) or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _refusal("bad_json", "the body is not JSON", "body")
        confirmed = body.get("confirmed") if isinstance(body, dict) else None
        if not isinstance(confirmed, bool):
            return _refusal("bad_verdict", 'the body is {"confirmed": true|false}', "confirmed")
        try:
            known = await self._run(self.port.is_complaint, call_id)
        except ReportError as exc:
            return _refused(exc)
        if known is None:
            return _refusal("no_contact", "no such contact", "call_id", HTTPStatus.NOT_FOUND)
        if not known:
            return _refusal("not_complaint", "the call is not a complaint about the centre",
                            "call_id", HTTPStatus.CONFLICT)
        user = session.user.login
        self.events.emit(ComplaintConfirmed(call_id=call_id, confirmed=confirmed, user=user))
        log.info("reports: %s judges the complaint of %s: %s", user, call_id,
                 "confirmed" if confirmed else "not confirmed")
        return _json({"call_id": call_id, "confirmed": confirmed, "user": user})

    async def _imports(self, request: Request, session: Session) -> Response:
        if request.method == "GET":
            try:
                items = await self._run(self.port.imports, MAX_IMPORTS)
            except ReportError as exc:
                return _refused(exc)
            return _json({"items": [{**i, "imported_text": local_text(
                i.get("imported"), self.tz, "%Y-%m-%d %H:%M")} for i in items]})
        return await self._import(request, session)

    async def _import(self, request: Request, session: Session) -> Response:
        params = request.query_params
        if not params.get("since") or not params.get("until"):
            return _refusal("no_period", "since and until: the period the file covers",
                            "since")
        try:
            since, until = parse_period(params, self.tz, self.clock())
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        data = await request.body()
        if not data.strip():
            return _refusal("empty_file", "the file is empty", "file")
        name, user = file_name(params.get("name", "")), session.user.login
        lang = params.get("lang", "kk")  # the problems' language: the analyst's
        try:
            outcome = await self._run(self.port.import_csv, data, name, since, until, user,
                                      lang if lang in ("kk", "ru", "en") else "kk")
        except ReportError as exc:
            return _refused(exc)
        log.info("reports: %s imported %s (%s..%s): %s", user, name, since, until,
                 outcome.get("rows"))
        return _json({"name": name, "since": since.isoformat(), "until": until.isoformat(),
                      **outcome})


def reports_routes(port: ReportsPort, events: VerdictEvents, tz: ZoneInfo
                   ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The hook :class:`~bailanys.console.server.ConsoleServer` takes (``extra_routes``;
    with the others' through ``joined_routes``)."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return ReportsRoutes(access, port, events, static, tz).routes()

    return build
