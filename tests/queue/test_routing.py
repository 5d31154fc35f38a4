"""Routing: skills (with language) filter, each strategy with fixed times,
caller priority FIFO and queue priority tiers, through the core."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bailanys.queue.agents import Agent
from bailanys.queue.core import Action, QueueCore, Ring
from bailanys.queue.routing import choose, level, qualifies, required_skills
from bailanys.queue.settings import AgentSettings, QueueSettings, Strategy
from tests.queue.qhelpers import config, events, fields, logged_in, state


def agent(user: str, idle: float = 0.0, calls: int = 0, **skills: int) -> Agent:
    return Agent(AgentSettings(user, skills=skills), idle_since=idle, calls_taken=calls)


def rung(actions: Iterable[Action]) -> list[tuple[str, str]]:
    """The (call, agent) pairs rung; checks that each Ring follows its two events."""
    actions = list(actions)
    pairs = []
    for i, a in enumerate(actions):
        if isinstance(a, Ring):
            (t1, c1, f1), (t2, c2, f2) = events(actions[i - 2 : i])
            ringing = state(a.agent, "ringing", "available")
            assert (t1, c1, f1) == ("agent.state", a.call_id, ringing)
            assert (t2, c2, f2["agent"]) == ("agent.ringing", a.call_id, a.agent)
            assert f2["timeout"] == a.timeout_s
            pairs.append((a.call_id, a.agent))
    return pairs


def answer_and_end(core: QueueCore, call_id: str, now: float) -> None:
    core.ring_answered(call_id, now)
    core.call_ended(call_id, now + 1.0, by="agent")


# --- pure functions -------------------------------------------------------------


def test_required_skills_and_qualifies() -> None:
    need = required_skills(("public_services",), ("bilingual",), "kk")
    assert need == {"public_services", "bilingual", "kk"}
    assert required_skills((), (), None) == frozenset()
    a = agent("a", kk=3, public_services=1, bilingual=2)
    assert qualifies(a, need) and level(a, need) == 6
    assert not qualifies(agent("b", ru=9, public_services=9, bilingual=9), need)
    assert qualifies(agent("c"), frozenset())  # a queue without skills: anyone


ORDER = {"a": 0, "b": 1, "c": 2, "d": 3}
NEED = frozenset({"kk"})


@pytest.mark.parametrize(
    ("candidates", "winner"),
    [
        ([agent("a", idle=50, kk=1), agent("b", idle=10, kk=1), agent("c", idle=30, kk=1)], "b"),
        ([agent("a", idle=10, kk=1), agent("b", idle=10, kk=9)], "b"),  # tie: higher level
        ([agent("b", idle=10, kk=5), agent("a", idle=10, kk=5)], "a"),  # tie: config order
    ],
)
def test_longest_idle(candidates: list[Agent], winner: str) -> None:
    assert choose(Strategy.LONGEST_IDLE, candidates, NEED, ORDER).user == winner


@pytest.mark.parametrize(
    ("candidates", "winner"),
    [
        ([agent("a", 0, 5, kk=1), agent("b", 0, 2, kk=1), agent("c", 0, 3, kk=1)], "b"),
        ([agent("a", 20, 2, kk=1), agent("b", 10, 2, kk=1)], "b"),  # tie: longest idle
        ([agent("a", 10, 2, kk=1), agent("b", 10, 2, kk=2)], "b"),  # then level
    ],
)
def test_fewest_calls(candidates: list[Agent], winner: str) -> None:
    assert choose(Strategy.FEWEST_CALLS, candidates, NEED, ORDER).user == winner


def test_round_robin_rotates_past_the_last_rung() -> None:
    everyone = [agent(u, kk=1) for u in "abcd"]
    picks = []
    last = None
    for _ in range(6):
        chosen = choose(Strategy.ROUND_ROBIN, everyone, NEED, ORDER, last)
        picks.append(chosen.user)
        last = ORDER[chosen.user]
    assert picks == ["a", "b", "c", "d", "a", "b"]
    some = [agent("a", kk=1), agent("d", kk=1)]  # b, c busy
    assert choose(Strategy.ROUND_ROBIN, some, NEED, ORDER, ORDER["a"]).user == "d"
    assert choose(Strategy.ROUND_ROBIN, some, NEED, ORDER, ORDER["d"]).user == "a"


def test_choose_needs_candidates() -> None:
    with pytest.raises(ValueError):
        choose(Strategy.LONGEST_IDLE, [], NEED, ORDER)


# --- through the core --------------------------------------------------------------


def test_language_and_skills_filter_and_no_head_of_line_blocking() -> None:
    core = QueueCore(config(QueueSettings("q", skills=("public_services",)),
                            kk_only={"kk": 5, "public_services": 5},
                            no_skill={"ru": 5, "kk": 5}))
    core.join("ru1", "q", language="ru", now=0.0)
    core.join("kk1", "q", language="kk", now=1.0)
    out = logged_in(core, "no_skill", now=2.0).login("kk_only", 3.0)
    # ru1 stays first in line, but only kk1 can be served by the kk agent.
    assert rung(out) == [("kk1", "kk_only")]
    assert fields(out, "agent.ringing") == [{"agent": "kk_only", "queue": "q", "timeout": 15.0}]
    assert core.position("ru1") == 1 and core.position("kk1") == 2
    assert core.snapshot(3.0).queues[0].callers[0].state == "waiting"


def test_caller_skills_add_to_the_queues() -> None:
    cfg = config(QueueSettings("general"), mono={"kk": 5}, both={"kk": 1, "bilingual": 1})
    core = QueueCore(cfg)
    logged_in(core, "mono", "both")
    out = core.join("c1", "general", skills=("bilingual",), now=5.0)
    assert rung(out) == [("c1", "both")]
    assert fields(out, "queue.joined") == [{"queue": "general", "position": 1,
                                            "skills": ["bilingual"], "language": None,
                                            "priority": 0}]


def test_longest_idle_through_calls() -> None:
    core = QueueCore(config(QueueSettings("q", wrap_up_s=0), a={}, b={}, c={}))
    core.login("a", 0.0)
    core.login("b", 1.0)
    core.login("c", 2.0)
    out = core.join("x1", "q", now=10.0)
    assert rung(out) == [("x1", "a")]  # idle since 0
    answer_and_end(core, "x1", 11.0)  # a idle again since 12
    assert rung(core.join("x2", "q", now=20.0)) == [("x2", "b")]
    assert rung(core.join("x3", "q", now=21.0)) == [("x3", "c")]
    answer_and_end(core, "x2", 22.0)  # b idle since 23
    answer_and_end(core, "x3", 22.5)  # c idle since 23.5
    assert rung(core.join("x4", "q", now=30.0)) == [("x4", "a")]


def test_fewest_calls_through_calls() -> None:
    core = QueueCore(config(QueueSettings("q", strategy=Strategy.FEWEST_CALLS, wrap_up_s=0),
                            a={}, b={}))
    logged_in(core, "a", "b")
    assert rung(core.join("x1", "q", now=1.0)) == [("x1", "a")]
    answer_and_end(core, "x1", 2.0)  # a: 1 call, idle since 3
    core.logout("b", 4.0)
    core.login("b", 5.0)  # b: 0 calls but idle only since 5
    assert rung(core.join("x2", "q", now=6.0)) == [("x2", "b")]


def test_round_robin_through_calls() -> None:
    core = QueueCore(config(QueueSettings("q", strategy=Strategy.ROUND_ROBIN, wrap_up_s=0),
                            a={}, b={}, c={}))
    logged_in(core, "c", "b", "a")  # login order does not matter: config order does
    picks = []
    for n in range(4):
        out = core.join(f"x{n}", "q", now=float(n))
        picks += [agent for _, agent in rung(out)]
        answer_and_end(core, f"x{n}", n + 0.5)
    assert picks == ["a", "b", "c", "a"]


def test_caller_priority_then_fifo() -> None:
    core = QueueCore(config(QueueSettings("q", wrap_up_s=0), a={}))
    core.join("p0-first", "q", now=0.0)
    core.join("p5", "q", priority=5, now=1.0)
    core.join("p0-second", "q", now=2.0)
    out = core.join("p5-later", "q", priority=5, now=3.0)
    assert fields(out, "queue.joined")[0]["position"] == 2
    assert [core.position(c) for c in ("p5", "p5-later", "p0-first", "p0-second")] == [1, 2, 3, 4]
    served = []
    out = core.login("a", 4.0)
    for n in range(4):
        (call_id, _), = rung(out)
        served.append(call_id)
        out = core.ring_answered(call_id, 5.0 + n) + core.call_ended(call_id, 5.5 + n, "agent")
    assert served == ["p5", "p5-later", "p0-first", "p0-second"]


def test_queue_priority_tiers() -> None:
    cfg = config(QueueSettings("consultation", wrap_up_s=0), QueueSettings("egov", wrap_up_s=0),
                 QueueSettings("complaints", priority=1, wrap_up_s=0), a={})
    core = QueueCore(cfg)
    core.join("cons", "consultation", now=0.0)
    core.join("egov", "egov", now=1.0)
    core.join("compl", "complaints", now=2.0)
    served = []
    out = core.login("a", 3.0)
    for n in range(3):
        (call_id, _), = rung(out)
        served.append(call_id)
        out = core.ring_answered(call_id, 4.0 + n) + core.call_ended(call_id, 4.5 + n, "caller")
    # complaints first (higher tier), then the others in join order across queues
    assert served == ["compl", "cons", "egov"]
    assert events(out) == [
        ("agent.state", "egov", state("a", "on_call", "ringing")),
        ("call.connected", "egov", {"queue": "egov", "agent": "a", "waited": 5.0,
                                    "orig_position": 1}),
        ("call.completed", "egov", {"queue": "egov", "agent": "a", "waited": 5.0, "talk": 0.5,
                                    "by": "caller", "orig_position": 1}),
        ("agent.state", "egov", state("a", "wrap_up", "on_call")),
        ("agent.state", "egov", state("a", "available", "wrap_up")),  # wrap_up_s = 0
    ]
