"""``bailanys faq check|export|import`` (bailanys.robot.commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys import cli
from bailanys.robot.faq import load_kb

ROOT = Path(__file__).resolve().parents[2]
FAQ = ROOT / "knowledge" / "faq.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(["faq", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_check_the_shipped_faq(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "check", str(FAQ))
    assert status == 0 and out.strip() == f"ok: {FAQ}: 52 entries"


def test_check_the_configured_faq(capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "check")
    assert status == 0 and "52 entries" in out


def test_check_reports_problems_with_their_lines(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    bad = tmp_path / "faq.yaml"
    bad.write_text(
        "entries:\n"
        "  - id: a\n    topic: t\n"
        "    questions: {kk: [бір, екі, үш], ru: [раз, два, три]}\n"
        "    answer: {kk: Жауап.}\n"
        "  - id: a\n    topic: t\n"
        "    questions: {kk: [бір, екі, үш], ru: [раз, два, три]}\n"
        "    answer: {kk: Жауап., ru: Ответ.}\n", encoding="utf-8")
    status, out, _ = run(capsys, "check", str(bad))
    assert status == 1
    lines = out.splitlines()
    assert any(line.startswith(f"{bad}:5:") and "ru" in line for line in lines), lines
    assert any(line.startswith(f"{bad}:6:") and "duplicate" in line for line in lines), lines


def test_export_then_import_round_trips(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    csv_path, out = tmp_path / "faq.csv", tmp_path / "faq.yaml"
    assert run(capsys, "export", str(csv_path), "--faq", str(FAQ))[0] == 0
    status, text, _ = run(capsys, "import", str(csv_path), str(out))
    assert status == 0 and "52 entries" in text
    a, b = load_kb(FAQ), load_kb(out)
    assert a.content_hash() == b.content_hash()
    assert [(e.answer, e.sms) for e in a.entries] == [(e.answer, e.sms) for e in b.entries]


def test_import_never_overwrites_without_force_nor_writes_a_bad_csv(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csv_path, out = tmp_path / "faq.csv", tmp_path / "faq.yaml"
    run(capsys, "export", str(csv_path), "--faq", str(FAQ))
    out.write_text("keep me", encoding="utf-8")
    status, _, err = run(capsys, "import", str(csv_path), str(out))
    assert status == 2 and "--force" in err and out.read_text(encoding="utf-8") == "keep me"
    broken = tmp_path / "broken.csv"
    broken.write_text(csv_path.read_text(encoding="utf-8").replace(
        "id_card_get,", "id_card_lost,", 1), encoding="utf-8")
    status, text, _ = run(capsys, "import", str(broken), str(out), "--force")
    assert status == 1 and "duplicate" in text
    assert out.read_text(encoding="utf-8") == "keep me"  # nothing written
    status, _, _ = run(capsys, "import", str(csv_path), str(out), "--force")
    assert status == 0 and len(load_kb(out)) == 52
