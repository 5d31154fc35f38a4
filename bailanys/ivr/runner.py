"""The flow runner: a pure state machine that walks one call through a flow.

Sans-IO, like the SIP transactions: the runner never plays audio, sleeps or
reads the clock.  Its adapter (:mod:`bailanys.ivr.session`) feeds it
*inputs* (a key, a speech result, "the prompt finished", "timer fired",
"the hand-over failed", "hung up") with the current time, and executes the
*actions* it returns (play, stop playback, start/cancel the one timer,
listen for keywords, set the language, emit an event, hand over, hang up).
Tests drive it the same way with time as an input (:mod:`bailanys.ivr.testing`).

Phases of the node being run (one transition function, :meth:`FlowRunner.handle`)::

    PROMPT   playing the node's prompt; keys and speech barge in
    WAIT     prompt done, the no-input timer runs
    DIGITS   collect: keys arriving, the inter-digit timer runs
    SAY      a say/hangup/hand-over prompt is playing
    HANDOFF  handed to a queue, the robot or a transfer; the flow waits for
             the result (it ends there on success)
    DONE     the flow ended (hung up or handed over)

Keys pressed while nothing listens (during a ``say``) are kept and consumed
by the next menu or collect node without its prompt (type-ahead), as
callers who know the menu expect.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bailanys import events as ev
from bailanys.iin import InvalidIinError, validate_iin
from bailanys.ivr.actions import (
    Action,
    CancelTimer,
    Digit,
    Emit,
    EnterQueue,
    HandedBack,
    HandoffFailed,
    HangUpCall,
    HungUp,
    Input,
    Listen,
    Play,
    PlayDone,
    SetCallLanguage,
    Speech,
    StartRobot,
    StartTimer,
    StopListening,
    StopPlayback,
    TimerFired,
    TransferCall,
)
from bailanys.ivr.conditions import holds
from bailanys.ivr.model import (
    Branch,
    Collect,
    Flow,
    Goto,
    Handoff,
    Hangup,
    Menu,
    MenuOption,
    Node,
    Prompt,
    QueueNode,
    Robot,
    Say,
    SetLanguage,
    Survey,
    Transfer,
)
from bailanys.queuestate import QueueState
from bailanys.reports.model import RegionSource, TopicSource

log = logging.getLogger(__name__)

MAX_SILENT_STEPS = 256  # nodes entered for one input before the runner gives up (a guard)
SURVEY_KEYS = "12345"
#: The flow variable a menu option's ``region`` sets (issue 17; a branch may test it).
REGION_VARIABLE = "region"


class QueueStates(Protocol):
    """What a ``branch`` may ask about queues (the queue manager answers)."""

    def queue_state(self, name: str) -> QueueState | None: ...


class Phase(enum.Enum):
    PROMPT = "prompt"
    WAIT = "wait"
    DIGITS = "digits"
    SAY = "say"
    HANDOFF = "handoff"
    DONE = "done"


class FlowRunner:
    """Runs one call through ``flow``; create one per call."""

    def __init__(
        self,
        flow: Flow,
        *,
        language: str | None = None,
        queues: QueueStates | None = None,
    ) -> None:
        self.flow = flow
        self.language = language
        self.queues = queues
        self.variables: dict[str, str] = {}
        self.node: Node | None = None
        self.phase = Phase.DONE
        self.attempt = 0  # failed tries at the current node
        self._token = 0  # last play or timer token handed out
        self._await_play = -1  # the play whose end moves the node on
        self._timer = -1  # the running timer's token
        self._typeahead: deque[str] = deque()
        self._buffer = ""  # collect: keys so far
        self._question = 0  # survey: current question
        self._silent_steps = 0
        self._tz = ZoneInfo(flow.timezone)
        self._listening = False

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE and self.node is not None

    # ------------------------------------------------------------ entry points

    def start(self, now: datetime) -> list[Action]:
        out: list[Action] = [Emit(ev.IvrStarted(flow=self.flow.name,
                                                      flow_version=self.flow.version))]
        self._enter(self.flow.start, now, out)
        return out

    def handle(self, inp: Input, now: datetime) -> list[Action]:
        """Feed one input; returns the actions to execute, in order."""
        out: list[Action] = []
        self._silent_steps = 0  # the guard counts nodes entered within one input
        if self.done and not isinstance(inp, HandoffFailed):
            return out
        if isinstance(inp, HungUp):
            node = self.node.id if self.node else None
            out.append(Emit(ev.IvrHangup(node=node, phase=self.phase.value)))
            self._stop(out)
            self.phase = Phase.DONE
        elif isinstance(inp, Digit):
            self._digit(inp.key, now, out)
        elif isinstance(inp, Speech):
            self._speech(inp, now, out)
        elif isinstance(inp, PlayDone):
            if inp.token == self._await_play:
                self._await_play = -1
                self._play_done(now, out)
        elif isinstance(inp, TimerFired):
            if inp.token == self._timer:
                self._timer = -1
                self._timeout(now, out)
        elif isinstance(inp, HandoffFailed):
            self.variables.update(inp.variables)
            self._handoff_failed(inp.reason, now, out)
        return out

    # ------------------------------------------------------------ moving between nodes

    def _enter(self, node_id: str, now: datetime, out: list[Action]) -> None:
        while True:
            self._silent_steps += 1
            if self._silent_steps > MAX_SILENT_STEPS:
                log.error("flow %s: %d steps without input; hanging up", self.flow.name,
                          MAX_SILENT_STEPS)
                out.append(Emit(ev.IvrError(node=node_id, reason="too many steps")))
                self._finish(out, HangUpCall("flow_loop"))
                return
            node = self.flow.node(node_id)
            self.node = node
            self.attempt = 0
            out.append(Emit(ev.IvrNode(node=node.id, kind=node.kind)))
            nxt = self._run(node, now, out)
            if nxt is None:
                return
            node_id = nxt

    def _run(self, node: Node, now: datetime, out: list[Action]) -> str | None:
        """Start ``node``; returns the next node when it finishes at once."""
        start = _START.get(type(node))
        if start is None:
            raise AssertionError(f"unknown node {node!r}")
        return start(self, node, now, out)

    # ------------------------------------------------------------ starting a node, per kind

    def _start_set_language(self, node: SetLanguage, now: datetime,
                            out: list[Action]) -> str | None:
        self._set_language(node.language, out)
        return node.next

    def _start_goto(self, node: Goto, now: datetime, out: list[Action]) -> str | None:
        return node.next

    def _start_branch(self, node: Branch, now: datetime, out: list[Action]) -> str | None:
        return self._branch(node, now)

    def _start_say(self, node: Say, now: datetime, out: list[Action]) -> str | None:
        if node.barge_in and self._typeahead:
            return node.next
        self._play_all(node.prompt, node.barge_in, out)
        self.phase = Phase.SAY
        return None

    def _start_ask(self, node: Menu | Collect, now: datetime, out: list[Action]) -> str | None:
        return self._ask(node, None, now, out)

    def _start_survey(self, node: Survey, now: datetime, out: list[Action]) -> str | None:
        self._question = 0
        return self._ask_survey(node, None, out)

    def _start_handoff(self, node: Handoff | Hangup, now: datetime,
                       out: list[Action]) -> str | None:
        if node.prompt is not None and not isinstance(node, QueueNode):
            self._play_all(node.prompt, False, out)
            self.phase = Phase.SAY
            return None
        self._after_say(node, now, out)
        return None

    def _set_language(self, lang: str, out: list[Action]) -> None:
        self.language = lang
        out.append(SetCallLanguage(lang))

    def _branch(self, node: Branch, now: datetime) -> str:
        local = now.astimezone(self._tz)
        for case in node.cases:
            if holds(case.when, local, self.variables, self.language, self._queue_state):
                return case.next
        return node.default

    def _queue_state(self, name: str) -> QueueState | None:
        return None if self.queues is None else self.queues.queue_state(name)

    # ------------------------------------------------------------ prompts and waiting

    def _langs(self) -> tuple[str, ...]:
        return (self.language,) if self.language else self.flow.languages

    def _play_all(self, prompt: Prompt | None, barge_in: bool, out: list[Action]) -> None:
        """Play ``prompt`` in the call's language, or in every flow language if none is set."""
        if prompt is None:
            return
        if prompt.readback is not None:  # a say node reading back a collected entry
            prompt = Prompt(digits=self.variables.get(prompt.readback, ""))
        for lang in self._langs():
            self._token += 1
            out.append(Play(prompt, lang, self._token, barge_in))
            self._await_play = self._token

    def _ask(self, node: Menu | Collect, prelude: Prompt | None, now: datetime,
             out: list[Action]) -> str | None:
        self._buffer = ""
        if self._typeahead:
            key = self._typeahead.popleft()
            self.phase = Phase.WAIT
            return self._key(node, key, now, out, typed_ahead=True)
        if isinstance(node, Menu) and any(node.words(lang) for lang in self._langs()):
            out.append(Listen({lang: node.words(lang) for lang in self._langs()}))
            self._listening = True
        self._play_all(prelude, True, out)
        self._play_all(node.prompt, True, out)
        self.phase = Phase.PROMPT
        return None

    def _ask_survey(self, node: Survey, prelude: Prompt | None, out: list[Action]) -> str | None:
        self._play_all(prelude, True, out)
        self._play_all(node.questions[self._question].prompt, True, out)
        self.phase = Phase.PROMPT
        return None

    def _start_timer(self, seconds: float, out: list[Action]) -> None:
        self._token += 1
        self._timer = self._token
        out.append(StartTimer(self._token, seconds))

    def _cancel_timer(self, out: list[Action]) -> None:
        if self._timer != -1:
            self._timer = -1
            out.append(CancelTimer())

    def _stop(self, out: list[Action]) -> None:
        """Leave the current node: stop the prompt, the timer and the recogniser."""
        if self._await_play != -1:
            self._await_play = -1
            out.append(StopPlayback())
        self._cancel_timer(out)
        if self._listening:
            self._listening = False
            out.append(StopListening())

    def _finish(self, out: list[Action], action: Action) -> None:
        self._stop(out)
        out.append(action)
        self.phase = Phase.DONE

    def _play_done(self, now: datetime, out: list[Action]) -> None:
        node = self.node
        if self.phase is Phase.PROMPT and isinstance(node, Menu | Collect | Survey):
            self.phase = Phase.WAIT
            self._start_timer(node.retry.timeout_s, out)
        elif self.phase is Phase.SAY and node is not None:
            if isinstance(node, Say):
                self._goto(node.next, now, out)
            else:
                self._after_say(node, now, out)

    def _after_say(self, node: Node, now: datetime, out: list[Action]) -> None:
        """A hang-up or hand-over node whose prompt has been said."""
        if isinstance(node, Hangup):
            out.append(Emit(ev.IvrHangupNode(node=node.id, cause=node.cause)))
            self._finish(out, HangUpCall(node.cause))
            return
        self._stop(out)
        self.phase = Phase.HANDOFF
        if isinstance(node, QueueNode):
            skills = node.skills + ((self.language,) if self.language else ())
            out.append(Emit(ev.IvrQueue(node=node.id, queue=node.queue,
                                              skills=tuple(skills))))
            # the queue plays the node's prompt once the caller has joined (EnterQueue)
            out.append(EnterQueue(node.queue, skills, self.language, dict(self.variables),
                                  node.prompt))
        elif isinstance(node, Robot):
            out.append(Emit(ev.IvrRobot(node=node.id, service=node.service)))
            out.append(StartRobot(node.service, self.language, dict(self.variables)))
        elif isinstance(node, Transfer):
            out.append(Emit(ev.IvrTransfer(node=node.id, target=node.target)))
            out.append(TransferCall(node.target))

    def _handoff_failed(self, reason: str, now: datetime, out: list[Action]) -> None:
        node = self.node
        if self.phase is not Phase.HANDOFF or not isinstance(node, Handoff):
            return
        out.append(Emit(ev.IvrFallback(node=node.id, reason=reason, to=node.fallback)))
        if node.fallback is None:
            self._finish(out, HangUpCall(f"{node.kind}_unavailable"))
            return
        self._goto(node.fallback, now, out)

    def _goto(self, node_id: str, now: datetime, out: list[Action]) -> None:
        self._stop(out)
        self._enter(node_id, now, out)

    # ------------------------------------------------------------ input

    def _digit(self, key: str, now: datetime, out: list[Action]) -> None:
        node = self.node
        if self.phase is Phase.SAY and isinstance(node, Say):
            self._typeahead.append(key)
            if node.barge_in:
                self._goto(node.next, now, out)
            return
        if self.phase not in (Phase.PROMPT, Phase.WAIT, Phase.DIGITS):
            if self.phase is Phase.SAY:
                self._typeahead.append(key)
            return
        if isinstance(node, Menu | Collect):
            nxt = self._key(node, key, now, out)
            if nxt is not None:
                self._enter(nxt, now, out)
        elif isinstance(node, Survey):
            self._survey_key(node, key, now, out)

    def _key(self, node: Menu | Collect, key: str, now: datetime, out: list[Action],
             *, typed_ahead: bool = False) -> str | None:
        """A key at a menu or collect node; returns the next node to enter, if any."""
        self._silent_steps = 0
        if isinstance(node, Menu):
            option = node.option_for_key(key)
            if option is None:
                return self._no_match(node, "dtmf", key, None, now, out)
            return self._chosen(node, option, "dtmf", key, 1.0, out)
        # collect
        if self.phase is not Phase.DIGITS:
            if self._await_play != -1:
                self._await_play = -1
                out.append(StopPlayback())
            self.phase = Phase.DIGITS
        self._cancel_timer(out)
        if node.terminator is not None and key == node.terminator:
            return self._collected(node, now, out)
        self._buffer += key
        if len(self._buffer) >= node.max_length:
            return self._collected(node, now, out)
        while self._typeahead and self.phase is Phase.DIGITS:
            nxt = self._key(node, self._typeahead.popleft(), now, out)
            if nxt is not None or self.node is not node:
                return nxt
        self._start_timer(node.interdigit_s, out)
        return None

    def _chosen(self, node: Menu, option: MenuOption, source: str, value: str,
                confidence: float, out: list[Action]) -> str:
        out.append(Emit(ev.IvrInput(node=node.id, source=source, value=value,
                                          confidence=round(confidence, 3), next=option.next)))
        if option.topic is not None:  # issue 17: the topic at the source
            out.append(Emit(ev.CallTopic(topic=option.topic, source=TopicSource.IVR.value)))
        if option.region is not None:
            self.variables[REGION_VARIABLE] = option.region
            out.append(Emit(ev.CallRegion(region=option.region, source=RegionSource.FLOW.value)))
        self._stop(out)
        return option.next

    def _speech(self, sp: Speech, now: datetime, out: list[Action]) -> None:
        node = self.node
        if not isinstance(node, Menu) or self.phase not in (Phase.PROMPT, Phase.WAIT):
            return
        if sp.lang not in self._langs():
            return  # a late result from a recogniser of a language no longer listened to
        option = node.option_for_phrase(sp.lang, sp.phrase) if sp.phrase else None
        self._silent_steps = 0
        if (option is None or not sp.accepted) and self.phase is Phase.PROMPT:
            # Speech that is not a confident keyword does not cut the prompt:
            # a cough or a voice in the room must not restart the menu.
            out.append(Emit(ev.IvrSpeechIgnored(node=node.id, value=sp.phrase or "[unk]",
                                                confidence=round(sp.confidence, 3))))
            return
        if option is None or not sp.accepted:
            value = sp.phrase or "[unk]"
            nxt = self._no_match(node, "speech", value, sp.confidence, now, out)
        else:
            nxt = self._chosen(node, option, "speech", sp.phrase or "", sp.confidence, out)
        if nxt is not None:
            self._enter(nxt, now, out)

    def _no_match(self, node: Menu | Collect | Survey, source: str, value: str,
                  confidence: float | None, now: datetime, out: list[Action]) -> str | None:
        self.attempt += 1
        out.append(Emit(ev.IvrNoMatch(
            node=node.id, source=source, value=value, attempt=self.attempt,
            confidence=None if confidence is None else round(confidence, 3))))
        return self._retry_or_fallback(node, node.retry.no_match, now, out)

    def _timeout(self, now: datetime, out: list[Action]) -> None:
        node = self.node
        if isinstance(node, Collect) and self.phase is Phase.DIGITS:
            nxt = self._collected(node, now, out)  # inter-digit timeout ends the entry
            if nxt is not None:
                self._enter(nxt, now, out)
            return
        if not isinstance(node, Menu | Collect | Survey) or self.phase is not Phase.WAIT:
            return
        self.attempt += 1
        out.append(Emit(ev.IvrNoInput(node=node.id, attempt=self.attempt)))
        nxt = self._retry_or_fallback(node, node.retry.no_input, now, out)
        if nxt is not None:
            self._enter(nxt, now, out)

    def _retry_or_fallback(self, node: Menu | Collect | Survey, prelude: Prompt | None,
                           now: datetime, out: list[Action]) -> str | None:
        if self.attempt > node.retry.retries:
            if isinstance(node, Survey):
                out.append(Emit(ev.SurveySkipped(
                    node=node.id, question=node.questions[self._question].id)))
                return self._next_question(node, out)
            out.append(Emit(ev.IvrFallback(node=node.id, reason="retries",
                                                 to=node.fallback)))
            self._stop(out)
            return node.fallback
        self._stop(out)
        if isinstance(node, Survey):
            return self._ask_survey(node, prelude, out)
        return self._ask(node, prelude, now, out)

    def _collected(self, node: Collect, now: datetime, out: list[Action]) -> str | None:
        value, self._buffer = self._buffer, ""
        self._cancel_timer(out)
        reason = None
        if len(value) < node.min_length:
            reason = "too_short"
        elif node.validator == "iin":
            try:
                validate_iin(value)
            except InvalidIinError as exc:
                reason = f"iin_{exc.reason.value}"
        if reason is not None:
            self.attempt += 1
            out.append(Emit(ev.IvrNoMatch(node=node.id, source="dtmf",
                                                 value=_mask(value, node), reason=reason,
                                                 attempt=self.attempt)))
            self.phase = Phase.WAIT
            return self._retry_or_fallback(node, node.invalid or node.retry.no_match, now, out)
        self.variables[node.into] = value
        out.append(Emit(ev.IvrInput(node=node.id, source="dtmf", var=node.into,
                                          value=_mask(value, node), confidence=1.0,
                                          next=node.next)))
        self._stop(out)
        return node.next

    # ------------------------------------------------------------ survey

    def _survey_key(self, node: Survey, key: str, now: datetime, out: list[Action]) -> None:
        self._silent_steps = 0
        if key not in SURVEY_KEYS:
            nxt = self._no_match(node, "dtmf", key, None, now, out)
        else:
            question = node.questions[self._question]
            out.append(Emit(ev.SurveyAnswered(node=node.id, question=question.id,
                                                    score=int(key))))
            self._stop(out)
            nxt = self._next_question(node, out)
        if nxt is not None:
            self._enter(nxt, now, out)

    def _next_question(self, node: Survey, out: list[Action]) -> str | None:
        self._stop(out)
        self._question += 1
        self.attempt = 0
        if self._question < len(node.questions):
            return self._ask_survey(node, None, out)
        if node.thanks is not None:
            self._play_all(node.thanks, False, out)
            self.phase = Phase.SAY
            self.node = Say(node.id, node.line, node.thanks, node.next, barge_in=False)
            return None
        return node.next


_StartStep = Callable[[FlowRunner, Any, datetime, list[Action]], str | None]

#: How the runner enters a node, by kind (the kinds are registered in
#: :mod:`bailanys.ivr.kinds`; ``tests/ivr/test_kinds.py`` checks that each has
#: its step here).  After that, the phase handlers above (keys, speech, timers,
#: hand-over results) serve the kinds that wait for the caller (menu, collect,
#: survey) and the hand-overs: they are the machine's phases, not per-kind steps.
_START: dict[type[Node], _StartStep] = {
    Say: FlowRunner._start_say,
    Menu: FlowRunner._start_ask,
    Collect: FlowRunner._start_ask,
    SetLanguage: FlowRunner._start_set_language,
    Branch: FlowRunner._start_branch,
    QueueNode: FlowRunner._start_handoff,
    Robot: FlowRunner._start_handoff,
    Survey: FlowRunner._start_survey,
    Transfer: FlowRunner._start_handoff,
    Hangup: FlowRunner._start_handoff,
    Goto: FlowRunner._start_goto,
}


def _mask(value: str, node: Collect) -> str:
    """Personal numbers are not stored in full: an IIN keeps its last four digits."""
    if node.validator == "iin" and len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return value


__all__ = [
    "Action",
    "CancelTimer",
    "Digit",
    "Emit",
    "EnterQueue",
    "HandedBack",
    "FlowRunner",
    "HandoffFailed",
    "HangUpCall",
    "HungUp",
    "Input",
    "Listen",
    "MAX_SILENT_STEPS",
    "Phase",
    "Play",
    "PlayDone",
    "QueueStates",
    "SetCallLanguage",
    "Speech",
    "StartRobot",
    "StartTimer",
    "StopListening",
    "StopPlayback",
    "TimerFired",
    "TransferCall",
]
