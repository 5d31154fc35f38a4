"""``[analytics]``: the transcription workers (issue 15, "Jobs in the store").

A frozen dataclass like the other config sections (``bailanys.config`` lists
it in ``SECTIONS``); it lives here because config.py is long enough and the
analytics package is what reads it. Only int, str and bool fields, so that
``BAILANYS_ANALYTICS_<KEY>`` overrides work like everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bailanys.analytics.recpath import parse_map
from bailanys.errors import ConfigError

#: One worker: the reference machine has two cores, media needs one and a
#: worker (Vosk decodes on one core) takes the other (issue 15: "a worker
#: transcribes on the other core").
DEFAULT_WORKERS = 1
#: A job a worker has not renewed for this long is claimed again. Workers
#: renew every ``lease_seconds / 3`` (between utterances and from a timer),
#: so only a dead or frozen worker lets it lapse; 300 s is long enough that
#: a stop-the-world pause (a checkpoint, swap, a suspended VM) does not make
#: two workers transcribe the same channel, and short enough that a crashed
#: worker's job is retried within minutes (the centre's day is 50,000 calls:
#: a 5-minute delay on one is invisible to analysts).
DEFAULT_LEASE_SECONDS = 300
#: Workers run at nice 10: the engine (nice 0) always wins the CPU, a call's
#: frames are never late because of a transcription (issue 15, "Never on the
#: call path").
DEFAULT_NICE = 10
#: An idle worker looks for new jobs this often: a claim is one indexed
#: UPDATE, so twice a second costs nothing and a transcript starts at most
#: half a second after its recording closes.
DEFAULT_POLL_MS = 500
#: A worker decodes at most this share of one core (it sleeps after each
#: 0.2 s piece of audio in proportion to the CPU the piece took). Niceness
#: is not enough when the worker runs on the engine's machine: on the 2-core
#: bench machine, with the engine on one core and an unpaced worker on the
#: other, 500 calls had 0.13-0.67 % of their frames late (0.00-0.01 % with
#: no worker); paced at 50 % they had 0.02-0.05 % (bench/engine_capacity.py
#: --busy-worker, 3 runs each). Set 100 on a machine that only transcribes.
DEFAULT_CPU_PERCENT = 50
#: A job failing for a passing reason (database locked, disk, a crash of its
#: worker) is tried this many times in all, then failed with its last error.
DEFAULT_MAX_ATTEMPTS = 3
#: The first retry waits this long, doubling for each further attempt.
DEFAULT_RETRY_SECONDS = 30


def _invalid(key: str, message: str) -> ConfigError:
    return ConfigError(message, key=key)


def _check_range(key: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise _invalid(key, f"expected an integer between {lo} and {hi}, got {value!r}")


#: The environment a worker process must start with (before ``vosk`` is
#: imported: its BLAS reads it when the library loads) so decoding keeps to
#: one core. Measured: 2 threads in the process while decoding without it,
#: 1 with it (bench/transcribe_rtf.py prints the count). Here, in a module
#: that does not load libvosk, so ``bailanys worker`` can set it first.
WORKER_ENV: Final = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: ``bailanys worker``'s exit status when it has no speech model to
#: transcribe with: the engine does not restart such a worker (the jobs wait,
#: visibly, in ``bailanys analytics status``, until models are set up).
EXIT_NO_MODELS = 3

@dataclass(frozen=True)
class AnalyticsConfig:
    """``[analytics]``: speech analytics (transcription jobs and workers)."""

    #: Transcribe recordings: every recording's channels get a job, and the
    #: caller's side of robot and IVR calls is recorded too.
    enabled: bool = True
    #: Local worker processes the engine starts (0: none; run ``bailanys
    #: worker`` elsewhere).
    workers: int = DEFAULT_WORKERS
    #: Vosk models for transcription, ``<model_dir>/<lang>/``; "" is
    #: ``[asr] model_dir`` (a larger model may be set here than for menus).
    model_dir: str = ""
    #: Seconds a claimed job stays a worker's without a renewal.
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    #: Niceness of local workers (0-19; higher yields more to the engine).
    nice: int = DEFAULT_NICE
    #: Milliseconds an idle worker waits before looking for a job again.
    poll_ms: int = DEFAULT_POLL_MS
    #: Percent of one core a worker may use while decoding (10-100).
    cpu_percent: int = DEFAULT_CPU_PERCENT
    #: Tries of a job failing for a passing reason before it is failed.
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    #: Seconds before the first retry (doubling after each).
    retry_seconds: int = DEFAULT_RETRY_SECONDS
    #: Issue 22, a worker on another machine: ``ENGINE_PREFIX=WORKER_PREFIX``
    #: pairs (``;``-separated) mapping the recording paths the engine stored
    #: onto this worker's mount of the shared storage ("": read as stored;
    #: :mod:`bailanys.analytics.recpath`).
    recordings_map: str = ""

    def __post_init__(self) -> None:
        try:
            parse_map(self.recordings_map)
        except ValueError as exc:
            raise _invalid("analytics.recordings_map", str(exc)) from None
        _check_range("analytics.workers", self.workers, 0, 64)
        _check_range("analytics.lease_seconds", self.lease_seconds, 1, 86400)
        _check_range("analytics.nice", self.nice, 0, 19)
        _check_range("analytics.poll_ms", self.poll_ms, 10, 60000)
        _check_range("analytics.cpu_percent", self.cpu_percent, 10, 100)
        _check_range("analytics.max_attempts", self.max_attempts, 1, 100)
        _check_range("analytics.retry_seconds", self.retry_seconds, 0, 86400)

    def models_dir(self, asr_model_dir: str) -> str:
        """Where the workers look for models: ours, else ``[asr] model_dir``."""
        return self.model_dir or asr_model_dir
