"""The worker command's thread limits are the recogniser's (set before libvosk loads)."""

from __future__ import annotations

import subprocess
import sys

from bailanys.analytics.commands import THREAD_ENV
from bailanys.analytics.recogniser import WORKER_ENV


def test_the_worker_command_sets_the_recognisers_thread_limits() -> None:
    assert dict(WORKER_ENV) == THREAD_ENV


def test_the_cli_does_not_load_libvosk_before_the_worker_sets_them() -> None:
    code = "import sys, bailanys.cli, bailanys.analytics.commands; print('vosk' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"
