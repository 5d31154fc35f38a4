"""The engine's thread-switch policy: a short switch interval while serving, restored after."""

from __future__ import annotations

import sys

from bailanys.engine.gilpolicy import SERVING_INTERVAL, GilPolicy


def test_serving_interval_and_restore() -> None:
    before = sys.getswitchinterval()
    policy = GilPolicy()
    policy.start()
    try:
        assert abs(sys.getswitchinterval() - SERVING_INTERVAL) < 1e-9
        assert SERVING_INTERVAL < before  # shorter than CPython's 5 ms
        policy.start()  # a second start keeps the first interval to restore
    finally:
        policy.stop()
    assert sys.getswitchinterval() == before
    policy.stop()  # stopping twice changes nothing
    assert sys.getswitchinterval() == before
