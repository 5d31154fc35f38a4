"""Stored transcripts: write one channel's utterances, read a call back for its page.

Issue 15 ("Transcript model": utterances per call, channel, start, end,
text, words with times and confidences, language). The rows are schema v3's
``utterances`` (:mod:`bailanys.store.migrations`); the FTS5 index
``utterances_fts`` follows them through its triggers. Text is stored as
the clean-up left it (numbers as digits, personal data masked,
:mod:`bailanys.analytics.clean`); ``terms`` holds exactly one search term per
word of ``text`` (:func:`bailanys.analytics.morph.terms`), which is what lets
a search hit be mapped back to a word, its time and its snippet.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bailanys.analytics import morph
from bailanys.analytics.facts import CallFacts
from bailanys.analytics.model import Channel, Utterance, Word

#: Times are kept to 10 ms (the recogniser's frame is 10 ms), confidences to
#: 1 %: enough to jump to a word, and it keeps the JSON short.
TIME_DIGITS: Final = 2
CONF_DIGITS: Final = 2


@dataclass(frozen=True, slots=True)
class StoredUtterance:
    """One utterance as stored: ``words`` line up one to one with ``text``'s tokens."""

    id: int
    channel: Channel
    language: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class CallTranscript:
    """A call for its page: its facts (None before they are written) and its dialogue."""

    call_id: str
    facts: CallFacts | None
    utterances: tuple[StoredUtterance, ...]  # both channels, by start time


def _tokens(words: Sequence[Word]) -> Iterator[Word]:
    """The words re-cut on :func:`morph.tokens` (one stored word per token)."""
    for w in words:
        toks = morph.tokens(w.text)
        if len(toks) == 1 and toks[0] == w.text:
            yield w
        else:
            for tok in toks:  # "2-й" -> two tokens at the word's times; "-" -> none
                yield Word(tok, w.start, w.end, w.conf)


def utterance_row(utt: Utterance) -> tuple[float, float, str, str, str, int] | None:
    """(start, end, text, words JSON, terms, word count) of one utterance; None if no words."""
    words = list(_tokens(utt.words))
    if not words:
        return None
    text = " ".join(w.text for w in words)
    terms = morph.terms(text)
    if len(terms) != len(words):  # the normaliser re-tokenised differently
        terms = [morph.term(w.text) for w in words]
    packed = json.dumps(
        [[w.text, round(w.start, TIME_DIGITS), round(w.end, TIME_DIGITS),
          round(w.conf, CONF_DIGITS)] for w in words],
        ensure_ascii=False, separators=(",", ":"),
    )
    return (round(words[0].start, TIME_DIGITS), round(words[-1].end, TIME_DIGITS), text,
            packed, " ".join(terms), len(words))


#: An utterance's id: call key << KEY_SHIFT | channel << 15 | index (schema
#: v3's comment): 32,768 utterances per channel and call, hours more speech
#: than any call holds; 2**47 call keys.
KEY_SHIFT: Final = 16
#: The outcome of a call row made for its key before its facts are written.
PENDING: Final = "pending"
CHANNEL_SHIFT: Final = 15
MAX_UTTERANCES: Final = 1 << CHANNEL_SHIFT

_INSERT: Final = (
    "INSERT INTO utterances (id, call_id, recording, channel, start, end, language, text, "
    "words, terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def call_key(conn: sqlite3.Connection, call_id: str) -> int:
    """The call's key (``analytics_calls.id``); a row whose facts come later is made.

    The worker writes the facts (:func:`bailanys.analytics.facts.upsert_call`)
    in the same transaction, so the ``pending`` row is never seen.
    """
    row = conn.execute("SELECT id FROM analytics_calls WHERE call_id = ?", (call_id,)).fetchone()
    if row is not None:
        return int(row[0])
    cur = conn.execute("INSERT INTO analytics_calls (call_id, started, day, outcome) "
                       "VALUES (?, 0, '', ?)", (call_id, PENDING))
    assert cur.lastrowid is not None
    return cur.lastrowid


def channel_base(key: int, channel: Channel) -> int:
    """The first utterance id of the call's channel."""
    return key << KEY_SHIFT | channel.wav_channel << CHANNEL_SHIFT


def write_channel(conn: sqlite3.Connection, call_id: str, recording: str, channel: Channel,
                  utterances: Sequence[Utterance]) -> int:
    """Replace the (recording, channel)'s utterances; returns the words written.

    Idempotent (a retried job writes the same rows again) and inside the
    caller's transaction: no commit here. A call with two recordings (a
    transfer) numbers the second's utterances after the first's. Raises
    ValueError past :data:`MAX_UTTERANCES` utterances on one channel.
    """
    conn.execute("DELETE FROM utterances WHERE recording = ? AND channel = ?",
                 (recording, channel.value))
    base = channel_base(call_key(conn, call_id), channel)
    taken = conn.execute(
        "SELECT coalesce(max(id) + 1, ?) FROM utterances WHERE id >= ? AND id < ?",
        (base, base, base + MAX_UTTERANCES),
    ).fetchone()[0]
    rows: list[tuple[Any, ...]] = []
    total = 0
    for utt in utterances:
        row = utterance_row(utt)
        if row is None:
            continue
        start, end, text, words, terms, count = row
        rows.append((int(taken) + len(rows), call_id, recording, channel.value, start, end,
                     utt.language, text, words, terms))
        total += count
    if rows and rows[-1][0] >= base + MAX_UTTERANCES:
        raise ValueError(f"{recording}: more than {MAX_UTTERANCES} utterances on {channel}")
    conn.executemany(_INSERT, rows)
    return total


def call_words(conn: sqlite3.Connection, call_id: str) -> int:
    """The words stored for the call over both channels (for ``upsert_call``)."""
    row = conn.execute(
        "SELECT coalesce(sum(json_array_length(words)), 0) FROM utterances WHERE call_id = ?",
        (call_id,),
    ).fetchone()
    return int(row[0])


def parse_words(packed: str) -> tuple[Word, ...]:
    """The ``words`` JSON column back to words (a damaged value gives none)."""
    try:
        raw = json.loads(packed)
        return tuple(Word(str(w[0]), float(w[1]), float(w[2]), float(w[3])) for w in raw)
    except (ValueError, TypeError, IndexError):
        return ()


_FACTS: Final = (
    "SELECT call_id, started, day, outcome, ended, queue, agent, language, topic, "
    "disposition, duration, wait, survey_score, recording FROM analytics_calls WHERE call_id = ?"
)


def read_facts(conn: sqlite3.Connection, call_id: str) -> CallFacts | None:
    row = conn.execute(_FACTS, (call_id,)).fetchone()
    return None if row is None or row[3] == PENDING else CallFacts(*row)


def read_call(conn: sqlite3.Connection, call_id: str) -> CallTranscript | None:
    """The call's facts and utterances (by start time); None when nothing is stored."""
    facts = read_facts(conn, call_id)
    rows = conn.execute(
        "SELECT id, channel, language, start, end, text, words FROM utterances "
        "WHERE call_id = ? ORDER BY start, id", (call_id,),
    ).fetchall()
    if facts is None and not rows:
        return None
    utts = tuple(
        StoredUtterance(int(r[0]), Channel(r[1]), str(r[2]), float(r[3]), float(r[4]),
                        str(r[5]), parse_words(r[6]))
        for r in rows
    )
    return CallTranscript(call_id, facts, utts)
