"""The engine's side of the operators' desktop: :class:`DeskService`.

Issue 19, "Operators' desktop": a screen pop when the operator's phone
rings (the caller, the IVR path and robot turns of this call, the wait,
the caller's history), the call's phases, the agent's state with the
wrap-up timer, and the operator's actions (ready, break, logout,
disposition, transfer) through the same queue API the console uses.

It follows the event log (``subscribe``: called on the event path, so every
handler is O(1) and never awaits):

* ``call.offered`` opens a journal of the call (``desk/pop.py``'s
  ``CallJournal``); every later event of that call is applied to it;
  ``call.ended`` drops it;
* ``queue.joined`` starts reading the caller's history in a thread
  (``HistoryReader.read`` through :func:`asyncio.to_thread`), so that at
  ring time the pop does not wait for the disk;
* ``agent.ringing`` pushes ``pop`` (``screen_pop``) and ``call`` ringing to
  that agent's desktops (a pop whose history is still being read waits for
  it at most :data:`POP_WAIT_S`, in a task, then goes without it);
* ``call.connected`` / ``call.completed`` / ``agent.no_answer`` /
  ``call.transferred`` push the phases connected / ended / missed /
  transferred; ``agent.state`` pushes ``state`` (with ``wrap_up_until``).

It takes small ports, never the engine: the event feed, the queues
(:class:`DeskQueues`: ``QueueService``), the history reader (opened at
start; None: no history), the journal and pop builders, the transfers (None: none
configured), the topic classifier's file, a wall clock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from bailanys.console.protocol import ErrorCode, Message
from bailanys.desk import protocol as p
from bailanys.desk.hub import DeskClient, DeskHub
from bailanys.desk.settings import DeskConfig, operator_problems
from bailanys.errors import BailanysError, ConfigError
from bailanys.queue.agents import QueueError
from bailanys.queue.core import QueueCore
from bailanys.reports.topics import Topics, topic_tree
from bailanys.store.events import Event
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)

#: Longest a pop waits at ring time for a history still being read: the
#: issue's budget is 300 ms from the INVITE to the page (p99), so a slow
#: disk costs the history, not the pop.
POP_WAIT_S: Final = 0.15
#: Live inbound calls followed at once (twice the engine's call limit
#: default): a flood of never-ended calls cannot grow the table past it.
MAX_JOURNALS: Final = 4000
#: Ended calls whose caller is still known to :meth:`DeskService.caller_of`
#: (a request is created during the wrap-up, after the call ended).
RECENT_CALLERS: Final = 2000


class ActionRefused(BailanysError):
    """An operator's action the engine refuses; ``code`` is a protocol error code."""

    def __init__(self, message: str, code: str = ErrorCode.REFUSED.value) -> None:
        super().__init__(message)
        self.code = code


class EventFeed(Protocol):
    """The event log as the desktop follows it (``store.events.EventLog``)."""

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...

    async def query(self, *, call_id: str | None = None, type: str | None = None,
                    since: float | None = None, until: float | None = None,
                    limit: int | None = None,
                    fields: Mapping[str, str] | None = None) -> list[Event]: ...


class DeskQueues(Protocol):
    """What the desktop does with the queues (``engine/queues.py``'s ``QueueService``)."""

    @property
    def core(self) -> QueueCore | None: ...

    def ready(self, user: str) -> None: ...

    def pause(self, user: str, reason: str) -> None: ...

    def logout(self, user: str) -> None: ...

    def disposition(self, call_id: str, agent: str, resolved: bool, topic: str | None,
                    outcome: str | None = None, notes: str | None = None,
                    case: str | None = None) -> None: ...

    def wrap_up_until(self, user: str) -> float | None: ...

    def max_wrap_up_s(self) -> float: ...

    def undisposed(self, user: str) -> str | None: ...


class Journal(Protocol):
    """One live inbound call folded from its events (``desk/pop.py``'s ``CallJournal``)."""

    call_id: str
    caller: str | None

    def apply(self, event: Any) -> None: ...


class HistoryPort(Protocol):
    """The caller's past contacts and open requests (``desk/history.py``); blocking."""

    def read(self, caller: str, now: float, days: int = 90, *,
             exclude_call: str | None = None) -> Any: ...


class TransferPort(Protocol):
    """Transfers (``engine/transfers.py``'s ``Transfers``)."""

    def targets(self) -> list[dict[str, str]]: ...

    def transfer(self, call_id: str, agent: str, target: str, mode: str) -> Awaitable[None]: ...


#: The refusal of "ready" in a wrap-up before the disposition (the page words it).
DISPOSITION_FIRST: Final = "disposition_first"
#: An agent's states after which its last call's pop is no longer shown again.
_DONE_WITH_CALL: Final = frozenset({"available", "logged_out"})


@dataclass(slots=True)
class _Shown:
    """The last pop of an agent's desktop (what builds it) and its call's phase."""

    journal: Journal
    history: Any
    at: float
    phase: Message | None = None


#: ``screen_pop(journal, history, *, agent=, now=, show_number=)``.
PopBuilder = Callable[..., dict[str, Any]]


class DeskService:
    """Follows the calls for the desktops and carries out the operators' actions."""

    def __init__(self, *, settings: DeskConfig, events: EventFeed, queues: DeskQueues,
                 journal: Callable[[str], Journal], screen_pop: PopBuilder,
                 history: Callable[[], Awaitable[HistoryPort | None]] | None = None,
                 transfers: Callable[[], TransferPort | None] = lambda: None,
                 topics_file: str = "", operators: Mapping[str, str] | None = None,
                 source: str = "<defaults>",
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.events = events
        self.queues = queues
        self._journal = journal
        self._screen_pop = screen_pop
        self._open_history = history
        #: The caller's history (opened at start; None: none is shown).
        self.history: HistoryPort | None = None
        self._transfers = transfers
        #: The topic classifier (``[reports] topics``), read at start; None: none.
        self.topics_file = topics_file
        self.topics: Topics | None = None
        self.clock = clock
        #: ``[console.users]`` (login -> "ROLE:HASH") and the config's file: the
        #: operators' logins are checked against the agents at start.
        self._users = operators or {}
        self._source = source
        self.hub = DeskHub()
        self.journals: OrderedDict[str, Journal] = OrderedDict()
        self._history: dict[str, asyncio.Task[Any]] = {}  # call id -> the read
        self._recent: OrderedDict[str, str | None] = OrderedDict()  # ended call -> caller
        #: The last pop an agent's desktop was shown, and its call's latest phase: sent
        #: again to a desktop that connects (a reload) until the agent is available.
        self._shown: dict[str, _Shown] = {}
        self._tasks = TaskSet()
        self._unsubscribe: Callable[[], None] | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Check that every operator's login is an agent (after the queues
        started), read the topic classifier, open the history, then follow
        the event log. Raises :class:`~bailanys.errors.ConfigError`."""
        core = self.queues.core
        agents = core.config.agents if core is not None else {}
        problems = operator_problems(self._users, agents, self._source, "queue.file")
        if problems:
            raise ConfigError("; ".join(problems))
        if self._open_history is not None:
            self.history = await self._open_history()
        if self.topics_file:
            self.topics = await asyncio.to_thread(topic_tree, self.topics_file)
        if self._unsubscribe is None:
            self._unsubscribe = self.events.subscribe(self.on_event)

    async def stop(self) -> None:
        """Stop following events, cancel the history reads, close every desktop."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.hub.end_all("the engine stops")
        await self._tasks.cancel_all()
        self._history.clear()
        self.journals.clear()

    # ------------------------------------------------------------ events in

    def on_event(self, event: Event) -> None:
        """The event log's callback: O(1), never awaits, never raises."""
        try:
            self._follow(event)
        except Exception:
            log.exception("desk: %s of %s not followed", event.type, event.call_id)

    def _follow(self, event: Event) -> None:
        call_id, kind, data = event.call_id, event.type, event.data
        if call_id is not None:
            if kind == "call.offered":
                self._open(call_id)
            journal = self.journals.get(call_id)
            if journal is not None:
                journal.apply(event)
                if kind == "queue.joined" and call_id not in self._history:
                    self._prefetch(journal)
            if kind == "call.ended":
                self._close(call_id)
        agent = data.get("agent")
        if not isinstance(agent, str) or not self.hub.watched(agent):
            return
        if kind == "agent.ringing" and call_id is not None:
            self._ringing(call_id, agent, event.ts)
        elif kind == "agent.state":
            self._push_state(agent, str(data.get("state", "")), event.ts,
                             str(data.get("reason") or ""))
        elif call_id is not None and kind in _PHASES:
            phase = p.call_message(call_id, _PHASES[kind], event.ts)
            shown = self._shown.get(agent)
            if shown is not None and shown.journal.call_id == call_id:
                shown.phase = phase
            self.hub.push(agent, phase)

    def _open(self, call_id: str) -> None:
        self.journals[call_id] = self._journal(call_id)
        while len(self.journals) > MAX_JOURNALS:
            oldest, _ = self.journals.popitem(last=False)
            log.warning("desk: more than %d live calls followed: %s dropped", MAX_JOURNALS,
                        oldest[:8])
            self._drop_history(oldest)

    def _close(self, call_id: str) -> None:
        journal = self.journals.pop(call_id, None)
        if journal is not None:
            self._recent[call_id] = journal.caller
            while len(self._recent) > RECENT_CALLERS:
                self._recent.popitem(last=False)
        self._drop_history(call_id)

    def _drop_history(self, call_id: str) -> None:
        task = self._history.pop(call_id, None)
        if task is not None:
            task.cancel()

    def _prefetch(self, journal: Journal) -> None:
        """The caller's history, read in a thread while the caller waits."""
        port = self.history
        if port is None or not journal.caller:
            return
        caller, now, days = journal.caller, self.clock(), self.settings.history_days
        read = functools.partial(port.read, caller, now, days, exclude_call=journal.call_id)
        self._history[journal.call_id] = self._tasks.spawn(asyncio.to_thread(read),
                                                           name="desk-history")

    # ------------------------------------------------------------ pushes

    def _ringing(self, call_id: str, agent: str, at: float) -> None:
        self.hub.push(agent, p.call_message(call_id, "ringing", at))
        journal = self.journals.get(call_id)
        if journal is None:
            return  # not an inbound call the desk follows (a callback leg)
        read = self._history.get(call_id)
        if read is None or read.done():
            self._push_pop(journal, read, agent, at)
        else:
            self._tasks.spawn(self._pop_when_read(journal, read, agent, at), name="desk-pop")

    async def _pop_when_read(self, journal: Journal, read: asyncio.Task[Any], agent: str,
                             at: float) -> None:
        await asyncio.wait({read}, timeout=POP_WAIT_S)  # neither cancels nor raises
        self._push_pop(journal, read, agent, at)

    def _push_pop(self, journal: Journal, read: asyncio.Task[Any] | None, agent: str,
                  at: float) -> None:
        history = None
        if read is not None and read.done() and not read.cancelled():
            if read.exception() is not None:
                log.warning("desk: the history of call %s not read: %s", journal.call_id[:8],
                            read.exception())
            else:
                history = read.result()
        self._shown[agent] = _Shown(journal, history, at)
        if self.settings.show_number:
            self.hub.push(agent, p.pop_message(self._screen_pop(
                journal, history, agent=agent, now=at, show_number=True)))
            return
        # The operator sees the last digits only; a supervisor watching, the number.
        for watching in (False, True):
            if any(c.read_only is watching for c in self.hub.clients(agent)):
                pop = self._screen_pop(journal, history, agent=agent, now=at,
                                       show_number=watching)
                self.hub.push(agent, p.pop_message(pop), read_only=watching)

    def _push_state(self, agent: str, state: str, since: float, reason: str) -> None:
        if state in _DONE_WITH_CALL:
            self._shown.pop(agent, None)
        until = self.queues.wrap_up_until(agent) if state == "wrap_up" else None
        self.hub.push(agent, p.state_message(state, since, reason, until, self.clock()))

    # ------------------------------------------------------------ one desktop

    def agent_known(self, user: str) -> bool:
        core = self.queues.core
        return core is not None and user in core.config.agents

    def greet(self, client: DeskClient) -> list[Message]:
        """``hello`` and ``state`` for a desktop that just connected."""
        core = self.queues.core
        assert core is not None, "the desk serves agents only when queues run"
        agent = core.agent(client.agent)
        now, mono = self.clock(), time.monotonic()
        since = now - max(0.0, mono - agent.since)
        transfers = self._transfers()
        hello = p.hello_message(
            {"user": agent.user, "name": agent.settings.name or agent.user,
             "viewer": client.viewer},
            now=now, read_only=client.read_only, break_reasons=self.settings.reasons(),
            transfer_targets=transfers.targets() if transfers is not None else [],
            wrap_up_s=self.queues.max_wrap_up_s(),
            show_number=self.settings.show_number or client.read_only)
        until = self.queues.wrap_up_until(agent.user) if agent.state == "wrap_up" else None
        out = [hello, p.state_message(agent.state.value, since, agent.reason, until, now)]
        shown = self._shown.get(agent.user)
        if shown is not None:
            out.append(p.pop_message(self._screen_pop(
                shown.journal, shown.history, agent=agent.user, now=shown.at,
                show_number=self.settings.show_number or client.read_only)))
            if shown.phase is not None:
                out.append(shown.phase)
        return out

    async def act(self, client: DeskClient, action: p.Action) -> dict[str, Any]:
        """Carry out one operator's action; raise :class:`ActionRefused`."""
        if client.read_only:
            raise ActionRefused(f"{client.viewer} watches {client.agent}'s desktop: read only",
                                ErrorCode.FORBIDDEN.value)
        user, queues = client.agent, self.queues
        try:
            if isinstance(action, p.Ready):
                self._check_disposed(user)
                queues.ready(user)
            elif isinstance(action, p.Pause):
                queues.pause(user, action.reason)
            elif isinstance(action, p.Logout):
                queues.logout(user)
            elif isinstance(action, p.Disposition):
                self._check_topic(action.topic)
                queues.disposition(action.call_id, user, action.outcome.resolved, action.topic,
                                   action.outcome.value, action.notes, action.case)
            else:
                await self._transfer(user, action)
        except QueueError as exc:
            raise ActionRefused(str(exc)) from None
        return {}

    async def _transfer(self, user: str, action: p.Transfer) -> None:
        transfers = self._transfers()
        if transfers is None:
            raise ActionRefused("no transfers are configured ([transfers])")
        try:
            await transfers.transfer(action.call_id, user, action.target, action.mode)
        except BailanysError as exc:  # TransferError: its message reaches the operator
            raise ActionRefused(str(exc)) from None

    def _check_disposed(self, user: str) -> None:
        """``[desk] require_disposition``: the wrap-up does not end early before
        the call's topic and outcome are given (issue 19: "every contact gets a
        topic and outcome from the operator"); when it runs out, it ends anyway."""
        core = self.queues.core
        if not self.settings.require_disposition or core is None:
            return
        if core.agent(user).state.value == "wrap_up" and self.queues.undisposed(user):
            raise ActionRefused("", DISPOSITION_FIRST)

    def _check_topic(self, topic: str) -> None:
        """The topic must be one of the classifier's, when there is one (issue 17)."""
        if self.topics is not None and topic not in self.topics.ids:
            raise ActionRefused(f"unknown topic {topic!r}: not in the topic classifier",
                                ErrorCode.BAD_FIELD.value)

    # ------------------------------------------------------------ for other routes

    async def caller_of(self, call_id: str) -> str | None:
        """The caller's number of a live or recent call (None: anonymous or
        unknown): the requests' route takes the phone from the call, never typed."""
        journal = self.journals.get(call_id)
        if journal is not None:
            return journal.caller
        if call_id in self._recent:
            return self._recent[call_id]
        found = await self.events.query(call_id=call_id, type="call.offered", limit=1)
        caller = found[0].data.get("caller") if found else None
        return caller if isinstance(caller, str) and caller != "anonymous" else None

    def clients(self, agent: str) -> Sequence[DeskClient]:
        return tuple(self.hub.clients(agent))


#: Event type -> the ``call`` phase it pushes.
_PHASES: Final = {"call.connected": "connected", "call.completed": "ended",
                  "agent.no_answer": "missed", "call.transferred": "transferred"}
