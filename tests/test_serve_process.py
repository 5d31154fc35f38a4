"""``bailanys serve`` as systemd and a terminal run it: a subprocess (issue 13).

* every start-up failure exits non-zero at once with one clear line and no
  traceback (before: an unknown key in the queues file, or a SIP or console
  port in use, printed the error and then never exited);
* Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops
  the engine with no KeyboardInterrupt traceback from the TTS worker.

Interpreter start and imports take about a second of each run.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROMPT_DIR = PROJECT_ROOT / "voice_models" / "prompts"
#: A failed start: interpreter start and imports (~1 s) plus the start-up
#: steps before the failure; the bug this catches was "never".
FAILED_START_S = 8.0


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp_path: Path, *, sip_port: int = 0, console_port: int = 0,
                 queue_file: str = "", prompt_dir: Path = PROMPT_DIR) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    sip_port = sip_port or free_port(socket.SOCK_DGRAM)
    console_port = console_port or free_port(socket.SOCK_STREAM)
    lo = 42000 + 2 * (os.getpid() % 1000)
    path = tmp_path / "serve.toml"
    path.write_text(
        f'[sip]\nlisten = "127.0.0.1:{sip_port}"\n'
        f'[media]\nrtp_ports = "{lo}-{lo + 99}"\n'
        f'[store]\npath = "{tmp_path / "b.db"}"\n'
        f'[voice]\nprompt_dir = "{prompt_dir}"\n'
        f'[ivr]\nflow_dir = "{empty}"\nreload_seconds = 0\n'
        f'[asr]\nmodel_dir = "{empty}"\n'
        f'[queue]\nfile = "{queue_file}"\n'
        f'[console]\nlisten = "127.0.0.1:{console_port}"\n'
        f'[robot]\ndemo_db = "{tmp_path / "robot.db"}"\nfaq = ""\n'
        "[analytics]\nworkers = 0\n",  # no transcription worker processes here
        encoding="utf-8",
    )
    return path


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BAILANYS_")}
    base["PYTHONPATH"] = str(PROJECT_ROOT)
    return base


def serve_fails(config: Path, cwd: Path) -> tuple[int, str, float]:
    """Run serve; (exit status, stderr, seconds). A hang fails the test."""
    began = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bailanys", "serve", "--config", str(config)],
            cwd=cwd, env=env(), capture_output=True, text=True, timeout=FAILED_START_S + 10,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"serve did not exit after a failed start:\n{exc.stderr!r}")
    return result.returncode, result.stderr, time.monotonic() - began


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("bailanys: ")]
    assert len(errors) == 1, stderr
    assert "still running after the engine stopped" not in stderr, stderr
    return errors[0]


def test_unknown_key_in_queues_file_exits_at_once(tmp_path: Path) -> None:
    queues = tmp_path / "queues.toml"
    queues.write_text("[queues.general]\nbogus = 1\n", encoding="utf-8")
    status, stderr, took = serve_fails(write_config(tmp_path, queue_file=str(queues)), tmp_path)
    assert status == 2, stderr
    assert one_error_line(stderr).startswith(
        f"bailanys: {queues}: queues.general.bogus: unknown key (known: ")
    assert took < FAILED_START_S


def test_missing_queues_file_exits_at_once(tmp_path: Path) -> None:
    config = write_config(tmp_path, queue_file=str(tmp_path / "absent.toml"))
    status, stderr, took = serve_fails(config, tmp_path)
    assert status == 2, stderr
    assert one_error_line(stderr) == (
        f"bailanys: {config}: queue.file: no such file: {tmp_path / 'absent.toml'} "
        '(write queue.file = "" to run without queues)')
    assert took < FAILED_START_S


def test_sip_port_in_use_exits_at_once(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = int(taken.getsockname()[1])
        status, stderr, took = serve_fails(write_config(tmp_path, sip_port=port), tmp_path)
    assert status == 1, stderr
    line = one_error_line(stderr)
    assert line.startswith(f"bailanys: sip.listen 127.0.0.1:{port}: cannot listen: "), line
    assert line.endswith("(is another engine running?)"), line
    assert took < FAILED_START_S


def test_console_port_in_use_exits_at_once(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        status, stderr, took = serve_fails(write_config(tmp_path, console_port=port), tmp_path)
    assert status == 1, stderr
    line = one_error_line(stderr)
    assert line.startswith(f"bailanys: console.listen 127.0.0.1:{port}: cannot listen: "), line
    assert line.endswith("(is another engine running?)"), line
    assert took < FAILED_START_S


def read_until(proc: subprocess.Popen[bytes], text: bytes, within: float) -> bytes:
    """stderr read so far, once it holds ``text`` (fails after ``within`` s)."""
    assert proc.stderr is not None
    out = b""
    deadline = time.monotonic() + within
    while text not in out:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            pytest.fail(f"no {text!r} from serve:\n{out.decode(errors='replace')}")
        ready, _, _ = select.select([proc.stderr], [], [], left)
        if ready:
            out += os.read(proc.stderr.fileno(), 65536)
    return out


@pytest.mark.peer
def test_ctrl_c_stops_quietly(tmp_path: Path) -> None:
    """SIGINT to the process group while the TTS worker runs: no traceback.

    An empty prompt cache makes the engine start its espeak-ng worker (it
    renders the demo's prompts), which then lives until the engine stops.
    """
    config = write_config(tmp_path, prompt_dir=tmp_path / "prompts")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bailanys", "serve", "--config", str(config)],
        cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's job
    )
    try:
        seen = read_until(proc, b"listening for SIP", within=60)
        assert b"tts worker pid" in seen  # the worker is alive now
        os.killpg(proc.pid, signal.SIGINT)
        _, rest = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = (seen + rest).decode(errors="replace")
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "interrupted: stopped" in stderr
    assert "still running after the engine stopped" not in stderr
    assert "bailanys.engine.core: ready in " in stderr  # how long the start-up took
