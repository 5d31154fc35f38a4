"""One report, built and written: the builders and the renderer by their contract names.

Issue 17, "Reports": the CLI (``commands.py``) and the analysts' page
(``webstore.py``) both make a report here, so both give the same bytes for
the same request. The builders and the renderer are imported when first
used (``semiannual``, ``quarterly``, ``feedback``, ``organisation``,
``topics``, ``render``: CONTRACTS17.md), so the console starts even where
one is missing, and tests put fakes in their place (:class:`Parts`).

Blocking (store reads through ``store.syncdb``: SQLite or PostgreSQL;
matplotlib, XlsxWriter, reportlab): callers run it in a worker thread,
never on the event loop. What goes wrong is a
:class:`ReportError` with a ``code`` the page translates and a message for
the CLI: a profile or classifier file with problems (``sources``), a part
not installed (``unavailable``), a builder or renderer that failed
(``failed``, its cause chained: the page's route logs it with the
traceback, the CLI says it in one line; never shown to the browser).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from bailanys.config import Config
from bailanys.errors import BailanysError
from bailanys.reports.document import Document
from bailanys.reports.params import ReportKind, ReportRequest
from bailanys.store.syncdb import STORE_ERRORS, SyncConnection, connect_sync, dialect_of
from bailanys.storeurl import redact

log = logging.getLogger(__name__)

#: Seconds a read waits for the event writer's transaction (WAL readers rarely wait).
BUSY_TIMEOUT_S = 5.0


class ReportError(BailanysError):
    """A report cannot be made: ``code`` for the page, an HTTP ``status``, ``problems``
    (``file:line: field: message`` lines of a profile, classifier or CSV file)."""

    def __init__(self, code: str, message: str,
                 status: HTTPStatus = HTTPStatus.UNPROCESSABLE_ENTITY,
                 problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.problems = problems


def module(name: str) -> Any:
    """``bailanys.reports.<name>``, imported on first use; missing: ``unavailable``."""
    try:
        return importlib.import_module(f"bailanys.reports.{name}")
    except ImportError as exc:
        raise ReportError("unavailable", f"bailanys.reports.{name} is not installed: {exc}",
                          HTTPStatus.SERVICE_UNAVAILABLE) from exc


def _problems(exc: BaseException) -> tuple[str, ...]:
    found = getattr(exc, "problems", None) or ()
    return tuple(str(p) for p in found)


def _source(what: str, load: Callable[[], Any]) -> Any:
    """A file the report reads (the organisation profile, the topic tree), loaded;
    its problems as ``sources``."""
    try:
        return load()
    except ReportError:
        raise
    except (BailanysError, OSError, ValueError) as exc:
        problems = _problems(exc)
        said = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}" if problems \
            else str(exc)
        raise ReportError("sources", f"{what}: {said}", problems=problems) from exc


@dataclass(frozen=True)
class Parts:
    """Where the builders and the renderer come from (tests: fakes)."""

    find: Callable[[str], Any] = module

    def topics(self, config: Config) -> Any:
        path = Path(config.reports.topics)
        return _source("reports.topics", lambda: self.find("topics").load(path))

    def organisation(self, config: Config) -> Any:
        path = Path(config.reports.organisation)
        return _source("reports.organisation", lambda: self.find("organisation").load(path))

    def build(self, conn: SyncConnection, request: ReportRequest,
              config: Config) -> Document:
        """The request's :class:`Document`, in its language."""
        period, lang = request.period, request.lang
        topics = self.topics(config)
        doc: Document
        if request.kind is ReportKind.SEMIANNUAL:
            org = self.organisation(config)
            doc = self.find("semiannual").build(conn, period.text, lang, org, topics, config)
        elif request.kind is ReportKind.QUARTERLY:
            doc = self.find("quarterly").build(conn, period.text, lang, topics, config)
        else:
            doc = self.find("feedback").build(conn, period.since, period.until, lang, topics)
        return doc

    def write(self, doc: Document, fmt: str) -> bytes:
        return bytes(self.find("render").write(doc, fmt))


def connect_ro(db_path: Path | str) -> SyncConnection:
    """The store (its file or a ``postgresql://`` URL), read-only (SQLite:
    ``mode=ro``, ``query_only``; PostgreSQL: a read-only session): a report
    never writes."""
    conn = connect_sync(db_path, readonly=True, timeout=BUSY_TIMEOUT_S)
    if dialect_of(conn) == "sqlite":
        conn.execute("PRAGMA query_only = ON")
    return conn


def produce(db_path: Path | str, request: ReportRequest, config: Config,
            parts: Parts | None = None) -> bytes:
    """The report's bytes in the request's format (blocking)."""
    parts = parts if parts is not None else Parts()
    try:
        with closing(connect_ro(db_path)) as conn:
            doc = parts.build(conn, request, config)
        return parts.write(doc, request.fmt)
    except ReportError:
        raise
    except STORE_ERRORS as exc:
        log.warning("reports: the store %s failed: %s", redact(str(db_path)), exc)
        raise ReportError("store", f"the store cannot be read: {exc}",
                          HTTPStatus.SERVICE_UNAVAILABLE) from exc
    except Exception as exc:  # a builder's or the renderer's bug: the cause goes with it
        raise ReportError("failed", "the report could not be made (the log says why)",
                          HTTPStatus.INTERNAL_SERVER_ERROR) from exc
