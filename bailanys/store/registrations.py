"""Registered contacts of operators' phones (RFC 3261 §10.3), kept in SQLite.

The registrar decides (expiry, authentication); this only stores bindings so
they survive a restart and can be shared by several engine nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bailanys.store.db import Database


@dataclass(frozen=True)
class Registration:
    """One binding: ``user`` reachable at ``contact`` until ``expires_at``."""

    user: str
    contact: str
    expires_at: float
    source: str | None
    transport: str | None
    user_agent: str | None


class Registrations:
    """Bindings table: one row per (user, contact)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(
        self,
        user: str,
        contact: str,
        expires_at: float,
        source: str | None = None,
        transport: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Add or refresh a binding (a re-REGISTER replaces the old row)."""
        await self._db.execute(
            "INSERT INTO registrations (user, contact, expires_at, source, transport, user_agent)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user, contact) DO UPDATE SET expires_at = excluded.expires_at,"
            " source = excluded.source, transport = excluded.transport,"
            " user_agent = excluded.user_agent",
            (user, contact, expires_at, source, transport, user_agent),
        )

    async def remove(self, user: str, contact: str) -> bool:
        """Remove one binding (Expires: 0); True if it existed."""
        n = await self._db.execute(
            "DELETE FROM registrations WHERE user = ? AND contact = ?", (user, contact)
        )
        return n > 0

    async def remove_all(self, user: str) -> int:
        """Remove every binding of ``user`` (Contact: *); returns how many."""
        return await self._db.execute("DELETE FROM registrations WHERE user = ?", (user,))

    async def lookup(self, user: str, now: float) -> list[Registration]:
        """Unexpired bindings of ``user``, longest-lived first."""
        rows = await self._db.fetchall(
            "SELECT user, contact, expires_at, source, transport, user_agent"
            " FROM registrations WHERE user = ? AND expires_at > ?"
            " ORDER BY expires_at DESC, contact",
            (user, now),
        )
        return [Registration(r[0], r[1], float(r[2]), r[3], r[4], r[5]) for r in rows]

    async def all(self, now: float) -> list[Registration]:
        """Every unexpired binding, by user then contact (for the console)."""
        rows = await self._db.fetchall(
            "SELECT user, contact, expires_at, source, transport, user_agent"
            " FROM registrations WHERE expires_at > ? ORDER BY user, contact",
            (now,),
        )
        return [Registration(r[0], r[1], float(r[2]), r[3], r[4], r[5]) for r in rows]

    async def purge(self, now: float) -> int:
        """Delete expired bindings; returns how many."""
        return await self._db.execute("DELETE FROM registrations WHERE expires_at <= ?", (now,))
