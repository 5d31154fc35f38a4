"""The capacity and set-up benches' own parts (issue 20): the echo anchor, the
port ranges it prints, the verdicts (every run, not the median), the setup
target, and the engine's console on a free port.

The echo runs for real: ``bench/udp_echo.py serve`` in its own process and
``drive`` sending to it for a second; its CPU and packet counters move.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.engine_capacity import LATE_LIMIT, EngineProcess, level_passes, spread
from bench.sip_setup import meets_target
from bench.udp_echo import parse_ranges, ranges

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("ports", [[], [5], [1, 2, 3], [1, 3, 4, 5, 9], [7, 6, 8, 20, 21]])
def test_port_ranges_round_trip(ports: list[int]) -> None:
    assert parse_ranges(ranges(ports)) == sorted(ports)


def test_ranges_text() -> None:
    assert ranges([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"


def _run(failed: float = 0, ok: float = 100, late: float = 0.0) -> dict[str, float]:
    return {"failed": failed, "ok": ok, "late_share": late}


def test_a_level_passes_only_when_every_run_does() -> None:
    assert level_passes([_run(), _run(), _run(late=LATE_LIMIT / 2)], 100)
    assert not level_passes([_run(), _run(), _run(late=LATE_LIMIT)], 100)  # not the median
    assert not level_passes([_run(), _run(failed=1), _run()], 100)
    assert not level_passes([_run(), _run(ok=99), _run()], 100)
    assert spread([3.0, 1.0, 2.0]) == (1.0, 2.0, 3.0)


def test_the_setup_target() -> None:
    good = {"failed": 0.0, "retransmissions": 0.0, "ok": 24000.0, "calls": 24000.0,
            "sustained": 399.0, "p99_ms": 12.0}
    assert meets_target(good, 400)
    for key, bad in (("failed", 1.0), ("retransmissions", 1.0), ("ok", 23999.0),
                     ("sustained", 390.0), ("p99_ms", 50.0)):
        assert not meets_target({**good, key: bad}, 400), key


def test_the_echo_echoes_every_stream_and_counts_its_cpu() -> None:
    echo = subprocess.Popen([sys.executable, str(ROOT / "bench" / "udp_echo.py"), "serve", "20"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert echo.stdin is not None and echo.stdout is not None
    try:
        word, ports = echo.stdout.readline().split()
        assert word == "ready" and len(parse_ranges(ports)) == 20
        echo.stdin.write("stats\n")
        echo.stdin.flush()
        before = json.loads(echo.stdout.readline())
        drive = subprocess.run([sys.executable, str(ROOT / "bench" / "udp_echo.py"), "drive",
                                "127.0.0.1", ports, "--seconds", "1"],
                               capture_output=True, text=True, timeout=30, check=True)
        sent = json.loads(drive.stdout)["sent"]
        for _ in range(50):  # what is still queued in its sockets on a loaded machine
            echo.stdin.write("stats\n")
            echo.stdin.flush()
            after = json.loads(echo.stdout.readline())
            if after["packets"] - before["packets"] >= sent:
                break
            time.sleep(0.1)
    finally:
        echo.communicate("quit\n", timeout=30)
    assert sent in (20 * 50, 20 * 51)  # 50 packets/s to each stream for 1 s (+ rounding)
    assert 0.9 * sent <= after["packets"] - before["packets"] <= sent  # loopback: ~all
    assert after["cpu"] > before["cpu"] and after["time"] > before["time"]
    assert echo.returncode == 0


@pytest.mark.peer
def test_the_engine_starts_with_its_console_port_taken(tmp_path: Path) -> None:
    """Issue 20: the bench failed to start when 8080 was taken; its console
    now listens on a free port, whatever holds 8080."""
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        blocker.bind(("127.0.0.1", 8080))
        blocker.listen()
    except OSError:
        pass  # held by someone else already: the same situation
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        engine = EngineProcess(tmp_path, port)
        try:
            stats = engine.stats()
            assert stats["calls"] == 0
        finally:
            engine.close()
        assert 'listen = "127.0.0.1:8080"' not in (tmp_path / "bench.toml").read_text()
    finally:
        blocker.close()
