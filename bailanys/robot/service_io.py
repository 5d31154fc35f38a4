"""What the self-services and the voice assistant exchange with their adapter.

Inputs (what happened: keys, silence, a back-end result, an SMS queued or
not, a hang-up) and actions (say, collect keys, call the back end, send an
SMS, hand over, end, emit an event): plain frozen dataclasses shared by
:mod:`bailanys.robot.services` and :mod:`bailanys.robot.assistant`.
``Emit`` and ``HungUp`` are the catalogue's (:mod:`bailanys.events`),
shared with the IVR and queue cores; re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from bailanys.events import Emit as Emit
from bailanys.events import HungUp as HungUp

#: Seconds to wait for the first key (the IVR runner's no-input default).
COLLECT_TIMEOUT_S: Final = 8.0


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Digits:
    text: str  # the keys collected, terminator stripped


@dataclass(frozen=True)
class NoInput:
    pass


@dataclass(frozen=True)
class BackendResult:
    value: object


@dataclass(frozen=True)
class BackendFailed:
    retryable: bool = False
    slot_taken: bool = False


@dataclass(frozen=True)
class SmsResult:
    sent: bool


Input = Digits | NoInput | BackendResult | BackendFailed | SmsResult | HungUp


# ------------------------------------------------------------------ actions


@dataclass(frozen=True)
class Say:
    text: str
    lang: str


@dataclass(frozen=True)
class Collect:
    max_digits: int
    timeout_s: float = COLLECT_TIMEOUT_S
    terminator: str | None = None  # "#" ends a variable-length entry
    secret: bool = False  # an IIN or a code: the keys are not written to the event log


@dataclass(frozen=True)
class CallBackend:
    method: str  # a ServiceBackend method name
    args: tuple[object, ...]


@dataclass(frozen=True)
class SendSms:
    text: str  # to the caller's number, from 1414


@dataclass(frozen=True)
class HandOver:
    reason: str


@dataclass(frozen=True)
class End:
    outcome: str


@dataclass(frozen=True)
class Identified:
    """The caller entered a valid IIN: the adapter derives the social portrait
    at this moment and asks the back end for the region and social status
    (issue 17). The IIN goes no further: never in an event, never in a repr."""

    iin: str = field(repr=False)


Action = Say | Collect | CallBackend | SendSms | HandOver | End | Emit | Identified
