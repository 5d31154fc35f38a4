"""The engine's thread-switch policy: the event loop never waits 5 ms for the GIL.

The engine runs Python in threads besides the loop's: the contacts projector
re-folds the last second's calls (``reports/projector.py``), the event log's
writer encodes and inserts rows, embeddings and reports run in workers.  All
of them share the GIL with the loop, on one core.  CPython hands the GIL to a
waiting thread when the holder blocks (every ``sendto``, every ``epoll_wait``
of the loop releases it) and takes it back only after the *switch interval*
(5 ms by default).  So while a worker runs Python, each system call of the
loop can cost it 5 ms: a call set-up makes several (the 100, the 200, the
receive), and INVITE->200 grew by tens of milliseconds for the calls that
arrived during a projector pass (issue 20: p99 INVITE->200 at 400 set-ups/s).

While serving, the interval is :data:`SERVING_INTERVAL`: a worker gives the
GIL back within half a millisecond.  The workers' throughput barely changes
(a forced switch costs microseconds); ``stop`` restores the interval found.
"""

from __future__ import annotations

import sys

SERVING_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


class GilPolicy:
    """Sets the switch interval while the engine serves; ``stop`` restores it."""

    def __init__(self, interval: float = SERVING_INTERVAL) -> None:
        self.interval = interval
        self._saved: float | None = None

    def start(self) -> None:
        if self._saved is None:
            self._saved = sys.getswitchinterval()
        sys.setswitchinterval(self.interval)

    def stop(self) -> None:
        if self._saved is not None:
            sys.setswitchinterval(self._saved)
            self._saved = None
