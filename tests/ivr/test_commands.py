"""``bailanys flows check`` (bailanys.ivr.commands), run through ``bailanys.cli.main``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bailanys import cli

ROOT = Path(__file__).resolve().parents[2]
FLOW_DIR = ROOT / "ivr_flows"
FLOW_1414 = (FLOW_DIR / "1414.yaml").read_text(encoding="utf-8")

PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[\w.\[\]\-]+): (?P<msg>.+)$")


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("BAILANYS_"):
            monkeypatch.delenv(key)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    status = cli.main(["flows", "check", *args])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def test_check_the_real_flows(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = check(capsys, str(FLOW_DIR))
    assert status == 0
    assert all(line.startswith("ok: ") for line in out), out  # 1414 and the engine's own flows
    hotline = [line for line in out if "1414.yaml" in line]
    assert len(hotline) == 1
    assert re.fullmatch(rf"ok: {re.escape(str(FLOW_DIR / '1414.yaml'))}: flow hotline-1414 "
                        r"version [0-9a-f]{12}, 21 nodes, numbers 1414", hotline[0]), out
    assert err == ""


def test_check_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = FLOW_DIR / "1414.yaml"
    status, out, _ = check(capsys, str(path))
    assert status == 0
    assert out[0].startswith(f"ok: {path}: flow hotline-1414 version ")


def test_check_a_directory_with_a_broken_file(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(FLOW_1414, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        FLOW_1414.replace('numbers: ["1414"]', 'numbers: ["1415"]')
        .replace('      - key: "9"', '      - key: "90"')
        .replace("    type: say\n", "    type: sya\n", 1),
        encoding="utf-8",
    )
    status, out, err = check(capsys, str(tmp_path))
    assert status == 1
    problems = [line for line in out if not line.startswith("ok: ")]
    assert len(problems) >= 2
    for line in problems:
        m = PROBLEM_LINE.match(line)
        assert m is not None, line
        assert m["file"] == str(broken)
    fields = {PROBLEM_LINE.match(x)["field"] for x in problems}  # type: ignore[index]
    assert {"nodes.greeting.type", "nodes.service_centres.options[0].key"} <= fields
    assert f"ok: {tmp_path / 'good.yaml'}: flow hotline-1414" in "\n".join(out)
    assert re.search(r"\d+ problems?", err)


def test_problem_lines_carry_the_real_line_number(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    lines = FLOW_1414.splitlines(keepends=True)
    target = next(i for i, x in enumerate(lines) if x.strip() == "next: queue_egov")
    lines[target] = lines[target].replace("queue_egov", "queue_egoov")
    path = tmp_path / "typo.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    status, out, _ = check(capsys, str(path))
    assert status == 1
    assert f"{path}:{target + 1}: nodes.main_menu.options[1].next: unknown node 'queue_egoov'" \
        in out


def test_check_a_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    status, out, err = check(capsys, str(missing))
    assert status == 1
    assert out == [f"{missing}: no such file or directory"]
    assert "1 problem" in err


def test_check_an_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, str(tmp_path))
    assert status == 0
    assert out == [f"{tmp_path}: no flow files (*.yaml)"]


def test_check_without_a_path_uses_the_configured_flow_dir(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hotline.yaml").write_text(FLOW_1414, encoding="utf-8")
    config = tmp_path / "bailanys.toml"
    config.write_text(f'[ivr]\nflow_dir = "{flows}"\n', encoding="utf-8")
    status, out, _ = check(capsys, "--config", str(config))
    assert status == 0
    assert out[0].startswith(f"ok: {flows / 'hotline.yaml'}: flow hotline-1414")

    (flows / "hotline.yaml").write_text(FLOW_1414.replace("start: greeting", "start: hello"),
                                        encoding="utf-8")
    status, out, _ = check(capsys, "--config", str(config))
    assert status == 1
    assert out == [f"{flows / 'hotline.yaml'}:18: start: unknown node 'hello'"]


def test_check_with_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[ivr]\nflow_dirr = 'x'\n", encoding="utf-8")
    status, out, err = check(capsys, "--config", str(config))
    assert status == 2
    assert out == []
    assert err.startswith("bailanys: ")
