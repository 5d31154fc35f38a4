"""The one digit pump (the IVR session's and the queue's): every key, in order, until cancelled."""

from __future__ import annotations

import asyncio

from bailanys.ivr.digits import DIGIT_WAIT_S, pump_digits


class Keys:
    """next_digit: the scripted keys, a None (a wait that ended) between each, then blocks."""

    def __init__(self, keys: str) -> None:
        self.script: list[str | None] = [k for key in keys for k in (key, None)]
        self.waits: list[float] = []

    async def next_digit(self, wait_s: float) -> str | None:
        self.waits.append(wait_s)
        if self.script:
            return self.script.pop(0)
        await asyncio.sleep(3600)
        return None


async def test_keys_are_forwarded_in_order_and_silences_skipped() -> None:
    got: list[str] = []
    keys = Keys("12#")
    task = asyncio.get_running_loop().create_task(pump_digits(keys, got.append))
    for _ in range(20):
        await asyncio.sleep(0)
    assert got == ["1", "2", "#"]
    assert set(keys.waits) == {DIGIT_WAIT_S}
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
