"""The CLI, run as users run it: ``python -m bailanys ...`` in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bailanys import cli
from bailanys.config import Config
from bailanys.store import Store

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BAILANYS_")}
    base["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bailanys", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def fill(db: Path) -> None:
    times = iter([1_700_000_000.0, 1_700_000_001.5, 1_700_000_002.0, 1_700_000_003.0])
    store = await Store.open(db, clock=lambda: next(times))
    store.events.append("call.offered", "c1", caller="+77011234567", number="1414")
    store.events.append("ivr.input", "c1", digits="2", lang="kk")
    store.events.append("call.offered", "c2", caller="1002", number="1414")
    store.events.append("agent.state", None, agent="1001", state="ready")
    await store.close()


def config_for(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'[store]\npath = "{db}"\n', encoding="utf-8")
    return path


async def test_events_json(tmp_path: Path) -> None:
    db = tmp_path / "var" / "e.db"
    await fill(db)
    result = run("events", "--config", str(config_for(tmp_path, db)), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["type"] for o in lines] == [
        "call.offered",
        "ivr.input",
        "call.offered",
        "agent.state",
    ]
    assert lines[0] == {
        "id": 1,
        "ts": 1_700_000_000.0,
        "time": "2023-11-14T22:13:20.000Z",
        "type": "call.offered",
        "call_id": "c1",
        "caller": "+77011234567",
        "number": "1414",
    }
    assert lines[3]["call_id"] is None and lines[3]["state"] == "ready"


async def test_events_filters_and_env_store_path(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    await fill(db)
    env = {"BAILANYS_STORE_PATH": str(db)}
    result = run("events", "--call", "c1", "--json", cwd=tmp_path, env=env)
    assert [json.loads(x)["type"] for x in result.stdout.splitlines()] == [
        "call.offered",
        "ivr.input",
    ]
    result = run(
        "events", "--type", "call.offered", "--limit", "1", "--json", cwd=tmp_path, env=env
    )
    assert [json.loads(x)["call_id"] for x in result.stdout.splitlines()] == ["c1"]
    since = "2023-11-14T22:13:21"  # naive = UTC: skips the first event
    result = run("events", "--since", since, "--json", cwd=tmp_path, env=env)
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == [2, 3, 4]


async def test_events_table(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    await fill(db)
    result = run("events", "--config", str(config_for(tmp_path, db)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "(UTC)", "TYPE", "CALL", "FIELDS"]
    assert len(lines) == 5
    # Columns are aligned: TYPE starts at the same offset on every line.
    offsets = {
        line.index(t)
        for line, t in zip(lines[:3], ["TYPE", "call.offered", "ivr.input"], strict=True)
    }
    assert len(offsets) == 1
    assert "caller=+77011234567 number=1414" in lines[1]
    assert lines[4].split()[3] == "-"  # no call id


def test_events_missing_database(tmp_path: Path) -> None:
    db = tmp_path / "absent.db"
    result = run("events", "--config", str(config_for(tmp_path, db)), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"bailanys: no event store at {db}")
    assert not db.exists()  # reading never creates it


def test_config_check_ok(tmp_path: Path) -> None:
    # Relative paths (queue.file, ivr.flow_dir, robot.faq) are relative to the
    # working directory: the project root, as `make run` runs.
    result = run("config", "check", cwd=PROJECT_ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
    example = PROJECT_ROOT / "configs" / "example-operators.toml"
    assert run("config", "check", "--config", str(example), cwd=PROJECT_ROOT).stdout == "ok\n"


def checked_config(tmp_path: Path, *, queues: str | None, faq: str = "",
                   flows: dict[str, str] | None = None,
                   scorecards: Path = PROJECT_ROOT / "configs" / "scorecards") -> Path:
    """A config naming a queues file (None: a missing one), a flow folder, a FAQ
    and a scorecard folder."""
    flow_dir = tmp_path / "flows"
    flow_dir.mkdir()
    for name, text in (flows or {}).items():
        (flow_dir / name).write_text(text, encoding="utf-8")
    queue_file = tmp_path / "queues.toml"
    if queues is not None:
        queue_file.write_text(queues, encoding="utf-8")
    faq_file = tmp_path / "faq.yaml"
    if faq:
        faq_file.write_text(faq, encoding="utf-8")
    path = tmp_path / "c.toml"
    path.write_text(
        f'[queue]\nfile = "{queue_file}"\n[ivr]\nflow_dir = "{flow_dir}"\n'
        f'[robot]\nfaq = "{faq_file if faq else ""}"\n'
        f'[qa]\nscorecard_dir = "{scorecards}"\n[cases]\nenabled = false\n',
        encoding="utf-8",
    )
    return path


def test_config_check_reads_the_queues_file(tmp_path: Path) -> None:
    """Issue 13 item 4: "ok" was printed for a queues file with an unknown key."""
    config = checked_config(tmp_path, queues="[queues.general]\nbogus = 1\n")
    result = run("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{tmp_path / 'queues.toml'}: queues.general.bogus: "
                                    "unknown key (known: ")
    assert result.stdout.count("\n") == 1
    assert result.stderr == "bailanys: 1 problem in the files the config names\n"


def test_config_check_missing_queues_file_is_an_error(tmp_path: Path) -> None:
    config = checked_config(tmp_path, queues=None)
    result = run("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == (f"{config}: queue.file: no such file: {tmp_path / 'queues.toml'} "
                             '(write queue.file = "" to run without queues)\n')
    # An empty setting runs without queues on purpose: no problem.
    config.write_text(f'[queue]\nfile = ""\n[ivr]\nflow_dir = "{tmp_path / "flows"}"\n'
                      '[robot]\nfaq = ""\n[qa]\nenabled = false\n[cases]\nenabled = false\n',
                      encoding="utf-8")
    result = run("config", "check", "--config", str(config), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "ok\n")


def test_config_check_reads_flows_and_faq(tmp_path: Path) -> None:
    flow = (PROJECT_ROOT / "ivr_flows" / "1414.yaml").read_text(encoding="utf-8")
    config = checked_config(
        tmp_path,
        queues="[queues.other]\n",
        flows={"broken.yaml": "name: x\nnodes: [\n", "1414.yaml": flow},
        faq="entries:\n  - id: 1\n    bogus: true\n",
    )
    result = run("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    broken = [line for line in lines if line.startswith(f"{tmp_path / 'flows' / 'broken.yaml'}:")]
    assert broken, lines
    # The flow's queue nodes name queues the queues file does not have.
    assert any(line.startswith(f"{tmp_path / 'flows' / '1414.yaml'}: nodes.")
               and "no queue" in line and "(queues: other)" in line for line in lines), lines
    faq = [line for line in lines if line.startswith(f"{tmp_path / 'faq.yaml'}:")]
    assert faq, lines
    assert result.stderr == f"bailanys: {len(lines)} problems in the files the config names\n"


def test_config_check_reads_the_scorecards(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "bad.yaml").write_text("id: bad\nversion: 0\n", encoding="utf-8")
    config = checked_config(tmp_path, queues="[queues.other]\n", scorecards=cards)
    result = run("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert all(line.startswith(f"{cards / 'bad.yaml'}:") for line in result.stdout.splitlines())
    assert f"{cards / 'bad.yaml'}:2: version: " in result.stdout, result.stdout
    (tmp_path / "m").mkdir()
    missing = checked_config(tmp_path / "m", queues="", scorecards=tmp_path / "none")
    result = run("config", "check", "--config", str(missing), cwd=tmp_path)
    assert result.stdout == f"{missing}: qa.scorecard_dir: no such directory: {tmp_path / 'none'}\n"


def test_bad_config_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[sip]\nlisten = "nonsense"\n', encoding="utf-8")
    expected = (
        f"bailanys: {bad}: sip.listen: expected host:port such as '127.0.0.1:5060', "
        "got 'nonsense'\n"
    )
    for command in (["config", "check"], ["serve"], ["events"]):
        result = run(*command, "--config", str(bad), cwd=tmp_path)
        assert result.returncode == 2, command
        assert result.stderr == expected, command
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_bad_environment_one_line_exit_2(tmp_path: Path) -> None:
    result = run("config", "check", cwd=tmp_path, env={"BAILANYS_SIP_PORT": "5070"})
    assert result.returncode == 2
    assert result.stderr.startswith("bailanys: environment: BAILANYS_SIP_PORT: unknown setting")
    assert result.stderr.count("\n") == 1


def test_toml_syntax_error_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[sip\n", encoding="utf-8")
    result = run("config", "check", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "line 1" in result.stderr


def test_usage_errors_are_argparse_exit_2(tmp_path: Path) -> None:
    result = run("events", "--since", "yesterday", cwd=tmp_path)
    assert result.returncode == 2
    assert "expected an ISO-8601 time" in result.stderr
    assert "Traceback" not in result.stderr
    assert run(cwd=tmp_path).returncode == 2  # no command


def test_help_lists_commands(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "events", "config"):
        assert command in result.stdout


async def test_sigterm_stops_serve_cleanly() -> None:
    started = asyncio.Event()
    cancelled = False

    async def serve(config: Config) -> None:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled = True
            raise

    task = asyncio.create_task(cli._serve_until_stopped(serve, Config()))
    await started.wait()
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, timeout=5)  # returns normally, not cancelled
    assert cancelled
    assert not task.cancelled()


def test_lingering_threads_are_named_after_a_bounded_wait() -> None:
    """serve's safety net: a thread left running cannot hold the exit (issue 13 item 4)."""
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="stuck-writer")
    quick = threading.Thread(target=lambda: None, name="quick")
    stuck.start()
    quick.start()
    try:
        began = time.monotonic()
        left = cli.lingering_threads(0.2)  # (other tests' threads may linger too)
        assert "stuck-writer" in left and "quick" not in left
        assert time.monotonic() - began < 1.0
    finally:
        release.set()
        stuck.join()
    assert "stuck-writer" not in cli.lingering_threads(0.2)
