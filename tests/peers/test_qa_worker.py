"""Real ``bailanys worker`` processes score a call once (issue 16, "Scoring and sampling").

Two workers take the two channels of one call and enter the QA step
together (the first waits for the other's channel to be stored), both
read the call and run the acoustic pass at once; the call is scored
exactly once (one ``qa_scores`` row, one ``qa.scored``, each
queue row and its ``qa.queued`` once). The pipeline is the stand-in
transcriber with the real transcript store and the QA step over the fakes
of :mod:`tests.qa.scoringfakes` (``ANALYTICS_TEST_STEPS``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bailanys.analytics.steps import TEST_STEPS_ENV
from bailanys.config import PROJECT_ROOT
from tests.analytics.jobstore import add_jobs, new_store, rows, write_wav
from tests.analytics.workersteps import DELAY_ENV
from tests.qa.scoringfakes import (
    MEASURE_DELAY_ENV,
    SCORE_FAILS_ENV,
    TOGETHER_ENV,
    add_call_events,
)

#: Both workers transcribe this long: the second starts while the first is busy.
TRANSCRIBE_S = 1.0


def config(tmp_path: Path, store: str) -> Path:
    cards = tmp_path / "cards"
    cards.mkdir(exist_ok=True)
    (cards / "default.yaml").write_text("1\n", encoding="utf-8")
    path = tmp_path / "worker.toml"
    path.write_text(f'[store]\npath = "{store}"\n[analytics]\nlease_seconds = 5\npoll_ms = 50\n'
                    f'retry_seconds = 0\n[qa]\nscorecard_dir = "{cards}"\n', encoding="utf-8")
    return path


def start_worker(cfg: Path, **env_extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAILANYS_")}
    env.update({"PYTHONPATH": str(PROJECT_ROOT), TEST_STEPS_ENV: "tests.qa.scoringfakes:steps",
                DELAY_ENV: str(TRANSCRIBE_S), MEASURE_DELAY_ENV: "0.3", **env_extra})
    return subprocess.Popen([sys.executable, "-m", "bailanys", "worker", "--once", "--config",
                             str(cfg)], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_for(check: Callable[[], bool], limit_s: float = 20.0) -> None:
    end = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def running(store: str) -> int:
    return int(rows(store, "SELECT count(*) FROM analytics_jobs WHERE state = 'running'")[0][0])


def test_two_workers_finishing_one_calls_channels_together_score_it_once(
        tmp_path: Path) -> None:
    store = new_store(tmp_path / "s.db")
    add_call_events(store, "c1")
    add_jobs(store, str(write_wav(tmp_path / "c1.wav", 2.0)), call_id="c1")
    cfg = config(tmp_path, store)
    a = start_worker(cfg, **{TOGETHER_ENV: "1"})
    try:
        wait_for(lambda: running(store) == 1)
        b = start_worker(cfg, **{TOGETHER_ENV: "1"})
        try:
            _, err_b = b.communicate(timeout=30)
        finally:
            b.kill()
        _, err_a = a.communicate(timeout=30)
    finally:
        a.kill()
    assert (a.returncode, b.returncode) == (0, 0), err_a + err_b
    workers = rows(store, "SELECT state, worker FROM analytics_jobs ORDER BY id")
    assert [s for s, _ in workers] == ["done", "done"] and workers[0][1] != workers[1][1]
    assert rows(store, "SELECT call_id, scorecard, version, agent, total, critical_failed"
                       " FROM qa_scores") == [("c1", "default", 1, "a1", 50.0, "closing")]
    [scored] = rows(store, "SELECT data FROM events WHERE type = 'qa.scored'")
    greeting = json.loads(str(scored[0]))["results"]["greeting"]
    assert greeting["outcome"] == "pass" and greeting["evidence"][0]["start"] == 0.5
    assert rows(store, "SELECT reason FROM qa_queue ORDER BY id") == [
        ("critical",), ("survey",), ("complaint",), ("sample",)]
    assert rows(store, "SELECT count(*) FROM events WHERE type = 'qa.queued'") == [(4,)]
    # both went through the step; the second found the score in its transaction
    assert (err_a + err_b).count("scored with default v1") == 1
    assert (err_a + err_b).count("c1: scored meanwhile") == 1


def test_a_broken_scorer_in_a_worker_process_leaves_the_job_done(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s.db")
    add_call_events(store, "c1")
    add_jobs(store, str(write_wav(tmp_path / "c1.wav", 1.0)), call_id="c1")
    w = start_worker(config(tmp_path, store), **{SCORE_FAILS_ENV: "1", DELAY_ENV: "0"})
    _, err = w.communicate(timeout=30)
    assert w.returncode == 0, err
    assert rows(store, "SELECT state FROM analytics_jobs") == [("done",), ("done",)]
    assert rows(store, "SELECT count(*) FROM qa_scores") == [(0,)]
    assert "scoring call c1 failed; the call is not scored" in err
    assert "RuntimeError: the scorer broke" in err
