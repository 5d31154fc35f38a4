"""Prompt rendering with espeak-ng (through pyttsx3) and the prompt caches.

pyttsx3 is not thread-safe and keeps process-global espeak state, so it lives
in ONE dedicated worker process (multiprocessing, "spawn" context) that
renders one job at a time. What was measured, and why the worker does what it
does:

* the first ``save_to_file`` in a process can lose or misname the file unless
  ``runAndWait()`` is called once, with nothing queued, right after
  ``pyttsx3.init()``;
* several ``save_to_file`` calls queued before one ``runAndWait`` keep only
  the last, so each job is one ``save_to_file`` + one ``runAndWait``;
* an unknown voice is silently ignored (the previous voice stays), so the
  worker resolves the voice among ``getProperty("voices")`` and checks it was
  selected;
* an empty text makes the espeak driver's ``runAndWait`` loop forever, and a
  failed WAV write inside its callback does too, so empty texts are refused
  and every job has a deadline after which the worker is killed;
* about 2% of back-to-back renders come back as a header-only WAV (the
  driver cancels its own new utterance), so those are rendered again;
* the espeak driver prints "Audio saved to ..." on stdout; the worker
  swallows it.

espeak-ng writes 22050 Hz mono; the parent resamples to 8 kHz int16
(:func:`bailanys.voice.audio.resample`, up=160 down=441) and writes the
cache file atomically. Nothing here blocks the event loop (but for the
~6 ms of spawning the worker, see ``_spawn``): the worker is reached through
a thread, and decoding and resampling run in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import logging
import multiprocessing
import os
import signal
import threading
import uuid
import wave
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Final

from bailanys.errors import VoiceError
from bailanys.voice.audio import Pcm, load_prompt, write_wav
from bailanys.voice.lexicon import spoken

__all__ = [
    "DEFAULT_RATE",
    "DEFAULT_VOICES",
    "PromptRenderer",
    "PromptStore",
    "load_prompt",
]

log = logging.getLogger(__name__)

#: espeak-ng speaking rate in words per minute. Its default is 175; 150 is
#: slower for callers on a narrow-band phone line.
DEFAULT_RATE: Final = 150
#: Language code -> espeak-ng voice (matched by id, last id segment, or language).
DEFAULT_VOICES: Final[Mapping[str, str]] = MappingProxyType({"kk": "kk", "ru": "ru"})
#: Deadline for one rendering. espeak-ng renders a sentence in ~15 ms here;
#: 30 s only catches a hung driver.
JOB_TIMEOUT_S: Final = 30.0
#: Deadline for spawning the worker and initialising espeak (~0.5 s measured).
STARTUP_TIMEOUT_S: Final = 30.0
#: Deadline for a clean worker exit before it is killed.
STOP_TIMEOUT_S: Final = 5.0
#: Tries per job when espeak-ng leaves a header-only WAV (see ``_synthesise``).
SYNTH_ATTEMPTS: Final = 3
#: Bumped whenever the pipeline changes so old cache files are not reused.
CACHE_FORMAT: Final = "bailanys-tts/1 pcm16 mono 8000"
#: Decoded prompts kept in memory. A 3 s prompt is 48 KB, so 512 is ~25 MB.
PROMPT_STORE_ITEMS: Final = 512

# A job for the worker: (voice, rate, text, output path of the 22050 Hz WAV).
_Job = tuple[str, int, str, str]


# --------------------------------------------------------------------------
# Worker process side: owns pyttsx3. Runs only in the spawned child.


def _resolve_voice(voices: list[tuple[str, list[str]]], wanted: str) -> str:
    """The espeak voice id for ``wanted``: an exact id, last id segment, or language."""
    for vid, _ in voices:
        if vid == wanted:
            return vid
    for vid, _ in voices:
        if vid.rsplit("/", 1)[-1] == wanted:
            return vid
    for vid, langs in voices:
        if wanted in langs:
            return vid
    raise LookupError(f"espeak-ng has no voice {wanted!r} (is its language data installed?)")


def _run(engine: Any) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        engine.runAndWait()


def _synthesise(engine: Any, voices: list[tuple[str, list[str]]], job: _Job) -> int:
    """Render one job to its WAV path; return its frame count.

    pyttsx3's espeak driver sometimes cancels its own new utterance: its
    ``runAndWait`` calls ``stop()``, which ``Cancel()``s when espeak still
    reports IsPlaying from the previous job, and in ~2% of back-to-back jobs
    (measured: 12 of 600) the file is then a bare 44-byte header. Such a
    result is rendered again, up to ``SYNTH_ATTEMPTS`` times (0 of 600 failed).
    """
    wanted, rate, text, out = job
    vid = _resolve_voice(voices, wanted)
    engine.setProperty("voice", vid)
    engine.setProperty("rate", rate)
    for _ in range(SYNTH_ATTEMPTS):
        engine.save_to_file(text, out)
        _run(engine)
        if os.path.exists(out) and os.path.getsize(out) > 44:
            break
    selected = engine.getProperty("voice")
    if selected != vid:
        raise RuntimeError(f"espeak-ng kept voice {selected!r} instead of {vid!r}")
    if not os.path.exists(out):
        raise RuntimeError(f"espeak-ng wrote no file {out}")
    if os.path.getsize(out) <= 44:
        raise RuntimeError(f"espeak-ng wrote only a WAV header to {out}")
    with wave.open(out, "rb") as w:
        frames = w.getnframes()
    if frames == 0:
        raise RuntimeError(f"espeak-ng wrote an empty WAV to {out}")
    return frames


def _worker_main(conn: Connection) -> None:
    """Entry point of the worker: init pyttsx3, then serve jobs until ``None`` or EOF.

    SIGINT is ignored (since the spawn, see ``_spawn``): a terminal's Ctrl-C
    reaches the whole process group, and the parent, not the signal, ends
    the worker (``None``, or EOF when the parent is gone).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import pyttsx3

        with contextlib.redirect_stdout(io.StringIO()):
            engine = pyttsx3.init()
        _run(engine)  # empty run: the first save is lost without it
        voices = [
            (str(v.id), [str(lang) for lang in (v.languages or [])])
            for v in engine.getProperty("voices")
        ]
    except Exception as e:  # report why the engine cannot start, then exit
        conn.send(("error", f"cannot start pyttsx3/espeak-ng: {type(e).__name__}: {e}"))
        return
    conn.send(("ready", len(voices)))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            conn.send(("bye", 0))
            return
        try:
            conn.send(("ok", _synthesise(engine, voices, job)))
        except Exception as e:  # one bad job must not end the worker
            conn.send(("error", str(e)))


# --------------------------------------------------------------------------
# Parent side.


_NOTHING: Final = object()  # _exchange: only wait for a message (worker start-up)


def _exchange(conn: Connection, message: object) -> tuple[str, Any]:
    """Blocking: send ``message`` (unless ``_NOTHING``) and wait for the reply. Runs in a thread."""
    if message is not _NOTHING:
        conn.send(message)
    reply: tuple[str, Any] = conn.recv()
    return reply


def _spawn(proc: BaseProcess) -> None:
    """Start ``proc`` with SIGINT ignored, which the child inherits through exec.

    A terminal's Ctrl-C goes to the whole process group; a child that starts
    with SIGINT ignored never gets a KeyboardInterrupt, not even while it
    imports (Python installs its handler only over the default disposition),
    so it prints no traceback on the terminal; the parent ends it.  The
    disposition is process-wide and only the main thread may change it, so
    this runs on the loop's thread for the few milliseconds of the spawn
    (6 ms measured), and the parent's own handler is put back at once.  (A
    blocked SIGINT would not do: the spawned child starts with an empty mask.)
    """
    if threading.current_thread() is not threading.main_thread():
        proc.start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc.start()
    finally:
        signal.signal(signal.SIGINT, previous)


class _Worker:
    """The one TTS process: started lazily, restarted after a crash or a timeout."""

    def __init__(self) -> None:
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()
        self.starts = 0

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    async def run(self, job: _Job, limit_s: float) -> int:
        """Render ``job`` in the worker; return the frame count. Raises VoiceError."""
        async with self._lock:
            if not self.alive:
                await self._discard()
                await self._start()
            kind, value = await self._call(job, limit_s, "rendering")
            if kind != "ok":
                raise VoiceError(f"espeak-ng failed: {value}")
            return int(value)

    async def stop(self) -> None:
        """Ask the worker to exit; kill it if it does not."""
        async with self._lock:
            if self.alive:
                with contextlib.suppress(VoiceError):
                    await self._call(None, STOP_TIMEOUT_S, "stopping")
            await self._discard(grace_s=STOP_TIMEOUT_S)

    async def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(child,), name="bailanys-tts", daemon=True)
        _spawn(proc)
        child.close()
        self._proc, self._conn = proc, parent
        self.starts += 1
        kind, value = await self._call(_NOTHING, STARTUP_TIMEOUT_S, "starting")
        if kind != "ready":
            await self._discard()
            raise VoiceError(f"TTS worker failed to start: {value}")
        log.info("tts worker pid %s: %s -> %s (%s voices)", proc.pid, "stopped", "ready", value)

    async def _call(self, message: object, limit_s: float, what: str) -> tuple[str, Any]:
        """One exchange with the worker under a deadline; on any failure the worker is killed."""
        assert self._conn is not None
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(None, _exchange, self._conn, message)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), limit_s)
        except TimeoutError:
            await self._kill_and_wait(fut)
            raise VoiceError(f"TTS worker timed out after {limit_s:g} s while {what}") from None
        except (EOFError, OSError) as e:
            await self._discard()
            raise VoiceError(f"TTS worker died while {what}") from e
        except asyncio.CancelledError:
            await self._kill_and_wait(fut)
            raise

    async def _kill_and_wait(self, fut: asyncio.Future[Any]) -> None:
        # The thread blocked in recv() returns (EOFError) once the child is dead.
        if self._proc is not None:
            self._proc.kill()
        await asyncio.wait({fut})
        if not fut.cancelled():
            fut.exception()  # EOFError, expected; shield no longer retrieves it
        await self._discard()

    async def _discard(self, grace_s: float = 0.0) -> None:
        """Forget the worker: wait ``grace_s`` for it to exit, then kill and reap it."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is None:
            return
        if grace_s > 0:
            await asyncio.to_thread(proc.join, grace_s)
        if proc.is_alive():
            proc.kill()
        await asyncio.to_thread(proc.join)
        log.info(
            "tts worker pid %s: %s -> %s (exit code %s)",
            proc.pid,
            "ready",
            "stopped",
            proc.exitcode,
        )
        proc.close()


class PromptRenderer:
    """Renders prompts to cached 8 kHz WAV files without blocking the event loop.

    Cache files are ``cache_dir/<key>.wav``; a render of a cached key returns
    at once, concurrent renders of one key share one job, and the worker
    process starts on the first miss. Call :meth:`close` (or use ``async
    with``) to stop the worker.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        rate: int = DEFAULT_RATE,
        voices: Mapping[str, str] = DEFAULT_VOICES,
        job_timeout: float = JOB_TIMEOUT_S,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.rate = rate
        self.voices: Mapping[str, str] = MappingProxyType(dict(voices))
        self.job_timeout = job_timeout
        self.jobs = 0  # jobs sent to the worker (cache misses actually rendered)
        self.missing = 0  # prompts render_all found missing from the cache (progress total)
        self.rendered = 0  # prompts rendered into the cache (progress count)
        self._worker = _Worker()
        self._inflight: dict[str, asyncio.Task[Path]] = {}
        self._closed = False

    @property
    def worker_starts(self) -> int:
        """How many times the worker process was started (1 unless it crashed)."""
        return self._worker.starts

    def _voice(self, lang: str) -> str:
        try:
            return self.voices[lang]
        except KeyError:
            known = ", ".join(sorted(self.voices))
            raise VoiceError(f"no voice for language {lang!r}; configured: {known}") from None

    def key(self, lang: str, text: str) -> str:
        """sha256 hex of (cache format, language, voice, rate, spoken text).

        The spoken text is ``text`` after the TTS lexicon
        (:func:`bailanys.voice.lexicon.spoken`), so a lexicon change renders
        exactly the prompts it changes again."""
        said = spoken(lang, text)
        payload = json.dumps([CACHE_FORMAT, lang, self._voice(lang), self.rate, said])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def path_for(self, lang: str, text: str) -> Path:
        """Where the prompt is (or will be) cached."""
        return self.cache_dir / f"{self.key(lang, text)}.wav"

    async def render(self, lang: str, text: str) -> Path:
        """The cached 8 kHz WAV of ``text`` in ``lang``, rendering it if missing."""
        if self._closed:
            raise VoiceError("prompt renderer is closed")
        if not text.strip():
            raise VoiceError(f"empty prompt text for language {lang!r}")
        key = self.key(lang, text)
        path = self.cache_dir / f"{key}.wav"
        if path.exists():
            return path
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(
                self._render_missing(lang, text, path), name=f"tts-{key[:12]}"
            )
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._forget(key, t))
        return await asyncio.shield(task)

    async def render_all(self, items: Iterable[tuple[str, str]]) -> list[Path]:
        """Render what is missing of ``(lang, text)`` items; paths in the same order."""
        items = list(items)
        for lang, _ in items:
            self._voice(lang)  # fail before rendering anything
        self.missing += len({p for p in (self.path_for(lang, text) for lang, text in items)
                             if not p.exists()})
        return [await self.render(lang, text) for lang, text in items]

    async def close(self) -> None:
        """Cancel renders in flight and stop the worker."""
        self._closed = True
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._worker.stop()

    async def __aenter__(self) -> PromptRenderer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _forget(self, key: str, task: asyncio.Task[Path]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: the awaiters re-raise it

    async def _render_missing(self, lang: str, text: str, path: Path) -> Path:
        voice = self._voice(lang)
        raw = self.cache_dir / f".{path.stem}.{uuid.uuid4().hex[:8]}.22k.wav"
        try:
            await asyncio.to_thread(self.cache_dir.mkdir, parents=True, exist_ok=True)
            self.jobs += 1
            job = (voice, self.rate, spoken(lang, text), str(raw))
            await self._worker.run(job, self.job_timeout)
            await asyncio.to_thread(_convert, raw, path)
        except VoiceError as e:
            raise VoiceError(f"prompt [{lang}] {text[:40]!r}: {e}") from e
        except OSError as e:
            raise VoiceError(f"prompt [{lang}] {text[:40]!r}: cache {self.cache_dir}: {e}") from e
        finally:
            raw.unlink(missing_ok=True)
        self.rendered += 1
        log.debug("rendered %s (%s, %d chars)", path.name, voice, len(text))
        return path


def _convert(raw: Path, path: Path) -> None:
    """espeak's WAV -> 8 kHz mono int16 cache file (atomic)."""
    write_wav(path, load_prompt(raw))


class PromptStore:
    """Decoded prompts in memory, keyed by path, least recently used evicted.

    Prompts are shared by thousands of calls, so arrays are read-only.
    """

    def __init__(self, max_items: int = PROMPT_STORE_ITEMS) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self.max_items = max_items
        self._items: OrderedDict[Path, Pcm] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, path: object) -> bool:
        return path in self._items

    def get(self, path: Path) -> Pcm:
        """The prompt at ``path``, loading it (blocking) on a miss."""
        found = self._lookup(path)
        return found if found is not None else self._insert(path, load_prompt(path))

    async def fetch(self, path: Path) -> Pcm:
        """The prompt at ``path``, loading it in a thread on a miss."""
        found = self._lookup(path)
        if found is not None:
            return found
        return self._insert(path, await asyncio.to_thread(load_prompt, path))

    def clear(self) -> None:
        self._items.clear()

    def _lookup(self, path: Path) -> Pcm | None:
        found = self._items.get(path)
        if found is not None:
            self._items.move_to_end(path)
        return found

    def _insert(self, path: Path, samples: Pcm) -> Pcm:
        samples.setflags(write=False)
        self._items[path] = samples
        self._items.move_to_end(path)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)
        return samples
