"""The operators' desktop websocket protocol (``/desk/ws``): JSON text messages.

Issue 19, "Operators' desktop": agent state from the desktop (ready, break
with reason, log out), the disposition (topic, outcome, notes, the request's
number), transfers, and what the engine pushes (the screen pop when the
operator's phone rings, the call's phases, the agent's state with the
wrap-up timer). The whole text with the shapes is ``desk/PROTOCOL.md``.

The envelope is the console's (``bailanys/console/protocol.py``: its
:class:`ProtocolError`, :class:`ErrorCode`, ``ack``/``error`` messages and
``encode`` are used as they are)::

    client: {"id": 7, "action": {"name": "pause", "reason": "lunch"}}
            ("type": "action" may be added, as the console's clients send it)
    server: {"type": "ack", "id": 7, "result": {}}
            {"type": "error", "id": 7, "code": "bad_field", "message": "..."}

Pure: :func:`parse_client_message` validates one message into one of the
action dataclasses below; the ``*_message`` builders make the server's
messages. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bailanys.console.protocol import (
    MAX_FIELD_CHARS,
    ErrorCode,
    Message,
    MessageId,
    ProtocolError,
    ack_message,
    encode,
    error_message,
    read_envelope,
)
from bailanys.queue.outcome import Outcome

__all__ = [
    "CALL_PHASES",
    "TRANSFER_MODES",
    "Action",
    "Disposition",
    "ErrorCode",
    "Logout",
    "Pause",
    "ProtocolError",
    "Ready",
    "Request",
    "Transfer",
    "ack_message",
    "call_message",
    "encode",
    "error_message",
    "hello_message",
    "parse_client_message",
    "pop_message",
    "state_message",
]

#: An operator's note on a call: a few sentences (the reports show it; a
#: request's description has its own, longer field on /desk/api/cases).
MAX_NOTES_CHARS: Final = 2000
#: A request's number (``cases/model.py``: "1414-2026-000123" and the like).
MAX_CASE_CHARS: Final = 40
#: What the page opens for the topics.
TOPICS_URL: Final = "/desk/api/topics"
#: ``mode`` of ``transfer`` (``engine/transfers.py``'s ``Transfers.transfer``):
#: blind (RFC 3515 REFER), attended (consult the target, caller on hold),
#: complete (the attended transfer goes through), cancel (back to the caller).
TRANSFER_MODES: Final = ("blind", "attended", "complete", "cancel")
#: ``phase`` of a ``call`` message.
CALL_PHASES: Final = ("ringing", "connected", "ended", "missed", "transferred")

#: Action name -> {field: (type, required)}.
_FIELDS: Final[dict[str, dict[str, tuple[type, bool]]]] = {
    "ready": {},
    "pause": {"reason": (str, True)},
    "logout": {},
    "disposition": {"call_id": (str, True), "topic": (str, True), "outcome": (str, True),
                    "notes": (str, False), "case": (str, False)},
    "transfer": {"call_id": (str, True), "target": (str, True), "mode": (str, True)},
}
_LIMITS: Final = {"notes": MAX_NOTES_CHARS, "case": MAX_CASE_CHARS}


@dataclass(frozen=True, slots=True)
class Ready:
    """Ends wrap-up or a break; logs in when logged out (``QueueService.ready``)."""


@dataclass(frozen=True, slots=True)
class Pause:
    reason: str


@dataclass(frozen=True, slots=True)
class Logout:
    pass


@dataclass(frozen=True, slots=True)
class Disposition:
    call_id: str
    topic: str
    outcome: Outcome
    notes: str | None = None
    case: str | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    call_id: str
    target: str
    mode: str


Action = Ready | Pause | Logout | Disposition | Transfer


@dataclass(frozen=True, slots=True)
class Request:
    id: str | int
    action: Action

    @property
    def name(self) -> str:
        return type(self.action).__name__.lower()


def parse_client_message(text: str | bytes, reasons: Collection[str]) -> Request:
    """Validate one client message; ``reasons``: the break reasons allowed
    (``[desk] break_reasons``). Raises :class:`ProtocolError`."""
    mid, raw = read_envelope(text, type_optional=True)
    name = raw.get("name")
    if not isinstance(name, str) or name not in _FIELDS:
        raise ProtocolError(ErrorCode.UNKNOWN_ACTION, f"unknown action {name!r} (one of "
                            f"{', '.join(_FIELDS)})", mid)
    values = _fields(name, raw, mid)
    return Request(mid, _action(name, values, reasons, mid))


def _fields(name: str, raw: Mapping[str, Any], mid: MessageId) -> dict[str, Any]:
    fields = _FIELDS[name]
    extra = set(raw) - set(fields) - {"name"}
    if extra:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"{name}: unknown field {sorted(extra)[0]!r}",
                            mid)
    out: dict[str, Any] = {}
    for field, (kind, required) in fields.items():
        value = raw.get(field)
        if not required and value in (None, ""):
            out[field] = None
            continue
        if type(value) is not kind:
            raise ProtocolError(ErrorCode.BAD_FIELD,
                                f"{name}: {field} must be a {kind.__name__}", mid)
        value = str(value).strip()
        limit = _LIMITS.get(field, MAX_FIELD_CHARS)
        if not value or len(value) > limit:
            raise ProtocolError(ErrorCode.BAD_FIELD,
                                f"{name}: {field} must have 1 to {limit} characters", mid)
        out[field] = value
    return out


def _action(name: str, v: dict[str, Any], reasons: Collection[str], mid: MessageId) -> Action:
    if name == "pause":
        if v["reason"] not in reasons:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"pause: unknown reason {v['reason']!r} "
                                f"(one of {', '.join(reasons)})", mid)
        return Pause(v["reason"])
    if name == "disposition":
        try:
            outcome = Outcome(v["outcome"])
        except ValueError:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"disposition: unknown outcome "
                                f"{v['outcome']!r} (one of {', '.join(Outcome)})",
                                mid) from None
        return Disposition(v["call_id"], v["topic"], outcome, v["notes"], v["case"])
    if name == "transfer":
        if v["mode"] not in TRANSFER_MODES:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"transfer: mode must be one of "
                                f"{', '.join(TRANSFER_MODES)}", mid)
        return Transfer(v["call_id"], v["target"], v["mode"])
    return Ready() if name == "ready" else Logout()


# --- server messages -------------------------------------------------------------


def hello_message(agent: Mapping[str, Any], *, now: float, read_only: bool,
                  break_reasons: Sequence[Mapping[str, str]],
                  transfer_targets: Sequence[Mapping[str, str]], wrap_up_s: float,
                  show_number: bool) -> Message:
    """The first message of every connection: who, and what the page may offer."""
    return {"type": "hello", "now": now, "agent": dict(agent), "read_only": read_only,
            "topics_url": TOPICS_URL, "break_reasons": [dict(r) for r in break_reasons],
            "transfer_targets": [dict(t) for t in transfer_targets], "wrap_up_s": wrap_up_s,
            "show_number": show_number}


def state_message(state: str, since: float, reason: str, wrap_up_until: float | None,
                  now: float) -> Message:
    """The agent's state (``queue/agents.py``); ``since`` and ``wrap_up_until`` wall-clock."""
    return {"type": "state", "now": now, "state": state, "since": round(since, 3),
            "reason": reason or None,
            "wrap_up_until": None if wrap_up_until is None else round(wrap_up_until, 3)}


def pop_message(pop: Mapping[str, Any]) -> Message:
    """The screen pop (``desk/pop.py``'s ``screen_pop``) when the operator's phone rings."""
    return {"type": "pop", "pop": dict(pop)}


def call_message(call_id: str, phase: str, at: float) -> Message:
    """A phase of the call the operator is rung for or talks to (:data:`CALL_PHASES`)."""
    if phase not in CALL_PHASES:
        raise ValueError(f"unknown call phase {phase!r}")
    return {"type": "call", "call_id": call_id, "phase": phase, "at": round(at, 3)}
