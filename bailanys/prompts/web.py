"""The administrators' Prompts page on the web layer: which prompts are recorded, and uploads.

Issue 21, "an upload on the console for the admin role". Routes on the
console's app behind the layer's one check
(:class:`~bailanys.web.access.Access`), for :data:`PROMPT_ROLES` only:

==========================================  ======================================
``GET /prompts``                            the page (``console/static/prompts.html``)
``GET /api/prompts``                        JSON: ``rows`` (key, flow, lang, state,
                                            text, source, duration_s, imported_at:
                                            :func:`~bailanys.prompts.importer.status_rows`),
                                            ``flows``, ``me``
``POST /api/prompts/upload``                the recording as the body (any of WAV,
                                            MP3, OGG, M4A); ``key``, ``lang``,
                                            ``name`` in the query: the stored entry,
                                            or 400 with a ``code`` the page translates
==========================================  ======================================

The body is at most :data:`~bailanys.web.limits.MAX_AUDIO_UPLOAD_BYTES`
(413 before it is read). Decoding and levelling run in a worker thread,
one at a time (a two-minute recording is a second of a core). The
running engine plays the new recording from its next call: it watches
the manifest (:mod:`bailanys.engine.recorded`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.ivr.model import Flow
from bailanys.prompts.audio import PromptImportError
from bailanys.prompts.importer import (
    builtin_flows,
    import_bytes,
    status_rows,
)
from bailanys.prompts.keys import PromptKey, catalog
from bailanys.prompts.store import RecordedStore
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session
from bailanys.web.limits import MAX_AUDIO_UPLOAD_BYTES
from bailanys.web.responses import response
from bailanys.web.static import StaticFile, page

log = logging.getLogger(__name__)

#: Who may see and change the recorded prompts: what callers hear is the
#: administrator's (a supervisor is refused, 403).
PROMPT_ROLES = frozenset({Role.ADMIN})
JSON_TYPE = "application/json"


class PromptsPort:
    """The page's data: the keys of the flows now served and the recordings' store."""

    def __init__(self, store: RecordedStore, flows: Callable[[], Iterable[Flow]],
                 languages: Sequence[str]) -> None:
        self.store = store
        self.flows = flows
        self.languages = tuple(languages)

    def keys(self) -> dict[str, PromptKey]:
        return catalog(self.flows(), self.languages)

    def rows(self) -> list[dict[str, Any]]:
        return status_rows(self.keys().values(), self.store.entries())

    def put(self, data: bytes, name: str, key: str, lang: str, user: str) -> dict[str, Any]:
        return import_bytes(self.store, self.keys(), data, name, key, lang, user=user)


def engine_flows(current: Callable[[], Iterable[Flow]]) -> Callable[[], list[Flow]]:
    """The flows the engine serves now, then its own (line test, survey; read once)."""
    own: list[Flow] = []

    def flows() -> list[Flow]:
        if not own:
            own.extend(builtin_flows())
        served = list(current())
        names = {f.name for f in served}
        return served + [f for f in own if f.name not in names]

    return flows


def _json(value: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return response(status, body, JSON_TYPE)


def _refusal(code: str, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> Response:
    return _json({"error": code, "message": message}, status)


class PromptsRoutes:
    """The routes of the module's table."""

    def __init__(self, access: Access, port: PromptsPort,
                 static: Mapping[str, StaticFile]) -> None:
        self.access = access
        self.port = port
        self.static = static
        self._imports = asyncio.Semaphore(1)

    def routes(self) -> list[BaseRoute]:
        page_check = self.access.page(PROMPT_ROLES)
        api = self.access.api(PROMPT_ROLES)
        return [
            endpoint("/prompts", page_check(self._page)),
            endpoint("/api/prompts", api(self._list)),
            endpoint("/api/prompts/upload", api(self._upload), ("POST",),
                     max_body=MAX_AUDIO_UPLOAD_BYTES),
        ]

    async def _page(self, request: Request, session: Session) -> Response:
        return page(dict(self.static), "prompts.html")

    async def _list(self, request: Request, session: Session) -> Response:
        rows = await asyncio.to_thread(self.port.rows)
        flows = list(dict.fromkeys(r["flow"] for r in rows))
        user = session.user
        return _json({"rows": rows, "flows": flows,
                      "me": {"login": user.login, "name": user.display_name or user.login,
                             "role": str(user.role)}})

    async def _upload(self, request: Request, session: Session) -> Response:
        params = request.query_params
        key, lang = params.get("key", ""), params.get("lang", "")
        name = Path(params.get("name", "").replace("\\", "/")).name[:200] or "upload"
        if not key or not lang:
            return _refusal("no_key", "key and lang: the prompt the recording is for")
        data = await request.body()
        try:
            async with self._imports:
                entry = await asyncio.to_thread(self.port.put, data, name, key, lang,
                                                session.user.login)
        except PromptImportError as exc:
            return _refusal(exc.code, str(exc))
        log.info("prompts: %s recorded %s [%s] from %s (%.1f s, %.1f -> %.1f dBFS)",
                 session.user.login, key, lang, name, entry["duration_s"],
                 entry["loudness_before_dbfs"], entry["loudness_after_dbfs"])
        return _json(entry)


def prompts_routes(port: PromptsPort
                   ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The page's routes for the console's ``extra_routes``."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return PromptsRoutes(access, port, static).routes()

    return build
