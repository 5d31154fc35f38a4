"""Which free agent takes a caller: skills filter, then the queue's strategy.

An agent qualifies for a caller when their skills include every skill the
caller requires: the queue's ``skills``, the skills the flow asked for, and
the caller's language (``kk``/``ru`` are language skills). Levels do not
filter; they only break ties.

Among qualified candidates the queue's strategy decides (Asterisk
queues.conf ``strategy``):

- ``longest_idle`` (leastrecent): earliest ``idle_since`` (end of the last
  call, or the login);
- ``fewest_calls`` (fewestcalls): fewest ``calls_taken``, then longest idle;
- ``round_robin`` (rrmemory): the first candidate after the agent this
  queue rang last, in the order agents are listed in the config, wrapping.

Ties under ``longest_idle`` and ``fewest_calls`` go to the agent with the
higher total level in the caller's required skills, then to config order:
equal-idle agents are rare (a shift logging in together) and that is when
the stronger agent should take the call. Skill level is deliberately not
the first key: it would send every call to the best agent and starve the
others (Asterisk keeps penalties, its closest notion, as a separate tier).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence

from bailanys.queue.agents import Agent
from bailanys.queue.callers import Caller
from bailanys.queue.settings import QueueSettings, Strategy


def required_skills(
    queue_skills: Sequence[str], skills: Sequence[str], language: str | None
) -> frozenset[str]:
    """The queue's skills, the caller's extra skills and its language."""
    extra = (language,) if language else ()
    return frozenset((*queue_skills, *skills, *extra))


def qualifies(agent: Agent, required: frozenset[str]) -> bool:
    """True when the agent has every required skill (any level)."""
    return required <= agent.settings.skill_set


def level(agent: Agent, required: frozenset[str]) -> int:
    """The agent's total level in the required skills (the tie-breaker)."""
    return sum(agent.settings.skills.get(skill, 0) for skill in required)


def choose(
    strategy: Strategy,
    candidates: Sequence[Agent],
    required: frozenset[str],
    order: Mapping[str, int],
    last_rung: int | None = None,
) -> Agent:
    """Pick one of ``candidates`` (non-empty, all qualified).

    ``order`` maps each user to its place in the config; ``last_rung`` is
    the place of the agent this queue rang last (round robin's memory).
    """
    if not candidates:
        raise ValueError("no candidates")
    if strategy is Strategy.ROUND_ROBIN:
        start = -1 if last_rung is None else last_rung
        size = max(len(order), 1)
        return min(candidates, key=lambda a: (order[a.user] - start - 1) % size)
    if strategy is Strategy.FEWEST_CALLS:
        return min(
            candidates,
            key=lambda a: (a.calls_taken, a.idle_since, -level(a, required), order[a.user]),
        )
    return min(candidates, key=lambda a: (a.idle_since, -level(a, required), order[a.user]))


def assign(
    callers: Iterable[Caller],
    free: list[Agent],
    queues: Mapping[str, QueueSettings],
    order: Mapping[str, int],
    last_rung: MutableMapping[str, int],
    now: float,
) -> list[tuple[Caller, Agent]]:
    """Pair ``callers`` (in service order) with agents taken from ``free``.

    A caller no free agent qualifies for is skipped and keeps its place. An
    agent whose ring failed for a caller (``caller.tried``) is chosen for it
    again only when no untried free agent qualifies, and not before the
    queue's ``retry_s`` has passed (Asterisk ``retry``); until then the
    caller is skipped with ``retry_at`` set. Chosen agents leave ``free``;
    each queue's ``last_rung`` is updated for round robin.
    """
    pairs: list[tuple[Caller, Agent]] = []
    for caller in callers:
        if not free:
            break
        qualified = [a for a in free if qualifies(a, caller.required)]
        if not qualified:
            continue
        settings = queues[caller.queue]
        fresh = [a for a in qualified if a.user not in caller.tried]
        if not fresh:
            due = {a.user: caller.tried[a.user] + settings.retry_s for a in qualified}
            fresh = [a for a in qualified if due[a.user] <= now]
            if not fresh:
                caller.retry_at = min(due.values())
                continue
        caller.retry_at = None
        last = last_rung.get(caller.queue)
        agent = choose(settings.strategy, fresh, caller.required, order, last)
        free.remove(agent)
        last_rung[caller.queue] = order[agent.user]
        pairs.append((caller, agent))
    return pairs
