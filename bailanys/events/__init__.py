"""The typed event catalogue: the spine every component writes.

One frozen dataclass per event type, grouped by domain (``call``,
``queue``, ``ivr``, ``robot``, ``analytics``, ``cases``, ``system``,
``monitor``); the machinery (base class, codec, registry) is in
:mod:`bailanys.events.base`; docs/events.md is generated from it
(``python -m bailanys.events > docs/events.md``).

Producing: a pure core returns ``Emit(event)``; its adapter adds the call id
(``event.for_call(call.id)``) where the core does not know it and calls
``EventLog.emit(event)`` (``bailanys/store/events.py``). Reading:
``decode(stored_event)`` gives the typed event, or :class:`UnknownEvent`
for a type or a row this version cannot type (kept, never dropped).

A leaf: imports only the standard library (and ``bailanys.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bailanys.events import (
    analytics,
    call,
    cases,
    ivr,
    monitor,
    qa,
    queue,
    reports,
    robot,
    system,
)
from bailanys.events import ops as ops_events
from bailanys.events.analytics import (
    RecordingClosed,
    RecordingPlayed,
    TranscriptFailed,
    TranscriptReady,
)
from bailanys.events.base import (
    AnyEvent,
    EventBase,
    FieldSpec,
    Stored,
    UnknownEvent,
    decode,
    decode_parts,
    encode,
    fields_of,
    registry,
)
from bailanys.events.call import (
    QUALITY_KEYS,
    CallAnswered,
    CallCompleted,
    CallConnected,
    CallDisposition,
    CallEnded,
    CallHold,
    CallLanguage,
    CallNotice,
    CallOffered,
    CallOriginated,
    CallRecording,
    CallRinging,
    CallTransferred,
    CallUnhold,
    Dtmf,
)
from bailanys.events.cases import (
    CaseComplaint,
    CaseCreated,
    CaseDuplicate,
    CaseEscalated,
    CasePromise,
    CaseSplit,
    CaseStatus,
)
from bailanys.events.ivr import (
    IvrError,
    IvrFallback,
    IvrFlow,
    IvrHangup,
    IvrHangupNode,
    IvrInput,
    IvrNode,
    IvrNoInput,
    IvrNoMatch,
    IvrQueue,
    IvrRobot,
    IvrSpeechIgnored,
    IvrStarted,
    IvrTransfer,
    SurveyAnswered,
    SurveySkipped,
)
from bailanys.events.monitor import MonitorEnded, MonitorModeChanged, MonitorStarted
from bailanys.events.ops import BackupCompleted, RetentionPurged
from bailanys.events.qa import QaQueued, QaReviewed, QaScored
from bailanys.events.queue import (
    AgentNoAnswer,
    AgentRegistered,
    AgentRinging,
    AgentState,
    AgentUnregistered,
    QueueAbandoned,
    QueueAnnounced,
    QueueCallback,
    QueueCallbackAnswered,
    QueueCallbackRequested,
    QueueJoined,
    QueueOwner,
    QueueTimeout,
)
from bailanys.events.reports import CallerPortrait, CallRegion, CallTopic, ComplaintConfirmed
from bailanys.events.robot import (
    SMS_BY_STATE,
    RobotFaq,
    RobotHandover,
    RobotService,
    SmsDelivered,
    SmsFailed,
    SmsQueued,
    SmsSent,
)
from bailanys.events.system import AuthBlocked, AuthFailed, ConsoleAction, EngineStopped

#: Every catalogue class, by domain (the order of docs/events.md).
DOMAINS: tuple[tuple[str, tuple[type[EventBase], ...]], ...] = (
    ("Calls", call.CLASSES),
    ("Queues and agents", queue.CLASSES),
    ("IVR flows and the survey", ivr.CLASSES),
    ("Voice robot and SMS", robot.CLASSES),
    ("Speech analytics", analytics.CLASSES),
    ("Quality assurance", qa.CLASSES),
    ("Reports: topic, region, portrait, complaints", reports.CLASSES),
    ("Citizens' requests (cases)", cases.CLASSES),
    ("Engine, console, authentication", system.CLASSES),
    ("Supervisors' listen, whisper, barge", monitor.CLASSES),
    ("Operations: backups and retention", ops_events.CLASSES),
)


@dataclass(frozen=True, slots=True)
class Emit:
    """The one action by which a pure core (IVR runner, queue core, robot)
    asks its adapter to write ``event`` to the event log."""

    event: EventBase

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def call_id(self) -> str | None:
        return self.event.call_id

    @property
    def fields(self) -> Mapping[str, Any]:
        """The stored ``data`` of the event (as ``encode`` gives it)."""
        return encode(self.event)[2]

    @classmethod
    def of(cls, type_: str, call_id: str | None, fields: Mapping[str, Any]) -> Emit:
        """``Emit`` of the catalogue event of ``type_`` with these stored
        fields (tests write expected actions this way). Raises ``ValueError``
        when they do not make one."""
        return cls(event_of(type_, call_id, fields))


@dataclass(frozen=True, slots=True)
class HungUp:
    """The one input telling a pure core (IVR runner, robot) the caller hung up."""


def event_of(type_: str, call_id: str | None, fields: Mapping[str, Any]) -> EventBase:
    """The catalogue event of ``type_`` from stored-style ``fields``; raises
    ``ValueError`` (with the reason) when they do not make one. For code that
    holds a type string; new code builds the class itself."""
    event = decode_parts(type_, call_id, fields)
    if isinstance(event, UnknownEvent):
        raise ValueError(f"{type_}: {event.reason}")
    return event


__all__ = [
    "BackupCompleted", "RetentionPurged",
    "DOMAINS", "QUALITY_KEYS", "SMS_BY_STATE",
    "AgentNoAnswer", "AgentRegistered", "AgentRinging", "AgentState", "AgentUnregistered",
    "AnyEvent", "AuthBlocked", "AuthFailed", "CallAnswered", "CallCompleted", "CallConnected",
    "CallDisposition", "CallEnded", "CallHold", "CallLanguage", "CallNotice", "CallOffered",
    "CallOriginated", "CallRecording", "CallRinging", "CallTransferred", "CallUnhold",
    "ConsoleAction", "Dtmf",
    "Emit", "EngineStopped", "EventBase", "FieldSpec", "HungUp", "IvrError", "IvrFallback",
    "IvrFlow", "IvrHangup", "IvrHangupNode", "IvrInput", "IvrNoInput", "IvrNoMatch", "IvrNode",
    "IvrQueue", "IvrRobot", "IvrSpeechIgnored", "IvrStarted", "IvrTransfer", "QueueAbandoned",
    "QueueAnnounced", "QueueCallback", "QueueCallbackAnswered", "QueueCallbackRequested",
    "CallRegion", "CallTopic", "CallerPortrait", "ComplaintConfirmed",
    "CaseComplaint", "CaseCreated", "CaseDuplicate", "CaseEscalated", "CasePromise",
    "CaseSplit", "CaseStatus",
    "QaQueued", "QaReviewed", "QaScored",
    "QueueJoined", "QueueTimeout", "RecordingClosed", "RecordingPlayed", "RobotFaq",
    "RobotHandover", "RobotService", "SmsDelivered",
    "SmsFailed", "SmsQueued", "SmsSent", "Stored", "SurveyAnswered", "SurveySkipped",
    "TranscriptFailed", "TranscriptReady",
    "MonitorEnded", "MonitorModeChanged", "MonitorStarted",
    "QueueOwner",
    "UnknownEvent", "decode", "decode_parts", "encode", "event_of", "fields_of", "registry",
]
