"""The desktop's websocket protocol: every action, every refusal, the builders."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bailanys.console.protocol import ErrorCode, ProtocolError
from bailanys.desk.protocol import (
    MAX_NOTES_CHARS,
    Disposition,
    Logout,
    Pause,
    Ready,
    Transfer,
    call_message,
    encode,
    hello_message,
    parse_client_message,
    pop_message,
    state_message,
)
from bailanys.queue.outcome import Outcome

REASONS = ("lunch", "training")


def parse(msg: Any) -> Any:
    text = msg if isinstance(msg, str | bytes) else json.dumps(msg)
    return parse_client_message(text, REASONS)


def refused(msg: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse(msg)
    return info.value


def test_every_action() -> None:
    assert parse({"id": 1, "action": {"name": "ready"}}).action == Ready()
    assert parse({"type": "action", "id": "a", "action": {"name": "logout"}}).action == Logout()
    request = parse({"id": 2, "action": {"name": "pause", "reason": " lunch "}})
    assert (request.id, request.action, request.name) == (2, Pause("lunch"), "pause")
    disp = parse({"id": 3, "action": {"name": "disposition", "call_id": "c1", "topic": "egov",
                                      "outcome": "request_created", "case": "1414-1"}})
    assert disp.action == Disposition("c1", "egov", Outcome.REQUEST_CREATED, None, "1414-1")
    plain = parse({"id": 4, "action": {"name": "disposition", "call_id": "c1", "topic": "egov",
                                       "outcome": "resolved", "notes": "", "case": None}})
    assert plain.action == Disposition("c1", "egov", Outcome.RESOLVED)
    move = parse({"id": 5, "action": {"name": "transfer", "call_id": "c1",
                                      "target": "second_line", "mode": "attended"}})
    assert move.action == Transfer("c1", "second_line", "attended")


@pytest.mark.parametrize(("msg", "code", "text"), [
    (b"{}", ErrorCode.BAD_MESSAGE, "not binary"),
    ("{", ErrorCode.BAD_MESSAGE, "not JSON"),
    ("[1]", ErrorCode.BAD_MESSAGE, "JSON object"),
    ({"action": {"name": "ready"}}, ErrorCode.BAD_MESSAGE, "id must be"),
    ({"id": True, "action": {"name": "ready"}}, ErrorCode.BAD_MESSAGE, "id must be"),
    ({"id": "x" * 65, "action": {"name": "ready"}}, ErrorCode.BAD_MESSAGE, "id must be"),
    ({"id": 1, "type": "delta", "action": {"name": "ready"}}, ErrorCode.BAD_MESSAGE, "expected"),
    ({"id": 1, "action": {"name": "ready"}, "x": 1}, ErrorCode.BAD_MESSAGE, "expected"),
    ({"id": 1, "action": "ready"}, ErrorCode.BAD_MESSAGE, "must be an object"),
    ({"id": 1, "action": {"name": "agent_login"}}, ErrorCode.UNKNOWN_ACTION, "unknown action"),
    ({"id": 1, "action": {}}, ErrorCode.UNKNOWN_ACTION, "unknown action None"),
    ({"id": 1, "action": {"name": "ready", "agent": "1001"}}, ErrorCode.BAD_FIELD,
     "unknown field 'agent'"),
    ({"id": 1, "action": {"name": "pause"}}, ErrorCode.BAD_FIELD, "reason must be a str"),
    ({"id": 1, "action": {"name": "pause", "reason": "nap"}}, ErrorCode.BAD_FIELD,
     "unknown reason 'nap' (one of lunch, training)"),
    ({"id": 1, "action": {"name": "pause", "reason": "  "}}, ErrorCode.BAD_FIELD,
     "1 to 200 characters"),
    ({"id": 1, "action": {"name": "disposition", "call_id": "c", "topic": "t",
                          "outcome": "maybe"}}, ErrorCode.BAD_FIELD, "unknown outcome 'maybe'"),
    ({"id": 1, "action": {"name": "disposition", "call_id": "c", "outcome": "resolved"}},
     ErrorCode.BAD_FIELD, "topic must be a str"),
    ({"id": 1, "action": {"name": "disposition", "call_id": "c", "topic": "t",
                          "outcome": "resolved", "notes": "n" * (MAX_NOTES_CHARS + 1)}},
     ErrorCode.BAD_FIELD, f"notes must have 1 to {MAX_NOTES_CHARS} characters"),
    ({"id": 1, "action": {"name": "disposition", "call_id": 7, "topic": "t",
                          "outcome": "resolved"}}, ErrorCode.BAD_FIELD, "call_id must be a str"),
    ({"id": 1, "action": {"name": "transfer", "call_id": "c", "target": "t",
                          "mode": "sideways"}}, ErrorCode.BAD_FIELD, "mode must be one of"),
])
def test_bad_messages_are_answered_with_a_code(msg: Any, code: ErrorCode, text: str) -> None:
    exc = refused(msg)
    assert exc.code is code
    assert text in str(exc)
    if isinstance(msg, dict) and isinstance(msg.get("id"), int) and not isinstance(
            msg.get("id"), bool) and exc.code is not ErrorCode.BAD_MESSAGE:
        assert exc.id == 1  # the answer names the action it refuses


def test_server_messages_are_json_ready() -> None:
    hello = hello_message({"user": "1001", "name": "Aigerim"}, now=10.0, read_only=False,
                          break_reasons=[{"id": "lunch", "kk": "Түскі ас", "ru": "Обед"}],
                          transfer_targets=[], wrap_up_s=10.0, show_number=False)
    assert hello["type"] == "hello" and hello["topics_url"] == "/desk/api/topics"
    assert json.loads(encode(hello))["break_reasons"][0]["kk"] == "Түскі ас"
    assert state_message("wrap_up", 1.23456, "", 20.0, 5.0) == {
        "type": "state", "now": 5.0, "state": "wrap_up", "since": 1.235, "reason": None,
        "wrap_up_until": 20.0}
    assert state_message("break", 1.0, "lunch", None, 5.0)["reason"] == "lunch"
    assert pop_message({"call_id": "c"}) == {"type": "pop", "pop": {"call_id": "c"}}
    assert call_message("c", "missed", 3.0) == {"type": "call", "call_id": "c",
                                                 "phase": "missed", "at": 3.0}
    with pytest.raises(ValueError, match="unknown call phase"):
        call_message("c", "exploded", 3.0)
