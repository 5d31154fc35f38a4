"""``bailanys qa check`` (issue 16: "validates scorecards with ``file:line:
field: message`` errors, like ``flows check``"), run through ``cli.main``."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bailanys import cli
from bailanys.qa import cardstore, scorecard
from tests.analytics.jobstore import new_store
from tests.qa.cards import CARD_DIR, DEFAULT_CARD, ROOT, SMALL, card_text, write

PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[\w.\[\]]+): (?P<msg>.+)$")


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("BAILANYS_"):
            monkeypatch.delenv(key)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    status = cli.main(["qa", "check", *args])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def test_the_centre_cards_by_default(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # [qa] scorecard_dir is relative: configs/scorecards
    status, out, err = check(capsys)
    assert (status, err) == (0, "")
    assert "ok: configs/scorecards/default.yaml: scorecard default version 2, 5 sections, " \
           "19 criteria (3 critical, 3 manual), the default card" in out
    assert all(line.startswith("ok: ") for line in out)
    assert len(out) == len(scorecard.scorecard_files(CARD_DIR))


def test_files_and_directories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = write(tmp_path, "one.yaml", card_text("one", applies_to="{queues: [egov]}"))
    status, out, _ = check(capsys, str(one), str(DEFAULT_CARD))
    assert status == 0
    assert out == [
        f"ok: {one}: scorecard one version 1, 1 section, 6 criteria (2 critical, 1 manual), "
        "queues egov",
        f"ok: {DEFAULT_CARD}: scorecard default version 2, 5 sections, 19 criteria "
        "(3 critical, 3 manual), the default card"]
    assert check(capsys, str(one), str(tmp_path), str(one))[:2] == (0, out[:1])  # once
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check(capsys, str(empty))[:2] == (0, [f"{empty}: no scorecard files (*.yaml)"])


def test_problems_exit_1_with_one_line_each(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "a.yaml", SMALL)
    write(tmp_path, "b.yaml", SMALL.replace("id: small", "id: other").replace(
        "scale: yes_no", "scale: maybe").replace("end: 10", "end: -3"))
    write(tmp_path, "c.yaml", card_text("c"))
    status, out, err = check(capsys, str(tmp_path), str(tmp_path / "missing.yaml"))
    assert status == 1
    assert err == "4 problems\n"
    problems = [PROBLEM_LINE.match(line) for line in out if not line.startswith("ok: ")]
    assert [(m["file"], m["line"], m["field"]) for m in problems if m] == [
        (str(tmp_path / "b.yaml"), "11", "sections[0].criteria[0].window.end"),
        (str(tmp_path / "b.yaml"), "42", "sections[0].criteria[5].scale"),
        (str(tmp_path / "c.yaml"), "1", "id")]  # a second default card
    assert f"{tmp_path / 'missing.yaml'}: no such file or directory" in out
    assert [line for line in out if line.startswith("ok: ")] == [
        f"ok: {tmp_path / 'a.yaml'}: scorecard small version 1, 1 section, 6 criteria "
        "(2 critical, 1 manual), the default card"]


def test_store_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = new_store(tmp_path / "s.db")
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{db}"\n[qa]\nscorecard_dir = "{tmp_path / "cards"}"\n',
                      encoding="utf-8")
    (tmp_path / "cards").mkdir()
    path = write(tmp_path / "cards", "small.yaml", SMALL)
    assert check(capsys, "--store", "--config", str(config))[:2] == (0, [
        f"ok: {path}: scorecard small version 1, 1 section, 6 criteria (2 critical, 1 manual), "
        "the default card; new: not in the store yet"])
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        cardstore.register(conn, scorecard.load(path), 1_790_000_000.0)
    assert check(capsys, "--store", "--config", str(config))[1][0].endswith("; in the store")
    write(tmp_path / "cards", "small.yaml", SMALL.replace("weight: 5", "weight: 3"))
    status, out, err = check(capsys, "--store", "--config", str(config))
    assert (status, err) == (1, "1 problem\n")
    assert out[0] == (f"{path}:2: version: scorecard small version 1 changed without a new "
                      "version: calls scored since 2026-09-21 used other content under it; "
                      "raise version to 2")


def test_store_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "none.db"}"\n', encoding="utf-8")
    status, _, err = check(capsys, "--store", "--config", str(config), str(DEFAULT_CARD))
    assert status == 1 and err.startswith("bailanys: no event store at")


def test_the_installed_command() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bailanys", "qa", "check", str(CARD_DIR)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ")
