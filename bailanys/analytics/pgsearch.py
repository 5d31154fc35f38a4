"""The analysts' search on PostgreSQL: full-text search over ``tsv``, the same answers as SQLite.

Issue 22. The same :class:`~bailanys.analytics.searchtypes.SearchQuery` in,
the same :class:`~bailanys.analytics.searchtypes.SearchResult` out, as
:func:`bailanys.analytics.search.search` on SQLite: the query language is
parsed by :mod:`bailanys.analytics.query` and written as a ``tsquery`` by
:mod:`bailanys.analytics.tsquery`; the index is the GIN over
``utterances.tsv`` (:mod:`bailanys.store.pg_analytics`).

The statement is the SQLite one's shape (see :mod:`bailanys.analytics.search`):
the newest :data:`~bailanys.analytics.search.SCAN_LIMIT` matching utterance
ids, folded to one row per call key (``id >> 16``), the calls' rows by
primary key for the filters and the day, per-day counts, and the page. The
plan choices (a selective agent or queue filter inside the scan, a period
as an id range, the scan's cap) are the same, so the same query finds the
same calls in the same order on both stores. Only the newest matches are
found differently: PostgreSQL's GIN index cannot be read newest first as
FTS5's doclists can, so :func:`_scan` walks windows of call keys down from
the newest (``utterances_search``, the narrow table the index covers).

Synchronous over one psycopg connection, like the SQLite search over one
``sqlite3`` connection: the page runs it in a thread.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

import psycopg

from bailanys.analytics import search as sq
from bailanys.analytics.model import Channel
from bailanys.analytics.query import MIXED_CHANNELS, QueryError, parse, positive_terms
from bailanys.analytics.searchtypes import Hit, SearchQuery, SearchResult, Sort
from bailanys.analytics.snippets import snippet
from bailanys.analytics.transcripts import KEY_SHIFT
from bailanys.analytics.tsquery import needs_recheck, recheck, to_tsquery

log = logging.getLogger(__name__)

PgConn = psycopg.Connection[Any]

_NAMED: Final = re.compile(r":(\w+)")
#: The first window of :func:`_scan`, in calls (about 10 utterances each):
#: walked by the primary key, a few milliseconds whatever the query.
PROBE_CALLS: Final = 300
#: Matches per call from which a window is read by the primary key, not the GIN.
DENSE_PER_CALL: Final = 1.0


def _pg(sql: str) -> str:
    """Our SQLite-style ``:name`` parameters as psycopg's ``%(name)s``."""
    return _NAMED.sub(r"%(\1)s", sql)


def _match_conds(key_range: bool, channel: Channel | None, exact_sql: str = "") -> str:
    conds = "u.tsv @@ %(match)s::tsquery" + (f" AND {exact_sql}" if exact_sql else "")
    if key_range:
        conds += " AND u.id >= %(lo)s AND u.id < %(hi)s"
    if channel is not None:  # the column, not the id's bit: the planner has its statistics
        conds += f" AND u.channel = '{channel.value}'"
    return conds


def _keyset_conds(p: sq.Plan, conds: str) -> str:
    if not p.keyset:
        return conds
    return (conds + f" AND u.id >> {KEY_SHIFT} IN "
            f"(SELECT c.id FROM analytics_calls AS c WHERE {_pg(' AND '.join(p.where))})")


def _scan(conn: PgConn, conds: str, args: dict[str, Any], need: int) -> list[int]:
    """The newest ``need`` utterance ids matching ``conds``, newest first.

    Not one ``ORDER BY id DESC LIMIT``: the planner then walks the primary
    key backwards testing ``tsv`` row by row whenever it overestimates a
    query's matches (phrases, NEAR: seconds at 10 million utterances), or
    reads and sorts every GIN match when it underestimates them. Instead,
    windows of call keys from the newest down: the first, :data:`PROBE_CALLS`
    calls, by the primary key (a bounded walk); each next one sized from the
    matches per call seen so far to hold what is still needed (x1.5), at
    least doubling, and read by the primary key while matches are dense
    (:data:`DENSE_PER_CALL`: reading a common word's whole GIN posting list
    costs more than the window's rows), else through the GIN index."""
    row = conn.execute("SELECT max(id) FROM utterances_search").fetchone()
    if row is None or row[0] is None:
        return []
    upper = top = min(int(args.get("hi", 1 << 62)), int(row[0]) + 1)
    bottom = int(args.get("lo", 0))
    found: list[int] = []
    window = PROBE_CALLS
    dense = True  # the probe: by the primary key
    while len(found) < need and upper > bottom:
        lower = max(bottom, upper - (window << KEY_SHIFT))
        other = "enable_bitmapscan" if dense else "enable_indexscan"
        conn.execute(f"SET LOCAL {other} = off")
        found += [int(r[0]) for r in conn.execute(
            f"SELECT u.id FROM utterances_search AS u WHERE {conds} AND u.id >= %(w_lo)s "
            f"AND u.id < %(w_hi)s ORDER BY u.id DESC LIMIT {need - len(found)}",
            {**args, "w_lo": lower, "w_hi": upper})]
        conn.execute(f"SET LOCAL {other} = on")
        seen = max(1, (top - lower) >> KEY_SHIFT)
        per_call = len(found) / seen
        wanted = (need - len(found)) / per_call * 1.5 if per_call else float("inf")
        window = int(min(max(wanted, 2 * window), 1 << 40))
        dense = per_call >= DENSE_PER_CALL
        upper = lower
    return found


def _statement(p: sq.Plan, complete: bool = False, exact_sql: str = "") -> str:
    """As SQLite's statement; the matches are ``%(ids)s`` (:func:`_scan`'s),
    or, ``complete``, every match read through the GIN index."""
    conds = _keyset_conds(p, _match_conds(p.key_range, p.channel, exact_sql))
    where = _pg(" AND ".join(p.where))
    late = f" WHERE {where}" if p.where and not p.keyset else ""
    matches = (f"SELECT u.id AS uid FROM utterances_search AS u WHERE {conds}" if complete
               else "SELECT unnest(%(ids)s::bigint[]) AS uid")
    return f"""
WITH k AS MATERIALIZED (
    SELECT m.uid >> {KEY_SHIFT} AS k, min(m.uid) AS uid, count(*) AS n FROM (
        {matches}
    ) AS m GROUP BY 1
),
pc AS MATERIALIZED (
    SELECT c.id AS k, c.call_id AS call_id, k.uid AS uid, k.n AS n, c.day AS day,
           c.started AS started
    FROM k JOIN analytics_calls AS c ON c.id = k.k{late}
),
page AS (
    SELECT call_id, uid, n AS score FROM pc ORDER BY {sq.ORDER[p.sort]}
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT 0, call_id, uid, score FROM page
UNION ALL
SELECT 1, day, count(*), NULL FROM pc GROUP BY day
UNION ALL
SELECT 2, NULL, coalesce(sum(n), 0), NULL FROM k
"""


def _plan(conn: PgConn, q: SearchQuery, channel: Channel | None, where: list[str],
          args: dict[str, Any], complete: bool = False, exact_sql: str = "") -> sq.Plan:
    """As :func:`bailanys.analytics.search._plan` (see there), in PostgreSQL's SQL."""
    f = q.filters
    keyset = capped = False
    if f.agent or f.queue:
        few = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM analytics_calls AS c WHERE "
                           f"{_pg(' AND '.join(where))} LIMIT {sq.KEYSET_MAX + 1}) AS few",
                           args).fetchone()
        keyset = few is not None and int(few[0]) <= sq.KEYSET_MAX
    key_range = f.since is not None or f.until is not None
    if key_range:
        row = conn.execute(
            "SELECT min(id), max(id) FROM analytics_calls WHERE started >= %s AND started < %s",
            (float(f.since if f.since is not None else "-inf"),
             float(f.until if f.until is not None else "inf")),
        ).fetchone()
        lo, hi = row if row is not None else (None, None)
        args["lo"] = 0 if lo is None else int(lo) << KEY_SHIFT
        args["hi"] = 0 if hi is None else (int(hi) + 1) << KEY_SHIFT
    if keyset and not complete:
        newest = _scan(conn, _match_conds(key_range, channel, exact_sql), args,
                       sq.KEYSET_SCAN + 1)
        if len(newest) > sq.KEYSET_SCAN:
            capped = True
            args["lo"] = max(min(newest), int(args.get("lo", 0)))
            args.setdefault("hi", 1 << 62)
            key_range = True
    return sq.Plan(tuple(where), keyset, key_range, capped, channel, q.sort)


_PAGE_ROWS: Final = f"""
SELECT u.id, u.call_id, u.channel, u.start, u.text, u.words, u.terms,
       coalesce(u.language, c.language), c.started, c.agent, c.queue
FROM utterances AS u JOIN analytics_calls AS c ON c.id = u.id >> {KEY_SHIFT}
WHERE u.id = ANY(%s)
"""


def search(conn: PgConn, q: SearchQuery, *, complete: bool = False) -> SearchResult:
    """Run one search on PostgreSQL; a bad query or filter gives ``SearchResult.error``.

    ``complete`` as on SQLite: every match read, exact totals."""
    if (bad := sq.valid(q)) is not None:
        return sq.error_result(q, bad)
    try:
        parsed = parse(q.text)
        match = to_tsquery(parsed.node)
    except QueryError as exc:
        return sq.error_result(q, exc.code)
    channel = parsed.channel or q.filters.channel
    if parsed.channel and q.filters.channel and parsed.channel is not q.filters.channel:
        return sq.error_result(q, MIXED_CHANNELS)
    where, args = sq.filter_sql(q.filters)
    args.update(match=match, limit=q.per_page, offset=(q.page - 1) * q.per_page)
    exact_sql = recheck(parsed.node, args) if needs_recheck(parsed.node) else ""
    relevance = q.sort is Sort.RELEVANCE
    try:
        with conn.transaction():
            plan = _plan(conn, q, channel, where, args, complete, exact_sql)
            if complete:
                conn.execute("SET LOCAL enable_indexscan = off")  # every match: the GIN
            else:
                conds = _match_conds(plan.key_range, plan.channel, exact_sql)
                args["ids"] = _scan(conn, _keyset_conds(plan, conds), args, sq.SCAN_LIMIT + 1)
            rows = conn.execute(_statement(plan, complete, exact_sql), args).fetchall()
            page = [(str(r[1]), int(r[2]), float(r[3]) if relevance else 0.0)
                    for r in rows if r[0] == 0]
            hits = _hits(conn, page, positive_terms(parsed.node))
    except psycopg.Error as exc:  # logged, never shown raw
        log.warning("search %r failed: %s", match[:200], exc)
        return sq.error_result(q, sq.FAILED)
    per_day = tuple(sorted((str(r[1]), int(r[2])) for r in rows if r[0] == 1))
    scanned = sum(int(r[2]) for r in rows if r[0] == 2)
    return SearchResult(hits=hits, total=sum(n for _, n in per_day), page=q.page,
                        per_page=q.per_page, per_day=per_day,
                        partial=not complete and (scanned > sq.SCAN_LIMIT or plan.capped))


def _hits(conn: PgConn, page: list[tuple[str, int, float]],
          wanted: frozenset[str]) -> tuple[Hit, ...]:
    if not page:
        return ()
    rows = {int(r[0]): r for r in conn.execute(_PAGE_ROWS, ([uid for _, uid, _ in page],))}
    hits: list[Hit] = []
    for call_id, uid, score in page:
        r = rows.get(uid)
        if r is None:
            continue
        frags, offset = snippet(r[4], r[6], r[5], wanted, float(r[3]))
        hits.append(Hit(call_id=call_id, utterance_id=uid, channel=Channel(r[2]),
                        offset=offset, started=float(r[8]), agent=r[9], queue=r[10],
                        language=str(r[7] or ""), snippet=frags, score=score))
    return tuple(hits)
