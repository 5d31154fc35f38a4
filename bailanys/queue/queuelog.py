"""Our queue events as an Asterisk ``queue_log``, for the tools that read one.

QueueMetrics, Asternic stats and the ``queue_log`` table loaders read lines
``epoch|callid|queuename|agent|event|data1|data2|...``. The event names and
the order of their data fields follow the Asterisk documentation, "Queue
Logs" (https://docs.asterisk.org/Operation/Logging/Queue-Logs/), checked
against what ``apps/app_queue.c`` of Asterisk (github.com/asterisk/asterisk)
actually writes: there ENTERQUEUE carries a third field, the caller's
position, which the page does not list yet; we write it too (readers that
know two fields ignore the third).

Mapping (ours -> queue_log; ``-`` in the agent column writes ``NONE``)::

    call.offered            (remembers ``caller`` as caller ID: 7XXXXXXXXXX, anonymous)
    queue.joined            ENTERQUEUE       url="" | callerid | position
    agent.ringing           (remembers when the agent's phone began to ring)
    agent.no_answer         RINGNOANSWER     ringtime in ms (from ``rang``)
    call.connected          CONNECT          holdtime | bridged uniqueid (``leg``) | ringtime
    call.completed by=caller  COMPLETECALLER holdtime | calltime | origposition
    call.completed by=agent   COMPLETEAGENT  holdtime | calltime | origposition
    queue.abandoned         RINGCANCELED     ringtime in ms, per agent still ringing
                            ABANDON          position | origposition | waittime
    queue.timeout           EXITWITHTIMEOUT  position | origposition | waittime
    queue.callback_requested  CALLBACKREQUEST position | origposition | waittime | number
    queue.callback          CALLBACK         waittime      (custom, see below)
    agent.state logged_out -> other  ADDMEMBER  "" or PAUSED   per queue of the agent
    agent.state into break    PAUSEALL reason (queue NONE), then PAUSE reason per queue
    agent.state out of break  UNPAUSEALL reason (queue NONE), then UNPAUSE per queue
    agent.state other -> logged_out  REMOVEMEMBER ""   per queue of the agent
    queue.announced, call.disposition, others: no line (Asterisk has none)

Choices, where the format leaves one:

- Agents are named as Asterisk names a queue member, by its channel:
  ``PJSIP/1001`` by default (chan_pjsip is Asterisk's SIP driver; chan_sip
  and its ``SIP/`` names were removed in Asterisk 21), another prefix on
  request. The epoch column is whole seconds (Asterisk writes ``time()``).
- Login and logout are ADDMEMBER / REMOVEMEMBER, not AGENTLOGIN /
  AGENTLOGOFF: the latter were written for the ``Agent/`` channels of
  chan_agent (replaced in Asterisk 12), and AGENTLOGOFF wants a login
  time. A phone that joins queues under its own channel name, which is
  what our agents are, is a dynamic member (AddQueueMember), logged as
  ADDMEMBER / REMOVEMEMBER, the pair current tools take as an agent's
  session. Our login is for every queue the agent serves (``members``:
  agent -> queues, from the queues file: the queues whose skills the agent
  has), so it is written once per queue, as Asterisk writes a member added
  to several queues. Our pause is for all queues at once, which Asterisk
  logs (``set_member_paused()`` with no queue name) as one PAUSEALL on
  queue ``NONE`` followed by a PAUSE in each queue; likewise UNPAUSEALL and
  UNPAUSE. Logging in straight into a break adds the member PAUSED; logging
  out of a break writes the unpause before REMOVEMEMBER, so the pause has
  an end. The callid column of these lines is ``NONE`` (Asterisk writes
  ``NONE`` for pauses, and the source, e.g. ``MANAGER``, for members). With
  no ``members`` given (or an agent not in it) the lines go to queue
  ``NONE``, as a reader without the queues file can only guess.
- A caller hanging up while agents ring gives, as ``wait_for_answer()``
  does, a RINGCANCELED per agent being rung, with the ring time in ms,
  before the ABANDON.
- Asterisk's app_queue has no callback: the request and the call back are
  custom events (as the QueueLog() application writes them), CALLBACKREQUEST
  with ABANDON's three fields followed by the number to call, and CALLBACK
  with our ``waited`` as its waittime. Readers that do not know them skip
  them.
- CONNECT's second field is the bridged channel's uniqueid: the call id of
  the agent's leg (``call.connected``'s ``leg``; empty when an older event
  lacks it).

Seconds, as Asterisk computes them: a hold, call or wait time is the
difference of two whole-second clock readings, ``time(end) - time(start)``,
so 7.9 s from x.3 to y.2 count 8. Like Asterisk, whose clock starts when a
caller enters *this* queue (``Queue()`` sets ``qe->start``), a hold or wait
runs from this call's last ``queue.joined`` and a call time from its
``call.connected``; our ``waited`` counts from the first join across an
overflow, so it is used (end time minus ``waited``) only where that join is
not among the events read, e.g. before ``--since``. Likewise origposition
is the position at that join, else our ``orig_position``. CONNECT's
ringtime is the ring in ms divided by 1000, truncated; RINGNOANSWER's is
the ring in ms, rounded (``rang``).

Text fields cannot hold the separator: ``|`` and line breaks become ``_``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bailanys.phone import normalise, uri_user

if TYPE_CHECKING:
    from bailanys.queue.settings import QueueConfig
    from bailanys.store.events import Event

__all__ = ["DEFAULT_AGENT_PREFIX", "FIELDS", "NONE", "QueueLog", "caller_id", "members_of",
           "offered_caller", "to_queue_log"]

#: Current Asterisk names SIP queue members ``PJSIP/<endpoint>``.
DEFAULT_AGENT_PREFIX = "PJSIP/"
#: What Asterisk writes where a column has no value (callid, queue, agent).
NONE = "NONE"

#: Each queue_log event we write -> its data fields, in Asterisk's order.
FIELDS: Mapping[str, tuple[str, ...]] = {
    "ENTERQUEUE": ("url", "callerid", "position"),
    "RINGNOANSWER": ("ringtime_ms",),
    "RINGCANCELED": ("ringtime_ms",),
    "CONNECT": ("holdtime", "bridgedchanneluniqueid", "ringtime"),
    "COMPLETECALLER": ("holdtime", "calltime", "origposition"),
    "COMPLETEAGENT": ("holdtime", "calltime", "origposition"),
    "ABANDON": ("position", "origposition", "waittime"),
    "EXITWITHTIMEOUT": ("position", "origposition", "waittime"),
    "PAUSE": ("reason",),
    "UNPAUSE": ("reason",),
    "PAUSEALL": ("reason",),
    "UNPAUSEALL": ("reason",),
    "ADDMEMBER": ("paused",),
    "REMOVEMEMBER": ("unused",),
    # Ours: Asterisk has no callback.
    "CALLBACKREQUEST": ("position", "origposition", "waittime", "number"),
    "CALLBACK": ("waittime",),
}

_BREAK = "break"
_LOGGED_OUT = "logged_out"


def members_of(config: QueueConfig) -> dict[str, tuple[str, ...]]:
    """Agent -> the queues it serves (has every skill of), in config order:
    the queues its member lines are written in."""
    return {
        user: tuple(name for name, queue in config.queues.items()
                    if set(queue.skills) <= agent.skill_set)
        for user, agent in config.agents.items()
    }


#: The user part of a From URI as written (``bailanys.phone.uri_user``):
#: ``sip:+77011234567@host;user=phone`` -> ``+77011234567``; a ``tel:`` URI
#: gives its number; anything else gives "".
caller_id = uri_user


def offered_caller(data: Mapping[str, Any]) -> str:
    """The caller ID of a ``call.offered``: its ``caller`` (the engine's one
    normalisation, ``bailanys.phone``), or for rows stored before it existed
    the same normalisation of the user part of ``from``."""
    caller = data.get("caller")
    if isinstance(caller, str) and caller:
        return caller
    return normalise(uri_user(data.get("from")))


@dataclass
class _Call:
    """What later lines of one call need from its earlier events."""

    caller_id: str = ""
    joined_at: float | None = None  # this queue's ENTERQUEUE
    position: int | None = None  # at that join: Asterisk's origposition
    connected_at: float | None = None
    rings: dict[str, float] = field(default_factory=dict)  # agent -> ring start


class QueueLog:
    """Maps events, oldest first, to queue_log lines (sans-IO: no clock, no I/O).

    It remembers, per call, what later lines need (:class:`_Call`) and
    forgets it at ``call.ended``.
    """

    def __init__(self, *, agent_prefix: str = DEFAULT_AGENT_PREFIX,
                 members: Mapping[str, Sequence[str]] | None = None) -> None:
        self.agent_prefix = agent_prefix
        #: Agent (SIP user) -> the queues it is a member of.
        self.members = members
        self._calls: dict[str, _Call] = {}
        self._handlers: dict[str, Callable[[Event], list[str]]] = {
            "call.offered": self._offered,
            "queue.joined": self._joined,
            "agent.ringing": self._ringing,
            "agent.no_answer": self._no_answer,
            "call.connected": self._connected,
            "call.completed": self._completed,
            "queue.abandoned": self._left,
            "queue.timeout": self._left,
            "queue.callback_requested": self._callback_requested,
            "queue.callback": self._callback,
            "agent.state": self._agent_state,
            "call.ended": self._ended,
        }

    def feed(self, event: Event) -> list[str]:
        """The lines for one event (often none), without line ends."""
        handler = self._handlers.get(event.type)
        return handler(event) if handler is not None else []

    # --- line building ----------------------------------------------------

    def _line(self, event: Event, verb: str, *data: object, agent: str | None = None,
              queue: Any = None, callid: str | None = None) -> str:
        if len(data) != len(FIELDS[verb]):
            raise AssertionError(f"{verb} takes {len(FIELDS[verb])} fields, got {len(data)}")
        if queue is None:
            queue = event.data.get("queue")
        if callid is None:
            callid = event.call_id
        columns = [
            str(_clock(event.ts)),
            _clean(callid) or NONE,
            _clean(queue) or NONE,
            self._agent(agent),
            verb,
            *(_clean(d) for d in data),
        ]
        return "|".join(columns)

    def _agent(self, name: str | None) -> str:
        return self.agent_prefix + _clean(name) if name else NONE

    def _call(self, event: Event) -> _Call:
        """The call's remembered state (a throwaway one for no call id)."""
        if not event.call_id:
            return _Call()
        return self._calls.setdefault(event.call_id, _Call())

    # --- handlers, one per event type ---------------------------------------

    def _offered(self, event: Event) -> list[str]:
        self._call(event).caller_id = offered_caller(event.data)
        return []

    def _joined(self, event: Event) -> list[str]:
        call = self._call(event)
        position = _int(event.data.get("position"))
        call.joined_at, call.position, call.connected_at = event.ts, position, None
        call.rings.clear()
        return [self._line(event, "ENTERQUEUE", "", call.caller_id, position)]

    def _ringing(self, event: Event) -> list[str]:
        agent = _str(event.data.get("agent"))
        if agent:
            self._call(event).rings[agent] = event.ts
        return []

    def _no_answer(self, event: Event) -> list[str]:
        agent = _str(event.data.get("agent"))
        self._call(event).rings.pop(agent, None)
        ms = max(0, round(_float(event.data.get("rang")) * 1000))
        return [self._line(event, "RINGNOANSWER", ms, agent=agent)]

    def _connected(self, event: Event) -> list[str]:
        call, data = self._call(event), event.data
        agent = _str(data.get("agent"))
        started = call.rings.pop(agent, None)
        call.rings.clear()
        call.connected_at = event.ts
        ring = 0 if started is None else max(0, round((event.ts - started) * 1000)) // 1000
        hold = _seconds(call.joined_at, event.ts, data.get("waited"))
        leg = _str(data.get("leg"))
        return [self._line(event, "CONNECT", hold, leg, ring, agent=agent)]

    def _completed(self, event: Event) -> list[str]:
        call, data = self._call(event), event.data
        talk = _seconds(call.connected_at, event.ts, data.get("talk"))
        connected = call.connected_at
        if connected is None:
            connected = event.ts - _float(data.get("talk"))
        hold = _seconds(call.joined_at, connected, data.get("waited"))
        verb = "COMPLETEAGENT" if data.get("by") == "agent" else "COMPLETECALLER"
        orig = _orig(call, event)
        return [self._line(event, verb, hold, talk, orig, agent=_str(data.get("agent")))]

    def _left(self, event: Event) -> list[str]:
        call, data = self._call(event), event.data
        out: list[str] = []
        abandoned = event.type == "queue.abandoned"
        if abandoned:  # the caller hung up while these phones rang
            for agent, started in call.rings.items():
                ms = max(0, round((event.ts - started) * 1000))
                out.append(self._line(event, "RINGCANCELED", ms, agent=agent))
        call.rings.clear()
        verb = "ABANDON" if abandoned else "EXITWITHTIMEOUT"
        position = _int(data.get("position"))
        waited = _seconds(call.joined_at, event.ts, data.get("waited"))
        out.append(self._line(event, verb, position, _orig(call, event), waited))
        return out

    def _callback_requested(self, event: Event) -> list[str]:
        call, data = self._call(event), event.data
        call.rings.clear()
        position = _int(data.get("position"))
        waited = _seconds(call.joined_at, event.ts, data.get("waited"))
        number = _str(data.get("number"))
        return [self._line(event, "CALLBACKREQUEST", position, _orig(call, event), waited,
                           number)]

    def _callback(self, event: Event) -> list[str]:
        waited = _seconds(None, event.ts, event.data.get("waited"))
        return [self._line(event, "CALLBACK", waited, agent=_str(event.data.get("agent")))]

    def _agent_state(self, event: Event) -> list[str]:
        data = event.data
        agent = _str(data.get("agent"))
        state, previous = _str(data.get("state")), _str(data.get("previous"))
        if not agent or state == previous:
            return []
        reason = _str(data.get("reason"))
        queues = self._queues(agent)
        lines: list[str] = []

        def add(verb: str, value: str, queue: str) -> None:
            lines.append(self._line(event, verb, value, agent=agent, queue=queue, callid=NONE))

        def each(verb: str, value: str) -> None:
            for queue in queues:
                add(verb, value, queue)

        if previous == _LOGGED_OUT:
            each("ADDMEMBER", "PAUSED" if state == _BREAK else "")
        if previous == _BREAK:
            self._all(add, "UNPAUSEALL", reason, queues)
            each("UNPAUSE", reason)
        if state == _BREAK:
            self._all(add, "PAUSEALL", reason, queues)
            each("PAUSE", reason)
        if state == _LOGGED_OUT:
            each("REMOVEMEMBER", "")
        return lines

    def _queues(self, agent: str) -> tuple[str, ...]:
        """The queues of ``agent``'s member lines; (NONE,) when unknown."""
        known = None if self.members is None else self.members.get(agent)
        return tuple(known) if known else (NONE,)

    @staticmethod
    def _all(add: Callable[[str, str, str], None], verb: str, reason: str,
             queues: tuple[str, ...]) -> None:
        """PAUSEALL / UNPAUSEALL on queue NONE, before the per-queue lines
        (only when those name real queues)."""
        if queues != (NONE,):
            add(verb, reason, NONE)

    def _ended(self, event: Event) -> list[str]:
        if event.call_id:
            self._calls.pop(event.call_id, None)
        return []


def to_queue_log(
    events: Iterable[Event], *, agent_prefix: str = DEFAULT_AGENT_PREFIX,
    members: Mapping[str, Sequence[str]] | None = None,
) -> Iterator[str]:
    """queue_log lines, without line ends, for ``events`` taken oldest first."""
    mapper = QueueLog(agent_prefix=agent_prefix, members=members)
    for event in events:
        yield from mapper.feed(event)


# --- values ---------------------------------------------------------------------


def _clock(ts: float) -> int:
    """A whole-second clock reading, as ``time()`` gives Asterisk.

    Rounded to the microsecond first, so that ``end - seconds`` computed in
    floating point lands on the second it means.
    """
    return math.floor(round(ts, 6))


def _seconds(start: float | None, end: float, measured: Any) -> int:
    """Whole seconds from ``start`` to ``end`` as Asterisk counts them: the
    difference of the clock readings. Without ``start``, it is ``end`` minus
    ``measured`` (our float seconds)."""
    if start is None:
        start = end - _float(measured)
    return max(0, _clock(end) - _clock(start))


def _orig(call: _Call, event: Event) -> int:
    """Asterisk's origposition: the position at this queue's join, else ours."""
    if call.position is not None:
        return call.position
    return _int(event.data.get("orig_position"))


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _int(value: Any) -> int:
    return int(_float(value))


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _clean(value: object) -> str:
    """Text for one field: no ``|`` (the separator) and no line break."""
    if value is None:
        return ""
    text = str(value)
    for ch in "|\r\n":
        text = text.replace(ch, "_")
    return text
