"""Registered contacts of operators' phones (RFC 3261 §10.3), kept in the store
(SQLite or PostgreSQL; ``user`` is quoted: a reserved word on PostgreSQL).

The registrar decides (expiry, authentication); this only stores bindings so
they survive a restart and can be shared by several engine nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bailanys.store.backend import StoreDatabase


@dataclass(frozen=True)
class Registration:
    """One binding: ``user`` reachable at ``contact`` until ``expires_at``."""

    user: str
    contact: str
    expires_at: float
    #: "host:port" the REGISTER came from ("" if unknown).
    source: str
    #: "udp" or "tcp" ("" if unknown).
    transport: str
    user_agent: str


def _row(r: Sequence[Any]) -> Registration:
    return Registration(str(r[0]), str(r[1]), float(r[2]), r[3] or "", r[4] or "", r[5] or "")


class Registrations:
    """Bindings table: one row per (user, contact)."""

    def __init__(self, db: StoreDatabase) -> None:
        self._db = db

    async def save(
        self,
        user: str,
        contact: str,
        expires_at: float,
        source: str = "",
        transport: str = "",
        user_agent: str = "",
    ) -> None:
        """Add or refresh a binding (a re-REGISTER replaces the old row)."""
        await self._db.execute(
            'INSERT INTO registrations ("user", contact, expires_at, source, transport,'
            " user_agent)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            ' ON CONFLICT ("user", contact) DO UPDATE SET expires_at = excluded.expires_at,'
            " source = excluded.source, transport = excluded.transport,"
            " user_agent = excluded.user_agent",
            (user, contact, expires_at, source, transport, user_agent),
        )

    async def remove(self, user: str, contact: str) -> bool:
        """Remove one binding (Expires: 0); True if it existed."""
        n = await self._db.execute(
            'DELETE FROM registrations WHERE "user" = ? AND contact = ?', (user, contact)
        )
        return n > 0

    async def remove_all(self, user: str) -> int:
        """Remove every binding of ``user`` (Contact: *); returns how many."""
        return await self._db.execute('DELETE FROM registrations WHERE "user" = ?', (user,))

    async def lookup(self, user: str, now: float) -> list[Registration]:
        """Unexpired bindings of ``user``, longest-lived first."""
        rows = await self._db.fetchall(
            'SELECT "user", contact, expires_at, source, transport, user_agent'
            ' FROM registrations WHERE "user" = ? AND expires_at > ?'
            " ORDER BY expires_at DESC, contact",
            (user, now),
        )
        return [_row(r) for r in rows]

    async def all(self, now: float) -> list[Registration]:
        """Every unexpired binding, by user then contact (for the console)."""
        rows = await self._db.fetchall(
            'SELECT "user", contact, expires_at, source, transport, user_agent'
            ' FROM registrations WHERE expires_at > ? ORDER BY "user", contact',
            (now,),
        )
        return [_row(r) for r in rows]

    async def purge(self, now: float) -> int:
        """Delete expired bindings; returns how many."""
        return await self._db.execute("DELETE FROM registrations WHERE expires_at <= ?", (now,))
