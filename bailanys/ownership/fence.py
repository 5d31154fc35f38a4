"""The event writer's fence: no event of a lost lease reaches the shared log.

A paused owner may wake up and write events for a group that another
engine has taken over (docs/architecture.md, "Split brain"). The
PostgreSQL event writer therefore writes each batch in one transaction
that starts with :meth:`~bailanys.ownership.pglease.PgLeases.fence` on
the groups the batch writes for (their rows locked FOR SHARE: a take-over
waits until the batch commits), and leaves out the events of the groups
the fence did not return. :func:`needed` says which groups a batch writes
for, :func:`keep` which events stay. An event belongs to the group of its
``queue`` (or, for ``queue.owner``, its ``group``) when it is one the
queue's owner writes; every other event (the anchor's ``call.*``,
``ivr.*``, the robot's...) is never fenced.

Pure: the adapter is the writer, which holds the connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The events a queue group's owner writes (queue core, take-over).
OWNER_TYPES = frozenset({
    "queue.joined", "queue.announced", "queue.abandoned", "queue.timeout",
    "queue.callback_requested", "queue.callback", "queue.callback_answered",
    "call.connected", "call.completed", "agent.ringing", "agent.no_answer", "queue.owner",
})


def group_of_event(type_: str, data: Mapping[str, Any],
                   group_of: Mapping[str, str]) -> str | None:
    """The group an event is fenced by; None: not an owner's event (or a
    queue in no group, a single engine's)."""
    if type_ not in OWNER_TYPES:
        return None
    if type_ == "queue.owner":
        group = data.get("group")
        return group if isinstance(group, str) else None
    queue = data.get("queue")
    return group_of.get(queue) if isinstance(queue, str) else None


def needed(batch: Iterable[tuple[str, Mapping[str, Any]]], group_of: Mapping[str, str],
           held: Mapping[str, int]) -> dict[str, int]:
    """group -> our epoch for every group the batch's events belong to; a
    group we do not hold gets epoch 0 (the fence returns it never)."""
    out: dict[str, int] = {}
    for type_, data in batch:
        group = group_of_event(type_, data, group_of)
        if group is not None:
            out[group] = held.get(group, 0)
    return out


def keep(batch: Sequence[tuple[str, Mapping[str, Any]]], group_of: Mapping[str, str],
         fenced: frozenset[str]) -> list[int]:
    """The indexes of the events to write: those of no group, and those of
    the groups the fence returned (still ours, at our epoch)."""
    out: list[int] = []
    for i, (type_, data) in enumerate(batch):
        group = group_of_event(type_, data, group_of)
        if group is None or group in fenced:
            out.append(i)
    return out
