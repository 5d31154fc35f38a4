"""The event writer's fence, wired: :class:`LeaseFence` is the PostgreSQL
event log's :class:`~bailanys.store.events.BatchFence` when the engine runs
queue-group leases in the store's database (docs/architecture.md, "Split
brain, a paused owner").

At the start of each batch's transaction it finds the groups the batch's
owner events belong to (:func:`~bailanys.ownership.fence.needed`, with the
epochs this engine believes it holds), locks their rows FOR SHARE
(:meth:`~bailanys.ownership.pglease.PgLeases.fence`: a take-over's UPDATE
waits until the batch commits) and keeps the events of the groups still
ours at that epoch (:func:`~bailanys.ownership.fence.keep`). What it leaves
out is logged (type, queue, group) and counted in :attr:`LeaseFence.dropped`
(per group in :attr:`LeaseFence.dropped_by_group`): never silently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bailanys.ownership.fence import group_of_event, keep, needed
from bailanys.ownership.pglease import PgLeases

log = logging.getLogger(__name__)


class HeldLeases(Protocol):
    """What the fence asks the lease keeper (``pglease.LeaseKeeper``)."""

    owner: str

    def held(self) -> dict[str, int]: ...


class LeaseFence:
    """See the module docs. ``group_of``: queue -> its group."""

    def __init__(self, keeper: HeldLeases, group_of: Mapping[str, str]) -> None:
        self._keeper = keeper
        self._group_of = dict(group_of)
        #: Events left out so far (a stale owner's), and per group.
        self.dropped = 0
        self.dropped_by_group: dict[str, int] = {}

    async def admit(self, tx: Any,
                    batch: Sequence[tuple[str, Mapping[str, Any]]]) -> Sequence[int]:
        """The indexes of ``batch`` to write; ``tx.conn``: the transaction's
        psycopg connection (``store/pg.py``'s ``PgTx``)."""
        groups = needed(batch, self._group_of, self._keeper.held())
        if not groups:
            return range(len(batch))
        ours = {g: e for g, e in groups.items() if e > 0}
        fenced = await PgLeases(tx.conn).fence(self._keeper.owner, ours) if ours else frozenset()
        kept = keep(batch, self._group_of, fenced)
        if len(kept) < len(batch):
            self._count(batch, set(kept), groups)
        return kept

    def _count(self, batch: Sequence[tuple[str, Mapping[str, Any]]], kept: set[int],
               groups: Mapping[str, int]) -> None:
        for i, (type_, data) in enumerate(batch):
            if i in kept:
                continue
            group = group_of_event(type_, data, self._group_of) or "?"
            self.dropped += 1
            self.dropped_by_group[group] = self.dropped_by_group.get(group, 0) + 1
            log.warning("fence: a %s event (queue %s) left out: queue group %s is no longer "
                        "this engine's (believed epoch %s)", type_, data.get("queue", "-"), group,
                        groups.get(group, 0) or "none")
