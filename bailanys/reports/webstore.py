"""The Reports page's port for real: reports, the reminder, complaints and imports.

:class:`StoreReports` is :class:`~bailanys.reports.web.ReportsPort` over the
store (the SQLite file or the ``postgresql://`` URL, issue 22) and the config:

* a report: :func:`bailanys.reports.produce.produce` (the builders and the
  renderer, the same code path as ``bailanys report``);
* the reminder: ``semiannual.due(today, config)`` (slice form);
* complaints about the centre (Appendix 2 row 20): the ``contacts`` rows
  marked ``complaint`` (schema v6), the supervisor's verdict as the
  projector folded it from ``complaint.confirmed``;
* other channels' contacts: ``imports.import_csv`` (slice contacts: one
  batch in one transaction, on ``projector.connect``'s connection); the
  batches from ``contact_imports``.

Each call opens its own connection in the worker thread it runs in and
closes it (like ``analytics/webstore.py``); reads are ``mode=ro``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from bailanys.config import Config
from bailanys.errors import BailanysError
from bailanys.reports.params import ReportRequest
from bailanys.reports.produce import Parts, ReportError, connect_ro, produce
from bailanys.store.syncdb import STORE_ERRORS
from bailanys.storeurl import redact
from bailanys.timezone import ALMATY

log = logging.getLogger(__name__)


@contextmanager
def _store(db_path: Path | str) -> Iterator[None]:
    """A failing store (locked past the busy timeout, damaged, absent, the
    server down) as ``store``."""
    try:
        yield
    except STORE_ERRORS as exc:
        log.warning("reports: the store %s failed: %s", redact(str(db_path)), exc)
        raise ReportError("store", "the store cannot be read",
                          HTTPStatus.SERVICE_UNAVAILABLE) from exc


class StoreReports:
    """The page's data from ``db_path`` and ``config``; ``parts``: the builders (tests)."""

    def __init__(self, db_path: Path | str, config: Config, parts: Parts | None = None) -> None:
        self.db_path = db_path
        self.config = config
        self.parts = parts if parts is not None else Parts()

    def report(self, request: ReportRequest) -> bytes:
        return produce(self.db_path, request, self.config, self.parts)

    def due(self, today: dt.date) -> tuple[str, dt.date] | None:
        """``semiannual.due``: the half-year whose form is due and by when, or None."""
        found = self.parts.find("semiannual").due(today, self.config)
        if found is None:
            return None
        period, day = found
        return str(period), day

    def complaints(self, since: dt.date, until: dt.date,
                   limit: int) -> Sequence[Mapping[str, Any]]:
        """The period's complaints about the centre: undecided first, then newest."""
        with _store(self.db_path), closing(connect_ro(self.db_path)) as conn:
            rows = conn.execute(
                "SELECT call_id, started, queue, agent, topic, complaint_confirmed"
                " FROM contacts WHERE complaint = 1 AND call_id IS NOT NULL"
                " AND day BETWEEN ? AND ?"
                " ORDER BY complaint_confirmed IS NOT NULL, started DESC LIMIT ?",
                (since.isoformat(), until.isoformat(), limit)).fetchall()
        return [{"call_id": r[0], "started": r[1], "queue": r[2], "agent": r[3],
                 "topic": r[4], "confirmed": None if r[5] is None else bool(r[5])}
                for r in rows]

    def is_complaint(self, call_id: str) -> bool | None:
        """Whether the call is a complaint about the centre; None: no such contact."""
        with _store(self.db_path), closing(connect_ro(self.db_path)) as conn:
            row = conn.execute("SELECT complaint FROM contacts WHERE call_id = ?",
                               (call_id,)).fetchone()
        return None if row is None else bool(row[0])

    def import_csv(self, data: bytes, name: str, since: dt.date, until: dt.date,
                   user: str, lang: str = "en") -> Mapping[str, Any]:
        """Other channels' contacts: ``imports.import_csv`` (slice contacts) on the
        projector's connection (autocommit: the import holds its own
        transaction), topics checked against the classifier; the file's
        problems refuse it whole (``bad_csv``, every line listed)."""
        imports, projector = self.parts.find("imports"), self.parts.find("projector")
        topics = projector.classifier_ids(self.config.reports.topics)
        with _store(self.db_path), closing(projector.connect(self.db_path)) as conn:
            try:
                result = imports.import_csv(conn, data, name, since, until, ALMATY,
                                            topics=topics, user=user, lang=lang)
            except (BailanysError, ValueError) as exc:
                problems = [str(p) for p in getattr(exc, "problems", ()) or ()]
                more = str(exc).rsplit("\n", 1)[-1]
                if more.startswith("..."):  # "... and 12 more problems"
                    problems.append(more)
                raise ReportError("bad_csv", f"{name}: nothing imported",
                                  HTTPStatus.BAD_REQUEST, tuple(problems)) from exc
        return {"batch": result.batch, "rows": result.contacts, "replaced": result.replaced}

    def imports(self, limit: int) -> Sequence[Mapping[str, Any]]:
        """The latest import batches."""
        with _store(self.db_path), closing(connect_ro(self.db_path)) as conn:
            rows = conn.execute(
                'SELECT id, name, since, until, rows, imported, "user" FROM contact_imports'
                " ORDER BY imported DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [{"id": r[0], "name": r[1], "since": r[2], "until": r[3], "rows": r[4],
                 "imported": r[5], "user": r[6]} for r in rows]
