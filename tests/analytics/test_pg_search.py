"""The analysts' search on SQLite FTS5 and PostgreSQL full-text search: same queries, same answers.

Issue 22. Every case runs on both stores (``store`` is parametrised): the
expected calls are test_search.py's (the SQLite oracle), and a randomised
corpus with randomised queries of the whole language (words, phrases, OR,
NOT, NEAR with distances, channel prefixes, filters) must give identical
results on both, hits, scores, snippets, offsets, totals and per-day counts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bailanys.analytics import morph
from bailanys.analytics import search as search_mod
from bailanys.analytics.facts import CallFacts
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.pgwebstore import PgStoreAnalytics, store_analytics
from bailanys.analytics.searchtypes import Filters, SearchQuery, SearchResult, Sort
from tests.analytics.pgstores import PgStore, SqliteStore, Store
from tests.pgcluster import Cluster

DAY = 86400.0
T0 = 1_700_000_000.0
C, A = Channel.CALLER, Channel.AGENT


def utt(ch: Channel, text: str, t0: float = 1.0, lang: str = "ru") -> Utterance:
    words = tuple(Word(w, t0 + i * 0.5, t0 + i * 0.5 + 0.4, 0.9)
                  for i, w in enumerate(text.split()))
    return Utterance(ch, lang, words)


def add_call(db: Store, call_id: str, caller: list[Utterance], agent_said: list[Utterance],
             **facts: object) -> None:
    rec = f"/rec/{call_id}.wav"
    n = db.write(call_id, rec, C, caller) + db.write(call_id, rec, A, agent_said)
    base: dict[str, object] = {"started": T0, "day": "2023-11-15", "outcome": "answered"}
    base.update(facts)
    db.facts(CallFacts(call_id=call_id, **base), n)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "sqlite":
        db: Store = SqliteStore()
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        db = PgStore(cluster.create_database())
    yield db
    db.close()


def fill(db: Store) -> Store:
    add_call(db, "c1", [utt(C, "здравствуйте я потерял паспорт что делать")],
             [utt(A, "вам нужно прийти в цон с заявлением", 5.0)],
             agent="aigerim", queue="docs", language="ru", topic="id_card",
             disposition="resolved", duration=120.0)
    add_call(db, "c2", [utt(C, "сәлеметсіз бе зейнетақы туралы сұрағым бар", 2.0, "kk")],
             [utt(A, "зейнетақы жасы туралы айтайын", 6.0, "kk")],
             started=T0 + DAY, day="2023-11-16", agent="bolat", queue="pension",
             language="kk", topic="pension", outcome="answered", duration=300.0)
    add_call(db, "c3", [utt(C, "справка о пенсии нужна срочно")],
             [utt(A, "справку можно получить онлайн", 3.0)],
             started=T0 + DAY + 60, day="2023-11-16", agent="aigerim", queue="pension",
             language="ru", outcome="answered", duration=60.0)
    add_call(db, "c4", [utt(C, "я ждал очень долго и положил трубку справка")], [],
             started=T0 + 2 * DAY, day="2023-11-17", queue="docs", language="ru",
             outcome="lost", duration=40.0)
    return db


def run(db: Store, text: str, **kw: object) -> list[str]:
    result = db.search(SearchQuery(text, **kw))  # type: ignore[arg-type]
    assert result.error is None, result.error
    return sorted(h.call_id for h in result.hits)


Q = "справка OR паспорт OR зейнетақы"
CASES: list[tuple[str, Filters, list[str]]] = [
    ("паспорт", Filters(), ["c1"]),
    ("ПАСПОРТ", Filters(), ["c1"]),
    ("справка", Filters(), ["c3", "c4"]),
    ('"потерял паспорт"', Filters(), ["c1"]),
    ('"паспорт потерял"', Filters(), []),
    ("справка пенсии", Filters(), ["c3"]),
    ("паспорт OR зейнетақы", Filters(), ["c1", "c2"]),
    ("caller: справка NOT срочно", Filters(), ["c4"]),
    ("caller: справка -срочно", Filters(), ["c4"]),
    ("(паспорт OR зейнетақы) сұрағым", Filters(), ["c2"]),
    ("NEAR(потерял делать, 2)", Filters(), ["c1"]),
    ("NEAR(делать потерял, 2)", Filters(), ["c1"]),
    ("NEAR(потерял делать, 1)", Filters(), []),
    ("NEAR(здравствуйте делать, 2)", Filters(), []),
    ('NEAR("потерял паспорт" делать, 1)', Filters(), ["c1"]),
    ('NEAR(здравствуйте "паспорт что" делать, 4)', Filters(), ["c1"]),
    ('NEAR(здравствуйте "паспорт что" делать, 3)', Filters(), []),
    ("отсутствует", Filters(), []),
    ("цон", Filters(), ["c1"]),
    ("caller: цон", Filters(), []),
    ("agent: цон", Filters(), ["c1"]),
    ("оператор: цон И заявлением", Filters(), ["c1"]),
    ("цон", Filters(channel=C), []),
    ("паспорт", Filters(channel=C), ["c1"]),
    (Q, Filters(), ["c1", "c2", "c3", "c4"]),
    (Q, Filters(agent="aigerim"), ["c1", "c3"]),
    (Q, Filters(queue="pension"), ["c2", "c3"]),
    (Q, Filters(language="kk"), ["c2"]),
    (Q, Filters(topic="id_card"), ["c1"]),
    (Q, Filters(disposition="resolved"), ["c1"]),
    (Q, Filters(outcome="lost"), ["c4"]),
    (Q, Filters(since=T0 + DAY, until=T0 + 2 * DAY), ["c2", "c3"]),
    (Q, Filters(min_duration=100), ["c1", "c2"]),
    (Q, Filters(max_duration=60), ["c3", "c4"]),
    (Q, Filters(agent="aigerim", max_duration=100), ["c3"]),
    (Q, Filters(queue="pension", max_duration=100), ["c3"]),
    (Q, Filters(since=T0 + DAY, until=T0 + 2 * DAY, language="ru"), ["c3"]),
]


def test_the_sqlite_oracle_cases_on_both_stores(empty: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    db = fill(empty)
    for text, filters, expected in CASES:
        assert run(db, text, filters=filters) == expected, (db.name, text, filters)
    monkeypatch.setattr(search_mod, "KEYSET_MAX", 0)  # filters after the scan: same calls
    for text, filters, expected in CASES:
        assert run(db, text, filters=filters) == expected, (db.name, text, filters)
    result = db.search(SearchQuery(Q, per_page=1))
    assert result.per_day == (("2023-11-15", 1), ("2023-11-16", 2), ("2023-11-17", 1))
    assert result.total == 4 and len(result.hits) == 1
    hit = db.search(SearchQuery("паспорт")).hits[0]
    assert "".join(f.text for f in hit.snippet) == "здравствуйте я потерял паспорт что делать"
    assert [f.text for f in hit.snippet if f.hit] == ["паспорт"]
    assert hit.offset == pytest.approx(2.5) and hit.agent == "aigerim" and hit.started == T0
    assert db.search(SearchQuery("agent:цон")).hits[0].channel is A
    assert db.search(SearchQuery("caller:цон", filters=Filters(channel=A))).error == \
        "mixed_channels"
    for text, code in (("", "empty"), ('"a', "unbalanced_quote"), ("(a", "unbalanced_paren"),
                       ("NOT a", "only_negative")):
        assert db.search(SearchQuery(text)).error == code
    for text in ('паспорт" OR "справка', "terms:паспорт", "паспорт*", "паспорт:*",
                 "паспорт; DROP TABLE utterances", "NEAR(a b, 99999999999)", "' OR 1=1 --",
                 "a\\' | !b", "x" * 5000):
        result = db.search(SearchQuery(text))
        assert result.error is not None or sorted(h.call_id for h in result.hits) in ([], ["c1"])
    assert db.count("SELECT count(*) FROM utterances") == 7
    # a channel written again replaces its utterances in the index
    db.write("c1", "/rec/c1.wav", C, [utt(C, "теперь про субсидию")])
    assert run(db, "паспорт") == [] and run(db, "субсидию") == ["c1"] and run(db, "цон") == ["c1"]


def test_relevance_pages_masks_and_morphology(empty: Store) -> None:
    db = empty
    add_call(db, "once", [utt(C, "справка нужна")], [], started=T0 + 10)
    add_call(db, "thrice", [utt(C, "справка нужна", float(i)) for i in range(3)], [], started=T0)
    add_call(db, "twice", [utt(C, "справка")], [utt(A, "справка будет готова", 5.0)],
             started=T0 + 5)
    add_call(db, "once_newer", [utt(C, "справка")], [], started=T0 + 20)
    result = db.search(SearchQuery("справка"))
    assert [h.call_id for h in result.hits] == ["thrice", "twice", "once_newer", "once"]
    assert [h.score for h in result.hits] == [3.0, 2.0, 1.0, 1.0]
    for i in range(25):
        add_call(db, f"p{i:02d}", [utt(C, f"вопрос номер {i} про пособие")], [],
                 started=T0 + 100 + i * 3600)
    newest = db.search(SearchQuery("пособие", sort=Sort.NEWEST, per_page=10, page=3))
    assert newest.total == 25 and [h.call_id for h in newest.hits] == \
        [f"p{i:02d}" for i in range(4, -1, -1)]
    oldest = db.search(SearchQuery("пособие", sort=Sort.OLDEST, per_page=10, page=2))
    assert [h.call_id for h in oldest.hits] == [f"p{i:02d}" for i in range(10, 20)]
    add_call(db, "m", [utt(C, "мой иин [IIN] телефон [PHONE]")], [])
    hit = db.search(SearchQuery("[IIN]")).hits[0]
    assert [f.text for f in hit.snippet if f.hit] == ["[IIN]"] and hit.call_id == "m"
    assert run(db, "iin") == ["m"]  # FTS5 reads the mask [IIN] as iin; so does PostgreSQL
    forms = ("паспорт", "паспорта", "паспортом", "паспортты", "паспорттың")
    for i, form in enumerate(forms):
        add_call(db, form, [utt(C, f"менің {form} туралы сұрақ {i}")], [])
    for query in forms:
        assert run(db, query) == sorted(f for f in forms if morph.term(f) == morph.term(query))


def test_partial_and_capped_scans_flag_the_same_way(empty: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    db = empty
    for i in range(12):
        add_call(db, f"n{i:02d}", [utt(C, "справка нужна")], [], agent="aigerim" if i % 2 else
                 "bolat", started=T0 + i * DAY, day=f"2023-11-{15 + i}")
    monkeypatch.setattr(search_mod, "SCAN_LIMIT", 5)
    result = db.search(SearchQuery("справка", per_page=12))
    assert result.partial and result.total == 6
    assert [h.call_id for h in result.hits] == [f"n{i:02d}" for i in range(11, 5, -1)]
    exact = db.search(SearchQuery("справка", per_page=12), complete=True)
    assert not exact.partial and exact.total == 12
    monkeypatch.setattr(search_mod, "SCAN_LIMIT", 3000)
    monkeypatch.setattr(search_mod, "KEYSET_SCAN", 4)
    capped = db.search(SearchQuery("справка", filters=Filters(agent="aigerim")))
    assert capped.partial and [h.call_id for h in capped.hits] == ["n11", "n09", "n07"]


# -- randomised: the same answers on both stores -------------------------------------

VOCAB = ("паспорт паспорта паспортты справка справку справканы зейнетақы зейнетақыны "
         "пособие пособиесін цон егов эцп [IIN] [PHONE] 853 керек нужно получить алу "
         "сәлеметсіз здравствуйте спасибо рахмет не и я жоқ бар туралы про").split()


def _query(rng: random.Random) -> str:
    def word() -> str:
        return rng.choice(VOCAB)

    def atom() -> str:
        kind = rng.random()
        if kind < 0.5:
            return word()
        if kind < 0.7:
            return '"' + " ".join(word() for _ in range(rng.randint(2, 3))) + '"'
        items = [word() if rng.random() < 0.7 else f'"{word()} {word()}"'
                 for _ in range(rng.randint(2, 3))]
        return f"NEAR({' '.join(items)}, {rng.randint(0, 6)})"

    parts = [atom()]
    for _ in range(rng.randint(0, 2)):
        parts.append(rng.choice(["", "AND ", "OR ", "NOT ", "-"]) + atom())
    text = " ".join(parts)
    if rng.random() < 0.2:
        text = f"({text}) OR {atom()}"
    return rng.choice(["", "", "", "caller: ", "agent: "]) + text


def _key(r: SearchResult) -> object:
    return (r.error, r.total, r.per_day, r.partial,
            [(h.call_id, h.utterance_id, h.channel, round(h.offset, 3), h.score, h.snippet)
             for h in r.hits])


def test_random_queries_give_identical_results(pg_cluster: Cluster) -> None:
    rng = random.Random(22)
    lite, pg = SqliteStore(), PgStore(pg_cluster.create_database())
    try:
        for i in range(60):
            said = {ch: [utt(ch, " ".join(rng.choice(VOCAB) for _ in range(rng.randint(3, 12))),
                             t * 4.0, "kk" if rng.random() < 0.5 else "ru")
                         for t in range(rng.randint(0, 4))] for ch in (C, A)}
            facts = {"started": T0 + i * 7200, "day": f"2023-11-{15 + i // 12}",
                     "agent": rng.choice(["aigerim", "bolat", None]),
                     "queue": rng.choice(["docs", "pension"]), "duration": float(i * 10)}
            for db in (lite, pg):
                add_call(db, f"r{i:02d}", said[C], said[A], **facts)
        filters = [Filters(), Filters(agent="bolat"), Filters(queue="docs", min_duration=200),
                   Filters(since=T0 + 10 * 7200, until=T0 + 40 * 7200), Filters(channel=A)]
        asked = 0
        for _ in range(150):
            text = _query(rng)
            f = rng.choice(filters)
            sort = rng.choice(list(Sort))
            q = SearchQuery(text, filters=f, sort=sort, per_page=rng.choice([5, 20]))
            want, got = lite.search(q), pg.search(q)
            assert _key(got) == _key(want), (text, f, sort)
            asked += want.total > 0
        assert asked > 40  # most random queries found something: the comparison has teeth
    finally:
        lite.close()
        pg.close()


def test_the_pages_port_reads_the_same_call_from_both_stores(
        pg_cluster: Cluster, tmp_path: Path) -> None:
    """bailanys.analytics.pgwebstore: the analysts' page on PostgreSQL (search, a call)."""
    url = pg_cluster.create_database()
    fill(PgStore(url)).close()
    lite_path = tmp_path / "s.db"
    lite = SqliteStore()
    fill(lite)
    lite.conn.commit()
    lite.conn.execute(f"VACUUM INTO '{lite_path}'")
    lite.close()
    views = [store_analytics(str(lite_path), tmp_path), store_analytics(url, tmp_path)]
    assert isinstance(views[1], PgStoreAnalytics) and not isinstance(views[0], PgStoreAnalytics)
    for view in views:
        assert [h.call_id for h in view.search(SearchQuery("оператор: цон OR паспорт")).hits] == \
            ["c1"]
    calls = [view.call("c1") for view in views]
    assert calls[0] is not None and calls[0] == calls[1] and calls[0].agent == "aigerim"
    assert [len(u.words) for u in calls[0].utterances] == [6, 7]
    assert views[1].call("nope") is None
    down = store_analytics("postgresql://bailanys@127.0.0.1:1/nowhere", tmp_path)
    assert down.search(SearchQuery("паспорт")).error == "failed" and down.call("c1") is None
