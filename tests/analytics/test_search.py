"""The analysts' search over real SQLite FTS5 (issue 15 "Search"): no mocks.

Calls are written the way the worker writes them (write_channel +
upsert_call) into the schema v3 tables; the searches go through
:func:`bailanys.analytics.search.search` only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from bailanys.analytics import morph
from bailanys.analytics import search as search_mod
from bailanys.analytics.facts import CallFacts, upsert_call
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.search import search
from bailanys.analytics.searchtypes import Filters, Hit, SearchQuery, Sort
from bailanys.analytics.transcripts import read_call, write_channel
from bailanys.store.migrations import SCHEMA_V3_ANALYTICS

DAY = 86400.0
T0 = 1_700_000_000.0  # 2023-11-15 03:13 in Almaty


def utt(ch: Channel, text: str, t0: float = 1.0, lang: str = "ru") -> Utterance:
    """Words half a second apart from ``t0``: word i starts at t0 + i / 2."""
    words = tuple(Word(w, t0 + i * 0.5, t0 + i * 0.5 + 0.4, 0.9)
                  for i, w in enumerate(text.split()))
    return Utterance(ch, lang, words)


def add_call(conn: sqlite3.Connection, call_id: str, caller: list[Utterance],
             agent_said: list[Utterance], **facts: object) -> None:
    rec = f"/rec/{call_id}.wav"
    n = write_channel(conn, call_id, rec, Channel.CALLER, caller)
    n += write_channel(conn, call_id, rec, Channel.AGENT, agent_said)
    base: dict[str, object] = {"started": T0, "day": "2023-11-15", "outcome": "answered"}
    base.update(facts)
    upsert_call(conn, CallFacts(call_id=call_id, **base), n)  # type: ignore[arg-type]


def open_db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for sql in SCHEMA_V3_ANALYTICS:
        conn.execute(sql)
    return conn


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = open_db()
    C, A = Channel.CALLER, Channel.AGENT
    add_call(conn, "c1", [utt(C, "здравствуйте я потерял паспорт что делать")],
             [utt(A, "вам нужно прийти в цон с заявлением", 5.0)],
             agent="aigerim", queue="docs", language="ru", topic="id_card",
             disposition="resolved", duration=120.0)
    add_call(conn, "c2", [utt(C, "сәлеметсіз бе зейнетақы туралы сұрағым бар", 2.0, "kk")],
             [utt(A, "зейнетақы жасы туралы айтайын", 6.0, "kk")],
             started=T0 + DAY, day="2023-11-16", agent="bolat", queue="pension",
             language="kk", topic="pension", outcome="answered", duration=300.0)
    add_call(conn, "c3", [utt(C, "справка о пенсии нужна срочно")],
             [utt(A, "справку можно получить онлайн", 3.0)],
             started=T0 + DAY + 60, day="2023-11-16", agent="aigerim", queue="pension",
             language="ru", outcome="answered", duration=60.0)
    add_call(conn, "c4", [utt(C, "я ждал очень долго и положил трубку справка")], [],
             started=T0 + 2 * DAY, day="2023-11-17", queue="docs", language="ru",
             outcome="lost", duration=40.0)
    yield conn
    conn.close()


def ids(hits: tuple[Hit, ...]) -> list[str]:
    return [h.call_id for h in hits]


def run(conn: sqlite3.Connection, text: str, **kw: object) -> list[str]:
    result = search(conn, SearchQuery(text, **kw))  # type: ignore[arg-type]
    assert result.error is None, result.error
    return sorted(ids(result.hits))


def test_words_phrases_boolean(db: sqlite3.Connection) -> None:
    assert run(db, "паспорт") == ["c1"]
    assert run(db, "справка") == ["c3", "c4"]
    assert run(db, '"потерял паспорт"') == ["c1"]
    assert run(db, '"паспорт потерял"') == []  # order matters in a phrase
    assert run(db, "справка пенсии") == ["c3"]
    assert run(db, "паспорт OR зейнетақы") == ["c1", "c2"]
    assert run(db, "caller: справка NOT срочно") == ["c4"]
    assert run(db, "caller: справка -срочно") == ["c4"]
    assert run(db, "(паспорт OR зейнетақы) сұрағым") == ["c2"]
    assert run(db, "NEAR(потерял делать, 2)") == ["c1"]
    assert run(db, "NEAR(здравствуйте делать, 2)") == []
    assert run(db, "отсутствует") == []


def test_case_and_yo_fold(db: sqlite3.Connection) -> None:
    assert run(db, "ПАСПОРТ") == ["c1"]
    assert morph.term("Ещё") == morph.term("еще")


def test_words_of_both_channels_and_channel_prefix(db: sqlite3.Connection) -> None:
    assert run(db, "цон") == ["c1"]
    assert run(db, "caller: цон") == []
    assert run(db, "agent: цон") == ["c1"]
    assert run(db, "цон", filters=Filters(channel=Channel.CALLER)) == []
    assert run(db, "паспорт", filters=Filters(channel=Channel.CALLER)) == ["c1"]
    hit = search(db, SearchQuery("agent:цон")).hits[0]
    assert hit.channel is Channel.AGENT
    result = search(db, SearchQuery("caller:цон", filters=Filters(channel=Channel.AGENT)))
    assert result.error == "mixed_channels"


def test_filters(db: sqlite3.Connection) -> None:
    q = "справка OR паспорт OR зейнетақы"
    assert run(db, q) == ["c1", "c2", "c3", "c4"]
    assert run(db, q, filters=Filters(agent="aigerim")) == ["c1", "c3"]
    assert run(db, q, filters=Filters(queue="pension")) == ["c2", "c3"]
    assert run(db, q, filters=Filters(language="kk")) == ["c2"]
    assert run(db, q, filters=Filters(topic="id_card")) == ["c1"]
    assert run(db, q, filters=Filters(disposition="resolved")) == ["c1"]
    assert run(db, q, filters=Filters(outcome="lost")) == ["c4"]
    assert run(db, q, filters=Filters(since=T0 + DAY, until=T0 + 2 * DAY)) == ["c2", "c3"]
    assert run(db, q, filters=Filters(min_duration=100)) == ["c1", "c2"]
    assert run(db, q, filters=Filters(max_duration=60)) == ["c3", "c4"]
    assert run(db, q, filters=Filters(agent="aigerim", max_duration=100)) == ["c3"]


def test_per_day_counts_and_total(db: sqlite3.Connection) -> None:
    result = search(db, SearchQuery("справка OR паспорт OR зейнетақы", per_page=1))
    assert result.per_day == (("2023-11-15", 1), ("2023-11-16", 2), ("2023-11-17", 1))
    assert result.total == 4 and len(result.hits) == 1


def test_one_hit_per_call_even_with_many_matching_utterances() -> None:
    conn = open_db()
    add_call(conn, "x", [utt(Channel.CALLER, "справка", float(i)) for i in range(5)],
             [utt(Channel.AGENT, "справка справка", 9.0)])
    result = search(conn, SearchQuery("справка"))
    assert ids(result.hits) == ["x"] and result.total == 1 and result.per_day[0][1] == 1


def test_pagination_and_time_order() -> None:
    conn = open_db()
    for i in range(25):
        add_call(conn, f"p{i:02d}", [utt(Channel.CALLER, f"вопрос номер {i} про справку")], [],
                 started=T0 + i * 3600, day="2023-11-15")
    newest = search(conn, SearchQuery("справку", sort=Sort.NEWEST, per_page=10))
    assert newest.total == 25 and ids(newest.hits) == [f"p{i:02d}" for i in range(24, 14, -1)]
    last = search(conn, SearchQuery("справку", sort=Sort.NEWEST, per_page=10, page=3))
    assert ids(last.hits) == [f"p{i:02d}" for i in range(4, -1, -1)]
    oldest = search(conn, SearchQuery("справку", sort=Sort.OLDEST, per_page=10, page=2))
    assert ids(oldest.hits) == [f"p{i:02d}" for i in range(10, 20)]
    seen = set()
    for page in (1, 2, 3):
        seen |= set(ids(search(conn, SearchQuery("справку", per_page=10, page=page)).hits))
    assert len(seen) == 25
    assert search(conn, SearchQuery("справку", page=0)).error == "bad_page"
    assert search(conn, SearchQuery("справку", per_page=1000)).error == "bad_page"


def test_relevance_puts_the_call_that_says_it_most_first() -> None:
    conn = open_db()
    add_call(conn, "once", [utt(Channel.CALLER, "справка нужна")], [], started=T0 + 10)
    add_call(conn, "thrice", [utt(Channel.CALLER, "справка нужна", float(i)) for i in range(3)],
             [], started=T0)
    add_call(conn, "twice", [utt(Channel.CALLER, "справка")],
             [utt(Channel.AGENT, "справка будет готова", 5.0)], started=T0 + 5)
    add_call(conn, "once_newer", [utt(Channel.CALLER, "справка")], [], started=T0 + 20)
    result = search(conn, SearchQuery("справка"))
    assert ids(result.hits) == ["thrice", "twice", "once_newer", "once"]
    assert [h.score for h in result.hits] == [3.0, 2.0, 1.0, 1.0]
    assert result.hits[0].offset == pytest.approx(0.0)  # the call's first matching utterance


def test_snippet_marks_the_hit_and_offset_is_its_start(db: sqlite3.Connection) -> None:
    hit = search(db, SearchQuery("паспорт")).hits[0]
    assert "".join(f.text for f in hit.snippet) == "здравствуйте я потерял паспорт что делать"
    assert [f.text for f in hit.snippet if f.hit] == ["паспорт"]
    assert hit.offset == pytest.approx(1.0 + 3 * 0.5)  # fourth word from t0 = 1.0
    assert hit.agent == "aigerim" and hit.queue == "docs" and hit.started == T0
    phrase = search(db, SearchQuery('"потерял паспорт"')).hits[0]
    assert [f.text for f in phrase.snippet if f.hit] == ["потерял", "паспорт"]
    assert phrase.offset == pytest.approx(2.0)
    agent = search(db, SearchQuery("заявлением")).hits[0]
    assert agent.offset == pytest.approx(5.0 + 6 * 0.5)


def test_long_utterance_snippet_is_a_window() -> None:
    conn = open_db()
    words = [f"w{i}" for i in range(100)]
    words[50] = "справка"
    add_call(conn, "long", [utt(Channel.CALLER, " ".join(words), 0.0)], [])
    hit = search(conn, SearchQuery("справка")).hits[0]
    text = "".join(f.text for f in hit.snippet)
    assert text.startswith("… w42 ") and text.endswith(" w66 …")
    assert hit.offset == pytest.approx(25.0)


def test_masked_tokens_are_searchable_and_never_unmasked() -> None:
    conn = open_db()
    add_call(conn, "m", [utt(Channel.CALLER, "мой иин [IIN] телефон [PHONE]")], [])
    hit = search(conn, SearchQuery("[IIN]")).hits[0]
    assert [f.text for f in hit.snippet if f.hit] == ["[IIN]"]
    assert hit.offset == pytest.approx(2.0)


@pytest.mark.parametrize("text", ['паспорт" OR "справка', "terms:паспорт", "паспорт*",
                                  "паспорт; DROP TABLE utterances",
                                  "NEAR(a b, 99999999999)", "' OR 1=1 --", "x" * 5000])
def test_hostile_queries_answer_without_raising(db: sqlite3.Connection, text: str) -> None:
    """FTS5 syntax typed by the analyst stays text: no OR across the quote, no column, no prefix."""
    result = search(db, SearchQuery(text))
    assert result.error is not None or ids(result.hits) in ([], ["c1"])
    assert db.execute("SELECT count(*) FROM utterances").fetchone()[0] == 7


@pytest.mark.parametrize(("text", "code"), [("", "empty"), ('"a', "unbalanced_quote"),
                                            ("(a", "unbalanced_paren"), ("NOT a", "only_negative")])
def test_errors_are_codes(db: sqlite3.Connection, text: str, code: str) -> None:
    result = search(db, SearchQuery(text))
    assert result.error == code and result.hits == () and result.total == 0


PASSPORT_FORMS = ("паспорт", "паспорта", "паспортом", "паспортты", "паспорттың")


def _forms_db() -> sqlite3.Connection:
    conn = open_db()
    for i, form in enumerate(PASSPORT_FORMS):
        add_call(conn, form, [utt(Channel.CALLER, f"менің {form} туралы сұрақ {i}")], [])
    return conn


@pytest.mark.parametrize("query", PASSPORT_FORMS)
def test_morphology_a_query_finds_every_form_with_its_term(query: str) -> None:
    """A query word finds exactly the indexed forms that share its morph.term."""
    conn = _forms_db()
    expected = sorted(f for f in PASSPORT_FORMS if morph.term(f) == morph.term(query))
    assert run(conn, query) == expected
    assert query in expected


@pytest.mark.skipif("PLACEHOLDER" in (morph.__doc__ or ""),
                    reason="needs the real normaliser (slice textnorm); the placeholder "
                           "only lower-cases")
def test_morphology_one_query_finds_all_five_forms() -> None:
    """Issue 15: «паспорт» finds «паспорта», «паспортом», «паспортты», «паспорттың»."""
    assert run(_forms_db(), "паспорт") == sorted(PASSPORT_FORMS)


def test_rewriting_a_channel_replaces_it_in_the_index(db: sqlite3.Connection) -> None:
    write_channel(db, "c1", "/rec/c1.wav", Channel.CALLER,
                  [utt(Channel.CALLER, "теперь про субсидию")])
    assert run(db, "паспорт") == []
    assert run(db, "субсидию") == ["c1"]
    assert run(db, "цон") == ["c1"]  # the agent's channel is untouched


def test_a_selective_filter_gives_the_same_calls_either_plan(
        db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    q = "справка OR паспорт OR зейнетақы"
    cases = [Filters(agent="aigerim"), Filters(queue="pension", max_duration=100),
             Filters(since=T0 + DAY, until=T0 + 2 * DAY, language="ru")]
    keyset = [run(db, q, filters=f) for f in cases]  # few calls: filter inside the scan
    monkeypatch.setattr(search_mod, "KEYSET_MAX", 0)  # now filtered after the scan
    assert [run(db, q, filters=f) for f in cases] == keyset == [["c1", "c3"], ["c3"], ["c3"]]


def test_a_query_matching_too_much_is_answered_for_the_newest_and_flagged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    conn = open_db()
    for i in range(12):
        add_call(conn, f"n{i:02d}", [utt(Channel.CALLER, "справка нужна")], [],
                 started=T0 + i * DAY, day=f"2023-11-{15 + i}")
    assert not search(conn, SearchQuery("справка")).partial
    monkeypatch.setattr(search_mod, "SCAN_LIMIT", 5)
    result = search(conn, SearchQuery("справка", per_page=12))
    assert result.partial and result.total == 6  # the newest five, plus the one that told
    assert ids(result.hits) == [f"n{i:02d}" for i in range(11, 5, -1)]
    assert [d for d, _ in result.per_day] == [f"2023-11-{15 + i}" for i in range(6, 12)]
    exact = search(conn, SearchQuery("справка", per_page=12), complete=True)
    assert not exact.partial and exact.total == 12  # every match: exact counts per day
    assert exact.per_day == tuple((f"2023-11-{15 + i}", 1) for i in range(12))
    assert len(exact.hits) == 12


def test_a_selective_filter_scan_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = open_db()
    for i in range(12):
        add_call(conn, f"a{i:02d}", [utt(Channel.CALLER, "справка нужна")], [],
                 agent="aigerim" if i % 2 else "bolat", started=T0 + i * DAY,
                 day=f"2023-11-{15 + i}")
    only = Filters(agent="aigerim")
    full = search(conn, SearchQuery("справка", filters=only))
    assert not full.partial and full.total == 6
    monkeypatch.setattr(search_mod, "KEYSET_SCAN", 4)  # the newest four matches (+1), then stop
    capped = search(conn, SearchQuery("справка", filters=only))
    assert capped.partial and ids(capped.hits) == ["a11", "a09", "a07"]
    exact = search(conn, SearchQuery("справка", filters=only), complete=True)
    assert not exact.partial and exact.total == 6


def test_facts_not_yet_written_hide_nothing_and_two_recordings_share_a_call() -> None:
    conn = open_db()
    write_channel(conn, "t", "/rec/t-1.wav", Channel.CALLER, [utt(Channel.CALLER, "справка раз")])
    write_channel(conn, "t", "/rec/t-2.wav", Channel.CALLER, [utt(Channel.CALLER, "справка два")])
    write_channel(conn, "t", "/rec/t-1.wav", Channel.CALLER, [utt(Channel.CALLER, "справка раз")])
    assert conn.execute("SELECT count(*) FROM utterances").fetchone()[0] == 2
    assert run(conn, '"справка два"') == ["t"] and run(conn, '"справка раз"') == ["t"]
    call = read_call(conn, "t")  # the call's key row waits for upsert_call (same transaction)
    assert call is not None and call.facts is None and len(call.utterances) == 2
