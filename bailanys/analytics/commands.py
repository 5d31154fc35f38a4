"""``bailanys worker`` and ``bailanys analytics status`` (issue 15).

``worker`` runs one transcription worker on the configured store (any
machine that reaches it: this is how a centre scales transcription out),
at ``[analytics] nice``; SIGTERM or Ctrl-C abandons the job being
transcribed (pending again at once) and exits 0. ``--once`` handles the
jobs waiting now, then exits. ``analytics status`` prints the jobs by
state, the oldest pending job's age and the failed jobs with their errors,
newest first (:mod:`bailanys.analytics.status`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from bailanys.analytics.backend import is_postgres, redact
from bailanys.analytics.settings import EXIT_NO_MODELS, WORKER_ENV
from bailanys.analytics.status import DEFAULT_FAILED_SHOWN, format_status, read_status
from bailanys.cliutil import (
    EXIT_OK,
    CommandError,
    add_config_option,
    configure_logging,
    load_config_or_exit,
    positive_int,
    store_path_or_exit,
    write_lines,
)
from bailanys.config import Config
from bailanys.errors import BailanysError

log = logging.getLogger(__name__)



def register(subparsers: Any) -> None:
    worker = subparsers.add_parser(
        "worker", help="transcribe recordings: claim analytics jobs from the store until stopped")
    add_config_option(worker)
    worker.add_argument("--once", action="store_true",
                        help="handle the jobs waiting now, then exit")
    worker.add_argument("--store", metavar="URL", default="",
                        help="claim from this store instead of the configured one: a SQLite "
                             "path or postgresql://USER@HOST:PORT/DBNAME (issue 22: a worker "
                             "on another machine)")
    worker.set_defaults(func=cmd_worker)

    analytics = subparsers.add_parser("analytics", help="speech analytics tools")
    sub = analytics.add_subparsers(dest="analytics_command", metavar="ACTION", required=True)
    status = sub.add_parser(
        "status", help="transcription jobs: pending, running, done, failed (with their errors)")
    add_config_option(status)
    status.add_argument("--failed", metavar="N", type=positive_int, default=DEFAULT_FAILED_SHOWN,
                        help=f"list at most N failed jobs (default {DEFAULT_FAILED_SHOWN})")
    status.set_defaults(func=cmd_status)


def _readonly(path: str) -> sqlite3.Connection:
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)


def _check_schema(conn: sqlite3.Connection, path: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'analytics_jobs'").fetchone()
    if found is None:
        raise CommandError(f"{path} has no analytics jobs yet (an older schema): "
                           "start the engine once to bring it up to date")


def cmd_status(args: argparse.Namespace) -> int:
    path = store_path_or_exit(load_config_or_exit(args))
    try:
        with contextlib.closing(_readonly(path)) as conn:
            _check_schema(conn, path)
            status = read_status(conn, failed_limit=args.failed)
    except sqlite3.Error as exc:
        raise CommandError(f"{path}: cannot read the analytics jobs: {exc}") from None
    write_lines(format_status(status, time.time()))
    return EXIT_OK


def worker_store(args: argparse.Namespace, config: Config) -> str:
    """The store a worker claims from: ``--store``, else ``[store] url`` when
    it names PostgreSQL (issue 22), else the store file."""
    chosen = str(args.store or getattr(config.store, "url", "") or "")
    if is_postgres(chosen):
        return chosen
    if chosen:
        config = replace(config, store=replace(config.store, path=chosen))
    return store_path_or_exit(config)


def _lower_priority(nice: int) -> None:
    """Run at niceness ``nice`` (never raising our priority)."""
    current = os.nice(0)
    if nice > current:
        os.nice(nice - current)


#: One BLAS/OpenMP thread per worker process (a worker is one core; Kaldi's
#: OpenMP spins otherwise): set before the pipeline's import loads libvosk.
THREAD_ENV = WORKER_ENV


def cmd_worker(args: argparse.Namespace) -> int:
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)
    import psycopg  # the worker only

    from bailanys.analytics.steps import TEST_STEPS_ENV, load_steps
    from bailanys.analytics.worker import Worker

    config = load_config_or_exit(args)
    configure_logging(config)
    path = worker_store(args, config)
    if not is_postgres(path):
        with contextlib.closing(_readonly(path)) as conn:
            _check_schema(conn, path)
    _lower_priority(config.analytics.nice)
    try:
        steps, models = load_steps(config, store=path)
    except (ImportError, AttributeError, BailanysError) as exc:
        raise CommandError(f"the transcription pipeline cannot be loaded: {exc}") from None
    if not os.environ.get(TEST_STEPS_ENV):
        from bailanys.analytics.recogniser import set_cpu_percent

        set_cpu_percent(config.analytics.cpu_percent)
    if not models:  # every job would fail: leave them pending, visibly, and say why
        where = config.analytics.models_dir(config.asr.model_dir)
        raise CommandError(f"no speech model under {where} ([analytics] model_dir, else "
                           "[asr] model_dir): `make models`, or set the path",
                           EXIT_NO_MODELS)
    worker = Worker(path, config.analytics, steps, models)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        worker.terminate()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("worker %s: store %s, models %s", worker.name, redact(path),
             ", ".join(f"{k}={v}" for k, v in sorted(models.items())) or "none")
    try:
        handled = worker.run(once=args.once)
    except (sqlite3.Error, psycopg.Error) as exc:
        raise CommandError(f"{redact(path)}: {exc}") from None
    log.info("worker %s: stopped after %d jobs (%d done, %d failed)", worker.name, handled,
             worker.done, worker.failed)
    return EXIT_OK
