"""Call recorder: stereo 8 kHz WAV, left = heard from the remote, right = sent to it."""

from __future__ import annotations

import threading
import wave
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bailanys.media.recorder import FLUSH_FRAMES, SAMPLES_PER_FRAME, Recorder

N = SAMPLES_PER_FRAME


class CountingExecutor(ThreadPoolExecutor):
    """A one-worker pool that records which threads ran the submitted work."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="rec-test")
        self.threads: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            self.threads.append(threading.current_thread().name)
            return fn(*args, **kwargs)

        return super().submit(run)


@pytest.fixture
def executor() -> Iterator[CountingExecutor]:
    pool = CountingExecutor()
    yield pool
    pool.shutdown(wait=True)


def frame(value: int) -> np.ndarray:
    return np.full(N, value, dtype=np.int16)


def read_stereo(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    stereo = data.reshape(-1, 2)
    return stereo[:, 0], stereo[:, 1]


async def test_left_is_rx_right_is_tx_and_none_is_silence(
    tmp_path: Path, executor: CountingExecutor
) -> None:
    path = tmp_path / "calls" / "2024" / "leg.wav"  # parent folders are created
    rec = Recorder(path, executor)
    rec.write(frame(100), frame(-200))
    rec.write(None, frame(300))
    rec.write(frame(-400), None)
    rec.write(None, None)
    assert rec.frames == 4
    await rec.close()
    left, right = read_stereo(path)
    np.testing.assert_array_equal(left, np.concatenate(
        [frame(100), frame(0), frame(-400), frame(0)]))
    np.testing.assert_array_equal(right, np.concatenate(
        [frame(-200), frame(300), frame(0), frame(0)]))
    assert executor.threads and all(t.startswith("rec-test") for t in executor.threads)
    assert threading.current_thread().name not in executor.threads


async def test_long_recording_is_flushed_in_blocks_and_keeps_order(
    tmp_path: Path, executor: CountingExecutor
) -> None:
    path = tmp_path / "long.wav"
    rec = Recorder(path, executor)
    total = 3 * FLUSH_FRAMES + 7
    for i in range(total):
        rec.write(frame(i), frame(-i))
    await rec.close()
    assert len(executor.threads) >= 2  # at least one block before close, and the finish
    left, right = read_stereo(path)
    assert len(left) == total * N
    np.testing.assert_array_equal(left[::N], np.arange(total))
    np.testing.assert_array_equal(right[::N], -np.arange(total))


async def test_writes_while_a_flush_is_pending_are_kept(
    tmp_path: Path, executor: CountingExecutor
) -> None:
    gate = threading.Event()
    executor.submit(gate.wait)  # the single worker is busy: the first flush waits
    rec = Recorder(tmp_path / "busy.wav", executor)
    for i in range(2 * FLUSH_FRAMES + 3):
        rec.write(frame(i), None)
    gate.set()
    await rec.close()
    left, right = read_stereo(tmp_path / "busy.wav")
    np.testing.assert_array_equal(left[::N], np.arange(2 * FLUSH_FRAMES + 3))
    assert not right.any()


async def test_close_without_frames_writes_an_empty_wav(
    tmp_path: Path, executor: CountingExecutor
) -> None:
    rec = Recorder(tmp_path / "empty.wav", executor)
    await rec.close()
    left, right = read_stereo(tmp_path / "empty.wav")
    assert len(left) == len(right) == 0


async def test_close_twice_and_write_after_close_are_ignored(
    tmp_path: Path, executor: CountingExecutor
) -> None:
    rec = Recorder(tmp_path / "x.wav", executor)
    rec.write(frame(1), frame(2))
    await rec.close()
    assert rec.closed
    rec.write(frame(5), frame(6))
    await rec.close()
    assert rec.frames == 1
    left, _ = read_stereo(tmp_path / "x.wav")
    assert len(left) == N


async def test_a_disk_error_ends_the_recording_not_the_call(
    executor: CountingExecutor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "is-a-directory.wav"
    target.mkdir()
    rec = Recorder(target, executor)
    for _ in range(FLUSH_FRAMES * 2 + 3):  # two background flushes, then the rest at close
        rec.write(frame(100), frame(200))
    await rec.close()  # must not raise
    assert rec.failed
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "is-a-directory.wav" in errors[0].getMessage()
