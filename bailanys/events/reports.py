"""Events the regulator's reports need, captured at the source (issue 17).

Topic, region, the caller's social portrait and complaint verdicts. The
portrait is derived from an IIN at the moment the caller enters it; only
the age band and sex are written, never the IIN or the birth date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, optional, register


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTopic(EventBase):
    """The call's ``topic`` (an id of configs/topics.yaml) as ``source`` saw
    it: ``robot`` (the FAQ entry that answered) or ``ivr`` (a menu choice).
    The operator's disposition carries its topic in ``call.disposition``."""

    type: ClassVar[str] = "call.topic"
    writer: ClassVar[str] = "robot/assistant.py, ivr/runner.py"

    topic: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRegion(EventBase):
    """The caller's ``region`` (``reports.model.REGIONS`` id) from ``source``:
    ``flow`` (chosen in the menu), ``number`` (landline area code) or
    ``backend`` (the self-service back end, from the caller's IIN)."""

    type: ClassVar[str] = "call.region"
    writer: ClassVar[str] = "engine/uas.py, ivr/runner.py, reports/portrait.py"

    region: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerPortrait(EventBase):
    """The caller's social portrait, derived when an IIN was entered:
    ``age_band`` (18-30 ... 81-90, or other) and ``sex`` (f, m) from the
    IIN; ``social_status`` when the back end returned one. Nothing else of
    the IIN is kept."""

    type: ClassVar[str] = "caller.portrait"
    writer: ClassVar[str] = "reports/portrait.py (on the robot's IIN entry)"

    age_band: str
    sex: str
    social_status: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplaintConfirmed(EventBase):
    """A supervisor's verdict on the call's complaint about the centre
    (Appendix 2 row 20 counts confirmed ones): ``confirmed``, by ``user``."""

    type: ClassVar[str] = "complaint.confirmed"
    writer: ClassVar[str] = "console (supervisor action)"

    confirmed: bool
    user: str


CLASSES = (CallTopic, CallRegion, CallerPortrait, ComplaintConfirmed)
register(*CLASSES)
