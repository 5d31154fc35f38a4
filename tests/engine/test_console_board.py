"""EngineConsole's wallboard parts (issue 21) on a real queue core and fakes:
the queues' display names, the waiting callers' masked numbers, the
``board`` in the snapshot, and the board sent again every tick while a
caller waits (its longest wait grows without events)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bailanys.engine import console as console_module
from bailanys.queue.core import QueueCore
from bailanys.queue.settings import load_queue_config
from tests.engine.fakes import FakeEvents, wait_until
from tests.engine.test_engine_console import Queues, _console

QUEUES = """
[thresholds]
longest_wait_s = [0.05, 0.1]

[queues.support]
names = { kk = "Қолдау", ru = "Поддержка" }
"""


async def test_board_names_masked_numbers_and_ticks(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_module, "BOARD_TICK_S", 0.05)
    path = tmp_path / "queues.toml"
    path.write_text(QUEUES, encoding="utf-8")
    core = QueueCore(load_queue_config(path), now=time.monotonic())
    events = FakeEvents()
    console = _console(events, Queues(core=core))
    await console.start()
    try:
        deltas: list[dict[str, Any]] = []
        console.subscribe(deltas.append)
        events.append("call.offered", "c1", **{"from": "sip:+77015550123@trunk", "to": "sip:1414@x",
                                                "caller": "77015550123"})
        events.append("queue.joined", "c1", queue="support", language="ru", position=1)
        core.join("c1", "support", skills=(), language="ru", now=time.monotonic())
        snap = console.snapshot()
        queue = snap["queues"][0]
        assert queue["label"] == {"kk": "Қолдау", "ru": "Поддержка"}
        assert [(c["call_id"], c["number"], c["language"]) for c in queue["waiting"]] == [
            ("c1", "*******0123", "ru")]
        row = snap["board"]["queues"][0]
        assert (row["name"], row["label"]["ru"], row["waiting"]) == ("support", "Поддержка", 1)
        assert snap["board"]["languages"][0]["name"] == "ru"
        # No more events: the board still comes, and its level rises to the alarm.
        await wait_until(lambda: any(
            d.get("board", {}).get("queues", [{}])[0].get("levels", {}).get("longest_wait_s")
            == "alarm" for d in deltas))
        count = sum("board" in d for d in deltas)
        await wait_until(lambda: sum("board" in d for d in deltas) >= count + 2)
        assert not any("kpis" in d for d in deltas[-2:])  # the tick sends the board only
    finally:
        await console.stop()
