"""The parts that still open the store file with ``sqlite3`` (issue 22).

The event log, the registrar's bindings, the SMS outbox and the start-up
recovery go through the store interface (``backend.StoreDatabase``) and run
on PostgreSQL. These modules still open the SQLite file themselves, in
threads (``sqlite3.connect``); on a PostgreSQL store the engine does not
start them, and says so once at start (:func:`sqlite_file` gives them
``":memory:"``, which each already treats as "off"; the console pages are
not mounted):

* ``reports.projector`` (the ``contacts`` projector) and the report pages;
* ``cases`` (citizens' requests, their escalation task and pages; the
  robot's "my open requests"; the desktop's caller lookup);
* ``ops`` (the daily backup and retention jobs);
* ``analytics.webstore``, ``qa.webstore``, ``intraday.storeread`` (console
  pages) and ``desk.history`` (the screen pop's history).

CLI commands that read the file (``report``, ``qa``, ``cases``, ``faq gaps``,
``backup``, ``retention``, ``analytics``) read ``[store] path``: SQLite only.
"""

from __future__ import annotations

import logging

from bailanys.config import Config
from bailanys.store.backend import StoreDatabase
from bailanys.store.db import MEMORY

log = logging.getLogger(__name__)

#: What is off on a PostgreSQL store (the start-up warning's list).
SQLITE_ONLY = ("contacts projector and report pages", "citizens' requests (cases)",
               "daily backup and retention", "analytics, QA and intraday pages",
               "the screen pop's caller history")


def sqlite_path(cfg: Config) -> str | None:
    """The SQLite store file of ``cfg``; None on a PostgreSQL store."""
    return cfg.store.path if cfg.store.location.backend == "sqlite" else None


def sqlite_file(db: StoreDatabase) -> str:
    """The file the sqlite3 readers open for the engine's store ``db``:
    its path, or ``":memory:"`` (their "off") on PostgreSQL, warned once."""
    if db.dialect == "sqlite":
        return db.path
    log.warning("store on PostgreSQL (%s): SQLite-only parts are off: %s",
                db.path, "; ".join(SQLITE_ONLY))
    return MEMORY
