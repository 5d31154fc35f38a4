"""Who ended a call: the cause vocabulary and the mapping of detailed reasons."""

from __future__ import annotations

import pytest

from bailanys.engine.causes import (
    REASONS,
    Cause,
    abandon_cause,
    is_lost,
    of_reason,
    parse,
)


def test_the_vocabulary_is_the_contract() -> None:
    assert [c.value for c in Cause] == [
        "caller", "agent", "flow", "no_answer", "engine_shutdown", "engine_restart",
        "engine_failure", "rtp_timeout", "max_duration", "error",
    ]


@pytest.mark.parametrize(("reason", "peer", "cause"), [
    ("remote_bye", Cause.CALLER, Cause.CALLER),  # the caller's BYE
    ("remote_bye", Cause.AGENT, Cause.AGENT),  # the agent's BYE on its leg
    ("cancelled", Cause.CALLER, Cause.CALLER),  # CANCEL while ringing
    ("caller_hangup", Cause.AGENT, Cause.CALLER),  # the agent's leg, after the caller left
    ("agent_hangup", Cause.CALLER, Cause.AGENT),
    ("shutdown", Cause.CALLER, Cause.ENGINE_SHUTDOWN),
    ("rtp_timeout", Cause.CALLER, Cause.RTP_TIMEOUT),
    ("max_duration", Cause.AGENT, Cause.MAX_DURATION),
    ("no_ack", Cause.CALLER, Cause.ERROR),
    ("flow_error", Cause.CALLER, Cause.ERROR),
    ("no_answer", Cause.AGENT, Cause.NO_ANSWER),
    ("rejected_486", Cause.AGENT, Cause.NO_ANSWER),
    ("timeout", Cause.AGENT, Cause.NO_ANSWER),
    ("normal", Cause.CALLER, Cause.FLOW),  # the demo's goodbye, a hang-up node's default
    ("no_agents", Cause.CALLER, Cause.FLOW),  # a flow's own hang-up cause
    ("robot_completed", Cause.CALLER, Cause.FLOW),
    ("queue_timeout", Cause.CALLER, Cause.FLOW),
    ("callback_requested", Cause.CALLER, Cause.FLOW),
    ("", Cause.CALLER, Cause.FLOW),
])
def test_of_reason(reason: str, peer: Cause, cause: Cause) -> None:
    assert of_reason(reason, peer) is cause


def test_every_known_reason_maps_into_the_vocabulary() -> None:
    assert all(isinstance(c, Cause) for c in REASONS.values())
    assert set(REASONS.values()) <= set(Cause)


def test_parse_and_old_abandons() -> None:
    assert parse("engine_restart") is Cause.ENGINE_RESTART
    assert parse("remote_bye") is None and parse(None) is None and parse(3) is None
    # Contract 2: a queue.abandoned stored before the field existed is the caller's.
    assert abandon_cause({"queue": "q", "waited": 3.0}) is Cause.CALLER
    assert abandon_cause({"cause": "nonsense"}) is Cause.CALLER
    assert abandon_cause({"cause": "engine_shutdown"}) is Cause.ENGINE_SHUTDOWN


def test_only_the_callers_hang_up_is_lost() -> None:
    assert [c.value for c in Cause if is_lost(c)] == ["caller"]
