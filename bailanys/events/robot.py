"""Events of the voice robot (self-services, the FAQ assistant) and its SMS.

The robot's cores (``robot/services.py``, ``robot/assistant.py``) do not know
the call: ``engine/robot.py`` sets ``call_id``. SMS events belong to no call
(the outbox outlives it) and never hold the number in the clear: ``to`` is
masked (``robot/sms.py`` ``mask_number``: all but the last four digits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, optional, register


@dataclass(frozen=True, slots=True, kw_only=True)
class RobotService(EventBase):
    """A self-service's step (``iin``, ``code``, ``book``, ``done``...) ended
    with ``outcome`` (``started``, ``valid``, ``invalid:<reason>``,
    ``handed_over:<reason>``, ``hung_up``...). The IIN and codes never
    appear."""

    type: ClassVar[str] = "robot.service"
    writer: ClassVar[str] = "robot/services.py"

    service: str
    step: str
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RobotFaq(EventBase):
    """The FAQ assistant's ``step`` (``start``, ``question``, ``clarified``,
    ``turn``, ``handover``, ``answer``...) ended with ``outcome``; for a
    question, the best ``entry``, its ``confidence`` and the ``attempt``
    (outcome ``noise``: the turn was cut by noise and the caller is asked to
    repeat); for a hand-over, the guessed ``topic`` ("" when none); for an
    ``answer`` cut by the caller (outcome ``interrupted:speech`` or
    ``interrupted:key``), the ``entry``, the seconds of it the caller heard
    (``played_s``) and its length (``length_s``)."""

    type: ClassVar[str] = "robot.faq"
    writer: ClassVar[str] = "robot/assistant.py"

    step: str
    outcome: str
    entry: str | None = optional()
    confidence: float | None = optional()
    attempt: int | None = optional()
    topic: str | None = optional()
    played_s: float | None = optional()
    length_s: float | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class RobotHandover(EventBase):
    """The robot gives the call back for ``reason``: from a self-service
    (``service``) or from the assistant with the guessed ``topic``."""

    type: ClassVar[str] = "robot.handover"
    writer: ClassVar[str] = "engine/robot.py"

    reason: str
    service: str | None = optional()
    topic: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsQueued(EventBase):
    """SMS ``sms_id`` was put in the outbox for ``to`` (masked)."""

    type: ClassVar[str] = "sms.queued"
    writer: ClassVar[str] = "robot/sms.py"

    sms_id: int
    to: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsSent(EventBase):
    """Kannel accepted SMS ``sms_id`` after ``attempts`` tries."""

    type: ClassVar[str] = "sms.sent"
    writer: ClassVar[str] = "robot/sms.py"

    sms_id: int
    to: str
    attempts: int | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsDelivered(EventBase):
    """The operator's delivery report says SMS ``sms_id`` was delivered."""

    type: ClassVar[str] = "sms.delivered"
    writer: ClassVar[str] = "robot/sms.py"

    sms_id: int
    to: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsFailed(EventBase):
    """SMS ``sms_id`` failed: given up after ``attempts`` tries, or a
    delivery report said so (no ``attempts``)."""

    type: ClassVar[str] = "sms.failed"
    writer: ClassVar[str] = "robot/sms.py"

    sms_id: int
    to: str
    attempts: int | None = optional()


#: The event of each outbox state (``robot/sms.py`` ``SmsState`` values).
SMS_BY_STATE: Mapping[str, Callable[..., EventBase]] = {
    "queued": SmsQueued, "sent": SmsSent, "delivered": SmsDelivered, "failed": SmsFailed}

CLASSES = (RobotService, RobotFaq, RobotHandover, SmsQueued, SmsSent, SmsDelivered, SmsFailed)
register(*CLASSES)
