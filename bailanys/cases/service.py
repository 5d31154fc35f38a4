"""The requests in the engine: rules, tokens, and the escalation task (issue 19).

Issue 19: "escalation when a deadline passes (event + console alert + the
supervisor's list)". :class:`CasesService` loads the routing table, the
calendar and the systems' API tokens in a thread at start, opens a store
connection per use (:meth:`open_store`, from threads only), and owns one
task that every :data:`ESCALATE_EVERY_S` calls
:meth:`~bailanys.cases.store.CaseStore.escalate_overdue` in a thread and
writes the ``case.escalated`` / ``case.status`` events to the engine's
event sink. :meth:`tick` takes the time as an input (tests). A failure of
one pass is logged and the next pass tries again; ``stop()`` cancels the
task and waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, cast

from bailanys.cases import apitokens
from bailanys.cases import rules as cr
from bailanys.cases.api import Emitter
from bailanys.cases.model import Case
from bailanys.cases.notify import CaseNotifier, to_tell
from bailanys.cases.store import CaseStore, connect
from bailanys.config import Config
from bailanys.errors import BailanysError, ConfigError, StoreError
from bailanys.events.base import EventBase
from bailanys.store.db import MEMORY
from bailanys.web.access import BearerTokens

if TYPE_CHECKING:
    from bailanys.events import AnyEvent

log = logging.getLogger(__name__)

#: Escalation pass period: deadlines are whole days, so a minute late is
#: soon enough for the alert and cheap (one indexed query).
ESCALATE_EVERY_S: Final = 60.0


class CasesService:
    """The engine's requests: ``start()`` / ``stop()`` own the escalation task."""

    def __init__(self, config: Config, events: Emitter, *,
                 interval_s: float = ESCALATE_EVERY_S,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 notifier: Callable[[], CaseNotifier | None] = lambda: None) -> None:
        self.config = config
        #: the SMS notifier over the robot's outbox (None: no SMS gateway)
        self.notifier = notifier
        self.store_path = ""  # the engine's store file, set by start()
        self.events = events
        self.interval_s = interval_s
        self.clock = clock
        self.tokens = BearerTokens({})  # none until start(): the API refuses all
        self._rules: cr.Rules | None = None
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self.passes = 0  # escalation passes done (tests, metrics)

    def _load(self) -> cr.Rules:
        with self._lock:
            if self._rules is None:
                self._rules = cr.load(self.config)
            return self._rules

    def open_store(self) -> CaseStore:
        """A store on a new connection (the caller closes ``.conn``); blocking.
        :class:`StoreError` before :meth:`start` or when requests are off."""
        if not self.store_path:
            raise StoreError("requests are not enabled ([cases] enabled, or an in-memory store)")
        rules = self._load()
        return CaseStore(connect(self.store_path), rules.cases, rules.calendar, rules.topics)

    def tokens_now(self) -> BearerTokens:
        return self.tokens

    async def start(self, store_path: str) -> None:
        """Load the rules and tokens, then run on the store ``store_path`` (its
        file or a PostgreSQL URL; none for an in-memory store: no second
        connection can see it).

        A missing or broken rules or tokens file is logged as an error and
        leaves the requests off (the API answers 503, nothing escalates):
        the calls still run; ``bailanys config check`` names the problem."""
        if not self.config.cases.enabled or store_path == MEMORY:
            return
        try:
            self.tokens = await asyncio.to_thread(apitokens.load, self.config.cases.api_tokens)
            await asyncio.to_thread(self._load)
        except ConfigError as exc:
            log.error("cases: requests are off: %s", exc)
            self.tokens = BearerTokens({})
            return
        self.store_path = store_path
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name="cases-escalation")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self.tick(self.clock())
            await asyncio.sleep(self.interval_s)

    async def tick(self, now: datetime) -> list[EventBase]:
        """One escalation pass at ``now``; its events go to the sink."""

        def work() -> list[EventBase]:
            store = self.open_store()
            try:
                return store.escalate_overdue(now)
            finally:
                store.conn.close()

        try:
            events = await asyncio.to_thread(work)
        except BailanysError as exc:
            log.warning("cases: the escalation pass failed: %s", exc)
            return []
        self.passes += 1
        for event in events:
            self.events.emit(cast("AnyEvent", event))
        if events:
            log.info("cases: %d escalation event(s)", len(events))
            await self._tell_escalated(events)
        return events

    async def tell(self, case: Case, events: Sequence[EventBase]) -> None:
        """Queue the citizen's SMS for a write (none without an SMS gateway);
        a failure is logged, the write stands."""
        notifier = self.notifier()
        if notifier is None:
            return
        try:
            await notifier.notify(case, events)
        except Exception:
            log.exception("cases: the SMS for request %s could not be queued", case.number)

    async def _tell_escalated(self, events: Sequence[EventBase]) -> None:
        """Each escalated request's SMS (the events carry numbers, not requests)."""
        numbers = to_tell(events)
        if not numbers or self.notifier() is None:
            return

        def cases() -> list[Case]:
            store = self.open_store()
            try:
                return [c for n in numbers if (c := store.by_number(n)) is not None]
            finally:
                store.conn.close()

        try:
            found = await asyncio.to_thread(cases)
        except BailanysError as exc:
            log.warning("cases: escalated requests not read for their SMS: %s", exc)
            return
        for case in found:
            await self.tell(case, [e for e in events if getattr(e, "number", None) == case.number])
