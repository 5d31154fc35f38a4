"""The QA acoustic pass: times real time per core, and its accuracy on calls with known talk.

    .venv/bin/python bench/qa_acoustic.py [--minutes 5] [--runs 3] [--scenes 60] [--seed 1]

Issue 16, "Benchmark": "the acoustic pass must run at >= 200x real time per
core". A synthetic stereo call of ``--minutes`` (8 kHz, caller left, agent
right, as the recorder writes it) is made by ``tests/qa/acoustic_scene.py``:
espeak-ng Russian and Kazakh words placed one by one and human Russian
prompts (``asterisk-core-sounds-ru-wav``) in turns, with interruptions
both ways, holds, the other side's echo at -20 dB, drifting comfort noise,
a mains hum and G.711. :func:`bailanys.qa.acoustic.measure` then reads the
WAV in a fresh process per run (``--runs``, one thread for BLAS/FFT), and
the CPU time of the call alone (imports excluded) is divided into the
call's length: min / median / max over the runs.

Accuracy: every utterance's start and end on each channel and every
overtalk span's, against the ground truth that ``acoustic_scene`` defines,
on the long call and on ``--scenes`` 45 s dialogues of
``acoustic_scene.dialogue`` (three line conditions, other seeds than the
tests use): the largest, 99th percentile and median error, and how many
boundaries are more than 20 ms off.

Figures on a shared machine vary with the other work on it: read the CPU
column.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bailanys.qa.acoustic import measure, measure_pcm, talk_pcm  # noqa: E402
from tests.qa import acoustic_scene as sc  # noqa: E402

Spans = list[tuple[float, float]]


def long_call(minutes: float, seed: int) -> sc.Scene:
    """Turns until the call is ``minutes`` long: an agent's phrase of 3-8
    words, the caller's answer; now and then one talks over the other's end
    or the agent holds (4-20 s)."""
    rng = np.random.default_rng(seed)
    bank = sc.clip_bank()
    words = bank["ru"] + bank["kk"]
    scene = sc.Scene(minutes * 60)
    t = 1.0
    end = scene.seconds - 8.0
    while t < end:
        k = int(rng.integers(3, 9))
        picks = [words[i] for i in rng.choice(len(words), k, replace=False)]
        pauses = [float(p) for p in rng.uniform(0.05, 0.3, k - 1)]
        t = scene.say(1, t, picks, pauses)
        if t > end:
            break
        clip = bank["caller"][int(rng.integers(len(bank["caller"])))]
        over = rng.random() < 0.2
        at = t - min(0.6, clip.seconds / 2) if over else t + float(rng.uniform(0.3, 1.5))
        t = scene.say(0, at, [clip], [])
        hold = rng.random() < 0.1
        t += float(rng.uniform(4, 20)) if hold else float(rng.uniform(0.7, 1.5))
    return scene


def boundary_errors(got: Spans, want: Spans) -> list[float] | None:
    if len(got) != len(want):
        return None
    return [abs(g[i] - w[i]) for g, w in zip(got, want, strict=True) for i in (0, 1)]


def errors_of(scene: sc.Scene, left: np.ndarray, right: np.ndarray) -> tuple[list[float], int]:
    truth = scene.truth()
    caller, agent = talk_pcm(left, right)
    over = list(measure_pcm(left, right).overtalk)
    errors: list[float] = []
    mismatched = 0
    for got, want in ((caller, truth.caller), (agent, truth.agent), (over, truth.overtalk)):
        found = boundary_errors(got, want)
        if found is None:
            mismatched += 1
        else:
            errors += found
    return errors, mismatched


def summary(errors: list[float]) -> str:
    ms = np.array(errors) * 1000
    return (f"{ms.size} boundaries: max {ms.max():.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, "
            f"median {np.median(ms):.1f} ms, over 20 ms: {int((ms > 20).sum())}")


def child(path: str) -> None:
    start_cpu, start = time.process_time(), time.perf_counter()
    got = measure(Path(path))
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    print(json.dumps({"cpu": cpu, "wall": wall, "duration": got.duration_s,
                      "threads": len(os.listdir("/proc/self/task"))}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenes", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    scene = long_call(args.minutes, args.seed)
    left, right = scene.line(args.seed, noise_dbfs=(-62.0, -54.0))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "call.wav"
        sc.write_wav(path, left, right)
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, __file__, "--child", str(path)],
                                 capture_output=True, text=True, check=True, timeout=600)
            runs.append(json.loads(out.stdout))
    factors = sorted(r["duration"] / r["cpu"] for r in runs)
    print(f"acoustic pass on a {args.minutes:g}-minute stereo call, {args.runs} fresh processes")
    for r in runs:
        print(f"  cpu {r['cpu']:.3f} s  wall {r['wall']:.3f} s  "
              f"x real time {r['duration'] / r['cpu']:.0f}  threads {r['threads']}")
    print(f"x real time per core (cpu): min {factors[0]:.0f}, "
          f"median {statistics.median(factors):.0f}, max {factors[-1]:.0f} (target >= 200)")
    errors, mismatched = errors_of(scene, left, right)
    print(f"accuracy, the {args.minutes:g}-minute call: {summary(errors)}; "
          f"span counts differing: {mismatched}")
    bank = sc.clip_bank()
    all_errors: list[float] = []
    all_mismatched = 0
    lines = list(sc.LINES.items())
    for i in range(args.scenes):
        name, kwargs = lines[i % len(lines)]
        seed = 1000 + args.seed * 100 + i
        s = sc.dialogue(bank, seed)
        errs, bad = errors_of(s, *s.line(seed, **kwargs))
        all_errors += errs
        all_mismatched += bad
    print(f"accuracy, {args.scenes} dialogues of 45 s: {summary(all_errors)}; "
          f"span counts differing: {all_mismatched}")


if __name__ == "__main__":
    main()
