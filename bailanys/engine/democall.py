"""``bailanys demo-call``: SIPp dials the running engine and presses keys.

It runs SIPp's ``demo_dtmf.xml`` scenario (tests/peers/scenarios): INVITE to
the line test (the first of ``engine.numbers``: 1499, answered by the flow
``ivr_flows/linetest.yaml``), listen to the
greeting, press 2 (Russian), press 1 2 3 #, hear the keys read back, and
the engine hangs up.  Then it prints the call's stored events, as
``bailanys events --call ID`` would.

Start the engine first (``make run``), then ``make demo-call``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bailanys.config import load_config
from bailanys.errors import ConfigError
from bailanys.store import Store

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "peers" / "scenarios" / "demo_dtmf.xml"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo-call",
        help="have SIPp call the running engine's line test (1499) and press 2, 1, 2, 3, #",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="PATH", default=None,
                        help="the engine's TOML configuration (default: configs/default.toml)")
    parser.add_argument("--number", default=None, help="number to dial (default: the first "
                        "of engine.numbers)")
    parser.set_defaults(func=run)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"bailanys: {exc}", file=sys.stderr)
        return 2
    sipp = shutil.which("sipp")
    if sipp is None:
        print("bailanys: sipp is not installed (make deps installs Debian's sip-tester)",
              file=sys.stderr)
        return 1
    number = args.number or config.engine.numbers[0]
    target = f"{config.sip.host}:{config.sip.port}"
    with tempfile.TemporaryDirectory(prefix="bailanys-demo-") as tmp:
        stats = Path(tmp) / "stats.csv"
        cmd = [
            sipp, target, "-sf", str(SCENARIO), "-s", number, "-m", "1",
            "-i", "127.0.0.1", "-p", str(_free_port()),
            "-mi", "127.0.0.1", "-mp", str(_free_port() & ~1),
            "-nostdin", "-timeout", "60s", "-trace_stat", "-stf", str(stats),
        ]  # fmt: skip
        print(f"calling {number} at {target} with SIPp (pressing 2, then 1 2 3 #) ...")
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"bailanys: the demo call failed (SIPp exit {done.returncode}); is the engine "
              f"running on {target}? (make run)", file=sys.stderr)
        return 1
    print("the call completed; its events:")
    if not Path(config.store.path).exists():
        print(f"bailanys: no event store at {config.store.path}", file=sys.stderr)
        return 1
    return asyncio.run(_print_last_call(config.store.path))


async def _print_last_call(path: str) -> int:
    store = await Store.open(path, readonly=True)
    try:
        offered = await store.events.query(type="call.offered")
        if not offered:
            print("bailanys: no call found in the store", file=sys.stderr)
            return 1
        call_id = offered[-1].call_id
        for event in await store.events.query(call_id=call_id):
            fields = " ".join(f"{k}={v}" for k, v in event.data.items())
            print(f"  {event.type:<14} {fields}")
    finally:
        await store.close()
    return 0
