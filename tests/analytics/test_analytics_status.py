"""``bailanys analytics status``: pending, running, done, failed with errors (issue 15)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest

from bailanys import cli
from bailanys.analytics import jobs
from bailanys.analytics.model import Channel
from bailanys.analytics.status import format_status, read_status
from tests.analytics.jobstore import add_jobs, new_store

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20Z


def populated(tmp_path: Path) -> str:
    """One job in each state, two failed, one pending waiting to retry."""
    path = new_store(tmp_path / "s.db")
    for i in range(6):
        add_jobs(path, f"/rec/r{i}.wav", call_id=f"c{i}", channels=(Channel.CALLER,), now=T0 + i)
    with contextlib.closing(jobs.connect(path)) as conn:
        claimed = [jobs.claim(conn, "host:1", T0 + 10, 300) for _ in range(5)]
        j0, j1, j2, j3, _ = claimed
        assert j0 and j1 and j2 and j3
        assert jobs.complete(conn, j0, T0 + 20, lambda c: _ready(j0))
        jobs.fail(conn, j1, T0 + 30, "truncated WAV", permanent=True, max_attempts=3, retry_s=1)
        jobs.fail(conn, j2, T0 + 40, "no model for ru", permanent=True, max_attempts=3,
                  retry_s=1)
        jobs.fail(conn, j3, T0 + 50, "database is locked", permanent=False, max_attempts=3,
                  retry_s=60)
    return path


def _ready(job: jobs.Job):  # type: ignore[no-untyped-def]
    from bailanys.events import TranscriptReady
    return TranscriptReady(call_id=job.call_id, path=job.recording, channels="caller",
                           seconds=1.0, words=0, language="kk", rtf=0.1, worker=job.worker)


def test_the_status_lines(tmp_path: Path) -> None:
    path = populated(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        status = read_status(conn)
    assert format_status(status, T0 + 130) == [
        "pending 2  running 1  done 1  failed 2",
        "oldest pending: 2 min (1 waiting to retry)",  # r3, created at T0 + 3
        "running:",
        "  5  /rec/r4.wav caller  worker host:1  attempt 1  lease 3 min left",
        "failed:",
        "  3  2023-11-14 22:14:00Z  /rec/r2.wav caller  after 1 attempt: no model for ru",
        "  2  2023-11-14 22:13:50Z  /rec/r1.wav caller  after 1 attempt: truncated WAV",
    ]
    assert format_status(status, T0 + 400)[3].endswith("lease lapsed")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        one = read_status(conn, failed_limit=1)
    assert format_status(one, T0 + 130)[4:] == [
        "failed (newest 1 of 2):",
        "  3  2023-11-14 22:14:00Z  /rec/r2.wav caller  after 1 attempt: no model for ru"]


def test_the_command_prints_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = populated(tmp_path)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{path}"\n', encoding="utf-8")
    assert cli.main(["analytics", "status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "pending 2  running 1  done 1  failed 2"
    assert out[-1].endswith("after 1 attempt: truncated WAV")
    age = int(time.time() - (T0 + 3)) // 86400
    assert out[1].startswith(f"oldest pending: {age} d ")


def test_an_empty_store_and_bad_stores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "none.db"}"\n', encoding="utf-8")
    assert cli.main(["analytics", "status", "--config", str(cfg)]) == 1
    assert "no event store at" in capsys.readouterr().err
    old = tmp_path / "old.db"
    sqlite3.connect(old).close()
    cfg.write_text(f'[store]\npath = "{old}"\n', encoding="utf-8")
    assert cli.main(["analytics", "status", "--config", str(cfg)]) == 1
    assert "start the engine once" in capsys.readouterr().err
    cfg.write_text(f'[store]\npath = "{new_store(tmp_path / "new.db")}"\n', encoding="utf-8")
    assert cli.main(["analytics", "status", "--config", str(cfg)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "pending 0  running 0  done 0  failed 0", "oldest pending: none"]
