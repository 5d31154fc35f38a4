"""Events of the supervisors' listen, whisper and barge (issue 21).

Each belongs to the monitored caller's call (``call_id``). ``supervisor``
is the console login, ``phone`` the SIP user whose phone was rung,
``agent`` the agent talking to the caller. ``mode`` is ``listen`` (the
supervisor hears both, says nothing to anyone), ``whisper`` (the agent
hears the supervisor, the caller does not) or ``barge`` (all three hear
each other). Written by ``engine/monitor.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, register


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStarted(EventBase):
    """The supervisor's phone answered and joined the bridge in ``mode``;
    ``ring_s``: how long it rang."""

    type: ClassVar[str] = "monitor.started"
    writer: ClassVar[str] = "engine/monitor.py"

    supervisor: str
    phone: str
    agent: str
    mode: str
    ring_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorModeChanged(EventBase):
    """The supervisor switched from ``previous`` to ``mode``, ``after_s``
    seconds after joining."""

    type: ClassVar[str] = "monitor.mode_changed"
    writer: ClassVar[str] = "engine/monitor.py"

    supervisor: str
    agent: str
    mode: str
    previous: str
    after_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorEnded(EventBase):
    """The monitor leg ended: ``reason`` ``stopped`` (monitor.stop on the
    console), ``supervisor_hangup``, ``call_ended`` (the caller or the agent
    hung up, or a transfer moved the call), ``no_answer`` (the phone did not
    answer: ``duration_s`` 0) or ``engine_stopping``. ``mode``: the last one;
    ``duration_s``: time joined; ``listen_s``, ``whisper_s``, ``barge_s``: the
    part of it spent in each mode."""

    type: ClassVar[str] = "monitor.ended"
    writer: ClassVar[str] = "engine/monitor.py"

    supervisor: str
    agent: str
    mode: str
    reason: str
    duration_s: float
    listen_s: float
    whisper_s: float
    barge_s: float


CLASSES = (MonitorStarted, MonitorModeChanged, MonitorEnded)
register(*CLASSES)
