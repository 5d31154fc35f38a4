"""The console's websocket protocol: JSON text messages on ``/ws``.

A connection needs a live session cookie (checked before the upgrade).
Every message is one JSON object with a ``type``. ``now`` is the server's
clock (Unix seconds) when the message was sent; the page uses it to count
times up without trusting the browser's clock.

Server -> client::

    {"type": "snapshot", "now": 1767225600.0,
     "user": {"login": "aigerim", "name": "Айгерім", "role": "supervisor",
              "can_act": true},
     "data": {"queues": [...], "agents": [...], "kpis": {...}, "history": [...],
              "cases": {...}, "board": {...}}}
        first message of every connection: the whole state.

    {"type": "delta", "now": ..., "data": {"agents": [...]}}
        some top-level keys changed; each value replaces the old one wholesale.
        A client that reads slowly gets the latest value of each key, never
        a backlog: updates between two sends are coalesced.

    {"type": "ack", "id": 7, "result": {...}}
    {"type": "error", "id": 7, "code": "forbidden", "message": "..."}
        the answer to the action with that ``id`` (``id`` is null when the
        message was too broken to have one). ``code`` is an :class:`ErrorCode`.

Flow control (issue 21; ``flow.py``): a client that connects with
``/ws?flow=1`` gets a ``seq`` on the snapshot (0) and on every delta, and
acknowledges each after drawing it with ``{"type": "rendered", "seq": N}``
(no answer). The server sends the next delta only after the ack: one in
flight, everything changed meanwhile coalesced into it. Its deltas carry
``agents`` and ``queues`` as keyed patches in ``"patch"``
(``{"agents": {"key": "user", "set": [...], "remove": [...],
"order": [...]}}``), the other parts whole in ``data``. A client without
``flow=1`` gets what is described above, unchanged.

Client -> server::

    {"type": "action", "id": 7,
     "action": {"name": "agent_pause", "agent": "1001", "reason": "lunch"}}

Actions and their fields (all strings unless said; see :data:`ACTIONS`):
``agent_login`` (agent), ``agent_logout`` (agent), ``agent_pause`` (agent,
reason), ``agent_unpause`` (agent), ``disposition`` (call_id, agent,
resolved: bool, topic: optional string), ``monitor.start`` (agent or
call_id, mode: ``listen``, ``whisper`` or ``barge``), ``monitor.mode``
(mode), ``monitor.stop``. Only the roles ``supervisor`` and ``admin`` may
act; others get ``forbidden``.

The server closes the connection with 1008 (policy violation) when the
session ends (logout, expiry). The same text, with the shapes of the data,
is in ``PROTOCOL.md``. Nothing here does I/O.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bailanys.console.auth import ConsoleUser
from bailanys.errors import BailanysError

#: Replies (acks, errors) waiting for a slow client before its reader waits too.
MAX_PENDING_REPLIES = 16
#: Longest string field of an action, and of an action's ``id``.
MAX_FIELD_CHARS = 200
MAX_ID_CHARS = 64

#: Action name -> {field: type}. ``topic`` of ``disposition`` is optional.
ACTIONS: dict[str, dict[str, type]] = {
    "agent_login": {"agent": str},
    "agent_logout": {"agent": str},
    "agent_pause": {"agent": str, "reason": str},
    "agent_unpause": {"agent": str},
    "disposition": {"call_id": str, "agent": str, "resolved": bool, "topic": str},
    # Issue 21: listen, whisper, barge (mode: listen|whisper|barge); agent or call_id.
    "monitor.start": {"agent": str, "call_id": str, "mode": str},
    "monitor.mode": {"mode": str},
    "monitor.stop": {},
}
_OPTIONAL = {("disposition", "topic"), ("monitor.start", "agent"), ("monitor.start", "call_id")}

Message = dict[str, Any]
MessageId = str | int | None


class ErrorCode(StrEnum):
    BAD_MESSAGE = "bad_message"  # not JSON, not an object, unknown type, bad id
    UNKNOWN_ACTION = "unknown_action"
    BAD_FIELD = "bad_field"  # a field missing, extra or of the wrong type
    FORBIDDEN = "forbidden"  # the user's role may not act
    SESSION_EXPIRED = "session_expired"
    REFUSED = "refused"  # the engine said no (ActionError)
    TIMEOUT = "timeout"  # the engine did not answer in time
    INTERNAL = "internal"  # a bug; the server's log has it
    # Issue 21's refusals of listen, whisper, barge (bailanys/monitor/refusals.py).
    NOT_IN_CALL = "not_in_call"
    PHONE_NOT_REGISTERED = "phone_not_registered"
    ALREADY_MONITORED = "already_monitored"
    NO_PHONE = "no_phone"
    MONITOR_BUSY = "monitor_busy"
    NOT_MONITORING = "not_monitoring"


class ProtocolError(BailanysError):
    """A client's message is not valid; answered with an ``error`` message."""

    def __init__(self, code: ErrorCode, message: str, id: MessageId = None) -> None:
        super().__init__(message)
        self.code = code
        self.id = id


@dataclass(frozen=True, slots=True)
class ActionRequest:
    id: str | int
    #: ``{"name": ..., <fields>}``: what :meth:`ConsoleApi.act` receives.
    action: Message


def read_envelope(text: str | bytes, *, type_optional: bool = False
                  ) -> tuple[str | int, Message]:
    """The ``id`` and the ``action`` object of a client message: the envelope
    of the console's and the operators' desktop's websockets (the desktop's
    may leave out ``"type": "action"``). Raises :class:`ProtocolError`."""
    if not isinstance(text, str):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "send JSON text, not binary")
    try:
        msg = json.loads(text)
    except ValueError:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "not JSON") from None
    if not isinstance(msg, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "a message is a JSON object")
    mid = msg.get("id")
    if isinstance(mid, bool) or not isinstance(mid, str | int) or (
            isinstance(mid, str) and not 0 < len(mid) <= MAX_ID_CHARS):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "id must be a short string or an integer")
    if type_optional:
        if set(msg) - {"type"} != {"id", "action"} or msg.get("type", "action") != "action":
            raise ProtocolError(ErrorCode.BAD_MESSAGE,
                                'expected {"id": ..., "action": {"name": ...}}', mid)
    elif msg.get("type") != "action" or set(msg) != {"type", "id", "action"}:
        raise ProtocolError(ErrorCode.BAD_MESSAGE,
                            'expected {"type": "action", "id": ..., "action": {...}}', mid)
    action = msg["action"]
    if not isinstance(action, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "action must be an object", mid)
    return mid, action


def rendered_seq(text: str | bytes) -> int | None:
    """The ``seq`` of a page's ``{"type": "rendered", "seq": N}`` (flow
    control, ``bailanys/console/flow.py``), or None for any other message."""
    if not isinstance(text, str) or '"rendered"' not in text:
        return None
    try:
        msg = json.loads(text)
    except ValueError:
        return None
    if not isinstance(msg, dict) or msg.get("type") != "rendered" or set(msg) != {"type", "seq"}:
        return None
    seq = msg["seq"]
    return seq if type(seq) is int and seq >= 0 else None


def parse_client_message(text: str | bytes) -> ActionRequest:
    """Validate one client message; raise :class:`ProtocolError` for a bad one."""
    mid, action = read_envelope(text)
    name = action.get("name")
    fields = ACTIONS.get(name) if isinstance(name, str) else None
    if fields is None or not isinstance(name, str):
        raise ProtocolError(ErrorCode.UNKNOWN_ACTION, f"unknown action {name!r}", mid)
    return ActionRequest(mid, {"name": name, **_check_fields(name, fields, action, mid)})


def _check_fields(name: str, fields: dict[str, type], action: Message, mid: MessageId) -> Message:
    extra = set(action) - set(fields) - {"name"}
    if extra:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"{name}: unknown field {sorted(extra)[0]!r}", mid)
    out: Message = {}
    for field, kind in fields.items():
        value = action.get(field)
        optional = (name, field) in _OPTIONAL
        if optional and value in (None, ""):
            out[field] = None
            continue
        if type(value) is not kind:
            raise ProtocolError(ErrorCode.BAD_FIELD,
                                f"{name}: {field} must be a {kind.__name__}", mid)
        if isinstance(value, str):
            value = value.strip()
            if not value or len(value) > MAX_FIELD_CHARS:
                raise ProtocolError(
                    ErrorCode.BAD_FIELD,
                    f"{name}: {field} must have 1 to {MAX_FIELD_CHARS} characters", mid)
        out[field] = value
    return out


# --- server messages -------------------------------------------------------------


def user_info(user: ConsoleUser) -> Message:
    return {"login": user.login, "name": user.display_name or user.login,
            "role": str(user.role), "can_act": user.can_act}


def snapshot_message(data: Mapping[str, Any], now: float, user: ConsoleUser) -> Message:
    return {"type": "snapshot", "now": now, "user": user_info(user), "data": data}


def delta_message(data: Mapping[str, Any], now: float) -> Message:
    return {"type": "delta", "now": now, "data": data}


def ack_message(id: MessageId, result: Mapping[str, Any]) -> Message:
    return {"type": "ack", "id": id, "result": result}


def error_message(id: MessageId, code: ErrorCode | str, message: str) -> Message:
    return {"type": "error", "id": id, "code": str(code), "message": message}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def encode(message: Message) -> str:
    """Compact JSON; NaN and infinities (which browsers cannot parse) become null.
    A value JSON cannot hold raises TypeError."""
    try:
        return json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(message), ensure_ascii=False, separators=(",", ":"))


# --- one client's outgoing side --------------------------------------------------


class Outbox:
    """What one client has yet to receive.

    ``merge`` keeps only the latest value per delta key (a slow client's
    memory is bounded by the number of keys, not by the update rate); replies
    wait in order, at most ``max_replies``. ``take`` empties both: first one
    delta with every pending key, then the replies, so an ``ack`` arrives
    after the state change its action caused.
    """

    def __init__(self, max_replies: int = MAX_PENDING_REPLIES) -> None:
        self.max_replies = max_replies
        self._pending: Message = {}
        self._replies: deque[Message] = deque()

    def __bool__(self) -> bool:
        return bool(self._pending or self._replies)

    @property
    def pending_keys(self) -> int:
        return len(self._pending)

    def merge(self, delta: Mapping[str, Any]) -> None:
        self._pending.update(delta)

    def add_reply(self, message: Message) -> bool:
        """Queue ``message``; False (and nothing queued) when the outbox is full."""
        if len(self._replies) >= self.max_replies:
            return False
        self._replies.append(message)
        return True

    def take(self, now: float) -> list[Message]:
        out = [delta_message(self._pending, now)] if self._pending else []
        out.extend(self._replies)
        self._pending = {}
        self._replies.clear()
        return out
