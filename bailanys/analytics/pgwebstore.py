"""The analysts' page's port on PostgreSQL: search and a call's transcript (issue 22).

:class:`PgStoreAnalytics` is :class:`~bailanys.analytics.webstore.StoreAnalytics`
over a PostgreSQL store: :func:`bailanys.analytics.pgsearch.search` and
:func:`read_call` in PostgreSQL's SQL; recordings are served exactly as on
SQLite (a ``.wav`` inside ``[media] record_dir``). Each call opens its own
short read-only connection in the page's worker thread (a connection
belongs to one thread at a time). :func:`store_analytics` chooses the class
by the store's location, as the workers' job queue does.
"""

from __future__ import annotations

import logging
from contextlib import closing
from pathlib import Path
from typing import Any, Final

import psycopg

from bailanys.analytics import pgsearch
from bailanys.analytics.backend import is_postgres, redact
from bailanys.analytics.facts import CallFacts
from bailanys.analytics.model import Channel
from bailanys.analytics.searchtypes import SearchQuery, SearchResult
from bailanys.analytics.transcripts import PENDING, CallTranscript, StoredUtterance, parse_words
from bailanys.analytics.webstore import StoreAnalytics

log = logging.getLogger(__name__)

#: Seconds to reach the database; a search never waits longer than this on it.
CONNECT_TIMEOUT_S: Final = 5
STATEMENT_TIMEOUT_MS: Final = 30_000

_FACTS: Final = (
    "SELECT call_id, started, day, outcome, ended, queue, agent, language, topic, "
    "disposition, duration, wait, survey_score, recording FROM analytics_calls WHERE call_id = %s"
)
_UTTERANCES: Final = (
    'SELECT id, channel, language, start, "end", text, words FROM utterances '
    "WHERE call_id = %s ORDER BY start, id"
)


def read_call(conn: psycopg.Connection[Any], call_id: str) -> CallTranscript | None:
    """As :func:`bailanys.analytics.transcripts.read_call`, on PostgreSQL."""
    row = conn.execute(_FACTS, (call_id,)).fetchone()
    facts = None if row is None or row[3] == PENDING else CallFacts(*row)
    rows = conn.execute(_UTTERANCES, (call_id,)).fetchall()
    if facts is None and not rows:
        return None
    utts = tuple(StoredUtterance(int(r[0]), Channel(r[1]), str(r[2]), float(r[3]), float(r[4]),
                                 str(r[5]), parse_words(r[6])) for r in rows)
    return CallTranscript(call_id, facts, utts)


class PgStoreAnalytics(StoreAnalytics):
    """The page's data from the PostgreSQL store at ``url``."""

    def __init__(self, url: str, record_dir: Path) -> None:
        super().__init__(Path(), record_dir)
        self.url = url

    def _pg(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
            options=f"-c default_transaction_read_only=on "
                    f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            application_name="bailanys-analytics")

    def search(self, query: SearchQuery, *, complete: bool = False) -> SearchResult:
        try:
            with closing(self._pg()) as conn:
                return pgsearch.search(conn, query, complete=complete)
        except psycopg.Error as exc:
            log.warning("analytics: search in %s failed: %s", redact(self.url), exc)
            return SearchResult((), 0, query.page, query.per_page, (), error="failed")

    def _read(self, call_id: str) -> CallTranscript | None:
        try:
            with closing(self._pg()) as conn:
                return read_call(conn, call_id)
        except psycopg.Error as exc:
            log.warning("analytics: reading call %s from %s failed: %s", call_id,
                        redact(self.url), exc)
            return None


def store_analytics(store: str, record_dir: Path) -> StoreAnalytics:
    """The page's port for the store at ``store`` (a SQLite path or a PostgreSQL URL)."""
    if is_postgres(store):
        return PgStoreAnalytics(store, record_dir)
    return StoreAnalytics(Path(store), record_dir)
