"""Bailanys store layer (see ``docs/architecture.md``): SQLite through aiosqlite.

``Store.open(path)`` gives a migrated database with ``.events`` (the batched
event log, ``events.py``) and ``.registrations`` (registrar bindings).
"""

from bailanys.store.events import Event, EventLog
from bailanys.store.registrations import Registration, Registrations
from bailanys.store.store import Store

__all__ = ["Event", "EventLog", "Registration", "Registrations", "Store"]
