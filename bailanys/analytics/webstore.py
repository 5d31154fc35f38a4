"""The analysts' page's port for real: the store's transcripts, read-only.

:class:`StoreAnalytics` is :class:`~bailanys.analytics.web.Analytics` over
the store file (``[store] path``): :func:`bailanys.analytics.search.search`
and :func:`bailanys.analytics.transcripts.read_call`. Its methods block;
the page runs them in worker threads, so each call opens its own
connection (``mode=ro``, ``query_only``: the page can never write the
store) and closes it: an SQLite connection belongs to one thread, and
opening one costs well under a millisecond against the search's budget
of 20 ms.

Recordings: the call's facts name its WAV (``recording.closed``'s path);
only a regular ``.wav`` file inside ``[media] record_dir`` is served, so a
damaged or hostile row cannot make the page send any other file.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

from bailanys.analytics import search as search_mod
from bailanys.analytics import transcripts
from bailanys.analytics.model import Utterance
from bailanys.analytics.searchtypes import SearchQuery, SearchResult
from bailanys.analytics.web import CallView

log = logging.getLogger(__name__)

#: Seconds a read waits for the event writer's transaction (WAL readers
#: rarely wait at all).
BUSY_TIMEOUT_S = 5.0


class StoreAnalytics:
    """The page's data from the store file ``db_path``; recordings under ``record_dir``."""

    def __init__(self, db_path: Path, record_dir: Path) -> None:
        self.db_path = db_path
        self.record_dir = record_dir

    def _connect(self) -> sqlite3.Connection:
        uri = self.db_path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S,
                               check_same_thread=True)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def search(self, query: SearchQuery, *, complete: bool = False) -> SearchResult:
        try:
            with closing(self._connect()) as conn:
                return search_mod.search(conn, query, complete=complete)
        except sqlite3.Error as exc:
            log.warning("analytics: search in %s failed: %s", self.db_path, exc)
            return SearchResult((), 0, query.page, query.per_page, (), error="failed")

    def _read(self, call_id: str) -> transcripts.CallTranscript | None:
        try:
            with closing(self._connect()) as conn:
                return transcripts.read_call(conn, call_id)
        except sqlite3.Error as exc:
            log.warning("analytics: reading call %s from %s failed: %s", call_id,
                        self.db_path, exc)
            return None

    def call(self, call_id: str) -> CallView | None:
        stored = self._read(call_id)
        if stored is None:
            return None
        utts = tuple(Utterance(u.channel, u.language, u.words) for u in stored.utterances)
        f = stored.facts
        if f is None:
            return CallView(call_id, utts)
        return CallView(call_id, utts, started=f.started, queue=f.queue, agent=f.agent,
                        language=f.language, topic=f.topic, disposition=f.disposition,
                        outcome=f.outcome, duration=f.duration, wait=f.wait,
                        survey_score=f.survey_score,
                        has_recording=self._inside(f.recording) is not None)

    def recording(self, call_id: str) -> Path | None:
        stored = self._read(call_id)
        return None if stored is None or stored.facts is None else \
            self._inside(stored.facts.recording)

    def _inside(self, recording: str | None) -> Path | None:
        """The recording's file if it is a ``.wav`` inside ``record_dir``, else None."""
        if not recording:
            return None
        path = Path(recording)
        if not path.is_absolute():
            path = self.record_dir / path.name
        try:
            real, root = path.resolve(), self.record_dir.resolve()
        except (OSError, RuntimeError):
            return None
        if real.suffix.lower() != ".wav" or not real.is_relative_to(root) or not real.is_file():
            return None
        return real
