"""The reviewers' workspace on the web layer: queue, scorecard beside the call, reports.

Issue 16, "The reviewers' workspace (console, role qa)". Routes on the
console's app behind the layer's one check (:class:`~bailanys.web.access.Access`),
as the analysts' page (``analytics/web.py``), whose call view and audio
route the page reuses for the dialogue and the recording:

=========================================  =======================================
``GET /qa``                                the page (``console/static/qa.html``)
``GET /api/qa/queue``                      JSON: open calls to review, with why
``GET /api/qa/calls/{id}``                 JSON: the automatic score with its
                                           evidence, the scorecard version's
                                           criteria (kk/ru/en names), the reviews
``POST /api/qa/calls/{id}/review``         open (or resume) my draft of the call
``PUT /api/qa/reviews/{rid}``              save answers, overrides (with reason),
                                           comment (``webparams.parse_review``)
``POST /api/qa/reviews/{rid}/finalise``    finalise: immutable from then on
``POST /api/qa/reviews/{rid}/correct``     a new revision superseding a final one
``POST /api/qa/calls/{id}/flag``           a supervisor sends the call to review
``POST /api/qa/calls/{id}/calibrate``      a supervisor asks for a second review
``GET /api/qa/calibration``                agreement per criterion (Cohen's kappa)
``GET /api/qa/report?by=agent|team``       per agent / team per ISO week
``GET /api/qa/export.csv``                 the report as CSV (``reports.export_csv``)
=========================================  =======================================

Who: :data:`QA_ROLES` (qa, supervisor, admin); flagging and asking for a
calibration review: :data:`FLAG_ROLES`. Periods are the calls' local dates,
both included (``webparams.parse_period``).
Without a session the page 303s to the login and the APIs answer 401;
another role gets 403; a request that changes something must come from
the page's origin (the layer's check). A bad body or parameter is 400 with
a code the page translates; what the store refuses (not the owner, already
final, no score) is :class:`QaRefused` (409/404/403 with a code).

The data comes through the :class:`QaPort` (blocking, run in threads,
:data:`QUERY_SLOTS` at a time); ``webstore.py`` is the real one over the
review store (``qa/reviews.py``, ``kappa.py``, ``reports.py``). Its JSON
shapes are the page's (see :class:`QaPort`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
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
from bailanys.errors import BailanysError
from bailanys.qa import webparams
from bailanys.qa.model import Answer
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session
from bailanys.web.responses import response
from bailanys.web.static import StaticFile, page

log = logging.getLogger(__name__)

#: Who may use the page (issue 16: role qa; supervisors and admins too).
QA_ROLES = frozenset({Role.QA, Role.SUPERVISOR, Role.ADMIN})
#: Who may send a call to review by hand (issue 16: "calls a supervisor flags").
FLAG_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
#: Store calls at a time in threads: the machines have two cores.
QUERY_SLOTS = 2
#: Queue rows per page: a reviewer's morning, not the month.
QUEUE_PAGE = 50
#: The deepest a queue may be paged (offset), so a request stays cheap.
MAX_QUEUE_OFFSET = 10_000
#: A flag's note, as the supervisor typed it.
MAX_FLAG_CHARS = 300
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"


class QaRefused(BailanysError):
    """The store refuses an action: ``code`` for the page, an HTTP ``status``,
    ``detail`` (the criterion or value concerned, as the review store says)."""

    def __init__(self, code: str, message: str,
                 status: HTTPStatus = HTTPStatus.CONFLICT, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.detail = detail


class QaPort(Protocol):
    """The page's data (blocking calls; raise :class:`QaRefused` to refuse).

    Shapes (JSON objects), the review store's ``to_json`` where it has one:

    * queue item (``reviewqueue.QueueItem``): ``call_id``, ``reasons``
      [{``reason``, ``detail``, ``by``}], ``urgent``, ``started``, ``agent``,
      ``queue``, ``language``, ``topic``, ``total``, ``critical_failed`` [ids],
      ``draft`` (my draft's id or null), ``reviewers``;
    * call: ``call_id``, ``score`` {``scorecard``, ``version``, ``total``,
      ``critical_failed``, ``results`` [``Result.to_json``]}, ``card``
      (``webshape.card_json``), ``reviews`` [review], ``reasons``
      [{``reason``, ``detail``, ``state``, ``by``}];
    * review (``webshape.review_json``): ``id``, ``call_id``, ``reviewer``,
      ``revision``, ``supersedes``, ``state`` (draft/final), ``answers``
      [``Answer.to_json``], ``comment``, ``total``, ``critical_failed``,
      ``counted``, ``created``, ``finalised``;
    * calibration (``kappa.CalibrationReport``): ``since``, ``until``,
      ``calls``, ``criteria`` [{``criterion``, ``calls``, ``agreement_pct``,
      ``kappa``, ``disagreed`` [ids], ``names``}];
    * report (``reports.Report``): ``by``, ``since``, ``until``, ``groups``
      [{``key``, ``weeks`` [stats], ``overall`` stats}], stats: ``week``,
      ``scored``, ``auto_total``, ``auto_pass_pct``, ``reviewed``,
      ``reviewed_total``, ``kpi2_pct``, ``failed_most`` [{``criterion``,
      ``failed``, ``calls``, ``names``}].
    """

    def queue(self, reviewer: str, limit: int, offset: int) -> Sequence[Mapping[str, Any]]: ...

    def call(self, call_id: str) -> Mapping[str, Any] | None: ...

    def open_review(self, call_id: str, reviewer: str, now: float) -> Mapping[str, Any]: ...

    def save(self, review_id: int, reviewer: str, answers: Sequence[Answer],
             comment: str) -> Mapping[str, Any]: ...

    def finalise(self, review_id: int, reviewer: str, now: float) -> Mapping[str, Any]: ...

    def correct(self, review_id: int, reviewer: str, now: float) -> Mapping[str, Any]: ...

    def flag(self, call_id: str, by: str, now: float, detail: str) -> bool: ...

    def calibrate(self, call_id: str, by: str, now: float) -> bool: ...

    def calibration(self, since: dt.date, until: dt.date) -> Mapping[str, Any]: ...

    def report(self, by: str, since: dt.date, until: dt.date) -> Mapping[str, Any]: ...

    def export_csv(self, by: str, since: dt.date, until: dt.date, lang: str) -> bytes: ...


def _json(value: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return response(status, body, JSON_TYPE)


def _refusal(code: str, message: str, param: str | None = None,
             status: HTTPStatus = HTTPStatus.BAD_REQUEST, detail: str = "") -> Response:
    """An error with a code the page translates and the message in English."""
    return _json({"error": code, "param": param, "message": message, "detail": detail},
                 status)


def _refused(exc: QaRefused) -> Response:
    return _refusal(exc.code, str(exc), status=exc.status, detail=exc.detail)


def _review_id(request: Request) -> int | None:
    text = request.path_params["review_id"]
    return int(text) if text.isdigit() and len(text) <= 12 else None


class QaRoutes:
    """The routes of the module's table, for the console's app."""

    def __init__(self, access: Access, port: QaPort, static: Mapping[str, StaticFile],
                 tz: ZoneInfo, *, roles: frozenset[Role] = QA_ROLES,
                 flag_roles: frozenset[Role] = FLAG_ROLES,
                 clock: Callable[[], float] = time.time) -> None:
        self.access = access
        self.port = port
        self.static = static
        self.tz = tz
        self.roles = roles
        self.flag_roles = flag_roles
        self.clock = clock
        self._slots = asyncio.Semaphore(QUERY_SLOTS)

    def routes(self) -> list[BaseRoute]:
        page_check = self.access.page(self.roles)
        api = self.access.api(self.roles)
        post, put = ("POST",), ("PUT",)
        return [
            endpoint("/qa", page_check(self._page)),
            endpoint("/api/qa/queue", api(self._queue)),
            endpoint("/api/qa/calibration", api(self._calibration)),
            endpoint("/api/qa/report", api(self._report)),
            endpoint("/api/qa/export.csv", api(self._export)),
            endpoint("/api/qa/calls/{call_id}", api(self._call)),
            endpoint("/api/qa/calls/{call_id}/review", api(self._open), post),
            endpoint("/api/qa/calls/{call_id}/flag", api(self._flag), post),
            endpoint("/api/qa/calls/{call_id}/calibrate", api(self._calibrate), post),
            endpoint("/api/qa/reviews/{review_id}", api(self._save), put),
            endpoint("/api/qa/reviews/{review_id}/finalise", api(self._finalise), post),
            endpoint("/api/qa/reviews/{review_id}/correct", api(self._correct), post),
        ]

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        async with self._slots:
            return await asyncio.to_thread(work, *args)

    async def _act(self, work: Callable[..., Any], *args: Any) -> Response:
        """Run a store action; its refusal becomes the page's error."""
        try:
            return _json(await self._run(work, *args))
        except QaRefused as exc:
            return _refused(exc)

    async def _page(self, request: Request, session: Session) -> Response:
        return page(dict(self.static), "qa.html")

    def _times(self, item: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(item)
        out["started_text"] = local_text(item.get("started"), self.tz, "%Y-%m-%d %H:%M")
        return out

    async def _queue(self, request: Request, session: Session) -> Response:
        text = request.query_params.get("offset", "0")
        if not text.isdigit() or int(text) > MAX_QUEUE_OFFSET:
            return _refusal("bad_page", "offset: a whole number", "offset")
        try:
            items = await self._run(self.port.queue, session.user.login, QUEUE_PAGE + 1,
                                    int(text))
        except QaRefused as exc:
            return _refused(exc)
        return _json({"items": [self._times(i) for i in items[:QUEUE_PAGE]],
                      "more": len(items) > QUEUE_PAGE, "offset": int(text),
                      "me": session.user.login, "role": str(session.user.role),
                      "may_flag": session.user.role in self.flag_roles})

    async def _call(self, request: Request, session: Session) -> Response:
        call_id = request.path_params["call_id"]
        if not CALL_ID.fullmatch(call_id):
            return _refusal("bad_call", "not a call id", "call_id")
        try:
            view: Mapping[str, Any] | None = await self._run(self.port.call, call_id)
        except QaRefused as exc:
            return _refused(exc)
        if view is None:
            return _refusal("not_scored", "this call has no score", "call_id",
                            HTTPStatus.NOT_FOUND)
        out = dict(view)
        out["reviews"] = [self._review_times(r) for r in view.get("reviews", ())]
        out["me"] = session.user.login
        out["may_flag"] = session.user.role in self.flag_roles
        return _json(out)

    def _review_times(self, review: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(review)
        out["finalised_text"] = local_text(review.get("finalised"), self.tz, "%Y-%m-%d %H:%M")
        return out

    async def _open(self, request: Request, session: Session) -> Response:
        call_id = request.path_params["call_id"]
        if not CALL_ID.fullmatch(call_id):
            return _refusal("bad_call", "not a call id", "call_id")
        log.info("qa: %s opens a review of %s", session.user.login, call_id)
        return await self._act(self.port.open_review, call_id, session.user.login, self.clock())

    async def _save(self, request: Request, session: Session) -> Response:
        review_id = _review_id(request)
        if review_id is None:
            return _refusal("bad_review", "not a review id", "review_id")
        try:
            answers, comment = webparams.parse_review(await request.body())
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        return await self._act(self.port.save, review_id, session.user.login, answers, comment)

    async def _finalise(self, request: Request, session: Session) -> Response:
        review_id = _review_id(request)
        if review_id is None:
            return _refusal("bad_review", "not a review id", "review_id")
        log.info("qa: %s finalises review %d", session.user.login, review_id)
        return await self._act(self.port.finalise, review_id, session.user.login, self.clock())

    async def _correct(self, request: Request, session: Session) -> Response:
        review_id = _review_id(request)
        if review_id is None:
            return _refusal("bad_review", "not a review id", "review_id")
        log.info("qa: %s corrects review %d", session.user.login, review_id)
        return await self._act(self.port.correct, review_id, session.user.login, self.clock())

    def _may_request(self, request: Request, session: Session) -> Response | str:
        """The call id of a supervisor's request (flag, calibration), or the refusal."""
        call_id: str = request.path_params["call_id"]
        if session.user.role not in self.flag_roles:
            return _refusal("may_not_flag", f"the role {session.user.role} may not",
                            status=HTTPStatus.FORBIDDEN)
        if not CALL_ID.fullmatch(call_id):
            return _refusal("bad_call", "not a call id", "call_id")
        return call_id

    async def _flag(self, request: Request, session: Session) -> Response:
        call_id = self._may_request(request, session)
        if isinstance(call_id, Response):
            return call_id
        try:
            body = json.loads((await request.body()) or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _refusal("bad_json", "the body is not JSON", "body")
        if not isinstance(body, dict):
            return _refusal("bad_json", "the body is a JSON object", "body")
        detail = body.get("detail", "")
        if not isinstance(detail, str) or len(detail) > MAX_FLAG_CHARS:
            return _refusal("too_long", f"detail: text of at most {MAX_FLAG_CHARS} characters",
                            "detail")
        try:
            added = await self._run(self.port.flag, call_id, session.user.login, self.clock(),
                                    detail.strip())
        except QaRefused as exc:
            return _refused(exc)
        log.info("qa: %s flags %s for review", session.user.login, call_id)
        return _json({"queued": bool(added)})

    async def _calibrate(self, request: Request, session: Session) -> Response:
        call_id = self._may_request(request, session)
        if isinstance(call_id, Response):
            return call_id
        try:
            added = await self._run(self.port.calibrate, call_id, session.user.login,
                                    self.clock())
        except QaRefused as exc:
            return _refused(exc)
        log.info("qa: %s asks for a calibration review of %s", session.user.login, call_id)
        return _json({"queued": bool(added)})

    def _period(self, request: Request) -> tuple[dt.date, dt.date]:
        return webparams.parse_period(request.query_params, self.tz, self.clock())

    async def _calibration(self, request: Request, session: Session) -> Response:
        try:
            since, until = self._period(request)
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        return await self._act(self.port.calibration, since, until)

    async def _report(self, request: Request, session: Session) -> Response:
        try:
            by = webparams.parse_by(request.query_params)
            since, until = self._period(request)
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        return await self._act(self.port.report, by, since, until)

    async def _export(self, request: Request, session: Session) -> Response:
        try:
            by = webparams.parse_by(request.query_params)
            since, until = self._period(request)
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        lang = request.query_params.get("lang", "kk")
        try:
            body = await self._run(self.port.export_csv, by, since, until,
                                   lang if lang in ("kk", "ru", "en") else "kk")
        except QaRefused as exc:
            return _refused(exc)
        name = f"qa-{by}-{since:%Y%m%d}-{until:%Y%m%d}.csv"
        log.info("qa: %s (%s) exported the %s report", session.user.login,
                 session.user.role, by)
        return response(HTTPStatus.OK, body, CSV_TYPE,
                        headers=[("Content-Disposition", f'attachment; filename="{name}"')])


def qa_routes(port: QaPort, tz: ZoneInfo
              ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The hook :class:`~bailanys.console.server.ConsoleServer` takes (``extra_routes``;
    with the analysts' through ``joined_routes``)."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return QaRoutes(access, port, static, tz).routes()

    return build
