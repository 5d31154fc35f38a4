"""The analysts' page on the web layer: search, a call's transcript, its audio, CSV.

Issue 15, "The analysts' page" (requirements items 3, 7, 30: speech
analytics). Routes on the console's app, behind the layer's one check
(:class:`~bailanys.web.access.Access`):

====================================  ==============================================
``GET /analytics``                    the page (``console/static/analytics.html``)
``GET /api/analytics/me``             JSON: who is logged in (name, role, may listen)
``GET /api/analytics/search``         JSON: hits, total, pages, per-day counts
                                      (parameters: ``pageparams.py``)
``GET /api/analytics/calls/{id}``     JSON: the call's facts and its turns
``GET /api/analytics/calls/{id}/audio``  the stereo WAV, with HTTP range requests
``GET /api/analytics/export.csv``     the matched calls as CSV (``csvexport.py``),
                                      at most :data:`EXPORT_MAX_CALLS`
====================================  ==============================================

Who: :data:`ANALYTICS_ROLES` (analyst, qa, supervisor, admin: every console
role today, named so that a new role is not let in by default). Who may
hear recordings: :data:`LISTEN_ROLES`, the same four: QA reviewers score
calls by listening, supervisors handle complaints, analysts check what the
recogniser heard. Without a session: the page 303s to the login, the APIs
answer 401; another role gets 403.

Playbacks are logged (the recording is the legal record, item 30): the
first audio request of a session for a call logs ``recording.played``
(user, role) through the event sink; the further range requests of the
same session and call within :data:`PLAY_WINDOW_S` are the same playback
(a browser's player makes one request per seek). The page's player has
``preload="none"``, so audio is only fetched when someone plays it.

The data comes through the :class:`Analytics` port (synchronous, run in
worker threads, :data:`QUERY_SLOTS` at a time, never on the event loop);
``webstore.py`` is the real one over the store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.analytics import csvexport
from bailanys.analytics.model import Utterance
from bailanys.analytics.pageparams import ParamError, offset_text, parse_search
from bailanys.analytics.searchtypes import Hit, SearchQuery, SearchResult
from bailanys.events.analytics import RecordingPlayed
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session
from bailanys.web.files import download
from bailanys.web.responses import error, response
from bailanys.web.static import StaticFile, page

log = logging.getLogger(__name__)

#: Who may use the page (issue 15: analyst; qa and supervisor may; admin too).
ANALYTICS_ROLES = frozenset({Role.ANALYST, Role.QA, Role.SUPERVISOR, Role.ADMIN})
#: Who may hear recordings (see the module's docstring).
LISTEN_ROLES = frozenset({Role.ANALYST, Role.QA, Role.SUPERVISOR, Role.ADMIN})
#: Range requests of one session for one call within this many seconds are
#: one playback: long enough for seeking and pausing, short enough that
#: coming back to a call later is logged again.
PLAY_WINDOW_S = 300.0
#: Playbacks remembered at once (sessions x calls); the oldest go first.
MAX_PLAYS = 10_000
#: An export stops here: 10,000 rows open in a spreadsheet at once.
EXPORT_MAX_CALLS = 10_000
#: Calls asked from the search per page while exporting: the most one
#: search request may ask for (``search.MAX_PER_PAGE``).
EXPORT_PAGE = 100
#: Searches run at a time in threads: the machines have two cores.
QUERY_SLOTS = 2
#: Call ids as the engine makes them (and nothing that could be a path).
CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}")
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True, slots=True)
class CallView:
    """What the call page shows: the call's facts and its transcript (PII masked)."""

    call_id: str
    utterances: tuple[Utterance, ...]  # both channels, by start time
    started: float | None = None
    queue: str | None = None
    agent: str | None = None
    language: str | None = None
    topic: str | None = None
    disposition: str | None = None
    outcome: str | None = None
    duration: float | None = None
    wait: float | None = None
    survey_score: int | None = None
    has_recording: bool = False


class Analytics(Protocol):
    """The page's data: the search, a call, a call's recording (blocking calls)."""

    def search(self, query: SearchQuery, *, complete: bool = False) -> SearchResult:
        """The search; ``complete``: every match (exact counts), else the fast answer."""
        ...

    def call(self, call_id: str) -> CallView | None: ...

    def recording(self, call_id: str) -> Path | None:
        """The call's WAV if it exists (a path the port resolved, never the request's)."""
        ...


class PlayEvents(Protocol):
    """Where ``recording.played`` goes: the engine's EventSink (``engine/ports.py``)."""

    def emit(self, event: RecordingPlayed) -> object: ...


class PlayLog:
    """Which (session, call) playbacks were logged in the last :data:`PLAY_WINDOW_S`."""

    def __init__(self, window_s: float = PLAY_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, max_plays: int = MAX_PLAYS) -> None:
        self.window_s = window_s
        self.clock = clock
        self.max_plays = max_plays
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def first(self, session: str, call_id: str) -> bool:
        """Whether this request starts a playback (then it is remembered)."""
        now = self.clock()
        key = (session, call_id)
        seen = self._seen
        if key in seen and now - seen[key] < self.window_s:
            return False
        seen.pop(key, None)
        while seen and (now - next(iter(seen.values())) >= self.window_s
                        or len(seen) >= self.max_plays):
            seen.popitem(last=False)  # the oldest: expired, or no room
        seen[key] = now
        return True


def _json(value: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return response(status, body, JSON_TYPE)


def _refusal(code: str, message: str, param: str | None = None) -> Response:
    """400 with a code the page translates and the message in English."""
    return _json({"error": code, "param": param, "message": message}, HTTPStatus.BAD_REQUEST)


def _query_code(code: str) -> str:
    """The search's error code as the page's (its ``too_long`` is the query's)."""
    return "query_too_long" if code == "too_long" else code


def local_text(ts: float | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, tz).strftime(fmt)


def hit_json(hit: Hit, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "call_id": hit.call_id, "channel": str(hit.channel), "offset": round(hit.offset, 2),
        "offset_text": offset_text(hit.offset), "started": hit.started,
        "started_text": local_text(hit.started, tz, "%Y-%m-%d %H:%M"), "agent": hit.agent,
        "queue": hit.queue, "language": hit.language, "score": hit.score,
        "snippet": [[f.text, f.hit] for f in hit.snippet],
    }


def result_json(result: SearchResult, tz: ZoneInfo) -> dict[str, Any]:
    pages = max(1, -(-result.total // max(1, result.per_page)))
    return {"total": result.total, "partial": result.partial, "page": result.page,
            "per_page": result.per_page, "pages": pages,
            "per_day": [list(d) for d in result.per_day],
            "hits": [hit_json(h, tz) for h in result.hits]}


def call_json(view: CallView, tz: ZoneInfo, may_listen: bool) -> dict[str, Any]:
    turns = [{"channel": str(u.channel), "language": u.language, "start": round(u.start, 2),
              "start_text": offset_text(u.start),
              "words": [{"text": w.text, "start": round(w.start, 2), "end": round(w.end, 2)}
                        for w in u.words]}
             for u in view.utterances if u.words]
    return {
        "call_id": view.call_id, "started": view.started,
        "started_text": local_text(view.started, tz), "timezone": str(tz),
        "queue": view.queue, "agent": view.agent, "language": view.language,
        "topic": view.topic, "disposition": view.disposition, "outcome": view.outcome,
        "duration": view.duration, "wait": view.wait, "survey_score": view.survey_score,
        "audio": view.has_recording and may_listen, "turns": turns,
    }


def collect(port: Analytics, query: SearchQuery, cap: int = EXPORT_MAX_CALLS) -> list[Hit]:
    """Every matching call up to ``cap``, page after page (blocking: run in a thread)."""
    hits: list[Hit] = []
    page_no = 1
    while len(hits) < cap:
        result = port.search(SearchQuery(query.text, query.filters, query.sort, page_no,
                                         EXPORT_PAGE), complete=True)
        if result.error is not None:
            raise ParamError("q", _query_code(result.error), "the query cannot be read")
        hits.extend(result.hits)
        if not result.hits or len(hits) >= result.total:
            break
        page_no += 1
    return hits[:cap]


class AnalyticsRoutes:
    """The routes of the module's table, for the console's app."""

    def __init__(self, access: Access, port: Analytics, events: PlayEvents,
                 static: Mapping[str, StaticFile], tz: ZoneInfo, *,
                 plays: PlayLog | None = None, roles: frozenset[Role] = ANALYTICS_ROLES,
                 listen_roles: frozenset[Role] = LISTEN_ROLES) -> None:
        self.access = access
        self.roles = roles
        self.listen_roles = listen_roles
        self.port = port
        self.events = events
        self.static = static
        self.tz = tz
        self.plays = plays if plays is not None else PlayLog()
        self._slots = asyncio.Semaphore(QUERY_SLOTS)

    def routes(self) -> list[BaseRoute]:
        page_check = self.access.page(self.roles)
        api = self.access.api(self.roles)
        return [
            endpoint("/analytics", page_check(self._page)),
            endpoint("/api/analytics/me", api(self._me)),
            endpoint("/api/analytics/search", api(self._search)),
            endpoint("/api/analytics/counts", api(self._counts)),
            endpoint("/api/analytics/export.csv", api(self._export)),
            endpoint("/api/analytics/calls/{call_id}", api(self._call)),
            endpoint("/api/analytics/calls/{call_id}/audio",
                     api(self._audio)),
        ]

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        async with self._slots:
            return await asyncio.to_thread(work, *args)

    async def _page(self, request: Request, session: Session) -> Response:
        return page(dict(self.static), "analytics.html")

    async def _me(self, request: Request, session: Session) -> Response:
        user = session.user
        return _json({"login": user.login, "name": user.display_name or user.login,
                      "role": str(user.role), "may_listen": user.role in self.listen_roles})

    async def _searched(self, request: Request, *, complete: bool) -> SearchResult | Response:
        """The request's search (a refusal for bad parameters or a bad query);
        ``complete``: every match, for exact counts (only their first row)."""
        try:
            query = parse_search(request.query_params, self.tz)
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        if complete:
            query = SearchQuery(query.text, query.filters, query.sort, 1, 1)
        result: SearchResult = await self._run(
            lambda: self.port.search(query, complete=complete))
        if result.error is not None:
            return _refusal(_query_code(result.error), "the query cannot be read", "q")
        return result

    async def _search(self, request: Request, session: Session) -> Response:
        result = await self._searched(request, complete=False)
        return result if isinstance(result, Response) else _json(result_json(result, self.tz))

    async def _counts(self, request: Request, session: Session) -> Response:
        """Exact totals and calls per day (every match): what the page asks next
        when the search's fast answer was ``partial``."""
        result = await self._searched(request, complete=True)
        if isinstance(result, Response):
            return result
        return _json({"total": result.total, "per_day": [list(d) for d in result.per_day]})

    async def _export(self, request: Request, session: Session) -> Response:
        try:
            query = parse_search(request.query_params, self.tz)
            hits: list[Hit] = await self._run(collect, self.port, query)
        except ParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        lang = request.query_params.get("lang", "kk")
        body = csvexport.export_csv(hits, self.tz, lang)
        name = dt.datetime.now(self.tz).strftime("analytics-%Y%m%d-%H%M.csv")
        log.info("analytics: %s (%s) exported %d calls", session.user.login,
                 session.user.role, len(hits))
        return response(HTTPStatus.OK, body, CSV_TYPE,
                        headers=[("Content-Disposition", f'attachment; filename="{name}"')])

    async def _call(self, request: Request, session: Session) -> Response:
        call_id = request.path_params["call_id"]
        if not CALL_ID.fullmatch(call_id):
            return _refusal("bad_call", "not a call id", "call_id")
        view: CallView | None = await self._run(self.port.call, call_id)
        if view is None:
            return error(HTTPStatus.NOT_FOUND, "no transcript of this call")
        return _json(call_json(view, self.tz, session.user.role in self.listen_roles))

    async def _audio(self, request: Request, session: Session) -> Response:
        call_id = request.path_params["call_id"]
        if not CALL_ID.fullmatch(call_id):
            return _refusal("bad_call", "not a call id", "call_id")
        if session.user.role not in self.listen_roles:
            return error(HTTPStatus.FORBIDDEN, f"the role {session.user.role} may not listen")
        path: Path | None = await self._run(self.port.recording, call_id)
        if path is None:
            return error(HTTPStatus.NOT_FOUND, "no recording of this call")
        user = session.user
        if self.plays.first(session.token, call_id):
            self.events.emit(RecordingPlayed(call_id=call_id, user=user.login,
                                             role=str(user.role)))
            log.info("analytics: %s (%s) plays the recording of %s", user.login, user.role,
                     call_id)
        return download(path, f"{call_id}.wav", inline=True)


def analytics_routes(port: Analytics, events: PlayEvents, tz: ZoneInfo
                     ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The hook :class:`~bailanys.console.server.ConsoleServer` takes (``extra_routes``)."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return AnalyticsRoutes(access, port, events, static, tz).routes()

    return build
