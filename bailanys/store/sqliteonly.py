"""The parts that still open the store file with ``sqlite3`` (issue 22).

The event log, the registrar's bindings, the SMS outbox and the start-up
recovery go through the store interface (``backend.StoreDatabase``) and run
on PostgreSQL. These modules still open the SQLite file themselves, in
threads (``sqlite3.connect``); on a PostgreSQL store the engine does not
start them, and says so once at start (:func:`sqlite_file` gives them
``":memory:"``, which each already treats as "off"; the console pages are
not mounted):

* ``ops`` (the daily backup and retention jobs).

The analysts' page (``analytics.pgwebstore.store_analytics``) and the
transcription workers (``analytics.jobqueue``) choose their backend from the
store's location; on PostgreSQL the workers skip the automatic QA scoring.

Converted (they open the store with ``syncdb.connect_sync`` on
:func:`store_location` / :func:`config_location`, both backends): the
``contacts`` projector (``reports.projector``), the Reports page
(``reports.webstore``, ``reports.produce``), the intraday page
(``intraday.storeread``), the screen pop's history (``desk.history``), the
citizens' requests (``cases.store``: the escalation task, the requests' API
and pages, the robot's "my open requests", the desktop's caller lookup),
the reviewers' page (``qa.webstore`` and the review store).

CLI commands: ``report`` (and ``report rebuild``/``import``), ``cases``,
``faq gaps``, ``qa check`` and ``export queue-log`` read ``[store] url`` on
both; ``backup`` (PostgreSQL: pg_dump's job, it says so), ``retention``,
``analytics`` read ``[store] path``: SQLite only.
"""

from __future__ import annotations

import logging

from bailanys.config import Config
from bailanys.store.backend import StoreDatabase
from bailanys.store.db import MEMORY

log = logging.getLogger(__name__)

#: What is off on a PostgreSQL store (the start-up warning's list).
SQLITE_ONLY = ("daily backup and retention", "the workers' automatic QA scoring")


def sqlite_path(cfg: Config) -> str | None:
    """The SQLite store file of ``cfg``; None on a PostgreSQL store."""
    return cfg.store.path if cfg.store.location.backend == "sqlite" else None


def store_location(db: StoreDatabase) -> str:
    """What ``syncdb.connect_sync`` opens for the engine's store ``db`` (the
    converted readers): the SQLite file's path or the PostgreSQL URL."""
    url = getattr(db, "url", None)
    return str(url) if db.dialect == "postgresql" and url else db.path


def config_location(cfg: Config) -> str:
    """The same from the config: ``[store] url``'s PostgreSQL URL, else ``[store] path``."""
    loc = cfg.store.location
    return loc.target if loc.backend == "postgresql" else cfg.store.path


def sqlite_file(db: StoreDatabase) -> str:
    """The file the sqlite3 readers open for the engine's store ``db``:
    its path, or ``":memory:"`` (their "off") on PostgreSQL, warned once."""
    if db.dialect == "sqlite":
        return db.path
    log.warning("store on PostgreSQL (%s): SQLite-only parts are off: %s",
                db.path, "; ".join(SQLITE_ONLY))
    return MEMORY
