"""Engine capacity and call-setup benchmarks (issues 2 and 20), figures printed.

    python bench/engine_capacity.py [--calls 500,1000,1500] [--runs 3] [--hold 20]
                                    [--setup-rates 100,200,300] [--setup-calls 2000]
                                    [--no-echo] [--busy-worker] [--engine-tree PATH]

Every run of every level is a fresh engine process pinned to CPU 0
(``taskset -c 0``), with SIPp on CPU 1: ``--runs`` runs per level, each
printed, then min / median / max.  Each call sends 50 RTP packets/s (SIPp
``rtp_stream``) and hears the engine's prompt or comfort silence at 50
packets/s for ``--hold`` seconds.  A level passes when **every** run has 0
failed calls and fewer than 0.1 % of the engine's frames leaving more than
10 ms after their due time, measured inside the engine (each tick's start
lateness plus the frame's position in the send loop; see
``MediaHub._tick``).

The anchor (issue 20): right after each engine run, in the same minutes, a
uvloop UDP echo (``bench/udp_echo.py``: one socket per stream, Python per
packet) is pinned to CPU 0 and driven with the same N streams of 50
packets/s from CPU 1; ``ratio`` is the engine's CPU per call over the
echo's CPU per stream, per run.  ``--no-echo`` skips it.

The engine's console listens on a free port (never a fixed 8080 that
another process may hold).  The setup test places short calls (INVITE,
200, ACK, BYE) at a fixed rate in bursts of ``--setup-calls``, on a fresh
engine per rate; ``bench/sip_setup.py`` holds a rate for 60 s.  The pyVoIP
comparison is ``bench/compare_pyvoip.py`` (both in ``make bench``).

``--busy-worker`` (issue 15, "Never on the call path") also runs a
transcription worker on CPU 1 (``bench/busy_worker.py``: real Vosk decoding
of a long recording, niced as the engine's own workers are) for the whole
run; the ``wcpu`` column is its CPU share during each level's plateau. The
engine's own ``[analytics]`` stays off here (no recordings), so the figures
compare with those without the worker.

``--engine-tree PATH`` runs the capacity levels' engine from another
checkout (its C extension built there): a before/after in the same minutes.

Never a timed test: this prints figures for humans.  Run by ``make bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import busy_worker  # noqa: E402
from tests.peers.sipp import (  # noqa: E402
    find_sipp,
    free_port,
    prepare_load_audio,
    run_sipp,
)

SCENARIOS = ROOT / "tests" / "peers" / "scenarios"
LATE_LIMIT = 0.001  # < 0.1 % of frames more than 10 ms late (issue 2)


def _taskset(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() else []


class EngineProcess:
    """The engine under test in its own (pinned) process."""

    def __init__(self, workdir: Path, port: int, *, symmetric_rtp: bool = True,
                 tree: Path = ROOT) -> None:
        """``tree``: the checkout whose ``bailanys`` runs (a "before" for A/B runs)."""
        cfg = workdir / "bench.toml"
        cfg.write_text(
            "\n".join(
                [
                    "[sip]",
                    f'listen = "127.0.0.1:{port}"',
                    'transports = ["udp"]',
                    "max_new_calls_per_source_per_second = 100000",
                    "max_calls = 5000",
                    "[media]",
                    'rtp_ports = "20000-39999"',
                    "inband_dtmf = true",
                    f"symmetric_rtp = {'true' if symmetric_rtp else 'false'}",
                    "[store]",
                    f'path = "{workdir / "bench.db"}"',
                    "[voice]",
                    f'prompt_dir = "{ROOT / "voice_models" / "prompts"}"',
                    "[engine]",
                    "no_input_seconds = 300",
                    # The built-in demo on 1414 (prompts, DTMF), as the figures
                    # in the README were measured; no YAML flows, no speech.
                    'numbers = ["1414"]',
                    "[ivr]",
                    f'flow_dir = "{workdir / "no-flows"}"',
                    "reload_seconds = 0",
                    "[asr]",
                    f'model_dir = "{workdir / "no-flows"}"',
                    # The capacity figures are the call path's own: no
                    # recordings, no transcription workers of the engine.
                    "[analytics]",
                    "enabled = false",
                    "[log]",
                    'level = "WARNING"',
                    # A free port: a fixed 8080 may be taken (issue 20).
                    "[console]",
                    f'listen = "127.0.0.1:{free_port(socket.SOCK_STREAM)}"',
                ]
            )
        )
        self.proc = subprocess.Popen(
            [*_taskset(0), sys.executable, str(tree / "bench" / "engine_runner.py"), str(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"engine did not start: {line!r}")

    def stats(self) -> dict[str, object]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        data: dict[str, object] = json.loads(self.proc.stdout.readline())
        return data

    def wait_idle(self, limit_s: float = 60.0) -> None:
        end = time.monotonic() + limit_s
        while time.monotonic() < end and int(self.stats()["calls"]) > 0:  # type: ignore[call-overload]
            time.sleep(0.5)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _delta(after: dict[str, object], before: dict[str, object], *path: str) -> float:
    a: object = after
    b: object = before
    for p in path:
        a = a[p]  # type: ignore[index]
        b = b[p]  # type: ignore[index]
    return float(a) - float(b)  # type: ignore[arg-type]


def capacity_level(engine: EngineProcess, port: int, workdir: Path, n: int, hold_s: float,
                   ramp: float, worker_pid: int | None = None) -> dict[str, float]:
    """N concurrent calls held ``hold_s`` seconds; engine figures over the plateau."""
    ramp_s = n / ramp
    before = engine.stats()
    run = subprocess.Popen(
        [
            *_taskset(1),
            find_sipp() or "sipp",
            f"127.0.0.1:{port}",
            "-sf", str(SCENARIOS / "load_call.xml"),
            "-s", "1414",
            "-i", "127.0.0.1",
            "-p", str(free_port()),
            "-mi", "127.0.0.1",
            "-mp", str(40000 + (n % 1000) * 4),
            "-m", str(n), "-l", str(n),
            "-r", f"{ramp:g}",
            "-d", str(int((hold_s + ramp_s) * 1000)),
            "-timeout", f"{int(hold_s + 2 * ramp_s + 60)}s",
            "-nostdin",
            "-trace_stat", "-stf", str(workdir / f"cap{n}.csv"), "-fd", "1",
            "-rtp_threadtasks", "50",
        ],  # fmt: skip
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(ramp_s + 1.0)  # all calls up
    plateau_start = engine.stats()
    worker_cpu = busy_worker.cpu_seconds(worker_pid) if worker_pid else 0.0
    time.sleep(hold_s - 2.0)
    plateau_end = engine.stats()
    if worker_pid:
        worker_cpu = busy_worker.cpu_seconds(worker_pid) - worker_cpu
    run.wait()
    engine.wait_idle()
    after = engine.stats()
    ok, failed = _sipp_counts(workdir / f"cap{n}.csv")
    frames = _delta(plateau_end, plateau_start, "hub", "frames_sent")
    late = _delta(plateau_end, plateau_start, "hub", "late_frames")
    wall = _delta(plateau_end, plateau_start, "time")
    cpu = _delta(plateau_end, plateau_start, "cpu")
    return {
        "calls": n,
        "ok": ok,
        "failed": failed,
        "concurrent": float(plateau_end["calls"]),  # type: ignore[arg-type]
        "frames": frames,
        "late_share": late / frames if frames else 1.0,
        "tx_pps": frames / wall if wall else 0.0,
        "rx_pps": _delta(plateau_end, plateau_start, "received_rtp") / wall if wall else 0.0,
        "cpu": cpu / wall if wall else 0.0,
        "max_tick_lateness_ms": 1000 * float(after["clock"]["max_lateness"]),  # type: ignore[index]
        "total_failed_sip": _delta(after, before, "sip", "bad"),
        "worker_cpu": worker_cpu / wall if wall else 0.0,
    }


def _sipp_counts(csv: Path) -> tuple[int, int]:
    try:
        lines = csv.read_text().strip().splitlines()
    except OSError:
        return 0, -1
    head = lines[0].split(";")
    last = lines[-1].split(";")
    row = dict(zip(head, last, strict=False))
    return int(row.get("SuccessfulCall(C)", 0)), int(row.get("FailedCall(C)", 0))


def setup_rate(port: int, workdir: Path, rate: int, calls: int) -> dict[str, float]:
    start = time.monotonic()
    res = run_sipp(
        SCENARIOS / "short_call.xml",
        f"127.0.0.1:{port}",
        cwd=workdir,
        calls=calls,
        rate=rate,
        concurrent_limit=max(rate * 2, 50),
        timeout_s=calls / rate + 60,
        taskset_cpu=1,
    )
    wall = time.monotonic() - start
    return {"rate": rate, "calls": calls, "ok": res.successful, "failed": res.failed,
            "retransmissions": res.retransmissions, "wall_s": wall}


def echo_level(n: int, hold_s: float) -> dict[str, float]:
    """The anchor: a uvloop UDP echo of ``n`` streams (CPU 0) driven from CPU 1."""
    echo = subprocess.Popen(
        [*_taskset(0), sys.executable, str(ROOT / "bench" / "udp_echo.py"), "serve", str(n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert echo.stdin is not None and echo.stdout is not None
    try:
        ready = echo.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError(f"echo did not start: {ready!r}")

        def stats() -> dict[str, float]:
            assert echo.stdin is not None and echo.stdout is not None
            echo.stdin.write("stats\n")
            echo.stdin.flush()
            data: dict[str, float] = json.loads(echo.stdout.readline())
            return data

        drive = subprocess.Popen(
            [*_taskset(1), sys.executable, str(ROOT / "bench" / "udp_echo.py"), "drive",
             "127.0.0.1", ready[1], "--seconds", f"{hold_s + 2:g}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
        start = stats()
        time.sleep(max(1.0, hold_s - 2.0))
        end = stats()
        drive.wait(timeout=hold_s + 60)
    finally:
        if echo.stdin is not None:
            with contextlib.suppress(OSError):
                echo.stdin.write("quit\n")
                echo.stdin.flush()
        try:
            echo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            echo.kill()
    wall = end["time"] - start["time"]
    cpu = (end["cpu"] - start["cpu"]) / wall if wall else 0.0
    return {"cpu": cpu, "cpu_per_stream": cpu / n if n else 0.0,
            "pps": (end["packets"] - start["packets"]) / wall if wall else 0.0}


def spread(values: list[float]) -> tuple[float, float, float]:
    """(min, median, max)."""
    return min(values), statistics.median(values), max(values)


def level_passes(runs: list[dict[str, float]], n: int) -> bool:
    """Every run, not only the median: 0 failures, all up, < 0.1 % late frames."""
    return all(r["failed"] == 0 and r["ok"] == n and r["late_share"] < LATE_LIMIT
               for r in runs)


def _capacity_run(args: argparse.Namespace, n: int, run: int,
                  worker_pid: int | None) -> dict[str, float]:
    """One run of one level: a fresh engine, then the echo in the same minutes."""
    with tempfile.TemporaryDirectory(prefix="bailanys-cap-") as tmp:
        workdir = Path(tmp)
        prepare_load_audio(workdir, seconds=2.0, freq_or_text=440.0)
        port = free_port()
        engine = EngineProcess(workdir, port, tree=args.engine_tree)
        try:
            r = capacity_level(engine, port, workdir, n, args.hold, args.ramp, worker_pid)
        finally:
            engine.close()
    r["cpu_per_call"] = r["cpu"] / n
    if args.echo:
        e = echo_level(n, args.hold)
        r["echo_per_stream"] = e["cpu_per_stream"]
        r["echo_pps"] = e["pps"]
        r["ratio"] = r["cpu_per_call"] / e["cpu_per_stream"] if e["cpu_per_stream"] else 0.0
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", default="500,1000,1500", help="levels, comma-separated")
    ap.add_argument("--hold", type=float, default=20.0)
    ap.add_argument("--ramp", type=float, default=100.0, help="calls/s while ramping up")
    ap.add_argument("--setup-rates", default="100,200,300")
    ap.add_argument("--setup-calls", type=int, default=2000)
    ap.add_argument("--runs", "--repeat", dest="runs", type=int, default=3,
                    help="runs per level, each on a fresh engine")
    ap.add_argument("--no-echo", dest="echo", action="store_false",
                    help="skip the uvloop UDP echo anchor")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--engine-tree", type=Path, default=ROOT,
                    help="run the engine of another checkout (a before/after)")
    ap.add_argument("--busy-worker", action="store_true",
                    help="a transcription worker busy on CPU 1 meanwhile (issue 15)")
    args = ap.parse_args()
    if find_sipp() is None:
        print("engine_capacity: sipp is not installed (make deps installs sip-tester)")
        return 1
    results: dict[str, list[dict[str, float]]] = {"capacity": [], "setup": []}
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bailanys-bench-") as tmp:
        workdir = Path(tmp)
        worker = busy_worker.start(workdir) if args.busy_worker else None
        try:
            print(f"a fresh engine per run on CPU 0, SIPp on CPU 1; hold {args.hold:g} s, "
                  f"{args.runs} runs per level; load {os.getloadavg()[0]:.2f}")
            print(f"{'calls':>6} {'run':>3} {'ok':>6} {'fail':>5} {'up':>6} {'late %':>8} "
                  f"{'tx pps':>8} {'rx pps':>8} {'core':>5} {'cpu/call %':>10} "
                  f"{'echo/stream %':>13} {'ratio':>6}")
            for n in [int(x) for x in args.calls.split(",") if x]:
                runs = []
                for run in range(args.runs):
                    r = _capacity_run(args, n, run, worker.pid if worker else None)
                    runs.append(r)
                    echo = (f"{100 * r['echo_per_stream']:>13.4f} {r['ratio']:>5.2f}x"
                            if args.echo else f"{'-':>13} {'-':>6}")
                    print(f"{n:>6} {run:>3} {r['ok']:>6.0f} {r['failed']:>5.0f} "
                          f"{r['concurrent']:>6.0f} {100 * r['late_share']:>8.3f} "
                          f"{r['tx_pps']:>8.0f} {r['rx_pps']:>8.0f} {r['cpu']:>5.2f} "
                          f"{100 * r['cpu_per_call']:>10.4f} {echo}"
                          + (f"   wcpu {r['worker_cpu']:.2f}" if worker else ""), flush=True)
                ok = level_passes(runs, n)
                results["capacity"].append({"calls": float(n), "pass": float(ok),
                                            "runs": runs})  # type: ignore[dict-item]
                keys = [("late_share", "late %", 100.0), ("cpu", "core", 1.0),
                        ("cpu_per_call", "cpu/call %", 100.0)]
                if args.echo:
                    keys += [("echo_per_stream", "echo/stream %", 100.0), ("ratio", "ratio", 1.0)]
                parts = []
                for key, label, scale in keys:
                    lo, mid, hi = spread([scale * r[key] for r in runs])
                    parts.append(f"{label} {lo:.4g} / {mid:.4g} / {hi:.4g}")
                line = (f"{n:>6} calls, min / median / max of {len(runs)}: " + "; ".join(parts)
                        + f"; passes in every run: {'yes' if ok else 'no'}")
                summary.append(line)
                print(line, flush=True)
            rates = [int(x) for x in args.setup_rates.split(",") if x]
            if rates:
                print(f"\n{'rate/s':>7} {'calls':>6} {'ok':>6} {'fail':>5} "
                      f"{'retrans':>8} {'wall s':>7}")
            for rate in rates:
                with tempfile.TemporaryDirectory(prefix="bailanys-setup-") as stmp:
                    sdir = Path(stmp)
                    port = free_port()
                    engine = EngineProcess(sdir, port)
                    try:
                        r = setup_rate(port, sdir, rate, args.setup_calls)
                    finally:
                        engine.close()
                results["setup"].append(r)
                print(f"{rate:>7} {r['calls']:>6.0f} {r['ok']:>6.0f} {r['failed']:>5.0f} "
                      f"{r['retransmissions']:>8.0f} {r['wall_s']:>7.1f}", flush=True)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
                print(f"busy worker: {busy_worker.jobs_done(workdir / 'busy' / 'worker.toml')} "
                      "channel jobs done during the run")
    if summary:
        print("\n" + "\n".join(summary))
    best = max((r["calls"] for r in results["capacity"] if r["pass"]), default=0)
    best_rate = max((r["rate"] for r in results["setup"] if r["failed"] == 0 and
                     r["ok"] == r["calls"]), default=0)
    print(f"\nlargest N passing in every run: {best:.0f} calls on one core; "
          f"setup rate with 0 failures: {best_rate:.0f} calls/s")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
