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
from 1 to n + 1. That is exact for two items sharing no word (the same
item twice is one item: FTS5 lets one occurrence stand for both). Three or
more items, or two sharing a word (they may overlap), cannot be said in a
tsquery: the tsquery then asks for every item (a superset, for the GIN
index) and :func:`recheck` adds the exact test, the schema's
``bailanys_near`` (FTS5's rule: some item's start M, and every item j
starting in [M - n - len_j, M]) on the row's tsvector.
"""

from __future__ import annotations

from bailanys.analytics.query import ONLY_NEGATIVE, Near, Node, Not, Or, Phrase, QueryError, Term


def fold(term: str) -> str:
    """A term as the index holds it (``bailanys_terms_tsvector``: lower case, a
    mask's brackets dropped, as FTS5's unicode61 tokenizer reads them)."""
    return term.strip("[]").lower()


def lexeme(term: str) -> str:
    """A term as a quoted tsquery lexeme: folded, quotes doubled, backslashes escaped."""
    return "'" + fold(term).replace("\\", "\\\\").replace("'", "''") + "'"


def _words(node: Term | Phrase) -> tuple[str, ...]:
    return (fold(node.term),) if isinstance(node, Term) else tuple(fold(t.term) for t in node.terms)


def _item(node: Term | Phrase) -> str:
    if isinstance(node, Term):
        return lexeme(node.term)
    return "(" + " <-> ".join(lexeme(t.term) for t in node.terms) + ")"


def near_items(node: Near) -> list[tuple[str, ...]]:
    """The NEAR's items as folded words, the same item given twice kept once
    (FTS5 lets one occurrence stand for both)."""
    return list(dict.fromkeys(_words(i) for i in node.items))


def exact(node: Near) -> bool:
    """Whether the ``<d>`` expansion is exactly FTS5's NEAR: one item, or two
    that share no word (shared words could overlap, which ``<d>`` cannot say)."""
    items = near_items(node)
    return len(items) == 1 or (len(items) == 2 and not set(items[0]) & set(items[1]))


def _near(node: Near) -> str:
    items = list(dict.fromkeys(_item(i) for i in node.items))
    if len(items) == 1:
        return items[0]
    if not exact(node):  # a superset: every item present; recheck() decides
        return "(" + " & ".join(items) + ")"
    a, b = items
    alts = [f"{x} <{d}> {y}" for d in range(1, node.distance + 2) for x, y in ((a, b), (b, a))]
    return "(" + " | ".join(alts) + ")"


def to_tsquery(node: Node) -> str:
    """The ``tsquery`` text of ``node`` (cast with ``::tsquery``); raises
    :class:`~bailanys.analytics.query.QueryError` as ``to_fts`` does.

    Exact unless :func:`needs_recheck`: then it matches a superset of the
    utterances (for the GIN index), and :func:`recheck` is the exact test."""
    if isinstance(node, Term | Phrase):
        return _item(node)
    if isinstance(node, Near):
        return _near(node)
    if isinstance(node, Not):
        raise QueryError(ONLY_NEGATIVE)
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(i) for i in node.items) + ")"
    pos = [to_tsquery(i) for i in node.items if not isinstance(i, Not)]
    # a NOT over a superset would drop too much: such a NOT is left to recheck()
    neg = [to_tsquery(i.item) for i in node.items
           if isinstance(i, Not) and not needs_recheck(i.item)]
    if not pos:
        raise QueryError(ONLY_NEGATIVE)
    expr = "(" + " & ".join(pos) + ")"
    return expr + " & !(" + " | ".join(neg) + ")" if neg else expr


def needs_recheck(node: Node) -> bool:
    """Whether ``node`` holds a NEAR that ``<d>`` cannot say exactly."""
    if isinstance(node, Near):
        return not exact(node)
    if isinstance(node, Term | Phrase):
        return False
    if isinstance(node, Not):
        return needs_recheck(node.item)
    return any(needs_recheck(i) for i in node.items)


def recheck(node: Node, params: dict[str, object], column: str = "u") -> str:
    """The exact SQL test of ``node`` on the utterance row ``column``: each
    exact part a ``tsv @@`` test, each inexact NEAR ``bailanys_near`` (the
    schema's function, FTS5's NEAR rule) on the ``tsv``; parameters are
    added to ``params`` as ``%(rN)s``."""
    def param(value: object) -> str:
        name = f"r{len(params)}"
        params[name] = value
        return f"%({name})s"

    if isinstance(node, Near) and not exact(node):
        items = [" ".join(words) for words in near_items(node)]
        return (f"bailanys_near({column}.tsv, {param(items)}::text[], "
                f"{param(node.distance)}::int)")
    if isinstance(node, Term | Phrase | Near):
        return f"{column}.tsv @@ {param(to_tsquery(node))}::tsquery"
    if isinstance(node, Not):
        return f"NOT ({recheck(node.item, params, column)})"
    joiner = " OR " if isinstance(node, Or) else " AND "
    return "(" + joiner.join(recheck(i, params, column) for i in node.items) + ")"
