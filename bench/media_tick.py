"""The media tick's cost, compiled core against pure, with a uvloop UDP echo as the anchor.

    python bench/media_tick.py [--calls 100,500,1000,1500] [--runs 3] [--seconds 5]

For each N and each run, three fresh processes, each pinned to CPU 0
(``taskset -c 0``), each with a peer process on CPU 1 that sends every
stream 50 RTP packets/s (a 440 Hz tone in PCMU, as SIPp's load audio) and
reads what comes back:

* ``compiled``: a :class:`~bailanys.media.hub.MediaHub` with N sessions on
  the compiled media core, every session playing a prompt;
* ``pure``: the same with ``BAILANYS_PURE_MEDIA=1``;
* ``echo``: N uvloop datagram endpoints, each echoing every packet back
  (Python per packet): the anchor of issue 20.

Printed per N and kind, min / median / max over the runs: the tick's length
(send, drain, pop, decode, in-band DTMF, housekeeping: ``MediaHub._tick``),
the process's CPU share of its core, its CPU per call (per stream for the
echo; CPU seconds per frame sent, or per packet echoed, times 50, so that a
starved process's skipped ticks do not flatter it), the share of frames
sent more than 10 ms late, and the ratio of the engine's CPU per call to the
echo's per stream measured in the same run.
The machine may be shared: the figures are as noisy as it is.  Figures
only, never a test.

``--parts`` measures instead, in one process per run with no peer process,
the tick's own CPU (``time.thread_time``, so a busy machine slows it down
but does not add other processes' time) split into send (``send_all`` and
the Python legs) and receive (``drain``, ``pop``, in-band DTMF), after the
test feeds every leg one 440 Hz PCMU packet per tick from a socket of its
own (outside the measured time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PTIME = 0.020
KINDS = ("compiled", "pure", "echo")


def _taskset(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 \
        else []


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


# ---------------------------------------------------------------- the peer (CPU 1)


def peer(ports_file: str, seconds: float) -> None:
    """Send 50 packets/s to every port in the file; read everything that comes back."""
    import numpy as np

    from bailanys.media import g711

    ports = json.loads(Path(ports_file).read_text())
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(160 * 50) / 8000)).astype(np.int16)
    frames = [bytes(g711.ulaw_encode(tone[i * 160:(i + 1) * 160])) for i in range(50)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    header = struct.Struct("!BBHII")
    start = time.monotonic()
    tick = 0
    while time.monotonic() - start < seconds:
        payload = frames[tick % 50]
        for i, port in enumerate(ports):
            try:
                sock.sendto(header.pack(0x80, 0, tick & 0xFFFF, tick * 160, 1000 + i) + payload,
                            ("127.0.0.1", port))
            except BlockingIOError:
                pass
        while True:
            try:
                sock.recv(2048)
            except BlockingIOError:
                break
        tick += 1
        delay = start + tick * PTIME - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def _start_peer(ports: list[int], seconds: float, tmp: Path) -> subprocess.Popen[bytes]:
    path = tmp / "ports.json"
    path.write_text(json.dumps(ports))
    return subprocess.Popen([*_taskset(1), sys.executable, __file__, "--peer", str(path),
                             "--seconds", str(seconds)], cwd=ROOT)


# ---------------------------------------------------------------- the measured process (CPU 0)


async def _hub_run(n: int, warm: float, seconds: float, tmp: Path) -> dict[str, float]:
    import numpy as np

    from bailanys.media.core import is_compiled
    from bailanys.media.hub import MediaHub
    from bailanys.media.player import EncodedAudio

    hub = MediaHub("127.0.0.1", (30000, 65000), inband_dtmf=True)
    await hub.start()
    prompt = EncodedAudio.from_pcm(
        (3000 * np.sin(2 * np.pi * 300 * np.arange(8000 * 120) / 8000)).astype(np.int16))
    sessions = [await hub.open_session() for _ in range(n)]
    for s in sessions:
        s.configure(remote=("127.0.0.1", 9), codec="PCMU", audio_pt=0, dtmf_pt=101)
        s.player.play(prompt)
    durations: list[float] = []
    tick = hub._tick

    def timed(index: int) -> None:
        t = time.perf_counter()
        tick(index)
        durations.append(time.perf_counter() - t)

    hub.clock._handler = timed
    proc = _start_peer([s.port for s in sessions], warm + seconds + 2, tmp)
    try:
        await asyncio.sleep(warm)
        durations.clear()
        frames0, late0 = hub.stats.frames_sent, hub.stats.late_frames
        cpu0, t0 = _cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall = _cpu() - cpu0, time.monotonic() - t0
        frames = hub.stats.frames_sent - frames0
        late = hub.stats.late_frames - late0
        received = sum(s.stats.received for s in sessions)
    finally:
        proc.kill()
        proc.wait()
        await hub.stop()
    return {"compiled": float(is_compiled(hub.core)), "cpu": cpu / wall,
            # CPU per call-second of media, from the frames really sent: a starved
            # process skips ticks, and its CPU per wall second would flatter it.
            "cpu_per_stream": cpu / frames * 50 if frames else 0.0,
            "tick_ms": 1000 * statistics.fmean(durations) if durations else 0.0,
            "tick_p99_ms": 1000 * sorted(durations)[int(0.99 * len(durations))]
            if durations else 0.0,
            "late": late / frames if frames else 1.0, "received": float(received)}


class _Echo(asyncio.DatagramProtocol):
    echoed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(data, addr)
        _Echo.echoed += 1


async def _echo_run(n: int, warm: float, seconds: float, tmp: Path) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    transports = []
    ports = []
    port = 30000
    while len(ports) < n:
        port += 2
        try:
            t, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", port))
        except OSError:
            continue
        transports.append(t)
        ports.append(port)
    proc = _start_peer(ports, warm + seconds + 2, tmp)
    try:
        await asyncio.sleep(warm)
        cpu0, t0, echoed0 = _cpu(), time.monotonic(), _Echo.echoed
        await asyncio.sleep(seconds)
        cpu, wall = _cpu() - cpu0, time.monotonic() - t0
        echoed = _Echo.echoed - echoed0
    finally:
        proc.kill()
        proc.wait()
        for t in transports:
            t.close()
    return {"cpu": cpu / wall, "cpu_per_stream": cpu / echoed * 50 if echoed else 0.0,
            "tick_ms": 0.0, "tick_p99_ms": 0.0, "late": 0.0}


async def _parts_run(n: int, ticks: int) -> dict[str, float]:
    import numpy as np

    from bailanys.media import g711
    from bailanys.media.core import is_compiled
    from bailanys.media.hub import MediaHub
    from bailanys.media.player import EncodedAudio

    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    hub = MediaHub("127.0.0.1", (30000, 65000), inband_dtmf=True)
    sessions = [await hub.open_session() for _ in range(n)]
    prompt = EncodedAudio.from_pcm(
        (3000 * np.sin(2 * np.pi * 300 * np.arange(8000 * 60) / 8000)).astype(np.int16))
    for s in sessions:
        s.configure(remote=peer.getsockname(), codec="PCMU", audio_pt=0, dtmf_pt=101)
        s.player.play(prompt)
    tone = bytes(g711.ulaw_encode(
        (8000 * np.sin(2 * np.pi * 440 * np.arange(160) / 8000)).astype(np.int16)))
    header = struct.Struct("!BBHII")
    dests = [("127.0.0.1", s.port) for s in sessions]

    def feed(t: int) -> None:
        for i, dest in enumerate(dests):
            peer.sendto(header.pack(0x80, 0, t & 0xFFFF, t * 160, 1000 + i) + tone, dest)
        while True:
            try:
                peer.recv(2048)
            except BlockingIOError:
                break

    hub.clock._start = time.monotonic()
    send = receive = total = 0.0
    for t in range(ticks + 10):
        feed(t)
        c0 = time.thread_time()
        hub._send(hub._list)
        c1 = time.thread_time()
        hub._receive({})
        c2 = time.thread_time()
        hub._housekeeping(t)
        c3 = time.thread_time()
        if t >= 10:
            send, receive, total = send + c1 - c0, receive + c2 - c1, total + c3 - c0
    compiled = is_compiled(hub.core)
    for s in sessions:
        hub.close_session(s)
    peer.close()
    return {"compiled": float(compiled), "send_ms": 1000 * send / ticks,
            "receive_ms": 1000 * receive / ticks, "tick_ms": 1000 * total / ticks,
            "us_per_call": 1e6 * total / ticks / n}


def child(kind: str, n: int, warm: float, seconds: float) -> None:
    import uvloop

    if warm < 0:  # --parts: seconds is the number of ticks
        result = uvloop.run(_parts_run(n, int(seconds)))
        print(json.dumps(result), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="bailanys-tick-") as tmp:
        run = _echo_run if kind == "echo" else _hub_run
        result = uvloop.run(run(n, warm, seconds, Path(tmp)))
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- the parent


def one(kind: str, n: int, warm: float, seconds: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env["BAILANYS_PURE_MEDIA"] = "1" if kind == "pure" else "0"
    out = subprocess.run(
        [*_taskset(0), sys.executable, __file__, "--child", kind, "--calls", str(n),
         "--warm", str(warm), "--seconds", str(seconds)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120 + 2 * n / 100,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} {n}: {out.stderr[-2000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if kind == "compiled" and not result["compiled"]:
        raise RuntimeError("the compiled core is not built: pip install -e . (needs gcc)")
    return result


def _mmm(values: list[float], fmt: str) -> str:
    return "/".join(format(v, fmt) for v in (min(values), statistics.median(values),
                                             max(values)))


def parts(args: argparse.Namespace, kinds: list[str]) -> int:
    print(f"media tick CPU (thread time), {args.runs} fresh processes of 200 ticks per N and "
          "kind; min/median/max")
    print(f"{'calls':>6} {'kind':>9} {'send ms':>17} {'receive ms':>17} {'tick ms':>17} "
          f"{'us/call/tick':>17}")
    for n in [int(x) for x in args.calls.split(",") if x]:
        for kind in kinds:
            rs = [one(kind, n, -1.0, 200.0) for _ in range(args.runs)]
            print(f"{n:>6} {kind:>9} {_mmm([r['send_ms'] for r in rs], '.2f'):>17} "
                  f"{_mmm([r['receive_ms'] for r in rs], '.2f'):>17} "
                  f"{_mmm([r['tick_ms'] for r in rs], '.2f'):>17} "
                  f"{_mmm([r['us_per_call'] for r in rs], '.2f'):>17}", flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", default="100,500,1000,1500")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warm", type=float, default=2.0)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--parts", action="store_true",
                    help="the tick's own CPU, send and receive apart (no peer process)")
    ap.add_argument("--child", choices=KINDS)
    ap.add_argument("--peer")
    args = ap.parse_args()
    if args.peer:
        peer(args.peer, args.seconds)
        return 0
    if args.child:
        child(args.child, int(args.calls), args.warm, args.seconds)
        return 0
    kinds = [k for k in args.kinds.split(",") if k]
    if args.parts:
        return parts(args, [k for k in kinds if k != "echo"])
    print(f"media tick: {args.runs} runs of {args.seconds:g} s per N and kind, fresh processes "
          "on CPU 0, peers on CPU 1; min/median/max")
    print(f"{'calls':>6} {'kind':>9} {'tick ms':>17} {'tick p99 ms':>17} {'core':>17} "
          f"{'cpu/call %':>20} {'late %':>20} {'x echo':>17}")
    table = []
    for n in [int(x) for x in args.calls.split(",") if x]:
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
        for _ in range(args.runs):
            for kind in kinds:  # interleaved: the echo is measured in the same minutes
                runs[kind].append(one(kind, n, args.warm, args.seconds))
        echo = runs.get("echo")
        for kind in kinds:
            rs = runs[kind]
            # CPU per call (per stream for the echo), % of a core: from the
            # frames sent (packets echoed), so that skipped ticks do not flatter it.
            per_call = [100 * r["cpu_per_stream"] for r in rs]
            ratio = ([r["cpu_per_stream"] / e["cpu_per_stream"]
                      for r, e in zip(rs, echo, strict=True) if e["cpu_per_stream"]]
                     if echo and kind != "echo" else [])
            row = {"calls": n, "kind": kind, "runs": rs, "ratio": ratio}
            table.append(row)
            print(f"{n:>6} {kind:>9} {_mmm([r['tick_ms'] for r in rs], '.2f'):>17} "
                  f"{_mmm([r['tick_p99_ms'] for r in rs], '.2f'):>17} "
                  f"{_mmm([r['cpu'] for r in rs], '.2f'):>17} {_mmm(per_call, '.4f'):>20} "
                  f"{_mmm([100 * r['late'] for r in rs], '.3f'):>20} "
                  f"{_mmm(ratio, '.2f') if ratio else '':>17}", flush=True)
    if args.json:
        print(json.dumps(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
