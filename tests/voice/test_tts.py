"""Prompt rendering and caches (bailanys.voice.tts).

Tests marked ``peer`` run the real espeak-ng through pyttsx3 in the worker
process; each takes about a second (mostly spawning the worker).
"""

from __future__ import annotations

import asyncio
import shutil
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bailanys.errors import VoiceError
from bailanys.voice.audio import rms_dbfs, tone, write_wav
from bailanys.voice.phrases import DEMO_PROMPTS, digits_readback
from bailanys.voice.tts import PromptRenderer, PromptStore, load_prompt

KK = "Бірыңғай байланыс орталығына қош келдіңіз."
RU = "Добро пожаловать в единый контакт-центр."

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


@pytest.fixture
async def renderer(tmp_path: Path) -> AsyncIterator[PromptRenderer]:
    r = PromptRenderer(tmp_path / "cache")
    try:
        yield r
    finally:
        await r.close()


# ---------------------------------------------------------------- pure parts


def test_key_depends_on_language_voice_rate_and_text(tmp_path: Path) -> None:
    a = PromptRenderer(tmp_path)
    assert a.key("ru", RU) == a.key("ru", RU)
    assert len(a.key("ru", RU)) == 64 and int(a.key("ru", RU), 16) >= 0
    keys = {
        a.key("ru", RU),
        a.key("kk", RU),
        a.key("ru", RU + " "),
        PromptRenderer(tmp_path, rate=151).key("ru", RU),
        PromptRenderer(tmp_path, voices={"ru": "zle/ru"}).key("ru", RU),
    }
    assert len(keys) == 5
    assert a.path_for("ru", RU) == tmp_path / f"{a.key('ru', RU)}.wav"


async def test_unknown_language_is_voice_error_without_worker(tmp_path: Path) -> None:
    r = PromptRenderer(tmp_path)
    with pytest.raises(VoiceError, match="no voice for language 'en'"):
        await r.render("en", "hello")
    with pytest.raises(VoiceError, match="'en'"):
        await r.render_all([("ru", RU), ("en", "hello")])
    with pytest.raises(VoiceError, match="empty prompt"):
        await r.render("ru", "  ")
    assert r.jobs == 0 and r.worker_starts == 0
    await r.close()
    with pytest.raises(VoiceError, match="closed"):
        await r.render("ru", RU)


async def test_cache_hit_does_not_start_the_worker(tmp_path: Path) -> None:
    r = PromptRenderer(tmp_path)
    write_wav(r.path_for("ru", RU), tone(440, 100))
    assert await r.render("ru", RU) == r.path_for("ru", RU)
    assert await r.render_all([("ru", RU)] * 3) == [r.path_for("ru", RU)] * 3
    assert r.jobs == 0 and r.worker_starts == 0
    await r.close()


def test_prompt_store_caches_and_evicts(tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        p = tmp_path / f"{i}.wav"
        write_wav(p, tone(300 + 100 * i, 50))
        paths.append(p)
    store = PromptStore(max_items=2)
    a = store.get(paths[0])
    assert store.get(paths[0]) is a  # same array, not reloaded
    assert not a.flags.writeable
    store.get(paths[1])
    store.get(paths[0])  # 0 is now most recent
    store.get(paths[2])  # evicts 1
    assert paths[0] in store and paths[2] in store and paths[1] not in store
    assert len(store) == 2
    with pytest.raises(ValueError):
        PromptStore(max_items=0)


async def test_prompt_store_fetch(tmp_path: Path) -> None:
    p = tmp_path / "a.wav"
    write_wav(p, tone(500, 40))
    store = PromptStore()
    a = await store.fetch(p)
    assert await store.fetch(p) is a and store.get(p) is a
    assert a.size == 320


# ---------------------------------------------------------- real espeak-ng


def _check_prompt(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    pcm = load_prompt(path)
    assert pcm.dtype == np.int16
    assert rms_dbfs(pcm) > -35, "prompt is (nearly) silent"
    return pcm


@pytest.mark.parametrize(("lang", "text"), [("kk", KK), ("ru", RU)])
@pytest.mark.peer
@needs_espeak
async def test_renders_8k_mono_speech(renderer: PromptRenderer, lang: str, text: str) -> None:
    path = await renderer.render(lang, text)
    assert path == renderer.path_for(lang, text) and path.exists()
    pcm = _check_prompt(path)
    # ~40 characters at 150 wpm: a couple of seconds, not a click, not a minute.
    assert 1.0 < pcm.size / 8000 < 8.0
    assert renderer.jobs == 1
    # Only the cache file is left in the cache dir.
    assert [p.name for p in renderer.cache_dir.iterdir()] == [path.name]

    # A hit neither renders nor rewrites.
    mtime = path.stat().st_mtime_ns
    assert await renderer.render(lang, text) == path
    assert renderer.jobs == 1 and path.stat().st_mtime_ns == mtime


@pytest.mark.peer
@needs_espeak
async def test_second_renderer_reuses_the_cache(tmp_path: Path) -> None:
    async with PromptRenderer(tmp_path) as first:
        path = await first.render("ru", RU)
    async with PromptRenderer(tmp_path) as second:
        assert await second.render("ru", RU) == path
        assert second.jobs == 0 and second.worker_starts == 0


@pytest.mark.peer
@needs_espeak
async def test_concurrent_identical_requests_render_once(renderer: PromptRenderer) -> None:
    paths = await asyncio.gather(*(renderer.render("kk", KK) for _ in range(8)))
    assert len(set(paths)) == 1
    assert renderer.jobs == 1 and renderer.worker_starts == 1


@pytest.mark.peer
@needs_espeak
async def test_render_all_demo_prompts(renderer: PromptRenderer) -> None:
    items = [(lang, text) for by_lang in DEMO_PROMPTS.values() for lang, text in by_lang.items()]
    items += [(lang, digits_readback(lang, "12*#")) for lang in ("kk", "ru")]
    items += items[:3]  # duplicates are rendered once
    paths = await renderer.render_all(items)
    assert len(paths) == len(items)
    assert renderer.jobs == len(set(items))
    for path in set(paths):
        _check_prompt(path)


@pytest.mark.peer
@needs_espeak
async def test_event_loop_not_blocked(renderer: PromptRenderer) -> None:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    try:
        # Includes spawning the worker and initialising espeak.
        await renderer.render("kk", KK)
        await renderer.render("ru", RU)
    finally:
        done.set()
        await tick
    assert len(gaps) > 10
    assert max(gaps) < 0.1, f"event loop stalled {max(gaps) * 1000:.0f} ms"


@pytest.mark.peer
@needs_espeak
async def test_missing_espeak_voice_is_voice_error(tmp_path: Path) -> None:
    async with PromptRenderer(tmp_path, voices={"kk": "no-such-voice", "ru": "ru"}) as r:
        with pytest.raises(VoiceError, match="no voice 'no-such-voice'"):
            await r.render("kk", KK)
        assert not r.path_for("kk", KK).exists()
        # The worker survives a bad job.
        _check_prompt(await r.render("ru", RU))
        assert r.worker_starts == 1


@pytest.mark.peer
@needs_espeak
async def test_worker_crash_restarts_for_next_job(renderer: PromptRenderer) -> None:
    await renderer.render("ru", RU)
    proc = renderer._worker._proc
    assert proc is not None
    proc.kill()
    proc.join()
    _check_prompt(await renderer.render("kk", KK))
    assert renderer.worker_starts == 2


@pytest.mark.peer
@needs_espeak
async def test_job_timeout_kills_worker_and_next_job_restarts(renderer: PromptRenderer) -> None:
    renderer.job_timeout = 1e-6
    with pytest.raises(VoiceError, match="timed out"):
        await renderer.render("ru", RU)
    assert not renderer.path_for("ru", RU).exists()
    renderer.job_timeout = 30.0
    _check_prompt(await renderer.render("ru", RU))
    assert renderer.worker_starts == 2
    assert [p.name for p in renderer.cache_dir.iterdir()] == [renderer.path_for("ru", RU).name]


@pytest.mark.peer
@needs_espeak
async def test_close_cancels_a_render_in_flight(tmp_path: Path) -> None:
    r = PromptRenderer(tmp_path)
    task = asyncio.create_task(r.render("ru", RU))
    await asyncio.sleep(0.05)  # worker is starting
    await r.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert r._worker._proc is None
