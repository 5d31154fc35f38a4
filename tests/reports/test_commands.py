"""``bailanys report ...`` (bailanys/reports/commands.py) through ``cli.main``.

The reports with fake builders (pagefakes.py: the builders are written in
parallel), on a real store; ``rebuild`` and ``import`` call slice contacts'
functions by their names (fakes here). Once the real builders and renderer
are in the tree, :func:`test_every_report_in_both_languages_from_the_real_builders`
makes each report for real on an empty store (a period with no data) and
reads the XLSX back.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bailanys import cli
from bailanys.analytics.pageparams import ParamError
from bailanys.reports import commands, produce, webstore
from bailanys.reports.params import (
    Period,
    ReportKind,
    ReportRequest,
    last_complete,
    parse_period,
    parse_request,
)
from tests.reports.pagefakes import ROW13, FakeParts, new_store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = new_store(tmp_path / "bailanys.db")
    path = tmp_path / "bailanys.toml"
    path.write_text(f'[store]\npath = "{db}"\n')
    return path


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> FakeParts:
    made = FakeParts()
    monkeypatch.setattr(produce, "Parts", made.parts)
    monkeypatch.setattr(webstore, "Parts", made.parts)
    return made


def test_a_report_is_written_under_the_requests_name(
        config: Path, fakes: FakeParts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    status = cli.main(["report", "semiannual", "--period", "2026-H2", "--lang", "ru",
                       "--config", str(config)])
    assert status == 0
    written = tmp_path / "semiannual-2026-H2-ru.xlsx"
    assert written.read_bytes() == b"PK\x03\x04semiannual|2026-H2|ru"
    assert capsys.readouterr().out.startswith("semiannual-2026-H2-ru.xlsx: semiannual 2026-H2")
    assert fakes.calls == [("semiannual", "2026-H2", "ru", "org", "topics"),
                           ("render", "semiannual", "xlsx")]


def test_output_to_a_file_or_to_stdout(config: Path, fakes: FakeParts, tmp_path: Path,
                                       capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    out = tmp_path / "q.pdf"
    assert cli.main(["report", "quarterly", "--period", "2026-Q3", "--format", "pdf",
                     "-o", str(out), "--config", str(config)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    capfdbinary.readouterr()
    assert cli.main(["report", "feedback", "--period", "2026-10-01..2026-12-31", "--format",
                     "html", "-o", "-", "--config", str(config)]) == 0
    html = capfdbinary.readouterr().out.decode()
    assert html.startswith("<!doctype html>") and ROW13["kk"] in html
    assert fakes.calls[-2] == ("feedback", dt.date(2026, 10, 1), dt.date(2026, 12, 31), "kk")


@pytest.mark.parametrize(("argv", "message"), [
    (["semiannual", "--period", "2026-Q3"], "--period: expected a half-year such as 2026-H2"),
    (["quarterly", "--period", "2026-H1"], "--period: expected a quarter such as 2026-Q3"),
    (["feedback", "--period", "2026-12-01..2026-01-01"], "the period ends before it starts"),
])
def test_a_bad_period_is_a_usage_error(argv: list[str], message: str, config: Path,
                                       fakes: FakeParts,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", *argv, "--config", str(config)]) == 2
    assert message in capsys.readouterr().err and fakes.calls == []


def test_a_profile_with_problems_lists_them(config: Path, fakes: FakeParts, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    fakes.bad_profile = True
    assert cli.main(["report", "semiannual", "--period", "2026-H2", "-o",
                     str(tmp_path / "x.xlsx"), "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == "configs/organisation.toml:3: name: missing\n"
    assert err == "bailanys: reports.organisation: 1 problem\n"
    assert not (tmp_path / "x.xlsx").exists()


def test_without_a_store_it_says_so(tmp_path: Path, fakes: FakeParts,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "none.db"}"\n')
    assert cli.main(["report", "quarterly", "--period", "2026-Q3", "--config",
                     str(config)]) == 1
    assert "no event store" in capsys.readouterr().err


def test_the_group_carries_slice_contacts_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    added: list[Any] = []
    found = SimpleNamespace(register=lambda sub: added.append(sub.add_parser("rebuild")))
    monkeypatch.setattr(commands.importlib, "import_module", lambda name: found)
    args = cli.build_parser().parse_args(["report", "rebuild"])
    assert args.report_command == "rebuild" and len(added) == 1

    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(commands.importlib, "import_module", missing)
    with pytest.raises(SystemExit):  # not installed: the group has the reports only
        cli.build_parser().parse_args(["report", "rebuild"])


# --- periods (pure) ---------------------------------------------------------------

@pytest.mark.parametrize(("kind", "text", "since", "until"), [
    (ReportKind.SEMIANNUAL, "2026-H1", "2026-01-01", "2026-06-30"),
    (ReportKind.SEMIANNUAL, " 2026-H2 ", "2026-07-01", "2026-12-31"),
    (ReportKind.QUARTERLY, "2024-Q1", "2024-01-01", "2024-03-31"),
    (ReportKind.QUARTERLY, "2026-Q4", "2026-10-01", "2026-12-31"),
    (ReportKind.FEEDBACK, "2024-02", "2024-02-01", "2024-02-29"),
    (ReportKind.FEEDBACK, "2026-Q2", "2026-04-01", "2026-06-30"),
    (ReportKind.FEEDBACK, "2026-H2", "2026-07-01", "2026-12-31"),
    (ReportKind.FEEDBACK, "2026-01-01..2026-12-31", "2026-01-01", "2026-12-31"),
    (ReportKind.FEEDBACK, "2026-05-05..2026-05-05", "2026-05-05", "2026-05-05"),
])
def test_periods(kind: ReportKind, text: str, since: str, until: str) -> None:
    period = parse_period(kind, text)
    assert (period.since, period.until) == (dt.date.fromisoformat(since),
                                            dt.date.fromisoformat(until))
    assert parse_period(kind, period.text) == period


@pytest.mark.parametrize(("kind", "text", "code"), [
    (ReportKind.SEMIANNUAL, "2026-H3", "bad_period"), (ReportKind.SEMIANNUAL, "", "no_period"),
    (ReportKind.QUARTERLY, "2026-Q0", "bad_period"), (ReportKind.QUARTERLY, "1999-Q1",
                                                      "bad_period"),
    (ReportKind.FEEDBACK, "2026-00", "bad_period"), (ReportKind.FEEDBACK, "x" * 31, "bad_period"),
    (ReportKind.FEEDBACK, "2026-02-30..2026-03-01", "bad_date"),
    (ReportKind.FEEDBACK, "2025-01-01..2026-01-02", "bad_period"),
    (ReportKind.FEEDBACK, "2026-1-1..2026-2-1", "bad_date"),
    (ReportKind.FEEDBACK, "..", "bad_date"),
])
def test_bad_periods(kind: ReportKind, text: str, code: str) -> None:
    with pytest.raises(ParamError) as caught:
        parse_period(kind, text)
    assert caught.value.code == code and caught.value.param == "period"


def test_a_request_and_its_file_name() -> None:
    request = parse_request("feedback", "2026-10-01..2026-12-31", "ru", "pdf")
    assert request == ReportRequest(ReportKind.FEEDBACK, Period(
        "2026-10-01..2026-12-31", dt.date(2026, 10, 1), dt.date(2026, 12, 31)), "ru", "pdf")
    assert request.filename == "feedback-2026-10-01_2026-12-31-ru.pdf"
    assert request.content_type == "application/pdf"


@pytest.mark.parametrize(("today", "half", "quarter"), [
    ("2026-01-01", "2025-H2", "2025-Q4"), ("2026-03-31", "2025-H2", "2025-Q4"),
    ("2026-04-01", "2025-H2", "2026-Q1"), ("2026-06-30", "2025-H2", "2026-Q1"),
    ("2026-07-01", "2026-H1", "2026-Q2"), ("2026-12-31", "2026-H1", "2026-Q3"),
])
def test_the_pages_default_is_the_last_period_that_ended(today: str, half: str,
                                                        quarter: str) -> None:
    day = dt.date.fromisoformat(today)
    assert last_complete(ReportKind.SEMIANNUAL, day) == half
    assert last_complete(ReportKind.QUARTERLY, day) == quarter


# --- after the merge: the real builders and renderer ------------------------------

REAL = ("semiannual", "quarterly", "feedback", "organisation", "topics", "render")


@pytest.mark.skipif(any(importlib.util.find_spec(f"bailanys.reports.{m}") is None
                        for m in REAL), reason="the builders are not merged yet")
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_report_in_both_languages_from_the_real_builders(
        lang: str, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    db = new_store(tmp_path / "bailanys.db")
    config = tmp_path / "bailanys.toml"
    config.write_text(f'[store]\npath = "{db}"\n[reports]\n'
                      f'topics = "{REPO / "configs/topics.yaml"}"\n'
                      f'organisation = "{REPO / "configs/organisation.toml"}"\n')
    for kind, period in (("semiannual", "2026-H2"), ("quarterly", "2026-Q3"),
                         ("feedback", "2026-Q3")):
        out = tmp_path / f"{kind}.xlsx"
        assert cli.main(["report", kind, "--period", period, "--lang", lang, "-o", str(out),
                         "--config", str(config)]) == 0, kind
        book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
        assert book.sheetnames and zipfile.is_zipfile(out)
        capfdbinary.readouterr()
        assert cli.main(["report", kind, "--period", period, "--lang", lang, "--format",
                         "html", "-o", "-", "--config", str(config)]) == 0, kind
        assert b"<table" in capfdbinary.readouterr().out


def test_a_failing_builder_is_one_line_with_its_cause(
        config: Path, fakes: FakeParts, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> Any:
        def write(doc: Any, fmt: str) -> bytes:
            raise KeyError("no such style")

        return SimpleNamespace(write=write)

    monkeypatch.setattr(fakes, "_render", broken)
    assert cli.main(["report", "quarterly", "--period", "2026-Q3", "-o", "-",
                     "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert err == ("bailanys: the report could not be made (the log says why): "
                   "KeyError: 'no such style'\n")
    assert "Traceback" not in out + err


def test_a_real_report_from_a_postgresql_store(pg_url: str, tmp_path: Path) -> None:
    """Issue 22: ``[store] url`` on PostgreSQL; the real builders and renderer."""
    new_store(pg_url)
    config = tmp_path / "pg.toml"
    config.write_text(f'[store]\nurl = "{pg_url}"\n[reports]\n'
                      f'topics = "{REPO / "configs" / "topics.yaml"}"\n', encoding="utf-8")
    out = tmp_path / "feedback.html"
    assert cli.main(["report", "feedback", "--period", "2026-H2", "--lang", "kk",
                     "--format", "html", "-o", str(out), "--config", str(config)]) == 0
    assert "<table" in out.read_text(encoding="utf-8")
