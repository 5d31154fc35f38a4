"""What the IVR may ask of a queue: free agents and waiting callers.

A flow's ``branch`` node can test whether a queue has a free agent or how
many callers wait (:mod:`bailanys.ivr.conditions`); the queue manager answers with this value
(:meth:`bailanys.queue.core.QueueCore.queue_state`). It lives below both so
that neither the IVR nor the queue imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueState:
    """A queue at one moment: agents free to take a call, callers waiting."""

    agents_available: int
    waiting: int
