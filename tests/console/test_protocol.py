"""The websocket protocol, pure: client messages, server messages, the outbox."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bailanys.console.protocol import (
    ACTIONS,
    ErrorCode,
    Outbox,
    ProtocolError,
    ack_message,
    encode,
    error_message,
    parse_client_message,
)


def msg(action: dict[str, Any], id: Any = 1, **extra: Any) -> str:
    return json.dumps({"type": "action", "id": id, "action": action, **extra})


@pytest.mark.parametrize(("action", "expected"), [
    ({"name": "agent_login", "agent": "1001"}, {"name": "agent_login", "agent": "1001"}),
    ({"name": "agent_logout", "agent": " 1001 "}, {"name": "agent_logout", "agent": "1001"}),
    ({"name": "agent_pause", "agent": "1001", "reason": "lunch"},
     {"name": "agent_pause", "agent": "1001", "reason": "lunch"}),
    ({"name": "agent_unpause", "agent": "1001"}, {"name": "agent_unpause", "agent": "1001"}),
    ({"name": "disposition", "call_id": "c-1", "agent": "1001", "resolved": True,
      "topic": "ЭЦП"},
     {"name": "disposition", "call_id": "c-1", "agent": "1001", "resolved": True,
      "topic": "ЭЦП"}),
    ({"name": "disposition", "call_id": "c-1", "agent": "1001", "resolved": False},
     {"name": "disposition", "call_id": "c-1", "agent": "1001", "resolved": False,
      "topic": None}),
    ({"name": "disposition", "call_id": "c-1", "agent": "1001", "resolved": False, "topic": ""},
     {"name": "disposition", "call_id": "c-1", "agent": "1001", "resolved": False,
      "topic": None}),
    ({"name": "monitor.start", "agent": "1001", "mode": "whisper"},
     {"name": "monitor.start", "agent": "1001", "call_id": None, "mode": "whisper"}),
    ({"name": "monitor.start", "call_id": "c-1", "mode": "listen"},
     {"name": "monitor.start", "agent": None, "call_id": "c-1", "mode": "listen"}),
    ({"name": "monitor.mode", "mode": "barge"}, {"name": "monitor.mode", "mode": "barge"}),
    ({"name": "monitor.stop"}, {"name": "monitor.stop"}),
])
def test_valid_actions_reach_the_api_normalised(action: dict[str, Any],
                                                expected: dict[str, Any]) -> None:
    request = parse_client_message(msg(action, id="a7"))
    assert request.id == "a7" and request.action == expected


def test_every_action_is_covered_above() -> None:
    assert set(ACTIONS) == {"agent_login", "agent_logout", "agent_pause", "agent_unpause",
                            "disposition", "monitor.start", "monitor.mode", "monitor.stop"}


def test_the_monitor_refusals_are_protocol_error_codes() -> None:
    from bailanys.monitor.refusals import CODES

    assert set(CODES) <= {str(c) for c in ErrorCode}


PAUSE = {"name": "agent_pause", "agent": "1001", "reason": "lunch"}


@pytest.mark.parametrize(("text", "code", "id"), [
    (b'{"type": "action"}', ErrorCode.BAD_MESSAGE, None),
    ("not json", ErrorCode.BAD_MESSAGE, None),
    ("[1, 2]", ErrorCode.BAD_MESSAGE, None),
    (json.dumps({"type": "action", "action": PAUSE}), ErrorCode.BAD_MESSAGE, None),
    (msg(PAUSE, id=True), ErrorCode.BAD_MESSAGE, None),
    (msg(PAUSE, id=""), ErrorCode.BAD_MESSAGE, None),
    (msg(PAUSE, id="x" * 65), ErrorCode.BAD_MESSAGE, None),
    (msg(PAUSE, id=[1]), ErrorCode.BAD_MESSAGE, None),
    (json.dumps({"type": "hello", "id": 3, "action": PAUSE}), ErrorCode.BAD_MESSAGE, 3),
    (msg(PAUSE, id=3, extra=1), ErrorCode.BAD_MESSAGE, 3),
    (json.dumps({"type": "action", "id": 3, "action": "agent_pause"}), ErrorCode.BAD_MESSAGE, 3),
    (msg({"name": "hangup_everyone"}, id=4), ErrorCode.UNKNOWN_ACTION, 4),
    (msg({"agent": "1001"}, id=4), ErrorCode.UNKNOWN_ACTION, 4),
    (msg({"name": ["agent_pause"]}, id=4), ErrorCode.UNKNOWN_ACTION, 4),
    (msg({"name": "agent_pause", "agent": "1001"}, id=5), ErrorCode.BAD_FIELD, 5),
    (msg({**PAUSE, "agent": 1001}, id=5), ErrorCode.BAD_FIELD, 5),
    (msg({**PAUSE, "reason": "   "}, id=5), ErrorCode.BAD_FIELD, 5),
    (msg({**PAUSE, "reason": "x" * 201}, id=5), ErrorCode.BAD_FIELD, 5),
    (msg({**PAUSE, "queue": "general"}, id=5), ErrorCode.BAD_FIELD, 5),
    (msg({"name": "disposition", "call_id": "c", "agent": "1", "resolved": "yes"}, id=5),
     ErrorCode.BAD_FIELD, 5),
    (msg({"name": "disposition", "call_id": "c", "agent": "1", "resolved": 1}, id=5),
     ErrorCode.BAD_FIELD, 5),
])
def test_bad_messages_are_answered_with_a_code_and_the_id_when_known(
        text: str | bytes, code: ErrorCode, id: Any) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(text)
    assert (info.value.code, info.value.id) == (code, id)


def test_server_messages_encode_compactly_and_keep_kazakh_letters() -> None:
    assert encode(ack_message(7, {})) == '{"type":"ack","id":7,"result":{}}'
    text = encode(error_message(None, ErrorCode.REFUSED, "Оператор қазір сөйлесуде"))
    assert "Оператор қазір сөйлесуде" in text and json.loads(text)["code"] == "refused"


def test_nan_and_infinity_become_null_so_browsers_can_parse_them() -> None:
    message = {"kpis": {"fcr": {"value": float("nan")}, "aht": [float("inf"), 1.5]}}
    assert json.loads(encode(message)) == {"kpis": {"fcr": {"value": None}, "aht": [None, 1.5]}}


def test_a_value_json_cannot_hold_raises() -> None:
    with pytest.raises(TypeError):
        encode({"agents": {object()}})


# --- the outbox ------------------------------------------------------------------


def test_the_outbox_keeps_only_the_latest_value_of_each_key() -> None:
    box = Outbox()
    assert not box
    for i in range(10_000):
        box.merge({"agents": [i]})
        if i % 2:
            box.merge({"kpis": {"n": i}})
    assert box.pending_keys == 2
    [delta] = box.take(now=5.0)
    assert delta == {"type": "delta", "now": 5.0, "data": {"agents": [9999], "kpis": {"n": 9999}}}
    assert not box and box.take(now=6.0) == []


def test_replies_follow_the_delta_in_order_and_are_bounded() -> None:
    box = Outbox(max_replies=2)
    assert box.add_reply(ack_message(1, {})) and box.add_reply(ack_message(2, {}))
    assert not box.add_reply(ack_message(3, {}))
    box.merge({"queues": []})
    assert [m["type"] for m in box.take(now=1.0)] == ["delta", "ack", "ack"]
    assert box.add_reply(ack_message(3, {}))
