"""The TTS worker never gets a terminal's Ctrl-C (issue 13).

``make run`` then Ctrl-C printed a KeyboardInterrupt traceback from the TTS
worker: the terminal signals the whole process group. The worker is spawned
with SIGINT ignored, from its very first instruction (not only once
``_worker_main`` runs: the spawned child spends ~0.5 s importing first).
"""

from __future__ import annotations

import multiprocessing
import signal

from bailanys.voice.tts import _spawn


def test_the_spawned_child_ignores_sigint_from_the_start() -> None:
    ctx = multiprocessing.get_context("spawn")
    # The child's first act: SIGINT to itself. Ignored: exit 0; a
    # KeyboardInterrupt (and its traceback) would exit 1.
    proc = ctx.Process(target=signal.raise_signal, args=(signal.SIGINT,), daemon=True)
    before = signal.getsignal(signal.SIGINT)
    _spawn(proc)
    assert signal.getsignal(signal.SIGINT) is before  # the parent's own handler is back
    proc.join(30)
    assert proc.exitcode == 0
