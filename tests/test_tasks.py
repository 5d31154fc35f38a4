"""The task owner: tasks are held until done, cancelled and awaited on stop."""

from __future__ import annotations

import asyncio

from bailanys.tasks import TaskSet


async def test_done_tasks_leave_the_set() -> None:
    tasks = TaskSet()
    task = tasks.spawn(asyncio.sleep(0), name="quick")
    assert len(tasks) == 1 and task.get_name() == "quick"
    await task
    await asyncio.sleep(0)
    assert len(tasks) == 0


async def test_cancel_all_cancels_and_awaits_every_task() -> None:
    tasks = TaskSet()
    forever = [tasks.spawn(asyncio.sleep(3600)) for _ in range(3)]

    async def fails() -> None:
        raise RuntimeError("boom")

    tasks.spawn(fails())
    await asyncio.sleep(0)
    await tasks.cancel_all()
    assert all(t.cancelled() for t in forever)
    assert len(tasks) == 0


async def test_cancel_all_from_inside_spares_the_caller() -> None:
    tasks = TaskSet()
    other = tasks.spawn(asyncio.sleep(3600))

    async def stopper() -> str:
        await tasks.cancel_all()
        return "stopped"

    me = tasks.spawn(stopper())
    assert await me == "stopped"
    assert other.cancelled()


async def test_add_owns_a_task_created_elsewhere() -> None:
    tasks = TaskSet()
    task = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
    tasks.add(task)
    assert list(tasks) == [task]
    await tasks.cancel_all()
    assert task.cancelled()


async def test_join_waits_for_every_task_without_cancelling() -> None:
    tasks = TaskSet()
    done: list[int] = []

    async def work(n: int) -> None:
        await asyncio.sleep(0.01 * n)
        done.append(n)

    for n in (3, 1, 2):
        tasks.spawn(work(n))
    await tasks.join()
    assert sorted(done) == [1, 2, 3] and len(tasks) == 0
