"""Events of a call's life: offered, answered, keys, hold, recording, end.

Written by the engine's call adapters (``engine/core.py``, ``engine/call.py``,
``engine/uac.py``, ``engine/queues.py``), by the queue core
(``queue/core.py``, ``queue/pool.py``) for the parts of a call it decides,
and by the start-up reconciliation (``engine/reconcile.py``) that closes a
crash's calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, flattened, key, optional, register

#: The quality figures of ``call.ended`` (``media/rtcp.py`` ``summary``).
QUALITY_KEYS = ("rtp_sent", "rtp_received", "rtp_lost", "jitter_ms", "peer_fraction_lost",
                "peer_jitter_ms", "rtt_ms")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOffered(EventBase):
    """An INVITE was accepted for set-up (before the 180 Ringing): the first
    event of every inbound call.

    ``caller`` is the caller's number normalised once (``bailanys/phone.py``:
    Kazakhstan numbers as ``7XXXXXXXXXX`` without "+", the trunk prefix 8
    becomes 7, a withheld number is ``anonymous``): every consumer (KPIs,
    queue_log, the robot) reads it instead of parsing ``from``. ``dialled``
    is the user part of the Request-URI (the line called, e.g. ``1414``);
    ``display_name`` the From header's display name ("" when none). ``from``
    and ``to`` stay the raw URIs (RFC 3261 §20.20, §20.39), for analysts who
    need the network's own spelling. Rows written before ``caller``,
    ``dialled`` and ``display_name`` existed lack them: derive ``caller``
    with ``bailanys.phone.caller_of_uri(from)``. Personal data: the number
    and the name identify the caller."""

    type: ClassVar[str] = "call.offered"
    writer: ClassVar[str] = "engine/core.py (INVITE set-up, bailanys/engine/offered.py)"

    from_uri: str = key("from")
    to_uri: str = key("to")
    codec: str
    transport: str
    caller: str | None = optional()
    dialled: str | None = optional()
    display_name: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOriginated(EventBase):
    """An outbound call (the UAC: an agent's leg, a callback) was sent to
    ``to`` (the AOR) at ``contact`` (its registered binding)."""

    type: ClassVar[str] = "call.originated"
    writer: ClassVar[str] = "engine/uac.py"

    to: str
    contact: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRinging(EventBase):
    """An outbound call got a provisional answer ``status`` (180/183)."""

    type: ClassVar[str] = "call.ringing"
    writer: ClassVar[str] = "engine/uac.py"

    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(EventBase):
    """The call was answered (inbound: our 200 OK was ACKed; outbound: the
    peer's 200 OK). ``duration`` of ``call.ended`` counts from here."""

    type: ClassVar[str] = "call.answered"
    writer: ClassVar[str] = "engine/call.py"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dtmf(EventBase):
    """A key pressed (RFC 4733 telephone-event or in-band, ``source``).
    During a secret entry (an IIN, a code) ``digit`` is "" and ``masked``
    is true: the key itself is never stored."""

    type: ClassVar[str] = "dtmf"
    writer: ClassVar[str] = "engine/call.py"

    digit: str
    source: str
    masked: bool | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallLanguage(EventBase):
    """The caller chose (or the flow set) the call's ``language`` (kk, ru)."""

    type: ClassVar[str] = "call.language"
    writer: ClassVar[str] = "engine/call.py"

    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHold(EventBase):
    """The peer put the call on hold (a re-INVITE with sendonly/inactive, RFC 3264 §8.4)."""

    type: ClassVar[str] = "call.hold"
    writer: ClassVar[str] = "engine/core.py (re-INVITE)"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallUnhold(EventBase):
    """The peer took the call off hold (a re-INVITE with sendrecv)."""

    type: ClassVar[str] = "call.unhold"
    writer: ClassVar[str] = "engine/core.py (re-INVITE)"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallNotice(EventBase):
    """The caller is told a service ``notice`` (``service_restarting``) in
    ``languages`` (comma-separated) before the engine hangs up."""

    type: ClassVar[str] = "call.notice"
    writer: ClassVar[str] = "engine/core.py (restart)"

    notice: str
    languages: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecording(EventBase):
    """The bridged conversation is recorded to ``path`` (WAV, ``channels``
    in order, e.g. ``caller,agent``) with ``agent``."""

    type: ClassVar[str] = "call.recording"
    writer: ClassVar[str] = "engine/queues.py"

    path: str
    agent: str
    channels: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallConnected(EventBase):
    """A queued caller was bridged to ``agent`` after ``waited`` seconds
    (from the first join). ``orig_position``: its position on joining
    ``queue``; ``leg``: the agent leg's call id (when known)."""

    type: ClassVar[str] = "call.connected"
    writer: ClassVar[str] = "queue/core.py"

    queue: str
    agent: str
    waited: float
    orig_position: int
    leg: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCompleted(EventBase):
    """The conversation with ``agent`` ended: ``talk`` seconds, ended ``by``
    ``caller``/``agent`` (or the engine's cause: ``engine_restart`` when
    the start-up reconciliation closes it, ``engine_failure`` when the
    queue's new owner closes a call the dead owner was bridging, issue 22)."""

    type: ClassVar[str] = "call.completed"
    writer: ClassVar[str] = "queue/core.py; engine/reconcile.py; ownership/rebuild.py"

    queue: str
    agent: str
    waited: float
    talk: float
    by: str
    orig_position: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDisposition(EventBase):
    """The agent's wrap-up verdict: ``resolved`` or not, ``topic`` (None:
    not given). Once per answered call (docs/kpi.md first-call resolution).

    ``outcome`` (issue 19, from the operators' desktop): one of
    :class:`bailanys.queue.outcome.Outcome` (``resolved``, ``not_resolved``,
    ``request_created``, ``transferred``); ``resolved`` is true exactly for
    ``resolved``. Absent in rows written before the desktop, and when a
    supervisor gave only resolved/not. ``case``: the request's number when
    one was created. ``notes``: the operator's note, personal data masked
    (``analytics/pii.py``)."""

    type: ClassVar[str] = "call.disposition"
    writer: ClassVar[str] = "queue/pool.py (console action, operators' desktop)"

    queue: str
    agent: str
    resolved: bool
    topic: str | None
    outcome: str | None = optional()
    case: str | None = optional()
    notes: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(EventBase):
    """``agent`` transferred the caller (``call_id``) out of ``queue``
    (issue 19): ``mode`` ``blind`` or ``attended``; ``target`` the name of a
    transfer target (``[transfers]``: another queue or a second-line
    number), ``target_kind`` ``queue`` or ``number``; ``via`` ``phone`` (SIP
    REFER, RFC 3515) or ``desktop``. The 1414 FCR definition excludes
    transferred contacts (docs/kpi.md)."""

    type: ClassVar[str] = "call.transferred"
    writer: ClassVar[str] = "engine/transfers.py"

    queue: str
    agent: str
    mode: str
    target: str
    target_kind: str
    via: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(EventBase):
    """The call is over (the last event of every call). ``cause``: who ended
    it (``engine/causes.py``: caller, agent, engine_shutdown, rtp_timeout...);
    ``reason``: the detail; ``duration``: seconds from the answer (0 when
    never answered). ``quality``: the RTP/RTCP figures stored as top-level
    keys (``rtp_sent``, ``rtp_received``, ``rtp_lost``, ``jitter_ms``,
    ``peer_fraction_lost``, ``peer_jitter_ms``, ``rtt_ms``; the peer's are
    null without an RTCP report, RFC 3550 §6.4); absent when the start-up
    reconciliation closed the call."""

    type: ClassVar[str] = "call.ended"
    writer: ClassVar[str] = "engine/call.py; engine/reconcile.py; ownership/route.py"

    cause: str
    reason: str
    duration: float
    quality: Mapping[str, float | int | None] | None = flattened(*QUALITY_KEYS)


CLASSES = (CallOffered, CallOriginated, CallRinging, CallAnswered, Dtmf, CallLanguage, CallHold,
           CallUnhold, CallNotice, CallRecording, CallConnected, CallCompleted, CallDisposition,
           CallTransferred, CallEnded)
register(*CLASSES)
