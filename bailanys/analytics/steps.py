"""The real pipeline a worker runs, built from the other slices of issue 15.

``transcribe_channel`` and ``find_models`` (bailanys.analytics.transcribe),
``clean_utterances`` (bailanys.analytics.clean), ``write_channel`` and
``call_words`` (bailanys.analytics.transcripts), ``call_facts``,
``with_language`` and ``upsert_call`` (bailanys.analytics.facts); the QA
step of issue 16 (``bailanys.qa.scoring.worker_step``, ``[qa] enabled``).

Tests swap the whole pipeline for their own with the environment variable
:data:`TEST_STEPS_ENV` (``module:function``, ``function(config) -> (Steps,
models)``): how a real worker process is given a slow or failing
transcriber. The engine never sets it.
"""

from __future__ import annotations

import importlib
import logging
import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from bailanys.analytics.backend import is_postgres
from bailanys.analytics.facts import call_facts, upsert_call, with_language
from bailanys.analytics.jobs import Job
from bailanys.analytics.model import Utterance
from bailanys.analytics.transcripts import call_words, write_channel
from bailanys.analytics.worker import Steps
from bailanys.config import LANGUAGES, Config
from bailanys.errors import ConfigError
from bailanys.qa.scoring import worker_step
from bailanys.store.events import Event, load_data
from bailanys.timezone import ALMATY

log = logging.getLogger(__name__)

#: Not ``BAILANYS_...``: those are configuration overrides.
TEST_STEPS_ENV = "ANALYTICS_TEST_STEPS"


def call_events(conn: sqlite3.Connection, call_id: str) -> list[Event]:
    """A call's stored events, oldest first (what ``call_facts`` folds)."""
    rows = conn.execute(
        "SELECT id, ts, type, call_id, data FROM events WHERE call_id = ? ORDER BY id", (call_id,)
    ).fetchall()
    return [Event(int(r[0]), float(r[1]), r[2], r[3], load_data(int(r[0]), r[4])) for r in rows]


def store_transcript(conn: sqlite3.Connection, job: Job, utterances: Sequence[Utterance],
                     language: str) -> int:
    """The channel's transcript (idempotent: keyed by recording and channel)
    and the call's facts, inside the worker's transaction; the words written."""
    words = write_channel(conn, job.call_id, job.recording, job.channel, utterances)
    found = call_facts(call_events(conn, job.call_id), ALMATY)
    if found is not None:
        found = with_language(found, job.language or language)
        upsert_call(conn, found, call_words(conn, job.call_id))
    return words


def real_steps(config: Config, store: str = "") -> tuple[Steps, Mapping[str, Path]]:
    """The production pipeline and its models: ``[analytics] model_dir`` (else
    voice_models/analytics/, where ``make models ANALYTICS=1`` puts the large
    ones) per language, falling back to the menus' ``[asr] model_dir``.

    ``store``: where the worker claims; on PostgreSQL (issue 22) the
    transcript is written by :mod:`bailanys.analytics.pgwrite`, and calls
    are not scored by the worker (the QA step reads SQLite only so far)."""
    from bailanys.analytics import transcribe  # loads libvosk: workers only
    from bailanys.analytics.clean import clean_utterances

    model_dir = Path(config.analytics.model_dir or transcribe.ANALYTICS_MODEL_DIR)
    models = transcribe.find_models(model_dir, LANGUAGES,
                                    fallback_dir=Path(config.asr.model_dir))
    if is_postgres(store):
        from bailanys.analytics.pgwrite import store_transcript as store_pg

        if config.qa.enabled:
            log.warning("QA scoring is not run by workers on PostgreSQL yet: calls stay unscored")
        return Steps(transcribe=transcribe.transcribe_channel, clean=clean_utterances,
                     store=store_pg), models
    qa = worker_step(config.qa)
    steps = Steps(transcribe=transcribe.transcribe_channel, clean=clean_utterances,
                  store=store_transcript, qa=qa, qa_recover=qa.recover if qa else None)
    return steps, models


def load_steps(config: Config, store: str = "") -> tuple[Steps, Mapping[str, Path]]:
    """The pipeline to run: the test hook's when :data:`TEST_STEPS_ENV` is set."""
    hook = os.environ.get(TEST_STEPS_ENV)
    if not hook:
        return real_steps(config, store)
    module, _, function = hook.partition(":")
    try:
        factory = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{TEST_STEPS_ENV}={hook!r}: {exc}") from None
    steps, models = factory(config)
    return steps, models
