"""The query language (issue 15 "Search"): parse table, error codes, FTS5 safety."""

from __future__ import annotations

import sqlite3

import pytest

from bailanys.analytics import morph
from bailanys.analytics.model import Channel
from bailanys.analytics.query import (
    DEFAULT_NEAR,
    MAX_QUERY_CHARS,
    And,
    Near,
    Not,
    Or,
    Phrase,
    QueryError,
    Term,
    parse,
    positive_terms,
    quote,
    to_fts,
)


def t(word: str) -> Term:
    return Term(word, morph.term(word))


def ph(*words: str) -> Phrase:
    return Phrase(tuple(t(w) for w in words))


PARSES = [
    ("паспорт", t("паспорт")),
    ("  Паспорт  ", t("Паспорт")),
    ("паспорт справка", And((t("паспорт"), t("справка")))),
    ("паспорт AND справка", And((t("паспорт"), t("справка")))),
    ("паспорт И справка", And((t("паспорт"), t("справка")))),
    ("паспорт ЖӘНЕ анықтама", And((t("паспорт"), t("анықтама")))),
    ("паспорт OR справка", Or((t("паспорт"), t("справка")))),
    ("паспорт ИЛИ справка НЕМЕСЕ анықтама",
     Or((t("паспорт"), t("справка"), t("анықтама")))),
    ("паспорт NOT справка", And((t("паспорт"), Not(t("справка"))))),
    ("паспорт НЕ справка", And((t("паспорт"), Not(t("справка"))))),
    ("паспорт -справка", And((t("паспорт"), Not(t("справка"))))),
    ("a b OR c", Or((And((t("a"), t("b"))), t("c")))),
    ("a (b OR c)", And((t("a"), Or((t("b"), t("c")))))),
    ('"потерял паспорт"', ph("потерял", "паспорт")),
    ('"паспорт"', t("паспорт")),
    ("NEAR(пенсия справка, 5)", Near((t("пенсия"), t("справка")), 5)),
    ("NEAR(пенсия справка)", Near((t("пенсия"), t("справка")), DEFAULT_NEAR)),
    ('NEAR("потерял паспорт" цон, 3)', Near((ph("потерял", "паспорт"), t("цон")), 3)),
    ("и не or and", And((t("и"), t("не"), t("or"), t("and")))),  # lower case: words
    ("[IIN]", t("[IIN]")),
]


@pytest.mark.parametrize(("text", "tree"), PARSES)
def test_parse_table(text: str, tree: object) -> None:
    assert parse(text).node == tree


@pytest.mark.parametrize("word", ["2-й", "Алма-Ата", "e-mail", "[IIN]"])
def test_a_word_the_tokenizer_splits_is_a_phrase(word: str) -> None:
    toks = morph.tokens(word)
    want = t(toks[0]) if len(toks) == 1 else ph(*toks)
    assert parse(word).node == want


@pytest.mark.parametrize(("text", "channel"), [
    ("caller: паспорт", Channel.CALLER), ("caller:паспорт", Channel.CALLER),
    ("agent: справка", Channel.AGENT), ("оператор: справка", Channel.AGENT),
    ("клиент:паспорт", Channel.CALLER), ("Caller: a caller: b", Channel.CALLER),
    ("паспорт", None),
])
def test_channel_prefix(text: str, channel: Channel | None) -> None:
    assert parse(text).channel is channel


ERRORS = [
    ("", "empty"), ("   ", "empty"), ("!!! ...", "empty"), ("caller:", "empty"), ("()", "empty"),
    ('"паспорт', "unbalanced_quote"), ('паспорт "', "unbalanced_quote"),
    ("(паспорт", "unbalanced_paren"), ("паспорт)", "unbalanced_paren"),
    ("((a) b", "unbalanced_paren"),
    ("AND паспорт", "dangling_operator"), ("паспорт OR", "dangling_operator"),
    ("a AND AND b", "dangling_operator"), ("a OR OR b", "dangling_operator"),
    ("паспорт NOT", "dangling_operator"), ("NOT", "dangling_operator"),
    ("NOT паспорт", "only_negative"), ("-паспорт", "only_negative"),
    ("a OR NOT b", "only_negative"), ("a NOT NOT b", "only_negative"),
    ("NEAR(a)", "bad_near"), ("NEAR a b", "bad_near"), ("NEAR(a b, x)", "bad_near"),
    ("NEAR(a b, 5", "bad_near"), ("a, b", "bad_near"),
    ("caller: a agent: b", "mixed_channels"),
    ("x" * (MAX_QUERY_CHARS + 1), "too_long"),
    (" ".join(["слово"] * 40), "too_long"),
    ("(" * 20 + "a" + ")" * 20, "too_long"),
]


@pytest.mark.parametrize(("text", "code"), ERRORS)
def test_errors(text: str, code: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    assert info.value.code == code


def test_fts_expression_shapes() -> None:
    assert to_fts(parse("a b").node) == '("a" AND "b")'
    assert to_fts(parse("a OR b").node) == '("a" OR "b")'
    assert to_fts(parse("a b -c NOT d").node) == '("a" AND "b") NOT ("c" OR "d")'
    assert to_fts(parse('NEAR(a "b c", 4)').node) == 'NEAR("a" "b c", 4)'
    assert quote(['say "hi"']) == '"say ""hi"""'


def test_positive_terms_skip_negations() -> None:
    node = parse('паспорт "потерял справку" -цон OR NEAR(пенсия возраст)').node
    want = {morph.term(w) for w in ("паспорт", "потерял", "справку", "пенсия", "возраст")}
    assert positive_terms(node) == frozenset(want)


INJECTIONS = [
    'паспорт" OR "справка', "terms:паспорт", "паспорт*", "^паспорт", "{terms}: a",
    "a + b", "NEAR(a b, 99999999999999999999)", "col:a", "a\x00b", "' OR 1=1 --",
    '""""', "паспорт; DROP TABLE utterances", "rowid:1", "NOTa ORb", "*",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_attempts_are_safe(text: str) -> None:
    """Whatever parses must be a valid FTS5 expression of quoted terms only."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(terms)")
    conn.execute("INSERT INTO f VALUES ('паспорт справка')")
    try:
        expr = to_fts(parse(text).node)
    except QueryError:
        return
    conn.execute("SELECT count(*) FROM f WHERE f MATCH ?", (expr,)).fetchone()
    assert "*" not in expr.replace('"*"', "")
    assert ":" not in expr.replace('":"', "")


def test_random_input_never_raises_anything_else() -> None:
    """Fuzz: any string gives a tree or a QueryError, and the tree compiles or errs cleanly."""
    import random
    rng = random.Random(15)
    alphabet = 'ab "()-,:*^NOTANDORNEAR ИЛИНЕcalleragent5\x00'
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(terms)")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        try:
            expr = to_fts(parse(text).node)
        except QueryError:
            continue
        conn.execute("SELECT count(*) FROM f WHERE f MATCH ?", (expr,)).fetchone()
