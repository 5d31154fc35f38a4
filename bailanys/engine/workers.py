"""The engine's local transcription workers: ``[analytics] workers`` processes.

Issue 15: on the embedded default the engine starts N ``bailanys worker``
processes on its own store, niced (the worker lowers its own priority to
``[analytics] nice``), and owns them: started with the engine, stopped
with it (SIGTERM, which abandons a job being transcribed, then SIGKILL
after :data:`STOP_TIMEOUT_S`), and a worker that dies is restarted after a
back-off (logged). Processes are driven with asyncio's subprocess API, so
the engine's loop never waits on them.

The child gets its settings as ``BAILANYS_<SECTION>_<KEY>`` overrides of
the engine's config file (the engine's config may have been built in
memory or overridden): the store, ``[asr] model_dir``, ``[analytics]``,
``[qa]`` (the workers score what they transcribe) and ``[log] level``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bailanys.analytics.settings import EXIT_NO_MODELS
from bailanys.config import Config
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)

#: A worker asked to stop abandons its job at the next Python instruction
#: (a Vosk chunk is milliseconds); 5 s covers a commit waiting for the lock.
STOP_TIMEOUT_S = 5.0
#: Restart back-off: 1 s after the first crash, doubling to 60 s, so a worker
#: that cannot start (a broken model) logs once a minute, not in a loop.
RESTART_MIN_S = 1.0
RESTART_MAX_S = 60.0
#: A worker that ran this long before dying restarts at the minimum delay.
STABLE_S = 60.0


@dataclass(frozen=True)
class WorkerSettings:
    """What the supervisor needs: how many, and the child's command and environment."""

    count: int
    argv: tuple[str, ...]
    env: Mapping[str, str]

    @classmethod
    def of(cls, config: Config) -> WorkerSettings:
        """``[analytics] workers`` (0 when analytics is off) and the child's overrides."""
        analytics = config.analytics
        count = analytics.workers if analytics.enabled else 0
        env = dict(os.environ)
        env["BAILANYS_STORE_PATH"] = config.store.path
        env["BAILANYS_ASR_MODEL_DIR"] = config.asr.model_dir
        env["BAILANYS_LOG_LEVEL"] = config.log.level
        for name, section in (("ANALYTICS", analytics), ("QA", config.qa)):
            for f in dataclasses.fields(section):
                value = getattr(section, f.name)
                text = str(value).lower() if isinstance(value, bool) else str(value)
                env[f"BAILANYS_{name}_{f.name.upper()}"] = text
        argv = [sys.executable, "-m", "bailanys", "worker"]
        if config.source is not None:
            argv += ["--config", config.source]
        return cls(count, tuple(argv), env)


class LocalWorkers:
    """N worker processes, each kept running by its own task until :meth:`stop`."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._tasks = TaskSet()
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = False
        #: Worker exits that were not asked for (tests, metrics).
        self.crashes = 0

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs.values() if p.returncode is None]

    async def start(self) -> None:
        self._stopping = False
        for slot in range(self.settings.count):
            self._tasks.spawn(self._keep(slot))
        if self.settings.count:
            log.info("analytics: %d local worker(s) starting", self.settings.count)

    async def _keep(self, slot: int) -> None:
        """Run worker ``slot``; restart it with back-off while the engine runs."""
        delay = RESTART_MIN_S
        while not self._stopping:
            started = time.monotonic()
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self.settings.argv, env=dict(self.settings.env),
                    stdin=asyncio.subprocess.DEVNULL)
            except OSError as exc:
                log.error("analytics worker %d cannot start: %s", slot, exc)
            else:
                self._procs[slot] = proc
                code = await proc.wait()
                if self._stopping:
                    return
                if code == EXIT_NO_MODELS:  # restarting cannot help: say so once
                    log.warning("analytics worker %d: no speech model, so no transcription; "
                                "recordings wait as pending jobs (`bailanys analytics "
                                "status`) until `make models` or [analytics] model_dir",
                                slot)
                    return
                self.crashes += 1
                if time.monotonic() - started >= STABLE_S:
                    delay = RESTART_MIN_S
                log.error("analytics worker %d (pid %d) exited with %s; restarting in %.0f s",
                          slot, proc.pid, code, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_MAX_S)

    async def stop(self) -> None:
        """SIGTERM every worker, SIGKILL those still running after the timeout."""
        self._stopping = True
        procs = [p for p in self._procs.values() if p.returncode is None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        if procs:
            waits = [asyncio.ensure_future(p.wait()) for p in procs]
            await asyncio.wait(waits, timeout=STOP_TIMEOUT_S)
            for proc in procs:
                if proc.returncode is None:
                    log.warning("analytics worker pid %d did not stop: killed", proc.pid)
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            await asyncio.gather(*waits, return_exceptions=True)
        await self._tasks.cancel_all()
        self._procs.clear()
