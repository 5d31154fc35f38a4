"""A queue group rebuilt from the event log by the engine that took it over.

When an owner dies its successor (``docs/architecture.md``, "The owner's
death") reads the stored events of the calls that joined the group's
queues recently and asks :func:`rebuild` who was where:

* **places**: callers on a line (joined, no abandon, final time-out or
  connect after it) and callers waiting for a callback (they keep their
  place and have no leg to lose), per queue in service order: higher
  priority first, then by *arrival* (the first ``queue.joined``'s time
  less its ``prior_wait``: a moved call's wait on the engine that answered
  it), then call id; whatever engine wrote their events;
* **talking**: calls connected to an agent on the dead owner and not
  completed;
* **ended in line**: callers whose call ended (``call.ended``, written by
  the engine that answered them) while on the line, with no queue exit
  stored: the owner died before writing it.

After the grace period the successor calls :func:`close_unreached` with
the calls that were re-homed to it (their anchors moved them again, same
call id): every other caller on a line is closed with ``queue.abandoned``
cause ``engine_failure`` (not lost: counted ``dropped`` by the KPI fold,
docs/kpi.md), a caller whose call had ended with the cause of its
``call.ended`` (a caller's hang-up is a lost call, as on one engine), and
a talking call with ``call.completed`` ``by`` ``engine_failure``.
Callbacks are never closed: the new owner calls them back.
:func:`close_dead_anchor` then ends the calls it closed whose anchor (the
engine that wrote their ``call.offered``) was the dead owner itself
(the engine of the group's latest owner event) with ``call.ended`` cause
``engine_failure``: nobody else would write it.

Pure: events in, events out; no I/O, no clock. Rules shared with the
start-up reconciliation of one engine (``engine/reconcile.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from bailanys import events as ev
from bailanys.engine.causes import Cause, parse
from bailanys.store.events import Event

#: The events only a group's owner writes about its queues' callers.
OWNER_EVENTS = frozenset({"queue.joined", "queue.announced", "queue.abandoned",
                          "queue.timeout", "call.connected", "agent.ringing"})


@dataclass(frozen=True, slots=True)
class Place:
    """A caller's place in a rebuilt line."""

    call_id: str
    queue: str
    #: When it first reached a queue node (epoch s): the order, and ``waited``'s start.
    arrived: float
    priority: int
    language: str | None
    skills: tuple[str, ...]
    orig_position: int
    #: Waiting to be called back (no call leg), at ``number``.
    callback: bool = False
    number: str | None = None

    def key(self) -> tuple[int, float, str]:
        return (-self.priority, self.arrived, self.call_id)


@dataclass(frozen=True, slots=True)
class Talking:
    """A call connected to ``agent`` on the dead owner, not completed."""

    call_id: str
    queue: str
    agent: str
    waited: float
    orig_position: int
    connected_at: float
    #: The call's ``call.ended`` (written by its anchor) if stored: when and by whom.
    ended_at: float | None = None
    ended_by: str | None = None


@dataclass(frozen=True, slots=True)
class EndedInLine:
    """A caller whose call ended at ``at`` (``cause``) while on the line."""

    place: Place
    at: float
    cause: Cause


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a call lives: the engine that answered it (None: not named)."""

    engine: str | None
    answered_at: float | None
    ended: bool


@dataclass(frozen=True)
class Rebuilt:
    """What :func:`rebuild` found; ``lines``: queue -> places in service order."""

    lines: Mapping[str, tuple[Place, ...]] = field(default_factory=dict)
    talking: tuple[Talking, ...] = ()
    ended: tuple[EndedInLine, ...] = ()
    #: The engine of the group's latest owner event (the old owner), if named.
    owner: str | None = None
    #: call id -> its anchor (the engine of its ``call.offered``), answer time
    #: and whether its ``call.ended`` is stored.
    anchors: Mapping[str, Anchor] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        """Callers with a place (callbacks included)."""
        return sum(len(line) for line in self.lines.values())

    def place(self, call_id: str) -> Place | None:
        for line in self.lines.values():
            for place in line:
                if place.call_id == call_id:
                    return place
        return None


@dataclass
class _Call:
    """One call's state as its events tell it."""

    place: Place | None = None  # the latest join in the group
    arrived: float | None = None
    on_line: bool = False
    callback: bool = False
    number: str | None = None
    connected: Event | None = None
    ended: Event | None = None
    elsewhere: bool = False  # its latest join is a queue outside the group
    anchor: str | None = None  # the engine of its call.offered
    answered_at: float | None = None


def _join(call: _Call, call_id: str, e: Event, queues: Collection[str]) -> None:
    data = e.data
    queue = _text(data.get("queue"))
    if call.arrived is None:
        call.arrived = e.ts - max(0.0, _num(data.get("prior_wait")))
    call.on_line, call.callback, call.connected = True, False, None
    call.elsewhere = queue not in queues
    if call.elsewhere:
        return
    skills = data.get("skills")
    call.place = Place(
        call_id, queue, call.arrived, _int(data.get("priority")),
        _text(data.get("language")) or None,
        tuple(str(s) for s in skills) if isinstance(skills, list | tuple) else (),
        _int(data.get("position")),
    )


def _fold(call: _Call, call_id: str, e: Event, queues: Collection[str]) -> None:
    kind, data = e.type, e.data
    if kind == "queue.joined":
        _join(call, call_id, e, queues)
    elif kind == "queue.callback_requested":
        call.on_line, call.callback = False, True
        call.number = _text(data.get("number")) or None
    elif kind == "queue.callback_answered":
        call.on_line, call.callback = True, False
    elif kind == "call.connected":
        call.on_line = call.callback = False
        call.connected = e
    elif kind in ("call.completed", "queue.abandoned"):
        call.on_line = call.callback = False
        call.connected = None
    elif kind == "queue.timeout" and not data.get("overflow"):
        call.on_line = call.callback = False
    elif kind == "call.ended":
        call.ended = e
    elif kind == "call.offered":
        call.anchor = e.engine
    elif kind == "call.answered":
        call.answered_at = e.ts


def rebuild(events: Iterable[Event], queues: Collection[str]) -> Rebuilt:
    """The places, talking calls and calls ended in line of the group whose
    queues are ``queues``, from the stored events of its recent calls (any
    order: sorted here by time and id)."""
    calls: dict[str, _Call] = {}
    owner: str | None = None
    for e in sorted(events, key=lambda e: (e.ts, e.id or 0)):
        if e.call_id is not None:
            _fold(calls.setdefault(e.call_id, _Call()), e.call_id, e, queues)
        if e.engine is not None and e.type in OWNER_EVENTS and e.data.get("queue") in queues:
            owner = e.engine
    lines: dict[str, list[Place]] = {}
    talking: list[Talking] = []
    ended: list[EndedInLine] = []
    for call_id, call in calls.items():
        if call.elsewhere or call.place is None:
            continue
        if call.connected is not None:
            data = call.connected.data
            end = call.ended
            by = None if end is None else (parse(end.data.get("cause")) or Cause.ENGINE_FAILURE)
            talking.append(Talking(call_id, call.place.queue, _text(data.get("agent")),
                                   _num(data.get("waited")), _int(data.get("orig_position")),
                                   call.connected.ts, None if end is None else end.ts,
                                   None if by is None else by.value))
        elif call.callback:
            lines.setdefault(call.place.queue, []).append(
                _with(call.place, callback=True, number=call.number))
        elif call.on_line and call.ended is not None:
            cause = parse(call.ended.data.get("cause")) or Cause.ENGINE_FAILURE
            ended.append(EndedInLine(call.place, call.ended.ts, cause))
        elif call.on_line:
            lines.setdefault(call.place.queue, []).append(call.place)
    return Rebuilt(
        {q: tuple(sorted(places, key=Place.key)) for q, places in sorted(lines.items())},
        tuple(sorted(talking, key=lambda t: (t.connected_at, t.call_id))),
        tuple(sorted(ended, key=lambda x: (x.at, x.place.call_id))),
        owner,
        {call_id: Anchor(call.anchor, call.answered_at, call.ended is not None)
         for call_id, call in calls.items()},
    )


def close_dead_anchor(rebuilt: Rebuilt, closed: Collection[str],
                      died: float) -> list[ev.CallEnded]:
    """``call.ended`` (``engine_failure``) of the ``closed`` calls whose
    anchor was the dead owner (:attr:`Rebuilt.owner`) and whose end is not
    stored; ``died``: when the owner was last known alive (the duration's end)."""
    out: list[ev.CallEnded] = []
    if rebuilt.owner is None:
        return out
    for call_id in sorted(closed):
        anchor = rebuilt.anchors.get(call_id)
        if anchor is None or anchor.ended or anchor.engine != rebuilt.owner:
            continue
        start = anchor.answered_at
        out.append(ev.CallEnded(
            call_id=call_id, cause=Cause.ENGINE_FAILURE.value,
            reason="its engine died (closed by the queue's new owner)",
            duration=0.0 if start is None else round(max(0.0, died - start), 3)))
    return out


def close_unreached(
    rebuilt: Rebuilt, reattached: Collection[str], at: float, died: float,
    short_abandon_s: Mapping[str, float] | None = None,
) -> list[ev.EventBase]:
    """The events that close what the successor could not reach; ``at``:
    when their wait ended (the take-over); ``died``: when the old owner was
    last known alive (the end of a talking call). ``reattached``: the call ids
    re-homed to the successor. ``short_abandon_s`` per queue applies only
    to a caller's own hang-up (an engine failure is never short)."""
    out: list[ev.EventBase] = []
    failure = Cause.ENGINE_FAILURE.value
    for queue, line in rebuilt.lines.items():
        for position, place in enumerate(line, start=1):
            if place.callback or place.call_id in reattached:
                continue
            out.append(ev.QueueAbandoned(
                call_id=place.call_id, queue=queue, position=position,
                orig_position=place.orig_position, waited=_waited(at, place.arrived),
                short=False, cause=failure))
    for gone in rebuilt.ended:
        place = gone.place
        waited = _waited(gone.at, place.arrived)
        short = gone.cause is Cause.CALLER and waited < (short_abandon_s or {}).get(
            place.queue, 0.0)
        out.append(ev.QueueAbandoned(  # its position then is not stored: its first one
            call_id=place.call_id, queue=place.queue, position=max(1, place.orig_position),
            orig_position=place.orig_position, waited=waited, short=short,
            cause=gone.cause.value))
    for call in rebuilt.talking:  # the agent's leg died with the owner: always closed
        end = call.ended_at if call.ended_at is not None else died
        out.append(ev.CallCompleted(
            call_id=call.call_id, queue=call.queue, agent=call.agent, waited=call.waited,
            talk=round(max(0.0, end - call.connected_at), 3), by=call.ended_by or failure,
            orig_position=call.orig_position))
    return out


def _with(place: Place, *, callback: bool, number: str | None) -> Place:
    return Place(place.call_id, place.queue, place.arrived, place.priority, place.language,
                 place.skills, place.orig_position, callback, number)


def _waited(at: float, since: float) -> float:
    return round(max(0.0, at - since), 3)


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
