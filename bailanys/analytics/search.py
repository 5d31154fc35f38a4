"""The analysts' search over the transcripts: SQLite FTS5 plus the calls' facts.

Issue 15 ("Search" and the benchmark's p95 < 20 ms). The query language is
:mod:`bailanys.analytics.query` (words, "exact phrases", AND/OR/NOT,
NEAR(a b, n), ``caller:``/``agent:``); the filters are
:class:`~bailanys.analytics.searchtypes.Filters`. Synchronous over one
``sqlite3.Connection``: the web layer runs it in a thread with its own
connection.

How it stays fast: one statement walks the FTS5 matches once (FTS5 first,
then each matched utterance's call row by primary key), keeps one row per
call (its best utterance by bm25, ``min(rank)``) in a materialised CTE, and
from that CTE returns both the requested page (ORDER BY ... LIMIT) and the
per-day counts (one GROUP BY). Only the page's ≤ ``per_page`` utterances are
read in full and cut into snippets in Python.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from bailanys.analytics.model import Channel
from bailanys.analytics.query import MIXED_CHANNELS, QueryError, parse, positive_terms, to_fts
from bailanys.analytics.searchtypes import Filters, Hit, SearchQuery, SearchResult, Sort
from bailanys.analytics.snippets import snippet

log = logging.getLogger(__name__)

#: The page shows 20 results; 100 bounds what one request may ask for (the
#: CSV export pages through with this size).
MAX_PER_PAGE: Final = 100
#: Deep pages cost an OFFSET walk; nobody reads 10,000 results page by page.
MAX_PAGE: Final = 500

BAD_PAGE: Final = "bad_page"
BAD_FILTER: Final = "bad_filter"
FAILED: Final = "failed"

_ORDER: Final = {
    Sort.RELEVANCE: "score, started DESC",
    Sort.NEWEST: "started DESC, call_id",
    Sort.OLDEST: "started, call_id",
}


def _filter_sql(f: Filters, channel: Channel | None) -> tuple[list[str], list[Any]]:
    """WHERE clauses (on ``u`` utterances, ``c`` calls) and their parameters."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("queue", f.queue), ("agent", f.agent), ("language", f.language),
                          ("topic", f.topic), ("disposition", f.disposition),
                          ("outcome", f.outcome)):
        if value:
            where.append(f"c.{column} = ?")
            args.append(value)
    for clause, number in (("c.started >= ?", f.since), ("c.started < ?", f.until),
                           ("c.duration >= ?", f.min_duration),
                           ("c.duration <= ?", f.max_duration)):
        if number is not None:
            where.append(clause)
            args.append(float(number))
    if channel is not None:
        where.append("u.channel = ?")
        args.append(channel.value)
    return where, args


def _statement(where: Sequence[str], sort: Sort) -> str:
    extra = "".join(f" AND {w}" for w in where)
    return f"""
WITH pc AS MATERIALIZED (
    SELECT u.call_id AS call_id, u.id AS uid, min(f.rank) AS score,
           c.day AS day, c.started AS started
    FROM utterances_fts AS f
    JOIN utterances AS u ON u.id = f.rowid
    JOIN analytics_calls AS c ON c.call_id = u.call_id
    WHERE utterances_fts MATCH ?{extra}
    GROUP BY u.call_id
)
SELECT * FROM (SELECT 0, call_id, uid, score FROM pc ORDER BY {_ORDER[sort]} LIMIT ? OFFSET ?)
UNION ALL
SELECT 1, day, count(*), NULL FROM pc GROUP BY day
"""


_PAGE_ROWS: Final = """
SELECT u.id, u.call_id, u.channel, u.start, u.text, u.words, u.terms,
       coalesce(u.language, c.language), c.started, c.agent, c.queue
FROM utterances AS u JOIN analytics_calls AS c ON c.call_id = u.call_id
WHERE u.id IN ({})
"""


def _error(q: SearchQuery, code: str) -> SearchResult:
    return SearchResult(hits=(), total=0, page=q.page, per_page=q.per_page, per_day=(),
                        error=code)


def _valid(q: SearchQuery) -> str | None:
    if not 1 <= q.page <= MAX_PAGE or not 1 <= q.per_page <= MAX_PER_PAGE:
        return BAD_PAGE
    f = q.filters
    numbers = (f.since, f.until, f.min_duration, f.max_duration)
    if any(n is not None and not isinstance(n, (int, float)) for n in numbers):
        return BAD_FILTER
    return None


def search(conn: sqlite3.Connection, q: SearchQuery) -> SearchResult:
    """Run one search; a bad query or filter gives ``SearchResult.error``, never a raise."""
    if (bad := _valid(q)) is not None:
        return _error(q, bad)
    try:
        parsed = parse(q.text)
        match = to_fts(parsed.node)
    except QueryError as exc:
        return _error(q, exc.code)
    channel = parsed.channel or q.filters.channel
    if parsed.channel and q.filters.channel and parsed.channel is not q.filters.channel:
        return _error(q, MIXED_CHANNELS)
    where, args = _filter_sql(q.filters, channel)
    offset = (q.page - 1) * q.per_page
    try:
        rows = conn.execute(_statement(where, q.sort),
                            [match, *args, q.per_page, offset]).fetchall()
    except sqlite3.OperationalError as exc:  # e.g. an FTS5 limit; logged, never shown raw
        log.warning("search %r failed: %s", match, exc)
        return _error(q, FAILED)
    page = [(str(r[1]), int(r[2]), float(r[3])) for r in rows if r[0] == 0]
    per_day = tuple(sorted((str(r[1]), int(r[2])) for r in rows if r[0] == 1))
    hits = _hits(conn, page, positive_terms(parsed.node))
    return SearchResult(hits=hits, total=sum(n for _, n in per_day), page=q.page,
                        per_page=q.per_page, per_day=per_day)


def _hits(conn: sqlite3.Connection, page: list[tuple[str, int, float]],
          wanted: frozenset[str]) -> tuple[Hit, ...]:
    """The page's hits, in the page's order, with their snippets and offsets."""
    if not page:
        return ()
    ids = [uid for _, uid, _ in page]
    sql = _PAGE_ROWS.format(",".join("?" * len(ids)))
    rows = {int(r[0]): r for r in conn.execute(sql, ids)}
    hits: list[Hit] = []
    for call_id, uid, score in page:
        r = rows.get(uid)
        if r is None:  # deleted between the two statements (a job re-written)
            continue
        frags, offset = snippet(r[4], r[6], r[5], wanted, float(r[3]))
        hits.append(Hit(call_id=call_id, utterance_id=uid, channel=Channel(r[2]),
                        offset=offset, started=float(r[8]), agent=r[9], queue=r[10],
                        language=str(r[7] or ""), snippet=frags, score=-score))
    return tuple(hits)
