"""The desktop's knowledge-base search on the web layer (issue 19, "Knowledge base").

=================================  =============================================
``GET /desk/api/kb?q=&lang=``      JSON ``{"results": [hit, ...]}``, best first
                                   (a hit: :class:`~bailanys.desk.kb.KbHit`'s
                                   fields); ``limit`` (1-20, default 5) optional
=================================  =============================================

Who: :data:`KB_ROLES` (the operator, and the supervisor and admin who stand
in for one or check what operators see); without a session 401, another
role 403 (:class:`~bailanys.web.access.Access`). ``lang`` is the page's
language (kk or ru): the query is searched in both languages, the hits are
given in this one.

Bad input is answered, never raised: 400 with ``{"error": code, "param",
"message"}`` (codes ``missing``, ``query_too_long``, ``lang``, ``limit``, for
the page to translate) for a missing query, a query over
:data:`~bailanys.desk.kb.MAX_QUERY_CHARS` characters, another language or a
bad limit; a query of no words (or only unknown ones) answers an empty list;
503 ``kb_unavailable`` while there is no knowledge base (no FAQ, or not
loaded yet). Searching embeds the query (CPU, ~10 ms): it runs in worker
threads, :data:`SEARCH_SLOTS` at a time, never on the event loop. The query
may hold a caller's data (an operator may paste anything): it is never
logged nor echoed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.desk.kb import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS, KbHit, KnowledgeBase
from bailanys.robot.faq import LANGS
from bailanys.robot.matcher import Matcher
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session
from bailanys.web.responses import response

#: Who may search (the contract of issue 19: operator, supervisor, admin).
KB_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
#: Searches at once: the matcher embeds one query at a time (it holds a lock),
#: and the machine's two cores also serve calls; more would only queue.
SEARCH_SLOTS = 2
JSON_TYPE = "application/json"
KB_PATH = "/desk/api/kb"


def _json(value: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return response(status, body, JSON_TYPE)


def _refusal(code: str, param: str | None, message: str,
             status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> Response:
    return _json({"error": code, "param": param, "message": message}, status)


def parse_query(params: Any) -> tuple[str, str, int] | Response:
    """``(q, lang, limit)`` from the query string, or the 400 refusing them (pure)."""
    q = params.get("q")
    if q is None:
        return _refusal("missing", "q", "give the words to search for in q")
    if len(q) > MAX_QUERY_CHARS:
        return _refusal("query_too_long", "q", f"a query of at most {MAX_QUERY_CHARS} characters")
    lang = params.get("lang")
    if lang not in LANGS:
        return _refusal("lang", "lang", f"lang must be one of {', '.join(LANGS)}")
    raw = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw is not None:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 2
                and 1 <= int(raw) <= MAX_LIMIT):
            return _refusal("limit", "limit", f"limit must be a number from 1 to {MAX_LIMIT}")
        limit = int(raw)
    return q, lang, limit


class RobotKb:
    """The knowledge base over the robot's own matcher (no second model, no second
    embedding pass): what :func:`kb_routes` takes.

    ``matcher`` gives the robot's matcher (``RobotService.matcher``: None until
    the robot has started, or without a FAQ); :meth:`start`, awaited after the
    robot's start, builds the desk's lexical index in a thread (~0.2 s)."""

    def __init__(self, matcher: Callable[[], Matcher | None]) -> None:
        self._matcher = matcher
        self._kb: KnowledgeBase | None = None

    def __call__(self) -> KnowledgeBase | None:
        return self._kb

    async def start(self) -> None:
        matcher = self._matcher()
        if matcher is not None and (self._kb is None or self._kb.matcher is not matcher):
            self._kb = await asyncio.to_thread(KnowledgeBase, matcher)


def kb_routes(kb: Callable[[], KnowledgeBase | None], access: Access) -> list[BaseRoute]:
    """The route of the module's table; ``kb`` gives the knowledge base now (None: none)."""
    slots = asyncio.Semaphore(SEARCH_SLOTS)

    async def search(request: Request, session: Session) -> Response:
        parsed = parse_query(request.query_params)
        if isinstance(parsed, Response):
            return parsed
        q, lang, limit = parsed
        base = kb()
        if base is None:
            return _refusal("kb_unavailable", None, "the knowledge base is not loaded "
                            "(no FAQ configured, or the engine is still starting)",
                            HTTPStatus.SERVICE_UNAVAILABLE)
        async with slots:
            hits: list[KbHit] = await asyncio.to_thread(base.search, q, lang, limit)
        return _json({"results": [h.as_dict() for h in hits]})

    return [endpoint(KB_PATH, access.api(KB_ROLES)(search))]
