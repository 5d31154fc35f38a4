"""Operators' phones registered with the proxy, for the engine's dialer (issue 22).

:class:`ProxyPhones` is the :class:`~bailanys.engine.dialer.Bindings` of an
engine behind Kamailio: ``lookup(agent)`` gives one binding whose contact is
``sip:<agent>@<proxy>`` and whose address is the proxy, so the INVITE goes
to the proxy and the proxy's ``lookup("location")`` finds the phone.

Who is registered is read from Kamailio's ``location`` table (usrloc in
PostgreSQL, ``db_mode`` 1 or 3: the table is current) every
``locations_poll_ms`` by one owned task over psycopg's async connection
(never blocking the loop); a phone that appears or goes is reported through
``on_change(user, contact, registered)``, as the engine's own registrar
does, so the queues learn of it. The first read, at start, is silent (the
queues ask :meth:`ProxyPhones.lookup` when they start, as after a restart).
A database that cannot be read keeps the last known set and is logged once
per outage. Without ``locations_url`` every agent counts as registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from typing import Any

from bailanys.cluster.proxy import ClusterConfig
from bailanys.engine.registrar import Binding

log = logging.getLogger(__name__)

#: Kamailio's usrloc table (``/usr/share/kamailio/postgres/usrloc-create.sql``):
#: expired rows are deleted by usrloc's timer, so a row is a live binding.
QUERY = "SELECT username, contact FROM location ORDER BY username, q DESC, last_modified DESC"


class ProxyPhones:
    """Bindings of operators' phones through the proxy (module docstring)."""

    def __init__(self, config: ClusterConfig,
                 on_change: Callable[[str, str, bool], None] | None = None) -> None:
        self._config = config
        self._proxy = config.proxy
        self._addr = config.proxy_addr
        self._on_change = on_change
        #: user -> the phone's contact as registered (from ``location``).
        self.phones: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None
        self._failing = False

    @property
    def every_agent(self) -> bool:
        """No registrations to read: every agent counts as registered."""
        return not self._config.locations_url

    def lookup(self, user: str, now: float) -> list[Binding]:
        if not self.every_agent and user not in self.phones:
            return []
        return [Binding(user=user, contact=f"sip:{user}@{self._proxy}", expires_at=math.inf,
                        source=self._addr, transport="UDP", user_agent="proxy")]

    async def start(self) -> None:
        if self.every_agent:
            return
        await self.poll(notify=False)
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="proxy-phones")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._config.locations_poll_ms / 1000.0)
            await self.poll()

    async def poll(self, *, notify: bool = True) -> None:
        """Read the table once; report the phones that came and went."""
        try:
            rows = await self._read()
        except Exception as exc:  # psycopg.Error, OSError: keep the last known set
            if not self._failing:
                log.warning("proxy registrations: cannot read %s: %s", "location", exc)
            self._failing = True
            await self._close()
            return
        if self._failing:
            log.info("proxy registrations: reading location again")
            self._failing = False
        now: dict[str, str] = {}
        for user, contact in rows:
            now.setdefault(str(user), str(contact))
        before, self.phones = self.phones, now
        if not notify or self._on_change is None:
            return
        for user in sorted(set(before) - set(now)):
            self._on_change(user, before[user], False)
        for user in sorted(set(now) - set(before)):
            self._on_change(user, now[user], True)

    async def _read(self) -> list[tuple[Any, ...]]:
        if self._conn is None:
            import psycopg  # only an engine behind a proxy needs it

            self._conn = await psycopg.AsyncConnection.connect(
                self._config.locations_url, autocommit=True, connect_timeout=3)
        cur = await self._conn.execute(QUERY)
        return list(await cur.fetchall())

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
