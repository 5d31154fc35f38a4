"""The engine's own worker processes: started, restarted after a crash, stopped (issue 15)."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from bailanys.analytics.settings import AnalyticsConfig
from bailanys.config import AsrConfig, Config, StoreConfig
from bailanys.engine import workers
from bailanys.engine.workers import LocalWorkers, WorkerSettings
from bailanys.qa.settings import QaConfig


def settings(code: str, count: int = 1) -> WorkerSettings:
    return WorkerSettings(count, (sys.executable, "-c", code), {})


async def wait_for(check, limit_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_a_crashed_worker_is_restarted_with_back_off(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(workers, "RESTART_MIN_S", 0.05)
    local = LocalWorkers(settings("raise SystemExit(5)"))
    await local.start()
    try:
        await wait_for(lambda: local.crashes >= 3)
    finally:
        await local.stop()
    assert "exited with 5; restarting in" in caplog.text
    assert not local.pids


async def test_a_worker_without_speech_models_is_not_restarted(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """No model: restarting cannot help; one warning, and the jobs stay pending."""
    from bailanys.analytics.settings import EXIT_NO_MODELS

    monkeypatch.setattr(workers, "RESTART_MIN_S", 0.05)
    local = LocalWorkers(settings(f"raise SystemExit({EXIT_NO_MODELS})"))
    await local.start()
    try:
        await wait_for(lambda: "no speech model" in caplog.text)
        await asyncio.sleep(0.3)  # six back-off periods: it would have restarted by now
    finally:
        await local.stop()
    assert caplog.text.count("no speech model") == 1
    assert local.crashes == 0 and "restarting" not in caplog.text


async def test_stop_terms_then_kills_and_owns_every_process(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(workers, "STOP_TIMEOUT_S", 0.5)
    stubborn = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" \
               "print('up', flush=True)\ntime.sleep(60)"
    local = LocalWorkers(settings(stubborn, count=2))
    await local.start()
    await wait_for(lambda: len(local.pids) == 2)
    await asyncio.sleep(0.3)  # the children have set their handlers
    started = time.monotonic()
    await local.stop()
    assert time.monotonic() - started < 5
    assert not local.pids and local.crashes == 0
    assert caplog.text.count("did not stop: killed") == 2


async def test_a_worker_that_stops_on_sigterm_is_not_killed(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    local = LocalWorkers(settings("import time\ntime.sleep(60)"))
    await local.start()
    await wait_for(lambda: len(local.pids) == 1)
    await local.stop()
    assert "killed" not in caplog.text and local.crashes == 0


def test_the_child_gets_the_engines_settings_as_overrides() -> None:
    config = Config(store=StoreConfig(path="/tmp/x.db"), asr=AsrConfig(model_dir="/m"),
                    analytics=AnalyticsConfig(workers=2, nice=12, enabled=True),
                    qa=QaConfig(scorecard_dir="/cards", sample_per_agent_week=3))
    s = WorkerSettings.of(config)
    assert s.count == 2
    assert s.argv == (sys.executable, "-m", "bailanys", "worker")  # no file: built in memory
    assert {k: s.env[k] for k in ("BAILANYS_STORE_PATH", "BAILANYS_ASR_MODEL_DIR",
                                  "BAILANYS_ANALYTICS_NICE", "BAILANYS_ANALYTICS_ENABLED")} == {
        "BAILANYS_STORE_PATH": "/tmp/x.db", "BAILANYS_ASR_MODEL_DIR": "/m",
        "BAILANYS_ANALYTICS_NICE": "12", "BAILANYS_ANALYTICS_ENABLED": "true"}
    assert {k: s.env[k] for k in ("BAILANYS_QA_SCORECARD_DIR", "BAILANYS_QA_ENABLED",
                                  "BAILANYS_QA_SAMPLE_PER_AGENT_WEEK")} == {
        "BAILANYS_QA_SCORECARD_DIR": "/cards", "BAILANYS_QA_ENABLED": "true",
        "BAILANYS_QA_SAMPLE_PER_AGENT_WEEK": "3"}  # the workers score what they transcribe
    off = Config(analytics=AnalyticsConfig(workers=2, enabled=False))
    assert WorkerSettings.of(off).count == 0
