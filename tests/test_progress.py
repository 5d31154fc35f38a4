"""Start-up progress lines (issue 13: "the first start is silent for ~20 s")."""

from __future__ import annotations

import asyncio

from bailanys.progress import PROGRESS_INTERVAL_S, SLOW_STEP_S, StartupProgress, StepProgress


def test_a_quick_step_says_nothing() -> None:
    p = StepProgress("rendering prompts", started=100.0)
    assert p.due(100.5, (3, 10)) is None
    assert p.finished(100.0 + SLOW_STEP_S - 0.01, (10, 10)) is None


def test_a_slow_step_reports_at_a_bounded_rate() -> None:
    p = StepProgress("rendering prompts", started=0.0)
    lines = [line for t in range(0, 200) if (line := p.due(t / 10, (t, 480))) is not None]
    # 20 s: one line after the first second, then one every PROGRESS_INTERVAL_S.
    assert len(lines) == 1 + int((20 - SLOW_STEP_S - 0.1) // PROGRESS_INTERVAL_S)
    assert lines[0] == "rendering prompts: 10/480, 1 s so far"
    assert lines[1] == "rendering prompts: 30/480, 3 s so far"
    assert p.finished(21.25, (480, 480)) == "rendering prompts: 480/480, done in 21.2 s"


def test_nothing_to_count_shows_the_time_only() -> None:
    p = StepProgress("loading flows and speech models", started=0.0)
    assert p.due(1.0) == "loading flows and speech models: 1 s so far"
    assert p.finished(1.5) == "loading flows and speech models: done in 1.5 s"
    # A count with no total (all prompts cached) is not shown either.
    q = StepProgress("rendering prompts", started=0.0)
    assert q.finished(2.0, (0, 0)) == "rendering prompts: done in 2.0 s"


async def test_the_adapter_beats_while_the_step_runs() -> None:
    lines: list[str] = []
    done = 0
    progress = StartupProgress(lines.append, slow_s=0.05, interval_s=0.05)
    async with progress.step("computing FAQ embeddings", lambda: (done, 4)):
        for _ in range(4):
            await asyncio.sleep(0.04)
            done += 1
    assert lines[0].startswith("computing FAQ embeddings: ") and "/4, " in lines[0]
    assert lines[-1].startswith("computing FAQ embeddings: 4/4, done in ")
    assert progress.ready().startswith("ready in ")
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("progress:")]


async def test_a_failing_step_still_cancels_its_heartbeat() -> None:
    lines: list[str] = []
    progress = StartupProgress(lines.append)
    try:
        async with progress.step("loading queues"):
            raise ValueError("bad")
    except ValueError:
        pass
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("progress:")]
    assert lines == []
