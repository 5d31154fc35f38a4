"""The analysts' query tree as a PostgreSQL ``tsquery`` (issue 22, search on PostgreSQL).

The same language as on SQLite (:mod:`bailanys.analytics.query` parses it;
:func:`~bailanys.analytics.query.to_fts` is the FTS5 side). The index is a
``tsvector`` of the stored ``terms`` (one :func:`bailanys.analytics.morph.term`
per word, position i for word i; :mod:`bailanys.store.pg_analytics`), so
the query's terms are written as quoted lexemes and cast, never parsed by
PostgreSQL's text parser or a dictionary: what matched on SQLite matches
here.

==========================  ===============================================
FTS5                         tsquery
==========================  ===============================================
``"a"``                      ``'a'``
``"a b"`` (phrase)           ``'a' <-> 'b'``
``a AND b``, ``OR``          ``&``, ``|``
``(pos) NOT (neg)``          ``(pos) & !(neg)``
``NEAR(a b, n)``             ``a <d> b | b <d> a`` for d in 1..n+1
==========================  ===============================================

NEAR: FTS5 counts the tokens between the end of the first item and the
start of the last, at most n; ``A <d> B`` is B starting d positions after
A's end (phrases included), so d - 1 tokens lie between: both orders, d
from 1 to n + 1. With three or more items it is every pair NEAR (the
pair furthest apart bounds the window, so it is the same window as FTS5's
when each item occurs once; with repeated items it may also match spread
occurrences that FTS5 would not). The same item twice is one item: FTS5
lets one occurrence stand for both.
"""

from __future__ import annotations

from bailanys.analytics.query import ONLY_NEGATIVE, Near, Node, Not, Or, Phrase, QueryError, Term


def lexeme(term: str) -> str:
    """A term as a quoted tsquery lexeme: folded as the index folds it
    (``bailanys_terms_tsvector``: lower case, a mask's brackets dropped, as
    FTS5's unicode61 tokenizer reads them), quotes doubled, backslashes escaped."""
    folded = term.strip("[]").lower()
    return "'" + folded.replace("\\", "\\\\").replace("'", "''") + "'"


def _item(node: Term | Phrase) -> str:
    if isinstance(node, Term):
        return lexeme(node.term)
    return "(" + " <-> ".join(lexeme(t.term) for t in node.terms) + ")"


def _near(node: Near) -> str:
    items = list(dict.fromkeys(_item(i) for i in node.items))  # FTS5: one word may serve twice
    if len(items) == 1:
        return items[0]
    pairs = []
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            alts = [f"{x} <{d}> {y}" for d in range(1, node.distance + 2)
                    for x, y in ((a, b), (b, a))]
            pairs.append("(" + " | ".join(alts) + ")")
    return "(" + " & ".join(pairs) + ")"


def to_tsquery(node: Node) -> str:
    """The ``tsquery`` text of ``node`` (cast with ``::tsquery``); raises
    :class:`~bailanys.analytics.query.QueryError` as ``to_fts`` does."""
    if isinstance(node, Term | Phrase):
        return _item(node)
    if isinstance(node, Near):
        return _near(node)
    if isinstance(node, Not):
        raise QueryError(ONLY_NEGATIVE)
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(i) for i in node.items) + ")"
    pos = [to_tsquery(i) for i in node.items if not isinstance(i, Not)]
    neg = [to_tsquery(i.item) for i in node.items if isinstance(i, Not)]
    if not pos:
        raise QueryError(ONLY_NEGATIVE)
    expr = "(" + " & ".join(pos) + ")"
    return expr + " & !(" + " | ".join(neg) + ")" if neg else expr
