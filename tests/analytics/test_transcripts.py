"""Stored transcripts (issue 15 "Transcript model"): write a channel, read a call."""

from __future__ import annotations

import json
import sqlite3

from bailanys.analytics import morph
from bailanys.analytics.facts import CallFacts, upsert_call
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.transcripts import call_words, parse_words, read_call, write_channel
from bailanys.store.migrations import SCHEMA_V3_ANALYTICS


def open_db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for sql in SCHEMA_V3_ANALYTICS:
        conn.execute(sql)
    return conn


def words(*spec: tuple[str, float]) -> tuple[Word, ...]:
    return tuple(Word(w, t, t + 0.3, 0.876) for w, t in spec)


CALLER = [Utterance(Channel.CALLER, "ru", words(("Потерял", 1.0), ("паспорт", 1.4))),
          Utterance(Channel.CALLER, "kk", words(("ЖСН", 9.0), ("[IIN]", 9.5)))]
AGENT = [Utterance(Channel.AGENT, "ru", words(("Приходите", 4.0), ("в", 4.5), ("ЦОН", 4.7)))]


def test_write_stores_text_words_and_one_term_per_word() -> None:
    conn = open_db()
    assert write_channel(conn, "k1", "/r/k1.wav", Channel.CALLER, CALLER) == 4
    rows = conn.execute("SELECT channel, start, end, language, text, words, terms "
                        "FROM utterances ORDER BY start").fetchall()
    assert [r[4] for r in rows] == ["Потерял паспорт", "ЖСН [IIN]"]
    for _, _, _, _, text, packed, terms in rows:
        assert terms.split() == morph.terms(text)
        assert len(json.loads(packed)) == len(morph.tokens(text))
    assert rows[0][:4] == ("caller", 1.0, 1.7, "ru")
    assert json.loads(rows[0][5])[1] == ["паспорт", 1.4, 1.7, 0.88]


def test_write_is_idempotent_per_recording_and_channel() -> None:
    conn = open_db()
    for _ in range(3):
        write_channel(conn, "k1", "/r/k1.wav", Channel.CALLER, CALLER)
        write_channel(conn, "k1", "/r/k1.wav", Channel.AGENT, AGENT)
    assert conn.execute("SELECT count(*) FROM utterances").fetchone()[0] == 3
    fts = conn.execute("SELECT count(*) FROM utterances_fts WHERE utterances_fts MATCH ?",
                       (f'"{morph.term("паспорт")}"',)).fetchone()[0]
    assert fts == 1
    assert call_words(conn, "k1") == 7


def test_words_are_recut_on_the_normaliser_tokens() -> None:
    """A recogniser word the tokenizer splits (or drops) keeps text and terms aligned."""
    conn = open_db()
    utt = Utterance(Channel.AGENT, "ru", words(("2-й", 1.0), ("—", 1.5), ("этаж", 2.0)))
    cut = morph.tokens("2-й")  # one token or two, as the normaliser has it; "—" is none
    assert morph.tokens("—") == []
    assert write_channel(conn, "k", "/r/k.wav", Channel.AGENT, [utt]) == len(cut) + 1
    text, packed, terms = conn.execute("SELECT text, words, terms FROM utterances").fetchone()
    assert text == " ".join([*cut, "этаж"]) and len(terms.split()) == len(cut) + 1
    assert [w[1] for w in json.loads(packed)] == [1.0] * len(cut) + [2.0]
    empty = Utterance(Channel.AGENT, "ru", words(("—", 1.0)))
    assert write_channel(conn, "k", "/r/k.wav", Channel.AGENT, [empty]) == 0
    assert conn.execute("SELECT count(*) FROM utterances").fetchone()[0] == 0


def test_read_call_gives_facts_and_both_channels_in_time_order() -> None:
    conn = open_db()
    assert read_call(conn, "k1") is None
    write_channel(conn, "k1", "/r/k1.wav", Channel.CALLER, CALLER)
    write_channel(conn, "k1", "/r/k1.wav", Channel.AGENT, AGENT)
    call = read_call(conn, "k1")
    assert call is not None and call.facts is None
    assert [u.channel for u in call.utterances] == [Channel.CALLER, Channel.AGENT, Channel.CALLER]
    assert call.utterances[1].words[2] == Word("ЦОН", 4.7, 5.0, 0.88)
    facts = CallFacts("k1", 1.7e9, "2023-11-15", "answered", agent="a")
    upsert_call(conn, facts, 7)
    again = read_call(conn, "k1")
    assert again is not None and again.facts == facts


def test_damaged_words_json_reads_as_no_words() -> None:
    assert parse_words("not json") == () and parse_words("[[1]]") == ()
