"""A real SQLite store at the current schema, with jobs, for the analytics tests."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import struct
import wave
from collections.abc import Sequence
from pathlib import Path

from bailanys.analytics import jobs
from bailanys.analytics.model import Channel
from bailanys.store import Store

BOTH = (Channel.CALLER, Channel.AGENT)


def new_store(path: Path) -> str:
    """Create and migrate the store at ``path`` (the engine's own migrations)."""

    async def open_close() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(open_close())
    return str(path)


def add_jobs(path: str, recording: str, *, call_id: str = "c1",
             channels: Sequence[Channel] = BOTH, language: str | None = "kk",
             now: float = 1000.0) -> None:
    with contextlib.closing(jobs.connect(path)) as conn, jobs.transaction(conn):
        for sql, params in jobs.job_rows(call_id, recording, channels, language, now):
            conn.execute(sql, params)


def rows(path: str, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return list(conn.execute(sql, params).fetchall())


def write_wav(path: Path, seconds: float = 1.0) -> Path:
    """A stereo 8 kHz recording as the engine writes them (a tone left, silence right)."""
    n = int(8000 * seconds)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"".join(struct.pack("<hh", (i % 40) * 200 - 4000, 0) for i in range(n)))
    return path
