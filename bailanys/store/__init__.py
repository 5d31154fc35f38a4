"""Bailanys store layer (see ``docs/architecture.md``): SQLite through aiosqlite,
or PostgreSQL through psycopg 3 (``[store] url``, issue 22).

``Store.open(path_or_url)`` gives a migrated database with ``.events`` (the
batched event log, ``events.py``) and ``.registrations`` (registrar
bindings); ``open_database(url)`` the bare database (``backend.py``);
``connect_sync(url)`` a blocking connection for threads (``syncdb.py``).
"""

from bailanys.store.backend import StoreDatabase, open_database
from bailanys.store.events import Event, EventLog
from bailanys.store.registrations import Registration, Registrations
from bailanys.store.store import Store
from bailanys.store.syncdb import connect_sync

__all__ = ["Event", "EventLog", "Registration", "Registrations", "Store", "StoreDatabase",
           "connect_sync", "open_database"]
