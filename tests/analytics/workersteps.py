"""A stand-in pipeline for real worker processes in tests (``ANALYTICS_TEST_STEPS``).

``tests.analytics.workersteps:steps`` reads the WAV for real (``wave``: a
corrupt or truncated file raises, which the worker treats as permanent),
then sleeps ``WORKERSTEPS_DELAY`` seconds (a slow transcription to kill a
worker in), and "recognises" one word per channel. ``store`` writes the
utterances idempotently, keyed by recording and channel, as
``transcripts.write_channel`` does, and counts its calls in
``test_writes`` so a test can tell a transcript written twice.
"""

from __future__ import annotations

import os
import sqlite3
import time
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bailanys.analytics.jobs import Job
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.worker import Steps
from bailanys.config import Config
from bailanys.errors import VoiceError

DELAY_ENV = "WORKERSTEPS_DELAY"
WORD = {Channel.CALLER: "паспорт", Channel.AGENT: "сәлеметсіз"}


@dataclass(frozen=True)
class Result:
    utterances: tuple[Utterance, ...]
    seconds: float
    speech_seconds: float
    language: str
    elapsed: float


def transcribe(path: Path, channel: Channel, language: str | None,
               models: Mapping[str, Path]) -> Result:
    started = time.monotonic()
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnchannels() != 2:
                raise VoiceError("not a stereo recording")
            frames = wav.getnframes()
            data = wav.readframes(frames)
            seconds = frames / wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise VoiceError(f"not a WAV file: {exc}") from None
    if len(data) < frames * 4:
        raise VoiceError("truncated WAV")
    end = time.monotonic() + float(os.environ.get(DELAY_ENV, "0"))
    while time.monotonic() < end:  # small steps: SIGTERM is handled between them
        time.sleep(0.05)
    lang = language or "kk"
    words = (Word(WORD[channel], 0.5, 1.0, 0.9),)
    return Result((Utterance(channel, lang, words),), seconds, seconds,
                  lang, time.monotonic() - started)


def clean(utterances: Sequence[Utterance]) -> tuple[Utterance, ...]:
    return tuple(utterances)


def store(conn: sqlite3.Connection, job: Job, utterances: Sequence[Utterance],
          language: str) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS test_writes (recording TEXT, channel TEXT)")
    conn.execute("INSERT INTO test_writes VALUES (?, ?)", (job.recording, str(job.channel)))
    conn.execute("DELETE FROM utterances WHERE recording = ? AND channel = ?",
                 (job.recording, str(job.channel)))
    n = 0
    for u in utterances:
        conn.execute(
            "INSERT INTO utterances (call_id, recording, channel, start, end, language, text,"
            " words, terms) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?)",
            (job.call_id, job.recording, str(u.channel), u.start, u.end, u.language, u.text,
             u.text.lower()))
        n += len(u.words)
    return n


def steps(config: Config) -> tuple[Steps, Mapping[str, Path]]:
    return Steps(transcribe=transcribe, clean=clean, store=store), {"kk": Path("unused")}


def no_models(config: Config) -> tuple[Steps, Mapping[str, Path]]:
    return Steps(transcribe=transcribe, clean=clean, store=store), {}
