"""Events of the IVR flows (``ivr/runner.py``) and the after-call survey.

The runner does not know the call: its events leave ``call_id`` None and
``ivr/session.py`` sets it (:meth:`EventBase.for_call`). ``node`` is the
flow node's id (``ivr_flows/*.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, key, optional, register


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrFlow(EventBase):
    """The call to ``number`` runs ``flow`` at ``version`` (its content hash)."""

    type: ClassVar[str] = "ivr.flow"
    writer: ClassVar[str] = "engine/flows.py"

    flow: str
    flow_version: str = key("version")
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrStarted(EventBase):
    """The runner started ``flow`` at ``version``."""

    type: ClassVar[str] = "ivr.started"
    writer: ClassVar[str] = "ivr/runner.py"

    flow: str
    flow_version: str = key("version")


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrNode(EventBase):
    """The flow entered ``node`` of ``kind`` (menu, say, collect, queue...)."""

    type: ClassVar[str] = "ivr.node"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrInput(EventBase):
    """A choice was accepted at ``node``: ``source`` dtmf/speech, ``value``
    (masked for a secret collect), ``confidence`` (1.0 for keys), the
    ``next`` node; ``var``: the variable a collect node filled."""

    type: ClassVar[str] = "ivr.input"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    source: str
    var: str | None = optional()
    value: str
    confidence: float
    next: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrNoMatch(EventBase):
    """Input at ``node`` matched nothing (``attempt`` of the node's retries):
    ``value`` heard or keyed (masked when secret), ``confidence`` for
    speech, ``reason`` for a rejected key entry (too short, invalid IIN...)."""

    type: ClassVar[str] = "ivr.no_match"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    source: str
    value: str
    reason: str | None = optional()
    attempt: int
    confidence: float | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrSpeechIgnored(EventBase):
    """Speech that was not a confident keyword did not cut the prompt at ``node``."""

    type: ClassVar[str] = "ivr.speech_ignored"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    value: str
    confidence: float


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrNoInput(EventBase):
    """Nothing was said or keyed at ``node`` in time (``attempt``)."""

    type: ClassVar[str] = "ivr.no_input"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrFallback(EventBase):
    """``node`` gave up (``reason``: retries, or a failed hand-over) and goes
    ``to`` its fallback (None: the call is hung up)."""

    type: ClassVar[str] = "ivr.fallback"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    reason: str
    to: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrQueue(EventBase):
    """The flow hands the call to ``queue`` needing ``skills``."""

    type: ClassVar[str] = "ivr.queue"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    queue: str
    skills: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrRobot(EventBase):
    """The flow hands the call to the voice robot's ``service`` (None: the
    assistant's menu)."""

    type: ClassVar[str] = "ivr.robot"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    service: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrTransfer(EventBase):
    """The flow transfers the call to ``target``."""

    type: ClassVar[str] = "ivr.transfer"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    target: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrHangupNode(EventBase):
    """The flow reached a hang-up node: the engine ends the call with ``cause``."""

    type: ClassVar[str] = "ivr.hangup_node"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrHangup(EventBase):
    """The caller hung up in the flow at ``node`` (None: before the first)
    in ``phase`` (prompt, wait, digits, say, handoff, done)."""

    type: ClassVar[str] = "ivr.hangup"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str | None
    phase: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrError(EventBase):
    """The flow was stopped at ``node`` for ``reason`` (a loop: too many steps)."""

    type: ClassVar[str] = "ivr.error"
    writer: ClassVar[str] = "ivr/runner.py"

    node: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyAnswered(EventBase):
    """The after-call survey's ``question`` got ``score`` (the key pressed)."""

    type: ClassVar[str] = "survey.answered"
    writer: ClassVar[str] = "ivr/runner.py (survey node)"

    node: str
    question: str
    score: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveySkipped(EventBase):
    """The survey's ``question`` got no valid answer and was skipped."""

    type: ClassVar[str] = "survey.skipped"
    writer: ClassVar[str] = "ivr/runner.py (survey node)"

    node: str
    question: str


CLASSES = (IvrFlow, IvrStarted, IvrNode, IvrInput, IvrNoMatch, IvrSpeechIgnored, IvrNoInput,
           IvrFallback, IvrQueue, IvrRobot, IvrTransfer, IvrHangupNode, IvrHangup, IvrError,
           SurveyAnswered, SurveySkipped)
register(*CLASSES)
