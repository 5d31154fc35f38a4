"""One owner for background tasks: spawn, keep a reference, cancel and await on stop.

asyncio keeps only a weak reference to a running task, so a task nobody
holds can be collected mid-flight, and a task nobody cancels outlives its
owner.  Every part of the engine that starts tasks (the engine itself, the
queue service, the console adapter, the IVR session, the SIP transport,
the media hub) holds one :class:`TaskSet` and awaits :meth:`TaskSet.cancel_all`
when it stops.  A leaf: imports nothing from the project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any


class TaskSet:
    """The tasks one owner started and has not yet seen finish."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` as a task this set owns until it finishes or is cancelled."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.add(task)
        return task

    def add(self, task: asyncio.Task[Any]) -> None:
        """Own a task created elsewhere (it leaves the set when done)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[asyncio.Task[Any]]:
        return iter(tuple(self._tasks))

    async def join(self) -> None:
        """Await every task (but the one calling) to its end, cancelling none:
        work that must finish, such as a recorder writing its file."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every task (but the one calling, if it is ours) and await them all.

        Their exceptions (a cancelled task's included) are swallowed: a
        stopping owner wants them gone, not their results.
        """
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
