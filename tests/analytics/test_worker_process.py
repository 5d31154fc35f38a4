"""Real ``bailanys worker`` processes: killed mid-job, stopped, fed a corrupt WAV (issue 15).

The pipeline is the stand-in of :mod:`tests.analytics.workersteps` (real WAV
reading, a chosen delay), handed in with the ``ANALYTICS_TEST_STEPS`` hook.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bailanys import cli
from bailanys.analytics.model import Channel
from bailanys.analytics.settings import EXIT_NO_MODELS
from bailanys.analytics.steps import TEST_STEPS_ENV
from bailanys.config import PROJECT_ROOT
from tests.analytics.jobstore import add_jobs, new_store, rows, write_wav
from tests.analytics.workersteps import DELAY_ENV

LEASE_S = 1


def config(tmp_path: Path, store: str, nice: int = 0) -> Path:
    path = tmp_path / "worker.toml"
    path.write_text(f'[store]\npath = "{store}"\n[analytics]\nlease_seconds = {LEASE_S}\n'
                    f"poll_ms = 50\nretry_seconds = 0\nnice = {nice}\n", encoding="utf-8")
    return path


def start_worker(cfg: Path, *, delay: float, once: bool = False) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAILANYS_")}
    env.update({"PYTHONPATH": str(PROJECT_ROOT), DELAY_ENV: str(delay),
                TEST_STEPS_ENV: "tests.analytics.workersteps:steps"})
    argv = [sys.executable, "-m", "bailanys", "worker", "--config", str(cfg)]
    return subprocess.Popen([*argv, *(["--once"] if once else [])], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(check: Callable[[], bool], limit_s: float = 20.0) -> None:
    end = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def job_rows(store: str) -> list[tuple[object, ...]]:
    return rows(store, "SELECT state, worker, attempts, lease_until FROM analytics_jobs")


def test_a_worker_killed_mid_job_leaves_it_to_the_next_which_writes_it_once(
        tmp_path: Path) -> None:
    store = new_store(tmp_path / "s.db")
    wav = write_wav(tmp_path / "c1.wav", 2.0)
    add_jobs(store, str(wav), channels=(Channel.CALLER,))
    cfg = config(tmp_path, store)
    a = start_worker(cfg, delay=60)
    try:
        name = f"{socket.gethostname()}:{a.pid}"
        wait_for(lambda: job_rows(store)[0][:2] == ("running", name))
        time.sleep(LEASE_S)  # a renews its lease meanwhile: still its job
        assert job_rows(store)[0][:2] == ("running", name)
    finally:
        a.send_signal(signal.SIGKILL)
        a.communicate(timeout=10)
    lease_until = float(job_rows(store)[0][3])  # type: ignore[arg-type]
    wait_for(lambda: time.time() > lease_until)
    b = start_worker(cfg, delay=0, once=True)
    _, err = b.communicate(timeout=30)
    assert b.returncode == 0, err
    [(state, worker, attempts, _)] = job_rows(store)
    assert (state, attempts) == ("done", 2) and worker == f"{socket.gethostname()}:{b.pid}"
    assert rows(store, "SELECT count(*) FROM test_writes") == [(1,)]
    assert rows(store, "SELECT channel, text FROM utterances") == [("caller", "паспорт")]
    assert rows(store, "SELECT count(*) FROM events WHERE type = 'transcript.ready'") == [(1,)]


def test_sigterm_abandons_the_job_cleanly_and_exits_0(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s.db")
    add_jobs(store, str(write_wav(tmp_path / "c1.wav")), channels=(Channel.AGENT,))
    w = start_worker(config(tmp_path, store, nice=7), delay=60)
    wait_for(lambda: job_rows(store)[0][0] == "running")
    assert os.getpriority(os.PRIO_PROCESS, w.pid) >= 7  # [analytics] nice
    w.send_signal(signal.SIGTERM)
    _, err = w.communicate(timeout=10)
    assert w.returncode == 0, err
    assert job_rows(store) == [("pending", None, 0, None)]  # claimable at once, uncounted
    assert "abandoned" in err


def test_a_corrupt_wav_fails_with_its_reason_and_the_worker_goes_on(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s.db")
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(write_wav(tmp_path / "whole.wav", 1.0).read_bytes()[:3000])
    add_jobs(store, str(truncated), call_id="cut", channels=(Channel.CALLER,))
    add_jobs(store, str(write_wav(tmp_path / "ok.wav")), call_id="ok", channels=(Channel.CALLER,))
    w = start_worker(config(tmp_path, store), delay=0, once=True)
    _, err = w.communicate(timeout=30)
    assert w.returncode == 0, err
    assert rows(store, "SELECT call_id, state, error FROM analytics_jobs ORDER BY id") == [
        ("cut", "failed", "truncated WAV"), ("ok", "done", None)]
    assert rows(store, "SELECT call_id, json_extract(data, '$.reason') FROM events"
                       " WHERE type = 'transcript.failed'") == [("cut", "truncated WAV")]


def test_a_worker_without_speech_models_refuses_to_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every job would fail: they stay pending (visible in the status) and the worker says why."""
    store = new_store(tmp_path / "s.db")
    add_jobs(store, str(write_wav(tmp_path / "c1.wav")))
    monkeypatch.setenv(TEST_STEPS_ENV, "tests.analytics.workersteps:no_models")
    code = cli.main(["worker", "--once", "--config", str(config(tmp_path, store))])
    assert code == EXIT_NO_MODELS
    assert "no speech model under voice_models" in capsys.readouterr().err
    assert {r[0] for r in job_rows(store)} == {"pending"}
