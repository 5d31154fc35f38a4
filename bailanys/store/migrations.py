"""Versioned schema: an ordered list of steps, tracked in ``PRAGMA user_version``.

Each step is ``(version, statements)``; ``migrate()`` applies every step newer
than the database's ``user_version``, each in one transaction that also sets
``user_version``, so a step either lands whole or not at all. A database
whose version is newer than the newest step here was written by a newer
Bailanys and is refused (``StoreError``): old code must not write to it.

Add a step by appending to ``MIGRATIONS``; never edit a released one.

On PostgreSQL (issue 22) the same versions come from
``pg_schema.PG_MIGRATIONS`` (hand-written DDL, the version in a
``schema_version`` table); ``migrate``/``check_version``/``schema_version``
choose by ``db.dialect``, so a new step needs its PostgreSQL twin there.
"""

from __future__ import annotations

import logging
import sqlite3

from bailanys.errors import StoreError
from bailanys.store.backend import StoreDatabase
from bailanys.store.pg_schema import PG_MIGRATIONS, migrate_pg, pg_schema_version

log = logging.getLogger(__name__)

Step = tuple[int, tuple[str, ...]]

SCHEMA_V1: tuple[str, ...] = (
    """
    CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        ts      REAL NOT NULL,
        type    TEXT NOT NULL,
        call_id TEXT,
        data    TEXT NOT NULL  -- JSON object of the event's own fields
    )
    """,
    "CREATE INDEX events_call_id ON events (call_id)",
    "CREATE INDEX events_type_ts ON events (type, ts)",
    """
    CREATE TABLE registrations (
        user       TEXT NOT NULL,
        contact    TEXT NOT NULL,
        expires_at REAL NOT NULL,
        source     TEXT,
        transport  TEXT,
        user_agent TEXT,
        PRIMARY KEY (user, contact)
    )
    """,
)

#: Version 2: the SMS outbox (``bailanys.robot.sms``). One row per message;
#: ``state`` is one of queued/sent/delivered/failed; ``next_try`` is the
#: epoch second of the next send attempt; ``kannel_id`` is the SMSC's
#: message id as Kannel reports it (``%F`` in the DLR URL), from the first DLR. Our ``id``
#: travels in the DLR URL.
SCHEMA_V2_SMS: tuple[str, ...] = (
    """
    CREATE TABLE sms_outbox (
        id         INTEGER PRIMARY KEY,
        created    REAL NOT NULL,
        to_number  TEXT NOT NULL,
        text       TEXT NOT NULL,
        state      TEXT NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'sent', 'delivered', 'failed')),
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_try   REAL NOT NULL,
        kannel_id  TEXT,
        last_error TEXT,
        updated    REAL NOT NULL
    )
    """,
    "CREATE INDEX sms_outbox_state_id ON sms_outbox (state, id)",
)

#: Version 3: speech analytics (``bailanys.analytics``).
#:
#: ``analytics_jobs``: one transcription job per recording and channel,
#: written in the same transaction as the ``recording.closed`` event. A
#: worker claims a job with a conditional UPDATE (state pending, or running
#: with ``lease_until`` in the past) and renews the lease while it works;
#: ``UNIQUE (recording, channel)`` makes the job, and so its transcript,
#: exist once. ``utterances``: the transcript, masked (no personal data),
#: one row per stretch of speech; ``terms`` holds one normalised search term
#: per word of ``text`` (``bailanys.analytics.morph``), indexed by the FTS5
#: table ``utterances_fts`` (external content, kept in step by triggers).
#: ``analytics_calls``: one row per transcribed call, what search filters on
#: and what the call page shows. An utterance's ``id`` is its call's ``id``
#: << 16 | channel (caller 0, agent 1) << 15 | its index on that channel
#: (``bailanys.analytics.transcripts``), so a search reads the call and the
#: channel of an FTS5 match from its rowid without reading the utterance.
SCHEMA_V3_ANALYTICS: tuple[str, ...] = (
    """
    CREATE TABLE analytics_jobs (
        id          INTEGER PRIMARY KEY,
        call_id     TEXT NOT NULL,
        recording   TEXT NOT NULL,  -- the WAV file's path
        channel     TEXT NOT NULL CHECK (channel IN ('caller', 'agent')),
        language    TEXT,           -- the call's language when known (kk, ru)
        state       TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'running', 'done', 'failed')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        lease_until REAL,           -- epoch seconds; a running job past it is claimable
        worker      TEXT,
        error       TEXT,
        created     REAL NOT NULL,
        updated     REAL NOT NULL,
        UNIQUE (recording, channel)
    )
    """,
    "CREATE INDEX analytics_jobs_state ON analytics_jobs (state, id)",
    """
    CREATE TABLE utterances (
        id        INTEGER PRIMARY KEY,
        call_id   TEXT NOT NULL,
        recording TEXT NOT NULL,
        channel   TEXT NOT NULL CHECK (channel IN ('caller', 'agent')),
        start     REAL NOT NULL,    -- seconds from the recording's start
        end       REAL NOT NULL,
        language  TEXT NOT NULL,
        text      TEXT NOT NULL,    -- masked, numbers as digits
        words     TEXT NOT NULL,    -- JSON [[word, start, end, conf], ...], masked
        terms     TEXT NOT NULL     -- one search term per word of text, space-separated
    )
    """,
    "CREATE INDEX utterances_call ON utterances (call_id, start)",
    "CREATE INDEX utterances_recording ON utterances (recording, channel)",
    """
    CREATE VIRTUAL TABLE utterances_fts USING fts5(
        terms, content='utterances', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0'
    )
    """,
    """
    CREATE TRIGGER utterances_ai AFTER INSERT ON utterances BEGIN
        INSERT INTO utterances_fts (rowid, terms) VALUES (new.id, new.terms);
    END
    """,
    """
    CREATE TRIGGER utterances_ad AFTER DELETE ON utterances BEGIN
        INSERT INTO utterances_fts (utterances_fts, rowid, terms)
        VALUES ('delete', old.id, old.terms);
    END
    """,
    """
    CREATE TABLE analytics_calls (
        id           INTEGER PRIMARY KEY,  -- the call's key: utterances.id >> 16
        call_id      TEXT NOT NULL UNIQUE,
        started      REAL NOT NULL,  -- epoch seconds of call.offered
        day          TEXT NOT NULL,  -- local date (engine.timezone), YYYY-MM-DD
        ended        REAL,
        queue        TEXT,
        agent        TEXT,
        language     TEXT,
        topic        TEXT,
        disposition  TEXT,
        outcome      TEXT NOT NULL,  -- answered, lost, robot, ivr
        duration     REAL,           -- seconds, offered to ended
        wait         REAL,           -- seconds in queue before an agent
        survey_score INTEGER,
        recording    TEXT,
        words        INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX analytics_calls_started ON analytics_calls (started)",
    "CREATE INDEX analytics_calls_agent ON analytics_calls (agent, started)",
    "CREATE INDEX analytics_calls_queue ON analytics_calls (queue, started)",
)

#: Version 4: the voice assistant's unanswered questions (issue 18, "FAQ gaps",
#: ``bailanys.robot.gaps``): one row per spoken turn the assistant handed over
#: or answered below its confidence threshold, written in the same transaction
#: as that turn's ``robot.faq`` event. ``text`` is the recognised question
#: MASKED (``analytics.pii.mask_text``), never the raw transcript; ``terms``
#: its search terms (``analytics.morph``); ``candidates`` the matcher's best
#: entries as JSON ``[[entry_id, confidence], ...]``. ``day`` is the local date
#: (Asia/Almaty) the ``--period`` of ``bailanys faq gaps`` filters on.
#: ``resolution``: how a clarify ended, set by the ``clarified`` event's row
#: (``answered:<entry>``, ``no_choice``, ``no_input``; '' otherwise). Rows
#: older than ``robot.gaps_retention_days`` are deleted as new ones arrive.
SCHEMA_V4_FAQ_GAPS: tuple[str, ...] = (
    """
    CREATE TABLE faq_gaps (
        id         INTEGER PRIMARY KEY,
        ts         REAL NOT NULL,   -- epoch seconds of the turn
        day        TEXT NOT NULL,   -- local date, YYYY-MM-DD
        call_id    TEXT NOT NULL,
        language   TEXT NOT NULL,   -- the assistant's language (kk, ru)
        text       TEXT NOT NULL,   -- the recognised question, masked
        terms      TEXT NOT NULL,   -- one search term per word of text
        candidates TEXT NOT NULL,   -- JSON [[entry, confidence], ...], best first
        outcome    TEXT NOT NULL,   -- clarify, no_match, operator
        attempt    INTEGER NOT NULL,
        resolution TEXT NOT NULL DEFAULT ''  -- after a clarify: answered:<entry>, no_choice...
    )
    """,
    "CREATE INDEX faq_gaps_day ON faq_gaps (day, language)",
    "CREATE INDEX faq_gaps_ts ON faq_gaps (ts)",
    "CREATE INDEX faq_gaps_call ON faq_gaps (call_id)",
)

#: Version 5: quality assurance (issue 16, ``bailanys.qa``).
#:
#: - ``qa_scorecards``: every scorecard version ever applied, with its
#:   canonical JSON (``body``) and its sha256 (``digest``): a score names the
#:   version it used, and a file changed without a higher version is refused.
#: - ``qa_scores``: one automatic score per call and scorecard version
#:   (``results``: JSON list of ``qa.model.Result.to_json``; ``acoustics``:
#:   JSON of the acoustic measures), written with its ``qa.scored`` event.
#: - ``qa_queue``: why a call is to be reviewed, one row per (call, reason);
#:   ``sample_key`` is the random key of the per-agent weekly sample (the
#:   lowest keys of the week stay; a displaced one still ``open`` is
#:   ``removed``); ``week`` the ISO week (YYYY-Www, local time).
#: - ``qa_reviews``: a reviewer's review of a call; ``state`` draft or final.
#:   A final row is immutable (triggers refuse UPDATE and DELETE); a
#:   correction is a new row with ``revision`` + 1 and ``supersedes`` the
#:   earlier id. ``answers``: JSON list of ``qa.model.Answer.to_json``.
#:   ``counted``: this review is the one KPI 2 counts for the call; the
#:   only change a final row accepts is ``counted`` 1 -> 0 (its correction,
#:   finalised, is counted instead).
SCHEMA_V5_QA: tuple[str, ...] = (
    """
    CREATE TABLE qa_scorecards (
        id       TEXT NOT NULL,
        version  INTEGER NOT NULL,
        digest   TEXT NOT NULL,    -- sha256 of body
        body     TEXT NOT NULL,    -- canonical JSON of the scorecard
        created  REAL NOT NULL,
        PRIMARY KEY (id, version)
    )
    """,
    """
    CREATE TABLE qa_scores (
        id              INTEGER PRIMARY KEY,
        call_id         TEXT NOT NULL,
        scorecard       TEXT NOT NULL,
        version         INTEGER NOT NULL,
        ts              REAL NOT NULL,   -- epoch seconds scored
        day             TEXT NOT NULL,   -- the call's local date, YYYY-MM-DD
        agent           TEXT,
        queue           TEXT,
        language        TEXT,
        total           REAL,            -- 0-100; NULL when no criterion applied
        critical_failed TEXT NOT NULL DEFAULT '',  -- comma-separated criterion ids
        results         TEXT NOT NULL,   -- JSON [Result, ...]
        acoustics       TEXT NOT NULL DEFAULT '{}',  -- JSON {measure: value}
        UNIQUE (call_id, scorecard, version)
    )
    """,
    "CREATE INDEX qa_scores_agent ON qa_scores (agent, day)",
    "CREATE INDEX qa_scores_day ON qa_scores (day)",
    """
    CREATE TABLE qa_queue (
        id         INTEGER PRIMARY KEY,
        call_id    TEXT NOT NULL,
        reason     TEXT NOT NULL CHECK (reason IN
                   ('sample', 'critical', 'survey', 'complaint', 'flag', 'calibration')),
        detail     TEXT NOT NULL DEFAULT '',
        agent      TEXT,
        week       TEXT NOT NULL,   -- ISO week of the call, YYYY-Www
        sample_key REAL,            -- the weekly sample's random key (reason 'sample')
        added      REAL NOT NULL,
        added_by   TEXT,            -- the console user who flagged it; NULL: a rule
        state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'removed')),
        UNIQUE (call_id, reason)
    )
    """,
    "CREATE INDEX qa_queue_open ON qa_queue (state, added)",
    "CREATE INDEX qa_queue_sample ON qa_queue (agent, week, reason)",
    """
    CREATE TABLE qa_reviews (
        id              INTEGER PRIMARY KEY,
        call_id         TEXT NOT NULL,
        reviewer        TEXT NOT NULL,
        revision        INTEGER NOT NULL DEFAULT 1,
        supersedes      INTEGER REFERENCES qa_reviews (id),
        scorecard       TEXT NOT NULL,
        version         INTEGER NOT NULL,
        state           TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'final')),
        answers         TEXT NOT NULL DEFAULT '[]',  -- JSON [Answer, ...]
        comment         TEXT NOT NULL DEFAULT '',
        total           REAL,
        critical_failed TEXT NOT NULL DEFAULT '',
        counted         INTEGER NOT NULL DEFAULT 0,
        created         REAL NOT NULL,
        finalised       REAL,
        UNIQUE (call_id, reviewer, revision)
    )
    """,
    "CREATE INDEX qa_reviews_call ON qa_reviews (call_id, state)",
    "CREATE INDEX qa_reviews_final ON qa_reviews (state, finalised)",
    """
    CREATE TRIGGER qa_reviews_final_update BEFORE UPDATE ON qa_reviews
    WHEN old.state = 'final' AND NOT (
        new.counted = 0 AND old.counted = 1 AND new.state = 'final'
        AND new.id = old.id AND new.call_id = old.call_id AND new.reviewer = old.reviewer
        AND new.revision = old.revision AND new.supersedes IS old.supersedes
        AND new.scorecard = old.scorecard AND new.version = old.version
        AND new.answers = old.answers AND new.comment = old.comment
        AND new.total IS old.total AND new.critical_failed = old.critical_failed
        AND new.created = old.created AND new.finalised IS old.finalised)
    BEGIN
        SELECT RAISE(ABORT, 'a finalised review is immutable; write a correction');
    END
    """,
    """
    CREATE TRIGGER qa_reviews_final_delete BEFORE DELETE ON qa_reviews
    WHEN old.state = 'final'
    BEGIN
        SELECT RAISE(ABORT, 'a finalised review is immutable; write a correction');
    END
    """,
)

#: Version 6: the regulator's reports (issue 17, ``bailanys.reports``).
#:
#: - ``contacts``: one row per contact (``reports.model.Contact``): a call,
#:   folded from its events by ``reports/contacts.py`` and kept by the
#:   engine's projector (rewritten when a later event of the call arrives:
#:   a disposition in wrap-up, a survey, a complaint verdict), or a row
#:   imported from CSV (``call_id`` NULL, ``import_batch`` set). Personal
#:   data: none (no number, no IIN; the portrait is an age band and sex).
#: - ``contact_imports``: each CSV import (file name, period, rows, who);
#:   deleting a batch deletes its rows (a corrected file replaces it).
SCHEMA_V6_REPORTS: tuple[str, ...] = (
    """
    CREATE TABLE contact_imports (
        id        INTEGER PRIMARY KEY,
        name      TEXT NOT NULL,   -- the file's name as given
        since     TEXT NOT NULL,   -- YYYY-MM-DD, the period the file covers
        until     TEXT NOT NULL,
        rows      INTEGER NOT NULL,
        imported  REAL NOT NULL,
        user      TEXT NOT NULL DEFAULT ''
    )
    """,
    """
    CREATE TABLE contacts (
        id                  INTEGER PRIMARY KEY,
        call_id             TEXT UNIQUE,     -- NULL: imported
        started             REAL NOT NULL,
        day                 TEXT NOT NULL,   -- local date, YYYY-MM-DD
        channel             TEXT NOT NULL,   -- reports.model.ContactChannel
        language            TEXT,
        queue               TEXT,
        agent               TEXT,
        topic               TEXT,
        topic_source        TEXT,
        region              TEXT NOT NULL DEFAULT 'unknown',
        region_source       TEXT,
        age_band            TEXT,
        sex                 TEXT,
        social_status       TEXT,
        answered            INTEGER NOT NULL DEFAULT 0,
        abandoned           INTEGER NOT NULL DEFAULT 0,
        resolved            INTEGER,
        complaint           INTEGER NOT NULL DEFAULT 0,
        complaint_confirmed INTEGER,
        survey_score        INTEGER,
        wait_s              REAL,
        handle_s            REAL,
        answer_s            REAL,
        import_batch        INTEGER REFERENCES contact_imports (id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX contacts_day ON contacts (day, channel)",
    "CREATE INDEX contacts_topic ON contacts (day, topic)",
    "CREATE INDEX contacts_region ON contacts (day, region)",
    "CREATE INDEX contacts_batch ON contacts (import_batch)",
)

#: Version 7: citizens' requests (``bailanys.cases``, issue 19). ``phone``
#: is kept for the SMS updates (like ``sms_outbox.to_number``); the IIN only
#: as ``iin_hash`` (salted HMAC). Dates of deadlines are local ISO dates;
#: times are epoch seconds. ``case_history`` gets a row for every change.
SCHEMA_V7_CASES: tuple[str, ...] = (
    """
    CREATE TABLE cases (
        id          INTEGER PRIMARY KEY,
        number      TEXT UNIQUE,          -- YYYY-NNNNNN, set after the insert
        kind        TEXT NOT NULL,        -- cases.model.Kind
        phone       TEXT NOT NULL DEFAULT '',
        iin_hash    TEXT,
        lang        TEXT NOT NULL,
        topic       TEXT NOT NULL,
        description TEXT NOT NULL,
        status      TEXT NOT NULL,        -- cases.lifecycle.Status
        created     REAL NOT NULL,
        updated     REAL NOT NULL,
        call_id     TEXT,
        category    TEXT,                 -- complaints only
        confirmed   INTEGER               -- complaints only: the supervisor's verdict
    )
    """,
    "CREATE INDEX cases_iin ON cases (iin_hash, topic)",
    "CREATE INDEX cases_phone ON cases (phone, topic)",
    "CREATE INDEX cases_status ON cases (status)",
    """
    CREATE TABLE case_questions (
        case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        no         INTEGER NOT NULL,
        text       TEXT NOT NULL,
        topic      TEXT NOT NULL,
        department TEXT NOT NULL,
        route_by   TEXT,
        deadline   TEXT NOT NULL,
        answered   REAL,
        PRIMARY KEY (case_id, no)
    )
    """,
    "CREATE INDEX case_questions_open ON case_questions (answered, deadline)",
    """
    CREATE TABLE case_history (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        at      REAL NOT NULL,
        user    TEXT NOT NULL,
        what    TEXT NOT NULL,
        detail  TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX case_history_case ON case_history (case_id, id)",
    """
    CREATE TABLE case_promises (
        case_id  INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        no       INTEGER NOT NULL,
        text     TEXT NOT NULL,
        deadline TEXT NOT NULL,
        made_by  TEXT NOT NULL,
        made_at  REAL NOT NULL,
        kept_at  REAL,
        PRIMARY KEY (case_id, no)
    )
    """,
)

#: Version 8: the operators' screen pop (issue 19, ``bailanys.desk.history``).
#: ``contacts.caller_key``: the caller's number as a salted hash (hex
#: HMAC-SHA256 of the normalised number, ``desk.pop.caller_key``, with the
#: requests' salt ``[cases] salt_file``); NULL for an anonymous caller, an
#: imported row, or a projector without the salt. The number itself is never
#: stored here. ``contacts.outcome``: the disposition's outcome
#: (``queue.outcome.Outcome``; ``transferred`` when the call was transferred).
#: The index serves "this caller's contacts of the last 90 days".
SCHEMA_V8_CALLER: tuple[str, ...] = (
    "ALTER TABLE contacts ADD COLUMN caller_key TEXT",
    "ALTER TABLE contacts ADD COLUMN outcome TEXT",
    "CREATE INDEX contacts_caller ON contacts (caller_key, started)",
)

#: Version 9: the engine that wrote each event (issue 22: several engines on
#: one store; the writer's ``EventLog.engine``, the engine's incarnation, NULL
#: for a single engine and for rows written before). PostgreSQL's twin also
#: creates ``queue_leases`` (``pg_schema.PG_SCHEMA_V9_CLUSTER``).
SCHEMA_V9_ENGINE: tuple[str, ...] = (
    "ALTER TABLE events ADD COLUMN engine TEXT",
)

MIGRATIONS: tuple[Step, ...] = ((1, SCHEMA_V1), (2, SCHEMA_V2_SMS), (3, SCHEMA_V3_ANALYTICS),
                                (4, SCHEMA_V4_FAQ_GAPS), (5, SCHEMA_V5_QA),
                                (6, SCHEMA_V6_REPORTS), (7, SCHEMA_V7_CASES),
                                (8, SCHEMA_V8_CALLER), (9, SCHEMA_V9_ENGINE))


def latest_version(steps: tuple[Step, ...] = MIGRATIONS) -> int:
    return steps[-1][0] if steps else 0


def default_steps(db: StoreDatabase) -> tuple[Step, ...]:
    """The schema's steps for ``db``'s backend."""
    return PG_MIGRATIONS if db.dialect == "postgresql" else MIGRATIONS


async def schema_version(db: StoreDatabase) -> int:
    if db.dialect == "postgresql":
        return await pg_schema_version(db)
    rows = await db.fetchall("PRAGMA user_version")
    return int(rows[0][0])


async def check_version(db: StoreDatabase, steps: tuple[Step, ...] | None = None) -> int:
    """Return the database's version; refuse one newer than this code."""
    version = await schema_version(db)
    latest = latest_version(default_steps(db) if steps is None else steps)
    if version > latest:
        raise StoreError(
            f"{db.path}: database schema version {version} is newer than this "
            f"Bailanys supports ({latest}); upgrade Bailanys"
        )
    return version


async def migrate(db: StoreDatabase, steps: tuple[Step, ...] | None = None) -> int:
    """Bring the schema up to date; returns the version reached. Idempotent."""
    steps = default_steps(db) if steps is None else steps
    versions = [v for v, _ in steps]
    if versions != sorted(set(versions)) or any(v < 1 for v in versions):
        raise StoreError(f"migration versions must be increasing from 1, got {versions}")
    await check_version(db, steps)
    if db.dialect == "postgresql":
        await migrate_pg(db, steps, latest_version(steps))
        return await check_version(db, steps)
    for version, statements in steps:
        try:
            async with db.transaction() as conn:
                # Re-read inside the write lock: another process may have
                # migrated between our check and BEGIN IMMEDIATE.
                cursor = await conn.execute("PRAGMA user_version")
                row = await cursor.fetchone()
                current = int(row[0]) if row else 0
                if current >= version:
                    continue
                for sql in statements:
                    await conn.execute(sql)
                await conn.execute(f"PRAGMA user_version = {int(version)}")
        except sqlite3.Error as exc:
            raise StoreError(f"{db.path}: migration to version {version} failed: {exc}") from exc
        log.info("%s: schema %d -> %d", db.path, current, version)
    return await check_version(db, steps)
