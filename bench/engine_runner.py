"""Run one engine process for a benchmark, controlled over stdin/stdout.

    python bench/engine_runner.py CONFIG.toml

Prints ``ready`` once the engine listens, then answers each line on stdin:
``stats`` prints one JSON object (media hub, media clock, calls, CPU time),
``quit`` stops the engine.  The benchmark pins this process to one core.
With ``BENCH_LOOPWATCH=1`` in the environment (``bench/sip_setup.py``
sets it), ``stats`` also carries the loop's worst lag per second and the
collector's passes (``bench/loopwatch.py``); off by default, as its wake-ups
would count in the media capacity bench's CPU.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import resource
import sys
import time

from bailanys.config import load_config
from bailanys.engine.core import Engine
from bench.loopwatch import LoopWatch


def _stats(engine: Engine, watch: LoopWatch | None) -> dict[str, object]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        **(watch.report() if watch is not None else {}),
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
    watch = LoopWatch() if os.environ.get("BENCH_LOOPWATCH") == "1" else None
    if watch is not None:
        watch.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("ready", flush=True)
    try:
        while True:
            line = (await reader.readline()).decode().strip()
            if line == "stats":
                print(json.dumps(_stats(engine, watch)), flush=True)
            elif line in ("quit", ""):
                break
    finally:
        if watch is not None:
            watch.stop()
        await engine.stop()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(sys.argv[1]))
