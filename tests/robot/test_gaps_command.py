"""``bailanys faq gaps --period`` (bailanys.robot.commands, gapreport; issue 18)."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from bailanys import cli
from bailanys.events import RobotFaq
from bailanys.robot.faq import Entry
from bailanys.robot.gapreport import PeriodError, parse_period
from bailanys.robot.gaps import gap_rows
from bailanys.robot.matcher import Candidate, MatchResult
from bailanys.store import Store
from tests.robot.gapset import GAPS

ROOT = Path(__file__).resolve().parents[2]
FAQ = ROOT / "knowledge" / "faq.yaml"
OCT_10 = 1_791_590_400.0  # 2026-10-10 10:00 local
DAY = 86400.0
ID = {"ru": "мой иин", "kk": "менің жсн"}  # every caller dictates an IIN


def _result(text: str) -> MatchResult:
    entry = Entry(id="tax_payment", topic="tax", questions={"ru": ("налог",)},
                  answer={"ru": "ответ."})
    return MatchResult(text, "ru", (Candidate(entry, 0.3, 0.8),), False)


async def _store(path: Path | str) -> None:
    """The gap set kept in October (a transcript for one call), one question in January."""
    store = await Store.open(path)
    try:
        n = 0
        for lang, topics in GAPS.items():
            for topic, lines in topics.items():
                for line in lines:
                    n += 1
                    call = f"{lang}-{topic}-{n}"
                    rows = gap_rows(call_id=call, ts=OCT_10 + n * 3600, lang=lang,
                                    text=f"{line} {ID[lang]} 850315401013", result=_result(line),
                                    outcome="clarify" if n % 2 else "no_match", attempt=1,
                                    retention_days=400)
                    store.events.emit(RobotFaq(step="question", outcome="clarify", call_id=call),
                                      rows=rows)
        late = gap_rows(call_id="jan", ts=OCT_10 + 100 * DAY, lang="ru", text="штраф в январе",
                        result=_result("x"), outcome="no_match", attempt=1, retention_days=400)
        store.events.emit(RobotFaq(step="question", outcome="no_match", call_id="jan"), rows=late)
        await store.events.flush()
        await store.db.execute(
            'INSERT INTO utterances (id, call_id, recording, channel, start, "end", language,'
            " text, words, terms) VALUES"
            " (1, 'ru-fines-1', 'r.wav', 'caller', 0, 1, 'ru', 'x', '[]', 'x')")
    finally:
        await store.close()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("gaps")
    asyncio.run(_store(tmp / "events.db"))
    cfg = tmp / "bailanys.toml"
    cfg.write_text(f'[store]\npath = "{tmp / "events.db"}"\n[robot]\nfaq = "{FAQ}"\n',
                   encoding="utf-8")
    return cfg


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(["faq", "gaps", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_quarter_lists_clusters_largest_first(capsys: pytest.CaptureFixture[str],
                                                  config: Path) -> None:
    status, out, _ = run(capsys, "--period", "2026-10-01..2026-12-31", "--config", str(config))
    assert status == 0, out
    assert out.startswith("Unanswered questions 2026-10-01..2026-12-31: 25 in all;")
    assert "январе" not in out  # January is outside the period
    blocks = out.split("\n\n")[1:]
    assert blocks[0].startswith("1. [ru] questions: 5")  # the fines, five callers
    assert "штраф" in blocks[0] and "/analytics#call=ru-fines-1" in blocks[0]
    assert "nearest FAQ entry: " in blocks[0] and "outcomes: clarify 3, no_match 2" in blocks[0]
    assert "850315401013" not in out and "[IIN]" in out
    quarter = run(capsys, "--period", "2026-Q4", "--config", str(config))[1]
    assert quarter == out


def test_language_min_count_and_labels(capsys: pytest.CaptureFixture[str],
                                       config: Path) -> None:
    status, out, _ = run(capsys, "--period", "2026-10-01..2026-12-31", "--lang", "kk",
                         "--min-count", "4", "--labels", "kk", "--config", str(config))
    assert status == 0
    assert out.startswith("2026-10-01..2026-12-31 аралығында жауапсыз қалған сұрақтар")
    assert "[ru]" not in out and "сұрақ саны: 4" in out
    assert "ең жақын FAQ жазбасы" in out and "«" in out  # the entry's Kazakh title
    assert all(int(line.rsplit(": ", 1)[1]) >= 4
               for line in out.splitlines() if "сұрақ саны" in line)
    ru = run(capsys, "--period", "2026-10-01..2026-12-31", "--labels", "ru",
             "--config", str(config))[1]
    assert "Вопросы без ответа за" in ru and "ближайшая статья FAQ" in ru


def test_csv(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    status, out, _ = run(capsys, "--period", "2026-10-01..2026-12-31", "--format", "csv",
                         "--config", str(config))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and rows[0]["rank"] == "1" and rows[0]["count"] == "5"
    assert sum(int(r["count"]) for r in rows) == 25
    assert rows[0]["nearest_entry"] and rows[0]["nearest_title"]
    assert {r["language"] for r in rows} == {"kk", "ru"}


def test_an_empty_period(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    status, out, _ = run(capsys, "--period", "2025-01-01..2025-03-31", "--config", str(config))
    assert status == 0 and out.strip() == "No unanswered questions kept in 2025-01-01..2025-03-31."


@pytest.mark.parametrize(("period", "message"), [
    ("2026-10-01", "expected START..END"),
    ("2026-10-01..2026-13-01", "YYYY-MM-DD"),
    ("2026-12-31..2026-10-01", "ends (2026-10-01) before it starts"),
    ("2026-01-01..2046-01-01", "longer than"),
    ("last quarter", "expected START..END"),
])
def test_bad_periods_are_refused_clearly(capsys: pytest.CaptureFixture[str], config: Path,
                                         period: str, message: str) -> None:
    status, out, err = run(capsys, "--period", period, "--config", str(config))
    assert status == 2 and message in err and out == ""


def test_no_store_and_an_old_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "none.db"}"\n', encoding="utf-8")
    status, _, err = run(capsys, "--period", "2026-Q4", "--config", str(cfg))
    assert status != 0 and "no event store" in err
    import sqlite3

    sqlite3.connect(tmp_path / "none.db").execute("CREATE TABLE t (x)").connection.close()
    status, _, err = run(capsys, "--period", "2026-Q4", "--config", str(cfg))
    assert status == 2 and "keeps no questions yet" in err


def test_parse_period() -> None:
    from datetime import date

    assert parse_period("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert parse_period(" 2026-10-01 .. 2026-10-01 ") == (date(2026, 10, 1), date(2026, 10, 1))
    with pytest.raises(PeriodError):
        parse_period("2026-Q5")


async def test_the_same_report_from_postgresql(capsys: pytest.CaptureFixture[str],
                                               config: Path, pg_url: str,
                                               tmp_path: Path) -> None:
    """Issue 22: ``[store] url`` on PostgreSQL gives the same report as the file."""
    await _store(pg_url)
    cfg = tmp_path / "pg.toml"
    cfg.write_text(f'[store]\nurl = "{pg_url}"\n[robot]\nfaq = "{FAQ}"\n', encoding="utf-8")
    period = ("--period", "2026-10-01..2026-12-31", "--format", "csv")
    lite = await asyncio.to_thread(run, capsys, *period, "--config", str(config))
    pg = await asyncio.to_thread(run, capsys, *period, "--config", str(cfg))
    assert lite[0] == pg[0] == 0 and pg[1] == lite[1] and "штраф" in pg[1]
