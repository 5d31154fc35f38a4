"""Grammar sessions and the ASR service (bailanys.voice.asr) with a fake model.

The fake recognizer records the audio it gets, on which thread, and how many
calls overlap; an utterance "ends" at the first all-zero piece after speech.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bailanys.errors import VoiceError
from bailanys.voice.asr import (
    PIECE_MS,
    AsrConfig,
    AsrService,
    GrammarSession,
    SpeechResult,
)
from bailanys.voice.audio import to_int16
from bailanys.voice.grammar import UNK
from bailanys.voice.resample import upsample

PHRASES = ["оператор", "баланс"]
PIECE = 16 * PIECE_MS  # 16 kHz samples per AcceptWaveform call


def result_json(text: str, conf: float = 1.0) -> str:
    words = [{"conf": conf, "end": 1.0, "start": 0.5, "word": w} for w in text.split()]
    return json.dumps({"result": words, "text": text}, ensure_ascii=False)


class FakeModel:
    """A SpeechModel whose recognizers follow a script."""

    def __init__(self, script: Sequence[str] = (), final: str = '{"text": ""}') -> None:
        self.script = list(script)
        self.final = final
        self.delay = 0.0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.calls = 0
        self.threads: set[int] = set()
        self.recognizers: list[FakeRecognizer] = []
        self.grammars: list[tuple[str, ...]] = []

    def knows(self, word: str) -> bool:
        return word in {"оператор", "баланс", "да", UNK}

    def recognizer(self, phrases: Sequence[str]) -> FakeRecognizer:
        self.threads.add(threading.get_ident())
        self.grammars.append(tuple(phrases))
        rec = FakeRecognizer(self)
        self.recognizers.append(rec)
        return rec


class FakeRecognizer:
    def __init__(self, model: FakeModel) -> None:
        self.model = model
        self.pieces: list[NDArray[np.int16]] = []
        self.in_speech = False

    @property
    def audio(self) -> NDArray[np.int16]:
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0, dtype=np.int16)

    def AcceptWaveform(self, data: bytes) -> int:  # noqa: N802 (Vosk's name)
        m = self.model
        with m.lock:
            m.active += 1
            m.max_active = max(m.max_active, m.active)
        try:
            m.threads.add(threading.get_ident())
            m.gate.wait(5.0)
            if m.delay:
                time.sleep(m.delay)
            if m.fail:
                raise RuntimeError("decoder exploded")
            piece = np.frombuffer(data, dtype=np.int16).copy()
            self.pieces.append(piece)
            if np.any(piece):
                self.in_speech = True
                return 0
            ended, self.in_speech = self.in_speech, False
            return int(ended)
        finally:
            with m.lock:
                m.active -= 1
                m.calls += 1

    def Result(self) -> str:  # noqa: N802
        return self.model.script.pop(0) if self.model.script else '{"text": ""}'

    def FinalResult(self) -> str:  # noqa: N802
        return self.model.final


def speech(ms: int, level: int = 3000) -> NDArray[np.int16]:
    n = 8 * ms
    return (level * np.sin(np.arange(n) * 0.3)).astype(np.int16)


def silence(ms: int) -> NDArray[np.int16]:
    return np.zeros(8 * ms, dtype=np.int16)


def frames(audio: NDArray[np.int16]) -> list[NDArray[np.int16]]:
    return [audio[i : i + 160] for i in range(0, audio.size, 160)]


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Poll until ``predicate()`` holds (the fake's worker threads are not awaitable)."""
    for _ in range(1000):  # 5 s
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out waiting for the worker")


@pytest.fixture
async def pool() -> AsyncIterator[tuple[AsrService, FakeModel]]:
    model = FakeModel()
    service = AsrService({"ru": Path("/models/ru")}, loader=lambda path, work: model)
    await service.start()
    try:
        yield service, model
    finally:
        await service.stop()


def open_session(
    service: AsrService, got: list[tuple[SpeechResult, int]], **kw: float
) -> GrammarSession:
    return service.grammar_session(
        "ru", PHRASES, lambda r: got.append((r, threading.get_ident())), **kw
    )


# ------------------------------------------------------------------ audio path


@pytest.mark.parametrize("pace", ["burst", "paced"])
async def test_audio_reaches_vosk_whole_in_order_in_fixed_pieces(
    pool: tuple[AsrService, FakeModel], pace: str
) -> None:
    service, model = pool
    model.delay = 0.002
    audio = np.concatenate([speech(700), silence(300), speech(1013)])
    session = open_session(service, [])
    for i, frame in enumerate(frames(audio)):
        session.feed(frame)
        if pace == "paced" and i % 3 == 0:
            await asyncio.sleep(0.001)
    await session.finish()
    [rec] = model.recognizers
    np.testing.assert_array_equal(rec.audio, to_int16(upsample(audio)))
    sizes = [p.size for p in rec.pieces]
    assert sizes[:-1] == [PIECE] * (len(sizes) - 1) and 0 < sizes[-1] <= PIECE
    assert model.max_active == 1
    assert threading.get_ident() not in model.threads


async def test_feed_copies_the_callers_buffer(pool: tuple[AsrService, FakeModel]) -> None:
    service, model = pool
    session = open_session(service, [])
    buf = np.full(160, 1000, dtype=np.int16)
    for _ in range(3):
        session.feed(buf)
        buf[:] = 0  # the media loop reuses its buffers
    await session.finish()
    expected = to_int16(upsample(np.concatenate([np.full(160, 1000), np.zeros(320)])))
    np.testing.assert_array_equal(model.recognizers[0].audio, expected)


async def test_recognizer_is_built_in_a_worker_with_the_compiled_grammar(
    pool: tuple[AsrService, FakeModel],
) -> None:
    service, model = pool
    session = service.grammar_session("ru", ["Оператор", "баланс"], lambda r: None)
    assert model.recognizers == []  # creating a session does no Vosk work
    session.feed(speech(200))
    await session.finish()
    assert model.grammars == [("оператор", "баланс", UNK)]
    assert threading.get_ident() not in model.threads


# --------------------------------------------------------------------- results


async def test_results_on_the_loop_in_order_with_acceptance(
    pool: tuple[AsrService, FakeModel],
) -> None:
    service, model = pool
    model.script = [result_json("оператор", 0.9), result_json(UNK), result_json("баланс", 0.3)]
    got: list[tuple[SpeechResult, int]] = []
    session = open_session(service, got)
    audio = np.concatenate([speech(400), silence(300)] * 3)
    for frame in frames(audio):
        session.feed(frame)
        await asyncio.sleep(0)
    await wait_for(lambda: len(got) == 3)
    assert [r for r, _ in got] == [
        SpeechResult("ru", "оператор", 0.9, "оператор", True),
        SpeechResult("ru", UNK, 1.0, None, False),
        SpeechResult("ru", "баланс", 0.3, "баланс", False),
    ]
    assert {thread for _, thread in got} == {threading.get_ident()}
    assert await session.finish() is None  # FinalResult was empty


async def test_per_session_min_confidence(pool: tuple[AsrService, FakeModel]) -> None:
    service, model = pool
    model.final = result_json("баланс", 0.3)
    got: list[tuple[SpeechResult, int]] = []
    session = open_session(service, got, min_confidence=0.2)
    session.feed(speech(200))
    result = await session.finish()
    assert result is not None and result.accepted and result.confidence == 0.3


async def test_finish_forces_the_final_result_and_closes(
    pool: tuple[AsrService, FakeModel],
) -> None:
    service, model = pool
    model.final = result_json("оператор", 0.8)
    got: list[tuple[SpeechResult, int]] = []
    session = open_session(service, got)
    for frame in frames(speech(500)):
        session.feed(frame)
    first, second = await asyncio.gather(session.finish(), session.finish())
    expected = SpeechResult("ru", "оператор", 0.8, "оператор", True)
    assert first == second == expected
    assert [r for r, _ in got] == [expected]
    assert session.closed
    calls = model.calls
    session.feed(speech(500))
    await asyncio.sleep(0.02)
    assert model.calls == calls
    assert await session.finish() is None


async def test_close_drops_buffered_and_running_work(pool: tuple[AsrService, FakeModel]) -> None:
    service, model = pool
    model.script = [result_json("оператор")]
    got: list[tuple[SpeechResult, int]] = []
    session = open_session(service, got)
    model.gate.clear()  # hold the first job inside the recognizer
    for frame in frames(np.concatenate([speech(300), silence(300)])):
        session.feed(frame)
    await wait_for(lambda: model.active == 1)
    session.close()
    model.gate.set()
    await wait_for(lambda: model.active == 0)
    await asyncio.sleep(0.05)  # let the job's completion reach the loop
    calls = model.calls
    session.feed(speech(300))
    await asyncio.sleep(0.05)
    assert got == []
    assert model.calls == calls
    assert await session.finish() is None


async def test_close_wakes_a_pending_finish(pool: tuple[AsrService, FakeModel]) -> None:
    service, model = pool
    model.final = result_json("оператор")
    session = open_session(service, [])
    model.gate.clear()
    session.feed(speech(200))
    waiter = asyncio.ensure_future(session.finish())
    await wait_for(lambda: model.active == 1)
    session.close()
    assert await waiter is None
    model.gate.set()


async def test_on_result_may_close_the_session(pool: tuple[AsrService, FakeModel]) -> None:
    service, model = pool
    model.script = [result_json("оператор"), result_json("баланс")]
    got: list[SpeechResult] = []

    def first_only(result: SpeechResult) -> None:
        got.append(result)
        session.close()

    session = service.grammar_session("ru", PHRASES, first_only)
    for frame in frames(np.concatenate([speech(300), silence(300)] * 2)):
        session.feed(frame)  # no yield: both utterances land in one job
    assert await session.finish() is None
    assert [r.phrase for r in got] == ["оператор"]


async def test_callback_error_is_logged_and_session_goes_on(
    pool: tuple[AsrService, FakeModel], caplog: pytest.LogCaptureFixture
) -> None:
    service, model = pool
    model.script = [result_json("оператор"), result_json("баланс")]
    seen: list[str | None] = []

    def flaky(result: SpeechResult) -> None:
        seen.append(result.phrase)
        if len(seen) == 1:
            raise ValueError("caller bug")

    session = service.grammar_session("ru", PHRASES, flaky)
    for frame in frames(np.concatenate([speech(300), silence(300)] * 2)):
        session.feed(frame)
    with caplog.at_level(logging.ERROR, logger="bailanys.voice.asr"):
        await session.finish()
    assert seen == ["оператор", "баланс"]
    assert "speech result callback failed (ru)" in caplog.text


async def test_decoder_error_closes_the_session(
    pool: tuple[AsrService, FakeModel], caplog: pytest.LogCaptureFixture
) -> None:
    service, model = pool
    model.fail = True
    got: list[tuple[SpeechResult, int]] = []
    session = open_session(service, got)
    with caplog.at_level(logging.ERROR, logger="bailanys.voice.asr"):
        for frame in frames(speech(300)):
            session.feed(frame)
        await wait_for(lambda: session.closed)
    assert "speech decoding failed (ru); session closed" in caplog.text
    assert got == []
    assert await session.finish() is None


# --------------------------------------------------------------------- service


async def test_service_languages_and_failed_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = FakeModel()
    loaded: list[tuple[Path, Path]] = []

    def loader(path: Path, work: Path) -> FakeModel:
        loaded.append((path, work))
        if path.name == "broken":
            raise VoiceError(f"{path}: Vosk cannot load the model: Failed to create a model")
        return model

    config = AsrConfig(workers=1, work_dir=tmp_path / "asr")
    models = {"ru": tmp_path / "ru", "kk": tmp_path / "broken", "en": None}
    service = AsrService(models, config=config, loader=loader)
    assert not service.available("ru")
    with caplog.at_level(logging.ERROR, logger="bailanys.voice.asr"):
        await service.start()
        await service.start()  # a second start does nothing
    assert sorted(loaded) == [
        (tmp_path / "broken", tmp_path / "asr"),
        (tmp_path / "ru", tmp_path / "asr"),
    ]
    assert service.languages == ("ru",)
    assert service.available("ru") and not service.available("kk")
    assert not service.available("en")
    assert f"speech model for kk ({tmp_path / 'broken'}) not loaded" in caplog.text
    assert "menus in kk run keypad-only" in caplog.text
    with pytest.raises(VoiceError, match="no speech model for 'kk'"):
        service.grammar_session("kk", ["да"], lambda r: None)
    with pytest.raises(VoiceError, match="no phrase of"):
        service.grammar_session("ru", ["абракадабра"], lambda r: None)
    session = service.grammar_session("ru", PHRASES, lambda r: None)
    await service.stop()
    assert session.closed
    assert not service.available("ru")
    with pytest.raises(VoiceError):
        service.grammar_session("ru", PHRASES, lambda r: None)
    await service.stop()  # twice is fine


async def test_stop_with_a_running_job_delivers_nothing(tmp_path: Path) -> None:
    model = FakeModel([result_json("оператор")])
    model.delay = 0.02
    service = AsrService({"ru": tmp_path}, loader=lambda path, work: model)
    await service.start()
    got: list[tuple[SpeechResult, int]] = []
    session = open_session(service, got)
    for frame in frames(np.concatenate([speech(300), silence(300)])):
        session.feed(frame)
    await service.stop()
    await asyncio.sleep(0.05)
    assert got == [] and session.closed and model.active == 0


async def test_unknown_words_are_logged_once_per_grammar(
    pool: tuple[AsrService, FakeModel], caplog: pytest.LogCaptureFixture
) -> None:
    service, _ = pool
    with caplog.at_level(logging.WARNING, logger="bailanys.voice.asr"):
        for _ in range(3):
            service.grammar_session("ru", ["оператор пожалуйста", "да"], lambda r: None).close()
    assert caplog.text.count("does not know пожалуйста") == 1


def test_config_is_checked() -> None:
    assert AsrConfig().workers == 2
    with pytest.raises(ValueError, match="workers"):
        AsrConfig(workers=0)
    with pytest.raises(ValueError, match="min_confidence"):
        AsrConfig(min_confidence=1.5)
