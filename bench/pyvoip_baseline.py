"""Baseline: a minimal pyVoIP answering app under SIPp load.

What it compares the engine against: pyVoIP 1.6.8 answering every call,
playing a tone (50 packets/s) and reading what it receives, with SIPp's
``load_call_sink.xml`` calling it.

Wiring (pyVoIP is a softphone that must REGISTER and sends every reply to
its registrar, see tests/peers/softphone.py):

1. A registrar stub (UDP socket in this script) answers pyVoIP's REGISTER
   with 200 OK (no challenge) and nothing else.
2. Once registered, the agent is ``retarget``-ed at SIPp's SIP address
   (``phone.server``/``port`` and ``sip.server``/``port``; re-registration
   cancelled), so its 180/200 reach SIPp directly. SIPp sends INVITE, ACK
   and BYE straight to pyVoIP. No relay, no proxy in the path.
3. SIPp's INVITE SDP names an ``RtpSink`` (one UDP socket, tests/peers/sipp.py)
   as the media address: pyVoIP's RTP lands there and is timestamped per
   (source, SSRC). SIPp streams µ-law to pyVoIP from its own port.

Late frames: per stream, a packet is late when it arrives more than
``--late-ms`` (default 20 ms, one packet time) after its due time, the due
time being the RTP timestamp on the clock anchored at the best-placed
packet (``tests.peers.sipp.late_share``). pyVoIP's ``sleep(20 ms - work)``
send clock runs slow, so lateness accumulates over a call.

CPU pinning: the app on CPU 0 (``os.sched_setaffinity``), SIPp on CPU 1
(``taskset -c 1``) when there are two CPUs.

Usage: ``.venv/bin/python bench/pyvoip_baseline.py --calls 10 --duration 10``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.peers.sipp import (  # noqa: E402
    SCENARIOS,
    RtpSink,
    find_sipp,
    free_port,
    prepare_load_audio,
    run_sipp,
)
from tests.peers.softphone import PyVoipAgent, RegistrarStub  # noqa: E402


def pin_self(cpu: int) -> bool:
    """Pin this process to ``cpu`` when the machine has it."""
    if not hasattr(os, "sched_setaffinity") or cpu >= (os.cpu_count() or 1):
        return False
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {cpu})
        return True
    return False


def run(calls: int, duration_s: float, rate: float, late_ms: float, workdir: Path) -> dict:
    if find_sipp() is None:
        raise SystemExit("sipp is not installed")
    pinned = pin_self(0)
    sipp_cpu = 1 if (os.cpu_count() or 1) > 1 else None
    stub = RegistrarStub().start()
    sipp_port = free_port()
    agent_port = free_port()
    rtp_low = 30000
    agent = PyVoipAgent(
        stub.host, stub.port, "baseline", "x", agent_port, rtp_low, rtp_low + 4 * calls + 200
    )
    agent.start()
    if not agent.registered:
        raise SystemExit("pyVoIP did not register to the stub")
    agent.retarget("127.0.0.1", sipp_port)
    time.sleep(1.2)  # pyVoIP's SIP receive loop starts 1 s after start()
    prepare_load_audio(workdir, 2.0, 300.0)
    t0 = time.monotonic()
    with RtpSink() as sink:
        res = run_sipp(
            SCENARIOS / "load_call_sink.xml",
            f"127.0.0.1:{agent_port}",
            cwd=workdir,
            calls=calls,
            rate=rate,
            duration_ms=int(duration_s * 1000),
            local_port=sipp_port,
            timeout_s=duration_s + calls / rate + 60,
            extra_args=("-key", "rtp_sink_ip", sink.host, "-key", "rtp_sink_port", str(sink.port)),
            taskset_cpu=sipp_cpu,
        )
        time.sleep(0.5)
        rtp = sink.report(late_ms=late_ms)
        rtp_60 = sink.report(late_ms=60.0)
    wall = time.monotonic() - t0
    agent.stop(deregister=False)
    stub.stop()
    return {
        "calls_attempted": res.created or calls,
        "calls_succeeded": res.successful,
        "calls_failed": res.failed,
        "sipp_rc": res.returncode,
        "retransmissions": res.retransmissions,
        "answered_by_pyvoip": agent.answered_calls,
        "frames_with_audio_read_by_pyvoip": agent.received_frames,
        "rtp_streams": rtp["streams"],
        "rtp_packets": rtp["packets"],
        "rtp_lost": rtp["lost"],
        "late_frames": rtp["late"],
        "late_share": round(rtp["late_share"], 4),
        "late_ms_threshold": late_ms,
        "late_share_60ms": round(rtp_60["late_share"], 4),
        "max_late_ms": round(rtp["max_late_ms"], 1),
        "mean_pps_per_stream": round(rtp["mean_pps"], 2),
        "wall_s": round(wall, 1),
        "app_pinned_cpu0": pinned,
        "sipp_cpu": sipp_cpu,
        "errors_tail": res.errors[-500:],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=5, help="calls SIPp places (all concurrent)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of media per call")
    ap.add_argument("--rate", type=float, default=10.0, help="new calls per second")
    ap.add_argument("--late-ms", type=float, default=20.0, help="lateness threshold, ms")
    ap.add_argument("--workdir", type=Path, default=None, help="keep SIPp traces here")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        out = run(args.calls, args.duration, args.rate, args.late_ms, workdir)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            if k != "errors_tail" or v:
                print(f"{k:34} {v}")
    return 0 if out["calls_failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
