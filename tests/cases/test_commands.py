"""``bailanys cases``: check, list, show, status, escalate on a real store (issue 19)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases.model import Citizen
from bailanys.cases.store import CaseStore, connect
from bailanys.cli import main
from bailanys.store.db import Database
from bailanys.store.migrations import migrate
from tests.cases.test_casestore import CAL, CFG, TOPICS

ROOT = Path(__file__).resolve().parents[2]
PHONE = "77011234567"


def _config(tmp_path: Path, file: str = str(ROOT / "configs/cases.yaml"),
            tokens: str = "") -> Path:
    db = tmp_path / "b.db"

    async def mig() -> None:
        d = await Database.open(db)
        try:
            await migrate(d)
        finally:
            await d.close()

    asyncio.run(mig())
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[reports]\ntopics = "{ROOT}/configs/topics.yaml"\n'
                   f'[cases]\nfile = "{file}"\n'
                   f'calendar_dir = "{ROOT}/configs/calendar"\napi_tokens = "{tokens}"\n',
                   encoding="utf-8")
    return cfg


def _create(cfg: Path, days_ago: int = 0) -> str:
    db = cfg.parent / "b.db"
    conn = connect(db)
    try:
        res = CaseStore(conn, CFG, CAL, TOPICS).create(
            citizen=Citizen(PHONE, None, "ru"), topic="passport",
            description="Где мой паспорт? ИИН 991231400002", user="op1",
            now=datetime.now(UTC) - timedelta(days=days_ago))
    finally:
        conn.close()
    return res.case.number


def test_check_ok_and_a_broken_table_with_file_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    assert main(["cases", "check", "--config", str(cfg)]) == 0
    assert "ok:" in capsys.readouterr().out
    bad = tmp_path / "cases.yaml"
    bad.write_text((ROOT / "configs/cases.yaml").read_text(encoding="utf-8")
                   .replace("answer: 15}", "answer: -15}", 1), encoding="utf-8")
    (tmp_path / "x").mkdir()
    cfg2 = _config(tmp_path / "x", file=str(bad))
    assert main(["cases", "check", "--config", str(cfg2)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:" in out and "deadlines.answer" in out and "1 problem" in out
    assert main(["config", "check", "--config", str(cfg2)]) == 1
    assert "deadlines.answer" in capsys.readouterr().out
    (tmp_path / "y").mkdir()
    tokens = tmp_path / "tokens"
    tokens.write_text("appeals 0123456789abcdef0123456789\nbad\n", encoding="utf-8")
    cfg3 = _config(tmp_path / "y", tokens=str(tokens))
    assert main(["cases", "check", "--config", str(cfg3)]) == 1
    assert f"{tokens}:2: expected NAME TOKEN" in capsys.readouterr().out


def test_list_show_status_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    number = _create(cfg)
    assert main(["cases", "list", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert number in out and "*******4567" in out and PHONE not in out and "1 request" in out
    assert main(["cases", "show", number, "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "question 1: passport -> migration" in out and "op1: created" in out
    assert "991231400002" not in out and PHONE not in out
    assert main(["cases", "status", number, "in_progress", "--user", "sup1",
                 "--note", "взято", "--config", str(cfg)]) == 0
    assert "in_progress" in capsys.readouterr().out
    assert main(["cases", "status", number, "closed", "--user", "sup1",
                 "--config", str(cfg)]) == 1
    assert "closed only after it is answered" in capsys.readouterr().err
    assert main(["cases", "show", "2026-999999", "--config", str(cfg)]) == 1
    assert main(["cases", "list", "--status", "registered", "--config", str(cfg)]) == 0
    assert "0 requests" in capsys.readouterr().out
    conn = sqlite3.connect(cfg.parent / "b.db")
    types = [r[0] for r in conn.execute("SELECT type FROM events")]
    conn.close()
    assert types == ["case.status"]


def test_overdue_list_and_escalate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    old = _create(cfg, days_ago=120)
    capsys.readouterr()
    assert main(["cases", "list", "--overdue", "--config", str(cfg)]) == 0
    assert old in capsys.readouterr().out
    assert main(["cases", "escalate", "--config", str(cfg)]) == 0
    assert f"escalated {old}" in capsys.readouterr().out
    assert main(["cases", "list", "--status", "escalated", "--config", str(cfg)]) == 0
    assert old in capsys.readouterr().out
    assert main(["cases", "escalate", "--config", str(cfg)]) == 0
    assert "0 requests escalated" in capsys.readouterr().out
