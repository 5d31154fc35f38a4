"""``Store``: the database, migrated, with the event log and registrations."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bailanys.errors import StoreError
from bailanys.store.backend import StoreDatabase, open_database
from bailanys.store.events import DEFAULT_BATCH_INTERVAL, DEFAULT_BATCH_MAX, EventLog
from bailanys.store.migrations import check_version, latest_version, migrate
from bailanys.store.registrations import Registrations


class Store:
    """Owns the connection and the event writer task; ``close()`` ends both."""

    def __init__(self, db: StoreDatabase, events: EventLog, registrations: Registrations) -> None:
        self.db = db
        self.events = events
        self.registrations = registrations

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        batch_interval: float = DEFAULT_BATCH_INTERVAL,
        batch_max: int = DEFAULT_BATCH_MAX,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
    ) -> Store:
        """Open ``path`` (":memory:" for tests; or a ``[store] url``:
        ``postgresql://...``), migrate it, start the writer.

        ``readonly`` opens an existing file without migrating or writing (the
        CLI's ``events``); it must already be at this code's schema version.
        """
        db = await open_database(path, readonly=readonly)
        try:
            if readonly:
                version = await check_version(db)
                if version != latest_version():
                    raise StoreError(
                        f"{db.path}: database schema version {version}, expected "
                        f"{latest_version()}; run `bailanys serve` once or `bailanys store migrate`"
                        " to migrate it"
                    )
            else:
                await migrate(db)
        except BaseException:
            await db.close()
            raise
        events = EventLog(db, batch_interval=batch_interval, batch_max=batch_max, clock=clock)
        store = cls(db, events, Registrations(db))
        if not readonly:
            await events.start()
        return store

    async def close(self) -> None:
        """Write the buffered events, stop the writer, close the database."""
        try:
            if not self.db.readonly:
                await self.events.stop()
        finally:
            await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
