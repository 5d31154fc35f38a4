"""``bailanys serve``: run the engine until cancelled (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import asyncio
import logging

from bailanys.config import Config
from bailanys.engine.core import Engine

log = logging.getLogger(__name__)


async def serve(config: Config, *, ready: asyncio.Event | None = None) -> None:
    """Start the engine, signal ``ready``, and run until this task is cancelled."""
    engine = Engine(config)
    await engine.start()  # a failed start has already stopped what it started
    try:
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()  # until cancelled
    finally:
        await engine.stop()
        log.info("engine stopped")
