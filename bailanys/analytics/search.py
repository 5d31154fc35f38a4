"""The analysts' search over the transcripts: SQLite FTS5 plus the calls' facts.

Issue 15 ("Search" and the benchmark's p95 < 20 ms). The query language is
:mod:`bailanys.analytics.query` (words, "exact phrases", AND/OR/NOT,
NEAR(a b, n), ``caller:``/``agent:``); the filters are
:class:`~bailanys.analytics.searchtypes.Filters`. Synchronous over one
``sqlite3.Connection``: the web layer runs it in a thread with its own
connection.

How it stays fast: an utterance's id holds its call's key and channel
(:mod:`bailanys.analytics.transcripts`), so one statement walks the newest
:data:`SCAN_LIMIT` FTS5 matches as bare rowids (``ORDER BY rowid DESC``
runs FTS5's doclists backwards), folds them to one row per call key, reads
each call's row by primary key (filters, day, start), and returns the page
(ORDER BY ... LIMIT), the per-day counts (one GROUP BY) and how many matches
it read. Only the page's ≤ ``per_page`` utterances are read in full and cut
into snippets in Python.

Relevance is call-level: the calls in which most utterances match come
first, then the newest; the hit is the call's first matching utterance
(the caller's side before the agent's: the lowest id).
FTS5's bm25 is not used: it counts every document holding each term before
ranking the first one (~6 ms for a word said in half the calls at 200,000
calls, measured with bench/search_index.py), over the whole 20 ms budget's
share for ranking.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, Final

from bailanys.analytics.model import Channel
from bailanys.analytics.query import MIXED_CHANNELS, QueryError, parse, positive_terms, to_fts
from bailanys.analytics.searchtypes import Filters, Hit, SearchQuery, SearchResult, Sort
from bailanys.analytics.snippets import snippet
from bailanys.analytics.transcripts import CHANNEL_SHIFT, KEY_SHIFT

log = logging.getLogger(__name__)

#: The page shows 20 results; 100 bounds what one request may ask for (the
#: CSV export pages through with this size).
MAX_PER_PAGE: Final = 100
#: Deep pages cost an OFFSET walk; nobody reads 10,000 results page by page.
MAX_PAGE: Final = 500

BAD_PAGE: Final = "bad_page"
BAD_FILTER: Final = "bad_filter"
FAILED: Final = "failed"

#: Most matched utterances one search reads, newest first (about 1 us each
#: with the fold to calls). A query matching more (a word said in many calls)
#: answers for the newest ones and says so (``partial``): the 20 ms budget of
#: issue 15, sized with bench/search_index.py.
SCAN_LIMIT: Final = 3_000
#: A filter on an agent or a queue leaving at most this many calls is applied
#: inside the FTS5 scan (a set of call keys), so the scan limit counts only
#: its calls; other filters are applied to the scanned calls.
KEYSET_MAX: Final = 5_000
#: ... among at most this many newest matches (bare rowids, ~0.1 us each).
KEYSET_SCAN: Final = 20_000

ORDER: Final = {
    Sort.RELEVANCE: "n DESC, started DESC, call_id",
    Sort.NEWEST: "started DESC, call_id",
    Sort.OLDEST: "started, call_id",
}


def filter_sql(f: Filters) -> tuple[list[str], dict[str, Any]]:
    """WHERE clauses on ``c`` (the calls) and their named parameters."""
    where: list[str] = []
    args: dict[str, Any] = {}
    for column, value in (("queue", f.queue), ("agent", f.agent), ("language", f.language),
                          ("topic", f.topic), ("disposition", f.disposition),
                          ("outcome", f.outcome)):
        if value:
            where.append(f"c.{column} = :{column}")
            args[column] = value
    for name, clause, number in (("since", "c.started >= :since", f.since),
                                 ("until", "c.started < :until", f.until),
                                 ("dmin", "c.duration >= :dmin", f.min_duration),
                                 ("dmax", "c.duration <= :dmax", f.max_duration)):
        if number is not None:
            where.append(clause)
            args[name] = float(number)
    return where, args


@dataclass(frozen=True, slots=True)
class Plan:
    where: tuple[str, ...]  # on the calls
    keyset: bool  # the filter is selective: applied inside the scan
    key_range: bool  # the period (or the key set's scan floor) bounds the ids (:lo, :hi)
    capped: bool  # the key set's scan stopped at KEYSET_SCAN matches
    channel: Channel | None
    sort: Sort


def _match_conds(key_range: bool, channel: Channel | None) -> str:
    conds = "utterances_fts MATCH :match"
    if key_range:
        conds += " AND f.rowid >= :lo AND f.rowid < :hi"
    if channel is not None:
        conds += f" AND (f.rowid >> {CHANNEL_SHIFT}) & 1 = {channel.wav_channel}"
    return conds


def _statement(p: Plan, complete: bool = False) -> str:
    """One statement: the page's (call, utterance, score), per-day counts, scanned count
    (every match when ``complete``, else the newest SCAN_LIMIT)."""
    conds = _match_conds(p.key_range, p.channel)
    bound = "" if complete else f"ORDER BY f.rowid DESC LIMIT {SCAN_LIMIT + 1}"
    where = " AND ".join(p.where)
    if p.keyset:
        conds += (f" AND f.rowid >> {KEY_SHIFT} IN "
                  f"(SELECT c.id FROM analytics_calls AS c WHERE {where})")
    late = f" WHERE {where}" if p.where and not p.keyset else ""
    return f"""
WITH k AS MATERIALIZED (
    SELECT uid >> {KEY_SHIFT} AS k, min(uid) AS uid, count(*) AS n FROM (
        SELECT f.rowid AS uid FROM utterances_fts AS f WHERE {conds}
        {bound}
    ) GROUP BY 1
),
pc AS MATERIALIZED (
    SELECT c.id AS k, c.call_id AS call_id, k.uid AS uid, k.n AS n, c.day AS day,
           c.started AS started
    FROM k JOIN analytics_calls AS c ON c.id = k.k{late}
),
page AS (
    SELECT call_id, uid, n AS score FROM pc ORDER BY {ORDER[p.sort]} LIMIT :limit OFFSET :offset
)
SELECT 0, call_id, uid, score FROM page
UNION ALL
SELECT 1, day, count(*), NULL FROM pc GROUP BY day
UNION ALL
SELECT 2, NULL, coalesce(sum(n), 0), NULL FROM k
"""


def _plan(conn: sqlite3.Connection, q: SearchQuery, channel: Channel | None,
          where: list[str], args: dict[str, Any], complete: bool = False) -> Plan:
    """Choose how the filters apply; adds the utterance id range (:lo, :hi) to ``args``."""
    f = q.filters
    keyset = capped = False
    if f.agent or f.queue:  # indexed (analytics_calls_agent/_queue): the probe is cheap
        few = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM analytics_calls AS c WHERE "
                           f"{' AND '.join(where)} LIMIT {KEYSET_MAX + 1})", args).fetchone()
        keyset = int(few[0]) <= KEYSET_MAX
    key_range = f.since is not None or f.until is not None
    if key_range:
        lo, hi = conn.execute(
            "SELECT min(id), max(id) FROM analytics_calls WHERE started >= ? AND started < ?",
            (float(f.since if f.since is not None else "-inf"),
             float(f.until if f.until is not None else "inf")),
        ).fetchone()
        args["lo"] = 0 if lo is None else int(lo) << KEY_SHIFT
        args["hi"] = 0 if hi is None else (int(hi) + 1) << KEY_SHIFT
    if keyset and not complete:  # bound the scan: among the newest KEYSET_SCAN matches
        floor, n = conn.execute(
            f"SELECT min(uid), count(*) FROM (SELECT f.rowid AS uid FROM utterances_fts AS f "
            f"WHERE {_match_conds(key_range, channel)} ORDER BY f.rowid DESC "
            f"LIMIT {KEYSET_SCAN + 1})", args).fetchone()
        if int(n) > KEYSET_SCAN:
            capped = True
            args["lo"] = max(int(floor), int(args.get("lo", 0)))
            args.setdefault("hi", 1 << 62)
            key_range = True
    return Plan(tuple(where), keyset, key_range, capped, channel, q.sort)


_PAGE_ROWS: Final = """
SELECT u.id, u.call_id, u.channel, u.start, u.text, u.words, u.terms,
       coalesce(u.language, c.language), c.started, c.agent, c.queue
FROM utterances AS u JOIN analytics_calls AS c ON c.id = u.id >> {shift}
WHERE u.id IN ({0})
"""


def error_result(q: SearchQuery, code: str) -> SearchResult:
    return SearchResult(hits=(), total=0, page=q.page, per_page=q.per_page, per_day=(),
                        error=code)


def valid(q: SearchQuery) -> str | None:
    if not 1 <= q.page <= MAX_PAGE or not 1 <= q.per_page <= MAX_PER_PAGE:
        return BAD_PAGE
    f = q.filters
    numbers = (f.since, f.until, f.min_duration, f.max_duration)
    if any(n is not None and not isinstance(n, (int, float)) for n in numbers):
        return BAD_FILTER
    return None


def search(conn: sqlite3.Connection, q: SearchQuery, *, complete: bool = False) -> SearchResult:
    """Run one search; a bad query or filter gives ``SearchResult.error``, never a raise.

    ``complete``: read every match, not the newest :data:`SCAN_LIMIT`: exact
    totals and per-day counts, and every call for the CSV export, at the
    cost of time (the page asks for them after the fast answer, when that
    one is ``partial``)."""
    if (bad := valid(q)) is not None:
        return error_result(q, bad)
    try:
        parsed = parse(q.text)
        match = to_fts(parsed.node)
    except QueryError as exc:
        return error_result(q, exc.code)
    channel = parsed.channel or q.filters.channel
    if parsed.channel and q.filters.channel and parsed.channel is not q.filters.channel:
        return error_result(q, MIXED_CHANNELS)
    where, args = filter_sql(q.filters)
    args.update(match=match, limit=q.per_page, offset=(q.page - 1) * q.per_page)
    relevance = q.sort is Sort.RELEVANCE
    try:
        plan = _plan(conn, q, channel, where, args, complete)
        rows = conn.execute(_statement(plan, complete), args).fetchall()
    except sqlite3.OperationalError as exc:  # e.g. an FTS5 limit; logged, never shown raw
        log.warning("search %r failed: %s", match, exc)
        return error_result(q, FAILED)
    page = [(str(r[1]), int(r[2]), float(r[3]) if relevance else 0.0)
            for r in rows if r[0] == 0]
    per_day = tuple(sorted((str(r[1]), int(r[2])) for r in rows if r[0] == 1))
    scanned = sum(int(r[2]) for r in rows if r[0] == 2)
    hits = _hits(conn, page, positive_terms(parsed.node))
    return SearchResult(hits=hits, total=sum(n for _, n in per_day), page=q.page,
                        per_page=q.per_page, per_day=per_day,
                        partial=not complete and (scanned > SCAN_LIMIT or plan.capped))


def _hits(conn: sqlite3.Connection, page: list[tuple[str, int, float]],
          wanted: frozenset[str]) -> tuple[Hit, ...]:
    """The page's hits, in the page's order, with their snippets and offsets."""
    if not page:
        return ()
    ids = [uid for _, uid, _ in page]
    sql = _PAGE_ROWS.format(",".join("?" * len(ids)), shift=KEY_SHIFT)
    rows = {int(r[0]): r for r in conn.execute(sql, ids)}
    hits: list[Hit] = []
    for call_id, uid, score in page:
        r = rows.get(uid)
        if r is None:  # deleted between the two statements (a job re-written)
            continue
        frags, offset = snippet(r[4], r[6], r[5], wanted, float(r[3]))
        hits.append(Hit(call_id=call_id, utterance_id=uid, channel=Channel(r[2]),
                        offset=offset, started=float(r[8]), agent=r[9], queue=r[10],
                        language=str(r[7] or ""), snippet=frags, score=score))
    return tuple(hits)
