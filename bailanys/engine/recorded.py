"""Recorded prompts into the prompt library, at start-up and after every import.

:class:`RecordedPrompts` reads ``[voice] recorded_dir``'s manifest
(:class:`~bailanys.prompts.store.RecordedStore`), decodes each recording
in a thread and hands the library a (language, text) -> audio map
(:meth:`~bailanys.engine.prompts.PromptLibrary.set_recorded`). It then
checks the manifest every ``interval_s`` (its modification time and size)
and loads it again when an import (``bailanys prompts import`` or the
console's page) changed it: no restart. A recording that cannot be read
is logged and left out (its prompt is synthesised).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from bailanys.errors import VoiceError
from bailanys.prompts.store import RecordedStore
from bailanys.voice.audio import load_prompt

log = logging.getLogger(__name__)

#: How often the manifest is checked (s): an import plays on the next call
#: a couple of seconds later.
CHECK_INTERVAL_S = 1.0


class RecordingSink(Protocol):
    """Where the recordings go: the engine's prompt library."""

    def set_recorded(self, recordings: Mapping[tuple[str, str], np.ndarray]) -> None: ...


def load_recordings(store: RecordedStore) -> dict[tuple[str, str], np.ndarray]:
    """(language, text) -> 8 kHz PCM of every readable recording (blocking)."""
    out: dict[tuple[str, str], np.ndarray] = {}
    for key, langs in store.entries().items():
        for lang, entry in langs.items():
            path = store.wav(entry)
            try:
                out[(lang, str(entry.get("text", "")))] = load_prompt(path)
            except VoiceError as exc:
                log.error("recorded prompt %s [%s] left out: %s", key, lang, exc)
    return out


class RecordedPrompts:
    """Loads the recordings into ``sink`` and reloads them when the manifest changes."""

    def __init__(self, directory: Path, sink: RecordingSink,
                 interval_s: float = CHECK_INTERVAL_S) -> None:
        self.store = RecordedStore(directory)
        self.sink = sink
        self.interval_s = interval_s
        self.loaded = 0  # recordings in the library
        self._version: tuple[int, int] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.get_running_loop().create_task(self._watch(),
                                                            name="recorded-prompts")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def reload(self) -> None:
        """Read the manifest and every recording again; hand them to the library."""
        self._version = await asyncio.to_thread(self.store.version)
        recordings = await asyncio.to_thread(load_recordings, self.store)
        self.sink.set_recorded(recordings)
        if recordings or self.loaded:
            log.info("%d recorded prompts from %s", len(recordings), self.store.dir)
        self.loaded = len(recordings)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                if await asyncio.to_thread(self.store.version) != self._version:
                    await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reloading recorded prompts failed; the loaded ones keep playing")
