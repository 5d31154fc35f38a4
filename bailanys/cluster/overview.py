"""The one console of every engine: ``bailanys cluster console`` (issue 22).

:class:`ClusterConsole` is a :class:`~bailanys.console.api.ConsoleApi` for
the usual console server and page, fed from two sources:

* **KPIs from the shared store.** The KPI windows
  (:class:`~bailanys.metrics.windows.KpiWindows`) fold every engine's events
  read from the one store (PostgreSQL): today's at start, then the new rows
  every ``POLL_S`` (:class:`EventsTail`). An engine's own fold sees only its
  own events (its event log's listeners); this one sees all of them, so its
  ``kpis`` and ``board`` count the calls of every engine, each once.
* **Live state from each engine.** Every ``POLL_S`` each engine of
  ``[cluster] peers`` is asked for its ``/cluster/state``
  (:mod:`bailanys.cluster.livestate`, with the shared ``console_token``);
  :func:`~bailanys.cluster.merge.merge_live` merges the answers. An engine
  that does not answer within ``PEER_TIMEOUT_S`` is shown down (``engines``)
  and ``partial`` marks the totals that lack its callers.

Supervisor actions (pause an agent, listen...) act on one engine's calls
and agents: this console refuses them and names the engine consoles.
Tasks: the poller is owned by :meth:`start` and cancelled by :meth:`stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from bailanys.cluster.livestate import PATH
from bailanys.cluster.merge import PeerState, merge_live
from bailanys.console.api import ActionError, DeltaCallback, StateDict, Unsubscribe
from bailanys.console.auth import ConsoleUser
from bailanys.console.board import board
from bailanys.metrics.fold import KpiConfig
from bailanys.metrics.prometheus import KpiCollector, make_registry, render
from bailanys.metrics.windows import KpiWindows, day_start
from bailanys.queue.settings import QueueConfig
from bailanys.store.backend import DATABASE_ERRORS
from bailanys.store.events import Event
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)

#: How often the engines and the store are read.
POLL_S = 1.0
#: An engine that has not answered in this time is shown down.
PEER_TIMEOUT_S = 1.5
#: The store is re-read this far back: an engine stamps an event before its
#: batch commits (tens of milliseconds, a retried batch seconds), and ids
#: from several writers may commit out of order.
SLACK_S = 30.0
#: The "calls waiting" chart: one point per this many seconds, the last hour.
HISTORY_STEP_S = 10.0
HISTORY_POINTS = 360


class EventQuery(Protocol):
    async def query(self, *, since: float | None = None) -> list[Event]: ...


class EventsTail:
    """Every stored event once, in id order per read, from every engine.

    Reads the rows stamped since the latest ``ts`` seen less ``slack_s``
    and keeps those whose id it has not seen: a row that commits after a
    higher id (another engine's writer) is still read, as long as it is
    stamped within ``slack_s`` of the newest. Ids older than the horizon
    are forgotten, so memory is bounded by the events of ``2 * slack_s``.
    """

    def __init__(self, events: EventQuery, slack_s: float = SLACK_S) -> None:
        self._events = events
        self.slack_s = slack_s
        self._seen: dict[int, float] = {}
        self._latest: float | None = None

    async def start(self, since: float) -> list[Event]:
        """Today's events (from ``since``), read once at start."""
        found = await self._events.query(since=since)
        self._keep(found)
        if self._latest is None:
            self._latest = since
        return found

    async def poll(self) -> list[Event]:
        since = None if self._latest is None else self._latest - self.slack_s
        new = [e for e in await self._events.query(since=since)
               if e.id is not None and e.id not in self._seen]
        self._keep(new)
        return new

    def _keep(self, events: Sequence[Event]) -> None:
        for e in events:
            if e.id is not None:
                self._seen[e.id] = e.ts
        if events:
            self._latest = max(self._latest or events[0].ts, max(e.ts for e in events))
        if self._latest is not None:
            horizon = self._latest - 2 * self.slack_s
            if len(self._seen) > 1000:
                self._seen = {i: ts for i, ts in self._seen.items() if ts >= horizon}


def peer_name(url: str) -> str:
    """An engine's name on the page: its console's host:port."""
    return urlsplit(url).netloc or url


class ClusterConsole:
    """The console API over every engine's live state and the shared store."""

    def __init__(self, peers: Sequence[str], token: str, events: EventQuery, *,
                 kpi: KpiConfig | None = None, client: httpx.AsyncClient | None = None,
                 poll_s: float = POLL_S, timeout_s: float = PEER_TIMEOUT_S,
                 queues: QueueConfig | None = None) -> None:
        self.peers = tuple(peers)
        #: The queues file: the board's display names and thresholds.
        self.queues = queues
        self._token = token
        self.tail = EventsTail(events)
        self.windows = KpiWindows(kpi or KpiConfig())
        self._client = client
        self._own_client = client is None
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.states: list[PeerState] = [PeerState(peer_name(p), p, None, "not read yet")
                                        for p in self.peers]
        self.live: dict[str, Any] = merge_live(self.states)
        self.history: deque[dict[str, float]] = deque(maxlen=HISTORY_POINTS)
        self._subscribers: list[DeltaCallback] = []
        self._tasks = TaskSet()
        self.registry = make_registry(KpiCollector(lambda: self.windows.snapshots(time.time())))
        self.events_folded = 0
        #: Why the store could not be read last time; None: it could.
        self.store_error: str | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
        for event in await self.tail.start(day_start(time.time())):
            self.windows.apply(event)
            self.events_folded += 1
        await self.refresh()
        self._tasks.spawn(self._poller(), name="cluster-console-poll")
        log.info("cluster console: %d engine(s), KPIs from %d stored events of today",
                 len(self.peers), self.events_folded)

    async def stop(self) -> None:
        await self._tasks.cancel_all()
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None

    async def _poller(self) -> None:
        next_point = 0.0
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                delta = await self.refresh()
            except Exception:  # a bug or a store problem: keep the last state, try again
                log.exception("cluster console: reading the engines or the store failed")
                continue
            if time.monotonic() >= next_point:
                next_point = time.monotonic() + HISTORY_STEP_S
                waiting = sum(len(q["waiting"]) for q in self.live["queues"])
                self.history.append({"t": round(time.time(), 3), "waiting": waiting})
                delta["history"] = list(self.history)
            for callback in list(self._subscribers):
                try:
                    callback(delta)
                except Exception:
                    log.exception("a console subscriber failed")

    async def refresh(self) -> StateDict:
        """Read every engine and the store's new events once; the changed parts."""
        self.states = list(await asyncio.gather(*(self._read(p) for p in self.peers)))
        live = merge_live(self.states)
        delta: StateDict = {k: v for k, v in live.items() if self.live.get(k) != v}
        self.live = live
        try:
            new = await self.tail.poll()
        except DATABASE_ERRORS as exc:  # the live parts still go out; KPIs wait
            if self.store_error is None:
                log.warning("cluster console: the store cannot be read (KPIs stand still): %s",
                            exc)
            self.store_error = str(exc) or type(exc).__name__
            new = []
        else:
            if self.store_error is not None:
                log.info("cluster console: the store is read again")
            self.store_error = None
        for event in new:
            self.windows.apply(event)
        self.events_folded += len(new)
        delta.update(self._kpi_parts())  # the live waits grow without events
        return delta

    async def _read(self, url: str) -> PeerState:
        name = peer_name(url)
        old = next((s for s in self.states if s.url == url), None)
        seen = old.seen if old is not None else None
        assert self._client is not None
        try:
            answer = await self._client.get(url.rstrip("/") + PATH, headers={
                "Authorization": f"Bearer {self._token}"}, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            return PeerState(name, url, None, type(exc).__name__, seen)
        if answer.status_code != 200:
            return PeerState(name, url, None, f"HTTP {answer.status_code}", seen)
        try:
            body = answer.json()
        except ValueError:
            return PeerState(name, url, None, "not JSON", seen)
        if not isinstance(body, Mapping):
            return PeerState(name, url, None, "not a JSON object", seen)
        return PeerState(name, url, body, "", time.time())

    def _kpi_parts(self) -> StateDict:
        today = self.windows.snapshot("today", time.time())
        kpis: dict[str, Any] = {}
        if today is not None:
            kpis = {k.name: k.to_json() for k in today.total.kpis}
        return {"kpis": kpis, "board": board(today, self.queues)}

    # ------------------------------------------------------------ ConsoleApi

    def snapshot(self) -> StateDict:
        return {**self.live, **self._kpi_parts(), "history": list(self.history),
                "cases": {"enabled": False, "overdue": 0, "departments": [], "items": [],
                          "latest": []},
                "monitors": [], "topics": []}

    def subscribe(self, callback: DeltaCallback) -> Unsubscribe:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    async def act(self, user: ConsoleUser, action: StateDict) -> StateDict:
        names = ", ".join(self.peers) or "-"
        raise ActionError(f"the cluster console only shows; act on the engine's own "
                          f"console ({names})")

    def metrics_text(self) -> bytes:
        text = render(self.registry)
        lines = ["# HELP bailanys_cluster_engine_up 1 when the engine answered its last read",
                 "# TYPE bailanys_cluster_engine_up gauge"]
        lines += [f'bailanys_cluster_engine_up{{engine="{s.name}"}} {int(s.state is not None)}'
                  for s in self.states]
        return text + ("\n".join(lines) + "\n").encode()
