"""Recordings win over synthesis in the prompt library, and reload when the manifest changes.

A real :class:`PromptLibrary` whose "renderer" is never asked (every text
looked up is recorded, or rendered here as a tone), a real
:class:`RecordedStore` on disk and the engine's :class:`RecordedPrompts`
watcher checking every 50 ms: an import while it runs is played without a
restart; the digit read-back is assembled from recorded keypad words.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import numpy as np

from bailanys.engine.prompts import WORD_GAP_MS, PromptLibrary
from bailanys.engine.recorded import RecordedPrompts
from bailanys.media.player import EncodedAudio
from bailanys.prompts.store import RecordedStore
from bailanys.voice import phrases
from bailanys.voice.audio import silence, tone

TEXT = "Добро пожаловать в единый контакт-центр."


def _library() -> PromptLibrary:
    lib = PromptLibrary(cast(Any, None), ("ru",))
    synthesised = tone(300, 200)  # stands for espeak's rendering of TEXT
    lib._audio[("ru", TEXT)] = EncodedAudio.from_pcm(synthesised)  # noqa: SLF001
    return lib


def _entry(text: str) -> dict[str, object]:
    return {"text": text, "source": "take.wav", "sha256": "0" * 64}


async def test_an_import_replaces_the_synthesis_without_a_restart(tmp_path: Path) -> None:
    lib = _library()
    store = RecordedStore(tmp_path / "rec")
    watcher = RecordedPrompts(tmp_path / "rec", lib, interval_s=0.05)
    await watcher.start()
    try:
        assert lib.recorded() == frozenset() and watcher.loaded == 0
        before = lib.text("ru", TEXT).pcm
        voice = tone(1000, 400)
        await asyncio.to_thread(store.put, "hotline-1414.greeting", "ru", voice, _entry(TEXT))
        for _ in range(100):
            if lib.recorded():
                break
            await asyncio.sleep(0.02)
        assert lib.recorded() == {("ru", TEXT)} and watcher.loaded == 1
        after = lib.text("ru", TEXT).pcm
        assert np.array_equal(after[: voice.size], voice) and not np.array_equal(
            after[: before.size], before)
        # a second import of the same key replaces the first
        again = tone(700, 300)
        await asyncio.to_thread(store.put, "hotline-1414.greeting", "ru", again, _entry(TEXT))
        for _ in range(100):
            if np.array_equal(lib.text("ru", TEXT).pcm[: again.size], again):
                break
            await asyncio.sleep(0.02)
        assert np.array_equal(lib.text("ru", TEXT).pcm[: again.size], again)
    finally:
        await watcher.stop()


def test_the_read_back_uses_recorded_keypad_words() -> None:
    lib = PromptLibrary(cast(Any, None), ("ru",))
    intro, one, two = tone(500, 100), tone(600, 100), tone(700, 100)
    lib.set_recorded({("ru", phrases.readback_intro("ru")): intro,
                      ("ru", phrases.digit_word("ru", "1")): one,
                      ("ru", phrases.digit_word("ru", "2")): two})
    heard = lib.readback("ru", "12").pcm
    gap = silence(WORD_GAP_MS)
    expected = np.concatenate([intro, gap, one, gap, two])
    assert np.array_equal(heard[: expected.size], expected)


def test_an_unreadable_recording_is_left_out(tmp_path: Path) -> None:
    lib = _library()
    store = RecordedStore(tmp_path / "rec")
    store.put("hotline-1414.greeting", "ru", tone(1000, 100), _entry(TEXT))
    store.put("queue.free_call", "ru", tone(900, 100), _entry("Звонок бесплатный."))
    (tmp_path / "rec" / "queue.free_call.ru.wav").write_bytes(b"broken")
    asyncio.run(RecordedPrompts(tmp_path / "rec", lib).reload())
    assert lib.recorded() == {("ru", TEXT)}
