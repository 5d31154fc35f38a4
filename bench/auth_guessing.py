"""REGISTER password guessing against a running engine: achieved vs configured rate.

The engine runs in this process with the ``[auth]`` limits of
``configs/default.toml`` (or ``--config``); a thread sends wrong digests for
one account round-robin from ``--sources`` loopback addresses (127.0.0.x)
at ``--rate`` per second for ``--seconds``.  Printed: guesses sent, checked
(403) and refused unchecked (503), the checked rate achieved, and the most
the configuration allows in that time (the account's allowance plus what
drains meanwhile; from a single source the source allowance applies).

Run: ``.venv/bin/python bench/auth_guessing.py [--rate 800] [--seconds 10] [--sources 10]``.
Used by bench/hostile.py-style reports; it prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.config import load_config  # noqa: E402
from bailanys.engine.core import Engine  # noqa: E402
from tests.peers.register_flood import FloodResult, flood  # noqa: E402


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(config_path: str | None, rate: float, seconds: float, sources: int,
              user: str) -> tuple[FloodResult, float, float]:
    base = load_config(config_path, env={})
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "none"
        empty.mkdir()
        config = dataclasses.replace(
            base,
            sip=dataclasses.replace(base.sip, listen=f"127.0.0.1:{_free_port()}",
                                    transports=("udp",)),
            store=dataclasses.replace(base.store, path=str(Path(tmp) / "bench.db")),
            ivr=dataclasses.replace(base.ivr, flow_dir=str(empty), reload_seconds=0),
            queue=dataclasses.replace(base.queue, file=str(empty / "queues.toml")),
            console=dataclasses.replace(base.console, listen=""),
            robot=dataclasses.replace(base.robot, demo_db=str(Path(tmp) / "robot.db"),
                                      faq=""),
            analytics=dataclasses.replace(base.analytics, enabled=False),  # no workers
        )
        engine = Engine(config)
        await engine.start()
        try:
            addresses = [f"127.0.0.{i}" for i in range(2, 2 + sources)]
            result = await asyncio.to_thread(
                flood, ("127.0.0.1", engine.transport.port), user, addresses,
                per_second=rate, seconds=seconds)
        finally:
            await engine.stop()
    # each key's bound is failures * (1 + T / window_s); the account caps all sources
    auth = config.auth
    allowance = min(auth.account_failures, sources * auth.source_failures)
    return result, allowance * (1 + result.seconds / auth.window_s), allowance / auth.window_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--rate", type=float, default=800.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sources", type=int, default=10)
    parser.add_argument("--user", default="1001")
    args = parser.parse_args()
    result, allowed, sustained = asyncio.run(run(args.config, args.rate, args.seconds, args.sources,
                                      args.user))
    answered = sum(result.statuses.values())
    other = {k: v for k, v in result.statuses.items() if k not in (403, 503)}
    verdict = "within" if result.checked <= allowed else "OVER"
    print(f"REGISTER guessing for {args.user}: {result.sent} sent in {result.seconds:.1f} s "
          f"from {args.sources} addresses ({result.sent / result.seconds:.0f}/s), "
          f"{answered} answered: {result.checked} checked (403), {result.refused} refused "
          f"unchecked (503), other {other}")
    print(f"guesses checked: {result.guesses_per_second:.3f}/s achieved; configured at most "
          f"{allowed:.1f} in {result.seconds:.1f} s "
          f"({allowed / result.seconds:.3f}/s): {verdict}; sustained limit {sustained:.4f}/s "
          f"(bans make it lower)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
