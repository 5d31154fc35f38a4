"""Queue groups: the unit one engine owns (docs/architecture.md, "Queues across engines").

Two queues are in one group when an agent qualifies for both (the agent's
skills include each queue's own skills, as ``queue/routing.py`` requires
of every caller's) or when one overflows into the other: two engines
owning them would both ring that agent, or an overflowed caller would
change engines. The groups are the connected components of those links,
computed from the queue file alone, so every engine reading the same file
computes the same groups and names. A group is named after its first
queue in sorted order.

Pure: a :class:`~bailanys.queue.settings.QueueConfig` in, a mapping out.
"""

from __future__ import annotations

from collections.abc import Mapping

from bailanys.queue.settings import QueueConfig


def queue_groups(config: QueueConfig) -> dict[str, tuple[str, ...]]:
    """group name -> its queues (sorted), every queue in exactly one group."""
    parent = {name: name for name in config.queues}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for name, settings in config.queues.items():
        if settings.overflow is not None and settings.overflow in parent:
            join(name, settings.overflow)
    for agent in config.agents.values():
        served = sorted(name for name, settings in config.queues.items()
                        if frozenset(settings.skills) <= agent.skill_set)
        for other in served[1:]:
            join(served[0], other)
    groups: dict[str, list[str]] = {}
    for name in sorted(config.queues):
        groups.setdefault(root(name), []).append(name)
    return {members[0]: tuple(members) for members in groups.values()}


def group_of(groups: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """queue -> its group's name."""
    return {queue: group for group, queues in groups.items() for queue in queues}
