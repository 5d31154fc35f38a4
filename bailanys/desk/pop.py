"""The screen pop: what the operator sees when the phone rings (issue 19).

Issue 19, "Operators' desktop": "Screen pop when the operator's phone
rings: the caller's number (masked to the last 4 digits for roles that must
not see it), language, the IVR path and robot turns of this call (what the
caller chose, what the robot answered or why it handed over, the topic
guessed), wait time, and the caller's history: previous contacts (last 90
days) with topic, outcome, and open requests" (DOMAIN.md items 6 and 11:
the interaction history available to the operator; confidential data only
to the right person).

Pure (no I/O, no clock): :class:`CallJournal` folds one live call's events
as the engine writes them (``call.offered``, ``call.language``,
``ivr.node`` / ``ivr.input`` / ``ivr.no_match`` / ``ivr.no_input``,
``robot.faq`` / ``robot.service`` / ``robot.handover``, ``call.topic``,
``queue.joined``); :func:`screen_pop` turns a journal and the caller's
history (:mod:`bailanys.desk.history`) into the JSON the desktop shows
(CONTRACTS19.md, "The pop JSON"). :func:`caller_key` is how a number is
looked up without being stored: a salted HMAC (schema v8,
``contacts.caller_key``).

Bounded: a caller looping in a menu (or a robot turn after turn) does not
grow a journal without end: the IVR path keeps its first
:data:`IVR_HEAD` steps and the last ones up to :data:`MAX_IVR`, the robot's
turns likewise (:data:`ROBOT_HEAD`, :data:`MAX_ROBOT`); ``ivr_dropped`` /
``robot_dropped`` count what was left out of the middle.

Personal data: the number is shown in full only when ``show_number``;
otherwise masked to its last four digits. IVR values are stored masked
already (an IIN keeps its last four digits, ``ivr/runner.py``); what the
caller said in a menu is put through ``analytics.pii.mask_text`` again, as
everything shown from free speech.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from bailanys.analytics.pii import mask_text
from bailanys.cases.model import mask_number
from bailanys.desk.callerkey import caller_key
from bailanys.events import AnyEvent, encode
from bailanys.phone import ANONYMOUS, caller_of_uri
from bailanys.store.events import Event

if TYPE_CHECKING:
    from bailanys.desk.history import CallerHistory

__all__ = ["IVR_HEAD", "MAX_IVR", "MAX_ROBOT", "ROBOT_HEAD", "CallJournal", "caller_key",
           "screen_pop"]

#: The IVR steps a journal keeps: a menu of 1414 is 3-4 levels deep and a
#: node is tried three times at most by default (``ivr/loader.py``
#: ``DEFAULT_RETRIES`` + 1; up to 11 when a flow sets ``retries: 10``): a
#: normal path is under 20 steps (node + input each); 40 leaves room, and
#: bounds a ``goto`` loop.
MAX_IVR: Final = 40
#: Of those, the first steps always kept (where the caller started).
IVR_HEAD: Final = 10
#: Robot turns kept: the assistant takes at most ``MAX_TURNS`` (8) turns
#: per call (``robot/assistant.py``), a self-service a few steps; 20 bounds
#: a loop of services.
MAX_ROBOT: Final = 20
ROBOT_HEAD: Final = 5
#: ``robot.faq`` steps not shown: the assistant's greeting and its SMS
#: (the SMS is the robot's, not a turn of the conversation); a hand-over
#: is shown from ``robot.handover`` (the engine's, with the reason).
_FAQ_HIDDEN: Final = frozenset({"start", "sms", "handover"})
#: Topic sources, most trusted first (``reports.model.TOPIC_TRUST`` without
#: the disposition, which comes after the pop).
_TOPIC_ORDER: Final = ("robot", "ivr")
_IVR_KINDS: Final = {"ivr.node": "node", "ivr.input": "input", "ivr.no_match": "no_match",
                     "ivr.no_input": "no_input"}


class _Capped:
    """A list keeping its first ``head`` items and its last ``size - head``."""

    def __init__(self, size: int, head: int) -> None:
        self._head_size = head
        self.head: list[dict[str, Any]] = []
        self.tail: deque[dict[str, Any]] = deque(maxlen=size - head)
        self.dropped = 0

    def add(self, item: dict[str, Any]) -> None:
        if len(self.head) < self._head_size:
            self.head.append(item)
            return
        if len(self.tail) == self.tail.maxlen:
            self.dropped += 1
        self.tail.append(item)

    def items(self) -> list[dict[str, Any]]:
        return [*self.head, *self.tail]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class CallJournal:
    """One live inbound call, folded from its events (module docs)."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.caller: str | None = None  # normalised; None: anonymous or not offered yet
        self.anonymous = False
        self.offered_at: float | None = None
        self.language: str | None = None
        self.queue: str | None = None
        self.flow: str | None = None  # the flow's name (ivr.flow): names the options chosen
        self.joined_at: float | None = None  # the first queue.joined
        self._ivr = _Capped(MAX_IVR, IVR_HEAD)
        self._robot = _Capped(MAX_ROBOT, ROBOT_HEAD)
        self._topics: dict[str, str] = {}  # source -> its latest topic

    @property
    def ivr(self) -> list[dict[str, Any]]:
        return self._ivr.items()

    @property
    def robot(self) -> list[dict[str, Any]]:
        return self._robot.items()

    @property
    def ivr_dropped(self) -> int:
        return self._ivr.dropped

    @property
    def robot_dropped(self) -> int:
        return self._robot.dropped

    @property
    def topic_guess(self) -> str | None:
        return next((self._topics[s] for s in _TOPIC_ORDER if s in self._topics), None)

    def apply(self, event: AnyEvent | Event, ts: float | None = None) -> None:
        """Fold one event: the store's :class:`Event` (its ``ts`` is used)
        or a catalogue event with ``ts`` given (None: its steps show no
        time). Events of other calls and types not shown are ignored; a
        field of the wrong type is read as absent, never raised on."""
        if isinstance(event, Event):
            type_, call_id, data = event.type, event.call_id, event.data
            ts = event.ts if ts is None else ts
        else:
            type_, call_id, data = encode(event)
        if call_id != self.call_id or not isinstance(data, Mapping):
            return
        if type_ in _IVR_KINDS:
            self._ivr_step(_IVR_KINDS[type_], data, ts)
            return
        handler = _HANDLERS.get(type_)
        if handler is not None:
            handler(self, data, ts)

    # -- one handler per event type -------------------------------------

    def _offered(self, data: Mapping[str, Any], ts: float | None) -> None:
        caller = _text(data.get("caller")) or caller_of_uri(data.get("from"))
        self.offered_at = ts
        self.anonymous = caller == ANONYMOUS
        self.caller = None if self.anonymous else caller

    def _flow(self, data: Mapping[str, Any], ts: float | None) -> None:
        self.flow = _text(data.get("flow")) or self.flow

    def _language(self, data: Mapping[str, Any], ts: float | None) -> None:
        self.language = _text(data.get("language")) or self.language

    def _joined(self, data: Mapping[str, Any], ts: float | None) -> None:
        self.queue = _text(data.get("queue")) or self.queue
        self.language = _text(data.get("language")) or self.language
        if self.joined_at is None:
            self.joined_at = ts

    def _topic(self, data: Mapping[str, Any], ts: float | None) -> None:
        topic, source = _text(data.get("topic")), _text(data.get("source"))
        if topic and source in _TOPIC_ORDER:
            self._topics[source] = topic

    def _ivr_step(self, kind: str, data: Mapping[str, Any], ts: float | None) -> None:
        value = _text(data.get("value"))
        self._ivr.add({"at": ts, "node": _text(data.get("node")),
                       "input": mask_text(value) if value is not None else None,
                       "kind": kind})

    def _faq(self, data: Mapping[str, Any], ts: float | None) -> None:
        step, topic = _text(data.get("step")) or "", _text(data.get("topic"))
        if step == "handover" and topic:
            self._topics["robot"] = topic
        if step in _FAQ_HIDDEN:
            return
        self._robot.add({"at": ts, "kind": "faq", "faq": _text(data.get("entry")),
                         "topic": topic, "service": None,
                         "outcome": f"{step}:{data.get('outcome')}", "reason": None})

    def _service(self, data: Mapping[str, Any], ts: float | None) -> None:
        self._robot.add({"at": ts, "kind": "service", "faq": None, "topic": None,
                         "service": _text(data.get("service")),
                         "outcome": f"{data.get('step')}:{data.get('outcome')}",
                         "reason": None})

    def _handover(self, data: Mapping[str, Any], ts: float | None) -> None:
        topic = _text(data.get("topic"))
        if topic:
            self._topics["robot"] = topic
        self._robot.add({"at": ts, "kind": "handover", "faq": None, "topic": topic,
                         "service": _text(data.get("service")), "outcome": None,
                         "reason": _text(data.get("reason"))})


_HANDLERS: Final[dict[str, Callable[[CallJournal, Mapping[str, Any], float | None], None]]] = {
    "call.offered": CallJournal._offered,
    "ivr.flow": CallJournal._flow,
    "call.language": CallJournal._language,
    "queue.joined": CallJournal._joined,
    "call.topic": CallJournal._topic,
    "robot.faq": CallJournal._faq,
    "robot.service": CallJournal._service,
    "robot.handover": CallJournal._handover,
}


def _number(journal: CallJournal, show_number: bool) -> dict[str, Any]:
    number = journal.caller
    if number is None:
        return {"number": None, "masked": False, "anonymous": journal.anonymous}
    if show_number:
        return {"number": number, "masked": False, "anonymous": False}
    return {"number": mask_number(number) or "****", "masked": True, "anonymous": False}


class Labels(Protocol):
    """Names for ids (``desk/labels.py`` ``PopLabels``): each in every language."""

    def option(self, flow: str | None, node: str | None,
               value: str | None) -> Mapping[str, str] | None: ...

    def faq(self, entry: str | None) -> Mapping[str, str] | None: ...


def _named_ivr(journal: CallJournal, labels: Labels | None) -> list[dict[str, Any]]:
    """The IVR steps, a key pressed in a menu with its option's ``label``."""
    if labels is None:
        return journal.ivr
    return [{**step, "label": labels.option(journal.flow, step["node"], step["input"])}
            if step["kind"] == "input" else step for step in journal.ivr]


def _named_robot(journal: CallJournal, labels: Labels | None) -> list[dict[str, Any]]:
    """The robot's turns, an FAQ entry with its ``title``."""
    if labels is None:
        return journal.robot
    return [{**turn, "title": labels.faq(turn["faq"])} if turn["kind"] == "faq" else turn
            for turn in journal.robot]


def screen_pop(journal: CallJournal, history: CallerHistory | None, *, agent: str,
               now: float, show_number: bool, labels: Labels | None = None) -> dict[str, Any]:
    """The pop JSON (CONTRACTS19.md) of ``journal`` when ``agent``'s phone
    rings at ``now``; ``show_number``: the operator may see the whole
    number (``[desk] show_number``), else only its last four digits.
    ``labels``: what names the menu options chosen (``label``) and the FAQ
    entries answered (``title``), ``{"kk", "ru"}`` each, None when unknown."""
    waited = None if journal.joined_at is None else round(max(0.0, now - journal.joined_at), 3)
    contacts = history.contacts if history is not None else ()
    if journal.offered_at is not None:  # this call's own row is not a previous contact
        contacts = tuple(c for c in contacts if c.started < journal.offered_at)
    cases = history.cases if history is not None else ()
    return {
        "call_id": journal.call_id,
        "queue": journal.queue,
        "agent": agent,
        "at": now,
        "caller": _number(journal, show_number),
        "language": journal.language,
        "waited_s": waited,
        "ivr": _named_ivr(journal, labels),
        "robot": _named_robot(journal, labels),
        "topic_guess": journal.topic_guess,
        "history": [{"at": c.started, "channel": c.channel, "topic": c.topic,
                     "outcome": c.outcome, "queue": c.queue, "agent": c.agent}
                    for c in contacts],
        "open_cases": [{"number": c.number, "status": c.status, "topic": c.topic,
                        "kind": c.kind, "deadline": c.deadline, "overdue": c.overdue}
                       for c in cases],
    }
