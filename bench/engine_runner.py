"""Run one engine process for a benchmark, controlled over stdin/stdout.

    python bench/engine_runner.py CONFIG.toml

Prints ``ready`` once the engine listens, then answers each line on stdin:
``stats`` prints one JSON object (media hub, media clock, calls, CPU time),
``quit`` stops the engine.  The benchmark pins this process to one core.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import resource
import sys
import time

from bailanys.config import load_config
from bailanys.engine.core import Engine


def _stats(engine: Engine) -> dict[str, object]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "time": time.monotonic(),
        "cpu": usage.ru_utime + usage.ru_stime,
        "calls": len(engine.calls),
        "hub": dataclasses.asdict(engine.hub.stats),
        "clock": dataclasses.asdict(engine.hub.clock.stats),
        "sip": dict(engine.endpoint.stats),
        "received_rtp": sum(s.stats.received for s in engine.hub.sessions),
    }


async def main(path: str) -> None:
    engine = Engine(load_config(path))
    await engine.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("ready", flush=True)
    try:
        while True:
            line = (await reader.readline()).decode().strip()
            if line == "stats":
                print(json.dumps(_stats(engine)), flush=True)
            elif line in ("quit", ""):
                break
    finally:
        await engine.stop()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(sys.argv[1]))
