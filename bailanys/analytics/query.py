"""The analysts' query language: parse to a tree, then to a safe FTS5 MATCH expression.

Issue 15 ("Search": words, "exact phrases", AND/OR/NOT, NEAR, channel).
A query matches one utterance (one stretch of one side's speech); a call
matches when one of its utterances does.

==========================  ===============================================
``паспорт справка``          both words (AND is implied between terms)
``"потерял паспорт"``        the words in this order, next to each other
``a AND b``, ``a OR b``      operators in capitals; also Russian ``И``,
                             ``ИЛИ``, ``НЕ`` and Kazakh ``ЖӘНЕ``, ``НЕМЕСЕ``
``NOT b``, ``-b``            without b (needs a positive term beside it)
``( ... )``                  grouping; OR binds looser than AND
``NEAR(a b, 5)``             a and b at most 5 words apart, any order
                             (phrases allowed inside; the number is
                             optional, default 10)
``caller: ...``/``agent:``   only what the caller / the agent said (also
                             ``клиент:``/``оператор:``); one side per query
==========================  ===============================================

Every word goes through :func:`bailanys.analytics.morph.term`, the same
function that built the index, so «паспорта» finds «паспортом» and
«паспорттың». Lower-case ``and``/``и``/``не`` are plain words. Each term is
emitted as an FTS5 string (double quotes, inner quotes doubled), so nothing
the analyst types can reach FTS5's own syntax. A bad query yields a
:class:`QueryError` code (the page translates it), never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from bailanys.analytics import morph
from bailanys.analytics.model import Channel
from bailanys.errors import InputError

#: A query is typed by a person: 500 characters is five lines of the search
#: box, far more than any analyst's query, and bounds the parse and the FTS work.
MAX_QUERY_CHARS: Final = 500
MAX_TERMS: Final = 32
MAX_DEPTH: Final = 8
#: FTS5's own default NEAR distance (sqlite.org/fts5.html §3.6).
DEFAULT_NEAR: Final = 10
MAX_NEAR: Final = 100

AND_WORDS: Final = frozenset({"AND", "И", "ЖӘНЕ"})
OR_WORDS: Final = frozenset({"OR", "ИЛИ", "НЕМЕСЕ"})
NOT_WORDS: Final = frozenset({"NOT", "НЕ"})
CHANNELS: Final = {"caller": Channel.CALLER, "клиент": Channel.CALLER,
                   "agent": Channel.AGENT, "оператор": Channel.AGENT}

# Error codes (SearchResult.error); the page has a message for each.
EMPTY: Final = "empty"
TOO_LONG: Final = "too_long"
UNBALANCED_QUOTE: Final = "unbalanced_quote"
UNBALANCED_PAREN: Final = "unbalanced_paren"
DANGLING_OPERATOR: Final = "dangling_operator"
ONLY_NEGATIVE: Final = "only_negative"
BAD_NEAR: Final = "bad_near"
MIXED_CHANNELS: Final = "mixed_channels"


class QueryError(InputError):
    """The query cannot be run; ``code`` is one of the codes above."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Term:
    word: str  # as typed (one token)
    term: str  # morph.term(word)


@dataclass(frozen=True, slots=True)
class Phrase:
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Near:
    items: tuple[Term | Phrase, ...]
    distance: int


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


Node = Term | Phrase | Near | Not | And | Or


@dataclass(frozen=True, slots=True)
class Parsed:
    node: Node
    channel: Channel | None


# -- lexer -------------------------------------------------------------------

_LEX: Final = re.compile(r'\s+|"[^"]*"?|\(|\)|,|[^\s"(),]+')


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # word, phrase, op, lp, rp, comma, near, chan, neg
    text: str


def _words(text: str) -> Iterator[_Tok]:
    """A bare run of characters: channel prefix, operator, ``-`` negation or word."""
    head, colon, rest = text.partition(":")
    if colon and head.lower() in CHANNELS:
        yield _Tok("chan", head.lower())
        if rest:
            yield from _words(rest)
        return
    if text in AND_WORDS or text in OR_WORDS or text in NOT_WORDS:
        yield _Tok("op", text)
    elif text == "NEAR":
        yield _Tok("near", text)
    elif text.startswith("-") and len(text) > 1:
        yield _Tok("neg", "-")
        yield from _words(text[1:])
    else:
        yield _Tok("word", text)


def lex(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _LEX.finditer(text):
        s = m.group()
        if s.isspace():
            continue
        if s.startswith('"'):
            if len(s) == 1 or not s.endswith('"'):
                raise QueryError(UNBALANCED_QUOTE)
            out.append(_Tok("phrase", s[1:-1]))
        elif s in "(),":
            out.append(_Tok({"(": "lp", ")": "rp", ",": "comma"}[s], s))
        else:
            out.extend(_words(s))
    return out


# -- parser (recursive descent: or := and (OR and)*; and := unary+; unary := NOT? atom)


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0
        self.channel: Channel | None = None
        self.terms = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse_or(self, depth: int) -> Node | None:
        if depth > MAX_DEPTH:
            raise QueryError(TOO_LONG)
        items = [self.parse_and(depth)]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text in OR_WORDS:
            self.take()
            items.append(self.parse_and(depth))
        present = [n for n in items if n is not None]
        if len(items) == 1:
            return items[0]
        if len(present) != len(items):
            raise QueryError(DANGLING_OPERATOR)
        return Or(tuple(present))

    def parse_and(self, depth: int) -> Node | None:
        items: list[Node] = []
        pending_op = False
        while (tok := self.peek()) is not None:
            if tok.kind == "rp" or (tok.kind == "op" and tok.text in OR_WORDS):
                break
            if tok.kind == "op" and tok.text in AND_WORDS:
                if not items or pending_op:
                    raise QueryError(DANGLING_OPERATOR)
                self.take()
                pending_op = True
                continue
            node = self.parse_unary(depth)
            pending_op = False
            if node is not None:
                items.append(node)
        if pending_op:
            raise QueryError(DANGLING_OPERATOR)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self, depth: int) -> Node | None:
        tok = self.peek()
        if tok is not None and (tok.kind == "neg" or (tok.kind == "op" and tok.text in NOT_WORDS)):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind == "rp" or nxt.kind == "op" and nxt.text not in NOT_WORDS:
                raise QueryError(DANGLING_OPERATOR)
            inner = self.parse_unary(depth)
            if inner is None:
                raise QueryError(DANGLING_OPERATOR)
            return Not(inner)
        return self.parse_atom(depth)

    def parse_atom(self, depth: int) -> Node | None:
        tok = self.take()
        if tok.kind == "chan":
            channel = CHANNELS[tok.text]
            if self.channel is not None and self.channel is not channel:
                raise QueryError(MIXED_CHANNELS)
            self.channel = channel
            return None
        if tok.kind == "lp":
            node = self.parse_or(depth + 1)
            if (end := self.peek()) is None or end.kind != "rp":
                raise QueryError(UNBALANCED_PAREN)
            self.take()
            return node
        if tok.kind == "near":
            return self.parse_near()
        if tok.kind == "phrase":
            return self.phrase(tok.text)
        if tok.kind == "word":
            return self.phrase(tok.text)
        if tok.kind == "rp":
            raise QueryError(UNBALANCED_PAREN)
        raise QueryError(BAD_NEAR if tok.kind == "comma" else DANGLING_OPERATOR)

    def phrase(self, text: str) -> Term | Phrase | None:
        """A word or quoted text as terms: one token is a Term, more a Phrase."""
        terms = tuple(Term(w, morph.term(w)) for w in morph.tokens(text))
        terms = tuple(t for t in terms if t.term)
        self.terms += len(terms)
        if self.terms > MAX_TERMS:
            raise QueryError(TOO_LONG)
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else Phrase(terms)

    def parse_near(self) -> Near:
        """``NEAR(item item ..., n)`` after the NEAR keyword."""
        if (tok := self.peek()) is None or tok.kind != "lp":
            raise QueryError(BAD_NEAR)
        self.take()
        items: list[Term | Phrase] = []
        distance = DEFAULT_NEAR
        while (tok := self.peek()) is not None and tok.kind in ("word", "phrase"):
            item = self.phrase(self.take().text)
            if item is not None:
                items.append(item)
        if tok is not None and tok.kind == "comma":
            self.take()
            num = self.peek()
            if num is None or num.kind != "word" or not num.text.isdigit():
                raise QueryError(BAD_NEAR)
            distance = min(int(self.take().text), MAX_NEAR)
        if (tok := self.peek()) is None or tok.kind != "rp" or len(items) < 2:
            raise QueryError(BAD_NEAR)
        self.take()
        return Near(tuple(items), distance)


def parse(text: str) -> Parsed:
    """The query's tree and channel; raises :class:`QueryError` with a code."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(TOO_LONG)
    parser = _Parser(lex(text))
    node = parser.parse_or(0)
    if parser.peek() is not None:  # a ')' with no '('
        raise QueryError(UNBALANCED_PAREN)
    if node is None:
        raise QueryError(EMPTY)
    to_fts(node)  # checks that every NOT has a positive partner
    return Parsed(node, parser.channel)


# -- to FTS5 -----------------------------------------------------------------


def quote(terms: list[str]) -> str:
    """An FTS5 string (a phrase when it holds several terms); no syntax can escape it."""
    return '"' + " ".join(terms).replace('"', '""') + '"'


def to_fts(node: Node) -> str:
    """The FTS5 MATCH expression of ``node`` (on the ``terms`` column, the only one)."""
    if isinstance(node, Term):
        return quote([node.term])
    if isinstance(node, Phrase):
        return quote([t.term for t in node.terms])
    if isinstance(node, Near):
        inner = " ".join(to_fts(i) for i in node.items)
        return f"NEAR({inner}, {node.distance})"
    if isinstance(node, Not):
        raise QueryError(ONLY_NEGATIVE)
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts(i) for i in node.items) + ")"
    pos = [to_fts(i) for i in node.items if not isinstance(i, Not)]
    neg = [to_fts(i.item) for i in node.items if isinstance(i, Not)]
    if not pos:
        raise QueryError(ONLY_NEGATIVE)
    expr = "(" + " AND ".join(pos) + ")"
    return expr + " NOT (" + " OR ".join(neg) + ")" if neg else expr


def positive_terms(node: Node) -> frozenset[str]:
    """The terms a hit may contain (those under no NOT): the snippet marks these."""
    if isinstance(node, Term):
        return frozenset({node.term})
    if isinstance(node, Phrase):
        return frozenset(t.term for t in node.terms)
    if isinstance(node, Not):
        return frozenset()
    items = node.items
    return frozenset().union(*(positive_terms(i) for i in items))
