"""``bailanys cases``: check, list, show, status, answer, verdict, escalate,
reply on a real store (issue 19); the changes that tell the citizen queue
the SMS in the store's outbox."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases.model import Citizen, Kind
from bailanys.cases.store import CaseStore, connect
from bailanys.cli import main
from bailanys.store.db import Database
from bailanys.store.migrations import migrate
from tests.cases.test_casestore import CAL, CFG, TOPICS

ROOT = Path(__file__).resolve().parents[2]
PHONE = "77011234567"


def _config(tmp_path: Path, file: str = str(ROOT / "configs/cases.yaml"),
            tokens: str = "", kannel: str = "",
            replies: str = str(ROOT / "configs/case_replies.yaml")) -> Path:
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
                   f'calendar_dir = "{ROOT}/configs/calendar"\napi_tokens = "{tokens}"\n'
                   f'replies = "{replies}"\n[robot]\nkannel = "{kannel}"\n',
                   encoding="utf-8")
    return cfg


def _create(cfg: Path, days_ago: int = 0, kind: Kind = Kind.REQUEST,
            lang: str = "ru") -> str:
    db = cfg.parent / "b.db"
    conn = connect(db)
    try:
        res = CaseStore(conn, CFG, CAL, TOPICS).create(
            citizen=Citizen(PHONE, None, lang), topic="passport",
            description="Где мой паспорт? ИИН 991231400002", user="op1",
            now=datetime.now(UTC) - timedelta(days=days_ago), kind=kind,
            category="operator" if kind == Kind.COMPLAINT else None)
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


def _outbox(cfg: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(cfg.parent / "b.db")
    try:
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT to_number, state, text FROM sms_outbox ORDER BY id")]
    finally:
        conn.close()


def _types(cfg: Path) -> list[str]:
    conn = sqlite3.connect(cfg.parent / "b.db")
    try:
        return [r[0] for r in conn.execute("SELECT type FROM events ORDER BY id")]
    finally:
        conn.close()


def test_a_status_change_queues_the_citizens_sms(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19: "SMS ... on each status change", from the CLI too: a
    queued row of the outbox (the engine's sender sends it) and sms.queued."""
    cfg = _config(tmp_path, kannel="127.0.0.1:13013")
    number = _create(cfg, lang="kk")
    assert main(["cases", "status", number, "in_progress", "--user", "sup1",
                 "--config", str(cfg)]) == 0
    assert "queued to *******4567" in capsys.readouterr().out
    ((to, state, text),) = _outbox(cfg)
    assert (to, state) == (PHONE, "queued") and number in text and "қарауға алынды" in text
    assert "991231400002" not in text
    assert _types(cfg) == ["case.status", "sms.queued"]
    assert main(["cases", "status", number, "escalated", "--user", "sup1", "--no-sms",
                 "--config", str(cfg)]) == 0
    assert "--no-sms" in capsys.readouterr().out and len(_outbox(cfg)) == 1


def test_no_gateway_no_sms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)  # [robot] kannel empty, as the engine: nobody would send it
    number = _create(cfg)
    assert main(["cases", "status", number, "in_progress", "--user", "sup1",
                 "--config", str(cfg)]) == 0
    assert "no SMS gateway" in capsys.readouterr().out
    assert _outbox(cfg) == [] and _types(cfg) == ["case.status"]


def test_escalation_texts_each_request(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, kannel="127.0.0.1:13013")
    old = _create(cfg, days_ago=120)
    assert main(["cases", "escalate", "--config", str(cfg)]) == 0
    ((to, _state, text),) = _outbox(cfg)
    assert to == PHONE and old in text and "руководителю" in text


def test_a_supervisors_verdict_on_a_complaint(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19: "confirmed / not confirmed" recorded by a supervisor, and
    the citizen told the outcome."""
    cfg = _config(tmp_path, kannel="127.0.0.1:13013")
    number = _create(cfg, kind=Kind.COMPLAINT)
    assert main(["cases", "verdict", number, "not_confirmed", "--user", "sup1",
                 "--config", str(cfg)]) == 0
    assert "complaint: operator, not confirmed" in capsys.readouterr().out
    assert main(["cases", "verdict", number, "confirmed", "--user", "sup1",
                 "--config", str(cfg)]) == 0
    assert "complaint: operator, confirmed" in capsys.readouterr().out
    texts = [t for _, _, t in _outbox(cfg)]
    assert len(texts) == 2 and "не подтвердились" in texts[0] and "обоснованной" in texts[1]
    assert _types(cfg).count("case.complaint") == 2
    request = _create(cfg)
    assert main(["cases", "verdict", request, "confirmed", "--user", "sup1",
                 "--config", str(cfg)]) == 1
    assert "is not a complaint" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: only confirmed / not_confirmed
        main(["cases", "verdict", number, "maybe", "--user", "s", "--config", str(cfg)])


def test_answer_a_question(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    number = _create(cfg)
    assert main(["cases", "answer", number, "1", "--user", "dep", "--config", str(cfg)]) == 0
    assert f"cases status {number} answered" in capsys.readouterr().out
    assert main(["cases", "answer", number, "1", "--user", "dep", "--config", str(cfg)]) == 1
    assert "no open question 1" in capsys.readouterr().err


def test_reply_prints_a_template_filled_in(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    number = _create(cfg, lang="kk")
    assert main(["cases", "reply", number, "--config", str(cfg)]) == 0
    listed = capsys.readouterr().out
    assert "registered" in listed and "Өтініш тіркелді" in listed
    assert main(["cases", "reply", number, "--template", "registered", "--config",
                 str(cfg)]) == 0
    out = capsys.readouterr().out
    assert number in out and "Көші-қон қызметі" in out and "тіркелді" in out
    assert "{" not in out and PHONE not in out and "991231400002" not in out
    assert main(["cases", "reply", number, "--template", "extended", "--lang", "ru",
                 "--reason", "нужен запрос в архив", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "Причина: нужен запрос в архив." in out and "Срок рассмотрения" in out
    assert main(["cases", "reply", number, "--template", "nope", "--config", str(cfg)]) == 2
    assert "registered" in capsys.readouterr().err


def test_check_names_a_bad_reply_template(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "replies.yaml"
    bad.write_text((ROOT / "configs/case_replies.yaml").read_text(encoding="utf-8")
                   .replace("{department}.", "{iin}.", 1), encoding="utf-8")
    cfg = _config(tmp_path, replies=str(bad))
    assert main(["cases", "check", "--config", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:" in out and "replies.registered.kk: {iin}: personal data" in out
