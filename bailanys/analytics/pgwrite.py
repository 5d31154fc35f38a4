"""A worker's writes on PostgreSQL: a channel's transcript and the call's facts.

Issue 22. The same rows as :mod:`bailanys.analytics.transcripts` and
:func:`bailanys.analytics.facts.upsert_call` write on SQLite (the row
builders are shared: :func:`~bailanys.analytics.transcripts.utterance_row`,
:func:`~bailanys.analytics.facts.fact_row`), in PostgreSQL's SQL: ``%s``
parameters, ``"end"`` quoted, ``RETURNING`` for the new call key, JSON
arrays counted by ``json_array_length``. The search index
(``utterances_search``) follows the rows through the schema's trigger.
Inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import psycopg

from bailanys.analytics.facts import CallFacts, call_facts, fact_row, with_language
from bailanys.analytics.jobs import Job
from bailanys.analytics.model import Channel, Utterance
from bailanys.analytics.transcripts import MAX_UTTERANCES, PENDING, channel_base, utterance_row
from bailanys.store.events import Event, load_data
from bailanys.timezone import ALMATY

PgConn = psycopg.Connection[Any]

_INSERT: Final = (
    'INSERT INTO utterances (id, call_id, recording, channel, start, "end", language, text, '
    "words, terms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_UPSERT: Final = """
INSERT INTO analytics_calls (id, call_id, started, day, ended, queue, agent, language, topic,
    disposition, outcome, duration, wait, survey_score, recording, words)
VALUES ((SELECT coalesce(max(id), 0) + 1 FROM analytics_calls),
        %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (call_id) DO UPDATE SET
    started = excluded.started, day = excluded.day, ended = excluded.ended,
    queue = excluded.queue, agent = excluded.agent, language = excluded.language,
    topic = excluded.topic, disposition = excluded.disposition, outcome = excluded.outcome,
    duration = excluded.duration, wait = excluded.wait, survey_score = excluded.survey_score,
    recording = excluded.recording, words = excluded.words
"""


def _lock_keys(conn: PgConn) -> None:
    """Call keys are ``max(id) + 1`` (SQLite's rowid rule: keys grow with
    the calls, which the search's newest-first scan relies on); one writer
    at a time takes one, until its transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('bailanys.analytics_calls.id'))")


def call_key(conn: PgConn, call_id: str) -> int:
    """The call's key; a ``pending`` row whose facts come later is made."""
    row = conn.execute("SELECT id FROM analytics_calls WHERE call_id = %s", (call_id,)).fetchone()
    if row is not None:
        return int(row[0])
    _lock_keys(conn)
    row = conn.execute(
        "INSERT INTO analytics_calls (id, call_id, started, day, outcome) "
        "VALUES ((SELECT coalesce(max(id), 0) + 1 FROM analytics_calls), %s, 0, '', %s) "
        "ON CONFLICT (call_id) DO UPDATE SET call_id = excluded.call_id RETURNING id",
        (call_id, PENDING)).fetchone()
    assert row is not None
    return int(row[0])


def write_channel(conn: PgConn, call_id: str, recording: str, channel: Channel,
                  utterances: Sequence[Utterance]) -> int:
    """As :func:`bailanys.analytics.transcripts.write_channel`, on PostgreSQL."""
    conn.execute("DELETE FROM utterances WHERE recording = %s AND channel = %s",
                 (recording, channel.value))
    base = channel_base(call_key(conn, call_id), channel)
    got = conn.execute(
        "SELECT coalesce(max(id) + 1, %s) FROM utterances WHERE id >= %s AND id < %s",
        (base, base, base + MAX_UTTERANCES)).fetchone()
    taken = int(got[0]) if got is not None else base
    rows: list[tuple[Any, ...]] = []
    total = 0
    for utt in utterances:
        row = utterance_row(utt)
        if row is None:
            continue
        start, end, text, words, terms, count = row
        rows.append((taken + len(rows), call_id, recording, channel.value, start, end,
                     utt.language, text, words, terms))
        total += count
    if rows and rows[-1][0] >= base + MAX_UTTERANCES:
        raise ValueError(f"{recording}: more than {MAX_UTTERANCES} utterances on {channel}")
    with conn.cursor() as cur:
        cur.executemany(_INSERT, rows)
    return total


def call_words(conn: PgConn, call_id: str) -> int:
    row = conn.execute("SELECT coalesce(sum(json_array_length(words::json)), 0) FROM utterances "
                       "WHERE call_id = %s", (call_id,)).fetchone()
    return int(row[0]) if row is not None else 0


def upsert_call(conn: PgConn, facts: CallFacts, words: int) -> None:
    """As :func:`bailanys.analytics.facts.upsert_call`, on PostgreSQL."""
    _lock_keys(conn)
    conn.execute(_UPSERT, fact_row(facts, words))


def call_events(conn: PgConn, call_id: str) -> list[Event]:
    rows = conn.execute("SELECT id, ts, type, call_id, data FROM events WHERE call_id = %s "
                        "ORDER BY id", (call_id,)).fetchall()
    return [Event(int(r[0]), float(r[1]), r[2], r[3],
                  load_data(int(r[0]), r[4] if isinstance(r[4], str) else _json(r[4])))
            for r in rows]


def _json(value: object) -> str:
    """A ``jsonb`` column's value (psycopg gives it parsed) back to its text."""
    return json.dumps(value, ensure_ascii=False)


def store_transcript(conn: PgConn, job: Job, utterances: Sequence[Utterance],
                     language: str) -> int:
    """As :func:`bailanys.analytics.steps.store_transcript`, on PostgreSQL."""
    words = write_channel(conn, job.call_id, job.recording, job.channel, utterances)
    found = call_facts(call_events(conn, job.call_id), ALMATY)
    if found is not None:
        upsert_call(conn, with_language(found, job.language or language),
                    call_words(conn, job.call_id))
    return words
